"""The relative's side: open the link, consent, come back, review and delete what they added,
hand it over, leave. (What they write, send, review and delete: ``witness_account``.) Everything of theirs is
stored in the INVITER's case, sealed under the inviter's key; this chat's own case keeps only a
pointer (``witness_link``).

The relative never reaches the inviter's case: every button carries a number of THIS chat's own
link records, and a link leads to one invitation and only its parts.

Callback data:
    vc|<token> vn|<token>   consent yes / no (before anything is stored, no link exists yet)
    vh|<link>  home        vp|<link>  their rights     vl|<link>  the law behind them
    vo|<link>  leave: start their own case
    vu|<link>  ask to hand over   vuy|<link>  hand over
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flows.content import Locale
from flows.feature import Stale, Turn
from flows.features.navigation import welcome
from flows.features.witness_record import (
    INVITE,
    LINK,
    PART,
    TOKEN_RE,
    WAITING,
    Invitation,
    Link,
    Part,
    State,
    failed_try,
    invitation,
    inviter_label,
    links,
    may_try,
    parts,
    put_link,
    put_part,
    save,
    who_label,
)
from flows.features.witness_victim import show, submitted_notice
from flows.model import Awaiting, Btn, Case, Keyboard, Message, Notify, Reply, Toast
from flows.screens import law_screen, local_time

log = logging.getLogger(__name__)

RIGHTS_NODE = "relatives"  # content's page for relatives: their rights and a reply for collectors


@dataclass
class Helping:
    """A relative's link, and the invitation it leads to in the inviter's case."""

    link: Link
    victim: Case
    inv: Invitation


def home_row(loc: Locale, rid: int) -> tuple[Btn, ...]:
    return (Btn(loc.msg("witness_btn_home"), f"vh|{rid}"),)


def own_case_row(loc: Locale, rid: int | None = None) -> tuple[Btn, ...]:
    return (Btn(loc.msg("witness_btn_own_case"), f"vo|{rid}" if rid else "h|"),)


async def refused(turn: Turn) -> list[Reply]:
    """One calm sentence and the ordinary welcome: forged, used, revoked, expired, someone
    else's, or too many tries. Which of these it was is never said."""
    return [Message(turn.loc.msg("witness_link_refused")), *await welcome(turn)]


async def _link(turn: Turn, rid: int) -> Link:
    found = next((lk for lk in await links(turn) if lk.rid == rid), None)
    if found is None:
        raise Stale(rid)
    return found


async def helping(turn: Turn, rid: int, *, adding: bool = False) -> Helping | list[Reply]:
    """The link and its invitation, or (it has ended) the words that say so. ``adding``: the
    relative may still add things (else review and delete are enough)."""
    link = await _link(turn, rid)
    loc = turn.loc
    followed = await _follow(turn, link)
    if isinstance(followed, str):
        return [Message(loc.msg(followed), (own_case_row(loc),))]
    victim, inv = followed
    if inv.open_at(turn.now) or (not adding and inv.state is State.SUBMITTED):
        return Helping(link, victim, inv)
    turn.case.awaiting = None
    return [Message(loc.msg("witness_submitted_already"), (home_row(loc, rid), own_case_row(loc, rid)))]


async def _follow(turn: Turn, link: Link) -> tuple[Case, Invitation] | str:
    """The inviter's case and the invitation a link leads to, or, when it is over for this chat
    (revoked, expired, deleted, every part decided), the key of the line that says so; the
    link record then goes too."""
    found = await turn.store.record_find(INVITE, link.token)
    inv = await invitation(turn, found[1], found[0]) if found else None
    if found is None or inv is None or inv.chat != turn.case.chat_id:
        done = inv is not None and inv.state in (State.ACCEPTED, State.DECLINED)
        await turn.store.record_delete(turn.case, LINK, link.rid)
        turn.case.awaiting = None
        return "witness_done" if done else "witness_ended"
    return found[0], inv


async def _activate(turn: Turn, link: Link) -> None:
    for other in await links(turn):
        if other.active != (other.rid == link.rid):
            other.active = other.rid == link.rid
            await put_link(turn, other)
    link.active = True


# ---------------------------------------------------------------------------- opening the link


