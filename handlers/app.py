"""Build the python-telegram-bot Application: transport, context type, features, lifecycle.

Lifecycle (the same in polling and webhook mode): ``post_init`` opens storage, wires the journal
and the per-chat processor, says in one log line what is in effect (mode, content, data dir,
locales, admins; never the token or the key), sets the "/" menu, listens for SIGHUP (reload),
starts the maintenance timer and replays what the journal holds (one process) or starts the
journal sweep (several workers on one database). ``post_shutdown`` undoes it.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from config import Settings
from flows.content import Content
from handlers import admin, chat, errors, evidence, groups, journal, reminders, staff
from handlers.context import ShouhuApplication, ShouhuContext
from handlers.core import build_engine
from handlers.exports import resume_interrupted
from handlers.journal import Backlog, JournalingQueue, PerChatProcessor, replay
from handlers.menu import set_commands
from handlers.reload import remember_steps
from handlers.transport import ResilientRequest
from handlers.upkeep import upkeep

log = logging.getLogger(__name__)

# evidence before chat: its uploads win over chat's catch-all; admin before chat: an admin's
# /stats is taken before chat's catch-all answers everyone else's with "unknown command"
FEATURES = (groups, staff, admin, evidence, chat, journal, errors, reminders)


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
    processor.on_done = queue.settle
    processor.isolation = app.services.storage.isolation()
    app.engine.bot_username = app.bot.username  # getMe ran in initialize(): links name this bot
    remember_steps(app.engine, app.settings.data_dir)
    log.info("%s", startup_line(app))
    await set_commands(app)
    admin.listen_for_sighup(app)
    # message ids past 48 h, old journal rows, a wipe another reader held up (retried every few seconds)
    app.background.append(asyncio.create_task(upkeep(app.services.storage), name="maintenance"))
    if processor.isolation.shared:  # several workers may share the database: the journal is the queue
        processor.backlog = Backlog(app, processor)
        app.background.append(asyncio.create_task(processor.backlog.run(), name="journal sweep"))
    else:
        await replay(app)
    # an export the last stop cut off: the person hears of it once (in the background: with several
    # workers, a chat exporting in another one is waited for, and the start must not wait with it)
    app.background.append(asyncio.create_task(resume_interrupted(app), name="interrupted exports"))


def startup_line(app: ShouhuApplication) -> str:
    """What is in effect, for the operator: never the token, the key or the webhook secret."""
    s, content = app.settings, app.content
    mode = (
        app.mode
        if app.mode != "webhook"
        else f"webhook ({s.webhook_url}, listening on {s.webhook_listen}:{s.webhook_port})"
    )
    locales = ", ".join(f"{code}{' (default)' if code == content.default else ''}" for code in content.locales)
    admins = ", ".join(str(a) for a in sorted(s.admin_ids)) or "none"
    config = str(s.config_file) if s.config_file else "none (environment only)"
    parts = urlsplit(s.api_url)  # a user:password@ in the URL stays out of the log
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    api = parts._replace(netloc=host).geturl() + (" (local)" if s.local_api else "")
    return (
        f"Shouhu starting: mode {mode}; content {s.content_dir.resolve()} [{locales}]; "
        f"data dir {s.data_dir.resolve()}; admins {admins}; Bot API {api}; config file {config}"
    )


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


async def post_shutdown(app: Application) -> None:
    assert isinstance(app, ShouhuApplication)
    admin.stop_listening_for_sighup()
    tasks, app.background = app.background, []
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await app.close_services()


def build_application(
    settings: Settings, content: Content, *, backoff: float = 0.5, mode: str = "polling"
) -> ShouhuApplication:
    queue = JournalingQueue(defer=mode == "polling")
    updates_request = ResilientRequest(backoff=backoff, read_timeout=40.0)
    updates_request.observe = queue.observe  # the journal keeps each update as Telegram sent it
    updates_request.before_send = queue.durable  # a getUpdates confirms what came before: safe first
    app = (
        ApplicationBuilder()
        .application_class(
            ShouhuApplication,
            kwargs={"settings": settings, "content": content, "engine": build_engine(settings, content), "mode": mode},
        )
        .token(settings.token or "")
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .local_mode(settings.local_api)  # files then pass by path: no size cap, nothing loaded into memory
        .request(ResilientRequest(backoff=backoff, read_timeout=30.0, media_write_timeout=120.0))
        .get_updates_request(updates_request)
        .context_types(ContextTypes(context=ShouhuContext))
        .update_queue(queue)
        .concurrent_updates(PerChatProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    assert isinstance(app, ShouhuApplication)
    for feature in FEATURES:
        feature.register(app)
    return app
