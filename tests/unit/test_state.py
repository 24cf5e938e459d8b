"""Watermarks and the run lock."""

from __future__ import annotations

import datetime
import os
import pathlib
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from caso import exceptions, state

UTC = datetime.timezone.utc
PROJECT = "4b3a2c1d0e9f8a7b6c5d4e3f2a1b0c9d"


@pytest.fixture
def tokyo() -> Iterator[None]:
    """Run the test with the host clock in Asia/Tokyo."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def store(tmp_path: pathlib.Path) -> state.WatermarkStore:
    return state.WatermarkStore(tmp_path)


def test_watermark_round_trips_whatever_the_host_zone(
    tokyo: None, store: state.WatermarkStore, tmp_path: pathlib.Path
) -> None:
    when = datetime.datetime(2026, 11, 30, 23, 30, tzinfo=UTC)

    store.set(PROJECT, "nova", when)

    assert store.get(PROJECT, "nova") == when
    assert (tmp_path / "watermarks" / f"{PROJECT}.nova").read_text() == (
        "2026-11-30T23:30:00+00:00\n"
    )


def test_watermark_with_offset_is_saved_in_utc(
    store: state.WatermarkStore, tmp_path: pathlib.Path
) -> None:
    offset = datetime.timezone(datetime.timedelta(hours=2))

    store.set(
        PROJECT, "nova", datetime.datetime(2026, 12, 1, 1, tzinfo=offset)
    )

    assert (tmp_path / "watermarks" / f"{PROJECT}.nova").read_text() == (
        "2026-11-30T23:00:00+00:00\n"
    )


def test_watermarks_are_kept_per_extractor(
    store: state.WatermarkStore,
) -> None:
    store.set(PROJECT, "nova", datetime.datetime(2026, 11, 1, tzinfo=UTC))

    assert store.get(PROJECT, "cinder") is None


def test_no_watermark_is_none(store: state.WatermarkStore) -> None:
    assert store.get(PROJECT, "nova") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2026-11-30 12:00:00\n",
            datetime.datetime(2026, 11, 30, 12, tzinfo=UTC),
            id="naive-is-utc",
        ),
        pytest.param(
            "2026-11-30T12:00:00+01:00\n",
            datetime.datetime(2026, 11, 30, 11, tzinfo=UTC),
            id="with-zone",
        ),
    ],
)
def test_legacy_lastrun_file_is_read_for_any_extractor(
    tokyo: None,
    store: state.WatermarkStore,
    tmp_path: pathlib.Path,
    text: str,
    expected: datetime.datetime,
) -> None:
    (tmp_path / f"lastrun.{PROJECT}").write_text(text)

    assert (store.get(PROJECT, "nova"), store.get(PROJECT, "cinder")) == (
        expected,
        expected,
    )


def test_watermark_wins_over_legacy_lastrun(
    store: state.WatermarkStore, tmp_path: pathlib.Path
) -> None:
    (tmp_path / f"lastrun.{PROJECT}").write_text("2026-10-01 00:00:00\n")
    when = datetime.datetime(2026, 11, 1, tzinfo=UTC)

    store.set(PROJECT, "nova", when)

    assert store.get(PROJECT, "nova") == when


@pytest.mark.parametrize(
    ("legacy", "text", "problem"),
    [
        pytest.param(False, "", "is empty", id="empty"),
        pytest.param(False, "  \n", "is empty", id="blank"),
        pytest.param(
            False,
            "\x00\x00garbage\n",
            "is garbled: '\\x00\\x00garbage' is not a date",
            id="garbled",
        ),
        pytest.param(
            True,
            "last tuesday-ish\n",
            "is garbled: 'last tuesday-ish' is not a date",
            id="garbled-lastrun",
        ),
    ],
)
def test_damaged_state_file_names_file_and_repair(
    store: state.WatermarkStore,
    tmp_path: pathlib.Path,
    legacy: bool,
    text: str,
    problem: str,
) -> None:
    if legacy:
        path = tmp_path / f"lastrun.{PROJECT}"
    else:
        path = tmp_path / "watermarks" / f"{PROJECT}.nova"
        path.parent.mkdir()
    path.write_text(text)

    with pytest.raises(exceptions.StateError) as caught:
        store.get(PROJECT, "nova")

    assert str(caught.value) == (
        f"state file {path} {problem}; write an ISO 8601 UTC time into it "
        f"(e.g. 2026-11-30T12:00:00+00:00), or delete it to report project "
        f"{PROJECT} from the beginning (or from --extract-from)"
    )


def test_atomic_write_leaves_no_temporary_file(
    store: state.WatermarkStore, tmp_path: pathlib.Path
) -> None:
    store.set(PROJECT, "nova", datetime.datetime(2026, 11, 1, tzinfo=UTC))
    store.set(PROJECT, "nova", datetime.datetime(2026, 12, 1, tzinfo=UTC))

    assert sorted(os.listdir(tmp_path / "watermarks")) == [f"{PROJECT}.nova"]


def test_state_directory_that_cannot_be_created_is_named(
    tmp_path: pathlib.Path,
) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("a file, not a directory")
    store = state.WatermarkStore(blocker)

    with pytest.raises(exceptions.StateError) as caught:
        store.set(PROJECT, "nova", datetime.datetime(2026, 11, 1, tzinfo=UTC))

    assert str(caught.value) == (
        f"cannot create directory {blocker}/watermarks: Not a directory; "
        f"create it writable by the user running caso, or change option "
        f"'spooldir'"
    )


def test_naive_watermark_is_refused(store: state.WatermarkStore) -> None:
    with pytest.raises(ValueError, match="must carry a zone"):
        store.set(PROJECT, "nova", datetime.datetime(2026, 11, 1))


_HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"%d\\n" % os.getpid())
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def _hold(lock_file: pathlib.Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock_file), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    return holder


def test_lock_held_by_another_run_fails_at_once(
    tmp_path: pathlib.Path,
) -> None:
    lock_file = tmp_path / "caso.lock"
    holder = _hold(lock_file, 30)
    try:
        started = time.monotonic()
        with pytest.raises(exceptions.LockError) as caught:
            with state.Lock(tmp_path):
                pass
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()

    assert elapsed < 1
    assert str(caught.value) == (
        f"another caso run (PID {holder.pid}) holds {lock_file}; this run "
        f"did nothing. Let it finish, or set lock_wait to wait for it"
    )


def test_lock_wait_gives_up_after_the_wait(tmp_path: pathlib.Path) -> None:
    lock_file = tmp_path / "caso.lock"
    holder = _hold(lock_file, 30)
    try:
        with pytest.raises(exceptions.LockError) as caught:
            with state.Lock(tmp_path, wait=0.3):
                pass
    finally:
        holder.kill()
        holder.wait()

    assert str(caught.value) == (
        f"another caso run (PID {holder.pid}) holds {lock_file}; this run "
        f"did nothing after waiting 0.3 s. Let it finish, or set lock_wait "
        f"to wait for it"
    )


def test_lock_wait_succeeds_when_released_in_time(
    tmp_path: pathlib.Path,
) -> None:
    lock_file = tmp_path / "caso.lock"
    holder = _hold(lock_file, 0.3)
    try:
        with state.Lock(tmp_path, wait=10):
            held_by = lock_file.read_text()
    finally:
        holder.wait()

    assert held_by == f"{os.getpid()}\n"


def test_lock_is_free_again_after_the_run(tmp_path: pathlib.Path) -> None:
    with state.Lock(tmp_path):
        pass

    with state.Lock(tmp_path):
        pass

    assert (tmp_path / "caso.lock").read_text() == ""


def test_lock_directory_that_cannot_be_created_is_named(
    tmp_path: pathlib.Path,
) -> None:
    blocker = tmp_path / "run"
    blocker.write_text("a file, not a directory")

    with pytest.raises(exceptions.LockError) as caught:
        with state.Lock(blocker / "caso"):
            pass

    assert str(caught.value) == (
        f"cannot create directory {blocker}/caso: Not a directory; create "
        f"it writable by the user running caso, or change option "
        f"'lock_path'"
    )
