"""Errors of the registry protocol, under ``BuildError`` (pushing is part of building).

    BuildError
    └── RegistryError       the registry answered something unexpected (a bad manifest, a 404)
        └── RegistryAuthError   the registry refused the credentials, or has none to check

Faults that may pass (5xx, 429, a reset or refused connection) are ``TransientError`` from
``oneclick.errors`` instead, raised once the client's bounded retries are used up.
"""

from __future__ import annotations

from oneclick.errors import BuildError


class RegistryError(BuildError):
    """The registry answered something the OCI distribution API does not allow here.
    ``not_found``: what was asked for does not exist there (a 404)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


class RegistryAuthError(RegistryError):
    """The registry refused the credentials (401/403), or asked for credentials we lack."""
