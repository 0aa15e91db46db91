"""Semantic versions: their order (https://semver.org precedence) and npm-style ranges.

``semver_key("1.2.0")`` gives a sort key: numeric parts compare as numbers, a pre-release
(``1.2.0-rc.1``) sorts before its release, and build metadata (``+build.5``) is ignored for
ordering but kept as the last tie-breaker so that sorting is total.

``parse_range`` reads what an app model may write as a library version: an exact version
(``1.2.0``), a caret range or a tilde range, with npm's rules:

    ^1.2.3  >=1.2.3 <2.0.0      ~1.2.3  >=1.2.3 <1.3.0
    ^0.2.3  >=0.2.3 <0.3.0      ~1.2    >=1.2.0 <1.3.0
    ^0.0.3  >=0.0.3 <0.0.4      ~1      >=1.0.0 <2.0.0
    ^1.2    >=1.2.0 <2.0.0      ~0.2    >=0.2.0 <0.3.0
    ^0.0    >=0.0.0 <0.1.0      (x, X or * may stand for a missing part: ^1.x, ~1.2.*)

A pre-release (``1.3.0-rc.1``) is admitted only by a range whose lower bound is a
pre-release of the same MAJOR.MINOR.PATCH (``^1.3.0-rc.0``), as npm does: ``^1.2.0`` never
picks a release candidate. ``newest_match`` answers the newest published version a range
admits. The libraries in ``pyproject.toml``'s environment offer no caret or tilde ranges
(``semver`` compares single versions only), hence this small module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from oneclick.model.types import SEMVER

_SEMVER = re.compile(SEMVER)
_WILD = r"(?:0|[1-9]\d*|[xX*])"
_RANGE = re.compile(
    rf"^(?P<op>[\^~])(?P<major>0|[1-9]\d*)(?:\.(?P<minor>{_WILD})(?:\.(?P<patch>{_WILD})"
    r"(?P<pre>-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$"
)
_PARTIAL = re.compile(r"^(0|[1-9]\d*)(\.(0|[1-9]\d*))?$")
RANGE_HINT = (
    "write an exact version (1.2.0), a caret range (^1.2.0: any 1.x.y from 1.2.0 on) or a "
    "tilde range (~1.2: any 1.2.x)"
)

Identifier = tuple[int, int, str]
VersionKey = tuple[int, int, int, int, tuple[Identifier, ...], str]
Triple = tuple[int, int, int]


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


@dataclass(frozen=True)
class VersionRange:
    """The versions a library requirement admits: ``text`` as written, ``lower`` (inclusive)
    and ``upper`` (exclusive MAJOR.MINOR.PATCH, None: exact) when it is a range."""

    text: str
    lower: str
    upper: Triple | None

    @property
    def exact(self) -> bool:
        return self.upper is None

    def admits(self, version: str) -> bool:
        """Whether ``version`` (a semantic version) is in this range."""
        if self.upper is None:
            return version == self.lower
        key, lower = semver_key(version), semver_key(self.lower)
        if key[:5] < lower[:5] or key[:3] >= self.upper:
            return False
        return not _is_pre(key) or (_is_pre(lower) and key[:3] == lower[:3])

    def __str__(self) -> str:
        return self.text


def parse_range(text: str) -> VersionRange:
    """The range ``text`` names; ValueError saying what to write when it names none."""
    if is_semver(text):
        return VersionRange(text, text, None)
    found = _RANGE.match(text)
    if found is None and _PARTIAL.match(text):
        full = ".".join([*text.split("."), "0", "0"][:3])
        raise ValueError(
            f"'{text}' is not a full version: write {full} for exactly that version, or "
            f"~{text} (any {text}.x) or ^{text} for a range"
        )
    if found is None:
        raise ValueError(f"'{text}' is neither a semantic version nor a range: {RANGE_HINT}")
    op, pre = found["op"], found["pre"] or ""
    parts = [_number(found[name]) for name in ("major", "minor", "patch")]
    if pre and None in parts:
        raise ValueError(f"'{text}': a pre-release needs MAJOR.MINOR.PATCH before it")
    major, minor, patch = parts
    assert major is not None
    lower = f"{major}.{minor or 0}.{patch or 0}{pre}"
    upper = _caret(major, minor, patch) if op == "^" else _tilde(major, minor)
    return VersionRange(text, lower, upper)


def newest_match(text: str, versions: Iterable[str]) -> str | None:
    """The newest of ``versions`` that range ``text`` admits (None: none does)."""
    wanted = parse_range(text)
    admitted = [v for v in versions if is_semver(v) and wanted.admits(v)]
    return max(admitted, key=semver_key) if admitted else None


def _number(part: str | None) -> int | None:
    return None if part is None or part in "xX*" else int(part)


def _caret(major: int, minor: int | None, patch: int | None) -> Triple:
    """The first version a caret range excludes: the left-most non-zero part goes up."""
    if major > 0 or minor is None:
        return (major + 1, 0, 0)
    if minor > 0 or patch is None:
        return (0, minor + 1, 0)
    return (0, 0, patch + 1)


def _tilde(major: int, minor: int | None) -> Triple:
    return (major + 1, 0, 0) if minor is None else (major, minor + 1, 0)


def _is_pre(key: VersionKey) -> bool:
    return key[3] == 0
