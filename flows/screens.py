"""Pieces of screens every feature uses: a content node rendered, the "continue" row, sizes
and times as a person reads them. Words come from content; this only arranges them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from flows.content import Locale, Node
from flows.feature import messages
from flows.model import Btn, Case, Keyboard, Message

MESSAGES = messages(
    {
        "law_header": "",
        "law_line": "plain text source as_of",
        "law_plain": "plain",
        "checklist_hint": "",
        "disclaimer": "",
        "checklist_header": "title done total",
        "steps_header": "count",
        "btn_checklist": "done total",
        "btn_law": "",
        "btn_back": "",
        "btn_prev_step": "",
        "btn_next_step": "",
        "btn_steps": "",
        "btn_continue": "",
        "list_separator": "",
        "clause_separator": "",
        "label_separator": "",
        "size_bytes": "n",
        "size_kb": "n",
        "size_mb": "n",
        "size_gb": "n",
        "stale_button": "",
        "error": "",
        "group_chat": "",
        # the adapters' own lines (Telegram's journal and flood notices, the terminal chat)
        "journal_trouble": "",
        "flood": "",
        "crisis_not_saved": "",
        "crisis_file_kept": "",
        "crisis_followup": "",
        "terminal_intro": "name",
        "terminal_pick": "count",
        "terminal_no_file": "path",
        "terminal_file": "path",
        "terminal_messages_removed": "count path",
    }
)

_BEIJING = timezone(timedelta(hours=8))


def local_tz(loc: Locale) -> tzinfo:
    """The time zone the locale shows times in (defined once, in content's bot.yaml)."""
    return getattr(loc, "tz", _BEIJING)


def local_time(loc: Locale, t: datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return t.astimezone(local_tz(loc)).strftime(fmt)


def human_size(loc: Locale, n: float) -> str:
    """98 字节, 1.5 KB, 12.0 MB: the unit's words from content."""
    if n < 1024:
        return loc.msg("size_bytes", n=f"{n:.0f}")
    for unit in ("kb", "mb", "gb"):
        n /= 1024
        if n < 1024 or unit == "gb":
            break
    return loc.msg(f"size_{unit}", n=f"{n:.1f}")


def continue_row(loc: Locale) -> Keyboard:
    return ((Btn(loc.msg("btn_continue"), "h|"),),)


def checklist_counts(case: Case, loc: Locale, checklist: str) -> tuple[int, int]:
    items = loc.checklists[checklist].items
    return sum(1 for it in items if f"{checklist}:{it.id}" in case.ticks), len(items)


def nav_row(loc: Locale, node: Node) -> tuple[Btn, ...]:
    """One row under every step's node: the previous step, the list of steps, the next step."""
    numbers = [st.n for st in loc.steps]
    row = []
    if node.step in numbers and numbers.index(node.step) > 0:
        row.append(Btn(loc.msg("btn_prev_step"), f"s|{numbers[numbers.index(node.step) - 1]}"))
    row.append(Btn(loc.msg("btn_steps"), "m|"))
    if node.step in numbers and numbers.index(node.step) < len(numbers) - 1:
        row.append(Btn(loc.msg("btn_next_step"), f"s|{numbers[numbers.index(node.step) + 1]}"))
    return tuple(row)


def render(case: Case, loc: Locale, node: Node | None = None, *, edit: bool = False) -> Message:
    """A content node as one short message: its text, then its buttons, then a row with its
    checklist and the law behind it (each a screen of its own), then the step navigation."""
    node = node or loc.nodes[case.node]
    rows: list[tuple[Btn, ...]] = []
    for row in node.buttons:
        rows.append(tuple(Btn(b.label, f"g|{node.id}|{b.go}" if b.go else f"a|{b.action}") for b in row))
    extra = []
    if node.checklist:
        done, total = checklist_counts(case, loc, node.checklist)
        extra.append(Btn(loc.msg("btn_checklist", done=done, total=total), f"k|{node.id}"))
    if node.law:
        extra.append(Btn(loc.msg("btn_law"), f"w|{node.id}"))
    if extra:
        rows.append(tuple(extra))
    if node.nav:
        rows.append(nav_row(loc, node))
    return Message(node.text.strip(), tuple(rows), edit)


def checklist_screen(case: Case, loc: Locale, node: Node, *, edit: bool = False) -> Message:
    """The node's checklist: one button per item, ticked in place."""
    assert node.checklist
    checklist = loc.checklists[node.checklist]
    done, total = checklist_counts(case, loc, node.checklist)
    rows: list[tuple[Btn, ...]] = []
    for item in checklist.items:
        mark = "☑" if f"{checklist.id}:{item.id}" in case.ticks else "☐"
        rows.append((Btn(f"{mark} {item.text}", f"t|{node.id}|{item.id}"),))
    rows.append((Btn(loc.msg("btn_back"), "h|"),))
    text = loc.msg("checklist_header", title=checklist.title, done=done, total=total) + "\n" + loc.msg("checklist_hint")
    return Message(text, tuple(rows), edit)


def law_screen(loc: Locale, node: Node) -> Message:
    """What the law behind a node says: plain words first, then the text and where it is from."""
    parts = [loc.msg("law_header")]
    for ref in node.law:
        f = loc.law[ref]
        plain = getattr(f, "plain", "")
        plain = loc.messages["law_plain"].format(plain=plain) if plain else ""
        parts.append(loc.messages["law_line"].format(plain=plain, text=f.text, source=f.source, as_of=f.as_of).strip())
    parts.append(loc.msg("disclaimer"))
    return Message("\n\n".join(parts), ((Btn(loc.msg("btn_back"), "h|"),),))


def steps_screen(loc: Locale, extra: Keyboard = ()) -> Message:
    """The list of steps, from steps.yaml: one button each. Every step's navigation row opens
    it, so ``extra`` (rows the enabled features add, e.g. 找真人帮忙) is one tap from any step
    without crowding screens that already hold eight buttons."""
    rows = tuple((Btn(f"{st.n}. {st.title}", f"s|{st.n}"),) for st in loc.steps)
    return Message(loc.msg("steps_header", count=len(loc.steps)), rows + extra + ((Btn(loc.msg("btn_back"), "h|"),),))


def aside(case: Case, loc: Locale, text: str) -> Message:
    """Something the flow did not expect: a word, and the buttons of where the user is (what
    they can do now), without repeating the whole node."""
    return Message(text, render(case, loc).buttons)
