"""Export and deletion: the whole case as ZIP parts, or nothing of it left.

Callback data:
    x|ok|<nonce>  x|no|<nonce>   confirm / cancel the export
    d|ok|<nonce>  d|no|<nonce>   confirm / cancel deleting everything
Each confirmation works once (flows/confirm.py): a used, cancelled or replaced one, pressed
again, changes nothing and says so; a cancel takes the buttons off the confirmation.
The ZIP itself is built and sent by the adapters' delivery (handlers/delivery.py), part by part;
this module decides when, and says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flows import confirm
from flows.content import Locale
from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.model import Btn, DeleteMessages, Export, Message, Reply, Toast
from flows.record import FACTS, INCIDENT
from flows.screens import continue_row, render

FAILED_SHOWN = 100  # damaged items named in one message
EXPORT, DELETE = "export", "delete"
# the case record of an export under way: written with the press that starts it, removed when it
# has ended (delivery: sent, or failed with a word to the person). One still there at the next
# start was cut off by the process dying: ``interrupted`` says so. ``due_at`` (when it began)
# makes it findable across cases (``Storage.due_records``) without a table of its own.
RUNNING = "export_running"


@dataclass(frozen=True)
class Deleted(Message):
    """Said once a deletion has committed. The engine answers before the commit, so it cannot
    know whether the old pages have left the disk; delivery shows ``finishing`` instead of
    ``text`` while storage says the wipe is still pending (``Storage.wipe_pending``)."""

    finishing: str = ""


def expired(loc: Locale) -> list[Reply]:
    """A confirmation pressed after it was used, cancelled or replaced: nothing happens, the
    person is told so, and its buttons are taken away."""
    return [Toast(loc.msg("confirm_expired_toast")), Message(loc.msg("confirm_expired"), edit=True)]


async def _anything(turn: Turn) -> bool:
    """Evidence, or the case record the features export (the harassment log, the facts)."""
    if await turn.store.evidence_count(turn.case):
        return True
    return any([await turn.store.record_list(turn.case, kind) for kind in (INCIDENT, FACTS)])


async def ask_export(turn: Turn) -> list[Reply]:
    loc = turn.loc
    if not await _anything(turn):
        return [Message(loc.msg("export_empty"), continue_row(loc))]
    nonce = await confirm.issue(turn, EXPORT)
    return [
        Message(
            loc.msg("export_confirm"),
            ((Btn(loc.msg("btn_confirm_export"), f"x|ok|{nonce}"), Btn(loc.msg("btn_cancel"), f"x|no|{nonce}")),),
        )
    ]


async def ask_delete(turn: Turn) -> list[Reply]:
    loc = turn.loc
    nonce = await confirm.issue(turn, DELETE)
    return [
        Message(
            loc.msg("delete_confirm"),
            ((Btn(loc.msg("btn_confirm_delete"), f"d|ok|{nonce}"), Btn(loc.msg("btn_cancel"), f"d|no|{nonce}")),),
        )
    ]


async def export(turn: Turn, answer: str, nonce: str) -> list[Reply]:
    loc = turn.loc
    if answer not in ("ok", "no"):
        raise Stale(answer)
    taken = await confirm.take(turn, EXPORT, nonce)
    if answer == "no":  # the buttons go whatever the nonce: a cancel is always safe
        return [Toast(""), Message(loc.msg("export_cancelled"), edit=True), render(turn.case, loc)]
    if not taken:
        return expired(loc)
    if not await _anything(turn):
        return [Toast(""), Message(loc.msg("export_empty"), continue_row(loc))]
    await started(turn)  # committed with this press: a kill from here on is noticed at the next start
    return [Toast(""), Message(loc.msg("export_preparing"), edit=True), Export()]  # the confirmation becomes this


async def started(turn: Turn) -> None:
    """Remember that an export of this case is under way (one marker per case)."""
    now = datetime.now(UTC)
    body = {"at": now.isoformat()}
    found = await turn.store.record_list(turn.case, RUNNING)
    if found:
        await turn.store.record_put(turn.case, RUNNING, found[0][0], body, due_at=now)
    else:
        await turn.store.record_add(turn.case, RUNNING, body, due_at=now)


async def ended(turn: Turn) -> bool:
    """Forget the export under way; True if one was remembered."""
    found = await turn.store.record_list(turn.case, RUNNING)
    for rid, _ in found:
        await turn.store.record_delete(turn.case, RUNNING, rid)
    return bool(found)


async def interrupted(turn: Turn) -> list[Reply]:
    """At start: an export still remembered as under way was cut off when the process stopped.
    The person hears it once (the marker goes in the same transaction), with the button that
    builds the export again; nothing of the evidence was touched by the cut."""
    if not await ended(turn):
        return []
    loc = turn.loc
    again = (Btn(loc.msg("btn_export_again"), f"a|{EXPORT}"),)  # the export command, as content's buttons run it
    return [Message(loc.msg("export_interrupted"), (again, *continue_row(loc)))]


async def delete(turn: Turn, answer: str, nonce: str) -> list[Reply]:
    loc = turn.loc
    if answer not in ("ok", "no"):
        raise Stale(answer)
    taken = await confirm.take(turn, DELETE, nonce)
    if answer == "no":
        return [Toast(""), Message(loc.msg("delete_cancelled"), edit=True), render(turn.case, loc)]
    if not taken:
        return expired(loc)
    before: list[Reply] = []  # what other features must undo elsewhere first (a handoff withdrawn, invitations ended)
    for feature in turn.engine.features:
        if feature.on_delete:
            before += await feature.on_delete(turn)
    ids = await turn.store.case_delete(turn.case)
    turn.case.deleted = True
    return [
        Toast(""),
        *before,
        Deleted(loc.msg("delete_done"), finishing=loc.msg("delete_finishing")),
        DeleteMessages(tuple(ids)),
    ]


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
    buttons={"x": Route(export, (Id, Id)), "d": Route(delete, (Id, Id))},
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
            "export_interrupted": "",
            "btn_export_again": "",
            "export_list_file": "",
            **{
                f"export_col_{c}": "tz" for c in ("no", "category", "note", "filename", "caption", "sha256", "received")
            },
            "delete_confirm": "",
            "delete_done": "",
            "delete_cancelled": "",
            "delete_finishing": "",
            "export_cancelled": "",
            "export_busy": "",
            "export_busy_later": "",
            "confirm_expired": "",
            "confirm_expired_toast": "",
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
