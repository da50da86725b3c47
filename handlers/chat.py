"""Commands, button presses and plain text in a private chat: update -> event -> engine -> send."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from flows.model import Command, Event, Press, Text
from handlers.context import ShouhuApplication, ShouhuContext
from handlers.core import apply, discard
from handlers.delivery import deliver
from handlers.send import TelegramOutput, answer_query
from storage.errors import AlreadyHandled

# new messages in a private chat; an edit of an earlier message is not a new thing said
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def run(update: Update, context: ShouhuContext, event: Event) -> None:
    """Apply ``event`` for the chat of ``update`` and show what the engine answered."""
    chat, message = update.effective_chat, update.message
    assert chat is not None
    try:
        case, replies = await apply(
            context.services,
            chat.id,
            update.effective_user.language_code if update.effective_user else None,
            event,
            update_id=update.update_id,
            incoming=[message.message_id] if message else [],
        )
    except AlreadyHandled:
        context.handled = True
        discard(event)
        await answer_query(update)
        return
    except BaseException:
        discard(event)
        raise
    context.handled = True  # the transaction marked it: the last handler need not look
    await deliver(context.services, case, replies, TelegramOutput(update, context, chat.id))


async def on_command(update: Update, context: ShouhuContext) -> None:
    """A known command (CommandHandler has parsed it, /name@bot included)."""
    assert update.message and update.message.text
    head, _, args = update.message.text.partition(" ")
    await run(update, context, Command(head[1:].split("@")[0].lower(), args.strip()))


async def on_unknown_command(update: Update, context: ShouhuContext) -> None:
    await run(update, context, Command(""))


async def on_text(update: Update, context: ShouhuContext) -> None:
    assert update.message
    await run(update, context, Text(update.message.text or ""))


async def on_other(update: Update, context: ShouhuContext) -> None:
    """A sticker, a location, a contact...: answered like unexpected text, never with silence."""
    await run(update, context, Text(""))


async def on_button(update: Update, context: ShouhuContext) -> None:
    """A button under one of the bot's messages. Only in a private chat: a press on an inline
    message (no chat) or in a group is answered and ignored, so no case is shown there."""
    assert update.callback_query
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        await answer_query(update)
        return
    await run(update, context, Press(update.callback_query.data or ""))


def register(app: Application) -> None:
    assert isinstance(app, ShouhuApplication)
    app.add_handler(CommandHandler(list(app.engine.commands), on_command, filters=PRIVATE))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, on_other))  # after uploads and text
