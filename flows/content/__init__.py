"""Content: YAML per locale -> validated, typed, immutable objects.

Every sentence a user reads comes from here. Loading is strict: all problems are collected and
reported together as ``file:line: what is wrong`` so an operator can fix a file in one pass, and
a malformed file is such a problem, never a traceback.

    model.py     the frozen dataclasses the engine reads (Locale, Node, Step, ...)
    tables.py    labels content may not change (the confirmation buttons)
    yamlines.py  a safe YAML loader that remembers the line of every key and item
    schema.py    Reader: typed accessors that report a problem instead of raising
    limits.py    what a phone and Telegram accept: label widths, message length, HTML subset
    sections.py  bot.yaml, law, checklists, categories, crisis, steps
    messages.py  messages*.yaml, merged
    nodes.py     nodes*.yaml
    phrases.py   phrases.yaml (optional): what people type, per node, for the free-text matcher
    interest.py  interest.yaml (optional): the LPR table and the lines the interest check compares with
    graph.py     references between nodes, reachability, dead ends
    shapes.py    every file's keys, types and limits, declared once (readers and schema use them)
    schema_json.py  content/schema.json generated from shapes.py, and a checker for it
    check.py     ``python bot.py check``: the loader per locale, then parity, limits once filled
                 in (fit.py), legal claims and their age, files the loader does not read
    drafts.py    templates/*.docx, drafts.yaml, reminders.yaml (drafts, filings, reminders)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flows.content.drafts import read_drafts
from flows.content.graph import check_graph
from flows.content.interest import InterestRules, read_interest
from flows.content.limits import (
    ALLOWED_TAGS,
    MAX_LABEL_WIDTH,
    MAX_ROW,
    MAX_STEPS,
    MAX_TEXT,
    STEP_BAR_WIDTH,
    html_problems,
    label_width,
    step_label_width,
)
from flows.content.messages import read_messages
from flows.content.model import (
    Button,
    Category,
    Checklist,
    ChecklistItem,
    Content,
    LawFact,
    Locale,
    Node,
    Step,
)
from flows.content.nodes import read_nodes
from flows.content.phrases import read_phrases
from flows.content.schema import ID_RE, ITEM_ID_RE, Reader
from flows.content.sections import (
    ARTICLE_RE,
    DATE_RE,
    check_ticked_by,
    read_bot,
    read_categories,
    read_checklists,
    read_crisis,
    read_law,
    read_steps,
)
from flows.content.tables import FIXED_LABELS
from flows.errors import ContentError, Problem

__all__ = [
    "ALLOWED_TAGS",
    "ARTICLE_RE",
    "DATE_RE",
    "FIXED_LABELS",
    "ID_RE",
    "ITEM_ID_RE",
    "MAX_LABEL_WIDTH",
    "MAX_ROW",
    "MAX_STEPS",
    "MAX_TEXT",
    "STEP_BAR_WIDTH",
    "Button",
    "Category",
    "Checklist",
    "ChecklistItem",
    "Content",
    "InterestRules",
    "LawFact",
    "Locale",
    "Node",
    "Step",
    "html_problems",
    "label_width",
    "load_content",
    "load_locale",
    "step_label_width",
]


def load_locale(
    folder: Path,
    *,
    actions: frozenset[str] | None = None,
    required_messages: Mapping[str, frozenset[str]] | None = None,
    plain_text_messages: frozenset[str] | None = None,
) -> tuple[Locale | None, list[Problem]]:
    """One locale folder: the Locale, or None and every problem found."""
    if actions is None or required_messages is None or plain_text_messages is None:
        from flows.engine import code_tables  # the features declare what they ask of content

        default_actions, default_required, default_plain = code_tables()
        actions = default_actions if actions is None else actions
        required_messages = default_required if required_messages is None else required_messages
        plain_text_messages = default_plain if plain_text_messages is None else plain_text_messages
    actions = frozenset(actions)
    required = required_messages
    plain = frozenset(plain_text_messages)
    r = Reader(Path(folder))
    bot = read_bot(r)
    if bot is None:
        return None, r.problems
    with r.section("law"):  # a broken fact is missing from ``law``: not reported again per node
        law = read_law(r)
    with r.section("checklists"):
        checklists = read_checklists(r)
    categories = read_categories(r)
    check_ticked_by(r, categories)
    crisis = read_crisis(r)
    messages = read_messages(r, required, plain)
    steps = read_steps(r)
    found = read_nodes(r, law, checklists, actions, len(steps.steps) if steps.read else None)
    vocabulary = read_phrases(r, found)
    interest = read_interest(r, law)
    check_graph(r, bot, steps, found)
    drafts = read_drafts(r, categories)
    if r.problems:
        return None, r.problems
    return Locale(
        code=bot.code,
        name=bot.name,
        language_codes=bot.language_codes,
        start=bot.start,
        steps=steps.steps,
        nodes=found.nodes,
        checklists=checklists,
        law=law,
        categories=categories,
        crisis_words=crisis.words,
        crisis_text=crisis.text,
        messages=messages,
        tz=bot.tz,
        tz_label=bot.tz_label,
        plain_text=plain,
        crisis_exceptions=crisis.exceptions,
        vocabulary=vocabulary,
        drafts=drafts,
        interest=interest,
    ), []


def load_content(
    root: Path,
    *,
    actions: frozenset[str] | None = None,
    required_messages: Mapping[str, frozenset[str]] | None = None,
    plain_text_messages: frozenset[str] | None = None,
) -> Content:
    """Load every locale folder under ``root``; raise ContentError listing every problem.

    ``actions`` are the names buttons may call and ``required_messages`` the message keys the
    code formats (each with the placeholders it supplies); ``plain_text_messages`` are keys not
    sent as HTML. Each defaults to what the engine's features declare (``flows.engine.code_tables``).
    """
    root = Path(root)
    if not root.is_dir():
        raise ContentError([Problem(str(root), 1, "content folder not found")])
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "bot.yaml").exists())
    if not folders:
        raise ContentError([Problem(str(root), 1, "no locale folder (expected e.g. zh-CN/bot.yaml)")])
    locales: dict[str, Locale] = {}
    problems: list[Problem] = []
    for folder in folders:
        loc, probs = load_locale(
            folder, actions=actions, required_messages=required_messages, plain_text_messages=plain_text_messages
        )
        problems += probs
        if loc:
            if loc.code in locales:
                problems.append(Problem(str(folder / "bot.yaml"), 1, f"locale '{loc.code}' is used by two folders"))
            locales[loc.code] = loc
    if problems:
        raise ContentError(problems)
    default = "zh-CN" if "zh-CN" in locales else next(iter(locales))
    return Content(locales, default)
