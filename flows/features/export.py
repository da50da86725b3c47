"""Export and deletion: the whole case as ZIP parts, or nothing of it left.

Callback data:
    x|ok  x|no   confirm / cancel the export
    d|ok  d|no   confirm / cancel deleting everything
The ZIP itself is built and sent by the adapters' delivery (handlers/delivery.py), part by part;
this module decides when, and says what happened.
"""

from __future__ import annotations

from flows.content import Locale
from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.model import Btn, DeleteMessages, Export, Message, Reply, Toast
from flows.record import FACTS, INCIDENT
from flows.screens import continue_row, render

FAILED_SHOWN = 100  # damaged items named in one message


async def _anything(turn: Turn) -> bool:
    """Evidence, or the case record the features export (the harassment log, the facts)."""
    if await turn.store.evidence_count(turn.case):
        return True
    return any([await turn.store.record_list(turn.case, kind) for kind in (INCIDENT, FACTS)])


async def ask_export(turn: Turn) -> list[Reply]:
    loc = turn.loc
    if not await _anything(turn):
        return [Message(loc.msg("export_empty"), continue_row(loc))]
    return [
        Message(
            loc.msg("export_confirm"),
            ((Btn(loc.msg("btn_confirm_export"), "x|ok"), Btn(loc.msg("btn_cancel"), "x|no")),),
        )
    ]


async def ask_delete(turn: Turn) -> list[Reply]:
    loc = turn.loc
    return [
        Message(
            loc.msg("delete_confirm"),
            ((Btn(loc.msg("btn_confirm_delete"), "d|ok"), Btn(loc.msg("btn_cancel"), "d|no")),),
        )
    ]


async def export(turn: Turn, answer: str) -> list[Reply]:
    loc = turn.loc
    if answer == "no":
        return [Toast(""), render(turn.case, loc)]
    if answer != "ok":
        raise Stale(answer)
    if not await _anything(turn):
        return [Toast(""), Message(loc.msg("export_empty"), continue_row(loc))]
    return [Toast(""), Message(loc.msg("export_preparing")), Export()]


async def delete(turn: Turn, answer: str) -> list[Reply]:
    loc = turn.loc
    if answer == "no":
        return [Toast(""), Message(loc.msg("delete_cancelled")), render(turn.case, loc)]
    if answer != "ok":
        raise Stale(answer)
    before: list[Reply] = []  # what other features must undo elsewhere first (a handoff withdrawn, invitations ended)
    for feature in turn.engine.features:
        if feature.on_delete:
            before += await feature.on_delete(turn)
    ids = await turn.store.case_delete(turn.case)
    turn.case.deleted = True
    return [Toast(""), *before, Message(loc.msg("delete_done")), DeleteMessages(tuple(ids))]


def export_summary(
    loc: Locale, count: int, parts: int, failed: list[int], unreadable: list[int] | tuple[int, ...] = ()
) -> list[Message]:
    """Damaged items (failed their check) and unreadable ones (the disk failed now) are named
    apart: only the first are a reason to worry about the evidence itself."""
    out = []
    for key, nos in (("export_item_failed", failed), ("export_item_unreadable", unreadable)):
        if nos:
            shown = ", ".join(f"E-{n:03d}" for n in nos[:FAILED_SHOWN]) + ("…" if len(nos) > FAILED_SHOWN else "")
            out.append(Message(loc.msg(key, items=shown)))
    if parts:
        out.append(Message(loc.msg("export_done", count=count, parts=parts)))
    return out


FEATURE = Feature(
    name="export",
    commands={"export": ask_export, "delete": ask_delete},
    buttons={"x": Route(export, (Id,)), "d": Route(delete, (Id,))},
    messages=messages(
        {
            "export_confirm": "",
            "export_empty": "",
            "export_preparing": "",
            "export_done": "count parts",
            "export_part_caption": "part parts",
            "export_item_failed": "items",
            "export_readme": "created count tz",
            "export_item_unreadable": "items",
            "export_no_space": "",
            "export_list_file": "",
            **{
                f"export_col_{c}": "tz" for c in ("no", "category", "note", "filename", "caption", "sha256", "received")
            },
            "delete_confirm": "",
            "delete_done": "",
            "delete_cancelled": "",
            "delete_finishing": "",
            "btn_confirm_export": "",
            "btn_confirm_delete": "",
            "btn_cancel": "",
        }
    ),
    plain_messages=frozenset(
        {"export_readme", "export_list_file"}
        | {f"export_col_{c}" for c in ("no", "category", "note", "filename", "caption", "sha256", "received")}
    ),
)
