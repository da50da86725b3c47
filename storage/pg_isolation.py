"""Per-chat isolation across processes: a PostgreSQL advisory lock per chat.

Why a session-level ``pg_advisory_lock`` on a dedicated connection, not a transaction-level
``pg_advisory_xact_lock``: the chat's turn spans the whole update, not one transaction. An
upload is streamed into the vault, then committed, then answered; an export reads for many
seconds through several short reads; replies are sent after the commit. A transaction-level
lock would have to keep one transaction open for all of that (holding back VACUUM, and row locks
while Telegram is slow). A session lock is held by a connection that does nothing else and is
released by ``pg_advisory_unlock``, or by the server the moment that connection ends: a worker
killed with -9 frees its chats at once (its socket closes), a machine that vanishes frees them
after the TCP keepalive timeout (``storage.pg_connections``: about 45 s).

The process first takes its own in-memory lock for the chat, so one process never spends two
connections on one chat; only the updates holding or first in line for a chat use a connection,
and at most ``HELD_MAX`` at once (a burst from a thousand chats must not open a thousand
connections: the others wait here, holding nothing of the database's). Connections are reused:
up to ``IDLE_MAX`` wait idle for the next chat.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg

from storage.base import CaseKey, ChatIsolation
from storage.errors import StorageUnavailable
from storage.isolation import MemoryChatIsolation
from storage.pg_compat import Row
from storage.pg_connections import Connections

log = logging.getLogger(__name__)

IDLE_MAX = 8
HELD_MAX = 64  # as many as updates handled at once (handlers.journal's default slots)


def advisory_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name``, unlikely to meet another program's."""
    return int.from_bytes(hashlib.sha256(f"shouhu/{name}".encode()).digest()[:8], "big", signed=True)


def chat_lock_key(chat_id: int) -> int:
    return advisory_key(f"chat/{chat_id}")


class PgChatIsolation(ChatIsolation):
    shared = True

    def __init__(self, conns: Connections):
        self.conns = conns
        self._local = MemoryChatIsolation()
        self._idle: list[psycopg.AsyncConnection[Row]] = []
        self._held = asyncio.Semaphore(HELD_MAX)

    async def _take(self) -> psycopg.AsyncConnection[Row]:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and not conn.broken:
                return conn
        return await self.conns.dedicated()

    async def _give(self, conn: psycopg.AsyncConnection[Row]) -> None:
        if len(self._idle) < IDLE_MAX:
            self._idle.append(conn)
        else:
            await conn.close()

    async def _acquire(self, lock_key: int) -> psycopg.AsyncConnection[Row]:
        """A connection holding the lock. An idle connection the server has dropped meanwhile
        (a restart) fails on first use: it is replaced once."""
        for attempt in (1, 2):
            conn = await self._take()
            try:
                await conn.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
                return conn
            except psycopg.OperationalError as exc:
                await conn.close()
                if attempt == 2:
                    raise StorageUnavailable(str(exc).strip()) from exc
            except BaseException:
                await conn.close()  # a wait cut short: closing the session drops whatever it got
                raise
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def lock(self, key: CaseKey) -> AsyncIterator[None]:
        lock_key = chat_lock_key(key.chat_id)
        async with self._local.lock(key), self._held:
            conn = await self._acquire(lock_key)
            try:
                yield
            finally:
                await self._unlock(conn, lock_key)

    @asynccontextmanager
    async def try_lock(self, key: CaseKey) -> AsyncIterator[bool]:
        """For the sweep of rows a dead worker left: a chat this process or another one is on
        is skipped, never waited for."""
        if self._local.busy(key):
            yield False
            return
        lock_key = chat_lock_key(key.chat_id)
        async with self._local.lock(key), self._held:
            conn = await self._take()
            try:
                row = await (await conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (lock_key,))).fetchone()
            except BaseException:
                await conn.close()
                raise
            if not (row and row["got"]):
                await self._give(conn)
                yield False
                return
            try:
                yield True
            finally:
                await self._unlock(conn, lock_key)

    async def _unlock(self, conn: psycopg.AsyncConnection[Row], lock_key: int) -> None:
        try:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key,))
        except Exception as exc:  # noqa: BLE001 - closing the session releases the lock as well
            log.warning("a chat lock was released by closing its connection (%s)", type(exc).__name__)
            await conn.close()
        except BaseException:
            await conn.close()
            raise
        else:
            await self._give(conn)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()

    def __len__(self) -> int:
        return len(self._local)
