"""Nothing Telegram delivered is lost, and one chat's updates are handled in order.

python-telegram-bot's polling tells Telegram it has a batch (the next ``offset``) as soon as the
batch is queued, before it is handled; a crash then would lose those updates for good. The
``JournalingQueue`` writes each update (sealed) to SQLite as it is queued, which is before the
next getUpdates confirms it; ``replay`` puts every journaled update not yet handled back in the
queue at start. A redelivered update is recognised by its ``update_id`` and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, TypeHandler

from handlers.core import ShouhuContext
from storage.base import Storage

log = logging.getLogger(__name__)


class JournalingQueue(asyncio.Queue):
    storage: Storage | None = None

    async def put(self, item: Any) -> None:
        if isinstance(item, Update) and self.storage is not None:
            await self.storage.journal(item.update_id, item.to_dict())
        await super().put(item)


async def replay(app: Application) -> int:
    """Queue the updates journaled but not handled before the last stop; returns how many."""
    pending = await app.bot_data.storage.pending_updates()
    for data in pending:
        await app.update_queue.put(Update.de_json(data, app.bot))
    if pending:
        log.info("finishing %d update(s) received before the last stop", len(pending))
    return len(pending)


class PerChatProcessor(BaseUpdateProcessor):
    """Different chats concurrently; the updates of one chat one after another, in order."""

    def __init__(self, max_concurrent_updates: int = 64):
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._users: dict[int | None, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._users[chat] = self._users.get(chat, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[chat] -= 1
            if not self._users[chat]:  # nobody waiting: forget the chat, so memory stays flat
                del self._users[chat], self._locks[chat]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


async def done(update: Update, context: ShouhuContext) -> None:
    """Last of all: whatever no handler took (an edit, a reaction) is marked handled too."""
    if not await context.storage.is_handled(update.update_id):
        await context.storage.mark_handled(update.update_id)


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, done), group=1)
