"""Navigation and checklists: the content's nodes, the step bar, ticks, /start /help /status.

Callback data:
    g|<src>|<dst>   follow a content button from node src to node dst
    s|<n>           jump to step n
    t|<node>|<item> tick or untick a checklist item of node (on its checklist screen)
    k|<node>        show node's checklist          w|<node>  show the law behind node
    m|              the list of steps
    a|<command>     a content button that runs a command (testimony, export, status, ...)
    h|              show where I am
"""

from __future__ import annotations

from flows.content import Node
from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.model import Message, Reply, Toast
from flows.screens import aside, checklist_screen, continue_row, law_screen, render, steps_screen


async def start(turn: Turn) -> list[Reply]:
    """The welcome; a deep link's parameter (``/start w_...``) goes to the feature that owns its
    prefix, and one nobody owns gets the ordinary welcome."""
    link = turn.engine.deep_link(turn.args) if turn.args else None
    if link is not None:
        return await link(turn)
    return await welcome(turn)


async def welcome(turn: Turn) -> list[Reply]:
    turn.case.awaiting = None
    turn.engine.move(turn.case, "restart")
    return [render(turn.case, turn.loc)]


async def help_(turn: Turn) -> list[Reply]:
    return [Message(turn.loc.msg("help"), continue_row(turn.loc))]


async def privacy(turn: Turn) -> list[Reply]:
    return [Message(turn.loc.msg("privacy"), continue_row(turn.loc))]


async def status(turn: Turn) -> list[Reply]:
    loc, case = turn.loc, turn.case
    current = loc.nodes[case.node].step
    lines = [loc.msg("status_header")]
    for st in loc.steps:
        lists = {n.checklist for n in loc.nodes.values() if n.step == st.n and n.checklist}
        total = sum(len(loc.checklists[c].items) for c in lists)
        done = sum(1 for c in lists for it in loc.checklists[c].items if f"{c}:{it.id}" in case.ticks)
        here = loc.msg("status_here") if current == st.n else ""
        lines.append(loc.msg("status_line", n=st.n, title=st.title, done=done, total=total, here=here))
    lines.append(loc.msg("status_evidence", count=await turn.store.evidence_count(case)))
    for feature in turn.engine.features:  # the case record's features (the log, the facts)
        if feature.status and (more := await feature.status(turn)):
            lines.append(more)
    return [Message("\n".join(lines), continue_row(loc))]


async def go(turn: Turn, src: str, dst: str) -> list[Reply]:
    if not turn.engine.move(turn.case, f"to:{dst}", source=src):
        raise Stale(dst)
    turn.case.awaiting = None
    return [Toast(""), render(turn.case, turn.loc)]


async def step(turn: Turn, n: int) -> list[Reply]:
    if not turn.engine.move(turn.case, f"step:{n}"):
        raise Stale(n)
    turn.case.awaiting = None
    return [Toast(""), render(turn.case, turn.loc)]


async def here(turn: Turn) -> list[Reply]:
    turn.case.awaiting = None  # also the cancel button of a text mode
    return [Toast(""), render(turn.case, turn.loc)]


def _node(turn: Turn, node_id: str) -> Node:
    node = turn.loc.nodes.get(node_id)
    if node is None:
        raise Stale(node_id)
    return node


async def tick(turn: Turn, node_id: str, item: str) -> list[Reply]:
    node = _node(turn, node_id)
    if not node.checklist or item not in {i.id for i in turn.loc.checklists[node.checklist].items}:
        raise Stale(item)
    turn.case.ticks ^= {f"{node.checklist}:{item}"}
    return [Toast(""), checklist_screen(turn.case, turn.loc, node, edit=True)]


async def checklist(turn: Turn, node_id: str) -> list[Reply]:
    node = _node(turn, node_id)
    if not node.checklist:
        raise Stale(node_id)
    return [Toast(""), checklist_screen(turn.case, turn.loc, node)]


async def law(turn: Turn, node_id: str) -> list[Reply]:
    node = _node(turn, node_id)
    if not node.law:
        raise Stale(node_id)
    return [Toast(""), law_screen(turn.loc, node)]


async def steps(turn: Turn) -> list[Reply]:
    extra = tuple(f.steps_row(turn.loc) for f in turn.engine.features if f.steps_row)
    return [Toast(""), steps_screen(turn.loc, extra)]


async def action(turn: Turn, name: str) -> list[Reply]:
    command = turn.engine.commands.get(name)
    if command is None:
        raise Stale(name)
    return [Toast(""), *await command(turn)]


async def unknown_command(turn: Turn) -> list[Reply]:
    return [aside(turn.case, turn.loc, turn.loc.msg("unknown_command"))]


FEATURE = Feature(
    name="navigation",
    commands={"start": start, "help": help_, "status": status, "privacy": privacy},
    buttons={
        "g": Route(go, (Id, Id)),
        "s": Route(step, (int,)),
        "t": Route(tick, (Id, Id)),
        "a": Route(action, (Id,)),
        "h": Route(here),
        "k": Route(checklist, (Id,)),
        "w": Route(law, (Id,)),
        "m": Route(steps),
    },
    messages=messages(
        {
            "help": "",
            "privacy": "",
            "status_header": "",
            "status_line": "n title done total here",
            "status_here": "",
            "status_evidence": "count",
            "unknown_command": "",
        }
    ),
)
