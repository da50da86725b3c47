"""The reminder timer: wakes every ``TICK`` seconds, sends the reminders that are due, once.

The database is the truth (records of kind ``reminder`` with ``due_at``): the timer keeps no
state, so a reminder set before a restart is found by the first wake-up after it, which comes
right at start. Each reminder is handled in the chat's turn (storage's ``ChatIsolation``, so it
never interleaves with the person's own updates) and in its own transaction, which deletes it
before it is sent (``flows.features.reminders.fire``): a crash after that loses one reminder
rather than sending it twice. A send that fails for the network is put back for later; one
Telegram refuses (the person blocked the bot) is dropped.

python-telegram-bot's JobQueue needs APScheduler, which this project does not install; the
timer is one asyncio task started after ``post_init`` and stopped in ``post_stop`` (or, at the
latest, before ``post_shutdown`` closes storage): ``register`` chains those hooks, so nothing
else in the application changes. Tests call
``send_due(app, now)`` with the time they choose; nothing here sleeps in a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from telegram.constants import ParseMode
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from flows.feature import Turn
from flows.features import reminders
from flows.model import Message
from handlers.context import ShouhuApplication
from handlers.delivery import deliver
from handlers.send import TelegramOutput, markup
from storage.base import CaseKey

log = logging.getLogger(__name__)

TICK = 60.0  # seconds between wake-ups; reminders are due by the day, at a civil hour
RETRY_AFTER = timedelta(minutes=30)  # a reminder Telegram could not take (network) is tried again then


class ReminderOutput(TelegramOutput):
    """Sends into a chat without an update to answer: no button spinner, never an edit. Files
    and deletions go as in ``TelegramOutput``."""

    def __init__(self, app: ShouhuApplication, chat_id: int):  # no update, no handler context
        self.bot = app.bot
        self.chat_id = chat_id
        self.local = app.settings.local_api

    async def toast(self, text: str) -> None:
        return None

    async def show(self, msg: Message) -> int | None:
        sent = await self.bot.send_message(self.chat_id, msg.text, parse_mode=ParseMode.HTML, reply_markup=markup(msg))
        return sent.message_id


async def send_due(app: ShouhuApplication, now: datetime | None = None) -> int:
    """Send every reminder due at ``now`` (default: the clock); returns how many were sent."""
    services = app.services
    storage = services.storage
    now = now or datetime.now(UTC)
    sent = 0
    for due in await storage.due_records(reminders.REMINDER, now):
        case = due.case  # never ``tx.case()``: that would make a case anew for a chat deleted meanwhile
        key = CaseKey(case.chat_id)
        loc = services.content.locale(case.locale)
        async with storage.isolation().lock(key):
            async with storage.transaction() as tx:
                fired = await reminders.fire(Turn(services.engine, case, loc, tx), due.rid, now)
            if fired is None:
                continue
            try:
                await deliver(services, case, fired.replies, ReminderOutput(app, case.chat_id))
                sent += 1
            except Forbidden:
                log.info("a reminder was not delivered: the person blocked the bot or left")
            except (NetworkError, RetryAfter) as exc:  # not delivered: due again later
                async with storage.transaction() as tx:
                    await reminders.put_back(Turn(services.engine, case, loc, tx), fired, now + RETRY_AFTER)
                log.warning("a reminder could not be sent (%s); it is tried again later", type(exc).__name__)
            except TelegramError as exc:
                log.warning("a reminder was refused by Telegram: %s", type(exc).__name__)
    return sent


async def _loop(app: ShouhuApplication) -> None:
    while True:
        try:
            await send_due(app)
        except Exception:  # noqa: BLE001 - the timer must outlive one bad wake-up
            log.exception("sending due reminders failed; trying again at the next wake-up")
        await asyncio.sleep(TICK)


def register(app: Application) -> None:
    """Start the timer once storage is open (after ``post_init``); stop it when the application
    stops (``post_stop``) and, at the latest, before storage closes (``post_shutdown``)."""
    assert isinstance(app, ShouhuApplication)
    task: asyncio.Task[None] | None = None
    before_init: Callable[[Application], Awaitable[None]] | None = app.post_init
    before_stop: Callable[[Application], Awaitable[None]] | None = app.post_stop
    before_shutdown: Callable[[Application], Awaitable[None]] | None = app.post_shutdown

    async def stop_timer() -> None:
        nonlocal task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            task = None

    async def post_init(application: Application) -> None:
        nonlocal task
        if before_init:
            await before_init(application)
        task = asyncio.create_task(_loop(app), name="shouhu-reminders")

    async def post_stop(application: Application) -> None:
        await stop_timer()
        if before_stop:
            await before_stop(application)

    async def post_shutdown(application: Application) -> None:
        await stop_timer()
        if before_shutdown:
            await before_shutdown(application)

    app.post_init = post_init
    app.post_stop = post_stop
    app.post_shutdown = post_shutdown
