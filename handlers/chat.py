"""Commands, button presses and plain text in a private chat: update -> event -> engine -> send."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from flows.engine import COMMANDS
from flows.model import Event
from handlers.core import ShouhuContext, apply
from handlers.send import answer_query, send_replies
from storage.errors import AlreadyHandled

# new messages in a private chat; an edit of an earlier message is not a new thing said
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def run(update: Update, context: ShouhuContext, event: Event) -> None:
    """Apply ``event`` for the chat of ``update`` and send what the engine answered."""
    message = update.message
    try:
        case, replies = await apply(
            context.services,
            update.effective_chat.id,
            update.effective_user.language_code if update.effective_user else None,
            event,
            update_id=update.update_id,
            incoming=[message.message_id] if message else [],
        )
    except AlreadyHandled:
        await answer_query(update)
        return
    await send_replies(update, context, case, replies)


async def on_command(update: Update, context: ShouhuContext) -> None:
    text = update.message.text or ""
    name = text.split()[0][1:].split("@")[0].lower() if text.startswith("/") else ""
    await run(update, context, Event("command", name if name in COMMANDS else "unknown"))


async def on_text(update: Update, context: ShouhuContext) -> None:
    await run(update, context, Event("text", update.message.text or ""))


async def on_other(update: Update, context: ShouhuContext) -> None:
    """A sticker, a location, a contact...: answered like unexpected text, never with silence."""
    await run(update, context, Event("text", ""))


async def on_button(update: Update, context: ShouhuContext) -> None:
    await run(update, context, Event("button", update.callback_query.data or ""))


def register(app: Application) -> None:
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, on_command))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, on_other))  # after uploads and text
