"""Version ranges as npm defines caret and tilde, and the newest published match."""

from __future__ import annotations

import pytest

from oneclick.model.semver import newest_match, parse_range

ADMITS = [
    ("1.2.0", "1.2.0", True),
    ("1.2.0", "1.2.1", False),
    ("^1.2.3", "1.2.3", True),
    ("^1.2.3", "1.9.0", True),
    ("^1.2.3", "1.2.2", False),
    ("^1.2.3", "2.0.0", False),
    ("^1.2", "1.2.0", True),
    ("^1.x", "1.0.0", True),
    ("^0.2.3", "0.2.9", True),
    ("^0.2.3", "0.3.0", False),
    ("^0.0.3", "0.0.3", True),
    ("^0.0.3", "0.0.4", False),
    ("^0.0", "0.0.9", True),
    ("^0.0", "0.1.0", False),
    ("^0", "0.9.9", True),
    ("^0", "1.0.0", False),
    ("~1.2.3", "1.2.9", True),
    ("~1.2.3", "1.3.0", False),
    ("~1.2", "1.2.0", True),
    ("~1.2.*", "1.2.5", True),
    ("~1", "1.9.0", True),
    ("~1", "2.0.0", False),
    ("~0.2", "0.2.5", True),
    ("~0.2", "0.3.0", False),
    # a pre-release only when the range's lower bound is one of the same MAJOR.MINOR.PATCH
    ("^1.2.0", "1.3.0-rc.1", False),
    ("^1.2.0", "2.0.0-rc.1", False),
    ("^1.3.0-rc.0", "1.3.0-rc.1", True),
    ("^1.3.0-rc.1", "1.3.0-rc.0", False),
    ("^1.3.0-rc.0", "1.4.0-rc.0", False),
    ("^1.3.0-rc.0", "1.4.0", True),
]


@pytest.mark.parametrize(("written", "version", "admitted"), ADMITS)
def test_a_range_admits_what_npm_admits(written: str, version: str, admitted: bool) -> None:
    assert parse_range(written).admits(version) is admitted


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        (">=1.2.0", "neither a semantic version nor a range: write an exact version (1.2.0)"),
        ("^1.2.0.1", "neither a semantic version nor a range"),
        ("^01.2", "neither a semantic version nor a range"),
        ("1.2", "is not a full version: write 1.2.0 for exactly that version, or ~1.2"),
        ("^1.x.3-rc.1", "a pre-release needs MAJOR.MINOR.PATCH before it"),
    ],
)
def test_a_bad_range_says_what_to_write(written: str, hint: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_range(written)
    assert hint in str(caught.value)


def test_the_newest_match_is_picked_by_semantic_order() -> None:
    published = ["1.2.0", "1.10.0", "1.9.0", "2.0.0", "1.11.0-rc.1"]
    assert newest_match("^1.2.0", published) == "1.10.0"
    assert newest_match("~1.9", published) == "1.9.0"
    assert newest_match("1.2.0", published) == "1.2.0"
    assert newest_match("^3.0.0", published) is None
