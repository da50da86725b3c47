"""The relative's words and files: the guided account (every question skippable), text typed
freely, and files, each numbered within the invitation and stored in the INVITER's case; and
their review, where each can be deleted until the inviter accepts it.

Callback data (``<link>`` is a link record of the pressing chat's own case):
    va|<link>             start the guided account: whom they are to the person who invited them
    vr|<link>|<relation>  their relation ("-": skipped)     vw|<link>  skip "when"
    vk|<link>|<channel>   how they were contacted           vt|<link>|<times>  how often
    vs|<link>             skip "what was said"
    vv|<link>|<page>      review what they added   vx|<link>|<no>  ask to delete part no
    vxy|<link>|<no>       delete it (its file too)
Texts it waits for: ``w_note`` (typed freely), ``w_when``, ``w_said`` (item: the link record).
"""

from __future__ import annotations

from datetime import UTC

from flows.content import Locale
from flows.feature import Stale, Turn, UploadClaim
from flows.features.evidence import failed as evidence_failed
from flows.features.evidence import shorten
from flows.features.witness_record import (
    CHANNELS,
    INVITE,
    MAX_PARTS,
    PART,
    RELATIONS,
    TIMES,
    Link,
    Part,
    State,
    account_fields,
    invitation,
    links,
    part_label,
    parts,
    put_link,
    put_part,
    save,
)
from flows.features.witness_relative import Helping, helping, home_row, own_case_row
from flows.model import Awaiting, Btn, FileProblem, Keyboard, Message, Reply, Toast, Upload, UploadFailed
from flows.parse import parse_when
from flows.screens import human_size, local_time, local_tz

PAGE = 5  # parts per page of the review: their buttons, the page row and home stay within 8


async def _add_part(turn: Turn, h: Helping, part: Part, blob_id: str | None = None) -> Part | None:
    """Number and store a new part in the inviter's case; None past MAX_PARTS."""
    if len(await parts(turn, h.victim, h.inv.rid)) >= MAX_PARTS:
        return None
    part.invite, part.no = h.inv.rid, h.inv.next_no
    part.rid = await turn.store.record_add(h.victim, PART, part.body(), blob_id=blob_id)
    h.inv.next_no += 1
    await save(turn, h.victim, h.inv)
    return part


async def _account(turn: Turn, h: Helping) -> Part | None:
    """The account being written (made at its first answer)."""
    if h.link.account:
        body = await turn.store.record_get(h.victim, PART, h.link.account)
        if body is not None and body.get("invite") == h.inv.rid and not body.get("submitted"):
            return Part.of(h.link.account, body)
    made = await _add_part(turn, h, Part(0, 0, 0, "account", turn.now))
    if made is not None:
        h.link.account = made.rid
        await put_link(turn, h.link)
    return made


def _too_many(loc: Locale, rid: int) -> list[Reply]:
    return [Message(loc.msg("witness_too_many_parts", max=MAX_PARTS), (home_row(loc, rid),))]


async def start(turn: Turn, rid: int) -> list[Reply]:
    loc = turn.loc
    h = await helping(turn, rid, adding=True)
    if isinstance(h, list):
        return [Toast(""), *h]
    buttons = [Btn(loc.msg(f"witness_rel_{r}"), f"vr|{rid}|{r}") for r in RELATIONS]
    buttons.append(Btn(loc.msg("witness_btn_skip"), f"vr|{rid}|-"))
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    return [Toast(""), Message(loc.msg("witness_ask_relation"), rows)]


async def _answer(turn: Turn, rid: int, field: str, value: str, allowed: tuple[str, ...]) -> Helping | list[Reply]:
    if value != "-" and value not in allowed:
        raise Stale(value)
    h = await helping(turn, rid, adding=True)
    if isinstance(h, list) or value == "-":
        return h
    account = await _account(turn, h)
    if account is None:
        return _too_many(turn.loc, rid)
    setattr(account, field, value)
    await put_part(turn, h.victim, account)
    return h


