"""Does what the bot will really send fit Telegram, once the code has filled the placeholders?

The loader checks each sentence as written; this fills every ``{placeholder}`` with the longest
value the code can put there (``SAMPLES``: an evidence number, a title from this locale, a note
cut to the 200 characters the item view shows...) and renders every node, its law page and its
checklist the way the engine does (``flows.screens``). It reports what Telegram would refuse or
a phone would cut: a message over 4096 characters or with broken HTML, a button label too wide,
callback data over 64 bytes, a command description over 256 characters, a pop-up over 200.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flows.content.limits import MAX_LABEL_WIDTH, MAX_TEXT, html_problems, label_width, placeholders
from flows.content.model import Locale

MAX_CALLBACK_BYTES = 64
MAX_COMMAND_DESCRIPTION = 256  # BotCommand.description
MAX_TOAST = 200  # answerCallbackQuery text
TOASTS = ("stale_button", "language_name")  # keys the code also shows as a pop-up
LONG_NOTE = "长" * 200 + "…"  # a note or caption as the item view shows it (evidence.NOTE_PREVIEW)


def samples(loc: Locale) -> dict[str, str]:
    """The longest value the code puts into each placeholder, in this locale."""
    longest_title = max((n.title for n in loc.nodes.values()), key=len, default="")
    longest_step = max((s.title for s in loc.steps), key=len, default="")
    longest_category = max((c.label for c in loc.categories), key=len, default="")
    return {
        "no": "E-99999",
        "n": "1023.9",
        "count": "99999",
        "page": "999",
        "pages": "999",
        "done": "7",
        "total": "7",
        "limit_mb": "2000",
        "quota_mb": "99999",
        "part": "99",
        "parts": "99",
        "title": max(longest_title, longest_step, key=len),
        "category": longest_category,
        "name": max(loc.name, loc.messages.get("language_name", ""), key=len),
        "kind": "video_note",
        "size": "1023.9 MB",
        "date": "2026-12-31",
        "time_utc": "2026-12-31 23:59:59",
        "time_beijing": "2026-12-31 23:59:59",
        "created": "2026-12-31 23:59:59",
        "sha_short": "0123456789abcdef…",
        "sha": "0" * 64,
        "note": LONG_NOTE,
        "caption": LONG_NOTE,
        "items": ", ".join(f"E-{i:03d}" for i in range(1, 41)),
        "tz": "UTC+08:00",
        "here": loc.messages.get("status_here", ""),
        "path": "/" + "x" * 120,
    }


@dataclass(frozen=True)
class Misfit:
    """Something that would not fit: which message or node (``where``: a key or a node id)."""

    kind: str  # "message", "node", "law", "checklist", "steps"
    where: str
    message: str


def check_fit(loc: Locale, required: dict[str, frozenset[str]], plain: frozenset[str]) -> list[Misfit]:
    return list(_messages(loc, required, plain)) + list(_screens(loc))


def _messages(loc: Locale, required: dict[str, frozenset[str]], plain: frozenset[str]) -> Iterator[Misfit]:
    values = samples(loc)
    for key, text in loc.messages.items():
        names, errors = placeholders(text)
        if errors or not names <= required.get(key, frozenset()):
            continue  # the loader reported it already
        filled = loc.msg(key, **{n: values.get(n, "X" * 30) for n in required.get(key, frozenset())})
        if key not in plain:
            problems, visible = html_problems(filled)
            for p in problems:
                yield Misfit("message", key, f"once filled in, {p} (Telegram would refuse the message)")
        else:
            visible = len(filled)
        if visible > MAX_TEXT:
            yield Misfit("message", key, f"is {visible} characters once filled in; Telegram allows {MAX_TEXT}")
        if key.startswith("btn_") and label_width(filled) > MAX_LABEL_WIDTH:
            yield Misfit(
                "message",
                key,
                f"the button reads {filled!r} once filled in: {label_width(filled)} cells, at most {MAX_LABEL_WIDTH}",
            )
        if key.startswith("command_") and len(filled) > MAX_COMMAND_DESCRIPTION:
            yield Misfit("message", key, f"Telegram's command menu allows {MAX_COMMAND_DESCRIPTION} characters")
        if key in TOASTS and len(filled) > MAX_TOAST:
            yield Misfit("message", key, f"is also shown as a pop-up, which holds {MAX_TOAST} characters")


def _screens(loc: Locale) -> Iterator[Misfit]:
    from flows.model import Case  # the engine's own renderers: what is checked is what is sent
    from flows.screens import checklist_screen, law_screen, render, steps_screen

    all_ticks = {f"{c}:{i.id}" for c in loc.checklists for i in loc.checklists[c].items}
    for node in loc.nodes.values():
        for ticks in (set(), all_ticks):
            case = Case("check", 0, loc.code, node.id, set(ticks))
            yield from _fits("node", node.id, lambda c=case: render(c, loc))
            if node.checklist:
                yield from _fits("checklist", node.id, lambda c=case, n=node: checklist_screen(c, loc, n))
        if node.law:
            yield from _fits("law", node.id, lambda n=node: law_screen(loc, n))
    yield from _fits("steps", loc.start, lambda: steps_screen(loc))


def _fits(kind: str, where: str, build: Callable) -> Iterator[Misfit]:
    try:
        shown = build()
    except (KeyError, ValueError, IndexError) as exc:  # a message the screen needs is broken
        yield Misfit(kind, where, f"cannot be shown: {exc!r}")
        return
    problems, visible = html_problems(shown.text)
    for p in problems:
        yield Misfit(kind, where, f"as shown, {p} (Telegram would refuse the message)")
    if visible > MAX_TEXT:
        yield Misfit(kind, where, f"as shown is {visible} characters; Telegram allows {MAX_TEXT}")
    for row in shown.buttons:
        for b in row:
            if len(b.data.encode()) > MAX_CALLBACK_BYTES:
                yield Misfit(kind, where, f"button {b.label!r} carries {b.data!r}, over {MAX_CALLBACK_BYTES} bytes")
            if label_width(b.label) > MAX_LABEL_WIDTH + 2:  # "☑ " in front of a checklist item
                yield Misfit(kind, where, f"button {b.label!r} is {label_width(b.label)} cells wide, too wide")
