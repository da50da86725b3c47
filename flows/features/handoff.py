"""Handoff: a person asks for a human at the clinic, and a staff member answers through the bot.

Exists only when the clinic has a staff chat (``SHOUHU_STAFF_CHAT_ID``; the adapters leave this
feature out of the engine otherwise, so its button and /human never appear). Consent comes in
two separate steps, each on a screen that says exactly what will leave the person's chat:
    1. the case summary (flows/handoff_summary.py): facts, step, incident counts, the evidence
       list without files. No chat id, no account, no notes or captions, no file.
    2. the files themselves (originals), later and only if asked.
While the handoff is open, a staff member's Telegram reply to any of the bot's messages about
the case reaches the person (handlers/staff.py calls ``from_staff``), and what the person writes
in the "给工作人员留言" mode reaches the staff chat. Withdrawing (or /delete) deletes what the bot
sent to the staff chat where Telegram allows it (48 hours), tells the staff, and stops relaying
in both directions: relaying checks the open record under the person's chat lock every time.

The case record holds it all (no table of its own): kind ``handoff`` (record 1: state, the case
reference staff see, when opened/closed, how many times) and one ``handoff_msg`` record per
staff-chat message, findable by a keyed hash of (staff chat, message id), never a plain chat id.

Callback data:
    hf|        the handoff screen (consent, or what is open)      hp|   preview the summary
    hy|<evidence>|<incidents>|<facts>|<step>   consent to the summary as listed: send it
    hu|        send an updated summary
    hn|        write to the staff (text mode ``handoff_note``)
    hx|        the files screen                                   hxy|<no>  consent: files up to E-<no>
    hw|        ask to withdraw                                    hwy|  withdraw
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flows.content import Locale
from flows.feature import Feature, Route, Stale, Turn, messages
from flows.handoff_summary import FACT_FIELDS, SUMMARY_MESSAGES, case_summary, facts_present, split, step_title
from flows.model import (
    Awaiting,
    Btn,
    Keyboard,
    Message,
    Reply,
    StaffDelete,
    Toast,
    ToStaff,
    ToStaffFile,
)
from flows.record import FACTS, INCIDENT
from flows.screens import continue_row, human_size, render

HANDOFF = "handoff"  # record kind: one record (number 1) per case
HANDOFF_MSG = "handoff_msg"  # record kind: one per message the bot put in the staff chat for the case
NOTE = "handoff_note"  # the text mode: what the person types goes to the staff
OPEN, WITHDRAWN = "open", "withdrawn"
REF_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud on the phone
ITEMS_SHOWN = 12  # item numbers named one by one on the files screen; beyond that, ranges


def staff_token(staff_chat_id: int, message_id: int) -> str:
    """What a staff-chat message is found by (stored only as a keyed hash: ``lookup=``)."""
    return f"{staff_chat_id}:{message_id}"


def staff_locale(turn: Turn) -> Locale:
    """The staff read the clinic's own language (the content's default), whatever the person's."""
    return turn.engine.content.locale(turn.engine.content.default)


async def current(turn: Turn) -> dict[str, Any] | None:
    """The open handoff's record, or None (never asked, or withdrawn)."""
    body = await turn.store.record_get(turn.case, HANDOFF, 1)
    return body if body and body.get("state") == OPEN else None


async def _staff_messages(turn: Turn) -> list[tuple[int, dict]]:
    return await turn.store.record_list(turn.case, HANDOFF_MSG)


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------- screens


def _button(loc: Locale) -> tuple[Btn, ...]:
    return (Btn(loc.msg("btn_handoff"), "hf|"),)


async def _what_goes(turn: Turn) -> tuple[int, int, int, int]:
    """What the consent screen lists, as numbers: evidence items, incidents, the fact fields
    filled in (one bit each), the step. The consent button carries them, so a press after the
    case changed shows the screen again instead of sending more than was listed."""
    case, store = turn.case, turn.store
    facts = facts_present(await store.record_get(case, FACTS, 1))
    mask = sum(1 << i for i, f in enumerate(FACT_FIELDS) if f in facts)
    node = turn.loc.nodes.get(case.node)
    step = node.step if node and node.step else 0
    return await store.evidence_count(case), len(await store.record_list(case, INCIDENT)), mask, step


