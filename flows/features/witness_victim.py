"""The victim's side of witness invitations: invite someone, see the invitations, look at what
arrived, accept it into the evidence or decline it (deleted at once).

Callback data (every number is a record of the pressing chat's OWN case; another chat's numbers
find nothing there and are stale):
    wl|            the invitations (/witness)          wn|          whom to invite
    wg|<who>       ask for the name the relative sees  wk|<who>     make the invitation, no name
    wo|<rid>       one invitation                      wv|<rid>     its message to forward, again
    wx|<rid>       ask to revoke it                    wxy|<rid>    revoke it
    ws|<rid>|<pg>  what arrived, page pg               wp|<part>    look at one part
    wa|<part>      accept it into the evidence         wd|<part>    ask to decline   wdy|<part> decline
Typed text it waits for: ``w_name`` (item: the index of ``who`` in WHO).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from flows.content import Locale
from flows.feature import Stale, Turn
from flows.features.evidence import auto_tick
from flows.features.witness_record import (
    INVITE,
    INVITER,
    LINK_PREFIX,
    MAX_NAME,
    MAX_OPEN,
    OPEN,
    PART,
    WHO,
    Invitation,
    Part,
    State,
    account_text,
    day,
    invitation,
    invitations,
    inviter_label,
    links,
    new_token,
    part,
    part_label,
    parts,
    save,
    settle,
    source_line,
    who_label,
)
from flows.model import Awaiting, Btn, Keyboard, Message, Notify, Reply, SendSealed, StagedFile, Toast
from flows.screens import continue_row, human_size, local_time

CATEGORY = "witness"  # the evidence category accepted parts are filed under (亲友证言)
PAGE = 5  # parts per page: their buttons, the page row and back stay within 8
SHOWN = 5  # invitations with a button of their own in the list
PREVIEW = 400  # characters of a relative's account shown before accepting (all of it is kept)


def _back(loc: Locale) -> Btn:
    return Btn(loc.msg("witness_btn_invitations"), "wl|")


# ---------------------------------------------------------------------------- the list and a new one


async def show(turn: Turn) -> list[Reply]:
    """/witness: the invitations, a button to invite someone, and (for a relative who is also
    helping someone) the way back to that."""
    loc = turn.loc
    invs = await invitations(turn)
    lines = [loc.msg("witness_list_header", days=turn.engine.witness_days, max=MAX_OPEN)]
    rows: list[tuple[Btn, ...]] = []
    for inv in invs[::-1][:SHOWN]:
        state = loc.msg(f"witness_state_{inv.state.value}")
        lines.append(loc.msg("witness_list_line", who=who_label(loc, inv), state=state, until=day(loc, inv.expires)))
        rows.append((Btn(f"{who_label(loc, inv)} · {state}", f"wo|{inv.rid}"),))
    if not invs:
        lines.append(loc.msg("witness_list_empty"))
    rows.append((Btn(loc.msg("witness_btn_new"), "wn|"),))
    for link in (await links(turn))[-1:]:  # this chat also helps someone: the way back to it
        rows.append((Btn(loc.msg("witness_btn_helping"), f"vh|{link.rid}"),))
    rows.extend(continue_row(loc))
    return [Message("\n".join(lines), tuple(rows))]


async def listing(turn: Turn) -> list[Reply]:
    return [Toast(""), *await show(turn)]


def _open_count(invs: list[Invitation], turn: Turn) -> int:
    return sum(1 for inv in invs if inv.open_at(turn.now))


async def choose_who(turn: Turn) -> list[Reply]:
    loc = turn.loc
    if _open_count(await invitations(turn), turn) >= MAX_OPEN:
        return [Toast(""), Message(loc.msg("witness_too_many", max=MAX_OPEN), ((_back(loc),),))]
    buttons = [Btn(loc.msg(f"witness_who_{w}"), f"wg|{w}") for w in WHO]
    rows = tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))
    return [Toast(""), Message(loc.msg("witness_choose_who"), (*rows, (_back(loc),)))]


def _who(who: str) -> int:
    if who not in WHO:
        raise Stale(who)
    return WHO.index(who)


async def ask_name(turn: Turn, who: str) -> list[Reply]:
    loc, index = turn.loc, _who(who)
    turn.case.awaiting = Awaiting("w_name", index)
    default = loc.msg(f"witness_inviter_{INVITER[who]}")
    return [
        Toast(""),
        Message(
            loc.msg("witness_ask_name", who=loc.msg(f"witness_who_{who}"), default=default, max=MAX_NAME),
            ((Btn(loc.msg("witness_btn_no_name"), f"wk|{who}"),), (_back(loc),)),
        ),
    ]


async def typed_name(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    loc = turn.loc
    index = awaiting.item if awaiting.item is not None and 0 <= awaiting.item < len(WHO) else None
    if index is None:
        return await show(turn)
    name = " ".join(text.split())
    if len(name) > MAX_NAME:
        turn.case.awaiting = awaiting
        return [Message(loc.msg("witness_name_too_long", max=MAX_NAME), ((_back(loc),),))]
    return await _create(turn, WHO[index], name)


async def without_name(turn: Turn, who: str) -> list[Reply]:
    _who(who)
    turn.case.awaiting = None
    return [Toast(""), *await _create(turn, who, "")]


async def _create(turn: Turn, who: str, name: str) -> list[Reply]:
    loc = turn.loc
    if _open_count(await invitations(turn), turn) >= MAX_OPEN:
        return [Message(loc.msg("witness_too_many", max=MAX_OPEN), ((_back(loc),),))]
    token = new_token()
    now = turn.now
    inv = Invitation(0, who, name, token, now, now + timedelta(days=turn.engine.witness_days))
    inv.rid = await turn.store.record_add(turn.case, INVITE, inv.body(), lookup=token, due_at=inv.expires)
    return _forward(turn, inv)


def _forward(turn: Turn, inv: Invitation) -> list[Reply]:
    """Two messages: what to do, then the one to forward (no buttons, so it forwards cleanly)."""
    loc = turn.loc
    link = f"https://t.me/{turn.engine.bot_username}?start={LINK_PREFIX}{inv.token}"
    return [
        Message(
            loc.msg(
                "witness_made", who=who_label(loc, inv), inviter=inviter_label(loc, inv), until=day(loc, inv.expires)
            ),
            ((_back(loc),), *continue_row(loc)),
        ),
        Message(loc.msg("witness_forward", link=link, name=loc.name)),
    ]


# ---------------------------------------------------------------------------- one invitation


async def open_one(turn: Turn, rid: int) -> list[Reply]:
    loc, inv = turn.loc, await invitation(turn, rid)
    waiting = [p for p in await parts(turn, turn.case, rid) if p.submitted]
    text = loc.msg(
        "witness_one",
        who=who_label(loc, inv),
        inviter=inviter_label(loc, inv),
        state=loc.msg(f"witness_state_{inv.state.value}"),
        made=day(loc, inv.created),
        until=day(loc, inv.expires),
        accepted=inv.accepted,
        declined=inv.declined,
        waiting=len(waiting),
    )
    rows: list[tuple[Btn, ...]] = []
    if waiting:
        rows.append((Btn(loc.msg("witness_btn_parts"), f"ws|{rid}|1"),))
    if inv.open_at(turn.now):
        rows.append((Btn(loc.msg("witness_btn_link"), f"wv|{rid}"), Btn(loc.msg("witness_btn_revoke"), f"wx|{rid}")))
    rows.append((_back(loc),))
    return [Toast(""), Message(text, tuple(rows))]


async def link_again(turn: Turn, rid: int) -> list[Reply]:
    inv = await invitation(turn, rid)
    if not inv.open_at(turn.now):
        raise Stale(rid)
    return [Toast(""), *_forward(turn, inv)]


async def ask_revoke(turn: Turn, rid: int) -> list[Reply]:
    loc, inv = turn.loc, await invitation(turn, rid)
    if not inv.open_at(turn.now):
        raise Stale(rid)
    return [
        Toast(""),
        Message(
            loc.msg("witness_revoke_confirm", who=who_label(loc, inv)),
            ((Btn(loc.msg("witness_btn_revoke_yes"), f"wxy|{rid}"), Btn(loc.msg("btn_cancel"), f"wo|{rid}")),),
        ),
    ]


async def revoke(turn: Turn, rid: int) -> list[Reply]:
    """The link stops working at once; whatever the relative had not handed over is deleted, and
    they are told, in one line, that the invitation has ended."""
    loc, inv = turn.loc, await invitation(turn, rid)
    if inv.state not in OPEN:
        raise Stale(rid)
    for p in await parts(turn, turn.case, rid):
        await turn.store.record_delete(turn.case, PART, p.rid)
    replies: list[Reply] = [Toast("")]
    if inv.chat is not None:
        replies.append(ended_notice(loc, inv.chat))
    inv.state, inv.chat = State.REVOKED, None
    await save(turn, turn.case, inv)
    replies.append(Message(loc.msg("witness_revoked", who=who_label(loc, inv)), ((_back(loc),),)))
    return replies


def ended_notice(loc: Locale, chat: int) -> Notify:
    """To a relative: the invitation has ended. Never why (revoked, deleted...)."""
    return Notify(chat, Message(loc.msg("witness_ended"), ((Btn(loc.msg("witness_btn_own_case"), "h|"),),)))


# ---------------------------------------------------------------------------- what arrived


def part_buttons(loc: Locale, items: list[Part]) -> list[tuple[Btn, ...]]:
    buttons = [Btn(part_label(loc, p), f"wp|{p.rid}") for p in items]
    return [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]


async def arrived(turn: Turn, rid: int, page: int) -> list[Reply]:
    loc, inv = turn.loc, await invitation(turn, rid)
    waiting = [p for p in await parts(turn, turn.case, rid) if p.submitted]
    if not waiting:
        return [Toast(""), Message(loc.msg("witness_nothing_waiting", who=who_label(loc, inv)), ((_back(loc),),))]
    pages = (len(waiting) + PAGE - 1) // PAGE
    page = min(max(page, 1), pages)
    shown = waiting[(page - 1) * PAGE : page * PAGE]
    lines = [loc.msg("witness_arrived_header", who=who_label(loc, inv), count=len(waiting))]
    lines += [f"• {part_label(loc, p)}" for p in shown]
    rows: list[tuple[Btn, ...]] = [(Btn(part_label(loc, p), f"wp|{p.rid}"),) for p in shown]
    nav = []
    if page > 1:
        nav.append(Btn(loc.msg("btn_prev_page"), f"ws|{rid}|{page - 1}"))
    if page < pages:
        nav.append(Btn(loc.msg("btn_next_page"), f"ws|{rid}|{page + 1}"))
    if nav:
        rows.append(tuple(nav))
    rows.append((Btn(loc.msg("btn_back"), f"wo|{rid}"),))
    return [Toast(""), Message("\n".join(lines), tuple(rows))]


async def _submitted(turn: Turn, prid: int) -> tuple[Part, Invitation]:
    p = await part(turn, turn.case, prid)
    if not p.submitted:  # a draft is the relative's until they hand it over
        raise Stale(prid)
    return p, await invitation(turn, p.invite)


def _decide_row(loc: Locale, p: Part) -> Keyboard:
    return (
        (Btn(loc.msg("witness_btn_accept"), f"wa|{p.rid}"), Btn(loc.msg("witness_btn_decline"), f"wd|{p.rid}")),
        (Btn(loc.msg("btn_back"), f"ws|{p.invite}|1"),),
    )


async def look(turn: Turn, prid: int) -> list[Reply]:
    loc = turn.loc
    p, inv = await _submitted(turn, prid)
    if p.kind != "file":
        text = account_text(loc, inv, p)
        shown = text if len(text) <= PREVIEW else text[:PREVIEW] + "…"
        return [
            Toast(""),
            Message(loc.msg("witness_look_text", part=part_label(loc, p), text=shown), _decide_row(loc, p)),
        ]
    f = p.file
    name = f"W{inv.rid}-{p.no}{_suffix(f)}"
    return [
        Toast(""),
        SendSealed(f["blob_id"], f["sha256"], name),
        Message(
            loc.msg(
                "witness_look_file",
                part=part_label(loc, p),
                who=who_label(loc, inv),
                size=human_size(loc, p.size),
                time=local_time(loc, p.received),
                sha_short=f["sha256"][:16] + "…",
                caption=f.get("caption") or loc.msg("evidence_no_note"),
            ),
            _decide_row(loc, p),
        ),
    ]


FIXED_SUFFIX = {"photo": ".jpg", "voice": ".ogg", "video_note": ".mp4", "video": ".mp4", "audio": ".mp3"}


def _suffix(f: dict) -> str:
    """A safe extension for a file sent back: the sender's, if sane, else by its kind."""
    suffix = Path(f.get("filename") or "").suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        return suffix
    return FIXED_SUFFIX.get(f.get("kind", ""), ".bin")