def _ask_when(turn: Turn, rid: int, key: str = "witness_ask_when") -> list[Reply]:
    turn.case.awaiting = Awaiting("w_when", rid)
    return [Message(turn.loc.msg(key), ((Btn(turn.loc.msg("witness_btn_skip"), f"vw|{rid}"),),))]


async def relation(turn: Turn, rid: int, value: str) -> list[Reply]:
    h = await _answer(turn, rid, "relation", value, RELATIONS)
    return [Toast(""), *(h if isinstance(h, list) else _ask_when(turn, rid))]


async def typed_when(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    """Read with the same parser as the harassment log (flows.parse); what it cannot read is asked
    again, with an example, never guessed."""
    loc, rid = turn.loc, awaiting.item or 0
    when = parse_when(text, turn.now, local_tz(loc))
    if when.at is None:
        return _ask_when(turn, rid, "witness_when_unclear")
    h = await helping(turn, rid, adding=True)
    if isinstance(h, list):
        return h
    account = await _account(turn, h)
    if account is None:
        return _too_many(loc, rid)
    account.when, account.approximate = when.at.astimezone(UTC).isoformat(), when.approximate
    await put_part(turn, h.victim, account)
    shown = local_time(loc, when.at, "%Y-%m-%d %H:%M")
    return [Message(loc.msg("witness_when_saved", when=shown)), _ask_channel(loc, rid)]


def _ask_channel(loc: Locale, rid: int) -> Message:
    buttons = [Btn(loc.msg(f"witness_ch_{c}"), f"vk|{rid}|{c}") for c in CHANNELS]
    buttons.append(Btn(loc.msg("witness_btn_skip"), f"vk|{rid}|-"))
    return Message(loc.msg("witness_ask_channel"), tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)))


async def skip_when(turn: Turn, rid: int) -> list[Reply]:
    turn.case.awaiting = None
    h = await helping(turn, rid, adding=True)
    return [Toast(""), *(h if isinstance(h, list) else [_ask_channel(turn.loc, rid)])]


async def channel(turn: Turn, rid: int, value: str) -> list[Reply]:
    loc = turn.loc
    h = await _answer(turn, rid, "channel", value, CHANNELS)
    if isinstance(h, list):
        return [Toast(""), *h]
    buttons = [Btn(loc.msg(f"witness_times_{t}"), f"vt|{rid}|{t}") for t in TIMES]
    return [
        Toast(""),
        Message(loc.msg("witness_ask_times"), (tuple(buttons), (Btn(loc.msg("witness_btn_skip"), f"vt|{rid}|-"),))),
    ]


async def times(turn: Turn, rid: int, value: str) -> list[Reply]:
    loc = turn.loc
    h = await _answer(turn, rid, "times", value, TIMES)
    if isinstance(h, list):
        return [Toast(""), *h]
    turn.case.awaiting = Awaiting("w_said", rid)
    return [Toast(""), Message(loc.msg("witness_ask_said"), ((Btn(loc.msg("witness_btn_skip"), f"vs|{rid}"),),))]


