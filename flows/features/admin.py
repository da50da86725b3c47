"""The operator's side: what /stats shows, and the note a person gets when content changed under them.

Admin commands are not engine commands: they never touch a case, and they must not show up in
anyone else's menu or answer anyone else (handlers/admin.py serves them to SHOUHU_ADMIN_IDS
only). This feature only declares their words (content keys, checked by ``check``) and builds
the screens, so the sentences live in content/<locale>/messages_admin.yaml like every other.

/stats is counts only, and small counts are hidden: any number below ``SMALL`` shows as "<5",
so a small clinic's numbers cannot single anyone out. Nothing a victim wrote, no chat id and
no name is ever read for it (storage's ``Stats`` holds none).

When a reload removes the node a person was at, ``relocate`` takes them to the start of the
step that node belonged to (or the locale's start when it belonged to none) and returns the
short note that says so. Ticks of checklist items that content no longer has stay in the case
(they come back if the item does) but nothing counts or shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from flows.feature import Feature, messages
from flows.model import Case, Message
from flows.screens import human_size

if TYPE_CHECKING:
    from flows.content import Content, Locale

SMALL = 5
ADMIN_COMMANDS = ("stats", "reload")  # served by handlers/admin.py; their menu text: command_<name>
# record kinds /stats counts, with the message key of their line (and <key>_none when there is no
# record of that kind at all); a feature that keeps drafts or handoffs in the case record must use
# these kinds (flows/record.py has INCIDENT)
COUNTED_RECORDS = (
    ("incident", "admin_stats_incidents"),
    ("draft", "admin_stats_drafts"),
    ("handoff", "admin_stats_handoffs"),
)


class Counts(Protocol):
    """What /stats reads (storage.base.Stats): numbers and content ids, nothing about a person."""

    @property
    def cases(self) -> int: ...
    @property
    def cases_by_node(self) -> Mapping[tuple[str, str], int]: ...  # (locale, node) -> cases there
    @property
    def active_7d(self) -> int: ...
    @property
    def active_30d(self) -> int: ...
    @property
    def evidence_items(self) -> int: ...
    @property
    def evidence_bytes(self) -> int: ...
    @property
    def records(self) -> Mapping[str, int]: ...  # kind -> records of that kind


MESSAGES = messages(
    {
        "command_stats": "",
        "command_reload": "",
        "admin_stats_header": "",
        "admin_stats_cases": "cases active7 active30",
        "admin_stats_step": "n title count",
        "admin_stats_no_step": "count",
        "admin_stats_evidence": "items size",
        "admin_stats_evidence_few": "items",
        "admin_stats_incidents": "count",
        "admin_stats_incidents_none": "",
        "admin_stats_drafts": "count",
        "admin_stats_drafts_none": "",
        "admin_stats_handoffs": "count",
        "admin_stats_handoffs_none": "",
        "admin_reload_ok": "locales nodes",
        "admin_reload_failed": "count problems",
        "admin_reload_more": "count",
        "content_moved_step": "n title",
        "content_moved_start": "",
    }
)


def shown(n: int) -> str:
    """A count as /stats may show it: "<5" below five, so nobody is singled out."""
    return f"<{SMALL}" if n < SMALL else str(n)


def stats_screen(content: Content, loc: Locale, stats: Counts) -> Message:
    """The /stats message in the admin's locale. Cases are counted by the step of the node they
    are at, in their own locale; a node content no longer has counts under "no step"."""
    by_step: dict[int, int] = {}
    no_step = 0
    for (code, node_id), count in stats.cases_by_node.items():
        node = content.locales[code].nodes.get(node_id) if code in content.locales else None
        if node is None or node.step is None:
            no_step += count
        else:
            by_step[node.step] = by_step.get(node.step, 0) + count
    lines = [
        loc.msg("admin_stats_header"),
        loc.msg(
            "admin_stats_cases",
            cases=shown(stats.cases),
            active7=shown(stats.active_7d),
            active30=shown(stats.active_30d),
        ),
    ]
    lines += [
        loc.msg("admin_stats_step", n=st.n, title=st.title, count=shown(by_step.get(st.n, 0))) for st in loc.steps
    ]
    lines.append(loc.msg("admin_stats_no_step", count=shown(no_step)))
    if stats.evidence_items < SMALL:
        lines.append(loc.msg("admin_stats_evidence_few", items=shown(stats.evidence_items)))
    else:
        lines.append(
            loc.msg("admin_stats_evidence", items=stats.evidence_items, size=human_size(loc, stats.evidence_bytes))
        )
    for kind, key in COUNTED_RECORDS:
        count = stats.records.get(kind, 0)
        # no record of the kind at all: this version may not keep them yet, so say so, not "<5"
        lines.append(loc.msg(key, count=shown(count)) if count else loc.msg(f"{key}_none"))
    return Message("\n".join(lines))


def reload_report(loc: Locale, problems: list[str], *, limit: int = 3000) -> str:
    """The refusal an admin reads: every problem that fits in one Telegram message."""
    kept: list[str] = []
    size = 0
    for p in problems:
        size += len(p) + 1
        if size > limit:
            break
        kept.append(p)
    text = loc.msg("admin_reload_failed", count=len(problems), problems="\n".join(kept))
    if len(kept) < len(problems):
        text += "\n" + loc.msg("admin_reload_more", count=len(problems) - len(kept))
    return text


def reload_done(content: Content, loc: Locale) -> str:
    return loc.msg(
        "admin_reload_ok",
        locales=", ".join(content.locales),
        nodes=sum(len(lc.nodes) for lc in content.locales.values()),
    )


# ----------------------------------------------------------------------------- content changed under a user


def relocate(case: Case, loc: Locale, former: Mapping[str, Mapping[str, int]]) -> Message:
    """``case.node`` is gone from ``loc``: move the case to the start of the step its node was in
    (``former``: locale -> node -> step, of content that ran before) and say so."""
    n = former.get(case.locale, {}).get(case.node)
    step = next((st for st in loc.steps if st.n == n), None)
    case.locale = loc.code  # a removed locale falls back to the default one; keep them together
    if step is None:
        case.node = loc.start
        return Message(loc.msg("content_moved_start"))
    case.node = step.node
    return Message(loc.msg("content_moved_step", n=step.n, title=step.title))


def node_steps(content: Content) -> dict[str, dict[str, int]]:
    """locale -> node -> step, for the nodes that belong to a step."""
    return {
        code: {nid: node.step for nid, node in loc.nodes.items() if node.step is not None}
        for code, loc in content.locales.items()
    }


def former_steps(previous: Mapping[str, Mapping[str, int]], new: Content) -> dict[str, dict[str, int]]:
    """What ``relocate`` needs after a change: the step of every node known before that ``new``
    no longer has."""
    out: dict[str, dict[str, int]] = {}
    for code, table in previous.items():
        present = new.locales[code].nodes if code in new.locales else {}
        gone = {nid: n for nid, n in table.items() if nid not in present}
        if gone:
            out[code] = gone
    return out


FEATURE = Feature(name="admin", messages=MESSAGES)
