"""Options, their cASO names and defaults, and the checks of caso.config."""

from __future__ import annotations

import datetime
import logging
import pathlib
from collections.abc import Iterator

import pytest
from oslo_config import cfg
from oslo_log import versionutils

from caso import config, exceptions, opts, records, window

UTC = datetime.timezone.utc


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    # oslo.log's setup replaces the root handlers, and oslo reports each
    # deprecated option once per process: undo both after every test.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    versionutils._deprecated_messages_sent.clear()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    versionutils._deprecated_messages_sent.clear()


def _file(tmp_path: pathlib.Path, text: str) -> str:
    path = tmp_path / "caso.conf"
    path.write_text(text)
    return str(path)


def _load(
    tmp_path: pathlib.Path, text: str = "", argv: tuple[str, ...] = ()
) -> cfg.ConfigOpts:
    return config.load(argv, default_config_files=[_file(tmp_path, text)])


def _read(
    tmp_path: pathlib.Path, text: str = "", argv: tuple[str, ...] = ()
) -> cfg.ConfigOpts:
    # Parse and validate without oslo.log's setup, which would take the
    # handler caplog reads from.
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf(
        args=list(argv),
        project="caso",
        default_config_files=[_file(tmp_path, text)],
    )
    config.validate(conf)
    return conf


def test_defaults_are_those_of_caso(tmp_path: pathlib.Path) -> None:
    conf = _load(tmp_path)

    assert {
        "extract_from": conf.extract_from,
        "extract_to": conf.extract_to,
        "projects": conf.projects,
        "caso_tag": conf.caso_tag,
        "vo_property": conf.vo_property,
        "mapping_file": conf.mapping_file,
        "extractor": conf.extractor,
        "dry_run": conf.dry_run,
        "messengers": conf.messengers,
        "spooldir": conf.spooldir,
        "lock_wait": conf.lock_wait,
        "site_name": conf.site_name,
        "service_name": conf.service_name,
        "region_name": conf.region_name,
        "benchmark": (conf.benchmark.name_key, conf.benchmark.value_key),
        "accelerator": (
            conf.accelerator.type_key,
            conf.accelerator.vendor_key,
            conf.accelerator.model_key,
            conf.accelerator.number_key,
        ),
        "ssm": (conf.ssm.output_path, conf.ssm.max_size),
    } == {
        "extract_from": None,
        "extract_to": None,
        "projects": [],
        "caso_tag": "caso",
        "vo_property": "VO",
        "mapping_file": "/etc/caso/voms.json",
        "extractor": ["nova", "cinder", "neutron"],
        "dry_run": False,
        "messengers": ["noop"],
        "spooldir": "/var/spool/caso",
        "lock_wait": 0,
        "site_name": None,
        "service_name": "",
        "region_name": None,
        "benchmark": (
            "accounting:benchmark_type",
            "accounting:benchmark_value",
        ),
        "accelerator": (
            "Accelerator:Type",
            "Accelerator:Vendor",
            "Accelerator:Model",
            "Accelerator:Number",
        ),
        "ssm": ("/var/spool/apel/outgoing/openstack", 100),
    }


