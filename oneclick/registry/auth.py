"""Answering a registry's ``401``: HTTP basic auth, or a bearer token from its token service.

A registry says how it wants to be authenticated in ``WWW-Authenticate``:
``Basic realm="..."`` (the distribution registry's htpasswd mode) or
``Bearer realm="https://auth/token",service="registry",scope="repository:app:pull,push"``
(token auth: the client fetches a token from ``realm`` with its credentials and sends it as
``Authorization: Bearer <token>``). ``Authenticator`` remembers what the registry asked for
and the tokens it got per scope, so later requests carry the right header from the start.

A registry that asks for credentials when none are configured, or a token service that
refuses them, is a ``RegistryAuthError`` at once (retrying cannot help). A token service that
fails with 5xx or a broken connection raises ``RegistryUnavailable``, which the client retries.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from oneclick.registry.errors import RegistryAuthError, RegistryError

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


class RegistryUnavailable(Exception):
    """A fault that may pass: the client retries the operation, then gives up."""


@dataclass(frozen=True)
class Challenge:
    """What a ``WWW-Authenticate`` header asks for: a scheme and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str | None) -> Challenge | None:
    """The first challenge of a ``WWW-Authenticate`` header (None when absent)."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in PARAM.finditer(rest)}
    return Challenge(scheme=scheme.lower(), params=params)


def basic_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class Authenticator:
    """The ``Authorization`` header to send, learnt from the registry's challenges."""

    def __init__(self, host: str, username: str | None, password: SecretStr | None) -> None:
        self._host = host
        self._username = username
        self._password = password
        self._scheme: str | None = None
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], str] = {}

    @property
    def username(self) -> str | None:
        return self._username

    def headers(self, scope: tuple[str, ...]) -> dict[str, str]:
        """The header for a request needing ``scope``, if the registry asked for one."""
        if self._scheme == "basic" and self._username is not None:
            return {"Authorization": self._basic()}
        token = self._tokens.get(scope)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def can_answer(self, scope: tuple[str, ...]) -> bool:
        """Whether a bearer token for ``scope`` can be fetched without a new 401 first."""
        return self._scheme == "bearer" and scope not in self._tokens

    def answer(self, response: httpx.Response, scope: tuple[str, ...], http: httpx.Client) -> None:
        """Prepare credentials for ``scope`` after the 401 ``response``, or raise."""
        challenge = parse_challenge(response.headers.get("www-authenticate"))
        if challenge is None or challenge.scheme not in ("basic", "bearer"):
            raise RegistryAuthError(
                f"the registry at {self._host} answered 401 with no challenge oneclick "
                f"understands ({response.headers.get('www-authenticate')!r}); expected Basic "
                "or Bearer authentication"
            )
        self._scheme, self._challenge = challenge.scheme, challenge
        if challenge.scheme == "basic":
            self._require_credentials("basic")
            return
        self.fetch_token(scope, http)

    def fetch_token(self, scope: tuple[str, ...], http: httpx.Client) -> None:
        """Get a bearer token for ``scope`` from the token service the registry named."""
        assert self._challenge is not None, "a token is fetched after a Bearer challenge"
        realm = self._challenge.params.get("realm")
        if not realm:
            raise RegistryAuthError(
                f"the registry at {self._host} asked for a bearer token but named no realm"
            )
        params = httpx.QueryParams(
            [("service", self._challenge.params["service"])]
            if "service" in self._challenge.params
            else []
        )
        for item in scope:
            params = params.add("scope", item)
        headers = {"Authorization": self._basic()} if self._username is not None else {}
        try:
            reply = http.get(realm, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise RegistryUnavailable(f"token service {realm}: {exc}") from exc
        if reply.status_code in RETRYABLE_STATUS:
            raise RegistryUnavailable(f"token service {realm} answered {reply.status_code}")
        if reply.status_code in (401, 403):
            raise self.refused(f"fetching a token from {realm}")
        try:
            document = reply.json()
            token = str(document.get("token") or document.get("access_token") or "")
        except ValueError:
            token = ""
        if reply.status_code != 200 or not token:
            raise RegistryError(
                f"the token service {realm} of the registry at {self._host} answered "
                f"{reply.status_code} without a token; expected 200 with a JSON token"
            )
        self._tokens[scope] = token

    def refused(self, what: str) -> RegistryAuthError:
        """The error for credentials the registry (or its token service) did not accept."""
        if self._username is None:
            return RegistryAuthError(
                f"the registry at {self._host} asks for credentials ({what}) but none are "
                "configured; set username and password in the registry block"
            )
        return RegistryAuthError(
            f"the registry at {self._host} refused the credentials of user "
            f"{self._username!r} ({what}); check the username and password in the "
            "registry block"
        )

    def denied(self, what: str) -> RegistryAuthError:
        """The error for a 403: known credentials that lack a permission."""
        who = f"user {self._username!r}" if self._username else "anonymous access"
        return RegistryAuthError(
            f"the registry at {self._host} denied {who} ({what}); grant it push and pull "
            "on the repository, or check the credentials in the registry block"
        )

    def _require_credentials(self, scheme: str) -> None:
        if self._username is None or self._password is None:
            raise RegistryAuthError(
                f"the registry at {self._host} asks for {scheme} credentials but none are "
                "configured; set username and password in the registry block"
            )

    def _basic(self) -> str:
        password = self._password.get_secret_value() if self._password else ""
        return basic_header(self._username or "", password)
