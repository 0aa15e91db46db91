"""Image references of a registry: ``host[:port]/repository[:tag][@sha256:<hex>]``.

``parse_image_reference`` splits a reference the way container tools do: the first path
component is a registry host when it holds a ``.`` or a ``:`` or is ``localhost``; otherwise
the reference is relative and ``default_host`` (when given) is used. A reference without a
host and without a ``default_host`` is refused: oneclick never guesses a public registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oneclick.registry.errors import RegistryError

COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY_PATH = rf"^{COMPONENT}(?:/{COMPONENT})*$"
TAG = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"
DIGEST = r"^sha256:[a-f0-9]{64}$"


@dataclass(frozen=True)
class ImageReference:
    """One image in a registry, by tag, by digest, or both."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        text = f"{self.host}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def target(self) -> str:
        """What to ask the registry for: the digest when known, else the tag."""
        return self.digest or self.tag or "latest"

    def pinned(self, digest: str) -> str:
        """``host/repository@digest``: the reference a release records."""
        return f"{self.host}/{self.repository}@{digest}"


def is_host(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost"


def parse_image_reference(text: str, default_host: str | None = None) -> ImageReference:
    """Split ``text`` into host, repository, tag and digest; see the module docstring."""
    rest, _, digest = text.partition("@")
    if digest and not re.match(DIGEST, digest):
        raise RegistryError(
            f"expected a digest like sha256:<64 hex digits> in image reference {text!r}, "
            f"found {digest!r}"
        )
    first, slash, remainder = rest.partition("/")
    if slash and is_host(first):
        host, path = first, remainder
    elif default_host:
        host, path = default_host, rest
    else:
        raise RegistryError(
            f"image reference {text!r} names no registry host; expected host[:port]/repository"
            "[:tag][@digest], for example 127.0.0.1:5000/oneclick-runtime:python3.11"
        )
    repository, colon, tag = path.rpartition(":") if ":" in path else (path, "", "")
    if not colon:
        repository, tag = path, ""
    if not re.match(REPOSITORY_PATH, repository):
        raise RegistryError(
            f"image reference {text!r}: {repository!r} is not a repository name (lower-case "
            "letters, digits and separators, components joined by '/')"
        )
    if tag and not re.match(TAG, tag):
        raise RegistryError(f"image reference {text!r}: {tag!r} is not a valid tag")
    return ImageReference(host=host, repository=repository, tag=tag or None, digest=digest or None)
