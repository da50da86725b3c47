"""Reading one locale folder with typed accessors that report instead of raising.

``Reader`` collects every problem as ``Problem(file, line, message)`` and hands back a safe
default (empty text, no mapping), so one broken entry never hides the next one and nothing
raises past the loader. Each accessor names the key, what was expected and what was found.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from flows.content.limits import MAX_TEXT, html_problems, label_width
from flows.content.shapes import ID_PATTERN, ITEM_ID_PATTERN
from flows.content.yamlines import LineList, LineMap, YamlProblem, line_of, parse
from flows.errors import Problem

ID_RE = re.compile(ID_PATTERN)
ITEM_ID_RE = re.compile(ITEM_ID_PATTERN)


def kind(value: Any) -> str:
    """What a YAML value is, in an operator's words."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, date):
        return "a date"
    return "text"


class Reader:
    """Reads one locale folder, collecting problems instead of stopping at the first."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []
        # Sections (by top key) that could not be read whole; checks that would only repeat
        # their problem as a cascade ("law 'x' is not in law.yaml" twenty times) skip them.
        self.incomplete: set[str] = set()
        # checklist items' ``ticked_by`` (file, line, value), checked once categories are read
        self.ticked_by_refs: list[tuple[str, int, str]] = []

    def fail(self, file: str, line: int, message: str, *, hint: str = "", warning: bool = False) -> None:
        """Report ``message`` at ``line`` (a ``Line`` from the YAML also gives the column)."""
        self.problems.append(Problem(file, int(line), message, getattr(line, "col", 0), hint, warning))

    @contextmanager
    def section(self, key: str) -> Iterator[None]:
        """Mark ``key`` incomplete if anything inside the block was reported."""
        before = len(self.problems)
        yield
        if len(self.problems) > before:
            self.incomplete.add(key)

    # ------------------------------------------------------------------ files

    def files(self, pattern: str, key: str, allowed: Iterable[str] = ()) -> list[tuple[str, LineMap]]:
        """Every file matching ``pattern`` that is a mapping holding ``key`` (and only ``key`` and
        ``allowed`` at the top): (file name as given to the operator, the top mapping)."""
        found = []
        paths = sorted(self.folder.glob(pattern))
        for path in paths:
            rel = str(path)
            try:
                data = parse(path)
            except YamlProblem as exc:
                self.fail(rel, exc.line, exc.message)
                data = None
            else:
                if data is None:
                    self.fail(rel, 1, f"the file is empty; expected '{key}:' at the top")
                elif not isinstance(data, LineMap):
                    self.fail(
                        rel, line_of(data), f"expected a mapping with the key '{key}:' at the top, found {kind(data)}"
                    )
                    data = None
            if data is not None:
                self.keys(rel, data, [key, *(a for a in allowed if a != key)], path.name)
                if key in data:
                    found.append((rel, data))
                    continue
                self.fail(rel, data.line, f"'{key}:' is missing at the top of the file")
            self.incomplete.add(key)
        if not paths:
            self.fail(str(self.folder / pattern), 1, f"file missing (expected '{key}:')")
            self.incomplete.add(key)
        return found

    # ------------------------------------------------------------------ shapes

    def keys(self, file: str, obj: LineMap, allowed: Iterable[str], what: str) -> None:
        """Report every key of ``obj`` not in ``allowed``, naming the allowed ones."""
        allowed = list(allowed)
        for k in obj:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                self.fail(file, line_of(obj, k), f"{what}: unknown key '{k}' ({hint}allowed: {', '.join(allowed)})")

    def mapping(self, file: str, parent: Any, key: Any, expected: str) -> LineMap | None:
        """``parent[key]`` if it is a mapping; otherwise report what was expected there."""
        value = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(value, LineMap):
            return value
        self.fail(file, line_of(parent, key), f"'{key}' must be {expected}, not {kind(value)}")
        self.incomplete.add(str(key))
        return None

    def seq(
        self, file: str, parent: Any, key: Any, expected: str, *, what: str = "", required: bool = True
    ) -> LineList | None:
        """``parent[key]`` if it is a list; ``None`` (reported if ``required``) otherwise."""
        value = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(value, LineList):
            return value
        if value is not None or required:
            at = f"{what}: '{key}'" if what else f"'{key}'"
            self.fail(file, line_of(parent, key), f"{at} must be {expected}, not {kind(value)}")
        return None

    def entry(self, file: str, parent: Any, key: Any, what: str, allowed: Iterable[str]) -> LineMap | None:
        """An entry (node, law fact, checklist...) that must be a mapping of ``allowed`` keys.

        Its ``line`` becomes the line that names it (``verify_debt:``), so a missing field is
        reported where the operator looks for the entry, not at whichever field comes first."""
        allowed = list(allowed)
        value = parent[key] if isinstance(parent, (dict, list)) else None
        if not isinstance(value, LineMap):
            self.fail(
                file, line_of(parent, key), f"{what} must be a mapping with {', '.join(allowed)}; found {kind(value)}"
            )
            return None
        value.line = line_of(parent, key)
        self.keys(file, value, allowed, what)
        return value

    def ident(self, file: str, line: int, value: Any, what: str, *, short: bool = False) -> str:
        """``value`` as an id; report it unless it is lower-case letters, digits and _ (at most 30
        characters, or 24 for ``short`` ids that share a 64-byte callback with a node id)."""
        pattern, most = (ITEM_ID_RE, 24) if short else (ID_RE, 30)
        text = "" if value is None else str(value)
        if not isinstance(value, str) or not pattern.match(text):
            self.fail(file, line, f"{what} {value!r} must start with a-z and hold only a-z, 0-9, _ (at most {most})")
        return text

    # ------------------------------------------------------------------ values

    def string(
        self,
        file: str,
        obj: Any,
        key: Any,
        *,
        what: str = "",
        required: bool = True,
        max_width: int | None = None,
        fits: str = "for a phone button",
    ) -> str:
        """Text under ``key`` (numbers and dates are taken as written); ``what`` names the
        entry in the message, ``max_width`` is in cells (a Chinese character counts 2)."""
        value = obj.get(key) if isinstance(obj, dict) else None
        line = line_of(obj, key)
        at = f"{what}: '{key}'" if what else f"'{key}'"
        if value is None:
            if required:
                self.fail(file, line, f"{at} is missing (expected text)")
            return ""
        if isinstance(value, date):  # YAML reads 2026-11-01 as a date; that is what we want
            value = value.isoformat()
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(file, line, f"{at} must be text, not {kind(value)}")
            return ""
        # Only line breaks at the end are dropped: leading spaces may be meant ("  ← 你在这里"), and so
        # may trailing ones written inside quotes (an English separator such as ", " needs its space).
        value = str(value).rstrip("\r\n")
        if required and not value.strip():
            self.fail(file, line, f"{at} is empty")
        if max_width and label_width(value) > max_width:
            self.fail(
                file,
                line,
                f"{at} is too long {fits}: {value!r} is {label_width(value)} "
                f"cells wide, at most {max_width} (a Chinese character counts 2)",
            )
        return value

    def strings(
        self, file: str, obj: Any, key: str, expected: str, *, what: str = "", required: bool = False
    ) -> tuple[str, ...]:
        """A list of non-empty texts under ``key``; each bad item is reported at its own line.
        A whole number is taken as written (a hotline such as 12378 is a fine phrase)."""
        items = self.seq(file, obj, key, expected, what=what, required=required)
        if items is None:
            return ()
        at = f"{what}: '{key}'" if what else f"'{key}'"
        if required and not items:
            self.fail(file, line_of(obj, key), f"{at} must not be empty ({expected})")
        out = []
        for i, x in enumerate(items):
            if isinstance(x, int) and not isinstance(x, bool):
                x = str(x)
            if not isinstance(x, str) or not x.strip():
                found = "empty text" if isinstance(x, str) else kind(x)
                self.fail(file, line_of(items, i), f"{at}: item {i + 1} must be text, not {found}")
                continue
            out.append(x.strip())
        return tuple(out)

    def html(self, file: str, line: int, what: str, text: str) -> None:
        errors, visible = html_problems(text)
        for e in errors:
            self.fail(file, line, f"{what}: {e} (Telegram would refuse the message)")
        if visible > MAX_TEXT:
            self.fail(file, line, f"{what} is {visible} characters; Telegram allows {MAX_TEXT}")
