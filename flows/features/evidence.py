"""The evidence locker's conversation: receipts, the list, one item, categories, notes, testimony.

Callback data:
    c|<no>|<cat>   set the category of item no          n|<no>    write a note for it
    el|<page>      list evidence, page n                 eo|<no>   open item
    eg|<no>        send the original back                eh|<no>   full SHA-256
    ec|<no>        choose a new category                 ed|<no>   ask to delete
    edy|<no>|<nonce>  delete (once: flows/confirm.py)    edn|<no>|<nonce>  cancel: back to the item
Texts it waits for: ``testimony`` (the person's own account), ``note`` (a note for an item).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Any

from flows import confirm
from flows.content import Locale
from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.model import (
    Awaiting,
    Btn,
    EvidenceItem,
    FileProblem,
    Keyboard,
    Message,
    Reply,
    SendOriginal,
    Toast,
    Upload,
    UploadFailed,
)
from flows.screens import continue_row, human_size, local_time, render

PAGE_SIZE = 8
NOTE_PREVIEW = 200  # characters of a note or caption shown in an item's view (all of it is in the export)
PUBLIC_DOWNLOAD_LIMIT_MB = 20
TESTIMONY = "testimony"  # the category a written account is filed under, if content has it
KINDS = ("photo", "document", "voice", "audio", "video", "video_note", "testimony")


def shorten(text: str, limit: int = NOTE_PREVIEW) -> str:
    """A long note or caption is shortened in the item view (whole in the export)."""
    return text if len(text) <= limit else text[:limit] + "…"


def label(no: int) -> str:
    return f"E-{no:03d}"


def item_text(loc: Locale, item: EvidenceItem) -> dict[str, Any]:
    cat = loc.category(item.category)
    return {
        "no": item.label,
        "kind": loc.msg(f"evidence_kind_{item.kind}"),
        "category": cat.label if cat else loc.msg("evidence_uncategorised"),
        "size": human_size(loc, item.size),
        "time_utc": item.received_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "time_beijing": local_time(loc, item.received_at),
        "sha_short": item.sha256[:16] + "…",
    }


def category_buttons(loc: Locale, no: int) -> Keyboard:
    cats = [Btn(c.label, f"c|{no}|{c.id}") for c in loc.categories]
    rows = [tuple(cats[i : i + 2]) for i in range(0, len(cats), 2)]
    if len(rows[-1]) == 1:
        rows[-1] += (Btn(loc.msg("btn_skip_category"), "h|"),)
    else:
        rows.append((Btn(loc.msg("btn_skip_category"), "h|"),))
    return tuple(rows)


def receipt(loc: Locale, item: EvidenceItem) -> Message:
    return Message(loc.msg("evidence_receipt", **item_text(loc, item)), category_buttons(loc, item.no))


def auto_tick(turn: Turn, trigger: str) -> None:
    """Tick the checklist items content says ``trigger`` does (``ticked_by``): saving an
    account ticks "write down what happened", filing a relative's statement ticks theirs."""
    for checklist in turn.loc.checklists.values():
        for item in checklist.items:
            if item.ticked_by == trigger:
                turn.case.ticks.add(f"{checklist.id}:{item.id}")


def cancel_row(loc: Locale) -> Keyboard:
    return ((Btn(loc.msg("btn_cancel"), "h|"),),)


async def _item(turn: Turn, no: int) -> EvidenceItem:
    item = await turn.store.evidence_get(turn.case, no)
    if item is None:
        raise Stale(no)
    return item


def _not_found(turn: Turn, no: int) -> list[Reply]:
    return [Toast(""), Message(turn.loc.msg("evidence_not_found", no=label(no)), continue_row(turn.loc))]


# ---------------------------------------------------------------------------- files


