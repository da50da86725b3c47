"""The Telegram ``Output``: a reply becomes a Bot API call (in the person's chat, or the clinic's
staff chat for a handoff). Nothing here decides anything."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from flows.model import Keyboard, Message
from handlers.context import ShouhuContext
from handlers.delivery import StaffUnreachable

log = logging.getLogger(__name__)


def markup(msg: Message) -> InlineKeyboardMarkup | None:
    return _keyboard(msg.buttons) if msg.buttons else None


@functools.lru_cache(maxsize=1024)
def _keyboard(buttons: Keyboard) -> InlineKeyboardMarkup:
    """Most screens' keyboards come again and again: each is built once (about 50 µs, a reply's
    worth of Shouhu's own work) and shared, which python-telegram-bot's frozen objects allow."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons])


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
        self.staff_chat_id = context.services.settings.staff_chat_id

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

    async def notify(self, chat_id: int, msg: Message) -> int | None:
        """A message to another private chat (a witness, or who invited them). They may have
        blocked the bot or deleted their chat: that costs the notice, not this update."""
        try:
            sent = await self.bot.send_message(chat_id, msg.text, parse_mode=ParseMode.HTML, reply_markup=markup(msg))
        except (BadRequest, Forbidden) as exc:
            log.info("a notice to another chat did not arrive: %s", type(exc).__name__)
            return None
        return sent.message_id

    async def send_image(self, data: bytes, name: str, caption: str | None = None) -> int | None:
        """A picture as a photo: phones show it in the chat, no download needed."""
        sent = await self.bot.send_photo(self.chat_id, data, filename=name, caption=caption, parse_mode=ParseMode.HTML)
        return sent.message_id

    async def delete_messages(self, ids: tuple[int, ...]) -> None:
        """Remove the conversation from the chat where Telegram still allows it (48 hours)."""
        await _delete(self.bot, self.chat_id, ids)

    # ------------------------------------------------------------------ the staff chat

    def _staff_chat(self) -> int:
        if self.staff_chat_id is None:
            raise StaffUnreachable("no staff chat is configured")
        return self.staff_chat_id

    async def to_staff(self, msg: Message) -> int | None:
        try:
            sent = await self.bot.send_message(self._staff_chat(), msg.text, parse_mode=ParseMode.HTML)
        except (BadRequest, Forbidden) as exc:
            log.warning("the staff chat refused a message: %s", type(exc).__name__)
            raise StaffUnreachable from exc
        return sent.message_id

    async def staff_file(self, path: Path, caption: str) -> int | None:
        chat = self._staff_chat()
        try:
            if self.local:
                sent = await self.bot.send_document(
                    chat, path, filename=path.name, caption=caption, parse_mode=ParseMode.HTML
                )
            else:
                with open(path, "rb") as f:
                    sent = await self.bot.send_document(
                        chat, f, filename=path.name, caption=caption, parse_mode=ParseMode.HTML
                    )
        except (BadRequest, Forbidden) as exc:
            log.warning("the staff chat refused a file: %s", type(exc).__name__)
            raise StaffUnreachable from exc
        return sent.message_id

    async def staff_delete(self, ids: tuple[int, ...]) -> None:
        if self.staff_chat_id is not None:
            await _delete(self.bot, self.staff_chat_id, ids)


async def _delete(bot: Bot, chat_id: int, ids: tuple[int, ...]) -> None:
    """Delete what Telegram still allows. One message past 48 hours refuses a whole batch, so a
    refused batch is retried one by one: the recent ones still go."""
    for i in range(0, len(ids), 100):
        batch = list(ids[i : i + 100])
        try:
            await bot.delete_messages(chat_id, batch)
            continue
        except Forbidden as exc:
            log.info("could not delete messages: %s", type(exc).__name__)
            return
        except BadRequest:
            pass
        kept = 0
        for mid in batch:
            try:
                await bot.delete_message(chat_id, mid)
            except (BadRequest, Forbidden):
                kept += 1
        if kept:
            log.info("%d message(s) could not be deleted (older than 48 hours, or gone)", kept)
