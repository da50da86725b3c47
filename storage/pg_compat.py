"""The slice of the SQLite connection API (``storage.sqlite_conn``) that the shared SQL code uses,
over psycopg 3.

``storage.sqlite_tx`` (one update's work) and the data steps of ``storage.schema`` are written
once, in the SQL both dialects share. This module lets PostgreSQL run them unchanged:

* ``?`` and ``:name`` parameters become psycopg's ``%s`` and ``%(name)s`` (a literal ``%`` is
  doubled). The shared SQL holds no ``?`` or ``:word`` inside a string literal, and no ``::``
  cast; PostgreSQL-only SQL is written for psycopg directly and never passes through here;
* ``execute`` gives what the SQLite connection's does: awaitable for a cursor, or an ``async with`` block;
  the cursor has ``fetchone``, ``fetchall``, ``rowcount`` and ``async for``;
* rows are ``Row``: by position and by column name, like ``sqlite3.Row``.

A connection error becomes ``StorageUnavailable`` (an OSError), which callers already treat as
"the database cannot be reached now" (the journal retries, a read is UNREADABLE, not DAMAGED).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import psycopg
from psycopg.rows import RowMaker

from storage.errors import StorageUnavailable
from storage.sqlite_conn import Pending

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def translate(sql: str) -> str:
    """SQLite's ``?``/``:name`` parameters as psycopg's ``%s``/``%(name)s``."""
    sql = sql.replace("%", "%%").replace("?", "%s")
    return _NAMED.sub(r"%(\1)s", sql)


class Row(tuple):
    """A row by position or by column name."""

    _index: Mapping[str, int]

    def __new__(cls, values: Iterable[Any], index: Mapping[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def row_factory(cursor: Any) -> RowMaker[Row]:
    names = [c.name for c in cursor.description or ()]
    index = {n: i for i, n in enumerate(names)}

    def make(values: Sequence[Any]) -> Row:
        return Row(values, index)

    return make


class Cursor:
    def __init__(self, cur: psycopg.AsyncCursor[Row]):
        self._cur = cur

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    async def fetchone(self) -> Row | None:
        return await self._cur.fetchone() if self._cur.description else None

    async def fetchall(self) -> list[Row]:
        return await self._cur.fetchall() if self._cur.description else []

    def __aiter__(self) -> AsyncIterator[Row]:
        return self._rows()

    async def _rows(self) -> AsyncIterator[Row]:
        if self._cur.description:
            async for row in self._cur:
                yield row

    async def close(self) -> None:
        await self._cur.close()


async def _run(db: PgDb, sql: str, params: Any) -> Cursor:
    cur = db.conn.cursor()
    try:
        await cur.execute(translate(sql), _params(params))
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(str(exc)) from exc
    return Cursor(cur)


def _params(params: Any) -> Any:
    if params is None:
        return ()
    return params if isinstance(params, Mapping) else tuple(params)


class PgDb:
    """One psycopg connection (``row_factory`` = ``row_factory``) seen the way ``storage.sqlite_conn`` shows SQLite."""

    def __init__(self, conn: psycopg.AsyncConnection[Row]):
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> Pending[Cursor]:
        return Pending(partial(_run, self, sql, params))

    @contextlib.contextmanager
    def light(self) -> Iterator[None]:
        """``sqlite_conn.Connection.light``'s place: on PostgreSQL every commit waits for the
        disk (``synchronous_commit`` as the server has it), light rows too."""
        yield

    async def execute_fetchall(self, sql: str, params: Any = ()) -> list[Row]:
        async with self.execute(sql, params) as cur:
            return await cur.fetchall()

    async def executemany(self, sql: str, seq: Iterable[Any]) -> None:
        async with self.conn.cursor() as cur:
            try:
                await cur.executemany(translate(sql), [_params(p) for p in seq])
            except psycopg.OperationalError as exc:
                raise StorageUnavailable(str(exc)) from exc
