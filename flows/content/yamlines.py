"""YAML that remembers where things were written, so every problem can name ``file:line``.

A safe loader whose mappings and sequences are ``dict``/``list`` subclasses carrying the line of
the node and of each key or item. ``parse`` turns any unreadable file (not UTF-8, not YAML,
duplicate keys, a key that is a list...) into one located sentence instead of an exception.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class Line(int):
    """A line number that also knows its column (1-based; 0 when unknown). It is an ``int``, so
    every ``fail(file, line, ...)`` keeps working, and the report can still say ``file:line:col``."""

    col: int = 0

    def __new__(cls, line: int, col: int = 0) -> Line:
        obj = super().__new__(cls, line)
        obj.col = col
        return obj


def _at(mark: yaml.Mark) -> Line:
    return Line(mark.line + 1, mark.column + 1)


class LineMap(dict):  # type: ignore[type-arg]
    """A YAML mapping; ``line`` is where it starts, ``lines[key]`` where each key is written."""

    line: int = 0
    lines: dict[Any, int]  # each a Line (with its column)


class LineList(list):  # type: ignore[type-arg]
    """A YAML sequence; ``line`` is where it starts, ``lines[i]`` where item ``i`` is written."""

    line: int = 0
    lines: list[int]


class LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, sequence and key."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    m = LineMap()
    m.line = _at(node.start_mark)
    m.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word, not a list or mapping", key_node.start_mark
            ) from None
        if key in m:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {m.lines[key]})", key_node.start_mark
            )
        m[key] = loader.construct_object(value_node, deep=True)
        m.lines[key] = _at(key_node.start_mark)
    return m


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
    seq = LineList(loader.construct_object(child, deep=True) for child in node.value)
    seq.line = _at(node.start_mark)
    seq.lines = [_at(child.start_mark) for child in node.value]
    return seq


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def line_of(obj: Any, key: Any = None, default: int = 1) -> int:
    """The line of ``obj[key]`` if known, else of ``obj`` itself, else ``default``."""
    if isinstance(obj, LineMap) and key is not None and key in obj.lines:
        return obj.lines[key]
    if isinstance(obj, LineList) and isinstance(key, int) and 0 <= key < len(obj.lines):
        return obj.lines[key]
    return getattr(obj, "line", default)


class YamlProblem(Exception):
    """A file could not be read as YAML; ``line`` and ``message`` say where and why."""

    def __init__(self, line: int, message: str, column: int = 0):
        super().__init__(message)
        self.line = Line(line, column)
        self.message = message


def parse(path: Path) -> Any:
    """The document in ``path`` (``None`` if empty), or ``YamlProblem`` naming the line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblem(1, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM from Windows Notepad is harmless
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(
            line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8", column
        ) from None
    try:
        return yaml.load(text, Loader=LineLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or str(exc)
        if exc.context and exc.problem:
            what = f"{exc.problem} ({exc.context})"
        raise YamlProblem(
            (mark.line + 1) if mark else 1, f"not valid YAML: {what}", (mark.column + 1) if mark else 0
        ) from None
    except yaml.YAMLError as exc:  # e.g. a control character the reader refuses
        mark = getattr(exc, "position", None)
        line = text[:mark].count("\n") + 1 if isinstance(mark, int) else 1
        raise YamlProblem(line, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem(1, "not valid YAML: nested too deeply") from None