def test_service_name_defaults_to_site_name(tmp_path: pathlib.Path) -> None:
    conf = _load(tmp_path, "[DEFAULT]\nsite_name = CESGA\n")

    assert conf.service_name == "CESGA"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "/srv/spool"), ({"CASO_LOCK_PATH": "/run/caso"}, "/run/caso")],
)
def test_lock_path_comes_from_environment_else_spooldir(
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    expected: str,
) -> None:
    monkeypatch.delenv("CASO_LOCK_PATH", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    conf = _load(tmp_path, "[DEFAULT]\nspooldir = /srv/spool\n")

    assert conf.lock_path == expected


def test_command_line_options_of_caso_are_accepted(
    tmp_path: pathlib.Path,
) -> None:
    mapping = tmp_path / "voms.json"
    mapping.write_text("{}")
    conf = _load(
        tmp_path,
        argv=(
            "--extract-from=2026-11-01",
            "--extract-to=2026-11-02",
            "--projects=a,b",
            "--caso_tag=acct",
            "--vo_property=vo",
            f"--mapping_file={mapping}",
            "--extractor=nova",
            "--dry-run",
        ),
    )

    assert (
        conf.extract_from,
        conf.extract_to,
        conf.projects,
        conf.caso_tag,
        conf.vo_property,
        conf.mapping_file,
        conf.extractor,
        conf.dry_run,
    ) == (
        "2026-11-01",
        "2026-11-02",
        ["a", "b"],
        "acct",
        "vo",
        str(mapping),
        ["nova"],
        True,
    )


def test_file_spelling_of_dashed_options_is_read(
    tmp_path: pathlib.Path,
) -> None:
    conf = _load(tmp_path, "[DEFAULT]\nextract_from = None\ndry_run = true\n")

    assert (conf.extract_from, conf.dry_run) == ("None", True)


@pytest.mark.parametrize(
    ("text", "argv", "message"),
    [
        pytest.param(
            "[DEFAULT]\nmessengers = ssm\n",
            (),
            "option 'site_name' in [DEFAULT] is not set: caso needs the "
            "GOCDB site name to publish; set it in caso.conf",
            id="site_name-missing",
        ),
        pytest.param(
            "",
            ("--extract-from", "2026-13-45"),
            "option 'extract-from' in [DEFAULT] is not a date: "
            "'2026-13-45'; use ISO 8601 such as 2026-11-30T12:00:00Z (no "
            "zone = UTC), or None for the beginning of time",
            id="extract-from-not-a-date",
        ),
        pytest.param(
            "",
            ("--extract-to", "yesterday"),
            "option 'extract-to' in [DEFAULT] is not a date: 'yesterday'; "
            "use ISO 8601 such as 2026-11-30T12:00:00Z (no zone = UTC)",
            id="extract-to-not-a-date",
        ),
        pytest.param(
            "",
            ("--extract-from", "2026-12-01", "--extract-to", "2026-11-01"),
            "option 'extract-from' in [DEFAULT] (2026-12-01T00:00:00+00:00) "
            "is not before 'extract-to' (2026-11-01T00:00:00+00:00); give "
            "an earlier --extract-from or a later --extract-to",
            id="from-after-to",
        ),
        pytest.param(
            "",
            ("--extract-from", "2026-11-01", "--extract-to", "2026-11-01"),
            "option 'extract-from' in [DEFAULT] (2026-11-01T00:00:00+00:00) "
            "is not before 'extract-to' (2026-11-01T00:00:00+00:00); give "
            "an earlier --extract-from or a later --extract-to",
            id="from-equals-to",
        ),
        pytest.param(
            "",
            ("--extractor", "nova,glance"),
            "unknown extractor 'glance' in option 'extractor' of [DEFAULT]; "
            "choose from ceilometer, cinder, neutron, nova, prometheus",
            id="unknown-extractor",
        ),
        pytest.param(
            "[DEFAULT]\nmessengers = kafka\n",
            (),
            "unknown messenger 'kafka' in option 'messengers' of [DEFAULT]; "
            "choose from noop, ssm",
            id="unknown-messenger",
        ),
        pytest.param(
            "[DEFAULT]\nmessengers = noop, logstash\n",
            (),
            "messenger 'logstash' in option 'messengers' of [DEFAULT] is "
            "not in caso 0.1.0 yet; remove it or choose from noop, ssm",
            id="planned-messenger",
        ),
        pytest.param(
            "[messenger_noop]\nrecord_types = cloud, vm\n",
            (),
            "unknown record type 'vm' in option 'record_types' of "
            "[messenger_noop]; choose from cloud, ip, accelerator, "
            "storage, energy",
            id="unknown-record-type",
        ),
        pytest.param(
            "[DEFAULT]\nsite_name = S\nmessengers = ssm\n"
            "[messenger_ssm]\nrecord_types = cloud, energy\n",
            (),
            "messenger 'ssm' cannot carry record type 'energy' set in "
            "option 'record_types' of [messenger_ssm]; it carries "
            "accelerator, cloud, ip, storage",
            id="record-type-not-carried",
        ),
        pytest.param(
            "[DEFAULT]\nlock_wait = -5\n",
            (),
            "option 'lock_wait' in [DEFAULT] has an invalid value: Should "
            "be greater than or equal to 0; fix it in caso.conf or on the "
            "command line",
            id="bad-value-in-file",
        ),
        pytest.param(
            "[ssm]\nmax_size = many\n",
            (),
            "option 'max_size' in [ssm] has an invalid value: invalid "
            "literal for int() with base 10: 'many'; fix it in caso.conf "
            "or on the command line",
            id="bad-value-in-group",
        ),
        pytest.param(
            "[DEFAULT]\ndry_run = maybe\n",
            (),
            "option 'dry_run' in [DEFAULT] has an invalid value: Invalid "
            "Boolean value: maybe; fix it in caso.conf or on the command "
            "line",
            id="bad-value-of-command-line-option-in-file",
        ),
        pytest.param(
            "",
            ("--no-such-flag",),
            "command line: unrecognized arguments: --no-such-flag; see "
            "caso-extract --help",
            id="unknown-argument",
        ),
    ],
)
def test_configuration_error_is_one_line_naming_the_option(
    tmp_path: pathlib.Path, text: str, argv: tuple[str, ...], message: str
) -> None:
    with pytest.raises(exceptions.ConfigError) as caught:
        _load(tmp_path, text, argv)

    assert str(caught.value) == message


def test_missing_config_file_is_a_config_error(
    tmp_path: pathlib.Path,
) -> None:
    missing = tmp_path / "nope.conf"

    with pytest.raises(exceptions.ConfigError) as caught:
        config.load(["--config-file", str(missing)], default_config_files=[])

    assert str(caught.value) == (
        f"config file {missing} not found or not readable; fix the path "
        f"given to --config-file or the file's permissions"
    )
    assert isinstance(caught.value.__cause__, cfg.ConfigFilesNotFoundError)


def test_unparsable_config_file_is_a_config_error(
    tmp_path: pathlib.Path,
) -> None:
    with pytest.raises(exceptions.ConfigError) as caught:
        _load(tmp_path, "[DEFAULT\nsite_name = S\n")

    path = tmp_path / "caso.conf"
    assert str(caught.value) == (
        f"config file {path} cannot be parsed: at {path}:1, Invalid "
        f"section (must end with ]): '[DEFAULT'; fix the INI syntax there"
    )


def test_garbled_mapping_file_is_a_config_error(
    tmp_path: pathlib.Path,
) -> None:
    mapping = tmp_path / "voms.json"
    mapping.write_text('{"vo.example.org": {"projects": ["a"]}\n')

    with pytest.raises(exceptions.ConfigError) as caught:
        _load(tmp_path, f"[DEFAULT]\nmapping_file = {mapping}\n")

    assert str(caught.value) == (
        f"VO mapping file {mapping} (option 'mapping_file' in [DEFAULT]) "
        f"is not JSON: line 2 column 1: Expecting ',' delimiter; it must "
        f'look like {{"<VO>": {{"projects": ["<project id or name>", '
        f"...]}}}}"
    )


@pytest.mark.parametrize(
    ("text", "argv", "publishing"),
    [
        pytest.param("", (), True, id="noop-only"),
        pytest.param(
            "[DEFAULT]\nmessengers = ssm\n", ("--dry-run",), True, id="dry-run"
        ),
        pytest.param(
            "[DEFAULT]\nmessengers = ssm\n", (), False, id="not-publishing"
        ),
    ],
)
def test_site_name_is_needed_only_to_publish(
    tmp_path: pathlib.Path,
    text: str,
    argv: tuple[str, ...],
    publishing: bool,
) -> None:
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf(args=list(argv), default_config_files=[_file(tmp_path, text)])

    config.validate(conf, publishing=publishing)


def test_planned_extractor_is_accepted(tmp_path: pathlib.Path) -> None:
    conf = _load(tmp_path, argv=("--extractor", "nova,prometheus"))

    assert conf.extractor == ["nova", "prometheus"]


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        config.load(["--help"], default_config_files=[])

    assert caught.value.code == 0
    assert "--extract-from EXTRACT_FROM" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "check", "warning"),
    [
        pytest.param(
            "[DEFAULT]\ntenants = p1,p2\n",
            lambda conf: conf.projects == ["p1", "p2"],
            'Deprecated: Option "tenants" from group "DEFAULT" is '
            'deprecated. Use option "projects" from group "DEFAULT".',
            id="tenants",
        ),
        pytest.param(
            "[DEFAULT]\nmessaging = noop\n",
            lambda conf: conf.messengers == ["noop"],
            'Deprecated: Option "messaging" from group "DEFAULT" is '
            'deprecated. Use option "messengers" from group "DEFAULT".',
            id="messaging",
        ),
        pytest.param(
            "[DEFAULT]\nbenchmark_name_key = hs23\n",
            lambda conf: conf.benchmark.name_key == "hs23",
            'Deprecated: Option "benchmark_name_key" from group "DEFAULT" '
            'is deprecated. Use option "name_key" from group "benchmark".',
            id="benchmark_name_key",
        ),
        pytest.param(
            "[DEFAULT]\nbenchmark_value_key = hs23v\n",
            lambda conf: conf.benchmark.value_key == "hs23v",
            'Deprecated: Option "benchmark_value_key" from group "DEFAULT" '
            'is deprecated. Use option "value_key" from group "benchmark".',
            id="benchmark_value_key",
        ),
    ],
)
def test_deprecated_option_name_is_read_with_a_warning(
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
    text: str,
    check: object,
    warning: str,
) -> None:
    with caplog.at_level(logging.WARNING):
        conf = _read(tmp_path, text)

    assert callable(check) and check(conf)
    assert [r.getMessage() for r in caplog.records] == [warning]