async def accept(turn: Turn, prid: int) -> list[Reply]:
    """The part becomes an evidence item of this case, filed as 亲友证言 with where it came from;
    its record goes (the file stays: the item holds it now)."""
    loc, case = turn.loc, turn.case
    p, inv = await _submitted(turn, prid)
    source = source_line(loc, inv)
    if p.kind == "file":
        f = p.file
        caption = source + ("\n" + f["caption"] if f.get("caption") else "")
        staged = StagedFile(
            f["blob_id"],
            Path(),
            f["sha256"],
            int(f["size"]),
            f["kind"],
            f.get("mime", ""),
            f.get("file_unique_id", ""),
            caption,
            f.get("filename", ""),
            datetime.fromisoformat(f["message_date"]) if f.get("message_date") else p.received,
            case.id,
        )
        item, duplicate = await turn.store.evidence_add(case, staged)
    else:
        item, duplicate = await turn.store.evidence_add_text(case, account_text(loc, inv, p), caption=source)
    if not duplicate and loc.category(CATEGORY):
        await turn.store.evidence_set_category(case, item.no, CATEGORY)
        auto_tick(turn, f"category:{CATEGORY}")
    await turn.store.record_delete(case, PART, p.rid)
    inv.accepted += 1
    await save(turn, case, inv)
    inv = await settle(turn, case, inv)
    key = "evidence_duplicate" if duplicate else "witness_accepted"
    text = loc.msg(key, no=item.label, source=source)
    return [Toast(""), Message(text, await _next_row(turn, inv))]


