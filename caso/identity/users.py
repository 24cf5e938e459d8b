"""Keystone user names, read once per user per run."""

from __future__ import annotations

import logging
import threading

from caso import exceptions
from caso.identity import cloud as cloud_mod

LOG = logging.getLogger(__name__)


class UserNames:
    """A per-run cache of user id to name.

    When Keystone refuses to show users (403), that is logged once and
    no more user reads are made: records then carry no GlobalUserName.
    """

    def __init__(self, cloud: cloud_mod.Cloud) -> None:
        self._cloud = cloud
        self._names: dict[str, str | None] = {}
        self._denied = False
        self._lock = threading.Lock()

    def get(self, user_id: str | None) -> str | None:
        """The name of a user, or None when it cannot be read."""
        if not user_id:
            return None
        with self._lock:
            if user_id not in self._names and not self._denied:
                self._names[user_id] = self._read(user_id)

            return self._names.get(user_id)

    def _read(self, user_id: str) -> str | None:
        keystone = self._cloud.identity()
        refusal = None
        try:
            user = cloud_mod.get_json(keystone, f"/users/{user_id}")
        except exceptions.AccessDenied as exc:
            refusal = exc
        except exceptions.NotFound:
            LOG.debug("User %s no longer exists; no name for it", user_id)
            return None
        if refusal is not None:
            # Logged outside the handler: oslo.log would repeat the error.
            self._denied = True
            LOG.error(
                "Cannot read user names (%s); records go out without "
                "GlobalUserName. Give the caso user the reader role on "
                "system scope 'all' (or on the users' domains) to add them",
                refusal,
            )
            return None
        name: str | None = user["user"].get("name")

        return name
