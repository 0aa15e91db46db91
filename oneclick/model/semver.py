"""Order semantic versions (https://semver.org precedence).

``semver_key("1.2.0")`` gives a sort key: numeric parts compare as numbers, a pre-release
(``1.2.0-rc.1``) sorts before its release, and build metadata (``+build.5``) is ignored for
ordering but kept as the last tie-breaker so that sorting is total.
"""

from __future__ import annotations

import re

from oneclick.model.types import SEMVER

_SEMVER = re.compile(SEMVER)

Identifier = tuple[int, int, str]
VersionKey = tuple[int, int, int, int, tuple[Identifier, ...], str]


def is_semver(version: str) -> bool:
    """Whether ``version`` is a semantic version such as 1.2.0 or 1.2.0-rc.1."""
    return _SEMVER.match(version) is not None


def semver_key(version: str) -> VersionKey:
    """A sort key for a semantic version; ValueError if ``version`` is not one."""
    if not is_semver(version):
        raise ValueError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    core, _, build = version.partition("+")
    release, _, pre = core.partition("-")
    major, minor, patch = (int(part) for part in release.split("."))
    identifiers = tuple(_identifier(part) for part in pre.split(".")) if pre else ()
    return major, minor, patch, 0 if pre else 1, identifiers, build


def _identifier(part: str) -> Identifier:
    return (0, int(part), "") if part.isdigit() else (1, 0, part)