def test_ssmv4_is_read_as_ssm_with_a_warning(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        conf = _read(
            tmp_path, "[DEFAULT]\nsite_name = S\nmessengers = ssmv4\n"
        )

    assert list(config.routing(conf)) == ["ssm"]
    assert [r.getMessage() for r in caplog.records] == [
        "messenger 'ssmv4' in option 'messengers' of [DEFAULT] is a "
        "deprecated name of 'ssm'; using 'ssm', write it so in caso.conf"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "",
            {"noop": frozenset(records.RECORD_TYPES)},
            id="noop-default",
        ),
        pytest.param(
            "[DEFAULT]\nsite_name = S\nmessengers = ssm, noop, ssmv4\n",
            {
                "ssm": frozenset({"cloud", "ip", "accelerator", "storage"}),
                "noop": frozenset(records.RECORD_TYPES),
            },
            id="defaults-of-each-messenger-deduplicated",
        ),
        pytest.param(
            "[DEFAULT]\nsite_name = S\nmessengers = ssm, noop\n"
            "[messenger_ssm]\nrecord_types = cloud\n"
            "[messenger_noop]\nrecord_types = energy, ip\n",
            {"ssm": frozenset({"cloud"}), "noop": frozenset({"energy", "ip"})},
            id="configured",
        ),
        pytest.param(
            "[DEFAULT]\nsite_name = S\nmessengers = ssmv4\n"
            "[messenger_ssmv4]\nrecord_types = storage\n",
            {"ssm": frozenset({"storage"})},
            id="group-of-deprecated-name",
        ),
    ],
)
def test_routing_gives_each_messenger_its_record_types(
    tmp_path: pathlib.Path, text: str, expected: dict[str, frozenset[str]]
) -> None:
    conf = _load(tmp_path, text)

    assert config.routing(conf) == expected