async def _consent_screen(turn: Turn) -> Message:
    loc, case = turn.loc, turn.case
    evidence, incidents, mask, step = await _what_goes(turn)
    labels = loc.msg("list_separator").join(
        loc.msg(f"handoff_field_{f}") for i, f in enumerate(FACT_FIELDS) if mask & (1 << i)
    )
    text = loc.msg(
        "handoff_consent",
        facts=labels or loc.msg("handoff_no_facts"),
        step=step_title(loc, case.node) or loc.msg("handoff_no_step"),
        incidents=incidents,
        evidence=evidence,
    )
    agree = f"hy|{evidence}|{incidents}|{mask}|{step}"
    return Message(
        text,
        (
            (Btn(loc.msg("btn_handoff_agree"), agree),),
            (Btn(loc.msg("btn_handoff_preview"), "hp|"), Btn(loc.msg("btn_cancel"), "h|")),
        ),
    )


def _open_buttons(loc: Locale) -> Keyboard:
    return (
        (Btn(loc.msg("btn_handoff_note"), "hn|"),),
        (Btn(loc.msg("btn_handoff_files"), "hx|"), Btn(loc.msg("btn_handoff_update"), "hu|")),
        (Btn(loc.msg("btn_handoff_withdraw"), "hw|"), Btn(loc.msg("btn_continue"), "h|")),
    )


async def home(turn: Turn) -> list[Reply]:
    """The button and /human: the consent screen, or what is open and what can be done."""
    turn.case.awaiting = None
    state = await current(turn)
    if state is None:
        return [Toast(""), await _consent_screen(turn)]
    return [Toast(""), Message(turn.loc.msg("handoff_open", ref=state["ref"]), _open_buttons(turn.loc))]


async def preview(turn: Turn) -> list[Reply]:
    """Exactly what consent would send, shown to the person first (nothing leaves)."""
    parts = await case_summary(turn, staff_locale(turn), ref=turn.loc.msg("handoff_ref_pending"), updated=False)
    shown = [Message(turn.loc.msg("handoff_preview_header"))] + [Message(p) for p in parts]
    return [Toast(""), *shown, await _consent_screen(turn)]


def _new_ref() -> str:
    return "H-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(6))


async def consent(turn: Turn, evidence: int, incidents: int, mask: int, step: int) -> list[Reply]:
    """The first consent: the summary goes to the staff chat; relaying starts."""
    if await current(turn) is not None:
        return await home(turn)
    if (evidence, incidents, mask, step) != await _what_goes(turn):  # the case changed since the screen
        return [Toast(turn.loc.msg("handoff_consent_changed")), await _consent_screen(turn)]
    old = await turn.store.record_get(turn.case, HANDOFF, 1)
    body = {"state": OPEN, "ref": _new_ref(), "opened_at": _now().isoformat(), "times": (old or {}).get("times", 0) + 1}
    if old is None:
        await turn.store.record_add(turn.case, HANDOFF, body)
    else:
        await turn.store.record_put(turn.case, HANDOFF, 1, body)
    parts = await case_summary(turn, staff_locale(turn), ref=body["ref"], updated=False)
    return [
        Toast(""),
        *_staff_messages_then(parts, Message(turn.loc.msg("handoff_sent", ref=body["ref"]), _open_buttons(turn.loc))),
    ]


def _staff_messages_then(texts: list[str], then: Message) -> list[Reply]:
    """Messages for the staff chat; ``then`` is shown to the person once the last one arrived."""
    return [ToStaff(Message(t), then=then if i == len(texts) - 1 else None) for i, t in enumerate(texts)]


async def update(turn: Turn) -> list[Reply]:
    """The summary again, as the case stands now (facts filled in since, new evidence)."""
    state = await current(turn)
    if state is None:
        raise Stale("handoff")
    parts = await case_summary(turn, staff_locale(turn), ref=state["ref"], updated=True)
    return [
        Toast(""),
        *_staff_messages_then(
            parts, Message(turn.loc.msg("handoff_updated", ref=state["ref"]), _open_buttons(turn.loc))
        ),
    ]


# ---------------------------------------------------------------------------- writing to the staff


async def ask_note(turn: Turn) -> list[Reply]:
    if await current(turn) is None:
        raise Stale("handoff")
    turn.case.awaiting = Awaiting(NOTE)
    return [Toast(""), Message(turn.loc.msg("handoff_note_prompt"), _note_row(turn.loc))]


def _note_row(loc: Locale) -> Keyboard:
    return ((Btn(loc.msg("btn_handoff_note_done"), "h|"),),)


def _to_staff(turn: Turn, key: str, ref: str, text: str, then: Message) -> list[Reply]:
    staff = staff_locale(turn)
    return _staff_messages_then([staff.msg(key, ref=ref, text=piece) for piece in split(text)], then)