async def ask_decline(turn: Turn, prid: int) -> list[Reply]:
    loc = turn.loc
    p, _ = await _submitted(turn, prid)
    return [
        Toast(""),
        Message(
            loc.msg("witness_decline_confirm", part=part_label(loc, p)),
            ((Btn(loc.msg("witness_btn_decline_yes"), f"wdy|{prid}"), Btn(loc.msg("btn_cancel"), f"wp|{prid}")),),
        ),
    ]


async def decline(turn: Turn, prid: int) -> list[Reply]:
    """Deleted at once: the record, and its file from the vault once this update commits."""
    loc, case = turn.loc, turn.case
    p, inv = await _submitted(turn, prid)
    await turn.store.record_delete(case, PART, p.rid)
    inv.declined += 1
    await save(turn, case, inv)
    inv = await settle(turn, case, inv)
    return [Toast(""), Message(loc.msg("witness_declined", part=part_label(loc, p)), await _next_row(turn, inv))]


async def _next_row(turn: Turn, inv: Invitation) -> Keyboard:
    loc = turn.loc
    waiting = [p for p in await parts(turn, turn.case, inv.rid) if p.submitted]
    if waiting:
        return ((Btn(loc.msg("witness_btn_next"), f"wp|{waiting[0].rid}"),), (_back(loc),))
    return ((_back(loc),), *continue_row(loc))


# ---------------------------------------------------------------------------- notices and /delete


def submitted_notice(loc: Locale, victim_chat: int, inv: Invitation, items: list[Part]) -> Notify:
    """To the victim (in their language), when a relative hands their parts over: what came,
    a button for each."""
    files = sum(1 for p in items if p.kind == "file")
    text = loc.msg("witness_submitted", who=who_label(loc, inv), texts=len(items) - files, files=files)
    rows = part_buttons(loc, items[:6])
    rows.append((Btn(loc.msg("witness_btn_all"), f"ws|{inv.rid}|1"),))
    return Notify(victim_chat, Message(text, tuple(rows)))


async def on_delete(turn: Turn) -> list[Reply]:
    """The victim deletes everything: every relative whose invitation was still going is told it
    has ended (not why). The invitations and all parts go with the case (records and vault)."""
    return [ended_notice(turn.loc, inv.chat) for inv in await invitations(turn) if inv.chat is not None]
