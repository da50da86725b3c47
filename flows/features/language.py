"""Language: /language lists the content's locales, a button switches, and the choice is kept.

Telegram's ``language_code`` picks the first locale of a new case (it can be missing or
wrong); this lets a person choose. Each locale names itself (``language_name``).

Callback data:
    l|<code>   switch to locale code (e.g. l|zh-CN)
"""

from __future__ import annotations

from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.model import Btn, Message, Reply, Toast
from flows.screens import continue_row, render


async def choose(turn: Turn) -> list[Reply]:
    locales = turn.engine.content.locales
    rows = tuple(
        (Btn(("✓ " if code == turn.case.locale else "") + loc.msg("language_name"), f"l|{code}"),)
        for code, loc in locales.items()
    )
    return [Message(turn.loc.msg("language_choose"), rows + continue_row(turn.loc))]


async def switch(turn: Turn, code: str) -> list[Reply]:
    loc = turn.engine.content.locales.get(code)
    if loc is None:
        raise Stale(code)
    turn.case.locale = code
    if turn.case.node not in loc.nodes:
        turn.case.node = loc.start
    return [
        Toast(loc.msg("language_name")),
        Message(loc.msg("language_switched", name=loc.msg("language_name"))),
        render(turn.case, loc),
    ]


FEATURE = Feature(
    name="language",
    commands={"language": choose},
    buttons={"l": Route(switch, (Id,))},
    messages=messages({"language_name": "", "language_choose": "", "language_switched": "name"}),
)
