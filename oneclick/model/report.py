"""Collect located problems, and phrase the values and names they mention.

``ProblemReport`` turns (data path, message) pairs into ``Problem``s at the right line and
column of a ``Source``. Paths given to it may index the *pruned* model (the model validated
after items with structural problems were left out, see ``oneclick.model.validation``);
``IndexMap`` translates them back to the positions in the file.

The phrasing helpers keep messages alike everywhere: ``describe`` says what a value is,
``names`` lists names, ``suggest`` offers the closest match ("did you mean ...?").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from oneclick.errors import Problem
from oneclick.model.source import DataPath, PathPart, Position, Source

IndexMap = Mapping[DataPath, list[int]]
"""For each list (by its path in the file): the file index of every item that was kept."""


class ProblemReport:
    """Problems found in one source, in the order found; ``problems`` sorts them."""

    def __init__(
        self,
        source: Source,
        index_map: IndexMap | None = None,
        pruned: Mapping[DataPath, Any] | None = None,
    ) -> None:
        self.source = source
        self._index_map = index_map or {}
        self._pruned = pruned or {}
        self._problems: list[Problem] = []

    @property
    def problems(self) -> list[Problem]:
        return sorted(self._problems)

    def add(self, path: DataPath, message: str, *, at_key: bool = False) -> None:
        """Report ``message`` at ``path`` of the checked model (its key when ``at_key``)."""
        self._problems.append(self.source.problem(self.translate(path), message, at_key=at_key))

    def extend(self, problems: Iterable[Problem]) -> None:
        self._problems.extend(problems)

    def position(self, path: DataPath) -> Position:
        """Where the value at ``path`` of the checked model was written."""
        return self.source.marks.position(self.translate(path))

    def translate(self, path: DataPath) -> DataPath:
        """The path in the file of ``path`` in the checked (possibly pruned) model."""
        return file_path(path, self._index_map)

    def pruned_names(self, list_path: DataPath) -> set[str]:
        """Names of the items left out of the list at ``list_path`` (checked-model path)."""
        raw_list = self.translate(list_path)
        return {
            item["name"]
            for path, item in self._pruned.items()
            if path[:-1] == raw_list
            and isinstance(item, dict)
            and isinstance(item.get("name"), str)
        }


def file_path(path: DataPath, index_map: IndexMap) -> DataPath:
    """The path in the file of ``path``, a path in data pruned as ``index_map`` records."""
    raw: list[PathPart] = []
    for part in path:
        kept = index_map.get(tuple(raw)) if isinstance(part, int) else None
        if isinstance(part, int) and kept is not None and part < len(kept):
            part = kept[part]
        raw.append(part)
    return tuple(raw)


def describe(value: Any) -> str:
    """What a value from the file is, for messages: "the text 'abc'", "a list", ..."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text '{shown}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def names(items: Iterable[str], *, empty: str = "none") -> str:
    """A comma-separated list of names, or ``empty`` when there are none."""
    listed = list(items)
    return ", ".join(listed) if listed else empty


def suggest(word: str, options: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest option, or '' when none is close."""
    choices = list(dict.fromkeys(options))
    lowered = {option.lower(): option for option in choices}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f" (did you mean '{lowered[word.lower()]}'?)"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
