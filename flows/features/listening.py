"""Listening: what a person types, outside a moment that asked for text, gets an answer.

People in a panic type ("他们给我妈发消息了怎么办"); they do not read menus. The matcher
(flows/listen.py, built once per locale at start) finds the screens that answer it:
    sure        -> one short line saying what was understood, then that screen
    unsure      -> "你是想问这些吗？" with up to three screens to choose, and the steps
    greeting    -> a human answer; thanks -> a human answer
    nothing     -> a plain "I did not quite get that", with where they are and the steps
Nothing typed is ever refused.

Callback data:
    j|<node>   go to a screen the matcher offered
"""

from __future__ import annotations

from flows.content import Locale
from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.listen import Level, Listener, Social
from flows.model import Btn, Message, Reply, Toast
from flows.screens import render


def build(loc: Locale) -> Listener:
    v = loc.vocabulary
    return Listener(
        ((n.id, n.title, n.text, n.phrases) for n in loc.nodes.values()),
        greeting=v.greeting,
        thanks=v.thanks,
        filler=v.filler,
        same=v.same,
    )


def _steps_row(loc: Locale) -> tuple[Btn, ...]:
    return (Btn(loc.msg("btn_steps"), "m|"),)


async def answer(turn: Turn, text: str) -> list[Reply]:
    loc, case = turn.loc, turn.case
    listener: Listener = turn.prepared("listening")
    match = listener.match(text)
    here = render(case, loc)
    if match.level is Level.CONFIDENT and match.best and turn.engine.move(case, f"jump:{match.best.node}"):
        shown = render(case, loc)
        understood = loc.msg("listen_understood", title=loc.nodes[case.node].title)
        return [Message(f"{understood}\n\n{shown.text}", shown.buttons)]
    if match.level is Level.UNSURE:
        rows = tuple((Btn(loc.nodes[h.node].title, f"j|{h.node}"),) for h in match.hits if h.node in loc.nodes)
        return [Message(loc.msg("listen_unsure"), rows + (_steps_row(loc),))]
    if match.social is Social.GREETING:
        return [Message(loc.msg("listen_greeting", title=loc.nodes[case.node].title), here.buttons)]
    if match.social is Social.THANKS:
        return [Message(loc.msg("listen_thanks"), here.buttons)]
    return [Message(loc.msg("listen_none", title=loc.nodes[case.node].title), here.buttons)]


async def jump(turn: Turn, node: str) -> list[Reply]:
    if node not in turn.loc.nodes or not turn.engine.move(turn.case, f"jump:{node}"):
        raise Stale(node)
    turn.case.awaiting = None
    return [Toast(""), render(turn.case, turn.loc)]


FEATURE = Feature(
    name="listening",
    buttons={"j": Route(jump, (Id,))},
    free_text=answer,
    prepare=build,
    messages=messages(
        {
            "listen_understood": "title",
            "listen_unsure": "",
            "listen_greeting": "title",
            "listen_thanks": "",
            "listen_none": "title",
        }
    ),
)