async def opened(turn: Turn, token: str) -> list[Reply]:
    """``/start w_<token>``. The token is never logged, never echoed."""
    loc, chat = turn.loc, turn.case.chat_id
    if not await may_try(turn):
        log.info("a witness link was refused: too many failed tries from one chat")
        return await refused(turn)
    found = await turn.store.record_find(INVITE, token) if TOKEN_RE.match(token) else None
    if found is None:
        await failed_try(turn)
        log.info("a witness link was refused: no such invitation")
        return await refused(turn)
    victim, rid = found
    if victim.id == turn.case.id:
        return [Message(loc.msg("witness_own_link")), *await show(turn)]
    inv = await invitation(turn, rid, victim)
    mine = next((lk for lk in await links(turn) if lk.token == token), None)
    if mine is not None:  # theirs already: where they left off, or one line that it is over
        followed = await _follow(turn, mine)
        if isinstance(followed, str):
            return [Message(loc.msg(followed)), *await welcome(turn)]
        return await home_screen(turn, mine.rid)
    if (inv.chat is not None and inv.chat != chat) or not inv.open_at(turn.now):
        return await refused(turn)
    if inv.chat is None:  # one person per invitation: the first to open it
        inv.chat, inv.state = chat, State.OPENED
        await save(turn, victim, inv)
    inviter = inviter_label(loc, inv)
    replies: list[Reply] = [Message(loc.msg("witness_intro", inviter=inviter))]
    node = loc.nodes.get(RIGHTS_NODE)
    if node is not None:  # the law behind it: navigation's screen (its way back is the welcome)
        replies.append(Message(node.text.strip(), ((Btn(loc.msg("btn_law"), f"w|{node.id}"),),) if node.law else ()))
    replies.append(
        Message(
            loc.msg("witness_consent", inviter=inviter),
            (
                (
                    Btn(loc.msg("witness_btn_consent"), f"vc|{token}"),
                    Btn(loc.msg("witness_btn_no_consent"), f"vn|{token}"),
                ),
            ),
        )
    )
    return replies


async def _bound(turn: Turn, token: str) -> tuple[Case, Invitation] | None:
    """The invitation a consent button names, if this chat opened it and it is still open. The
    token in a button can be forged like any callback data: misses count as failed tries."""
    if not await may_try(turn):
        raise Stale("token")
    found = await turn.store.record_find(INVITE, token) if TOKEN_RE.match(token) else None
    if found is None:
        await failed_try(turn)
        raise Stale("token")
    inv = await invitation(turn, found[1], found[0])
    if inv.chat != turn.case.chat_id or not inv.open_at(turn.now):
        return None
    return found[0], inv


async def consent(turn: Turn, token: str) -> list[Reply]:
    if await _bound(turn, token) is None:
        return [Toast(""), *await refused(turn)]
    link = next((lk for lk in await links(turn) if lk.token == token), None)
    if link is None:
        link = Link(0, token)
        link.rid = await turn.store.record_add(turn.case, LINK, link.body())
    await _activate(turn, link)
    await put_link(turn, link)
    return [Toast(""), Message(turn.loc.msg("witness_thanks")), *await home_screen(turn, link.rid)]


async def no_consent(turn: Turn, token: str) -> list[Reply]:
    """Nothing is stored. The invitation stays theirs: the link works again if they change their mind."""
    if await _bound(turn, token) is None:
        return [Toast(""), *await refused(turn)]
    return [Toast(""), Message(turn.loc.msg("witness_no_consent"), (own_case_row(turn.loc),))]


# ---------------------------------------------------------------------------- home, rights, leaving


def _counts(items: list[Part]) -> tuple[int, int]:
    files = sum(1 for p in items if p.kind == "file")
    return len(items) - files, files


async def home(turn: Turn, rid: int) -> list[Reply]:
    return [Toast(""), *await home_screen(turn, rid)]


async def home_screen(turn: Turn, rid: int) -> list[Reply]:
    """Where the relative is: what they have added, and what they can do."""
    loc = turn.loc
    h = await helping(turn, rid)
    if isinstance(h, list):
        return h
    await _activate(turn, h.link)
    await put_link(turn, h.link)
    items = await parts(turn, h.victim, h.inv.rid)
    texts, files = _counts(items)
    inviter = inviter_label(loc, h.inv)
    if h.inv.state is State.SUBMITTED:
        turn.case.awaiting = None
        text = loc.msg("witness_home_submitted", inviter=inviter, count=len(items))
        return [Message(text, ((Btn(loc.msg("witness_btn_review"), f"vv|{rid}|1"),), own_case_row(loc, rid)))]
    turn.case.awaiting = Awaiting("w_note", rid)
    text = loc.msg(
        "witness_home", inviter=inviter, until=local_time(loc, h.inv.expires, "%Y-%m-%d"), texts=texts, files=files
    )
    rows: Keyboard = (
        (Btn(loc.msg("witness_btn_account"), f"va|{rid}"), Btn(loc.msg("witness_btn_review"), f"vv|{rid}|1")),
        (Btn(loc.msg("witness_btn_submit"), f"vu|{rid}"), Btn(loc.msg("witness_btn_rights"), f"vp|{rid}")),
        own_case_row(loc, rid),
    )
    return [Message(text, rows)]


