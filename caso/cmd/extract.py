"""``caso-extract``: the main job, meant for cron.

Exit status: 0 every project published; 1 some project or messenger
failed (the rest was published), or another run holds the lock; 2 the
configuration or command line is wrong and nothing was done. The last
line of output says which.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from caso import config, exceptions, manager, state

LOG = logging.getLogger(__name__)

PROG = "caso-extract"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the extraction; return the exit status."""
    begun = time.monotonic()
    try:
        conf = config.load(sys.argv[1:] if argv is None else argv, prog=PROG)
    except exceptions.ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2

    failure: exceptions.CasoError | None = None
    try:
        # Built first: a bad [keystone_auth] is a configuration error
        # that must leave nothing behind, not even the lock file.
        run = manager.Manager(conf)
        if conf.dry_run:
            report = run.run(out=sys.stdout)
        else:
            lock = state.Lock(Path(conf.lock_path), wait=conf.lock_wait)
            with lock:
                report = run.run()
    except exceptions.CasoError as exc:
        failure = exc
    if isinstance(failure, exceptions.ConfigError):
        print(f"{PROG}: error: {failure}", file=sys.stderr)
        return 2
    if failure is not None:
        # Logged outside the handler: oslo.log would repeat the error.
        LOG.error("%s", failure)
        print(f"{PROG}: failed, nothing published: {failure}", file=sys.stderr)
        return 1

    manager.log_report(report)
    line = report.summary(time.monotonic() - begun, conf.dry_run)
    LOG.info("%s", line)
    print(f"{PROG}: {line}")

    return report.exit_status


if __name__ == "__main__":
    sys.exit(main())
