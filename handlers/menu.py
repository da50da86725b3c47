"""Telegram's "/" menu, from content: set at start and again after every reload.

Everyone gets the engine's commands in their language (the default locale for languages no
locale claims). Each admin (SHOUHU_ADMIN_IDS) gets, in their own chat only, the same list plus
/stats and /reload: Telegram shows a chat-scoped list instead of the default one there, so the
admin commands never appear in anyone else's menu. A private chat's id is its user's id.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from flows.features.admin import ADMIN_COMMANDS
from handlers.context import ShouhuApplication

log = logging.getLogger(__name__)


async def set_commands(app: ShouhuApplication) -> None:
    """A failure here costs a menu, not the bot: it is logged and the rest still set."""
    content, menus = app.content, app.engine.command_menu()
    try:
        for code, loc in content.locales.items():
            commands = [BotCommand(c, d) for c, d in menus[code]]
            if code == content.default:
                await app.bot.set_my_commands(commands)
            for lang in _languages(loc.language_codes):
                await app.bot.set_my_commands(commands, language_code=lang)
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", type(exc).__name__)
    for admin in sorted(app.settings.admin_ids):
        try:
            for code, loc in content.locales.items():
                commands = [BotCommand(c, d) for c, d in menus[code]]
                commands += [BotCommand(c, loc.msg(f"command_{c}")) for c in ADMIN_COMMANDS]
                scope = BotCommandScopeChat(admin)
                if code == content.default:
                    await app.bot.set_my_commands(commands, scope=scope)
                for lang in _languages(loc.language_codes):
                    await app.bot.set_my_commands(commands, scope=scope, language_code=lang)
        except TelegramError as exc:  # most often: this admin has not opened a chat with the bot yet
            log.warning(
                "could not set the admin menu for admin %d (%s); it is set at the next start or /reload",
                admin,
                type(exc).__name__,
            )


def _languages(codes: tuple[str, ...]) -> list[str]:
    """Telegram keys menus by two-letter ISO 639-1 codes only."""
    return [c for c in codes if len(c) == 2]
