"""Content: YAML per locale -> validated, typed, immutable objects.

Every sentence a user reads comes from here. Loading is strict: all problems are collected and
reported together as ``file:line: what is wrong`` so an operator can fix a file in one pass.
Nothing here knows Telegram; the limits below are the ones a phone screen and the Bot API set.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from flows.errors import ContentError, Problem

ACTIONS = frozenset({"testimony", "evidence", "export", "delete", "status", "help", "privacy", "start", "language"})
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
ITEM_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
ARTICLE_RE = re.compile(r"第\s*[0-9一二三四五六七八九十百千零〇]+\s*条")
DATE_RE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
MAX_TEXT = 4096  # Telegram's limit for one message, counted after HTML parsing
MAX_LABEL_WIDTH = 30  # a CJK character counts 2: fifteen characters fit a phone's button
MAX_STEP_LABEL_WIDTH = 8  # five of them share one row
MAX_ROW = 3
ALLOWED_TAGS = {"b": set(), "i": set(), "u": set(), "s": set(), "code": set(), "a": {"href"}}
TICKED_BY_TESTIMONY = "testimony"  # a checklist item ticked when the person saves a written account
FIXED_LABELS = {"btn_confirm_export": "确认导出", "btn_confirm_delete": "确认删除"}

# Keys the code formats, with the placeholders each may use. A sentence that lives in content
# but is looked up by code must be listed here, so `check` catches a missing or mistyped key.
MESSAGES: dict[str, frozenset[str]] = {
    k: frozenset(v.split()) if v else frozenset()
    for k, v in {
        "help": "",
        "privacy": "",
        "command_start": "",
        "command_help": "",
        "command_status": "",
        "command_evidence": "",
        "command_testimony": "",
        "command_export": "",
        "command_delete": "",
        "command_privacy": "",
        "status_header": "",
        "status_line": "n title done total here",
        "status_here": "",
        "status_evidence": "count",
        "unknown_command": "",
        "unexpected_text": "title",
        "stale_button": "",
        "group_chat": "",
        "error": "",
        "law_header": "",
        "law_line": "plain text source as_of",
        "law_plain": "plain",
        "checklist_header": "title done total",
        "steps_header": "count",
        "btn_checklist": "done total",
        "btn_law": "",
        "btn_back": "",
        "btn_prev_step": "",
        "btn_next_step": "",
        "btn_steps": "",
        "checklist_hint": "",
        "disclaimer": "",
        "btn_confirm_export": "",
        "btn_confirm_delete": "",
        "btn_cancel": "",
        "btn_add_note": "",
        "btn_skip_note": "",
        "btn_get_original": "",
        "btn_change_category": "",
        "btn_edit_note": "",
        "btn_delete_item": "",
        "btn_confirm_delete_item": "",
        "btn_full_hash": "",
        "btn_prev_page": "",
        "btn_next_page": "",
        "btn_back_to_list": "",
        "btn_continue": "",
        "evidence_kind_photo": "",
        "evidence_kind_document": "",
        "evidence_kind_voice": "",
        "evidence_kind_audio": "",
        "evidence_kind_video": "",
        "evidence_kind_video_note": "",
        "evidence_kind_testimony": "",
        "evidence_receipt": "no kind size time_utc time_beijing sha_short",
        "evidence_photo_hint": "",
        "evidence_duplicate": "no",
        "evidence_too_big": "limit_mb",
        "evidence_quota_full": "quota_mb",
        "evidence_empty": "",
        "evidence_download_failed": "",
        "evidence_category_saved": "no category",
        "evidence_note_prompt": "no",
        "evidence_note_saved": "no",
        "evidence_testimony_prompt": "",
        "evidence_testimony_saved": "no",
        "evidence_list_header": "count page pages",
        "evidence_list_empty": "",
        "evidence_list_line": "no category date size sha_short",
        "evidence_uncategorised": "",
        "evidence_item": "no kind category size time_utc time_beijing sha_short note",
        "evidence_no_note": "",
        "evidence_full_hash": "no sha",
        "evidence_delete_item_confirm": "no",
        "evidence_item_deleted": "no",
        "evidence_not_found": "no",
        "evidence_damaged": "no",
        "export_confirm": "",
        "export_empty": "",
        "export_preparing": "",
        "export_done": "count parts",
        "export_part_caption": "part parts",
        "export_item_failed": "items",
        "export_item_unreadable": "items",
        "export_no_space": "",
        "export_readme": "created count tz",
        "export_list_file": "",
        "export_col_no": "tz",
        "export_col_category": "tz",
        "export_col_note": "tz",
        "export_col_filename": "tz",
        "export_col_caption": "tz",
        "export_col_sha256": "tz",
        "export_col_received": "tz",
        "evidence_unreadable": "no",
        "delete_finishing": "",
        "delete_confirm": "",
        "delete_done": "",
        "delete_cancelled": "",
        "terminal_intro": "name",
        "terminal_pick": "count",
        "terminal_no_file": "path",
        "terminal_file": "path",
        "terminal_messages_removed": "count path",
        "journal_trouble": "",
        "flood": "",
        "command_language": "",
        "language_name": "",
        "language_choose": "",
        "language_switched": "name",
        "evidence_category_pending": "no",
        "evidence_choose_category": "no",
        "btn_skip_category": "",
        "crisis_not_saved": "",
        "crisis_file_kept": "",
        "crisis_followup": "",
    }.items()
}
PLAIN_TEXT_MESSAGES = frozenset({"export_readme", "export_list_file"} | {k for k in MESSAGES if k.startswith("export_col_")})  # files, not HTML


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Button:
    label: str
    go: str | None = None
    action: str | None = None


@dataclass(frozen=True)
class Node:
    id: str
    title: str
    text: str
    step: int | None = None
    law: tuple[str, ...] = ()
    checklist: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    nav: bool = True


@dataclass(frozen=True)
class Step:
    n: int
    title: str
    short: str
    node: str


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: str
    ticked_by: str | None = None  # "testimony", or "category:<id>": what ticks it without a press


@dataclass(frozen=True)
class Checklist:
    id: str
    title: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class LawFact:
    id: str
    text: str
    source: str
    as_of: str
    certainty: str
    plain: str = ""  # one everyday sentence: what this means for the person (shown before `text`)


@dataclass(frozen=True)
class Category:
    id: str
    label: str


@dataclass(frozen=True)
class Locale:
    code: str
    name: str
    language_codes: tuple[str, ...]
    start: str
    steps: tuple[Step, ...]
    nodes: dict[str, Node]
    checklists: dict[str, Checklist]
    law: dict[str, LawFact]
    categories: tuple[Category, ...]
    crisis_words: tuple[str, ...]
    crisis_text: str
    messages: dict[str, str] = field(repr=False)

    def msg(self, key: str, **values: Any) -> str:
        """The sentence under ``key`` with ``values`` filled in (values are escaped for HTML)."""
        template = self.messages[key]
        if key in PLAIN_TEXT_MESSAGES:
            return template.format(**values)
        return template.format(**{k: escape(str(v), quote=False) for k, v in values.items()})

    def category(self, cid: str | None) -> Category | None:
        return next((c for c in self.categories if c.id == cid), None)

    def is_crisis(self, text: str) -> bool:
        return any(w in text for w in self.crisis_words)


@dataclass(frozen=True)
class Content:
    locales: dict[str, Locale]
    default: str

    def for_language(self, language_code: str | None) -> Locale:
        """The locale whose ``language_codes`` prefix matches Telegram's ``language_code``."""
        code = (language_code or "").lower()
        for loc in self.locales.values():
            if any(code.startswith(p.lower()) for p in loc.language_codes):
                return loc
        return self.locales[self.default]

    def locale(self, code: str) -> Locale:
        return self.locales.get(code) or self.locales[self.default]


