"""Exports a stopped process left half done: the person hears of it once, at the next start.

An export is remembered in the case record while it runs (``flows.features.export.RUNNING``,
written with the press that starts it, removed by delivery when it ends). A marker found at
start belongs to a process that died mid-export (kill -9, a crash, power): no one would
otherwise tell the person that "正在打包…" will never be followed by the package. Call
``resume_interrupted(app)`` in ``post_init`` after the journal's replay; it sends one calm
message per such case, with the button that builds the export again.

Each case is handled in the chat's turn (storage's ``ChatIsolation``): where several workers
share one database, an export still running in another worker holds that turn and removes its
marker before this one looks. The marker is removed in the transaction before the message is
sent: a crash right then loses the notice rather than sending it twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from flows.feature import Turn
from flows.features import export
from handlers.context import ShouhuApplication
from handlers.delivery import deliver
from handlers.reminders import ReminderOutput
from storage.base import CaseKey

log = logging.getLogger(__name__)

AHEAD = timedelta(days=1)  # markers carry when the export began; a clock set back a little still finds them


async def resume_interrupted(app: ShouhuApplication) -> int:
    """Tell every person whose export the last stop cut off; returns how many were told."""
    services = app.services
    storage = services.storage
    told = 0
    for due in await storage.due_records(export.RUNNING, datetime.now(UTC) + AHEAD):
        case = due.case  # never ``tx.case()``: that would make a case anew for a chat deleted meanwhile
        loc = services.content.locale(case.locale)
        try:
            async with storage.isolation().lock(CaseKey(case.chat_id)):
                async with storage.transaction() as tx:
                    replies = await export.interrupted(Turn(services.engine, case, loc, tx))
                if not replies:
                    continue  # another worker's export finished meanwhile, or a second marker of this case
                try:
                    await deliver(services, case, replies, ReminderOutput(app, case.chat_id))
                    told += 1
                except Forbidden:
                    log.info("an interrupted export was not reported: the person blocked the bot or left")
                except BadRequest as exc:  # a NetworkError to python-telegram-bot, but no retry helps
                    log.warning("the report of an interrupted export was refused: %s", type(exc).__name__)
                except (NetworkError, RetryAfter) as exc:  # Telegram unreachable now: say it at the next start
                    async with storage.transaction() as tx:
                        await export.started(Turn(services.engine, case, loc, tx))
                    log.warning(
                        "an interrupted export could not be reported (%s); tried at the next start", type(exc).__name__
                    )
                except TelegramError as exc:
                    log.warning("the report of an interrupted export was refused: %s", type(exc).__name__)
        except Exception:  # one case must not keep the bot from starting
            log.exception("reporting an interrupted export failed")
    if told:
        log.info("told %d person(s) that the last stop cut off their export", told)
    return told
