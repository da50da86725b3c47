"""The one error handler: log with the traceback first, then a calm reply from content.

The update is marked handled so it is not replayed at every restart; the victim is told their
data is safe and to try again. Logs name the update and the error, never what was written.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application

from handlers.context import ShouhuContext
from handlers.send import answer_query

log = logging.getLogger(__name__)


async def on_error(update: object, context: ShouhuContext) -> None:
    uid = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", uid, exc_info=context.error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    try:
        await answer_query(update)
        if chat and chat.type == "private":
            lang = update.effective_user.language_code if update.effective_user else None
            loc = context.engine.content.for_language(lang)
            await context.bot.send_message(
                chat.id, context.engine.error_reply(loc.code).text, parse_mode=ParseMode.HTML
            )
    except Exception as exc:  # noqa: BLE001 - the error handler must not fail in turn
        log.warning("could not apologise for update %s: %s", uid, type(exc).__name__)
    try:  # not replayed at every restart; if even this fails (a full disk), it is, once there is room
        await context.storage.mark_handled(update.update_id)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not mark update %s handled: %s", uid, type(exc).__name__)


def register(app: Application) -> None:
    app.add_error_handler(on_error)
