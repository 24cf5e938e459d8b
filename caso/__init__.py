"""caso: accounting records for OpenStack clouds, for APEL and its peers."""

__version__ = "0.1.0"
