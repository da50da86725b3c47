"""Build the python-telegram-bot Application: transport, context type, features, lifecycle."""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from config import Settings
from flows.content import Content
from handlers import chat, errors, evidence, groups, journal, reminders
from handlers.context import ShouhuApplication, ShouhuContext
from handlers.core import build_engine
from handlers.journal import JournalingQueue, PerChatProcessor, replay
from handlers.transport import ResilientRequest

log = logging.getLogger(__name__)

FEATURES = (
    groups,
    evidence,
    chat,
    journal,
    errors,
    reminders,
)  # evidence before chat: its uploads win over chat's catch-all


async def post_init(app: Application) -> None:
    assert isinstance(app, ShouhuApplication)
    await app.open_services()
    queue = app.update_queue
    assert isinstance(queue, JournalingQueue)
    queue.storage = app.services.storage
    queue.on_trouble = lambda update: _notice(app, update, "journal_trouble")
    processor = app.update_processor
    assert isinstance(processor, PerChatProcessor)
    processor.on_flood = lambda update, first: _flood(app, update, first)
    processor.isolation = app.services.storage.isolation()
    await set_commands(app)
    await replay(app)


async def _notice(app: ShouhuApplication, update: Update, key: str) -> None:
    """A calm line from content to the person behind ``update``, in a private chat only."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    lang = update.effective_user.language_code if update.effective_user else None
    await app.bot.send_message(chat.id, app.content.for_language(lang).msg(key), parse_mode=ParseMode.HTML)


async def _flood(app: ShouhuApplication, update: Update, first: bool) -> None:
    await app.services.storage.mark_handled(update.update_id)
    if update.callback_query:
        try:
            await update.callback_query.answer()
        except TelegramError:
            pass
    if first:
        try:
            await _notice(app, update, "flood")
        except TelegramError as exc:
            log.info("could not send the flood notice: %s", type(exc).__name__)


async def set_commands(app: ShouhuApplication) -> None:
    """Fill Telegram's "/" menu from content: the default locale for everyone, each locale for
    its own languages. A failure here costs a menu, not the bot."""
    menus = app.engine.command_menu()
    try:
        for code, loc in app.content.locales.items():
            commands = [BotCommand(c, d) for c, d in menus[code]]
            if code == app.content.default:
                await app.bot.set_my_commands(commands)
            for lang in loc.language_codes:
                if len(lang) == 2:
                    await app.bot.set_my_commands(commands, language_code=lang)
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", type(exc).__name__)


async def post_shutdown(app: Application) -> None:
    assert isinstance(app, ShouhuApplication)
    await app.close_services()


def build_application(settings: Settings, content: Content, *, backoff: float = 0.5) -> ShouhuApplication:
    app = (
        ApplicationBuilder()
        .application_class(
            ShouhuApplication,
            kwargs={"settings": settings, "content": content, "engine": build_engine(settings, content)},
        )
        .token(settings.token or "")
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .local_mode(settings.local_api)  # files then pass by path: no size cap, nothing loaded into memory
        .request(ResilientRequest(backoff=backoff, read_timeout=30.0, media_write_timeout=120.0))
        .get_updates_request(ResilientRequest(backoff=backoff, read_timeout=40.0))
        .context_types(ContextTypes(context=ShouhuContext))
        .update_queue(JournalingQueue())
        .concurrent_updates(PerChatProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    assert isinstance(app, ShouhuApplication)
    for feature in FEATURES:
        feature.register(app)
    return app