# ----------------------------------------------------------------------------- YAML with lines


class _Map(dict):
    line: int = 0
    lines: dict


class _List(list):
    line: int = 0
    lines: list


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, sequence and key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    m = _Map()
    m.line = node.start_mark.line + 1
    m.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in m:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        m[key] = loader.construct_object(value_node, deep=True)
        m.lines[key] = key_node.start_mark.line + 1
    return m


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _List:
    seq = _List(loader.construct_object(child, deep=True) for child in node.value)
    seq.line = node.start_mark.line + 1
    seq.lines = [child.start_mark.line + 1 for child in node.value]
    return seq


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _line(obj: Any, key: Any = None, default: int = 1) -> int:
    if isinstance(obj, _Map) and key is not None and key in obj.lines:
        return obj.lines[key]
    if isinstance(obj, _List) and isinstance(key, int) and key < len(obj.lines):
        return obj.lines[key]
    return getattr(obj, "line", default)


# ----------------------------------------------------------------------------- checks


def label_width(text: str) -> int:
    """How wide a label is on a phone: East Asian characters take two cells."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _HtmlCheck(HTMLParser):
    """Telegram's HTML subset: known tags only, properly nested, entities valid."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> is not allowed (use {', '.join(ALLOWED_TAGS)})")
            return
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                self.errors.append(f"attribute {name!r} is not allowed on <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close the open tag")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def html_problems(text: str) -> tuple[list[str], int]:
    """Problems Telegram would reject, and the visible length it would count."""
    errors = []
    if re.search(r"<(?![a-zA-Z/])", text):
        errors.append("a bare '<' must be written &lt;")
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        errors.append("a bare '&' must be written &amp;")
    parser = _HtmlCheck()
    parser.feed(text)
    parser.close()
    errors.extend(parser.errors)
    if parser.stack:
        errors.append(f"<{parser.stack[-1]}> is never closed")
    return errors, len("".join(parser.visible))


