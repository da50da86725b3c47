"""The typed, immutable shape of loaded content: what the engine and adapters read.

Everything here is already validated by the loader (``flows.content.load_content``); code that
holds a ``Locale`` may index ``nodes``, ``checklists`` and ``law`` by the ids content uses
without checking again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.content.drafts import DraftsContent
    from flows.content.interest import InterestRules


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
    phrases: tuple[str, ...] = ()  # what people type when they mean this node (free-text matching)


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
class Vocabulary:
    """phrases.yaml's word lists for the free-text matcher (flows/listen.py)."""

    greeting: tuple[str, ...] = ()
    thanks: tuple[str, ...] = ()
    filler: tuple[str, ...] = ()
    same: tuple[tuple[str, ...], ...] = ()  # groups of words that mean the same; the first stands for all


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
    tz: tzinfo  # the clock users read times in (a fixed UTC offset from bot.yaml)
    tz_label: str  # what that clock is called, e.g. 北京时间
    plain_text: frozenset[str] = field(default=frozenset(), repr=False)  # keys not sent as HTML
    crisis_exceptions: tuple[str, ...] = ()  # crisis.yaml ``except``: phrases that only look like distress
    vocabulary: Vocabulary = field(default_factory=Vocabulary, repr=False)
    drafts: DraftsContent | None = field(default=None, repr=False)  # templates, 证明内容, reminder delays
    interest: InterestRules | None = field(default=None, repr=False)  # interest.yaml: caps for the interest check

    def msg(self, key: str, **values: Any) -> str:
        """The sentence under ``key`` with ``values`` filled in (values are escaped for HTML)."""
        template = self.messages[key]
        if key in self.plain_text:
            return template.format(**values)
        return template.format(**{k: escape(str(v), quote=False) for k, v in values.items()})

    def category(self, cid: str | None) -> Category | None:
        return next((c for c in self.categories if c.id == cid), None)


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
