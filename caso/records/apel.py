"""APEL messages: records packed for the SSM outgoing queue.

A message is a header line and records separated by ``%%`` lines. The
APEL loader rejects a whole message for one bad record, so every record
is checked before it is packed, and a message never holds more than
``[ssm] max_size`` records or reaches the 1 MB limit of the EGI message
service.
"""

from __future__ import annotations

from collections.abc import Iterable

from caso import exceptions
from caso.records import cloud

CLOUD_HEADER = "APEL-cloud-message: v0.4"

#: The line between two records of a message.
SEPARATOR = "%%"

#: Messages must stay strictly below this size, in bytes.
MAX_MESSAGE_BYTES = 1_000_000

_HEADER_BYTES = len(CLOUD_HEADER) + 1
_SEPARATOR_BYTES = len(SEPARATOR) + 1


def cloud_messages(
    records: Iterable[cloud.CloudRecord],
    max_records: int,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> list[str]:
    """Pack cloud records into as few APEL messages as the limits allow.

    Records are sorted by VM and measurement instant, so the same records
    always give the same bytes, and of two records for one VM and month
    the later measurement is loaded last.

    Args:
        records: the records to send.
        max_records: most records in one message.
        max_bytes: every message is strictly smaller than this, encoded.

    Returns:
        The messages, each ending with a newline; none for no records.

    Raises:
        RecordError: a record cannot be made valid, or alone makes a
            message of ``max_bytes`` or more.
        ValueError: ``max_records`` is below 1.
    """
    if max_records < 1:
        raise ValueError(f"max_records must be at least 1, not {max_records}")

    # Each record is checked once, where apel_lines renders it.
    ordered = sorted(
        records, key=lambda record: (record.vm_uuid, record.measured_at)
    )
    blocks = [(record, _block(record)) for record in ordered]

    messages = []
    batch: list[str] = []
    size = 0
    for record, block in blocks:
        # A record adds its lines and a newline; after the first one of a
        # message, also a separator line.
        added = len(block.encode()) + 1
        if batch and (
            len(batch) >= max_records
            or size + _SEPARATOR_BYTES + added >= max_bytes
        ):
            messages.append(_message(batch))
            batch = []
        if batch:
            size += _SEPARATOR_BYTES + added
        else:
            size = _HEADER_BYTES + added
            if size >= max_bytes:
                raise exceptions.RecordError(
                    f"cloud record of VM {record.vm_uuid} alone makes a "
                    f"message of {size} bytes, not below the limit of "
                    f"{max_bytes}"
                )
        batch.append(block)
    if batch:
        messages.append(_message(batch))

    return messages


def _block(record: cloud.CloudRecord) -> str:
    return "\n".join(record.apel_lines())


def _message(blocks: list[str]) -> str:
    separator = f"\n{SEPARATOR}\n"

    return f"{CLOUD_HEADER}\n{separator.join(blocks)}\n"
