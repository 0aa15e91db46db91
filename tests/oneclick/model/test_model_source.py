"""Reading YAML into plain data with the position of every key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from oneclick.errors import ModelError
from oneclick.model.source import Position, load_source

TEXT = """\
app: demo
entities:
  - name: Item
    attributes:
      - {name: Title, type: text, length: 20}
      - name: Due
        type: date
        default: 2024-01-31
settings:
  - {name: Limit, type: decimal, default: 12.5}
  - {name: Code, type: text, default: "007"}
  - {name: On, type: boolean, default: true}
  - {name: Off, type: text, default: ~}
"""


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "model.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_values_are_plain_data(tmp_path: Path) -> None:
    source = load_source(write(tmp_path, TEXT), "model.yaml")
    attributes = source.data["entities"][0]["attributes"]
    assert attributes[0] == {"name": "Title", "type": "text", "length": 20}
    assert attributes[1]["default"] == "2024-01-31"  # a date stays the text it was written as
    assert [s["default"] for s in source.data["settings"]] == [12.5, "007", True, None]


def test_models_are_yaml_1_2_where_no_and_yes_are_text(tmp_path: Path) -> None:
    text = "app: a\nlabels: [No, yes, on, Off, y, true, FALSE, 0777, 0o17, 0x1f, 1:20, ~, .inf]\n"
    source = load_source(write(tmp_path, text), "model.yaml")
    assert source.data["labels"] == [
        "No", "yes", "on", "Off", "y", True, False, 777, 15, 31, "1:20", None, float("inf")
    ]  # fmt: skip
    assert source.problems == []


def test_keys_and_values_keep_their_positions(tmp_path: Path) -> None:
    marks = load_source(write(tmp_path, TEXT), "model.yaml").marks
    type_path = ("entities", 0, "attributes", 0, "type")
    assert marks.position(type_path, at_key=True) == Position(5, 23)
    assert marks.position(type_path) == Position(5, 29)
    assert marks.position(("entities", 0, "attributes", 1)) == Position(6, 9)
    assert marks.position(("entities", 0, "attributes", 1, "default")) == Position(8, 18)
    assert marks.position(("settings",), at_key=True) == Position(9, 1)
    # a path that is not in the data falls back to its nearest ancestor
    assert marks.position(("entities", 0, "attributes", 1, "length")) == Position(6, 9)
    assert marks.position(()) == Position(1, 1)


def test_aliases_are_copied(tmp_path: Path) -> None:
    text = "app: demo\nx: &a {type: text}\ny: *a\n"
    data = load_source(write(tmp_path, text), "m").data
    assert data["y"] == {"type": "text"}
    assert data["y"] is not data["x"]


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    text = "app: demo\ntitle: a\ntitle: b\nentities:\n  - {name: A, name: B}\n"
    source = load_source(write(tmp_path, text), "m.yaml")
    assert source.data["title"] == "a"
    assert [(p.line, p.column) for p in source.problems] == [(3, 1), (5, 15)]
    assert source.problems[1].message.startswith("duplicate key 'name' (first at line 5, column 6)")


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    source = load_source(write(tmp_path, "app: demo\nloop: &a [1, *a]\n"), "m")
    assert [p.message for p in source.problems] == [
        "an alias refers to a value that contains it; write it out"
    ]


def test_key_that_is_a_list_is_refused(tmp_path: Path) -> None:
    source = load_source(write(tmp_path, "app: demo\n? [a, b]\n: c\n"), "m")
    assert [(p.line, p.column, p.message) for p in source.problems] == [
        (2, 3, "a key must be a plain name, found a list or mapping")
    ]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (b"app: demo\ntitle: caf\xe9\n", 2, 11, "the file is not UTF-8 text (byte 0xe9)"),
        ("app: demo\ntitle: a\x07b\n", 2, 9, "the file holds a character YAML does not allow"),
        ("app: [demo\n", 2, 1, "YAML syntax error: expected ',' or ']'"),
        ("app: 'demo\n", 2, 1, "YAML syntax error: found unexpected end of stream"),
        ("", 1, 1, "the file is empty"),
        ("just text\n", 1, 1, "expected a mapping (key: value lines) at the top level, found"),
    ],
    ids=["not-utf8", "control-character", "open-bracket", "open-quote", "empty", "scalar"],
)
def test_unreadable_files_fail_at_once(
    tmp_path: Path, text: str | bytes, line: int, column: int, message: str
) -> None:
    with pytest.raises(ModelError) as caught:
        load_source(write(tmp_path, text), "m.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("m.yaml", line, column)
    assert message in problem.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such file"):
        load_source(tmp_path / "absent.yaml", "absent.yaml")
