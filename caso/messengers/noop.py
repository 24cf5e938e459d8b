"""The ``noop`` messenger: takes every record and sends nothing.

Useful to run the extractors alone, and the default when no messenger
is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from caso import messengers, records

LOG = logging.getLogger(__name__)


class NoopMessenger(messengers.Messenger):
    """Accepts records of every type and drops them."""

    record_types = frozenset(records.RECORD_TYPES)
    default_record_types = frozenset(records.RECORD_TYPES)

    def push(self, records: Sequence[Any]) -> int:
        """Drop the records.

        Args:
            records: records of any type.

        Returns:
            0: no message is ever written.
        """
        LOG.debug("Messenger %s dropped %d records", self.name, len(records))

        return 0
