"""Replies -> Bot API calls. The one place that knows how the engine's words reach a phone."""

from __future__ import annotations

import logging
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from flows.model import Case, DeleteMessages, Export, Message, Reply, SendOriginal, Toast
from handlers.core import ShouhuContext
from storage.base import CaseKey, ReadState
from storage.errors import NotEnoughDisk
from storage.export import export_parts, part_budget, restore_original
from storage.export_text import ExportText

log = logging.getLogger(__name__)


def markup(msg: Message) -> InlineKeyboardMarkup | None:
    if not msg.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in msg.buttons])


async def answer_query(update: Update, text: str = "") -> None:
    """Stop the spinner. A query already answered (or too old) is not worth an error."""
    if update.callback_query:
        try:
            await update.callback_query.answer(text[:200] or None)
        except BadRequest:
            pass


async def send_replies(update: Update, context: ShouhuContext, case: Case, replies: list[Reply]) -> None:
    chat_id = case.chat_id
    bot = context.bot
    toast = next((r.text for r in replies if isinstance(r, Toast)), "")
    await answer_query(update, toast)
    sent: list[int] = []
    try:
        for reply in replies:
            if isinstance(reply, Message):
                if reply.edit and update.callback_query and update.callback_query.message:
                    try:
                        await update.callback_query.message.edit_text(
                            reply.text, parse_mode=ParseMode.HTML, reply_markup=markup(reply))
                        continue
                    except BadRequest as exc:
                        if "not modified" in str(exc).lower():
                            continue
                        # too old to edit, or gone: say it anew below
                m = await bot.send_message(chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=markup(reply))
                sent.append(m.message_id)
            elif isinstance(reply, SendOriginal):
                sent += await _send_original(context, case, reply.no)
            elif isinstance(reply, Export):
                sent += await _send_export(context, case)
            elif isinstance(reply, DeleteMessages):
                await _delete_messages(context, chat_id, reply.ids)
    finally:  # even if a later send failed, what did arrive can be removed by /delete
        if not case.deleted:
            await context.storage.record_sent(CaseKey(chat_id), sent)


async def _send_original(context: ShouhuContext, case: Case, no: int) -> list[int]:
    storage, engine = context.storage, context.engine
    async with storage.scratch() as folder:
        original = await restore_original(storage, case, ExportText.from_locale(engine.content.locale(case.locale)), no, folder)
        if original.path is None:
            msg = engine.original_unavailable(case.locale, no, found=original.item is not None,
                                              unreadable=original.state is ReadState.UNREADABLE)
            m = await context.bot.send_message(case.chat_id, msg.text, parse_mode=ParseMode.HTML, reply_markup=markup(msg))
        else:
            m = await _send_file(context, case.chat_id, original.path, original.path.name)
        return [m.message_id]


async def _send_export(context: ShouhuContext, case: Case) -> list[int]:
    storage, engine = context.storage, context.engine
    loc = engine.content.locale(case.locale)
    local = context.services.settings.local_api
    sent = []
    try:
        async with export_parts(storage, case, ExportText.from_locale(loc), budget=part_budget(local)) as export:
            async for part in export:  # one part on disk at a time: sent, then removed
                m = await _send_file(context, case.chat_id, part.path, part.name,
                                     caption=loc.msg("export_part_caption", part=part.number, parts=part.total))
                sent.append(m.message_id)
    except NotEnoughDisk:
        m = await context.bot.send_message(case.chat_id, loc.msg("export_no_space"), parse_mode=ParseMode.HTML)
        return sent + [m.message_id]
    summary = export.summary
    for msg in engine.export_summary(case.locale, summary.count, summary.parts, summary.failed, summary.unreadable):
        m = await context.bot.send_message(case.chat_id, msg.text, parse_mode=ParseMode.HTML)
        sent.append(m.message_id)
    return sent


async def _send_file(context: ShouhuContext, chat_id: int, path: Path, filename: str, caption: str | None = None):
    """Upload a file. A local Bot API server reads it from disk by path (memory stays flat);
    the public one gets the bytes (at most one part, under 50 MB)."""
    if context.services.settings.local_api:
        return await context.bot.send_document(chat_id, path, filename=filename, caption=caption, parse_mode=ParseMode.HTML)
    with open(path, "rb") as f:
        return await context.bot.send_document(chat_id, f, filename=filename, caption=caption, parse_mode=ParseMode.HTML)


async def _delete_messages(context: ShouhuContext, chat_id: int, ids: tuple[int, ...]) -> None:
    """Remove the conversation from the chat where Telegram still allows it (48 hours)."""
    for i in range(0, len(ids), 100):
        try:
            await context.bot.delete_messages(chat_id, list(ids[i:i + 100]))
        except (BadRequest, Forbidden) as exc:
            log.info("could not delete some messages: %s", type(exc).__name__)
