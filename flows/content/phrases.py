"""phrases.yaml (optional): what people type when they mean a node, and the small vocabulary the
free-text matcher (``flows/listen.py``) uses.

Phrases may also be written on a node itself (``phrases:`` in nodes*.yaml); both end up in
``Node.phrases``. This module checks the file's shape so a typo is ``file:line`` from ``check``
rather than a phrase silently ignored; a phrase claimed by two nodes is reported in graph.py.
"""

from __future__ import annotations

from dataclasses import replace

from flows.content.model import Vocabulary
from flows.content.nodes import Nodes
from flows.content.schema import Reader, kind
from flows.content.shapes import PHRASES
from flows.content.yamlines import LineList, line_of

WORD_LISTS = ("greeting", "thanks", "filler")  # lists of words the matcher treats specially
PHRASES_KEYS = PHRASES.keys  # declared in shapes.py, which also makes the JSON Schema


def _word(w: object) -> bool:
    return (isinstance(w, str) and bool(w.strip())) or (isinstance(w, int) and not isinstance(w, bool))


def read_phrases(r: Reader, found: Nodes) -> Vocabulary:
    """Add phrases.yaml's phrases to the nodes they name (in ``found``), reporting bad shapes;
    return its word lists."""
    vocabulary = Vocabulary()
    if not (r.folder / "phrases.yaml").exists():
        return vocabulary
    for file, data in r.files("phrases.yaml", "phrases", PHRASES_KEYS):
        words = {key: r.strings(file, data, key, "a list of words") for key in WORD_LISTS}
        groups = r.seq(file, data, "same", "a list of groups like [怎么, 咋, 如何]", required=False)
        for i, group in enumerate(groups or []):
            if not isinstance(group, LineList) or len(group) < 2 or not all(_word(w) for w in group):
                shown = kind(group) if not isinstance(group, LineList) else f"[{', '.join(map(str, group))}]"
                r.fail(file, line_of(groups, i), f"'same': group {i + 1} must list two or more words, not {shown}")
        same = tuple(tuple(str(w) for w in g) for g in groups or [] if isinstance(g, LineList) and len(g) > 1)
        vocabulary = Vocabulary(words["greeting"], words["thanks"], words["filler"], same)
        table = r.mapping(file, data, "phrases", "a mapping of node id -> list of phrases")
        for nid in table or {}:
            line = line_of(table, nid)
            if nid not in found.where:
                if "nodes" not in r.incomplete:
                    r.fail(file, line, f"phrases for node '{nid}', which is not in any nodes*.yaml")
                continue
            said = r.strings(file, table, nid, "a list of things people type", what="phrases")
            for p in said:
                found.phrases.setdefault(p, []).append((str(nid), file, line))
            node = found.nodes.get(str(nid))
            if node is not None:
                found.nodes[node.id] = replace(node, phrases=tuple(dict.fromkeys(node.phrases + said)))
    return vocabulary
