"""The conversation as a graph: every target exists, every node is reachable, none is a dead end.

Runs after all files are read, because buttons, steps and the start node may point at nodes in
any nodes*.yaml. A node nobody can reach is an error, not a warning: it is text an operator
believes users see.
"""

from __future__ import annotations

from flows.content.nodes import Nodes
from flows.content.schema import Reader
from flows.content.sections import Bot, Steps


def check_graph(r: Reader, bot: Bot, steps: Steps, found: Nodes) -> None:
    if "nodes" in r.incomplete:
        return  # a nodes file is unreadable: every button into it would look broken
    nodes = found.nodes
    for ref in found.gos:
        if ref.target not in found.where:
            r.fail(ref.file, ref.line, f"node '{ref.node}': button {ref.label!r} goes to unknown node '{ref.target}'")
    for nid, node in nodes.items():
        if not node.nav and not any(b.go or b.action for row in node.buttons for b in row):
            r.fail(*found.where[nid], f"node '{nid}' is a dead end: give it a button or leave nav on")
    for st in steps.steps:
        if st.node and st.node not in found.where:
            r.fail(steps.file, steps.line, f"step {st.n} starts at unknown node '{st.node}'")
    for phrase, owners in found.phrases.items():
        first, f0, l0 = owners[0]
        reported = {first}
        for nid, file, line in owners[1:]:
            if nid not in reported:
                reported.add(nid)
                r.fail(
                    file,
                    line,
                    f"node '{nid}': phrase {phrase!r} also leads to node '{first}' ({f0}:{l0}); "
                    "a phrase must lead to one place",
                )
    if not bot.start:
        return
    if bot.start not in found.where:
        r.fail(bot.file, bot.start_line, f"start node '{bot.start}' is not defined in any nodes*.yaml")
        return
    if found.dropped or len(nodes) < len(found.where):
        return  # a broken node or button (already reported) would make the nodes behind it look unreachable
    step_nodes = [s.node for s in steps.steps if s.node in nodes]
    seen, todo = {bot.start}, [bot.start]
    while todo:
        node = nodes[todo.pop()]
        nxt = [b.go for row in node.buttons for b in row if b.go in nodes]
        if node.nav:
            nxt += step_nodes
        for t in nxt:
            if t is not None and t not in seen:
                seen.add(t)
                todo.append(t)
    for nid in nodes:
        if nid not in seen:
            r.fail(*found.where[nid], f"node '{nid}' cannot be reached from the start node '{bot.start}'")