async def note(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    """Typed in the note mode: relayed while the handoff is open (checked now, not when the mode began)."""
    state = await current(turn)
    if state is None:
        return [Message(turn.loc.msg("handoff_closed")), render(turn.case, turn.loc)]
    turn.case.awaiting = awaiting  # stay in the mode: a conversation is several messages
    return _to_staff(turn, "handoff_staff_note", state["ref"], text, Message(turn.loc.msg("handoff_note_sent")))


async def note_in_crisis(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    """Crisis words written to the staff: the engine has shown the crisis message first; the
    words were meant for a person, so they go on, marked, for the staff to act on."""
    state = await current(turn)
    if state is None:
        turn.case.awaiting = None
        return [Message(turn.loc.msg("handoff_closed"))]
    return _to_staff(
        turn, "handoff_staff_crisis_note", state["ref"], text, Message(turn.loc.msg("handoff_note_crisis_sent"))
    )


async def from_staff(turn: Turn, text: str) -> list[Reply]:
    """A staff member's reply, for the person: only while the handoff is open. An empty list
    means nothing was relayed (the adapter tells the staff so)."""
    state = await current(turn)
    if state is None:
        return []
    loc = turn.loc
    row = ((Btn(loc.msg("btn_handoff_reply"), "hn|"),),)
    pieces = split(text)
    return [
        Message(loc.msg("handoff_from_staff", ref=state["ref"], text=p), row if i == len(pieces) - 1 else ())
        for i, p in enumerate(pieces)
    ]


# ---------------------------------------------------------------------------- files: the second consent


def _numbers(loc: Locale, nos: list[int]) -> str:
    """E-001–E-004、E-007: the item numbers a consent covers, as ranges."""
    runs: list[list[int]] = []
    for n in sorted(nos):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return loc.msg("list_separator").join(
        f"E-{r[0]:03d}" if len(r) == 1 else f"E-{r[0]:03d}–E-{r[-1]:03d}" for r in runs
    )


async def _unsent(turn: Turn, up_to: int | None = None) -> list[tuple[int, int]]:
    """(item number, size) of evidence not yet sent to the staff, oldest first."""
    sent = {b["no"] for _, b in await _staff_messages(turn) if "no" in b}
    count = await turn.store.evidence_count(turn.case)
    items = await turn.store.evidence_page(turn.case, 0, count) if count else []
    return [(it.no, it.size) for it in items if it.no not in sent and (up_to is None or it.no <= up_to)]


async def files(turn: Turn) -> list[Reply]:
    loc = turn.loc
    if await current(turn) is None:
        raise Stale("handoff")
    unsent = await _unsent(turn)
    back = ((Btn(loc.msg("btn_back"), "hf|"),),)
    if not await turn.store.evidence_count(turn.case):
        return [Toast(""), Message(loc.msg("handoff_files_none"), back)]
    if not unsent:
        return [Toast(""), Message(loc.msg("handoff_files_all_sent"), back)]
    nos = [n for n, _ in unsent]
    text = loc.msg(
        "handoff_files_consent",
        count=len(nos),
        items=_numbers(loc, nos) if len(nos) <= ITEMS_SHOWN else _numbers(loc, nos[:ITEMS_SHOWN]) + "…",
        size=human_size(loc, sum(s for _, s in unsent)),
    )
    return [
        Toast(""),
        Message(
            text, ((Btn(loc.msg("btn_handoff_files_agree"), f"hxy|{max(nos)}"), Btn(loc.msg("btn_cancel"), "hf|")),)
        ),
    ]


async def send_files(turn: Turn, up_to: int) -> list[Reply]:
    """The second consent: the originals the files screen listed (none added since)."""
    state = await current(turn)
    if state is None:
        raise Stale("handoff")
    unsent = await _unsent(turn, up_to)
    staff = staff_locale(turn)
    return [
        Toast(""),
        Message(turn.loc.msg("handoff_files_sending", count=len(unsent)), _open_buttons(turn.loc)),
        *(
            ToStaffFile(no, staff.msg("handoff_staff_file_caption", ref=state["ref"], no=f"E-{no:03d}"))
            for no, _ in unsent
        ),
    ]


def file_not_sent(loc: Locale, no: int) -> Message:
    """Delivery's word when an original cannot go (damaged, or the disk failed now)."""
    return Message(loc.msg("handoff_file_not_sent", no=f"E-{no:03d}"))


def staff_unreachable(loc: Locale) -> Message:
    """Delivery's word when the staff chat refused the bot (removed from it, a wrong id)."""
    return Message(loc.msg("handoff_unreachable"), continue_row(loc))


# ---------------------------------------------------------------------------- withdrawing


async def ask_withdraw(turn: Turn) -> list[Reply]:
    loc = turn.loc
    if await current(turn) is None:
        raise Stale("handoff")
    return [
        Toast(""),
        Message(
            loc.msg("handoff_withdraw_confirm"),
            ((Btn(loc.msg("btn_handoff_withdraw_confirm"), "hwy|"), Btn(loc.msg("btn_cancel"), "hf|")),),
        ),
    ]


async def withdraw_staff_side(turn: Turn) -> list[Reply]:
    """Close the handoff: what the staff chat holds of the case is deleted (where Telegram
    lets the bot) and the staff are told; no message id is kept. Nothing if none is open."""
    state = await current(turn)
    if state is None:
        return []
    ids = []
    for rid, body in await _staff_messages(turn):
        ids.append(int(body["id"]))
        await turn.store.record_delete(turn.case, HANDOFF_MSG, rid)
    await turn.store.record_put(turn.case, HANDOFF, 1, {**state, "state": WITHDRAWN, "closed_at": _now().isoformat()})
    if turn.case.awaiting and turn.case.awaiting.kind == NOTE:
        turn.case.awaiting = None
    notice = ToStaff(Message(staff_locale(turn).msg("handoff_staff_withdrawn", ref=state["ref"])), track=False)
    return [StaffDelete(tuple(ids)), notice]


async def withdraw(turn: Turn) -> list[Reply]:
    replies = await withdraw_staff_side(turn)
    if not replies:
        raise Stale("handoff")
    return [Toast(""), *replies, Message(turn.loc.msg("handoff_withdrawn")), render(turn.case, turn.loc)]


async def human(turn: Turn) -> list[Reply]:
    return [r for r in await home(turn) if not isinstance(r, Toast)]


FEATURE = Feature(
    name="handoff",
    commands={"human": human},
    buttons={
        "hf": Route(home),
        "hp": Route(preview),
        "hy": Route(consent, (int, int, int, int)),
        "hu": Route(update),
        "hn": Route(ask_note),
        "hx": Route(files),
        "hxy": Route(send_files, (int,)),
        "hw": Route(ask_withdraw),
        "hwy": Route(withdraw),
    },
    texts={NOTE: note},
    crisis_texts={NOTE: note_in_crisis},
    steps_row=_button,
    on_delete=withdraw_staff_side,
    messages=SUMMARY_MESSAGES
    | messages(
        {
            "btn_handoff": "",
            "btn_handoff_agree": "",
            "btn_handoff_preview": "",
            "btn_handoff_note": "",
            "btn_handoff_note_done": "",
            "btn_handoff_reply": "",
            "btn_handoff_files": "",
            "btn_handoff_files_agree": "",
            "btn_handoff_update": "",
            "btn_handoff_withdraw": "",
            "btn_handoff_withdraw_confirm": "",
            "btn_cancel": "",
            "btn_back": "",
            "btn_continue": "",
            "handoff_consent": "facts step incidents evidence",
            "handoff_consent_changed": "",
            "handoff_no_facts": "",
            "handoff_no_step": "",
            "handoff_preview_header": "",
            "handoff_ref_pending": "",
            "handoff_sent": "ref",
            "handoff_updated": "ref",
            "handoff_open": "ref",
            "handoff_note_prompt": "",
            "handoff_note_sent": "",
            "handoff_note_crisis_sent": "",
            "handoff_closed": "",
            "handoff_from_staff": "ref text",
            "handoff_files_none": "",
            "handoff_files_all_sent": "",
            "handoff_files_consent": "count items size",
            "handoff_files_sending": "count",
            "handoff_file_not_sent": "no",
            "handoff_unreachable": "",
            "handoff_withdraw_confirm": "",
            "handoff_withdrawn": "",
            # what the staff chat reads (in the content's default language)
            "handoff_staff_note": "ref text",
            "handoff_staff_crisis_note": "ref text",
            "handoff_staff_file_caption": "ref no",
            "handoff_staff_withdrawn": "ref",
            "handoff_staff_not_relayed": "",
            "handoff_staff_text_only": "",
            "handoff_staff_not_delivered": "",
            # the terminal chat shows what would go to the staff chat
            "terminal_to_staff": "text",
            "terminal_staff_file": "name",
            "terminal_staff_delete": "count",
        }
    ),
)
