"""What a run leaves for the next one: watermarks, and the run lock.

A watermark is the end of the last window a project was fully published
for, kept per project and extractor in
``<spooldir>/watermarks/<project id>.<extractor>`` as one ISO 8601 UTC
line. Older installations kept one ``<spooldir>/lastrun.<project id>``
per project; it is read for every extractor that has no watermark yet.

The lock is ``<lock_path>/caso.lock``, held with ``flock`` for the whole
run and holding the PID of the run that has it.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import pathlib
import tempfile
import time
import types

from caso import exceptions, window

WATERMARK_DIR = "watermarks"
LEGACY_PREFIX = "lastrun."
LOCK_FILE = "caso.lock"

_POLL_SECONDS = 0.1


class WatermarkStore:
    """Watermarks of every project and extractor under a spool directory.

    Args:
        spooldir: option ``spooldir``.
    """

    def __init__(self, spooldir: pathlib.Path) -> None:
        self.spooldir = spooldir
        self.directory = spooldir / WATERMARK_DIR

    def path(self, project_id: str, extractor: str) -> pathlib.Path:
        """The file holding one watermark."""
        for part in (project_id, extractor):
            if not part or "/" in part or part.startswith("."):
                raise ValueError(f"{part!r} cannot name a state file")

        return self.directory / f"{project_id}.{extractor}"

    def get(self, project_id: str, extractor: str) -> datetime.datetime | None:
        """The watermark, or None when the project was never reported.

        Raises:
            StateError: the file is empty, garbled or unreadable.
        """
        path = self.path(project_id, extractor)
        text = _read(path)
        if text is None:
            path = self.spooldir / f"{LEGACY_PREFIX}{project_id}"
            text = _read(path)
        if text is None:
            return None

        return _parse(path, text, project_id)

    def set(
        self, project_id: str, extractor: str, when: datetime.datetime
    ) -> None:
        """Save a watermark atomically.

        Raises:
            StateError: the directory or the file cannot be written.
        """
        if when.tzinfo is None:
            raise ValueError("a watermark must carry a zone")
        path = self.path(project_id, extractor)
        line = window.as_utc(when).isoformat() + "\n"
        _make_dir(self.directory, exceptions.StateError, "spooldir")
        try:
            _write_atomically(path, line)
        except OSError as exc:
            raise exceptions.StateError(
                f"cannot write state file {path}: {exc.strerror}; make "
                f"{self.directory} writable by the user running caso"
            ) from exc


def _read(path: pathlib.Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise exceptions.StateError(
            f"cannot read state file {path}: {exc}; make it readable by "
            f"the user running caso"
        ) from exc


def _parse(
    path: pathlib.Path, text: str, project_id: str
) -> datetime.datetime:
    repair = (
        "write an ISO 8601 UTC time into it (e.g. 2026-11-30T12:00:00+00:00)"
        f", or delete it to report project {project_id} from the "
        "beginning (or from --extract-from)"
    )
    if not text.strip():
        raise exceptions.StateError(f"state file {path} is empty; {repair}")
    try:
        return window.parse(text)
    except (ValueError, OverflowError) as exc:
        first = text.strip().splitlines()[0][:60]
        raise exceptions.StateError(
            f"state file {path} is garbled: {first!r} is not a date; {repair}"
        ) from exc


def _make_dir(
    directory: pathlib.Path, error: type[exceptions.CasoError], option: str
) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(
            f"cannot create directory {directory}: {exc.strerror}; create "
            f"it writable by the user running caso, or change option "
            f"{option!r}"
        ) from exc


def _write_atomically(path: pathlib.Path, text: str) -> None:
    # A crash leaves either the old watermark or the new one, never half
    # of one: write beside it, flush to disk, then rename over it.
    fd, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class Lock:
    """Keeps two caso runs from working at the same time.

    Use it as a context manager around the whole run.

    Args:
        path: the directory of the lock file (option ``lock_path``).
        wait: seconds to wait for another run to let go; 0 gives up at
            once.
    """

    def __init__(self, path: pathlib.Path, wait: float = 0) -> None:
        self.file = path / LOCK_FILE
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> Lock:
        _make_dir(self.file.parent, exceptions.LockError, "lock_path")
        try:
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise exceptions.LockError(
                f"cannot open lock file {self.file}: {exc.strerror}; make "
                f"it writable by the user running caso"
            ) from exc
        if not _acquire(fd, self.wait):
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise exceptions.LockError(self._held_message(holder))

        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def _held_message(self, holder: str) -> str:
        who = f"(PID {holder}) " if holder else ""
        waited = f" after waiting {self.wait:g} s" if self.wait else ""
        return (
            f"another caso run {who}holds {self.file}; this run did "
            f"nothing{waited}. Let it finish, or set lock_wait to wait "
            f"for it"
        )


def _acquire(fd: int, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)
        else:
            return True