@pytest.mark.parametrize(
    ("argv", "expected_from"),
    [
        pytest.param((), None, id="unset"),
        pytest.param(("--extract-from", "None"), window.BEGINNING, id="None"),
        pytest.param(
            ("--extract-from", "2026-11-30 12:00"),
            datetime.datetime(2026, 11, 30, 12, tzinfo=UTC),
            id="no-zone-is-utc",
        ),
        pytest.param(
            ("--extract-from", "2026-11-30T12:00:00+02:00"),
            datetime.datetime(2026, 11, 30, 10, tzinfo=UTC),
            id="offset-converted-to-utc",
        ),
    ],
)
def test_extract_from_bound(
    tmp_path: pathlib.Path,
    argv: tuple[str, ...],
    expected_from: datetime.datetime | None,
) -> None:
    conf = _load(tmp_path, argv=(*argv, "--extract-to", "2026-12-01"))

    assert config.extract_window_bounds(conf) == (
        expected_from,
        datetime.datetime(2026, 12, 1, tzinfo=UTC),
    )


def test_extract_to_defaults_to_now(tmp_path: pathlib.Path) -> None:
    conf = _load(tmp_path)
    before = window.now()

    start, end = config.extract_window_bounds(conf)

    assert start is None
    assert before <= end <= window.now()


def test_future_extract_to_is_clamped_to_now_with_a_warning(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    conf = _read(tmp_path, argv=("--extract-to", "2999-01-01T00:00:00Z"))
    before = window.now()

    with caplog.at_level(logging.WARNING):
        _, end = config.extract_window_bounds(conf)

    assert before <= end <= window.now()
    assert [r.getMessage() for r in caplog.records] == [
        "option 'extract-to' in [DEFAULT] (2999-01-01T00:00:00+00:00) is "
        f"in the future; using now ({end.isoformat()}) instead"
    ]


def test_list_opts_names_caso_groups_for_the_generator() -> None:
    groups = {
        group: [o.dest for o in opts] for group, opts in opts.list_opts()
    }

    assert {
        group: names
        for group, names in groups.items()
        if group != "keystone_auth"
    } == {
        None: [
            "extract_from",
            "extract_to",
            "projects",
            "caso_tag",
            "vo_property",
            "mapping_file",
            "extractor",
            "dry_run",
            "messengers",
            "spooldir",
            "lock_path",
            "lock_wait",
            "site_name",
            "service_name",
            "region_name",
        ],
        "benchmark": ["name_key", "value_key"],
        "accelerator": ["type_key", "vendor_key", "model_key", "number_key"],
        "ssm": ["output_path", "max_size"],
    }
    assert {"auth_type", "auth_url", "cafile", "timeout"} <= set(
        groups["keystone_auth"]
    )
