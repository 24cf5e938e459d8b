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
import pathlib
import re
import sys
from collections.abc import Iterator, Sequence

from oslo_config import cfg
from oslo_log import log

import caso
from caso import exceptions, extractors, messengers, opts, records, window
from caso.identity import vomap

LOG = logging.getLogger(__name__)

#: The text of ``extract-from`` that means the beginning of time.
BEGINNING_TEXT = "None"


_FILE_VALUE = re.compile(r"argument --(\S+): (.*)")

_SOURCE_VALUE = re.compile(r"Value for option (\S+) .*?is not valid: (.*)")

_DATE_HINT = "use ISO 8601 such as 2026-11-30T12:00:00Z (no zone = UTC)"


def load(
    argv: Sequence[str],
    *,
    conf: cfg.ConfigOpts | None = None,
    default_config_files: list[str] | None = None,
    prog: str = "caso-extract",
    publishing: bool = True,
) -> cfg.ConfigOpts:
    """Read the command line and the files, set up logging, and check.

    Args:
        argv: the arguments, without the program name.
        conf: where to register and parse; a new one when not given.
        default_config_files: files read when no ``--config-file`` is
            given; oslo's search (``~/.caso/caso.conf``,
            ``/etc/caso/caso.conf``, ...) when None.
        prog: program name shown in usage and errors.
        publishing: False for commands that send nothing
            (``caso-projects``), which then need no ``site_name``.

    Returns:
        The parsed and checked configuration.

    Raises:
        ConfigError: a bad option, value, file or argument.
        SystemExit: ``--help`` or ``--version`` was given.
    """
    conf = cfg.ConfigOpts() if conf is None else conf
    opts.register_opts(conf)
    with _translated(), _usage_errors(prog):
        conf(
            args=list(argv),
            project="caso",
            prog=prog,
            version=caso.__version__,
            default_config_files=default_config_files,
        )
    _setup_logging(conf)
    validate(conf, publishing=publishing)

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
    for group, group_opts in opts.list_opts():
        if group == opts.KEYSTONE_GROUP:
            continue
        section = conf if group is None else conf[group]
        for opt in group_opts:
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
