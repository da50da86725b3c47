"""Per-chat isolation inside one process: a lock per chat, forgotten when nobody waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage.base import CaseKey, ChatIsolation


class MemoryChatIsolation(ChatIsolation):
    """Enough for one process (SQLite's one writer). Memory stays flat: a chat's lock lives
    only while one of its updates holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[CaseKey, asyncio.Lock] = {}
        self._users: dict[CaseKey, int] = {}

    @asynccontextmanager
    async def lock(self, key: CaseKey) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    def __len__(self) -> int:
        """How many chats hold or wait for their lock now."""
        return len(self._locks)

    def busy(self, key: CaseKey) -> bool:
        return key in self._locks

    @asynccontextmanager
    async def try_lock(self, key: CaseKey) -> AsyncIterator[bool]:
        if key in self._locks:
            yield False
            return
        async with self.lock(key):  # a fresh lock: taken at once
            yield True
