"""Shouhu (守护): entry point. Parse the command line, load settings and content, wire, run.

python bot.py              run on Telegram (long polling); needs TELEGRAM_BOT_TOKEN
python bot.py chat         talk to the bot in this terminal; no token needed
python bot.py check [DIR]  validate content (default: SHOUHU_CONTENT_DIR or ./content)
python bot.py rotate-key   seal everything under a new master key (stop the bot first; docs/SECURITY.md)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from config import ConfigError, Settings
from flows.content import load_content
from flows.errors import ContentError

NO_TOKEN = """\
TELEGRAM_BOT_TOKEN is not set, so there is no Telegram bot to run.

To get a token: open Telegram, talk to @BotFather, send /newbot and follow its questions;
it answers with a token like 123456:ABC-DEF... Then:

    export TELEGRAM_BOT_TOKEN='123456:ABC-DEF...'
    python bot.py

To try the bot without Telegram, talk to it right here in the terminal:

    python bot.py chat
"""


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the bot token
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)  # a line per state change is noise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="Shouhu (守护) Telegram bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("chat", help="talk to the bot in this terminal")
    check = sub.add_parser("check", help="validate content and exit (1 on errors)")
    check.add_argument("dir", nargs="?", help="content folder (default: SHOUHU_CONTENT_DIR or ./content)")
    sub.add_parser("rotate-key", help="seal every case key and the journal under a new master key (bot stopped)")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "rotate-key":  # needs no content: the database and the keys only
        from storage.masterkey import KeySource
        from storage.rotate import cli

        setup_logging(logging.WARNING)
        source = KeySource(settings.master_key, settings.key_file, settings.key_in_data_dir)
        return cli(settings.data_dir, source, dict(os.environ))
    content_dir = Path(args.dir) if args.command == "check" and args.dir else settings.content_dir
    try:
        content = load_content(content_dir)
    except ContentError as exc:
        print(f"{len(exc.problems)} problem(s) in {content_dir}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if args.command == "check":
        for loc in content.locales.values():
            print(
                f"{loc.code}: {len(loc.nodes)} nodes, {len(loc.checklists)} checklists, "
                f"{len(loc.law)} legal facts, {len(loc.crisis_words)} crisis words: OK"
            )
        return 0

    setup_logging(logging.WARNING if args.command == "chat" else logging.INFO)  # keep the chat readable
    from storage.crypto import MasterKeyError

    try:
        if args.command == "chat":
            from handlers.terminal import chat

            return asyncio.run(chat(settings, content))
        if not settings.token:
            print(NO_TOKEN, file=sys.stderr)
            return 2

        from telegram.error import InvalidToken

        from handlers.app import build_application

        try:
            build_application(settings, content).run_polling(allowed_updates=None)
        except InvalidToken:
            print(
                "Telegram refused TELEGRAM_BOT_TOKEN. Copy it again from @BotFather (it looks like "
                "123456:ABC-DEF...), and check TELEGRAM_API_URL if you run your own Bot API server.",
                file=sys.stderr,
            )
            return 2
    except MasterKeyError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
