"""Where the PostgreSQL backend gets its connections.

``open_connections(url)`` gives one connection and an asyncio lock: a worker's transactions one
after another, as SQLite's one writer does; a broken connection (the server restarted) is
replaced on next use. No pool: an update's transaction takes one to two milliseconds, so one
connection carries more transactions than one worker's CPU produces; a deployment scales by
adding workers (docs/DEPLOY.md).

Every connection is in autocommit mode; a unit of work is an explicit ``conn.transaction()``
block, so a read outside one never leaves a transaction open ("idle in transaction" holds back
VACUUM). Work that must not wait behind an update's transaction, or must hold something for
longer than one (an upload streamed into the vault, a chat's advisory lock), asks for a
``dedicated`` connection of its own.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import psycopg

from storage.errors import StorageUnavailable
from storage.pg_compat import PgDb, Row, row_factory

log = logging.getLogger(__name__)

# Keepalives on the worker's side: a server that vanished is noticed after about keepalives_idle +
# keepalives_interval * keepalives_count seconds (30 + 5*3 = 45 s). A vanished *worker's* chat locks
# are freed by the server's own settings (tcp_keepalives_*, tcp_user_timeout: docs/POSTGRES.md).
CONNECT_OPTIONS = {
    "application_name": "shouhu",
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "connect_timeout": 10,
}


async def connect(url: str) -> psycopg.AsyncConnection[Row]:
    """A new connection; StorageUnavailable (with the server's reason, never the URL's
    password) if the server cannot be reached."""
    try:
        return await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=row_factory, **_options(url))
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(f"cannot connect to PostgreSQL: {_reason(exc)}") from exc


def connect_blocking(url: str) -> psycopg.Connection[Row]:
    """The same, blocking (for the vault's reads in a worker thread)."""
    try:
        return psycopg.Connection.connect(url, autocommit=True, row_factory=row_factory, **_options(url))
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(f"cannot connect to PostgreSQL: {_reason(exc)}") from exc


def _options(url: str) -> dict[str, Any]:
    given = psycopg.conninfo.conninfo_to_dict(url)
    if str(given.get("host", "")).startswith("/"):  # a unix socket: no TCP keepalives to set
        return {"application_name": CONNECT_OPTIONS["application_name"]}
    return {k: v for k, v in CONNECT_OPTIONS.items() if k not in given}


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Connections(ABC):
    url: str

    @abstractmethod
    def connection(self) -> AbstractAsyncContextManager[PgDb]:
        """A connection for one unit of work (a transaction, or one read)."""

    async def dedicated(self) -> psycopg.AsyncConnection[Row]:
        return await connect(self.url)

    @abstractmethod
    async def close(self) -> None: ...


class SingleConnection(Connections):
    """One connection, one user at a time."""

    def __init__(self, url: str):
        self.url = url
        self._conn: psycopg.AsyncConnection[Row] | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PgDb]:
        async with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                if self._conn is not None:
                    log.warning("the connection to PostgreSQL was lost; connecting again")
                self._conn = await connect(self.url)
            yield PgDb(self._conn)

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None


async def open_connections(url: str) -> Connections:
    single = SingleConnection(url)
    async with single.connection():  # fail now, with a sentence, if the server is not there
        pass
    return single
