"""Nothing Telegram delivered is lost; one chat's updates are handled in order; no chat can
hold up the others; a full disk never leaves the bot deaf.

python-telegram-bot's polling confirms a batch (the next ``offset``) only after every update of
it was put in the queue. The ``JournalingQueue`` writes each update (sealed) to the database in
``put``, so a crash after confirmation loses nothing: ``replay`` queues every journaled update
not yet handled at start. If the journal cannot be written (disk full, I/O error), ``put`` does
not give up and does not let the error end polling: it logs loudly, tells the person once that
their message will be handled a little later, and tries again with backoff; meanwhile nothing
is confirmed to Telegram, which keeps the updates.

``PerChatProcessor`` takes a chat's turn *before* one of the global processing slots, so a chat
with a long queue (a slow download, an export, a flood) waits on itself, never on everyone. A
chat with more than ``MAX_WAITING`` updates waiting is flooding: the extra updates are answered
with one calm message and marked handled, and the bot stays responsive to everyone else.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
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


class JournalingQueue(asyncio.Queue):
    def __init__(self) -> None:
        super().__init__()
        self.storage: Storage | None = None
        self.on_trouble: Callable[[Update], Awaitable[None]] | None = None

    async def put(self, item: Any) -> None:
        if isinstance(item, Update) and self.storage is not None:
            await self._journal(item)
        await super().put(item)

    async def _journal(self, update: Update) -> None:
        assert self.storage is not None
        delay, told = JOURNAL_RETRY_FIRST, False
        while True:
            try:
                await self.storage.journal(update.update_id, update.to_dict())
                if told:
                    log.warning("the update journal is writable again")
                return
            except (OSError, sqlite3.Error) as exc:
                log.error(
                    "cannot journal update %s (%s: %s); Telegram keeps it until this succeeds. "
                    "Check free disk space in the data directory. Retrying in %.1fs",
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
    for data in pending:
        await app.update_queue.put(Update.de_json(data, app.bot))
    if pending:
        log.info("finishing %d update(s) received before the last stop", len(pending))
    return len(pending)


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
        self._idle = asyncio.Event()
        self._idle.set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
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
                async with self.isolation.lock(CaseKey(chat)), self._slots:  # the chat's turn, then a slot
                    await coroutine
        finally:
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
    if not await context.storage.is_handled(update.update_id):
        await context.storage.mark_handled(update.update_id)


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, done), group=1)
