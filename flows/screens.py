"""Pieces of screens every feature uses: a content node rendered, the "continue" row, sizes
and times as a person reads them. Words come from content; this only arranges them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from flows.content import Locale, Node
from flows.feature import messages
from flows.model import Btn, Case, Keyboard, Message

MESSAGES = messages({
    "law_header": "", "law_line": "text source as_of", "checklist_hint": "", "disclaimer": "",
    "btn_continue": "", "stale_button": "", "error": "", "group_chat": "",
    # the adapters' own lines (Telegram's journal and flood notices, the terminal chat)
    "journal_trouble": "", "flood": "",
    "terminal_intro": "name", "terminal_pick": "count", "terminal_no_file": "path", "terminal_file": "path",
    "terminal_messages_removed": "count path",
})

_BEIJING = timezone(timedelta(hours=8))


def local_tz(loc: Locale) -> tzinfo:
    """The time zone the locale shows times in (defined once, in content's bot.yaml)."""
    return getattr(loc, "tz", _BEIJING)


def local_time(loc: Locale, t: datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return t.astimezone(local_tz(loc)).strftime(fmt)


def human_size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            break
    return f"{n:.1f} {unit}"


def continue_row(loc: Locale) -> Keyboard:
    return ((Btn(loc.msg("btn_continue"), "h|"),),)


def render(case: Case, loc: Locale, node: Node | None = None, *, edit: bool = False) -> Message:
    """A content node as one message: its text, its law, its checklist, its buttons, the step bar."""
    node = node or loc.nodes[case.node]
    parts = [node.text.strip()]
    if node.law:
        lines = [loc.msg("law_header")]
        for ref in node.law:
            f = loc.law[ref]
            lines.append(loc.messages["law_line"].format(text=f.text, source=f.source, as_of=f.as_of))  # law text is HTML already
        lines.append(loc.msg("disclaimer"))
        parts.append("\n".join(lines))
    rows: list[tuple[Btn, ...]] = []
    if node.checklist:
        parts.append(loc.msg("checklist_hint"))
        for item in loc.checklists[node.checklist].items:
            mark = "☑" if f"{node.checklist}:{item.id}" in case.ticks else "☐"
            rows.append((Btn(f"{mark} {item.text}", f"t|{node.id}|{item.id}"),))
    for row in node.buttons:
        rows.append(tuple(Btn(b.label, f"g|{node.id}|{b.go}" if b.go else f"a|{b.action}") for b in row))
    if node.nav:
        rows.append(tuple(Btn(st.short, f"s|{st.n}") for st in loc.steps))
    return Message("\n\n".join(parts), tuple(rows), edit)


def aside(case: Case, loc: Locale, text: str) -> Message:
    """Something the flow did not expect: a word, and the buttons of where the user is (what
    they can do now), without repeating the whole node."""
    return Message(text, render(case, loc).buttons)
