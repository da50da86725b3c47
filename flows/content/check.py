"""``python bot.py check``: everything an operator can break, as ``file:line:column: message``.

It runs the loader on every locale (shape, references, reachability, screen sizes: all in the
loader, which refuses the same content at start-up), then what only a whole content tree shows:

* files the loader does not read itself (interest.yaml) against the generated JSON Schema;
* locale parity: every locale has the default locale's node, checklist, item, category, law
  and step ids, and each message the same ``{placeholders}`` (a person who switches language
  keeps their place, and a translation that drops a number is caught);
* Telegram's limits once the code has filled the placeholders (``fit.py``);
* legal claims: an article cited on a screen without ``law:``, a claim in interest.yaml without
  ``source`` or ``as_of``, and any ``as_of`` older than a year (a warning: the law may have moved).

Errors stop the bot; warnings do not (``--strict`` makes them fail ``check`` too). Each problem
carries a hint: how to fix it, or where content/README.md explains the rule.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flows.content import load_locale
from flows.content.fit import Misfit, check_fit
from flows.content.limits import placeholders
from flows.content.model import Locale
from flows.content.schema_json import content_schema, render, validate
from flows.content.sections import ARTICLE_RE
from flows.content.shapes import FILES, file_for
from flows.content.yamlines import Line, LineList, LineMap, YamlProblem, line_of, parse
from flows.errors import Problem

STALE_AFTER_DAYS = 365
README = "content/README.md"
HINTS = {  # file -> where its rules are explained
    f.glob: f"the rules for {f.glob} are in {README}, section '{f.glob}'" for f in FILES
}
PARITY_HINT = (
    "every locale keeps the same ids (a person who switches language keeps their place): "
    "translate the entry under the same id"
)
Where = tuple[str, int]


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    locales: dict[str, Locale] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))


@dataclass
class Places:
    """Where each id of one locale folder is written (read again, so parity works even when a
    locale failed to load), and every ``as_of``."""

    folder: Path
    docs: dict[str, Any] = field(default_factory=dict)  # file name -> parsed document
    ids: dict[str, dict[str, Where]] = field(default_factory=dict)  # kind -> id -> where
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # "messages"/"interest" -> key -> text
    as_of: list[tuple[str, int, Any]] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)  # files that could not be parsed

    def put(self, kind: str, key: str, where: Where) -> None:
        self.ids.setdefault(kind, {}).setdefault(key, where)

    def file(self, name: str) -> str:
        return str(self.folder / name)


def index(folder: Path) -> Places:
    places = Places(folder)
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = parse(path)
        except YamlProblem:
            places.broken.add(path.name)  # the loader reports it; parity does not guess past it
            continue
        places.docs[path.name] = doc
        if isinstance(doc, LineMap):
            _index_doc(places, str(path), doc)
    return places


def _entries(doc: LineMap, key: str) -> Iterator[tuple[str, Any, int]]:
    table = doc.get(key)
    if isinstance(table, LineMap):
        for k, v in table.items():
            yield str(k), v, line_of(table, k)


def _index_doc(p: Places, file: str, doc: LineMap) -> None:
    interest = "lpr_1y" in doc
    for nid, _, line in _entries(doc, "nodes"):
        p.put("node", nid, (file, line))
    for cid, c, line in _entries(doc, "checklists"):
        p.put("checklist", cid, (file, line))
        items = c.get("items") if isinstance(c, LineMap) else None
        for i, it in enumerate(items if isinstance(items, LineList) else []):
            if isinstance(it, LineMap) and it.get("id") is not None:
                p.put("checklist item", f"{cid}:{it['id']}", (file, line_of(items, i)))
    for lid, _, line in _entries(doc, "law"):
        p.put("law", lid, (file, line))
    cats = doc.get("categories")
    for i, c in enumerate(cats if isinstance(cats, LineList) else []):
        if isinstance(c, LineMap) and c.get("id") is not None:
            p.put("category", str(c["id"]), (file, line_of(cats, i)))
    steps = doc.get("steps")
    for i, st in enumerate(steps if isinstance(steps, LineList) else []):
        node = st.get("node") if isinstance(st, LineMap) else None
        p.put("step", f"{i + 1} ({node})", (file, line_of(steps, i)))
    kind = "interest message" if interest else "message"
    for key, value, line in _entries(doc, "messages"):
        p.put(kind, key, (file, line))
        text = value.get("text") if interest and isinstance(value, LineMap) else value
        if isinstance(text, str):
            p.texts.setdefault(kind, {})[key] = text
    _collect_as_of(p, file, doc)


def _collect_as_of(p: Places, file: str, obj: Any) -> None:
    if isinstance(obj, LineMap):
        for k, v in obj.items():
            if k == "as_of":
                p.as_of.append((file, line_of(obj, k), v))
            else:
                _collect_as_of(p, file, v)
    elif isinstance(obj, LineList):
        for v in obj:
            _collect_as_of(p, file, v)


def check_content(
    root: Path,
    *,
    today: date | None = None,
    actions: frozenset[str] | None = None,
    required_messages: Mapping[str, frozenset[str]] | None = None,
    plain_text_messages: frozenset[str] | None = None,
) -> Report:
    """Check the content tree under ``root``; ``today`` is the clock ``as_of`` is measured by."""
    if actions is None or required_messages is None or plain_text_messages is None:
        from flows.engine import code_tables

        a, m, pl = code_tables()
        actions, required_messages, plain_text_messages = (
            actions or a,
            required_messages or m,
            plain_text_messages or pl,
        )
    today = today or date.today()
    report = Report()
    root = Path(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "bot.yaml").exists()) if root.is_dir() else []
    if not folders:
        found = "content folder not found" if not root.is_dir() else "no locale folder (expected e.g. zh-CN/bot.yaml)"
        report.problems.append(Problem(str(root), 1, found, hint="python bot.py check [DIR] takes the content folder"))
        return report
    places = {folder: index(folder) for folder in folders}
    codes: dict[str, Path] = {}
    for folder in folders:
        loc, problems = load_locale(
            folder, actions=actions, required_messages=required_messages, plain_text_messages=plain_text_messages
        )
        report.problems += [_hinted(p, places[folder]) for p in problems]
        if loc is not None:
            if loc.code in codes:
                report.problems.append(
                    Problem(
                        str(folder / "bot.yaml"), 1, f"locale '{loc.code}' is used by two folders ({codes[loc.code]})"
                    )
                )
            codes[loc.code] = folder
            report.locales[loc.code] = loc
            for misfit in check_fit(loc, dict(required_messages), frozenset(plain_text_messages)):
                report.problems.append(_misfit(places[folder], misfit))
        report.problems += list(_other_files(places[folder], frozenset(actions), required_messages))
        report.problems += list(_claims(places[folder], loc, today))
    schema_file = root / "schema.json"
    if schema_file.exists() and schema_file.read_text(encoding="utf-8") != render(actions, required_messages):
        report.problems.append(
            Problem(
                str(schema_file), 1, "schema.json is out of date: editors complete and underline by an old model",
                hint="python -m flows.content.schema_json --write", warning=True,
            )
        )  # fmt: skip
    reference = next((f for f in folders if f.name == "zh-CN"), folders[0])
    for folder in folders:
        if folder != reference:
            report.problems += list(_parity(places[reference], places[folder]))
    for loc in report.locales.values():
        report.summary.append(
            f"{loc.code}: {len(loc.nodes)} nodes, {len(loc.checklists)} checklists, "
            f"{len(loc.law)} legal facts, {len(loc.messages)} messages, {len(loc.crisis_words)} crisis words"
        )
    return report


_UNKNOWN_NODE = re.compile(r"unknown node '([^']+)'|start node '([^']+)' is not defined")


def _hinted(p: Problem, places: Places) -> Problem:
    """The loader's problems with a hint: a specific one where the fix is clear, else where the
    file's rules are written."""
    if p.hint:
        return p
    spec = file_for(Path(p.file).name)
    hint = HINTS[spec.glob] if spec else f"see {README}"
    m = _UNKNOWN_NODE.search(p.message)
    if m:
        close = difflib.get_close_matches(m[1] or m[2], list(places.ids.get("node", {})), n=1)
        hint = (f"did you mean '{close[0]}'? " if close else "") + "node ids are the keys under nodes: in nodes*.yaml"
    elif "cannot be reached" in p.message:
        hint = "give a node people reach a button with go: to it (or a step's node:), or delete it"
    elif "is a dead end" in p.message:
        hint = "add a button (go: another node), or remove nav: false"
    elif "cells wide" in p.message or "cells;" in p.message:
        hint = "shorten it: a Chinese character counts 2 cells, a letter or digit 1"
    return Problem(p.file, p.line, p.message, p.column, hint, p.warning)


