"""The errors caso raises, one tree with a base the command layer catches.

::

    CasoError
     +-- ConfigError        bad configuration or command line: exit 2,
     |                      nothing done
     +-- LockError          another run holds the lock
     +-- StateError         a watermark file cannot be read or written
     +-- OpenStackError     an API call failed (service, region, request id)
     |    +-- AuthError        Keystone refused the credentials or scope
     |    +-- AccessDenied     403 from a service
     |    +-- NotFound         404 from a service
     +-- RecordError        a record that cannot be made valid for APEL
     +-- MessengerError     a messenger could not deliver

Foreign exceptions (keystoneauth, HTTP, OS errors) are translated where
they enter our code, with ``raise ... from exc`` so the cause is kept.
"""

from __future__ import annotations


class CasoError(Exception):
    """Base of every error caso raises on purpose."""


class ConfigError(CasoError):
    """The configuration or the command line is wrong; nothing was done."""


class LockError(CasoError):
    """Another caso run holds the lock."""


class StateError(CasoError):
    """A watermark file is unreadable or cannot be written."""


class OpenStackError(CasoError):
    """An OpenStack API call failed.

    Args:
        message: what was asked and what went wrong.
        service_type: catalog type of the service, e.g. ``compute``.
        request_id: the ``x-openstack-request-id`` of the reply, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        service_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.service_type = service_type
        self.request_id = request_id
        if request_id:
            message = f"{message} (request id {request_id})"
        super().__init__(message)


class AuthError(OpenStackError):
    """Keystone refused the credentials or the requested scope."""


class AccessDenied(OpenStackError):
    """The service answered 403: the credentials lack a role."""


class NotFound(OpenStackError):
    """The service answered 404."""


class RecordError(CasoError):
    """A record cannot be made valid for its receiver."""


class MessengerError(CasoError):
    """A messenger could not deliver its messages."""
