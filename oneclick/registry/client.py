"""A small client of the OCI distribution API: blobs and manifests, with auth and retries.

``RegistryClient(config)`` speaks HTTP (``config.insecure``) or HTTPS to one registry, over
kept-alive connections unless ``keepalive=False`` (one connection per request, for proxies
that cut long-lived connections):

- ``ping()`` checks the registry answers ``/v2/`` and accepts the credentials;
- ``has_blob``, ``mount_blob`` (cross-repository mount), ``upload_blob`` (monolithic
  ``POST`` + ``PUT`` up to ``chunk_size`` bytes, chunked ``PATCH``es beyond), ``get_blob``
  and ``download_blob`` (both verified against the digest);
- ``list_tags``, ``find_manifest`` (None when absent), ``get_manifest`` and
  ``put_manifest`` (the digest the registry reports must be the digest of the bytes sent,
  so an image is addressed by exactly what oneclick wrote).

Every operation is one unit of retry: a 5xx, 408, 425 or 429 answer, or a connection that
fails (refused, reset, timed out), restarts the operation after a growing pause (``Retry``:
5 attempts, 0.2 s doubling to at most 3 s); when the attempts are used up the operation
raises ``TransientError``. A 401 is answered once with the configured credentials (basic,
or a bearer token; see ``oneclick.registry.auth``); a second 401, or a 403, is a
``RegistryAuthError`` at once, naming the registry and the user, never the password.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import httpx

from oneclick.errors import TransientError
from oneclick.registry.auth import RETRYABLE_STATUS, Authenticator, RegistryUnavailable
from oneclick.registry.config import RegistryConfig
from oneclick.registry.errors import RegistryError

log = logging.getLogger(__name__)

T = TypeVar("T")
Body = Callable[[], bytes | Iterable[bytes]]
Opener = Callable[[], AbstractContextManager[IO[bytes]]]
DEFAULT_CHUNK_SIZE = 32 << 20
READ_SIZE = 1 << 20
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST)


@dataclass(frozen=True)
class Retry:
    """How often and how patiently an operation is tried before ``TransientError``."""

    attempts: int = 5
    first_delay: float = 0.2
    max_delay: float = 3.0

    def delays(self) -> Iterator[float]:
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay
            delay = min(delay * 2, self.max_delay)


@dataclass(frozen=True)
class Manifest:
    """A manifest as the registry holds it: its exact bytes, media type and digest."""

    data: bytes
    media_type: str
    digest: str


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_scope(repository: str) -> tuple[str, ...]:
    return (f"repository:{repository}:pull,push",)


def pull_scope(repository: str) -> tuple[str, ...]:
    return (f"repository:{repository}:pull",)


class RegistryClient:
    """One registry, one connection pool; close it (or use ``with``) when done."""

    def __init__(
        self,
        config: RegistryConfig,
        *,
        retry: Retry | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float = 120.0,
        keepalive: bool = True,
    ) -> None:
        self.config = config
        self.retry = retry or Retry()
        self.chunk_size = chunk_size
        self._auth = Authenticator(config.host, config.username, config.password)
        limits = httpx.Limits(max_keepalive_connections=None if keepalive else 0)
        self._http = httpx.Client(
            base_url=config.api_url,
            timeout=timeout,
            follow_redirects=True,
            trust_env=False,
            limits=limits,
        )

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def host(self) -> str:
        return self.config.host

    def ping(self) -> None:
        """Check the registry speaks the distribution API and takes our credentials."""

        def attempt() -> None:
            response = self._call("GET", "/v2/", (), "checking the API")
            if response.status_code != 200:
                raise RegistryError(
                    f"expected an OCI distribution registry at {self.config.api_url}/v2/, "
                    f"found an answer {response.status_code}; check the registry url"
                )

        self._retrying("checking the API", attempt)

    def has_blob(self, repository: str, digest: str) -> bool:
        what = f"looking for blob {digest[:19]} in {repository}"

        def attempt() -> bool:
            url = f"/v2/{repository}/blobs/{digest}"
            response = self._call("HEAD", url, pull_scope(repository), what)
            if response.status_code in (200, 404):
                return response.status_code == 200
            raise self._unexpected(response, what)

        return self._retrying(what, attempt)

    def mount_blob(self, repository: str, digest: str, source: str) -> bool:
        """Mount ``digest`` from repository ``source``; False if the registry will not."""
        what = f"mounting blob {digest[:19]} from {source} into {repository}"
        scope = (*push_scope(repository), *pull_scope(source))

        def attempt() -> bool:
            url = f"/v2/{repository}/blobs/uploads/"
            params = {"mount": digest, "from": source}
            response = self._call("POST", url, scope, what, params=params)
            if response.status_code == 201:
                return True
            if response.status_code == 202:
                self._cancel(response, scope)
                return False
            raise self._unexpected(response, what)

        return self._retrying(what, attempt)

    def upload_blob(self, repository: str, digest: str, size: int, opener: Opener) -> None:
        """Upload the ``size`` bytes ``opener()`` reads as blob ``digest`` (reopened on retry)."""
        what = f"uploading blob {digest[:19]} ({size} bytes) to {repository}"
        scope = push_scope(repository)

        def attempt() -> None:
            start = self._call("POST", f"/v2/{repository}/blobs/uploads/", scope, what)
            if start.status_code != 202:
                raise self._unexpected(start, what)
            location = self._location(start, what)
            with opener() as source:
                if size <= self.chunk_size:
                    done = self._put_blob(location, digest, size, source, scope, what)
                else:
                    done = self._patch_chunks(location, digest, size, source, scope, what)
            if done.status_code != 201:
                raise self._unexpected(done, what)
            reported = done.headers.get("docker-content-digest")
            if reported and reported != digest:
                raise RegistryError(
                    f"the registry at {self.host} stored blob {reported} while {what}; "
                    "the upload was damaged on the way"
                )

        self._retrying(what, attempt)

    def get_blob(self, repository: str, digest: str) -> bytes:
        """A small blob (a config), checked against its digest."""
        what = f"reading blob {digest[:19]} from {repository}"

        def attempt() -> bytes:
            url = f"/v2/{repository}/blobs/{digest}"
            response = self._call("GET", url, pull_scope(repository), what)
            if response.status_code != 200:
                raise self._unexpected(response, what)
            if sha256(response.content) != digest:
                raise RegistryUnavailable(f"{what}: the bytes do not hash to the digest")
            return response.content

        return self._retrying(what, attempt)

    def download_blob(self, repository: str, digest: str, target: IO[bytes]) -> int:
        """Stream blob ``digest`` into ``target`` (rewound on retry); returns its size."""
        what = f"downloading blob {digest[:19]} from {repository}"

        def attempt() -> int:
            target.seek(0)
            target.truncate()
            hashed = hashlib.sha256()
            if self._auth.can_answer(pull_scope(repository)):
                self._auth.fetch_token(pull_scope(repository), self._http)
            headers = self._headers(pull_scope(repository))
            try:
                with self._http.stream(
                    "GET", f"/v2/{repository}/blobs/{digest}", headers=headers
                ) as response:
                    if response.status_code != 200:
                        response.read()
                        self._check(response, pull_scope(repository), what)
                        raise self._unexpected(response, what)
                    for chunk in response.iter_bytes(READ_SIZE):
                        hashed.update(chunk)
                        target.write(chunk)
            except httpx.TransportError as exc:
                raise RegistryUnavailable(f"{what}: {exc}") from exc
            if "sha256:" + hashed.hexdigest() != digest:
                raise RegistryUnavailable(f"{what}: the bytes do not hash to the digest")
            return target.tell()

        return self._retrying(what, attempt)

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest (or index) ``reference`` (a tag or a digest) names."""
        what = f"reading manifest {repository}:{reference}"

        def attempt() -> Manifest:
            url = f"/v2/{repository}/manifests/{reference}"
            headers = {"Accept": ", ".join(MANIFEST_TYPES)}
            response = self._call("GET", url, pull_scope(repository), what, headers=headers)
            if response.status_code == 404:
                raise RegistryError(
                    f"expected image {self.host}/{repository}:{reference}, found none; "
                    "push it first (the runtime base: `oneclick runtime build --push`)",
                    not_found=True,
                )
            if response.status_code != 200:
                raise self._unexpected(response, what)
            digest = sha256(response.content)
            if reference.startswith("sha256:") and digest != reference:
                raise RegistryUnavailable(f"{what}: the bytes do not hash to the digest")
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            return Manifest(data=response.content, media_type=media_type, digest=digest)

        return self._retrying(what, attempt)

    def find_manifest(self, repository: str, reference: str) -> Manifest | None:
        """The manifest ``reference`` names, or None when the registry has none."""
        try:
            return self.get_manifest(repository, reference)
        except RegistryError as exc:
            if exc.not_found:
                return None
            raise

    def list_tags(self, repository: str) -> list[str]:
        """The tags of ``repository`` (none when the repository does not exist)."""
        what = f"listing the tags of {repository}"

        def attempt() -> list[str]:
            url = f"/v2/{repository}/tags/list"
            response = self._call("GET", url, pull_scope(repository), what)
            if response.status_code == 404:
                return []
            if response.status_code != 200:
                raise self._unexpected(response, what)
            return list(response.json().get("tags") or [])

        return self._retrying(what, attempt)

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        """Store manifest ``data`` under ``reference`` (a tag or its digest); its digest."""
        what = f"storing manifest {repository}:{reference}"
        digest = sha256(data)

        def attempt() -> str:
            url = f"/v2/{repository}/manifests/{reference}"
            headers = {"Content-Type": media_type}
            response = self._call(
                "PUT", url, push_scope(repository), what, headers=headers, body=lambda: data
            )
            if response.status_code != 201:
                raise self._unexpected(response, what)
            reported = response.headers.get("docker-content-digest")
            if reported and reported != digest:
                raise RegistryError(
                    f"the registry at {self.host} stored manifest {reported} while {what}, "
                    f"expected {digest}"
                )
            return digest

        return self._retrying(what, attempt)

    def _put_blob(
        self,
        location: str,
        digest: str,
        size: int,
        source: IO[bytes],
        scope: tuple[str, ...],
        what: str,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        return self._call(
            "PUT",
            location,
            scope,
            what,
            params={"digest": digest},
            headers=headers,
            body=lambda: _read_all(source),
        )

    def _patch_chunks(
        self,
        location: str,
        digest: str,
        size: int,
        source: IO[bytes],
        scope: tuple[str, ...],
        what: str,
    ) -> httpx.Response:
        offset = 0
        while offset < size:
            chunk = source.read(self.chunk_size)
            if not chunk:
                raise RegistryError(f"{what}: the blob ended after {offset} of {size} bytes")
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Length": str(len(chunk)),
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
            }
            response = self._call(
                "PATCH", location, scope, what, headers=headers, body=_constant(chunk)
            )
            if response.status_code != 202:
                raise self._unexpected(response, what)
            location = self._location(response, what)
            offset += len(chunk)
        return self._call("PUT", location, scope, what, params={"digest": digest})

    def _cancel(self, response: httpx.Response, scope: tuple[str, ...]) -> None:
        location = response.headers.get("location")
        if location:
            try:
                self._send("DELETE", location, scope, None, {}, None)
            except RegistryUnavailable:
                log.debug("could not cancel upload session %s", location)

    def _location(self, response: httpx.Response, what: str) -> str:
        location = response.headers.get("location")
        if not location:
            raise RegistryError(
                f"the registry at {self.host} answered {response.status_code} without a "
                f"Location header while {what}"
            )
        return str(location)

    def _call(
        self,
        method: str,
        url: str,
        scope: tuple[str, ...],
        what: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: Body | None = None,
    ) -> httpx.Response:
        """One request, answering one 401; raises on auth failures and retryable answers."""
        if self._auth.can_answer(scope):
            self._auth.fetch_token(scope, self._http)
        response = self._send(method, url, scope, params, headers or {}, body)
        if response.status_code == 401:
            self._auth.answer(response, scope, self._http)
            response = self._send(method, url, scope, params, headers or {}, body)
        self._check(response, scope, what)
        return response

    def _check(self, response: httpx.Response, scope: tuple[str, ...], what: str) -> None:
        if response.status_code == 401:
            raise self._auth.refused(what)
        if response.status_code == 403:
            raise self._auth.denied(what)
        if response.status_code in RETRYABLE_STATUS:
            raise RegistryUnavailable(f"{what}: the registry answered {response.status_code}")

    def _send(
        self,
        method: str,
        url: str,
        scope: tuple[str, ...],
        params: dict[str, str] | None,
        headers: dict[str, str],
        body: Body | None,
    ) -> httpx.Response:
        merged = {**headers, **self._headers(scope)}
        target = httpx.URL(url)
        if params:
            target = target.copy_merge_params(params)
        try:
            return self._http.request(
                method, target, headers=merged, content=body() if body else None
            )
        except httpx.TransportError as exc:
            raise RegistryUnavailable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc

    def _headers(self, scope: tuple[str, ...]) -> dict[str, str]:
        return self._auth.headers(scope)

    def _retrying(self, what: str, attempt: Callable[[], T]) -> T:
        delays = self.retry.delays()
        while True:
            try:
                return attempt()
            except RegistryUnavailable as exc:
                delay = next(delays, None)
                if delay is None:
                    raise TransientError(
                        f"the registry at {self.host} kept failing while {what} "
                        f"({self.retry.attempts} attempts; last: {exc}); it may be busy or "
                        "restarting: try again later"
                    ) from exc
                log.warning("registry %s: %s; retrying in %.1fs", self.host, exc, delay)
                time.sleep(delay)

    def _unexpected(self, response: httpx.Response, what: str) -> RegistryError:
        detail = _error_detail(response)
        return RegistryError(
            f"the registry at {self.host} answered {response.status_code} while {what}"
            f"{': ' + detail if detail else ''}"
        )


def _constant(data: bytes) -> Body:
    return lambda: data


def _read_all(source: IO[bytes]) -> Iterator[bytes]:
    source.seek(0)
    while chunk := source.read(READ_SIZE):
        yield chunk


def _error_detail(response: httpx.Response) -> str:
    try:
        document: Any = response.json()
        errors = document.get("errors") or []
        parts = [f"{e.get('code')}: {e.get('message')}" for e in errors]
    except (ValueError, AttributeError, httpx.ResponseNotRead):
        return ""
    return "; ".join(parts)