async def received(turn: Turn, upload: Upload) -> list[Reply]:
    loc = turn.loc
    item, duplicate = await turn.store.evidence_add(turn.case, upload.staged)
    if duplicate:
        return [Message(loc.msg("evidence_duplicate", no=item.label), continue_row(loc))]
    replies: list[Reply] = [receipt(loc, item)]
    turn.case.awaiting = Awaiting("category", item.no)
    if upload.staged.kind == "photo":
        replies.append(Message(loc.msg("evidence_photo_hint")))
    return replies


async def failed(turn: Turn, event: UploadFailed) -> list[Reply]:
    loc, engine = turn.loc, turn.engine
    text = {
        FileProblem.TOO_BIG: lambda: loc.msg(
            "evidence_too_big", limit_mb=engine.download_limit_mb or PUBLIC_DOWNLOAD_LIMIT_MB
        ),
        FileProblem.QUOTA_FULL: lambda: loc.msg("evidence_quota_full", quota_mb=engine.quota_bytes // (1024 * 1024)),
        FileProblem.EMPTY: lambda: loc.msg("evidence_empty"),
        FileProblem.DOWNLOAD_FAILED: lambda: loc.msg("evidence_download_failed"),
        FileProblem.DISK_FULL: lambda: loc.msg("evidence_disk_full"),  # our server's fault: not theirs, not Telegram's
    }[event.problem]()
    return [Message(text, continue_row(loc))]


# ---------------------------------------------------------------------------- typed text


async def ask_testimony(turn: Turn) -> list[Reply]:
    turn.case.awaiting = Awaiting("testimony")
    return [Message(turn.loc.msg("evidence_testimony_prompt"), cancel_row(turn.loc))]


async def save_testimony(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    loc = turn.loc
    item, duplicate = await turn.store.evidence_add_text(turn.case, text)
    if duplicate:
        return [Message(loc.msg("evidence_duplicate", no=item.label), continue_row(loc))]
    auto_tick(turn, "testimony")
    if loc.category(TESTIMONY) and await turn.store.evidence_set_category(turn.case, item.no, TESTIMONY):
        auto_tick(turn, f"category:{TESTIMONY}")
        return [
            Message(loc.msg("evidence_testimony_saved", no=item.label)),
            Message(loc.msg("evidence_receipt", **item_text(loc, item)), continue_row(loc)),
        ]
    turn.case.awaiting = Awaiting("category", item.no)
    return [Message(loc.msg("evidence_testimony_saved", no=item.label)), receipt(loc, item)]


async def category_pending(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    """Typed while a receipt's category picker waits: answer what was typed, then show the
    picker again (the person is not moved elsewhere and the choice is not lost)."""
    loc, no = turn.loc, awaiting.item or 0
    replies = await turn.engine.free_text(turn, text)
    item = await turn.store.evidence_get(turn.case, no)
    if item is not None:
        turn.case.awaiting = awaiting
        replies.append(Message(loc.msg("evidence_category_pending", no=item.label), category_buttons(loc, no)))
    return replies


async def save_note(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    loc, no = turn.loc, awaiting.item or 0
    if not await turn.store.evidence_set_note(turn.case, no, text.strip()):
        return [Message(loc.msg("evidence_not_found", no=label(no))), render(turn.case, loc)]
    return [Message(loc.msg("evidence_note_saved", no=label(no)), continue_row(loc))]


# ---------------------------------------------------------------------------- buttons and /evidence


async def evidence_list(turn: Turn, page: int = 1, *, edit: bool = False) -> Message:
    loc, store, case = turn.loc, turn.store, turn.case
    count = await store.evidence_count(case)
    if not count:
        return Message(loc.msg("evidence_list_empty"), continue_row(loc), edit)
    pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 1), pages)
    items = await store.evidence_page(case, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    lines = [loc.msg("evidence_list_header", count=count, page=page, pages=pages)]
    rows: list[tuple[Btn, ...]] = []
    for it in items:
        t = item_text(loc, it)
        lines.append(
            loc.msg(
                "evidence_list_line",
                no=t["no"],
                category=t["category"],
                date=t["time_beijing"][:10],
                size=t["size"],
                sha_short=t["sha_short"],
            )
        )
        rows.append((Btn(f"{t['no']} {t['category']}", f"eo|{it.no}"),))
    nav = []
    if page > 1:
        nav.append(Btn(loc.msg("btn_prev_page"), f"el|{page - 1}"))
    if page < pages:
        nav.append(Btn(loc.msg("btn_next_page"), f"el|{page + 1}"))
    if nav:
        rows.append(tuple(nav))
    rows.extend(continue_row(loc))
    return Message("\n".join(lines), tuple(rows), edit)


async def show_list(turn: Turn) -> list[Reply]:
    return [await evidence_list(turn)]


async def page(turn: Turn, n: int) -> list[Reply]:
    return [Toast(""), await evidence_list(turn, n, edit=True)]


async def set_category(turn: Turn, no: int, cat: str) -> list[Reply]:
    loc = turn.loc
    category = loc.category(cat)
    if category is None or not await turn.store.evidence_set_category(turn.case, no, cat):
        raise Stale(cat)
    auto_tick(turn, f"category:{cat}")
    return [
        Toast(category.label),
        Message(
            loc.msg("evidence_category_saved", no=label(no), category=category.label),
            ((Btn(loc.msg("btn_add_note"), f"n|{no}"), Btn(loc.msg("btn_skip_note"), "h|")),),
        ),
    ]


async def ask_note(turn: Turn, no: int) -> list[Reply]:
    item = await _item(turn, no)
    turn.case.awaiting = Awaiting("note", item.no)
    return [Toast(""), Message(turn.loc.msg("evidence_note_prompt", no=item.label), cancel_row(turn.loc))]


async def open_item(turn: Turn, no: int) -> list[Reply]:
    loc = turn.loc
    item = await turn.store.evidence_get(turn.case, no)
    if item is None:
        return _not_found(turn, no)
    note = shorten(item.note or loc.msg("evidence_no_note"))
    caption = shorten(item.caption or loc.msg("evidence_no_note"))
    return [
        Toast(""),
        Message(
            loc.msg("evidence_item", note=note, caption=caption, **item_text(loc, item)),
            (
                (Btn(loc.msg("btn_get_original"), f"eg|{no}"), Btn(loc.msg("btn_full_hash"), f"eh|{no}")),
                (Btn(loc.msg("btn_change_category"), f"ec|{no}"), Btn(loc.msg("btn_edit_note"), f"n|{no}")),
                (Btn(loc.msg("btn_delete_item"), f"ed|{no}"), Btn(loc.msg("btn_back_to_list"), "el|1")),
            ),
        ),
    ]


async def get_original(turn: Turn, no: int) -> list[Reply]:
    item = await _item(turn, no)
    return [Toast(""), SendOriginal(item.no)]


async def full_hash(turn: Turn, no: int) -> list[Reply]:
    item = await _item(turn, no)
    return [Toast(""), Message(turn.loc.msg("evidence_full_hash", no=item.label, sha=item.sha256))]


async def choose_category(turn: Turn, no: int) -> list[Reply]:
    item = await _item(turn, no)
    turn.case.awaiting = Awaiting("category", item.no)
    return [Toast(""), Message(turn.loc.msg("evidence_choose_category", no=item.label), category_buttons(turn.loc, no))]


DELETE_ITEM = "delete_item"  # the one-time confirmation's action (flows/confirm.py)


async def ask_delete(turn: Turn, no: int) -> list[Reply]:
    loc, item = turn.loc, await _item(turn, no)
    nonce = await confirm.issue(turn, DELETE_ITEM, no)
    return [
        Toast(""),
        Message(
            loc.msg("evidence_delete_item_confirm", no=item.label),
            (
                (
                    Btn(loc.msg("btn_confirm_delete_item"), f"edy|{no}|{nonce}"),
                    Btn(loc.msg("btn_cancel"), f"edn|{no}|{nonce}"),
                ),
            ),
        ),
    ]


async def delete_item(turn: Turn, no: int, nonce: str) -> list[Reply]:
    if not await confirm.take(turn, DELETE_ITEM, nonce, no):
        return [Toast(turn.loc.msg("confirm_expired_toast")), Message(turn.loc.msg("confirm_expired"), edit=True)]
    if not await turn.store.evidence_delete(turn.case, no):
        return _not_found(turn, no)
    return [Toast(""), Message(turn.loc.msg("evidence_item_deleted", no=label(no)), continue_row(turn.loc))]


async def cancel_delete(turn: Turn, no: int, nonce: str) -> list[Reply]:
    """The confirmation turns back into the item's view (its delete buttons gone)."""
    await confirm.take(turn, DELETE_ITEM, nonce, no)
    return [replace(r, edit=True) if isinstance(r, Message) else r for r in await open_item(turn, no)]


def original_unavailable(loc: Locale, no: int, *, found: bool, unreadable: bool = False) -> Message:
    """Why an original cannot be handed back: it is gone, it failed its check, or the disk
    could not give it now (not damage: try again later)."""
    key = "evidence_unreadable" if unreadable else "evidence_damaged" if found else "evidence_not_found"
    return Message(loc.msg(key, no=label(no)), continue_row(loc))


FEATURE = Feature(
    name="evidence",
    commands={"evidence": show_list, "testimony": ask_testimony},
    buttons={
        "c": Route(set_category, (int, Id)),
        "n": Route(ask_note, (int,)),
        "el": Route(page, (int,)),
        "eo": Route(open_item, (int,)),
        "eg": Route(get_original, (int,)),
        "eh": Route(full_hash, (int,)),
        "ec": Route(choose_category, (int,)),
        "ed": Route(ask_delete, (int,)),
        "edy": Route(delete_item, (int, Id)),
        "edn": Route(cancel_delete, (int, Id)),
    },
    texts={"testimony": save_testimony, "note": save_note, "category": category_pending},
    uploads=received,
    upload_failed=failed,
    messages=messages(
        {
            **{f"evidence_kind_{k}": "" for k in KINDS},
            "evidence_receipt": "no kind size time_utc time_beijing sha_short",
            "evidence_photo_hint": "",
            "evidence_duplicate": "no",
            "evidence_too_big": "limit_mb",
            "evidence_quota_full": "quota_mb",
            "evidence_empty": "",
            "evidence_download_failed": "",
            "evidence_disk_full": "",
            "evidence_category_saved": "no category",
            "evidence_note_prompt": "no",
            "evidence_note_saved": "no",
            "evidence_testimony_prompt": "",
            "evidence_testimony_saved": "no",
            "evidence_list_header": "count page pages",
            "evidence_list_empty": "",
            "evidence_list_line": "no category date size sha_short",
            "evidence_uncategorised": "",
            "evidence_item": "no kind category size time_utc time_beijing sha_short note caption",
            "evidence_no_note": "",
            "evidence_full_hash": "no sha",
            "evidence_delete_item_confirm": "no",
            "evidence_item_deleted": "no",
            "evidence_not_found": "no",
            "evidence_damaged": "no",
            "evidence_unreadable": "no",
            "evidence_category_pending": "no",
            "evidence_choose_category": "no",
            "btn_skip_category": "",
            "btn_add_note": "",
            "btn_skip_note": "",
            "btn_get_original": "",
            "btn_change_category": "",
            "btn_edit_note": "",
            "btn_delete_item": "",
            "btn_confirm_delete_item": "",
            "btn_full_hash": "",
            "btn_prev_page": "",
            "btn_next_page": "",
            "btn_back_to_list": "",
            "btn_cancel": "",
            "confirm_expired": "",
            "confirm_expired_toast": "",
        }
    ),
)
