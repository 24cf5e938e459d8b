"""Configuration: cASO's options, read the OpenStack way, and checked.

Option names, groups, defaults and command-line flags are those of cASO,
so that a site's ``caso.conf`` and cron line keep working. Every problem
found while reading or checking them is a
:class:`caso.exceptions.ConfigError` with one line that names the option
(and group) or file and says how to fix it.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import os
import pathlib
import re
import sys
from collections.abc import Iterator, Sequence

from keystoneauth1 import loading
from oslo_config import cfg
from oslo_log import log

import caso
from caso import exceptions, extractors, messengers, records, window
from caso.identity import vomap

LOG = logging.getLogger(__name__)

#: The text of ``extract-from`` that means the beginning of time.
BEGINNING_TEXT = "None"

KEYSTONE_GROUP = "keystone_auth"
BENCHMARK_GROUP = "benchmark"
ACCELERATOR_GROUP = "accelerator"
SSM_GROUP = "ssm"

_FILE_VALUE = re.compile(r"argument --(\S+): (.*)")

_SOURCE_VALUE = re.compile(r"Value for option (\S+) .*?is not valid: (.*)")

_DATE_HINT = "use ISO 8601 such as 2026-11-30T12:00:00Z (no zone = UTC)"


def _cli_opts() -> list[cfg.Opt]:
    return [
        cfg.StrOpt(
            "extract-from",
            help="Start of the window for every project, overriding the "
            "saved watermarks. ISO 8601; without a zone it is UTC. "
            "'None' means the beginning of time.",
        ),
        cfg.StrOpt(
            "extract-to",
            help="End of the window. ISO 8601; without a zone it is UTC. "
            "Unset means now; a future value is clamped to now.",
        ),
        cfg.ListOpt(
            "projects",
            default=[],
            deprecated_name="tenants",
            help="Ids or names of the projects to report, merged with "
            "the projects that carry the Keystone tag caso_tag.",
        ),
        cfg.StrOpt(
            "caso_tag",
            default="caso",
            help="Keystone tag that selects a project for accounting.",
        ),
        cfg.StrOpt(
            "vo_property",
            default="VO",
            help="Keystone project property that holds the project's VO.",
        ),
        cfg.StrOpt(
            "mapping_file",
            default=str(vomap.DEFAULT_PATH),
            deprecated_for_removal=True,
            deprecated_reason="set the VO in the Keystone project "
            "property named by vo_property instead "
            "(caso-mapping-migrate does it)",
            help="Deprecated. JSON file mapping VOs to project ids or "
            'names, {"<VO>": {"projects": [...]}}, used for a project '
            "whose vo_property is not set.",
        ),
        cfg.ListOpt(
            "extractor",
            default=["nova", "cinder", "neutron"],
            help="Extractors to run: nova, cinder, neutron, prometheus, "
            "ceilometer. Ones this version does not have yet are skipped "
            "with a warning.",
        ),
        cfg.BoolOpt(
            "dry-run",
            default=False,
            help="Extract and print what would be sent; publish nothing "
            "and save no state.",
        ),
    ]


def _default_opts() -> list[cfg.Opt]:
    return [
        cfg.ListOpt(
            "messengers",
            default=["noop"],
            deprecated_name="messaging",
            help="Where to send records: ssm, noop (and, in later "
            "versions, logstash, greendigit_cim). ssmv4 is an old name "
            "of ssm.",
        ),
        cfg.StrOpt(
            "spooldir",
            default="/var/spool/caso",
            help="Directory of the state files (watermarks).",
        ),
        cfg.StrOpt(
            "lock_path",
            default=os.environ.get("CASO_LOCK_PATH", "$spooldir"),
            sample_default="$CASO_LOCK_PATH if set, else $spooldir",
            help="Directory of the lock file that keeps two runs apart.",
        ),
        cfg.IntOpt(
            "lock_wait",
            default=0,
            min=0,
            help="Seconds to wait for another run's lock before giving "
            "up; 0 gives up at once.",
        ),
        cfg.StrOpt(
            "site_name",
            help="GOCDB name of the site. Required to publish.",
        ),
        cfg.StrOpt(
            "service_name",
            default="$site_name",
            help="Name of the CloudComputeService in the records.",
        ),
        cfg.StrOpt(
            "region_name",
            help="OpenStack region of every service caso reads.",
        ),
    ]


def _benchmark_opts() -> list[cfg.Opt]:
    return [
        cfg.StrOpt(
            "name_key",
            default="accounting:benchmark_type",
            deprecated_opts=[
                cfg.DeprecatedOpt("benchmark_name_key", group="DEFAULT")
            ],
            help="Flavor extra spec holding the benchmark type.",
        ),
        cfg.StrOpt(
            "value_key",
            default="accounting:benchmark_value",
            deprecated_opts=[
                cfg.DeprecatedOpt("benchmark_value_key", group="DEFAULT")
            ],
            help="Flavor extra spec holding the benchmark value.",
        ),
    ]


def _accelerator_opts() -> list[cfg.Opt]:
    specs = [
        ("type_key", "Accelerator:Type", "type (GPU, FPGA, ...)"),
        ("vendor_key", "Accelerator:Vendor", "vendor"),
        ("model_key", "Accelerator:Model", "model"),
        ("number_key", "Accelerator:Number", "number per VM"),
    ]
    return [
        cfg.StrOpt(
            name,
            default=default,
            help=f"Flavor extra spec holding the accelerator {what}.",
        )
        for name, default, what in specs
    ]


def _ssm_opts() -> list[cfg.Opt]:
    # The ssm messenger owns its options; a build without it still reads
    # every other option.
    try:
        from caso.messengers import ssm
    except ImportError:
        LOG.debug("caso.messengers.ssm is not importable; no [ssm] options")
        return []
    opts: list[cfg.Opt] = list(ssm.OPTS)
    return opts


def _keystone_opts() -> list[cfg.Opt]:
    opts: list[cfg.Opt] = [
        *loading.get_auth_common_conf_options(),
        *loading.get_auth_plugin_conf_options("password"),
        *loading.get_session_conf_options(),
    ]
    return opts


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option caso reads, oslo.log's included.

    Args:
        conf: the configuration to register on, before it is parsed.
    """
    conf.register_cli_opts(_cli_opts())
    conf.register_opts(_default_opts())
    conf.register_opts(_benchmark_opts(), group=BENCHMARK_GROUP)
    conf.register_opts(_accelerator_opts(), group=ACCELERATOR_GROUP)
    conf.register_opts(_ssm_opts(), group=SSM_GROUP)
    loading.register_auth_conf_options(conf, KEYSTONE_GROUP)
    loading.register_session_conf_options(conf, KEYSTONE_GROUP)
    log.register_options(conf)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Options by group, for oslo-config-generator (namespace ``caso``).

    ``[keystone_auth]`` lists the options of the ``password`` plugin;
    another ``auth_type`` reads its own.
    """
    return [
        (None, _cli_opts() + _default_opts()),
        (BENCHMARK_GROUP, _benchmark_opts()),
        (ACCELERATOR_GROUP, _accelerator_opts()),
        (SSM_GROUP, _ssm_opts()),
        (KEYSTONE_GROUP, _keystone_opts()),
    ]


def load(
    argv: Sequence[str],
    *,
    conf: cfg.ConfigOpts | None = None,
    default_config_files: list[str] | None = None,
    prog: str = "caso-extract",
) -> cfg.ConfigOpts:
    """Read the command line and the files, set up logging, and check.

    Args:
        argv: the arguments, without the program name.
        conf: where to register and parse; a new one when not given.
        default_config_files: files read when no ``--config-file`` is
            given; oslo's search (``~/.caso/caso.conf``,
            ``/etc/caso/caso.conf``, ...) when None.
        prog: program name shown in usage and errors.

    Returns:
        The parsed and checked configuration.

    Raises:
        ConfigError: a bad option, value, file or argument.
        SystemExit: ``--help`` or ``--version`` was given.
    """
    conf = cfg.ConfigOpts() if conf is None else conf
    register_opts(conf)
    with _translated(), _usage_errors(prog):
        conf(
            args=list(argv),
            project="caso",
            prog=prog,
            version=caso.__version__,
            default_config_files=default_config_files,
        )
    _setup_logging(conf)
    validate(conf)

    return conf


@contextlib.contextmanager
def _usage_errors(prog: str) -> Iterator[None]:
    # argparse prints a usage error and exits 2; caso reports it as one
    # ConfigError line like every other configuration problem.
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            yield
    except SystemExit as exc:
        if not exc.code:
            sys.stderr.write(captured.getvalue())
            raise
        lines = captured.getvalue().strip().splitlines() or ["bad usage"]
        reason = lines[-1].split(": error: ", 1)[-1]
        found = _FILE_VALUE.fullmatch(reason)
        if exc.code == 1 and found:
            # oslo.config's check of a command-line option set in a file.
            name, problem = found.groups()
            raise exceptions.ConfigError(
                f"option {name!r} in [DEFAULT] has an invalid value: "
                f"{problem}; fix it in caso.conf or on the command line"
            ) from exc
        raise exceptions.ConfigError(
            f"command line: {reason}; see {prog} --help"
        ) from exc
    else:
        sys.stderr.write(captured.getvalue())


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except cfg.ConfigFilesNotFoundError as exc:
        files = ", ".join(exc.config_files)
        raise exceptions.ConfigError(
            f"config file {files} not found or not readable; fix the path "
            f"given to --config-file or the file's permissions"
        ) from exc
    except cfg.ConfigDirNotFoundError as exc:
        raise exceptions.ConfigError(
            f"config directory {exc.config_dir} not found; fix the path "
            f"given to --config-dir"
        ) from exc
    except cfg.ConfigFileParseError as exc:
        raise exceptions.ConfigError(
            f"config file {exc.config_file} cannot be parsed: {exc.msg}; "
            f"fix the INI syntax there"
        ) from exc
    except cfg.ConfigSourceValueError as exc:
        found = _SOURCE_VALUE.match(str(exc))
        name, problem = found.groups() if found else ("?", str(exc))
        raise exceptions.ConfigError(
            f"option {name!r} has an invalid value: {problem}; fix it in "
            f"caso.conf or on the command line"
        ) from exc
    except cfg.Error as exc:
        raise exceptions.ConfigError(f"configuration: {exc}") from exc


def _problem(exc: Exception) -> str:
    found = _SOURCE_VALUE.match(str(exc))
    return found.group(2) if found else str(exc)


def _setup_logging(conf: cfg.ConfigOpts) -> None:
    try:
        with _translated():
            log.setup(conf, "caso")
    except log.LogConfigError as exc:
        raise exceptions.ConfigError(
            f"option 'log_config_append' in [DEFAULT]: {exc}; fix the "
            f"logging configuration file"
        ) from exc
    except OSError as exc:
        raise exceptions.ConfigError(
            f"options 'log_file'/'log_dir' in [DEFAULT]: cannot open "
            f"{exc.filename}: {exc.strerror}; choose a writable place"
        ) from exc


def validate(conf: cfg.ConfigOpts, *, publishing: bool = True) -> None:
    """Check the rules no single option can check alone.

    Args:
        conf: a parsed configuration.
        publishing: False for commands that send nothing, which then do
            not need ``site_name``.

    Raises:
        ConfigError: the first rule broken, naming the option.
    """
    _check_values(conf)
    _check_window(conf)
    _check_extractors(conf)
    names = _messenger_names(conf, warn=True)
    _check_site_name(conf, names, publishing)
    path = pathlib.Path(conf.mapping_file)
    vomap.load(path)
    routing(conf)


def _check_values(conf: cfg.ConfigOpts) -> None:
    # oslo.config converts file values when they are read: read them all
    # now, so that a bad one is reported before any work starts.
    for group, opts in list_opts():
        if group == KEYSTONE_GROUP:
            continue
        section = conf if group is None else conf[group]
        for opt in opts:
            try:
                section[opt.dest]
            except cfg.ConfigSourceValueError as exc:
                raise exceptions.ConfigError(
                    f"option {opt.name!r} in [{group or 'DEFAULT'}] has an "
                    f"invalid value: {_problem(exc)}; fix it in caso.conf "
                    f"or on the command line"
                ) from exc


def _check_site_name(
    conf: cfg.ConfigOpts, names: list[str], publishing: bool
) -> None:
    sending = publishing and not conf.dry_run and names != ["noop"]
    if sending and not conf.site_name:
        raise exceptions.ConfigError(
            "option 'site_name' in [DEFAULT] is not set: caso needs the "
            "GOCDB site name to publish; set it in caso.conf"
        )


def _parse_bound(conf: cfg.ConfigOpts, name: str) -> datetime.datetime | None:
    text: str | None = conf[name.replace("-", "_")]
    if text is None:
        return None
    if name == "extract-from" and text.strip().lower() == "none":
        return window.BEGINNING
    try:
        return window.parse(text)
    except (ValueError, OverflowError) as exc:
        hint = _DATE_HINT
        if name == "extract-from":
            hint += ", or None for the beginning of time"
        raise exceptions.ConfigError(
            f"option {name!r} in [DEFAULT] is not a date: {text!r}; {hint}"
        ) from exc


def _check_window(conf: cfg.ConfigOpts) -> None:
    start = _parse_bound(conf, "extract-from")
    end = _parse_bound(conf, "extract-to")
    if start is not None and end is not None and start >= end:
        raise exceptions.ConfigError(
            f"option 'extract-from' in [DEFAULT] ({start.isoformat()}) is "
            f"not before 'extract-to' ({end.isoformat()}); give an earlier "
            f"--extract-from or a later --extract-to"
        )


def _check_extractors(conf: cfg.ConfigOpts) -> None:
    known = set(extractors.available()) | extractors.PLANNED
    for name in conf.extractor:
        if name not in known:
            raise exceptions.ConfigError(
                f"unknown extractor {name!r} in option 'extractor' of "
                f"[DEFAULT]; choose from {', '.join(sorted(known))}"
            )


def _messenger_names(conf: cfg.ConfigOpts, *, warn: bool) -> list[str]:
    installed = set(messengers.available())
    choices = ", ".join(sorted(installed))
    names: list[str] = []
    for name in conf.messengers:
        if name in messengers.DEPRECATED_NAMES:
            new = messengers.DEPRECATED_NAMES[name]
            if warn:
                LOG.warning(
                    "messenger %r in option 'messengers' of [DEFAULT] is a "
                    "deprecated name of %r; using %r, write it so in "
                    "caso.conf",
                    name,
                    new,
                    new,
                )
            name = new
        if name in messengers.PLANNED:
            raise exceptions.ConfigError(
                f"messenger {name!r} in option 'messengers' of [DEFAULT] is "
                f"not in caso {caso.__version__} yet; remove it or choose "
                f"from {choices}"
            )
        if name not in installed:
            raise exceptions.ConfigError(
                f"unknown messenger {name!r} in option 'messengers' of "
                f"[DEFAULT]; choose from {choices}"
            )
        if name not in names:
            names.append(name)

    return names


def extract_window_bounds(
    conf: cfg.ConfigOpts,
) -> tuple[datetime.datetime | None, datetime.datetime]:
    """The window bounds the command line or the files ask for.

    Args:
        conf: a parsed and validated configuration.

    Returns:
        ``(start, end)``: ``start`` is None when ``extract-from`` is unset
        (each project starts at its watermark) and
        :data:`caso.window.BEGINNING` for ``None``; ``end`` is
        ``extract-to``, or now when unset or in the future.

    Raises:
        ConfigError: a bound is not a date.
    """
    start = _parse_bound(conf, "extract-from")
    end = _parse_bound(conf, "extract-to")
    current = window.now()
    if end is None:
        return start, current
    if end > current:
        LOG.warning(
            "option 'extract-to' in [DEFAULT] (%s) is in the future; "
            "using now (%s) instead",
            end.isoformat(),
            current.isoformat(),
        )
        end = current

    return start, end


def _record_types_opt() -> cfg.Opt:
    return cfg.ListOpt(
        "record_types",
        deprecated_opts=[
            cfg.DeprecatedOpt("record_types", group=f"messenger_{old}")
            for old in sorted(messengers.DEPRECATED_NAMES)
        ],
        help="Record types this messenger gets; its own default when unset.",
    )


def routing(conf: cfg.ConfigOpts) -> dict[str, frozenset[str]]:
    """Which record types each configured messenger gets.

    ``[messenger_<name>] record_types`` when set, else the messenger's
    ``default_record_types``; never more than it can carry.

    Args:
        conf: a parsed configuration.

    Returns:
        Record types by messenger name (deprecated names resolved), in
        the order of option ``messengers``.

    Raises:
        ConfigError: an unknown messenger or record type, or a record
            type the messenger cannot carry.
    """
    routes: dict[str, frozenset[str]] = {}
    for name in _messenger_names(conf, warn=False):
        group = f"messenger_{name}"
        conf.register_opt(_record_types_opt(), group=group)
        messenger = messengers.load(name)
        configured: list[str] | None = conf[group].record_types
        if configured is None:
            wanted = messenger.default_record_types
        else:
            wanted = frozenset(configured)
        for record_type in sorted(configured or ()):
            _check_record_type(record_type, name, messenger.record_types)
        routes[name] = wanted & messenger.record_types

    return routes


def _check_record_type(
    record_type: str, name: str, carried: frozenset[str]
) -> None:
    where = f"option 'record_types' of [messenger_{name}]"
    if record_type not in records.RECORD_TYPES:
        raise exceptions.ConfigError(
            f"unknown record type {record_type!r} in {where}; choose from "
            f"{', '.join(records.RECORD_TYPES)}"
        )
    if record_type not in carried:
        raise exceptions.ConfigError(
            f"messenger {name!r} cannot carry record type {record_type!r} "
            f"set in {where}; it carries {', '.join(sorted(carried))}"
        )
