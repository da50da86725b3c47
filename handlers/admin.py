"""/stats and /reload for the clinic's admins (SHOUHU_ADMIN_IDS), and SIGHUP for the operator.

The commands are matched only for those user ids in a private chat. For anyone else the filter
does not match, so the command falls through to the chat's catch-all and gets the ordinary
"unknown command" answer, exactly like a typo: nothing tells a stranger these commands exist
(handlers/menu.py keeps them out of other people's menus). No case is created or changed for
an admin command; the journal marks the update handled like any other (handlers/journal.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, filters

from flows.features.admin import ADMIN_COMMANDS, reload_done, reload_report, stats_screen
from handlers.context import ShouhuApplication, ShouhuContext
from handlers.reload import reload_content

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def _locale(update: Update, context: ShouhuContext):
    lang = update.effective_user.language_code if update.effective_user else None
    return context.app.content.for_language(lang)


async def on_stats(update: Update, context: ShouhuContext) -> None:
    assert update.effective_chat
    loc = _locale(update, context)
    stats = await context.storage.stats()
    screen = stats_screen(context.app.content, loc, stats)
    await context.bot.send_message(update.effective_chat.id, screen.text, parse_mode=ParseMode.HTML)


async def on_reload(update: Update, context: ShouhuContext) -> None:
    assert update.effective_chat and update.effective_user
    log.info("content reload asked by admin %d", update.effective_user.id)
    outcome = await reload_content(context.app)
    loc = _locale(update, context)  # after the swap: the admin reads the answer in the new words
    if outcome.content is not None:
        text = reload_done(outcome.content, loc)
    else:
        text = reload_report(loc, list(outcome.problems))
    await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)


_COMMANDS = {"stats": on_stats, "reload": on_reload}
assert set(_COMMANDS) == set(ADMIN_COMMANDS)


def register(app: Application) -> None:
    assert isinstance(app, ShouhuApplication)
    admins = app.settings.admin_ids
    if not admins:
        return  # no admin: /stats and /reload are unknown commands to everyone
    only_admins = PRIVATE & filters.User(user_id=admins)
    for name, callback in _COMMANDS.items():
        app.add_handler(CommandHandler(name, callback, filters=only_admins))


# ----------------------------------------------------------------------------- SIGHUP


def listen_for_sighup(app: ShouhuApplication) -> bool:
    """``kill -HUP <pid>`` (systemd: ``systemctl reload shouhu``) reloads content; the outcome
    goes to the log. False where the platform has no SIGHUP or the loop cannot take signals."""
    hup = getattr(signal, "SIGHUP", None)
    if hup is None:
        return False
    tasks: set[asyncio.Task] = set()

    def reload_now() -> None:
        log.info("SIGHUP: reloading content")
        task = asyncio.ensure_future(reload_content(app))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        asyncio.get_running_loop().add_signal_handler(hup, reload_now)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        return False
    return True


def stop_listening_for_sighup() -> None:
    hup = getattr(signal, "SIGHUP", None)
    if hup is not None:
        try:
            asyncio.get_running_loop().remove_signal_handler(hup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
