"""Nothing Telegram delivered is lost; one chat's updates are handled in order; no chat can
hold up the others; a full disk never leaves the bot deaf.

Telegram keeps an update until the bot confirms it, and must not be told before the update is
safe with us: handled (its transaction committed), or sealed in the journal, which ``replay``
finishes at the next start. Two ways to get there:

* **Webhook mode** answers Telegram's POST with 200 as soon as ``put`` returns, so ``put`` writes
  the update to the journal first.
* **Polling** confirms a batch with the *next* ``getUpdates`` (its ``offset``). Most updates are
  handled in a few milliseconds, so ``put`` only hands the update on, and ``durable()`` runs
  before each ``getUpdates``: it waits up to ``SETTLE_WAIT`` for the updates fetched so far to be
  handled, and journals whichever are still waiting or running (a slow download, an export, a
  chat's queue). A quick update costs no journal row, no extra fsync; a slow one costs what it
  always did. An update counts as settled once its processing *ran to its end*: handled, or
  failed and apologised for by the error handler; one cancelled or failed outside the handlers
  is journaled.

If the journal cannot be written (disk full, I/O error), journaling does not give up and does
not let the error end polling: it logs loudly, tells the person once that their message will be
handled a little later, and tries again with backoff; meanwhile nothing is confirmed to
Telegram, which keeps the updates.

``PerChatProcessor`` takes a chat's turn *before* one of the global processing slots, so a chat
with a long queue (a slow download, an export, a flood) waits on itself, never on everyone. A
chat with more than ``MAX_WAITING`` updates waiting is flooding: the extra updates are answered
with one calm message and marked handled, and the bot stays responsive to everyone else.

Several workers on one database (PostgreSQL, webhook mode behind a proxy that spreads Telegram's
POSTs over them): the journal is the queue, and ``Backlog`` keeps it. A worker still handles what
it received, but only once it holds the chat's lock (an advisory lock, the same in every worker),
and first it handles every earlier update of that chat still waiting in the journal, whichever
worker received it, in ``update_id`` order; an update another worker handled meanwhile is
skipped. A worker that dies (kill -9, a lost machine) frees its chat locks with its connections;
the rows it had journaled but not handled are found by the others' sweep (every second, rows
waiting longer than two seconds) and handled the same way. One process alone (SQLite) needs none
of this: its queue is the order, and ``replay`` finishes what a crash left at the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, TypeHandler

from handlers.context import ShouhuApplication, ShouhuContext
from storage.base import CaseKey, ChatIsolation, Storage
from storage.isolation import MemoryChatIsolation

log = logging.getLogger(__name__)

JOURNAL_RETRY_FIRST = 0.5
JOURNAL_RETRY_MAX = 30.0
MAX_WAITING = 30  # updates of one chat waiting for its turn before it counts as a flood
SWEEP_EVERY = 1.0  # seconds between two looks for rows a dead worker left (several workers only)
ORPHAN_AFTER = timedelta(seconds=2)  # a row waiting this long with its chat free was left behind
SWEEP_ROWS = 500  # the oldest rows one sweep opens (a backlog after an outage is taken in slices)
SETTLE_WAIT = 0.05  # polling: how long the next getUpdates waits for a batch to be handled before journaling the rest


class JournalingQueue(asyncio.Queue):
    RAW_MAX = 10_000  # updates whose JSON is kept until journaled; more means they were never put

    def __init__(self, *, defer: bool = False) -> None:
        """``defer``: polling, where ``durable()`` runs before each getUpdates (see the module)."""
        super().__init__()
        self.storage: Storage | None = None
        self.on_trouble: Callable[[Update], Awaitable[None]] | None = None
        self.defer = defer
        self._raw: dict[int, dict] = {}
        self._answer: bytes | None = None  # the latest getUpdates answer, not yet read
        self._unsettled: dict[int, Update] = {}  # put, not yet handled nor journaled, oldest first
        self._settled = asyncio.Event()  # set while _unsettled is empty
        self._settled.set()

    def remember(self, data: dict) -> None:
        """The update as Telegram sent it: the journal keeps this, not python-telegram-bot's
        re-serialisation (which costs more than the rest of journaling, and drops fields the
        library does not know)."""
        if len(self._raw) >= self.RAW_MAX:
            self._raw.clear()
        self._raw[data["update_id"]] = data

    def observe(self, endpoint: str, payload: bytes) -> None:
        """For the getUpdates transport: keep the answer, read only if one of its updates must
        be journaled (the updates that wait for the journal are all of the latest answer:
        ``durable()`` runs before each getUpdates)."""
        if endpoint == "getUpdates":
            self._answer = payload

    def _telegrams_json(self, update: Update) -> dict:
        if update.update_id not in self._raw and self._answer is not None:
            answer, self._answer = self._answer, None
            try:
                for data in json.loads(answer)["result"]:
                    if data["update_id"] in self._unsettled:  # the others need no journal row
                        self.remember(data)
            except (ValueError, KeyError, TypeError):
                pass  # python-telegram-bot reports a malformed answer; the journal falls back to to_dict()
        return self._raw.get(update.update_id) or update.to_dict()

    async def put(self, item: Any) -> None:
        if isinstance(item, Update) and self.storage is not None:
            if self.defer:
                self._unsettled[item.update_id] = item
                self._settled.clear()
            else:
                await self._journal(item)
        await super().put(item)

    async def put_journaled(self, update: Update) -> None:
        """An update taken from the journal (``replay``): nothing to write or wait for."""
        await super().put(update)

    def settle(self, update: object) -> None:
        """The processing of ``update`` ran to its end: it needs no journal row."""
        if isinstance(update, Update) and self._unsettled.pop(update.update_id, None) is not None:
            self._raw.pop(update.update_id, None)
            if not self._unsettled:
                self._settled.set()

    async def durable(self) -> None:
        """Polling, before each getUpdates (which confirms every update fetched before it):
        returns once each of them is handled or in the journal. Waits up to ``SETTLE_WAIT`` for
        them to be handled, then journals the rest, oldest first."""
        if not self._unsettled:
            return
        settled = asyncio.ensure_future(self._settled.wait())
        try:  # not wait_for: in Python 3.11 it can swallow a cancellation (polling stopping) that
            await asyncio.wait((settled,), timeout=SETTLE_WAIT)  # meets the batch being settled
        finally:
            settled.cancel()
        for update_id, update in list(self._unsettled.items()):
            if update_id in self._unsettled:  # not settled while an earlier one was written
                await self._journal(update)
                self.settle(update)

    async def _journal(self, update: Update) -> None:
        assert self.storage is not None
        delay, told = JOURNAL_RETRY_FIRST, False
        while True:
            if self.defer and update.update_id not in self._unsettled:
                return  # handled while the journal could not be written: nothing left to keep
            try:
                data = self._telegrams_json(update)  # on a retry too
                await self.storage.journal(update.update_id, data, chat_of(update))
                self._raw.pop(update.update_id, None)
                if told:
                    log.warning("the update journal is writable again")
                return
            except Exception as exc:  # noqa: BLE001 - a full disk, a lost database: whatever it is, never go deaf
                log.error(
                    "cannot journal update %s (%s: %s); Telegram keeps it until this succeeds. "
                    "Check free disk space and the database. Retrying in %.1fs",
                    update.update_id,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                if not told and self.on_trouble is not None:
                    told = True
                    try:
                        await self.on_trouble(update)
                    except Exception as notice_exc:  # noqa: BLE001 - the retry matters more than the notice
                        log.warning("could not tell the user about the delay: %s", type(notice_exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, JOURNAL_RETRY_MAX)


async def replay(app: ShouhuApplication) -> int:
    """Queue the updates journaled but not handled before the last stop; returns how many."""
    pending = await app.services.storage.pending_updates()
    queue = app.update_queue
    assert isinstance(queue, JournalingQueue)
    for data in pending:
        await queue.put_journaled(Update.de_json(data, app.bot))
    if pending:
        log.info("finishing %d update(s) received before the last stop", len(pending))
    return len(pending)


class Backlog:
    """The journal as the queue of several workers (see the module's docstring)."""

    def __init__(self, app: ShouhuApplication, processor: PerChatProcessor):
        self.app = app
        self.storage = app.services.storage
        self.processor = processor

    async def catch_up(self, chat: int, update_id: int) -> bool:
        """Holding the chat's lock: handle the chat's earlier updates still waiting in the
        journal, oldest first. False if ``update_id`` itself was handled meanwhile."""
        for data in await self.storage.pending_updates(chat_id=chat, upto=update_id):
            if data["update_id"] == update_id:
                return True
            await self.app.process_update(Update.de_json(data, self.app.bot))
        # not waiting under its chat: handled by another worker, or journaled before rows had chats
        return not await self.storage.is_handled(update_id)

    async def sweep(self) -> int:
        """Take over what waits in the journal longer than ``ORPHAN_AFTER`` while nobody holds
        its chat: the newest such update of each chat, which brings the earlier ones along."""
        waiting = await self.storage.pending_updates(
            received_before=self.storage.clock() - ORPHAN_AFTER, limit=SWEEP_ROWS
        )
        newest: dict[int | None, Update] = {}
        for data in waiting:
            update = Update.de_json(data, self.app.bot)
            newest[chat_of(update)] = update
        chats = []
        for chat, update in newest.items():
            if chat is None:  # no chat, nothing to answer (an edit, a reaction): only forgotten
                await self.storage.mark_handled(update.update_id)
            else:
                chats.append(self.processor.take_over(update, self.app.process_update(update)))
        results = await asyncio.gather(*chats, return_exceptions=True)  # concurrently, within the slots
        for failed in (r for r in results if isinstance(r, BaseException)):
            log.warning("taking over a chat failed (%s); the next sweep tries again", type(failed).__name__)
        done = sum(1 for r in results if r is True)
        if done:
            log.warning("took over %d chat(s) whose updates another worker had left waiting", done)
        return done

    async def run(self) -> None:
        """The sweep, every ``SWEEP_EVERY`` seconds, for the life of the worker."""
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end the sweep
                log.warning("the journal sweep failed (%s); trying again", type(exc).__name__)
            await asyncio.sleep(SWEEP_EVERY)


def chat_of(update: object) -> int | None:
    return update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None


class PerChatProcessor(BaseUpdateProcessor):
    """Different chats concurrently; the updates of one chat one after another, in order.

    python-telegram-bot takes its own concurrency slot before ``do_process_update`` learns the
    chat, so that slot is made unbounded and the real limit (``max_concurrent_updates``) is
    taken here, after the chat's turn. The chat's turn comes from storage's ``ChatIsolation``
    (in-process for SQLite; a database lock when several workers share one database)."""

    UNBOUNDED = 1_000_000

    def __init__(self, max_concurrent_updates: int = 64, max_waiting: int = MAX_WAITING):
        super().__init__(self.UNBOUNDED)
        self.slots = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self.max_waiting = max_waiting
        self.isolation: ChatIsolation = MemoryChatIsolation()
        self._waiting: dict[int | None, int] = {}
        self._flooded: set[int | None] = set()  # chats told to slow down, until their queue empties
        self.on_flood: Callable[[Update, bool], Awaitable[None]] | None = None
        self.backlog: Backlog | None = None  # several workers on one database: the journal is the queue
        self.taken_over = 0  # chats whose waiting updates this worker took over from one that died
        self.on_done: Callable[[object], None] | None = None  # an update's processing ran to its end
        self._idle = asyncio.Event()
        self._idle.set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._process(update, coroutine)
        if self.on_done is not None:  # not when cancelled or failed outside the handlers: journaled then
            self.on_done(update)

    async def _process(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = chat_of(update)
        waiting = self._waiting.get(chat, 0)
        if chat is not None and waiting >= self.max_waiting and isinstance(update, Update) and self.on_flood:
            _close(coroutine)  # never run: answered and marked handled instead
            first = chat not in self._flooded
            self._flooded.add(chat)
            await self.on_flood(update, first)
            return
        self._waiting[chat] = waiting + 1
        self._idle.clear()
        try:
            if chat is None:
                async with self._slots:
                    await coroutine
            else:
                async with self.isolation.lock(CaseKey(chat)):  # the chat's turn, then a slot
                    await self._in_turn(chat, update, coroutine)
        finally:
            self._release(chat)

    async def _in_turn(self, chat: int, update: object, coroutine: Awaitable[Any]) -> None:
        async with self._slots:
            backlog = self.backlog
            if backlog and isinstance(update, Update) and not await backlog.catch_up(chat, update.update_id):
                _close(coroutine)  # another worker handled it meanwhile
                return
            await coroutine

    async def take_over(self, update: Update, coroutine: Awaitable[Any]) -> bool:
        """Handle ``update`` (and its chat's earlier waiting ones) if nobody holds its chat:
        for rows a dead worker left. False, without waiting, if the chat is taken."""
        chat = chat_of(update)
        if chat is None:
            _close(coroutine)
            return False
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        self._idle.clear()
        try:
            async with self.isolation.try_lock(CaseKey(chat)) as mine:
                if not mine:
                    return False
                await self._in_turn(chat, update, coroutine)
                self.taken_over += 1
                return True
        finally:
            _close(coroutine)  # not run if the chat was taken or its lock failed (a no-op once run)
            self._release(chat)

    def _release(self, chat: int | None) -> None:
        self._waiting[chat] -= 1
        if not self._waiting[chat]:  # nobody waiting: forget the chat, so memory stays flat
            del self._waiting[chat]
            self._flooded.discard(chat)
        if not self._waiting:
            self._idle.set()

    async def idle(self) -> None:
        """Wait until no update is being handled or waiting (for tests and shutdown)."""
        await self._idle.wait()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close:
        close()


async def done(update: Update, context: ShouhuContext) -> None:
    """Last of all: whatever no handler took (an edit, a reaction) is marked handled too."""
    if context.handled:
        return
    if not await context.storage.is_handled(update.update_id):
        await context.storage.mark_handled(update.update_id)


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, done), group=1)
