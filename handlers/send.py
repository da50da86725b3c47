"""The Telegram ``Output``: a reply becomes a Bot API call. Nothing here decides anything."""

from __future__ import annotations

import logging
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from flows.model import Message
from handlers.context import ShouhuContext

log = logging.getLogger(__name__)


def markup(msg: Message) -> InlineKeyboardMarkup | None:
    if not msg.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in msg.buttons]
    )


async def answer_query(update: Update, text: str = "") -> None:
    """Stop the spinner. A query already answered (or too old) is not worth an error."""
    if update.callback_query:
        try:
            await update.callback_query.answer(text[:200] or None)
        except BadRequest:
            pass


class TelegramOutput:
    def __init__(self, update: Update, context: ShouhuContext, chat_id: int):
        self.update = update
        self.bot = context.bot
        self.chat_id = chat_id
        self.local = context.services.settings.local_api

    async def toast(self, text: str) -> None:
        await answer_query(self.update, text)

    async def show(self, msg: Message) -> int | None:
        query = self.update.callback_query
        if msg.edit and query and query.message:
            try:
                await self.bot.edit_message_text(
                    msg.text,
                    self.chat_id,
                    query.message.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup(msg),
                )
                return None
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return None
                # too old to edit, or gone: say it anew below
        sent = await self.bot.send_message(self.chat_id, msg.text, parse_mode=ParseMode.HTML, reply_markup=markup(msg))
        return sent.message_id

    async def send_file(self, path: Path, caption: str | None = None) -> int | None:
        """A local Bot API server reads the file from disk by path (memory stays flat); the
        public one gets the bytes (a part is under 50 MB)."""
        if self.local:
            sent = await self.bot.send_document(
                self.chat_id, path, filename=path.name, caption=caption, parse_mode=ParseMode.HTML
            )
        else:
            with open(path, "rb") as f:
                sent = await self.bot.send_document(
                    self.chat_id, f, filename=path.name, caption=caption, parse_mode=ParseMode.HTML
                )
        return sent.message_id

    async def send_image(self, data: bytes, name: str, caption: str | None = None) -> int | None:
        """A picture as a photo: phones show it in the chat, no download needed."""
        sent = await self.bot.send_photo(self.chat_id, data, filename=name, caption=caption, parse_mode=ParseMode.HTML)
        return sent.message_id

    async def delete_messages(self, ids: tuple[int, ...]) -> None:
        """Remove the conversation from the chat where Telegram still allows it (48 hours)."""
        for i in range(0, len(ids), 100):
            try:
                await self.bot.delete_messages(self.chat_id, list(ids[i : i + 100]))
            except (BadRequest, Forbidden) as exc:
                log.info("could not delete some messages: %s", type(exc).__name__)
