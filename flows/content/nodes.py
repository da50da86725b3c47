"""nodes*.yaml: the screens of the conversation, spread over any number of files.

A node's fields are type-checked here, and its references to law facts, checklists and actions
(which are known by now) are resolved; references to other nodes wait for ``graph.py``, since a
button may point at a node in a file not read yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.content.limits import MAX_LABEL_WIDTH, MAX_ROW, MAX_STEPS, MAX_TITLE_WIDTH, label_width, visible_text
from flows.content.model import Button, Checklist, LawFact, Node
from flows.content.schema import Reader, kind
from flows.content.shapes import BUTTON, NODE
from flows.content.yamlines import LineList, LineMap, line_of

# A node's body must fit a phone screen: 600 Chinese characters, measured in cells like labels
# (a Chinese character counts 2), so that a Latin-script locale gets the same room on screen
# (about 1200 letters) rather than half a screen.
MAX_SCREEN_TEXT = 600
MAX_SCREEN_CELLS = 2 * MAX_SCREEN_TEXT
MAX_SCREEN_BUTTONS = 8
NODE_KEYS = NODE.keys  # declared in shapes.py, which also makes the JSON Schema
BUTTON_KEYS = BUTTON.keys


@dataclass(frozen=True)
class GoRef:
    """A button that goes to another node, and where it was written."""

    file: str
    line: int
    node: str
    label: str
    target: str


@dataclass
class Nodes:
    nodes: dict[str, Node] = field(default_factory=dict)
    where: dict[str, tuple[str, int]] = field(default_factory=dict)
    gos: list[GoRef] = field(default_factory=list)
    phrases: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)  # phrase -> [(node, file, line)]
    dropped: bool = False  # a node or button was unusable, so reachability would mislead


def read_nodes(
    r: Reader, law: dict[str, LawFact], checklists: dict[str, Checklist], actions: frozenset[str], steps: int | None
) -> Nodes:
    """Every node of every nodes*.yaml; ``steps`` is how many steps there are (None: unknown)."""
    out = Nodes()
    for file, data in r.files("nodes*.yaml", "nodes"):
        ns = r.mapping(file, data, "nodes", "a mapping of id -> node")
        if ns is None:
            continue
        for nid in ns:
            line = line_of(ns, nid)
            if nid in out.where:
                f0, l0 = out.where[nid]
                r.fail(file, line, f"node id '{nid}' is used twice (first at {f0}:{l0})")
                continue
            out.where[nid] = (file, line)
            r.ident(file, line, nid, "node id")
            node = _read_node(r, file, ns, str(nid), law, checklists, actions, steps, out)
            if node is not None:
                out.nodes[node.id] = node
    return out


def _read_node(
    r: Reader,
    file: str,
    ns: LineMap,
    nid: str,
    law: dict[str, LawFact],
    checklists: dict[str, Checklist],
    actions: frozenset[str],
    steps: int | None,
    out: Nodes,
) -> Node | None:
    what = f"node '{nid}'"
    n = r.entry(file, ns, nid, what, NODE_KEYS)
    if n is None:
        return None
    title = r.string(file, n, "title", what=what, max_width=MAX_TITLE_WIDTH, fits="for a /status line")
    text = r.string(file, n, "text", what=what)
    r.html(file, line_of(n, "text"), f"{what} text", text)

    step = n.get("step")
    most = steps if steps is not None else MAX_STEPS
    if step is not None and (not isinstance(step, int) or isinstance(step, bool) or not 1 <= step <= most):
        r.fail(file, line_of(n, "step"), f"{what}: 'step' must be a step number from 1 to {most}, not {kind(step)}")
        step = None

    lawrefs = r.strings(file, n, "law", "a list of ids from law.yaml", what=what)
    for ref in lawrefs:
        if ref not in law and "law" not in r.incomplete:
            r.fail(file, line_of(n, "law"), f"{what}: law '{ref}' is not in law.yaml")

    checklist = n.get("checklist")
    if checklist is not None and not isinstance(checklist, str):
        r.fail(
            file,
            line_of(n, "checklist"),
            f"{what}: 'checklist' must be an id from checklists.yaml, not {kind(checklist)}",
        )
        checklist = None
    if checklist is not None and checklist not in checklists:
        if "checklists" not in r.incomplete:
            r.fail(file, line_of(n, "checklist"), f"{what}: checklist {checklist!r} is not in checklists.yaml")
        checklist = None

    nav = n.get("nav", True)
    if not isinstance(nav, bool):
        r.fail(file, line_of(n, "nav"), f"{what}: 'nav' must be true or false, not {kind(nav)}")
        nav = True

    phrases = r.strings(file, n, "phrases", "a list of things people type, like [要不要还钱]", what=what)
    for p in phrases:
        out.phrases.setdefault(p, []).append((nid, file, line_of(n, "phrases")))

    rows = _read_buttons(r, file, n, nid, actions, out)
    _check_screen(r, file, n, what, text, rows, checklist, lawrefs, nav, step, steps)
    return Node(nid, title, text, step, lawrefs, checklist, rows, nav, phrases)


def _check_screen(
    r: Reader,
    file: str,
    n: LineMap,
    what: str,
    text: str,
    rows: tuple,
    checklist: str | None,
    lawrefs: tuple[str, ...],
    nav: bool,
    step: int | None,
    steps: int | None,
) -> None:
    """What a phone shows must fit it: the body at most MAX_SCREEN_CELLS cells, and the
    node's buttons plus the ones the engine adds (checklist, law, the navigation row of up to
    three) at most MAX_SCREEN_BUTTONS."""
    cells = label_width(visible_text(text))
    if cells > MAX_SCREEN_CELLS:
        r.fail(
            file,
            line_of(n, "text"),
            f"{what} text is {cells} cells; a phone screen holds {MAX_SCREEN_CELLS} "
            f"({MAX_SCREEN_TEXT} Chinese characters, a Chinese character counting 2): split it into two nodes",
        )
    moves = (step is not None and step > 1) + (step is not None and step < (steps or 0))  # previous, next step
    added = bool(checklist) + bool(lawrefs) + ((1 + moves) if nav else 0)
    total = sum(len(row) for row in rows) + added
    if total > MAX_SCREEN_BUTTONS:
        r.fail(
            file,
            line_of(n, "buttons"),
            f"{what} would show {total} buttons ({added} added by the bot: "
            f"checklist, law, navigation); at most {MAX_SCREEN_BUTTONS} fit a phone",
        )


def _read_buttons(
    r: Reader, file: str, n: LineMap, nid: str, actions: frozenset[str], out: Nodes
) -> tuple[tuple[Button, ...], ...]:
    what = f"node '{nid}'"
    raw_rows = r.seq(file, n, "buttons", "a list of rows (a button, or a list of up to 3)", what=what, required=False)
    if raw_rows is None and n.get("buttons") is not None:
        out.dropped = True
    rows = []
    for i, row in enumerate(raw_rows or []):
        rline = line_of(raw_rows, i)
        cells: LineList | list = row if isinstance(row, list) else [row]
        if len(cells) > MAX_ROW:
            r.fail(file, rline, f"{what}: a row holds at most {MAX_ROW} buttons")
        buttons = []
        for j, b in enumerate(cells):
            bline = line_of(cells, j, rline)
            if not isinstance(b, LineMap):
                out.dropped = True
                r.fail(
                    file,
                    bline,
                    f"{what}: a button must be {{label: ..., go: node}} or {{label: ..., action: ...}}, not {kind(b)}",
                )
                continue
            r.keys(file, b, BUTTON_KEYS, f"{what}: button")
            label = r.string(file, b, "label", what=f"{what}: button", max_width=MAX_LABEL_WIDTH)
            go, action = b.get("go"), b.get("action")
            if (go is None) == (action is None):
                r.fail(file, bline, f"{what}: button {label!r} needs exactly one of 'go' or 'action'")
                out.dropped = True
                continue
            if go is not None:
                if not isinstance(go, str):
                    r.fail(file, line_of(b, "go"), f"{what}: button {label!r}: 'go' must be a node id, not {kind(go)}")
                    out.dropped = True
                    continue
                out.gos.append(GoRef(file, line_of(b, "go"), nid, label, go))
                buttons.append(Button(label, go=go))
            elif not isinstance(action, str) or action not in actions:
                shown = repr(action) if isinstance(action, str) else kind(action)
                r.fail(
                    file, line_of(b, "action"), f"{what}: unknown action {shown}; known: {', '.join(sorted(actions))}"
                )
            else:
                buttons.append(Button(label, action=action))
        rows.append(tuple(buttons))
    return tuple(rows)