def _misfit(p: Places, m: Misfit) -> Problem:
    kind = "message" if m.kind == "message" else "node"
    file, line = p.ids.get(kind, {}).get(m.where) or p.ids.get("message", {}).get(m.where) or (p.file("bot.yaml"), 1)
    what = f"message '{m.where}'" if m.kind == "message" else f"node '{m.where}' ({m.kind} screen)"
    hint = "shorten the text, or split it over two nodes" if "characters" in m.message else HINTS["messages*.yaml"]
    return Problem(file, int(line), f"{what} {m.message}", getattr(line, "col", 0), hint)


def _other_files(p: Places, actions: frozenset[str], required: Mapping[str, frozenset[str]]) -> Iterator[Problem]:
    """Files no loader reads here (interest.yaml) are checked against the generated schema."""
    schema = content_schema(actions, required)
    for spec in FILES:
        if spec.by_loader:
            continue
        for name, doc in p.docs.items():
            if file_for(name) is not spec:
                continue
            for e in validate(doc, schema):
                line: Any = _line_at(doc, e.path)
                at = ".".join(str(x) for x in e.path) or "the file"
                yield Problem(p.file(name), int(line), f"{at}: {e.message}", getattr(line, "col", 0), HINTS[spec.glob])


def _line_at(doc: Any, path: tuple) -> int:
    line: int = Line(1, 1)
    obj = doc
    for part in path:
        if isinstance(obj, (LineMap, LineList)):
            line = line_of(obj, part, line)
            try:
                obj = obj[part]
            except (KeyError, IndexError, TypeError):
                break
    return line


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    m = re.match(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$", str(value))
    try:
        return date(int(m[1]), int(m[2]), int(m[3] or 1)) if m else None
    except ValueError:
        return None


def _claims(p: Places, loc: Locale | None, today: date) -> Iterator[Problem]:
    for file, line, value in p.as_of:
        day = _as_date(value)
        if day is None:
            continue  # the loader or the schema reports the shape
        age = (today - day).days
        if age > STALE_AFTER_DAYS:
            yield Problem(
                file,
                int(line),
                f"as_of {day.isoformat()} is {age} days old: the law may have changed since it was checked",
                getattr(line, "col", 0),
                "read the source again; if it still holds, set as_of to today's date (and fix text if it moved)",
                warning=True,
            )
        elif age < 0:
            yield Problem(
                file, int(line), f"as_of {day.isoformat()} is in the future", getattr(line, "col", 0),
                "as_of is the day the claim was checked", warning=True,
            )  # fmt: skip
    for name, doc in p.docs.items():
        if isinstance(doc, LineMap) and "lpr_1y" in doc:
            yield from _interest_claims(p.file(name), doc, loc)
    if loc is None:
        return
    for node in loc.nodes.values():
        if not node.law and ARTICLE_RE.search(node.text):
            file, line = p.ids["node"][node.id]
            yield Problem(
                file, int(line), f"node '{node.id}' cites an article of law but has no 'law:' behind it",
                getattr(line, "col", 0), "every legal claim lives in law.yaml with source and as_of: refer to it with law: [id]",
            )  # fmt: skip


def _interest_claims(file: str, doc: LineMap, loc: Locale | None) -> Iterator[Problem]:
    """Every entry of interest.yaml that states the law (certainty verified or reported) says
    where it is written and when it was checked; its ``law:`` ids exist."""

    def walk(obj: Any, path: str) -> Iterator[Problem]:
        if isinstance(obj, LineMap):
            if obj.get("certainty") in ("verified", "reported"):
                for key in ("source", "as_of"):
                    if not obj.get(key):
                        line = line_of(obj, "certainty")
                        yield Problem(
                            file, int(line), f"{path}: a legal claim without '{key}'", getattr(line, "col", 0),
                            "every legal claim says where it is written (source) and when it was checked (as_of)",
                        )  # fmt: skip
            refs = obj.get("law")
            if loc is not None and isinstance(refs, list):
                for ref in refs:
                    if ref not in loc.law:
                        line = line_of(obj, "law")
                        yield Problem(
                            file, int(line), f"{path}: law '{ref}' is not in law.yaml", getattr(line, "col", 0)
                        )
            for k, v in obj.items():
                yield from walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(obj, LineList):
            for i, v in enumerate(obj):
                yield from walk(v, f"{path}[{i + 1}]")

    yield from walk(doc, "")


def _parity(ref: Places, other: Places) -> Iterator[Problem]:
    rc, oc = ref.folder.name, other.folder.name
    skip = set(other.broken)  # entries in an unreadable file are not missing: the loader said why
    for name in ref.docs:
        spec = file_for(name)
        if name not in other.docs and name not in other.broken and spec is not None and "*" not in spec.glob:
            skip.add(name)
            yield Problem(
                other.file(name), 1, f"{name} is in {rc} but not in {oc}", 0, f"copy {rc}/{name} and translate it"
            )
    broken_kinds = {spec.glob for n in other.broken if (spec := file_for(n)) is not None}
    for kind in ("node", "checklist", "checklist item", "category", "law", "step", "interest message"):
        mine, theirs = ref.ids.get(kind, {}), other.ids.get(kind, {})
        for key, (file, line) in mine.items():
            if key not in theirs:
                name = Path(file).name
                spec = file_for(name)
                if name in skip or (spec is not None and spec.glob in broken_kinds):
                    continue
                home = _home(other, kind, name)
                yield Problem(
                    home, 1, f"{kind} '{key}' is in {rc} ({file}:{int(line)}) but not in {oc}", 0, PARITY_HINT
                )
        for key, (file, line) in theirs.items():
            if key not in mine:
                yield Problem(
                    file, int(line), f"{kind} '{key}' is in {oc} but not in {rc}", getattr(line, "col", 0),
                    f"remove it, or add it to {rc} as well: {PARITY_HINT}",
                )  # fmt: skip
    for kind in ("message", "interest message"):
        for key, text in other.texts.get(kind, {}).items():
            if key not in ref.texts.get(kind, {}):
                continue
            want, _ = placeholders(ref.texts[kind][key])
            have, _ = placeholders(text)
            if want != have:
                file, line = other.ids[kind][key]
                shown = ", ".join(f"{{{x}}}" for x in sorted(want)) or "none"
                yield Problem(
                    file, int(line), f"{kind} '{key}' uses {_braces(have)} but {rc} uses {shown}",
                    getattr(line, "col", 0), "a translation keeps every placeholder of the original (numbers, names)",
                )  # fmt: skip


def _braces(names: set[str]) -> str:
    return ", ".join(f"{{{x}}}" for x in sorted(names)) or "none"


def _home(p: Places, kind: str, ref_name: str) -> str:
    """The file of ``p`` where a missing entry belongs: the same file name, or one of its kind."""
    if ref_name in p.docs:
        return p.file(ref_name)
    spec = file_for(ref_name)
    same = [n for n in sorted(p.docs) if spec and file_for(n) is spec]
    return p.file(same[0] if same else ref_name)