def _placeholders(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


# ----------------------------------------------------------------------------- loading


class _Reader:
    """Reads one locale folder, collecting problems instead of stopping at the first."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []

    def fail(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def load(self, pattern: str, key: str) -> list[tuple[str, Any]]:
        """Every file matching ``pattern``: (relative file name, the value under ``key``)."""
        found = []
        files = sorted(self.folder.glob(pattern))
        for path in files:
            rel = str(path)
            try:
                data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                self.fail(rel, (mark.line + 1) if mark else 1, f"not valid YAML: {exc.problem or exc}")
                continue
            except (OSError, UnicodeDecodeError) as exc:
                self.fail(rel, 1, f"cannot read: {exc}")
                continue
            if not isinstance(data, dict) or key not in data:
                self.fail(rel, 1, f"expected a mapping with the key '{key}:' at the top")
                continue
            found.append((rel, data))
        if not files:
            self.fail(str(self.folder / pattern), 1, f"file missing (expected '{key}:')")
        return found

    def string(self, file: str, obj: Any, key: str, *, required: bool = True, max_width: int | None = None) -> str:
        value = obj.get(key) if isinstance(obj, dict) else None
        line = _line(obj, key)
        if value is None:
            if required:
                self.fail(file, line, f"'{key}' is missing (expected text)")
            return ""
        if isinstance(value, date):  # YAML reads 2026-11-01 as a date; that is what we want
            value = value.isoformat()
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(file, line, f"'{key}' must be text, not {type(value).__name__}")
            return ""
        value = str(value).rstrip()  # leading spaces may be meant ("  ← 你在这里")
        if required and not value.strip():
            self.fail(file, line, f"'{key}' is empty")
        if max_width and label_width(value) > max_width:
            self.fail(
                file, line, f"'{key}' is too long for a phone button: {value!r} is {label_width(value)} "
                f"cells wide, at most {max_width} (a Chinese character counts 2)"
            )
        return value

    def html(self, file: str, line: int, what: str, text: str) -> None:
        errors, visible = html_problems(text)
        for e in errors:
            self.fail(file, line, f"{what}: {e} (Telegram would refuse the message)")
        if visible > MAX_TEXT:
            self.fail(file, line, f"{what} is {visible} characters; Telegram allows {MAX_TEXT}")


def load_locale(folder: Path) -> tuple[Locale | None, list[Problem]]:
    r = _Reader(folder)

    bot: dict = {}
    for file, data in r.load("bot.yaml", "locale"):
        bot, bot_file = data, file
    if not bot:
        return None, r.problems
    code = r.string(bot_file, bot, "locale")
    name = r.string(bot_file, bot, "name")
    start = r.string(bot_file, bot, "start")
    langs = bot.get("language_codes") or []
    if not isinstance(langs, list) or not all(isinstance(x, str) for x in langs):
        r.fail(bot_file, _line(bot, "language_codes"), "'language_codes' must be a list of Telegram language codes like [zh]")
        langs = []

    # law
    law: dict[str, LawFact] = {}
    for file, data in r.load("law.yaml", "law"):
        entries = data["law"]
        if not isinstance(entries, dict):
            r.fail(file, _line(data, "law"), "'law' must be a mapping of id -> entry")
            continue
        for lid, e in entries.items():
            line = _line(entries, lid)
            if not isinstance(e, dict):
                r.fail(file, line, f"law '{lid}' must be a mapping with text, source, as_of, certainty")
                continue
            text = r.string(file, e, "text")
            source = r.string(file, e, "source")
            as_of = r.string(file, e, "as_of")
            certainty = r.string(file, e, "certainty")
            if as_of and not DATE_RE.match(as_of):
                r.fail(file, _line(e, "as_of"), f"'as_of' must be a date like 2026-11-01, not {as_of!r}")
            if certainty and certainty not in ("verified", "reported"):
                r.fail(file, _line(e, "certainty"), "'certainty' must be 'verified' or 'reported'")
            if certainty == "reported" and ARTICLE_RE.search(text):
                r.fail(
                    file, _line(e, "text"),
                    f"law '{lid}' is only reported (not verified): say it softly and cite no article number",
                )
            r.html(file, _line(e, "text"), f"law '{lid}'", text)
            plain = r.string(file, e, "plain", required=False)
            r.html(file, _line(e, "plain"), f"law '{lid}' plain", plain)
            law[lid] = LawFact(lid, text, source, as_of, certainty, plain)

    # checklists
    checklists: dict[str, Checklist] = {}
    ticked_by_refs: list[tuple[str, int, str]] = []  # checked once the categories are known
    for file, data in r.load("checklists.yaml", "checklists"):
        for cid, c in (data["checklists"] or {}).items():
            line = _line(data["checklists"], cid)
            if not ITEM_ID_RE.match(str(cid)):
                r.fail(file, line, f"checklist id {cid!r} must be lower-case letters, digits, _ (at most 24)")
            if not isinstance(c, dict) or not isinstance(c.get("items"), list) or not c["items"]:
                r.fail(file, line, f"checklist '{cid}' needs 'title' and a non-empty list 'items'")
                continue
            items, seen = [], set()
            for i, it in enumerate(c["items"]):
                iline = _line(c["items"], i)
                if not isinstance(it, dict):
                    r.fail(file, iline, "a checklist item must be {id: ..., text: ...}")
                    continue
                iid = r.string(file, it, "id")
                if iid and not ITEM_ID_RE.match(iid):
                    r.fail(file, iline, f"item id {iid!r} must be lower-case letters, digits, _ (at most 24)")
                if iid in seen:
                    r.fail(file, iline, f"item id {iid!r} appears twice in checklist '{cid}'")
                seen.add(iid)
                text = r.string(file, it, "text", max_width=MAX_LABEL_WIDTH - 2)
                ticked_by = r.string(file, it, "ticked_by", required=False) or None
                if ticked_by:
                    ticked_by_refs.append((file, _line(it, "ticked_by"), ticked_by))
                items.append(ChecklistItem(iid, text, ticked_by))
            checklists[cid] = Checklist(cid, r.string(file, c, "title"), tuple(items))

    # categories
    categories: list[Category] = []
    for file, data in r.load("categories.yaml", "categories"):
        cats = data["categories"]
        for i, c in enumerate(cats if isinstance(cats, list) else []):
            cid = r.string(file, c, "id")
            if cid and not ITEM_ID_RE.match(cid):
                r.fail(file, _line(cats, i), f"category id {cid!r} must be lower-case letters, digits, _")
            categories.append(Category(cid, r.string(file, c, "label", max_width=MAX_LABEL_WIDTH)))
        if not categories:
            r.fail(file, _line(data, "categories"), "'categories' must be a non-empty list of {id, label}")
    known_categories = {c.id for c in categories}
    for file, line, ticked_by in ticked_by_refs:
        kind, _, cid = ticked_by.partition(":")
        if not (ticked_by == TICKED_BY_TESTIMONY or (kind == "category" and cid in known_categories)):
            r.fail(
                file, line, f"'ticked_by' must be '{TICKED_BY_TESTIMONY}' or 'category:<id>' with an id from "
                f"categories.yaml ({', '.join(sorted(known_categories))}), not {ticked_by!r}",
            )

    # crisis
    words: tuple[str, ...] = ()
    crisis_text = ""
    for file, data in r.load("crisis.yaml", "crisis"):
        c = data["crisis"]
        if not isinstance(c, dict):
            r.fail(file, _line(data, "crisis"), "'crisis' must have 'words' and 'text'")
            continue
        w = c.get("words")
        if not isinstance(w, list) or not w or not all(isinstance(x, str) and x.strip() for x in w):
            r.fail(file, _line(c, "words"), "'words' must be a non-empty list of phrases")
        else:
            words = tuple(x.strip() for x in w)
        crisis_text = r.string(file, c, "text")
        r.html(file, _line(c, "text"), "crisis text", crisis_text)

    # messages
    messages: dict[str, str] = {}
    message_files = r.load("messages*.yaml", "messages")  # messages.yaml, messages_<feature>.yaml
    for file, data in message_files:
        m = data["messages"]
        for key, value in (m or {}).items():
            line = _line(m, key)
            if key in messages:
                r.fail(file, line, f"message '{key}' is defined twice (also in another messages*.yaml)")
                continue
            if key not in MESSAGES:
                r.fail(file, line, f"unknown message key '{key}' (the code never shows it; a typo?)")
                continue
            text = r.string(file, m, key, max_width=MAX_LABEL_WIDTH if key.startswith("btn_") else None)
            unknown = _placeholders(text) - MESSAGES[key]
            if unknown:
                allowed = ", ".join("{%s}" % p for p in sorted(MESSAGES[key])) or "none"
                r.fail(file, line, f"'{key}' uses {', '.join('{%s}' % u for u in sorted(unknown))}; allowed: {allowed}")
            if key in FIXED_LABELS and text != FIXED_LABELS[key]:
                r.fail(file, line, f"'{key}' must be exactly {FIXED_LABELS[key]!r} (scripts and users rely on it)")
            if key not in PLAIN_TEXT_MESSAGES and not unknown:
                sample = text.format(**{p: "0" for p in MESSAGES[key]}) if MESSAGES[key] else text.replace("{{", "{").replace("}}", "}")
                r.html(file, line, f"message '{key}'", sample)
            messages[key] = text
    for key in MESSAGES if message_files else ():
        if key not in messages:
            r.fail(str(folder / "messages.yaml"), 1, f"message '{key}' is missing")

    # steps
    steps: list[Step] = []
    for file, data in r.load("steps.yaml", "steps"):
        s = data["steps"]
        if not isinstance(s, list) or len(s) != 5:
            r.fail(file, _line(data, "steps"), "'steps' must list exactly five steps")
            continue
        for i, st in enumerate(s):
            line = _line(s, i)
            if not isinstance(st, dict) or st.get("n") != i + 1:
                r.fail(file, line, f"step {i + 1} must be a mapping with n: {i + 1}")
                continue
            steps.append(
                Step(
                    i + 1,
                    r.string(file, st, "title", max_width=24),
                    r.string(file, st, "short", max_width=MAX_STEP_LABEL_WIDTH),
                    r.string(file, st, "node"),
                )
            )
        steps_file, steps_line = file, _line(data, "steps")

    # nodes (may span several files)
    nodes: dict[str, Node] = {}
    where: dict[str, tuple[str, int]] = {}
    for file, data in r.load("nodes*.yaml", "nodes"):
        ns = data["nodes"]
        if not isinstance(ns, dict):
            r.fail(file, _line(data, "nodes"), "'nodes' must be a mapping of id -> node")
            continue
        for nid, n in ns.items():
            line = _line(ns, nid)
            if nid in where:
                f0, l0 = where[nid]
                r.fail(file, line, f"node id '{nid}' is used twice (first at {f0}:{l0})")
                continue
            where[nid] = (file, line)
            if not ID_RE.match(str(nid)):
                r.fail(file, line, f"node id {nid!r} must be lower-case letters, digits, _ (at most 30)")
            if not isinstance(n, dict):
                r.fail(file, line, f"node '{nid}' must be a mapping with title, text and buttons")
                continue
            unknown = set(n) - {"title", "text", "step", "law", "checklist", "buttons", "nav"}
            for k in sorted(unknown):
                r.fail(file, _line(n, k), f"node '{nid}': unknown field '{k}'")
            title = r.string(file, n, "title", max_width=24)
            text = r.string(file, n, "text")
            r.html(file, _line(n, "text"), f"node '{nid}' text", text)
            step = n.get("step")
            if step is not None and step not in (1, 2, 3, 4, 5):
                r.fail(file, _line(n, "step"), f"node '{nid}': 'step' must be 1 to 5")
                step = None
            lawrefs = n.get("law") or []
            if not isinstance(lawrefs, list):
                r.fail(file, _line(n, "law"), f"node '{nid}': 'law' must be a list of ids from law.yaml")
                lawrefs = []
            for ref in lawrefs:
                if ref not in law:
                    r.fail(file, _line(n, "law"), f"node '{nid}': law '{ref}' is not in law.yaml")
            checklist = n.get("checklist")
            if checklist is not None and checklist not in checklists:
                r.fail(file, _line(n, "checklist"), f"node '{nid}': checklist '{checklist}' is not in checklists.yaml")
            rows = []
            raw_rows = n.get("buttons") or []
            if not isinstance(raw_rows, list):
                r.fail(file, _line(n, "buttons"), f"node '{nid}': 'buttons' must be a list of rows")
                raw_rows = []
            for i, row in enumerate(raw_rows):
                rline = _line(raw_rows, i)
                row = row if isinstance(row, list) else [row]
                if len(row) > MAX_ROW:
                    r.fail(file, rline, f"node '{nid}': a row holds at most {MAX_ROW} buttons")
                out = []
                for b in row:
                    if not isinstance(b, dict):
                        r.fail(file, rline, f"node '{nid}': a button must be {{label: ..., go: node}} or {{label: ..., action: ...}}")
                        continue
                    label = r.string(file, b, "label", max_width=MAX_LABEL_WIDTH)
                    go, action = b.get("go"), b.get("action")
                    if (go is None) == (action is None):
                        r.fail(file, _line(b), f"node '{nid}': button {label!r} needs exactly one of 'go' or 'action'")
                    if action is not None and action not in ACTIONS:
                        r.fail(file, _line(b, "action"), f"node '{nid}': unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
                    out.append(Button(label, str(go) if go is not None else None, action))
                rows.append(tuple(out))
            nodes[str(nid)] = Node(
                str(nid), title, text, step, tuple(lawrefs), checklist, tuple(rows), bool(n.get("nav", True))
            )

    # the graph: every target exists, every node reachable, every node has a way on
    for nid, node in nodes.items():
        file, line = where[nid]
        for row in node.buttons:
            for b in row:
                if b.go is not None and b.go not in nodes:
                    r.fail(file, line, f"node '{nid}': button {b.label!r} goes to unknown node '{b.go}'")
        if not node.nav and not any(b.go or b.action for row in node.buttons for b in row):
            r.fail(file, line, f"node '{nid}' is a dead end: give it a button or leave nav on")
    if steps:
        for st in steps:
            if st.node not in nodes:
                r.fail(steps_file, steps_line, f"step {st.n} starts at unknown node '{st.node}'")
    if start and start not in nodes:
        r.fail(bot_file, _line(bot, "start"), f"start node '{start}' is not defined in any nodes*.yaml")
    elif start:
        seen = {start}
        todo = [start]
        step_nodes = [s.node for s in steps if s.node in nodes]
        while todo:
            node = nodes[todo.pop()]
            nxt = [b.go for row in node.buttons for b in row if b.go in nodes]
            if node.nav:
                nxt += step_nodes
            for t in nxt:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        for nid in nodes:
            if nid not in seen:
                r.fail(*where[nid], f"node '{nid}' cannot be reached from the start node '{start}'")

    if r.problems:
        return None, r.problems
    locale = Locale(
        code, name, tuple(langs), start, tuple(steps), nodes, checklists, law,
        tuple(categories), words, crisis_text, messages,
    )
    return locale, []


def load_content(root: Path) -> Content:
    """Load every locale folder under ``root``; raise ContentError listing every problem."""
    root = Path(root)
    if not root.is_dir():
        raise ContentError([Problem(str(root), 1, "content folder not found")])
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "bot.yaml").exists())
    if not folders:
        raise ContentError([Problem(str(root), 1, "no locale folder (expected e.g. zh-CN/bot.yaml)")])
    locales: dict[str, Locale] = {}
    problems: list[Problem] = []
    for folder in folders:
        loc, probs = load_locale(folder)
        problems += probs
        if loc:
            locales[loc.code] = loc
    if problems:
        raise ContentError(problems)
    default = "zh-CN" if "zh-CN" in locales else next(iter(locales))
    return Content(locales, default)
