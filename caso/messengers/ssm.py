"""The ``ssm`` messenger: APEL messages into the SSM outgoing queue.

Each message is added to the ``dirq`` directory queue at ``[ssm]
output_path``, which ``ssmsend`` reads and sends to the APEL repository.
``dirq`` writes every message under a temporary name and links it into
place, so ``ssmsend`` never sees half a message.
"""

from __future__ import annotations

import collections
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import dirq.Exceptions
import dirq.QueueSimple
from oslo_config import cfg

from caso import exceptions, messengers
from caso.records import apel

LOG = logging.getLogger(__name__)

GROUP = "ssm"

OPTS = [
    cfg.StrOpt(
        "output_path",
        default="/var/spool/apel/outgoing/openstack",
        help="Directory queue (dirq) that ssmsend reads its outgoing "
        "messages from. Created when missing.",
    ),
    cfg.IntOpt(
        "max_size",
        default=100,
        min=1,
        help="Most records in one message. Messages also stay under "
        "1 MB, the limit of the EGI message service.",
    ),
]

#: How records of each type become messages: (records, max records per
#: message) to messages. A type without an entry cannot be sent yet.
Builder = Callable[[Sequence[Any], int], list[str]]
BUILDERS: dict[str, Builder] = {
    "cloud": apel.cloud_messages,
}


class SSMMessenger(messengers.Messenger):
    """Writes APEL messages into the SSM outgoing queue."""

    record_types = frozenset({"cloud", "ip", "accelerator", "storage"})
    default_record_types = frozenset({"cloud", "ip", "accelerator", "storage"})

    @property
    def output_path(self) -> str:
        """The queue directory, from ``[ssm] output_path``."""
        path: str = self.conf[GROUP].output_path

        return path

    def push(self, records: Sequence[Any]) -> int:
        """Add the records to the queue, as few messages as allowed.

        Every message is built before the first one is written, so a
        record that cannot be sent leaves the queue untouched.

        Args:
            records: records of the types this messenger carries.

        Returns:
            How many messages were added; 0 for no records.

        Raises:
            MessengerError: a record cannot be sent, or the queue cannot be
                created or written.
        """
        messages = self._messages(records)
        if not messages:
            LOG.debug("Messenger %s: no records, no message", self.name)
            return 0

        queue = self._queue()
        for done, message in enumerate(messages):
            try:
                queue.add(message)
            except (OSError, dirq.Exceptions.QueueError) as exc:
                raise exceptions.MessengerError(
                    f"messenger {self.name}: cannot add a message to the "
                    f"queue {self.output_path} after {done} of "
                    f"{len(messages)}: {exc}"
                ) from exc

        LOG.info(
            "Messenger %s: %d records in %d messages added to %s",
            self.name,
            len(records),
            len(messages),
            self.output_path,
        )

        return len(messages)

    def _messages(self, records: Sequence[Any]) -> list[str]:
        by_type: dict[str, list[Any]] = collections.defaultdict(list)
        for record in records:
            by_type[record.record_type].append(record)

        max_size: int = self.conf[GROUP].max_size
        messages = []
        for record_type, typed in by_type.items():
            builder = BUILDERS.get(record_type)
            if record_type not in self.record_types or builder is None:
                raise exceptions.MessengerError(
                    f"messenger {self.name} cannot send {record_type} "
                    "records; remove the type from its record_types"
                )
            try:
                messages.extend(builder(typed, max_size))
            except exceptions.RecordError as exc:
                raise exceptions.MessengerError(
                    f"messenger {self.name}: nothing sent: {exc}"
                ) from exc

        return messages

    def _queue(self) -> Any:
        path = self.output_path
        try:
            os.makedirs(path, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise exceptions.MessengerError(
                f"messenger {self.name}: output path {path} is not a "
                "directory; set [ssm] output_path to a directory ssmsend "
                f"reads ({exc})"
            ) from exc
        except OSError as exc:
            raise exceptions.MessengerError(
                f"messenger {self.name}: cannot create the output path "
                f"{path}: {exc.strerror}; create it, writable for the "
                "user running caso, or change [ssm] output_path"
            ) from exc

        # dirq retries forever on a directory it cannot write in, so look
        # first: the top directory and the newest one dirq may add to.
        _check_writable(self.name, path)
        try:
            subdirectories = sorted(
                entry.path for entry in os.scandir(path) if entry.is_dir()
            )
            if subdirectories:
                _check_writable(self.name, subdirectories[-1])

            return dirq.QueueSimple.QueueSimple(path)
        except (OSError, dirq.Exceptions.QueueError) as exc:
            raise exceptions.MessengerError(
                f"messenger {self.name}: cannot open the queue {path}: {exc}"
            ) from exc


def _check_writable(name: str, path: str) -> None:
    if not os.access(path, os.W_OK | os.X_OK):
        raise exceptions.MessengerError(
            f"messenger {name}: cannot write in {path}: permission "
            "denied; make it writable for the user running caso, or "
            "change [ssm] output_path"
        )
