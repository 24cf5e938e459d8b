"""Summarise what a demo run left behind: state, queued messages, a record.

Usage: python tools/demo_report.py DEMO_DIR
"""

from __future__ import annotations

import collections
import pathlib
import sys

from dirq import QueueSimple


def main(demo: pathlib.Path) -> int:
    """Print the watermarks, the messages queued and one record."""
    outgoing = demo / "outgoing"
    queue = QueueSimple.QueueSimple(str(outgoing))
    messages = []
    for name in queue:
        # dirq hands out an element only under its lock.
        if queue.lock(name):
            messages.append(queue.get(name).decode("ascii"))
            queue.unlock(name)
    records = [
        block for message in messages for block in message.split("\n%%\n")
    ]
    kinds = collections.Counter(m.splitlines()[0] for m in messages)
    by_project = collections.Counter(
        line.split(": ", 1)[1]
        for block in records
        for line in block.splitlines()
        if line.startswith("FQAN: ")
    )
    print(f"== {len(messages)} message(s) queued in {outgoing}")
    for header, count in kinds.items():
        print(f"   {count} x {header}")
    print(f"== {len(records)} cloud record(s), by VO:")
    for vo, count in sorted(by_project.items()):
        print(f"   {vo}: {count}")
    print(f"== watermarks in {demo / 'spool' / 'watermarks'}:")
    for path in sorted((demo / "spool" / "watermarks").glob("*")):
        print(f"   {path.name}: {path.read_text().strip()}")
    if records:
        example = records[0]
        if example.startswith("APEL-cloud-message"):
            example = example.split("\n", 1)[1]
        print("== one record, as queued:")
        print("   " + example.strip().replace("\n", "\n   "))

    return 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
