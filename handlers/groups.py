"""Groups and channels: one short line, then leave. Nothing of any case is ever said there.
The one exception is the clinic's staff chat (``SHOUHU_STAFF_CHAT_ID``), handled in handlers/staff.py."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ChatMemberHandler, MessageHandler, filters

from handlers.context import ShouhuApplication, ShouhuContext

log = logging.getLogger(__name__)


async def leave(update: Update, context: ShouhuContext) -> None:
    chat = update.effective_chat
    assert chat is not None
    lang = update.effective_user.language_code if update.effective_user else None
    try:
        if chat.type != "channel":
            await context.bot.send_message(chat.id, context.engine.group_reply(lang).text)
        await context.bot.leave_chat(chat.id)
    except TelegramError as exc:
        log.info("leaving a group failed: %s", type(exc).__name__)
    await context.storage.mark_handled(update.update_id)
    raise ApplicationHandlerStop


async def on_added(update: Update, context: ShouhuContext) -> None:
    assert update.my_chat_member and update.effective_chat
    new = update.my_chat_member.new_chat_member.status
    if update.effective_chat.id == context.services.settings.staff_chat_id:
        return  # the clinic's staff chat (a handoff): the bot stays
    if update.effective_chat.type != "private" and new in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
        await leave(update, context)


def register(app: Application) -> None:
    assert isinstance(app, ShouhuApplication)
    groups = ~filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL
    if app.settings.staff_chat_id is not None:  # the staff chat is handlers/staff.py's
        groups = groups & ~filters.Chat(app.settings.staff_chat_id)
    # group -1 runs before the private-chat handlers and stops them
    app.add_handler(MessageHandler(groups, leave), group=-1)
    app.add_handler(ChatMemberHandler(on_added, ChatMemberHandler.MY_CHAT_MEMBER), group=-1)