async def typed_said(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    rid = awaiting.item or 0
    h = await helping(turn, rid, adding=True)
    if isinstance(h, list):
        return h
    account = await _account(turn, h)
    if account is None:
        return _too_many(turn.loc, rid)
    account.text = text.strip()
    await put_part(turn, h.victim, account)
    return await _finish(turn, h)


async def skip_said(turn: Turn, rid: int) -> list[Reply]:
    turn.case.awaiting = None
    h = await helping(turn, rid, adding=True)
    return [Toast(""), *(h if isinstance(h, list) else await _finish(turn, h))]


async def _finish(turn: Turn, h: Helping) -> list[Reply]:
    loc, rid = turn.loc, h.link.rid
    account = None
    if h.link.account:
        body = await turn.store.record_get(h.victim, PART, h.link.account)
        account = Part.of(h.link.account, body) if body else None
    h.link.account = None
    await put_link(turn, h.link)
    turn.case.awaiting = Awaiting("w_note", rid)
    if account is None or account.empty:
        if account is not None:
            await turn.store.record_delete(h.victim, PART, account.rid)
        return [Message(loc.msg("witness_account_empty"), (home_row(loc, rid),))]
    fields = account_fields(loc, account)
    text = loc.msg("witness_account_saved", no=account.no, **(fields | {"said": shorten(fields["said"])}))
    return [Message(text, _after_part_rows(loc, rid, account.no))]


def _after_part_rows(loc: Locale, rid: int, no: int) -> Keyboard:
    return (
        (Btn(loc.msg("witness_btn_remove_this"), f"vx|{rid}|{no}"), Btn(loc.msg("witness_btn_submit"), f"vu|{rid}")),
        home_row(loc, rid),
    )


async def typed_note(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    """Anything typed on the relative's home screen: a free account, kept as a part."""
    loc, rid = turn.loc, awaiting.item or 0
    h = await helping(turn, rid, adding=True)
    if isinstance(h, list):
        return h
    made = await _add_part(turn, h, Part(0, 0, 0, "note", turn.now, text=text.strip()))
    turn.case.awaiting = Awaiting("w_note", rid)
    if made is None:
        return _too_many(loc, rid)
    return [Message(loc.msg("witness_note_saved", no=made.no), _after_part_rows(loc, rid, made.no))]


# ---------------------------------------------------------------------------- files


async def claim(turn: Turn) -> UploadClaim | None:
    """While this chat helps someone (an active link), its files are theirs: sealed into the
    inviter's case under the inviter's key. A link whose invitation no longer takes files still
    claims them, so nothing meant for someone else lands in this chat's own evidence."""
    active = [lk for lk in await links(turn) if lk.active]
    if not active:
        return None
    link = active[-1]
    found = await turn.store.record_find(INVITE, link.token)
    if found is not None:
        victim, inv = found[0], await invitation(turn, found[1], found[0])
        if inv.chat == turn.case.chat_id and inv.open_at(turn.now):
            pending = sum(p.size for p in await parts(turn, victim))
            return UploadClaim(victim, await turn.store.evidence_bytes(victim) + pending, received, failed)
    return UploadClaim(turn.case, await turn.store.evidence_bytes(turn.case), received, failed)


def _active_rid(turn: Turn, links_: list[Link]) -> int:
    return next(lk.rid for lk in links_ if lk.active)


async def received(turn: Turn, upload: Upload) -> list[Reply]:
    loc, staged = turn.loc, upload.staged
    rid = _active_rid(turn, await links(turn))
    h = await helping(turn, rid, adding=True)
    if isinstance(h, list):  # the invitation takes nothing more: the file is not kept anywhere
        await turn.store.discard_staged(staged)
        return [Message(loc.msg("witness_file_not_kept")), *h]
    turn.case.awaiting = Awaiting("w_note", rid)
    same = next((p for p in await parts(turn, h.victim, h.inv.rid) if p.file.get("sha256") == staged.sha256), None)
    if same is not None:
        await turn.store.discard_staged(staged)
        return [Message(loc.msg("witness_file_duplicate", no=same.no), (home_row(loc, rid),))]
    file = {
        "blob_id": staged.blob_id,
        "sha256": staged.sha256,
        "size": staged.size,
        "kind": staged.kind,
        "mime": staged.mime,
        "filename": staged.filename,
        "caption": staged.caption,
        "file_unique_id": staged.file_unique_id,
        "message_date": staged.message_date.isoformat() if staged.message_date else None,
    }
    made = await _add_part(turn, h, Part(0, 0, 0, "file", turn.now, file=file), blob_id=staged.blob_id)
    if made is None:
        await turn.store.discard_staged(staged)
        return _too_many(loc, rid)
    text = loc.msg(
        "witness_file_saved",
        no=made.no,
        kind=loc.msg(f"evidence_kind_{staged.kind}"),
        size=human_size(loc, staged.size),
        time=local_time(loc, made.received),
        sha_short=staged.sha256[:16] + "…",
    )
    return [Message(text, _after_part_rows(loc, rid, made.no))]


async def failed(turn: Turn, event: UploadFailed) -> list[Reply]:
    """As for the victim's own files (too big, empty, download failed), with the way home; a full
    store is the inviter's, so the relative is not sent to /export and /evidence."""
    loc, rid = turn.loc, _active_rid(turn, await links(turn))
    if event.problem is FileProblem.QUOTA_FULL:
        return [Message(loc.msg("witness_quota_full"), (home_row(loc, rid),))]
    return [
        Message(m.text, (home_row(loc, rid),)) for m in await evidence_failed(turn, event) if isinstance(m, Message)
    ]


# ---------------------------------------------------------------------------- review and delete


async def review(turn: Turn, rid: int, page: int) -> list[Reply]:
    loc = turn.loc
    h = await helping(turn, rid)
    if isinstance(h, list):
        return [Toast(""), *h]
    items = await parts(turn, h.victim, h.inv.rid)
    if not items:
        return [Toast(""), Message(loc.msg("witness_review_empty"), (home_row(loc, rid),))]
    pages = (len(items) + PAGE - 1) // PAGE
    page = min(max(page, 1), pages)
    shown = items[(page - 1) * PAGE : page * PAGE]
    lines = [loc.msg("witness_review_header", count=len(items))]
    for p in shown:
        state = loc.msg("witness_part_submitted" if p.submitted else "witness_part_draft")
        lines.append(loc.msg("witness_review_line", part=part_label(loc, p), size=human_size(loc, p.size), state=state))
    rows: list[tuple[Btn, ...]] = [(Btn(loc.msg("witness_btn_remove", no=p.no), f"vx|{rid}|{p.no}"),) for p in shown]
    nav = []
    if page > 1:
        nav.append(Btn(loc.msg("btn_prev_page"), f"vv|{rid}|{page - 1}"))
    if page < pages:
        nav.append(Btn(loc.msg("btn_next_page"), f"vv|{rid}|{page + 1}"))
    if nav:
        rows.append(tuple(nav))
    rows.append(home_row(loc, rid))
    return [Toast(""), Message("\n".join(lines), tuple(rows))]


async def _numbered(turn: Turn, h: Helping, no: int) -> Part:
    found = next((p for p in await parts(turn, h.victim, h.inv.rid) if p.no == no), None)
    if found is None:
        raise Stale(no)
    return found


async def ask_remove(turn: Turn, rid: int, no: int) -> list[Reply]:
    loc = turn.loc
    h = await helping(turn, rid)
    if isinstance(h, list):
        return [Toast(""), *h]
    p = await _numbered(turn, h, no)
    return [
        Toast(""),
        Message(
            loc.msg("witness_remove_confirm", part=part_label(loc, p)),
            ((Btn(loc.msg("witness_btn_remove_yes"), f"vxy|{rid}|{no}"), Btn(loc.msg("btn_cancel"), f"vv|{rid}|1")),),
        ),
    ]


async def remove(turn: Turn, rid: int, no: int) -> list[Reply]:
    """Gone at once, its file too. A relative who deletes everything they handed over has
    withdrawn: their chat id is forgotten."""
    loc = turn.loc
    h = await helping(turn, rid)
    if isinstance(h, list):
        return [Toast(""), *h]
    p = await _numbered(turn, h, no)
    await turn.store.record_delete(h.victim, PART, p.rid)
    if h.link.account == p.rid:
        h.link.account = None
        await put_link(turn, h.link)
    if h.inv.state is State.SUBMITTED and not await parts(turn, h.victim, h.inv.rid):
        h.inv.state, h.inv.chat = State.WITHDRAWN, None
        await save(turn, h.victim, h.inv)
        return [Toast(""), Message(loc.msg("witness_removed_all"), (own_case_row(loc),))]
    rows = ((Btn(loc.msg("witness_btn_review"), f"vv|{rid}|1"),), home_row(loc, rid))
    return [Toast(""), Message(loc.msg("witness_removed", part=part_label(loc, p)), rows)]
