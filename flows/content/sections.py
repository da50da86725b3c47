"""One reader per content file: bot.yaml, law, checklists, categories, crisis and steps.

Each takes the ``Reader`` (which collects problems) and returns typed objects plus where they
were written, for the cross-file checks that follow. Messages and nodes have modules of their
own (``messages.py``, ``nodes.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone, tzinfo

from flows.content import shapes
from flows.content.limits import (
    MAX_LABEL_WIDTH,
    MAX_STEPS,
    MAX_TITLE_WIDTH,
    STEP_BAR_WIDTH,
    label_width,
    step_label_width,
)
from flows.content.model import Category, Checklist, ChecklistItem, LawFact, Step
from flows.content.schema import Reader, kind
from flows.content.yamlines import line_of

# An article number, as Chinese (第25条) or English (Art. 25, Article 25) writes it.
ARTICLE_RE = re.compile(r"第\s*[0-9一二三四五六七八九十百千零〇]+\s*条|\b(?:Article|Art\.)\s*\d+", re.IGNORECASE)
DATE_RE = re.compile(shapes.DATE_PATTERN)
OFFSET_RE = re.compile(r"^([+-])(\d{2}):(\d{2})$")
# The keys each entry may hold come from the declarations in shapes.py (which also make the JSON Schema).
BOT_KEYS = shapes.BOT.keys
LAW_KEYS = shapes.LAW_FACT.keys
MAX_CHECKLIST_ITEMS = shapes.MAX_CHECKLIST_ITEMS
TICKED_BY_TESTIMONY = "testimony"  # a checklist item ticked when the person saves a written account
CHECKLIST_KEYS = shapes.CHECKLIST.keys
ITEM_KEYS = shapes.ITEM.keys
CATEGORY_KEYS = shapes.CATEGORY.keys
CRISIS_KEYS = shapes.CRISIS_ENTRY.keys
STEP_KEYS = shapes.STEP.keys


@dataclass(frozen=True)
class Bot:
    """bot.yaml, read; ``file`` and ``start_line`` locate the start node for later checks."""

    code: str
    name: str
    language_codes: tuple[str, ...]
    start: str
    tz: tzinfo
    tz_label: str
    file: str
    start_line: int


def read_bot(r: Reader) -> Bot | None:
    found = r.files("bot.yaml", "locale", BOT_KEYS)
    if not found:
        return None
    file, bot = found[-1]
    code = r.string(file, bot, "locale")
    name = r.string(file, bot, "name")
    start = r.string(file, bot, "start")
    langs = r.strings(file, bot, "language_codes", "a list of Telegram language codes like [zh]", required=True)
    return Bot(
        code,
        name,
        langs,
        start,
        read_offset(r, file, bot),
        r.string(file, bot, "timezone_label"),
        file,
        line_of(bot, "start"),
    )


def read_offset(r: Reader, file: str, bot: dict) -> tzinfo:
    """``timezone: "+08:00"``: a fixed offset, so no time-zone database is needed (China keeps
    no daylight saving time; a locale whose country does would need more than this)."""
    value = bot.get("timezone")
    line = line_of(bot, "timezone")
    example = 'a UTC offset in quotes, like timezone: "+08:00"'
    if value is None:
        r.fail(file, line, f"'timezone' is missing: the clock users read times in, as {example}")
        return UTC
    if isinstance(value, int) and not isinstance(value, bool):
        r.fail(file, line, f"'timezone' must be {example}; without quotes YAML reads it as the number {value}")
        return UTC
    m = OFFSET_RE.match(value) if isinstance(value, str) else None
    if not m or int(m[2]) > 14 or int(m[3]) >= 60:
        found = repr(value) if isinstance(value, str) else kind(value)
        named = isinstance(value, str) and any(ch.isalpha() for ch in value)
        r.fail(
            file,
            line,
            f"'timezone' must be {example} (between -14:00 and +14:00), not {found}"
            + ("; zone names need a time-zone database a server may lack" if named else ""),
        )
        return UTC
    offset = timedelta(hours=int(m[2]), minutes=int(m[3])) * (-1 if m[1] == "-" else 1)
    return timezone(offset)


def read_law(r: Reader) -> dict[str, LawFact]:
    law: dict[str, LawFact] = {}
    for file, data in r.files("law.yaml", "law"):
        entries = r.mapping(file, data, "law", "a mapping of id -> {text, source, as_of, certainty}")
        for lid in entries or {}:
            what = f"law '{lid}'"
            r.ident(file, line_of(entries, lid), lid, "law id")
            e = r.entry(file, entries, lid, what, LAW_KEYS)
            if e is None:
                continue
            text = r.string(file, e, "text", what=what)
            source = r.string(file, e, "source", what=what)
            as_of = r.string(file, e, "as_of", what=what)
            certainty = r.string(file, e, "certainty", what=what)
            if as_of and not DATE_RE.match(as_of):
                r.fail(file, line_of(e, "as_of"), f"{what}: 'as_of' must be a date like 2026-11-01, not {as_of!r}")
            if certainty and certainty not in ("verified", "reported"):
                r.fail(file, line_of(e, "certainty"), f"{what}: 'certainty' must be 'verified' or 'reported'")
            if certainty == "reported" and ARTICLE_RE.search(text):
                r.fail(
                    file,
                    line_of(e, "text"),
                    f"{what} is only reported (not verified): say it softly and cite no article number",
                )
            r.html(file, line_of(e, "text"), what, text)
            plain = r.string(file, e, "plain", what=what, required=False)
            r.html(file, line_of(e, "plain"), f"{what} plain", plain)
            law[str(lid)] = LawFact(str(lid), text, source, as_of, certainty, plain)
    return law


def read_checklists(r: Reader) -> dict[str, Checklist]:
    checklists: dict[str, Checklist] = {}
    for file, data in r.files("checklists.yaml", "checklists"):
        entries = r.mapping(file, data, "checklists", "a mapping of id -> {title, items}")
        for cid in entries or {}:
            what = f"checklist '{cid}'"
            r.ident(file, line_of(entries, cid), cid, "checklist id", short=True)
            c = r.entry(file, entries, cid, what, CHECKLIST_KEYS)
            if c is None:
                continue
            title = r.string(file, c, "title", what=what)
            raw = r.seq(file, c, "items", "a non-empty list of {id, text}", what=what)
            if raw is not None and not raw:
                r.fail(file, line_of(c, "items"), f"{what}: 'items' is empty (a checklist needs at least one)")
            if raw is not None and len(raw) > MAX_CHECKLIST_ITEMS:
                r.fail(
                    file,
                    line_of(c, "items"),
                    f"{what} has {len(raw)} items; at most {MAX_CHECKLIST_ITEMS} fit one "
                    "screen with its back button (split it, or move some into the node's text)",
                )
            items, seen = [], set()
            for i, _ in enumerate(raw or []):
                iwhat = f"{what}: item {i + 1}"
                it = r.entry(file, raw, i, iwhat, ITEM_KEYS)
                if it is None:
                    continue
                iline = line_of(raw, i)
                iid = r.string(file, it, "id", what=iwhat)
                if iid:
                    r.ident(file, iline, iid, "item id", short=True)
                if iid in seen:
                    r.fail(file, iline, f"item id {iid!r} appears twice in {what}")
                seen.add(iid)
                text = r.string(file, it, "text", what=iwhat, max_width=MAX_LABEL_WIDTH - 2)
                ticked_by = r.string(file, it, "ticked_by", what=iwhat, required=False) or None
                items.append(ChecklistItem(iid, text, ticked_by))
                if ticked_by:
                    r.ticked_by_refs.append((file, line_of(it, "ticked_by"), ticked_by))
            checklists[str(cid)] = Checklist(str(cid), title, tuple(items))
    return checklists


def read_categories(r: Reader) -> tuple[Category, ...]:
    categories: list[Category] = []
    for file, data in r.files("categories.yaml", "categories"):
        cats = r.seq(file, data, "categories", "a non-empty list of {id, label}")
        if cats is not None and not cats:
            r.fail(file, line_of(data, "categories"), "'categories' is empty (offer at least one)")
        seen: set[str] = set()
        for i, _ in enumerate(cats or []):
            c = r.entry(file, cats, i, f"category {i + 1}", CATEGORY_KEYS)
            if c is None:
                continue
            cid = r.string(file, c, "id", what=f"category {i + 1}")
            if cid:
                r.ident(file, line_of(cats, i), cid, "category id", short=True)
            if cid in seen:
                r.fail(file, line_of(cats, i), f"category id {cid!r} appears twice")
            seen.add(cid)
            categories.append(
                Category(cid, r.string(file, c, "label", what=f"category {i + 1}", max_width=MAX_LABEL_WIDTH))
            )
    return tuple(categories)


def check_ticked_by(r: Reader, categories: tuple[Category, ...]) -> None:
    """Checklist items' ``ticked_by`` name a known trigger (checked once categories are read)."""
    known = {c.id for c in categories}
    for file, line, ticked_by in r.ticked_by_refs:
        kind, _, cid = ticked_by.partition(":")
        if not (ticked_by == TICKED_BY_TESTIMONY or (kind == "category" and cid in known)):
            r.fail(
                file,
                line,
                f"'ticked_by' must be '{TICKED_BY_TESTIMONY}' or 'category:<id>' with an id from "
                f"categories.yaml ({', '.join(sorted(known))}), not {ticked_by!r}",
            )


