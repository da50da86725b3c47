"""Build the python-telegram-bot Application: transport, context type, handlers, lifecycle."""

from __future__ import annotations

import logging

import httpx
from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from config import Settings
from flows.content import Content
from flows.engine import Engine
from handlers import chat, errors, evidence, groups, journal
from handlers.core import Services, ShouhuContext
from handlers.journal import JournalingQueue, PerChatProcessor, replay
from handlers.transport import ResilientRequest
from storage.factory import open_storage

log = logging.getLogger(__name__)

FEATURES = (groups, evidence, chat, journal, errors)  # evidence before chat: its uploads win over chat's catch-all


def build_engine(settings: Settings, content: Content) -> Engine:
    return Engine(content, quota_bytes=settings.quota_bytes, download_limit_mb=None if settings.local_api else 20)


async def post_init(app: Application) -> None:
    services: Services = app.bot_data
    services.storage = await open_storage(services.settings)
    services.http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
    app.update_queue.storage = services.storage
    await set_commands(app)
    await replay(app)


async def set_commands(app: Application) -> None:
    """Fill Telegram's "/" menu from content: the default locale for everyone, each locale for
    its own languages. A failure here costs a menu, not the bot."""
    services: Services = app.bot_data
    menus = services.engine.command_menu()
    try:
        for code, loc in services.content.locales.items():
            commands = [BotCommand(c, d) for c, d in menus[code]]
            if code == services.content.default:
                await app.bot.set_my_commands(commands)
            for lang in loc.language_codes:
                if len(lang) == 2:
                    await app.bot.set_my_commands(commands, language_code=lang)
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", type(exc).__name__)


async def post_shutdown(app: Application) -> None:
    services: Services = app.bot_data
    if services.http:
        await services.http.aclose()
    if services.storage:
        await services.storage.close()


def build_application(settings: Settings, content: Content, *, backoff: float = 0.5) -> Application:
    services = Services(settings, content, build_engine(settings, content))
    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .local_mode(settings.local_api)  # files then pass by path: no size cap, nothing loaded into memory
        .request(ResilientRequest(backoff=backoff, read_timeout=30.0, media_write_timeout=120.0))
        .get_updates_request(ResilientRequest(backoff=backoff, read_timeout=40.0))
        .context_types(ContextTypes(context=ShouhuContext, bot_data=lambda: services))
        .update_queue(JournalingQueue())
        .concurrent_updates(PerChatProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    for feature in FEATURES:
        feature.register(app)
    return app
