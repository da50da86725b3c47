"""The staff chat's side of a handoff: a staff member's reply reaches the person it is about.

The bot stays in the clinic's staff chat (``SHOUHU_STAFF_CHAT_ID``; handlers/groups.py leaves
every other group). There it acts on one thing only: a Telegram reply to one of its own messages
about a case. The replied-to message is found in the case record (``handoff_msg`` records, by a
keyed hash of chat and message id: no table of chat ids), the handoff is checked open under the
person's chat lock (so a withdrawal and a reply never cross), and the reply is relayed as the
clinic's. When nothing is relayed the staff are told why, in the staff chat. Staff talking among
themselves is none of the bot's business. Logs hold no text and no chat id of a person.
"""

from __future__ import annotations

import logging

from telegram import Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, MessageHandler, filters

from flows.feature import Turn
from flows.features import handoff
from flows.model import Case, Reply
from handlers.context import ShouhuApplication, ShouhuContext
from handlers.core import Services
from handlers.delivery import deliver
from handlers.journal import PerChatProcessor
from handlers.send import TelegramOutput
from storage.base import CaseKey, ChatIsolation
from storage.errors import AlreadyHandled

log = logging.getLogger(__name__)


async def _tell_staff(context: ShouhuContext, message: Message, key: str) -> None:
    """A line from content, as a reply to the staff member's message."""
    content = context.services.content
    await context.bot.send_message(
        message.chat_id,
        content.locale(content.default).msg(key),
        parse_mode=ParseMode.HTML,
        reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
    )


def _isolation(context: ShouhuContext) -> ChatIsolation:
    """The per-chat lock the victim's own updates take (the processor's)."""
    processor = context.app.update_processor
    return processor.isolation if isinstance(processor, PerChatProcessor) else context.storage.isolation()


async def _relay(services: Services, case: Case, text: str, update_id: int) -> tuple[Case, list[Reply]]:
    """The handoff decides, inside the staff update's transaction (a redelivery changes nothing).
    The person's case is not saved: a staff reply is not the person being active."""
    async with services.storage.transaction(update_id) as tx:
        current = await tx.case(CaseKey(case.chat_id), case.locale, case.node)
        loc = services.content.locale(current.locale)
        replies = await handoff.from_staff(Turn(services.engine, current, loc, tx), text)
    return current, replies


async def on_staff_message(update: Update, context: ShouhuContext) -> None:
    message = update.message
    services = context.services
    staff_chat = services.settings.staff_chat_id
    assert message is not None and staff_chat is not None
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != context.bot.id:
        return  # staff talking among themselves
    if not message.text:
        await _tell_staff(context, message, "handoff_staff_text_only")
        return
    token = handoff.staff_token(staff_chat, target.message_id)
    found = await services.storage.find_record(handoff.HANDOFF_MSG, token)
    if found is None:
        await _tell_staff(context, message, "handoff_staff_not_relayed")
        return
    async with _isolation(context).lock(CaseKey(found.case.chat_id)):
        found = await services.storage.find_record(handoff.HANDOFF_MSG, token)  # withdrawn while we waited?
        replies: list[Reply] = []
        if found is not None:
            try:
                case, replies = await _relay(services, found.case, message.text, update.update_id)
            except AlreadyHandled:
                return
        if not replies:
            await _tell_staff(context, message, "handoff_staff_not_relayed")
            return
        try:
            await deliver(services, case, replies, TelegramOutput(update, context, case.chat_id))
        except (Forbidden, BadRequest) as exc:
            log.info("a staff reply could not be delivered: %s", type(exc).__name__)
            await _tell_staff(context, message, "handoff_staff_not_delivered")


def register(app: Application) -> None:
    assert isinstance(app, ShouhuApplication)
    staff_chat = app.settings.staff_chat_id
    if staff_chat is None:
        return
    app.add_handler(
        MessageHandler(filters.Chat(staff_chat) & filters.UpdateType.MESSAGE & filters.REPLY, on_staff_message)
    )
