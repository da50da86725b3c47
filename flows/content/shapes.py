"""The shape of every content file, declared once: the loader's key tables and the JSON Schema.

The readers (sections.py, nodes.py, messages.py, phrases.py) take their allowed keys, id
patterns and limits from the declarations below, and ``jsonschema.py`` turns the same
declarations into ``content/schema.json`` for an operator's editor. So a key added here is
known to both, and nothing is written twice. What a JSON Schema cannot say (a button pointing at
a node that exists, a reachable graph, widths where a Chinese character counts two cells) stays
in the readers and ``check``; the schema is the part an editor can underline while typing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from flows.content.limits import MAX_LABEL_WIDTH, MAX_ROW, MAX_STEPS, MAX_TITLE_WIDTH

ID_PATTERN = r"^[a-z][a-z0-9_]{0,29}$"  # node, law and checklist ids
ITEM_ID_PATTERN = r"^[a-z][a-z0-9_]{0,23}$"  # ids that share a 64-byte callback with a node id
DATE_PATTERN = r"^\d{4}-\d{2}(-\d{2})?$"
OFFSET_PATTERN = r"^[+-](0\d|1[0-4]):[0-5]\d$"  # -14:00 to +14:00
MESSAGE_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
CERTAINTIES = ("verified", "reported")
MAX_CHECKLIST_ITEMS = 7  # one button each, plus "back": 8 buttons, what a phone screen holds


@dataclass(frozen=True)
class Text:
    """Text. ``numbers``: a number written bare (12378, 2026-11-01) is taken as written.
    ``max_width`` is in phone cells (a Chinese character counts 2); the schema can only say
    characters, so it allows that many characters and ``check`` measures cells."""

    doc: str = ""
    max_width: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] = ()
    numbers: bool = True


@dataclass(frozen=True)
class Number:
    doc: str = ""
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Flag:
    doc: str = ""


@dataclass(frozen=True)
class Date:
    """A day written 2026-11-01 (YAML reads it as a date; an editor sees text)."""

    doc: str = ""


@dataclass(frozen=True)
class ListOf:
    item: Shape
    doc: str = ""
    min_items: int = 0
    max_items: int | None = None


@dataclass(frozen=True)
class MapOf:
    """A mapping whose keys are ids (``key_pattern``) and whose values share one shape."""

    value: Shape
    doc: str = ""
    key_pattern: str = ID_PATTERN


@dataclass(frozen=True)
class Either:
    """One of several shapes (a button row: one button, or a list of up to three)."""

    options: tuple[Shape, ...]
    doc: str = ""


@dataclass(frozen=True)
class Field:
    shape: Shape
    required: bool = False


@dataclass(frozen=True)
class Obj:
    """A mapping with known keys; any other key is an error naming the allowed ones."""

    fields: dict[str, Field]
    doc: str = ""
    name: str = ""  # a name for the schema's definitions (shared shapes)
    exactly_one: tuple[str, ...] = ()  # exactly one of these keys must be present

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.fields)


Shape = Union[Text, Number, Flag, Date, ListOf, MapOf, Either, Obj]  # noqa: UP007 (a runtime alias)


def req(shape: Shape) -> Field:
    return Field(shape, True)


def opt(shape: Shape) -> Field:
    return Field(shape, False)


@dataclass(frozen=True)
class File:
    """A content file (or family of files, by glob) and the mapping at its top."""

    glob: str
    top: Obj
    doc: str = ""
    optional: bool = False  # a locale may leave it out
    by_loader: bool = True  # False: read elsewhere (interest.yaml); check validates it by this shape
    tops: tuple[str, ...] = field(default=())  # top keys that identify it (default: the required ones)

    @property
    def identified_by(self) -> tuple[str, ...]:
        return self.tops or tuple(k for k, f in self.top.fields.items() if f.required)


# ----------------------------------------------------------------------------- pieces

PHRASE_LIST = ListOf(Text("a phrase people type"), "things people type when they mean this")
LAW_REFS = ListOf(Text("an id from law.yaml", pattern=ID_PATTERN, numbers=False), "ids from law.yaml")
CERTAINTY = Text(
    "verified: the law's text was seen; reported: only second-hand (say it softly, cite no article)",
    enum=CERTAINTIES,
    numbers=False,
)

BOT = Obj(
    {
        "locale": req(Text("the locale's code, like zh-CN or en", numbers=False)),
        "name": req(Text("the bot's name in this language")),
        "language_codes": req(
            ListOf(Text("a Telegram language_code prefix", numbers=False), "Telegram languages that pick it", 1)
        ),
        "start": req(Text("the node /start shows", pattern=ID_PATTERN, numbers=False)),
        "timezone": req(Text('a UTC offset in quotes, like "+08:00"', pattern=OFFSET_PATTERN, numbers=False)),
        "timezone_label": req(Text("what that clock is called, e.g. 北京时间")),
    },
    "bot.yaml: the locale, its name, which Telegram languages pick it, the start node, the clock",
)

STEP = Obj(
    {
        "n": req(Number("1, 2, 3... in order", integer=True, minimum=1, maximum=MAX_STEPS)),
        "title": req(Text("shown in /status and the list of steps", max_width=MAX_TITLE_WIDTH)),
        "short": req(Text("the step bar's label: all of them share one row (40 cells / n)")),
        "node": req(Text("the step's entry node", pattern=ID_PATTERN, numbers=False)),
    },
    "one step",
    "step",
)
STEPS = Obj({"steps": req(ListOf(STEP, f"1 to {MAX_STEPS} steps, in order", 1, MAX_STEPS))}, "steps.yaml")

BUTTON = Obj(
    {
        "label": req(Text("the button's words (at most 15 Chinese characters)", max_width=MAX_LABEL_WIDTH)),
        "go": opt(Text("a node id: where the button goes", pattern=ID_PATTERN, numbers=False)),
        "action": opt(Text("a named action of the code (testimony, evidence, export...)", numbers=False)),
    },
    "a button: a label and exactly one of go or action",
    "button",
    exactly_one=("go", "action"),
)
NODE = Obj(
    {
        "title": req(Text("shown in /status and 'where you are'", max_width=MAX_TITLE_WIDTH)),
        "text": req(Text("Telegram HTML; at most 600 characters on screen")),
        "step": opt(Number("the step this node belongs to", integer=True, minimum=1, maximum=MAX_STEPS)),
        "law": opt(LAW_REFS),
        "checklist": opt(Text("an id from checklists.yaml", pattern=ITEM_ID_PATTERN, numbers=False)),
        "buttons": opt(
            ListOf(
                Either((BUTTON, ListOf(BUTTON, "up to 3 buttons side by side", 1, MAX_ROW)), "a row"),
                "rows of buttons: a button, or a list of up to 3",
            )
        ),
        "nav": opt(Flag("the step navigation row underneath (default true)")),
        "phrases": opt(PHRASE_LIST),
    },
    "a screen of the conversation",
    "node",
)
NODES = Obj({"nodes": req(MapOf(NODE, "node id -> node"))}, "nodes*.yaml")

ITEM = Obj(
    {
        "id": req(Text("the item's id; keep it stable (ticks are stored by it)", pattern=ITEM_ID_PATTERN)),
        "text": req(Text("the button's words (a ☐ goes in front)", max_width=MAX_LABEL_WIDTH - 2)),
        "ticked_by": opt(Text("what ticks it by itself: testimony, or category:<id>", numbers=False)),
    },
    "a checklist item",
    "checklist_item",
)
CHECKLIST = Obj(
    {
        "title": req(Text("the checklist's title")),
        "items": req(ListOf(ITEM, f"1 to {MAX_CHECKLIST_ITEMS} items", 1, MAX_CHECKLIST_ITEMS)),
    },
    "a checklist",
    "checklist",
)
CHECKLISTS = Obj({"checklists": req(MapOf(CHECKLIST, "checklist id -> checklist", ITEM_ID_PATTERN))}, "checklists.yaml")

CATEGORY = Obj(
    {
        "id": req(Text("the category's id; keep it stable", pattern=ITEM_ID_PATTERN)),
        "label": req(Text("the button's words", max_width=MAX_LABEL_WIDTH)),
    },
    "an evidence category",
    "category",
)
CATEGORIES = Obj(
    {"categories": req(ListOf(CATEGORY, "the buttons offered after each upload", 1))},
    "categories.yaml",
)

LAW_FACT = Obj(
    {
        "text": req(Text("what the law says, in our words")),
        "plain": opt(Text("one everyday sentence: what it means for the person")),
        "source": req(Text("where it is written (in the original language)")),
        "as_of": req(Date("the day its legal status was checked")),
        "certainty": req(CERTAINTY),
    },
    "a legal claim",
    "law_fact",
)
LAW = Obj({"law": req(MapOf(LAW_FACT, "law id -> legal claim"))}, "law.yaml")

CRISIS_ENTRY = Obj(
    {
        "words": req(ListOf(Text("a phrase of distress"), "any one, anywhere in a message", 1)),
        "except": opt(ListOf(Text("a phrase"), "phrases that contain a word but are not distress")),
        "text": req(Text("the crisis message (Telegram HTML)")),
    },
    "distress words and the message shown first",
)
CRISIS = Obj({"crisis": req(CRISIS_ENTRY)}, "crisis.yaml")

MESSAGES = Obj(
    {
        "messages": req(
            MapOf(Text("the sentence; {placeholders} as the code names them"), "key -> text", MESSAGE_KEY_PATTERN)
        )
    },
    "messages*.yaml",
)

WORDS = ListOf(Text("a word"), "a list of words")
PHRASES = Obj(
    {
        "phrases": req(MapOf(PHRASE_LIST, "node id -> phrases")),
        "greeting": opt(WORDS),
        "thanks": opt(WORDS),
        "filler": opt(WORDS),
        "same": opt(ListOf(ListOf(Text("a word"), "words that mean the same", 2), "groups of words")),
    },
    "phrases.yaml: what people type, for the free-text matcher",
)

_CLAIM_FIELDS = {
    "law": opt(LAW_REFS),
    "source": opt(Text("where it is written")),
    "as_of": opt(Date("the day it was checked")),
    "certainty": opt(CERTAINTY),
}
INTEREST = Obj(
    {
        "lpr_1y": req(
            Obj(
                {
                    "confirmed_through": req(Date("the latest fixing checked against a source")),
                    "confirmed_through_source": opt(Text("where it was checked")),
                    "values": req(
                        ListOf(
                            Obj(
                                {
                                    "from": req(Date("the day it was published")),
                                    "rate": req(Number("percent: 3.10 means 3.10%", minimum=0, maximum=20)),
                                    "certainty": req(CERTAINTY),
                                    "source": req(Text("where the number was seen")),
                                    "as_of": req(Date("the day it was checked")),
                                },
                                "one change of the one-year LPR",
                            ),
                            "the fixings, in date order",
                            1,
                        )
                    ),
                },
                "the one-year LPR table",
            )
        ),
        "lpr_cap": req(
            Obj(
                {
                    "multiple": req(Number("how many times the LPR", minimum=0)),
                    "applies_to": opt(Text("to which loans")),
                    **_CLAIM_FIELDS,
                },
                "the multiple of the LPR courts support",
            )
        ),
        "lines": req(
            MapOf(
                Obj(
                    {
                        "rate": req(Number("percent", minimum=0)),
                        "certainty": req(Text("verified, reported or unverified", enum=(*CERTAINTIES, "unverified"))),
                        "source": opt(Text("where it is written")),
                        "note": opt(Text("why it is only a number")),
                        "as_of": req(Date("the day it was checked")),
                        "law": opt(LAW_REFS),
                    },
                    "a fixed line (24%, 36%)",
                ),
                "line id -> line",
            )
        ),
    },
    "interest.yaml: the LPR table and the lines the interest check compares with (its words: messages_interest.yaml)",
)

PROVES = Obj(
    {
        "proves": req(
            MapOf(
                Text("what items of this category prove (the evidence list's 证明内容 column)"),
                "evidence category id -> what it proves; a category left out gets a blank",
                ITEM_ID_PATTERN,
            )
        )
    },
    "what the drafts read besides the templates",
)
DRAFTS = Obj({"drafts": req(PROVES)}, "drafts.yaml: for the .docx drafts (templates/*.docx)")
REMINDER = Obj(
    {
        "after_days": req(
            Number("days after the filing (or the day it was recorded)", integer=True, minimum=1, maximum=365)
        ),
        "source": req(Text("the rule the period rests on")),
        "as_of": req(Date("the day it was checked")),
        "certainty": req(CERTAINTY),
    },
    "when a follow-up is due, and the rule behind that period",
    "reminder",
)
REMINDERS = Obj(
    {"reminders": req(MapOf(REMINDER, "rule (complaint_no_answer, police_no_receipt, lawsuit_next) -> delay"))},
    "reminders.yaml: when follow-ups after a filing are due",
)

FILES: tuple[File, ...] = (
    File("bot.yaml", BOT, tops=("locale",)),
    File("steps.yaml", STEPS),
    File("nodes*.yaml", NODES),
    File("checklists.yaml", CHECKLISTS),
    File("categories.yaml", CATEGORIES),
    File("law.yaml", LAW),
    File("crisis.yaml", CRISIS),
    File("messages*.yaml", MESSAGES),
    File("phrases.yaml", PHRASES, optional=True),
    File("interest.yaml", INTEREST, optional=True, by_loader=False, tops=("lpr_1y",)),
    File("drafts.yaml", DRAFTS),
    File("reminders.yaml", REMINDERS),
)


def file_for(name: str) -> File | None:
    """The declaration for a file name (interest.yaml before messages*.yaml: both hold messages)."""
    from fnmatch import fnmatch

    return next((f for f in FILES if fnmatch(name, f.glob)), None)