@dataclass(frozen=True)
class Crisis:
    words: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()  # phrases that contain a word but are not distress ("想死你了")
    text: str = ""


def read_crisis(r: Reader) -> Crisis:
    crisis = Crisis()
    for file, data in r.files("crisis.yaml", "crisis"):
        c = r.entry(file, data, "crisis", "'crisis'", CRISIS_KEYS)
        if c is None:
            continue
        words = r.strings(file, c, "words", "a non-empty list of phrases", what="crisis", required=True)
        exceptions = r.strings(file, c, "except", "a list of phrases that are not distress", what="crisis")
        text = r.string(file, c, "text", what="crisis")
        r.html(file, line_of(c, "text"), "crisis text", text)
        crisis = Crisis(words, exceptions, text)
    return crisis


@dataclass(frozen=True)
class Steps:
    steps: tuple[Step, ...]
    file: str = ""
    line: int = 1
    read: bool = False  # False: steps.yaml was unreadable, so step numbers cannot be checked


def read_steps(r: Reader) -> Steps:
    result = Steps(())
    for file, data in r.files("steps.yaml", "steps"):
        raw = r.seq(file, data, "steps", f"a list of 1 to {MAX_STEPS} steps")
        if raw is None:
            continue
        line = line_of(data, "steps")
        if not 1 <= len(raw) <= MAX_STEPS:
            r.fail(file, line, f"'steps' lists {len(raw)} steps; a flow has 1 to {MAX_STEPS}")
            continue
        steps, short_lines = [], []
        for i, _ in enumerate(raw):
            st = r.entry(file, raw, i, f"step {i + 1}", STEP_KEYS)
            if st is None:
                continue
            if st.get("n") != i + 1 or isinstance(st.get("n"), bool):
                r.fail(file, line_of(st, "n"), f"step {i + 1}: 'n' must be {i + 1} (steps are numbered in order)")
            swhat = f"step {i + 1}"
            title = r.string(file, st, "title", what=swhat, max_width=MAX_TITLE_WIDTH, fits="for a /status line")
            short, node = r.string(file, st, "short", what=swhat), r.string(file, st, "node", what=swhat)
            steps.append(Step(i + 1, title, short, node))
            short_lines.append(line_of(st, "short"))
        widest = step_label_width(len(raw))
        for s, short_line in zip(steps, short_lines):
            if label_width(s.short) > widest:
                r.fail(
                    file,
                    short_line,
                    f"step {s.n}: the step bar does not fit one phone row: {len(raw)} steps share "
                    f"{STEP_BAR_WIDTH} cells, so each 'short' label may be {widest} cells wide; "
                    f"{s.short!r} is {label_width(s.short)} (a Chinese character counts 2)",
                )
        result = Steps(tuple(steps), file, line, len(steps) == len(raw))
    return result
