"""Identity: sessions and scopes, selected projects and their VOs, users."""
