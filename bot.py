"""Shouhu (守护): entry point. Parse the command line, load settings and content, wire, run.

python bot.py              run on Telegram (long polling); needs TELEGRAM_BOT_TOKEN
python bot.py webhook      run on Telegram, updates posted to SHOUHU_WEBHOOK_URL (docs/DEPLOY.md)
python bot.py chat         talk to the bot in this terminal; no token needed
python bot.py check [DIR] [--strict]  validate content (default: SHOUHU_CONTENT_DIR or ./content)
python bot.py migrate --to postgresql://...  copy this SQLite instance into an empty PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from config import ConfigError, Settings
from flows.content import Content, load_content
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


NO_WEBHOOK_URL = """\
SHOUHU_WEBHOOK_URL is not set, so Telegram would not know where to post updates.

Set it to the public https:// address your reverse proxy forwards to this bot, for example

    export SHOUHU_WEBHOOK_URL='https://bot.example.org/telegram'

(or webhook.url in shouhu.toml); docs/DEPLOY.md has a proxy snippet. Without a public address,
run `python bot.py` instead: polling needs none.
"""


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the bot token
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)  # a line per state change is noise


def run_check(content_dir: Path, *, strict: bool = False) -> int:
    """Every problem as file:line:column: message, with a hint under it; 1 on errors (or warnings if strict)."""
    from flows.content.check import check_content

    report = check_content(content_dir)
    for problem in report.problems:
        print(problem, file=sys.stderr)
        if problem.hint:
            print(f"    hint: {problem.hint}", file=sys.stderr)
    errors, warnings = len(report.errors), len(report.warnings)
    if report.problems:
        print(f"{errors} error(s), {warnings} warning(s) in {content_dir}", file=sys.stderr)
    for line in report.summary:
        print(line)
    failed = report.failed(strict)
    if not failed:
        print("OK" + (f" ({warnings} warning(s); --strict fails on them)" if warnings else ""))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="Shouhu (守护) Telegram bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("chat", help="talk to the bot in this terminal")
    sub.add_parser("webhook", help="run on Telegram with a webhook (SHOUHU_WEBHOOK_URL) instead of polling")
    check = sub.add_parser("check", help="validate content and exit (1 on errors; warnings too with --strict)")
    check.add_argument("dir", nargs="?", help="content folder (default: SHOUHU_CONTENT_DIR or ./content)")
    check.add_argument("--strict", action="store_true", help="fail on warnings too (e.g. an as_of over a year old)")
    migrate = sub.add_parser("migrate", help="copy the SQLite instance in SHOUHU_DATA_DIR into an empty PostgreSQL")
    migrate.add_argument(
        "--to",
        required=True,
        metavar="postgresql://...",
        help="the empty database (a password: use ~/.pgpass or PGPASSWORD)",
    )
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "migrate":
        setup_logging(logging.WARNING)
        from storage import pg_migrate

        return asyncio.run(
            pg_migrate.run(
                args.to,
                settings.data_dir,
                settings.master_key,
                key_file=settings.key_file,
                key_in_data_dir=settings.key_in_data_dir,
                say=lambda line: print(line, file=sys.stderr),
            )
        )
    content_dir = Path(args.dir) if args.command == "check" and args.dir else settings.content_dir
    if args.command == "check":
        return run_check(content_dir, strict=args.strict)
    try:
        content = load_content(content_dir)
    except ContentError as exc:
        print(f"{len(exc.problems)} problem(s) in {content_dir}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1

    setup_logging(logging.WARNING if args.command == "chat" else logging.INFO)  # keep the chat readable
    from storage.crypto import MasterKeyError
    from storage.errors import StorageUnavailable

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
            if args.command == "webhook":
                return run_webhook_mode(settings, content)
            build_application(settings, content).run_polling(allowed_updates=None)
        except InvalidToken:
            print(
                "Telegram refused TELEGRAM_BOT_TOKEN. Copy it again from @BotFather (it looks like "
                "123456:ABC-DEF...), and check TELEGRAM_API_URL if you run your own Bot API server.",
                file=sys.stderr,
            )
            return 2
    except (MasterKeyError, StorageUnavailable) as exc:  # a key or a database that cannot be opened: a sentence
        print(exc, file=sys.stderr)
        return 2
    return 0


def run_webhook_mode(settings: Settings, content: Content) -> int:
    from handlers.app import build_application
    from handlers.webhook import WebhookError, run_webhook

    if not settings.webhook_url:
        print(NO_WEBHOOK_URL, file=sys.stderr)
        return 2
    try:
        run_webhook(build_application(settings, content, mode="webhook"), settings)
    except WebhookError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
