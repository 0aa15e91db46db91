"""Read a YAML model file into plain data plus where every key and value came from.

``load_source(path, file)`` parses YAML 1.2 (``oneclick.model.yaml12``), composing nodes
instead of constructing objects so that every key and value keeps its position. The result is a
``Source``: the data (dicts, lists, str, int, float, bool, None; dates stay the text they were
written as), a ``SourceMap`` from data paths such as ``("entities", 0, "attributes", 2,
"type")`` to 1-based (line, column), and the problems found on the way (duplicate keys,
unsupported tags), which the caller reports together with later ones.

A file that cannot be read or parsed, is empty, or whose top level is not a mapping raises
``ModelError`` at once: nothing further can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from oneclick.errors import ModelError, Problem
from oneclick.model.yaml12 import PLAIN_TAGS, Loader, plain_value

PathPart = str | int
DataPath = tuple[PathPart, ...]

_TAG = "tag:yaml.org,2002:"
_TEXT_TAGS = {f"{_TAG}str", f"{_TAG}timestamp", "!"}


class Position(NamedTuple):
    """A 1-based line and column in a model file."""

    line: int
    column: int


@dataclass
class SourceMap:
    """Where each key and each value of the data was written."""

    values: dict[DataPath, Position] = field(default_factory=dict)
    keys: dict[DataPath, Position] = field(default_factory=dict)

    def position(self, path: DataPath, *, at_key: bool = False) -> Position:
        """The position of ``path`` (its key when ``at_key``), else of its nearest ancestor."""
        if at_key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return Position(1, 1)


@dataclass
class Source:
    """A parsed model file: its data, the positions, and the problems found while reading."""

    file: str
    data: dict[str, Any]
    marks: SourceMap
    problems: list[Problem]

    def problem(self, path: DataPath, message: str, *, at_key: bool = False) -> Problem:
        """A problem located at ``path`` in this file."""
        line, column = self.marks.position(path, at_key=at_key)
        return Problem(self.file, line, column, message)


def load_source(path: Path, file: str) -> Source:
    """Parse the YAML model at ``path``; ``file`` is the name used in problems."""
    text = _read_text(path, file)
    try:
        root = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        raise ModelError([_syntax_problem(exc, file)]) from exc
    except ReaderError as exc:
        line, column = _position_of_index(text, exc.position)
        message = f"the file holds a character YAML does not allow ({exc.reason}); remove it"
        raise ModelError([Problem(file, line, column, message)]) from exc
    if root is None:
        message = "the file is empty; expected a mapping such as 'app: NAME' with entities: ..."
        raise ModelError([Problem(file, 1, 1, message)])
    if not isinstance(root, MappingNode):
        line, column = _start(root)
        found = "a list" if isinstance(root, SequenceNode) else f"the value {root.value!r}"
        message = f"expected a mapping (key: value lines) at the top level, found {found}"
        raise ModelError([Problem(file, line, column, message)])
    reader = _NodeReader(file)
    data = reader.read(root, ())
    assert isinstance(data, dict)
    return Source(file=file, data=data, marks=reader.marks, problems=reader.problems)


def _read_text(path: Path, file: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        message = "no such file; expected a model file at this path"
        raise ModelError([Problem(file, 1, 1, message)]) from exc
    except OSError as exc:
        message = f"cannot read the file ({exc.strerror}); check that it is a readable file"
        raise ModelError([Problem(file, 1, 1, message)]) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position_of_index(raw[: exc.start].decode("utf-8", "replace"), None)
        message = f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        raise ModelError([Problem(file, line, column, message)]) from exc


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    what = exc.problem or "the text is not valid YAML"
    message = f"YAML syntax error: {what}"
    if exc.context:
        context_mark = exc.context_mark
        where = f" at line {context_mark.line + 1}" if context_mark is not None else ""
        message += f" ({exc.context}{where})"
    if "'\\t'" in what:
        message += "; indent with spaces, not tabs"
    elif "expected a single document" in (exc.context or ""):
        message += "; keep one document per file (remove the '---' separator)"
    return Problem(file, line, column, message)


def _position_of_index(text: str, index: int | None) -> Position:
    before = text if index is None else text[:index]
    line = before.count("\n") + 1
    return Position(line, len(before) - (before.rfind("\n") + 1) + 1)


def _start(node: Node) -> Position:
    mark = node.start_mark
    return Position(mark.line + 1, mark.column + 1) if mark is not None else Position(1, 1)


class _NodeReader:
    """Turns composed nodes into plain data, recording positions and problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.marks = SourceMap()
        self.problems: list[Problem] = []
        self._open: set[int] = set()

    def read(self, node: Node, path: DataPath) -> Any:
        self.marks.values[path] = _start(node)
        if id(node) in self._open:
            self._report(node, "an alias refers to a value that contains it; write it out")
            return None
        self._open.add(id(node))
        if node.tag.startswith("!") and node.tag != "!":
            self._report(node, f"the tag {node.tag} is not supported; remove it")
        try:
            if isinstance(node, MappingNode):
                return self._read_mapping(node, path)
            if isinstance(node, SequenceNode):
                return [self.read(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, ScalarNode)
            return self._read_scalar(node)
        finally:
            self._open.discard(id(node))

    def _read_mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._read_key(key_node)
            if key is None:
                continue
            if key in result:
                first = self.marks.keys[(*path, key)]
                self._report(
                    key_node,
                    f"duplicate key '{key}' (first at line {first.line}, column "
                    f"{first.column}); each key may appear once in a mapping: remove one",
                )
                continue
            self.marks.keys[(*path, key)] = _start(key_node)
            result[key] = self.read(value_node, (*path, key))
        return result

    def _read_key(self, node: Node) -> str | None:
        if node.tag == f"{_TAG}merge":
            self._report(node, "merge keys ('<<') are not supported; write the keys out")
            return None
        if not isinstance(node, ScalarNode):
            self._report(node, "a key must be a plain name, found a list or mapping")
            return None
        return str(node.value)

    def _read_scalar(self, node: ScalarNode) -> Any:
        if node.tag in _TEXT_TAGS:
            return str(node.value)
        if node.tag in PLAIN_TAGS:
            return plain_value(node.tag, str(node.value))
        if not node.tag.startswith("!"):
            self._report(node, f"the tag {node.tag} is not supported; write a plain value")
        return str(node.value)

    def _report(self, node: Node, message: str) -> None:
        line, column = _start(node)
        self.problems.append(Problem(self.file, line, column, message))