async def rights(turn: Turn, rid: int) -> list[Reply]:
    """Content's page for relatives, and the law behind it, with the way back to their home."""
    loc = turn.loc
    await _link(turn, rid)
    node = loc.nodes.get(RIGHTS_NODE)
    if node is None:
        raise Stale(RIGHTS_NODE)
    rows = ((Btn(loc.msg("btn_law"), f"vl|{rid}"),), home_row(loc, rid)) if node.law else (home_row(loc, rid),)
    return [Toast(""), Message(node.text.strip(), rows)]


async def law(turn: Turn, rid: int) -> list[Reply]:
    await _link(turn, rid)
    node = turn.loc.nodes.get(RIGHTS_NODE)
    if node is None or not node.law:
        raise Stale(RIGHTS_NODE)
    return [Toast(""), Message(law_screen(turn.loc, node).text, (home_row(turn.loc, rid),))]


async def leave(turn: Turn, rid: int) -> list[Reply]:
    """A relative who is also a victim: their own case, in the same chat. Their files are theirs
    again until they come back (/witness)."""
    link = await _link(turn, rid)
    link.active = False
    await put_link(turn, link)
    return [Toast(""), *await welcome(turn)]


# ---------------------------------------------------------------------------- hand over


async def ask_submit(turn: Turn, rid: int) -> list[Reply]:
    loc = turn.loc
    h = await helping(turn, rid, adding=True)
    if isinstance(h, list):
        return [Toast(""), *h]
    items = [p for p in await parts(turn, h.victim, h.inv.rid) if not p.empty]
    if not items:
        return [Toast(""), Message(loc.msg("witness_nothing_to_submit"), (home_row(loc, rid),))]
    texts, files = _counts(items)
    return [
        Toast(""),
        Message(
            loc.msg("witness_submit_confirm", inviter=inviter_label(loc, h.inv), texts=texts, files=files),
            ((Btn(loc.msg("witness_btn_submit_yes"), f"vuy|{rid}"), Btn(loc.msg("btn_back"), f"vh|{rid}")),),
        ),
    ]


async def submit(turn: Turn, rid: int) -> list[Reply]:
    """Handed over: the inviter is told what came, with a button for each part. From now on the
    relative can still look and delete until the inviter decides, but not add."""
    loc = turn.loc
    h = await helping(turn, rid, adding=True)
    if isinstance(h, list):
        return [Toast(""), *h]
    items = []
    for p in await parts(turn, h.victim, h.inv.rid):
        if p.empty:
            await turn.store.record_delete(h.victim, PART, p.rid)
            continue
        p.submitted = True
        await put_part(turn, h.victim, p)
        items.append(p)
    if not items:
        return [Toast(""), Message(loc.msg("witness_nothing_to_submit"), (home_row(loc, rid),))]
    h.inv.state = State.SUBMITTED
    await save(turn, h.victim, h.inv)
    h.link.account = None
    await put_link(turn, h.link)
    turn.case.awaiting = None
    vloc = turn.engine.content.locale(h.victim.locale)
    rows = ((Btn(loc.msg("witness_btn_review"), f"vv|{rid}|1"),), own_case_row(loc, rid))
    return [
        Toast(""),
        Message(loc.msg("witness_handed_over", inviter=inviter_label(loc, h.inv)), rows),
        submitted_notice(vloc, h.victim.chat_id, h.inv, items),
    ]


# ---------------------------------------------------------------------------- /delete


async def on_delete(turn: Turn) -> list[Reply]:
    """The relative deletes everything: whatever they sent that was not accepted goes (records and
    files, from the inviter's case), and the inviter's invitation forgets their chat id."""
    notices: list[Reply] = []
    for link in await links(turn):
        found = await turn.store.record_find(INVITE, link.token)
        if found is None:
            continue
        victim, inv = found[0], await invitation(turn, found[1], found[0])
        if inv.chat != turn.case.chat_id:
            continue
        items = await parts(turn, victim, inv.rid)
        for p in items:
            await turn.store.record_delete(victim, PART, p.rid)
        handed = any(p.submitted for p in items)
        if inv.state in WAITING:
            inv.state = State.WITHDRAWN
        inv.chat = None
        await save(turn, victim, inv)
        if handed:
            vloc = turn.engine.content.locale(victim.locale)
            notices.append(_withdrawn(vloc, victim.chat_id, inv))
    return notices


def _withdrawn(loc: Locale, chat: int, inv: Invitation) -> Reply:
    return Notify(chat, Message(loc.msg("witness_withdrawn", who=who_label(loc, inv))))
