"""The SSM outgoing queue, read the way ssmsend reads it.

dirq hands out an element only under its lock. Messages are decoded as
ASCII, strictly: SSM cannot send anything else.
"""

from __future__ import annotations

import pathlib

from dirq import QueueSimple


def messages(path: pathlib.Path) -> list[str]:
    """The queued messages, in the order they were added."""
    if not path.exists():
        return []
    queue = QueueSimple.QueueSimple(str(path))
    texts = []
    for name in sorted(queue.names()):
        assert queue.lock(name), f"element {name} of {path} is locked"
        texts.append(queue.get(name).decode("ascii"))
        queue.unlock(name)

    return texts


def clear(path: pathlib.Path) -> None:
    """Remove every queued message, as ssmsend does once it sent them."""
    queue = QueueSimple.QueueSimple(str(path))
    for name in sorted(queue.names()):
        assert queue.lock(name), f"element {name} of {path} is locked"
        queue.remove(name)
