"""One SQLite connection on the event loop: statements run inline, what waits for the disk runs
on one thread of its own.

A statement on cached pages takes microseconds. Handing each one to a database thread and back,
as aiosqlite does, cost about 80 µs of CPU on the benchmark machine, about 9 times per update:
more than the statements themselves (benchmarks/RESULTS.md, "Inline SQLite"). So:

* **inline:** ``BEGIN``, every statement inside a transaction (it writes into the page cache and
  the WAL; nothing is fsynced before ``COMMIT``), ``ROLLBACK``, and a ``SELECT`` outside one;
* **on the thread:** ``COMMIT`` and then the WAL's fsync, any other statement outside a
  transaction (it commits by itself: a journal row, a checkpoint, a pragma; fsynced likewise if
  it wrote a row), and closing. The event loop goes on while the disk works.
* **light: inline, fsynced later:** ``commit_light`` and ``execute_unsynced``, for writes that
  must survive the process dying but may wait a moment for the disk (where a person is in the
  guide, the ids of messages; see ``light``). They are in the WAL, in the operating system's
  hands, when the call returns; the WAL is fsynced by the next durable commit or within
  ``SYNC_WITHIN`` seconds, whichever comes first. Only a power cut or an operating-system crash
  in between can lose them, and then only the last of them: the WAL is a log, so a durable
  commit after them holds them too.

The connection runs with ``synchronous=NORMAL`` and fsyncs the WAL itself, by its path, where
``synchronous=FULL`` would (after every commit that is not light): that is what lets a light
commit skip the wait. SQLite's own checkpoint after a commit (``wal_autocheckpoint``) runs only
on the thread: light writes turn it off for themselves, and after ``LIGHT_RUN`` of them in a row
the next commit is a durable one, which checkpoints a WAL grown past its size.

``BEGIN IMMEDIATE`` runs inline although it takes SQLite's write lock: the SQLite backend is one
process (``rotate-key`` refuses to run beside it), so no other writer can make it wait.

The API is the slice of aiosqlite's that the storage code uses (``storage.pg_compat`` speaks the
same one over PostgreSQL): ``execute`` is awaitable for a cursor or an ``async with`` block;
``execute_fetchall``, ``executemany``, ``commit``, ``rollback``, ``close``. Rows are
``sqlite3.Row``. SQLite's errors are ``sqlite3`` exceptions, as before.

One thing uses the connection at a time: an inline statement waits while the thread works (and
``SqliteStorage`` serialises its callers with its writer lock anyway). A caller cancelled while
the thread commits does not free the connection before the thread is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Closes(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Closes)

FETCH_ROWS = 256  # rows per step when a cursor is iterated; the loop runs other work between steps
SYNC_WITHIN = 1.0  # seconds until the WAL is fsynced after a light write (sooner if a durable commit comes)
LIGHT_RUN = 100  # light writes in a row at most; then a durable commit (fsync, checkpoint) on the thread


class Cursor:
    def __init__(self, db: Connection, cur: sqlite3.Cursor | _Finished):
        self._db, self._cur = db, cur

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def description(self) -> Any:
        return self._cur.description

    async def fetchone(self) -> sqlite3.Row | None:
        return await self._db._inline(self._cur.fetchone)

    async def fetchall(self) -> list[sqlite3.Row]:
        return await self._db._inline(self._cur.fetchall)

    def __aiter__(self) -> AsyncIterator[sqlite3.Row]:
        return self._rows()

    async def _rows(self) -> AsyncIterator[sqlite3.Row]:
        while rows := await self._db._inline(self._cur.fetchmany, FETCH_ROWS):
            for row in rows:
                yield row
            await asyncio.sleep(0)

    async def close(self) -> None:
        self._cur.close()


class Pending(Generic[C]):
    """What ``execute`` returns: ``await db.execute(...)`` for a cursor, or ``async with
    db.execute(...) as cur`` (closed at the end). ``storage.pg_compat`` uses it too."""

    def __init__(self, start: Callable[[], Awaitable[C]]):
        self._start = start
        self._cursor: C | None = None

    async def _run(self) -> C:
        self._cursor = await self._start()
        return self._cursor

    def __await__(self) -> Generator[Any, None, C]:
        return self._run().__await__()

    async def __aenter__(self) -> C:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class Connection:
    """Open with ``await Connection.open(path)``; ``isolation_level=None``: transactions are the
    caller's own ``BEGIN``/``commit()``."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None):
        self._conn = conn
        self._wal = None if path is None else Path(f"{path}-wal")
        self._sync_due: asyncio.TimerHandle | None = None
        self._syncing: asyncio.Future[None] | None = None
        self._light_rows = 0  # rows written inside light() blocks since the connection opened
        self._light_run = 0  # light writes since the last durable commit
        self._written = 0  # light writes so far, counted ...
        self._synced = 0  # ... and how many of them a finished fsync of the WAL holds
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        # The thread has the connection while _busy; it clears it itself (whatever became of the
        # loop that asked), and wakes whoever waits, under _lock.
        self._busy = False
        self._lock = threading.Lock()
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._closed = False
        self._heavy = 0  # inside all_off_loop(): every statement goes to the thread
        self._thread = threading.Thread(target=self._work, name="shouhu-sqlite", daemon=True)
        self._thread.start()

    @classmethod
    async def open(cls, path: Path, *, timeout: float = 5.0) -> Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=NORMAL").close()  # the WAL's fsync is this class's own (see the module)
        return cls(conn, path)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def weighty_rows(self) -> int:
        """Rows written since the connection opened, those written inside ``light()`` aside: a
        transaction that did not move it may end with ``commit_light``."""
        return self._conn.total_changes - self._light_rows

    @contextlib.contextmanager
    def light(self) -> Iterator[None]:
        """Rows written in this block may wait up to ``SYNC_WITHIN`` for the disk: they do not
        count in ``weighty_rows``. For what a power cut may take back without losing anything of
        a case's record. One writer at a time (``SqliteStorage`` holds its writer lock)."""
        before = self._conn.total_changes
        try:
            yield
        finally:
            self._light_rows += self._conn.total_changes - before

    # ------------------------------------------------------------------ the two ways to run

    async def _idle(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if not self._busy:
                    return
                waiter = loop.create_future()
                self._waiting.append((loop, waiter))
            await waiter

    async def _inline(self, fn: Callable[..., T], *args: Any) -> T:
        if self._busy:
            await self._idle()
        return fn(*args)

    async def _durably(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the thread; if it leaves rows committed, the WAL fsynced there before
        this returns (what ``synchronous=FULL`` would do)."""
        upto = self._written
        value, committed, synced = await self._off_loop(_then_fsync, self._conn, self._wal, fn, args)
        if committed:  # on the thread, with SQLite's checkpoint after it: light writes may run again
            self._light_run = 0
        if synced:
            self._synced = max(self._synced, upto)
        return value

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        if self._busy:
            await self._idle()
        # no await between the check above and the hand-over: nothing else on this loop starts
        loop = asyncio.get_running_loop()
        result: asyncio.Future[T] = loop.create_future()
        self._busy = True
        self._jobs.put_nowait((loop, result, fn, args))
        return await result

    def _work(self) -> None:
        """The thread: run each job, free the connection, then hand the outcome to the loop that
        asked (if it still runs and still waits)."""
        while (job := self._jobs.get()) is not None:
            loop, result, fn, args = job
            value, error = None, None
            try:
                value = fn(*args)
            except BaseException as exc:  # handed to the caller
                error = exc
            with self._lock:
                self._busy = False
                waiting, self._waiting = self._waiting, []
            for waiter_loop, waiter in waiting:
                _call(waiter_loop, _settle, waiter, None, None)
            _call(loop, _settle, result, value, error)
            del job, result, fn, args, value, error  # no cursor stays alive here meanwhile

    def _waits_for_disk(self, sql: str) -> bool:
        if self._heavy:
            return True
        head = sql.lstrip()[:8].upper()
        if self._conn.in_transaction:
            return head.startswith(("COMMIT", "END"))
        return not head.startswith(("SELECT", "BEGIN"))

    # ------------------------------------------------------------------ the API

    async def _statement(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> Cursor:
        if self._waits_for_disk(sql):  # read to the end there: no statement stays open to block a COMMIT
            return Cursor(self, await self._durably(_Finished, self._conn, sql, params))
        return Cursor(self, await self._inline(self._conn.execute, sql, params))

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Pending[Cursor]:
        return Pending(partial(self._statement, sql, params))

    async def execute_fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        run = self._durably if self._waits_for_disk(sql) else self._inline
        return await run(_fetchall, self._conn, sql, params)

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        run = self._durably if self._heavy or not self._conn.in_transaction else self._inline
        await run(self._conn.executemany, sql, list(seq))

    async def commit(self) -> None:
        """A durable commit: returns once the WAL is fsynced (on the thread)."""
        await self._durably(self._conn.commit)

    async def commit_light(self) -> None:
        """Commit inline without waiting for the disk (see the module): for a transaction that
        wrote only inside ``light()``. After ``LIGHT_RUN`` light writes in a row, durably."""
        if self._light_run >= LIGHT_RUN:
            return await self.commit()
        await self._inline(_light, self._conn, self._conn.commit)
        self._written_light()

    async def execute_unsynced(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
        """One statement that commits by itself, light (see the module)."""
        if self._light_run >= LIGHT_RUN:
            await self._durably(_Finished, self._conn, sql, params)
            return
        await self._inline(_light, self._conn, _run_closed, self._conn, sql, params)
        self._written_light()

    def _written_light(self) -> None:
        self._written += 1
        self._light_run += 1
        if self._sync_due is None and self._wal is not None and not self._closed:
            self._sync_due = asyncio.get_running_loop().call_later(SYNC_WITHIN, self._sync_wal)

    def _sync_wal(self) -> None:
        self._sync_due = None
        if self._synced < self._written:  # else a durable commit has fsynced the WAL since
            self._syncing = asyncio.ensure_future(self._fsync_wal(self._written))

    async def _fsync_wal(self, upto: int) -> None:
        assert self._wal is not None
        try:  # on a thread of its own, not the connection's: statements go on meanwhile
            await asyncio.to_thread(_fsync_file, self._wal)
        except OSError as exc:  # tried again in a moment, or by the next durable commit
            log.error("could not fsync the database's WAL (%s); trying again", type(exc).__name__)
            if self._sync_due is None and not self._closed:
                self._sync_due = asyncio.get_running_loop().call_later(SYNC_WITHIN, self._sync_wal)
            return
        self._synced = max(self._synced, upto)

    @contextlib.contextmanager
    def all_off_loop(self) -> Iterator[None]:
        """Every statement of this block runs on the thread (and is read to its end there): for
        reads over whole tables, such as /stats over 100,000 cases (60 ms)."""
        self._heavy += 1
        try:
            yield
        finally:
            self._heavy -= 1

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` on the thread, with the plain ``sqlite3`` connection: for
        work over many rows (a day's pruning) that would hold up the loop."""
        return await self._durably(fn, self._conn, *args)

    async def rollback(self) -> None:
        await self._inline(self._conn.rollback)

    async def close(self) -> None:
        """Idempotent. The last connection to close checkpoints the WAL (fsynced): on the thread."""
        if self._closed:
            return
        if self._sync_due is not None:  # closing checkpoints the WAL into the database, fsynced
            self._sync_due.cancel()
            self._sync_due = None
        if self._syncing is not None:
            await self._syncing
        try:
            await self._off_loop(self._conn.close)
        finally:
            self._closed = True
            self._jobs.put_nowait(None)


_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


def _call(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # that loop is closed: nobody waits there any more
        pass


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # its caller was cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class _Finished:
    """A statement run to its end on the thread, seen as the cursor that ran it."""

    def __init__(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any]):
        cur = conn.execute(sql, params)
        try:
            self._rows: list[sqlite3.Row] = cur.fetchall()
            self.rowcount, self.description = cur.rowcount, cur.description
        finally:
            cur.close()

    def fetchone(self) -> sqlite3.Row | None:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int) -> list[sqlite3.Row]:
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def fetchall(self) -> list[sqlite3.Row]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        self._rows = []


def _fetchall(conn: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[sqlite3.Row]:
    return conn.execute(sql, params).fetchall()


def _run_closed(conn: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any]) -> None:
    conn.execute(sql, params).close()


def _light(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` inline, with no automatic checkpoint (it would fsync on the loop): a durable
    commit on the thread does it."""
    autocheckpoint = _pragma(conn, "wal_autocheckpoint")
    _pragma(conn, "wal_autocheckpoint", 0)
    try:
        return fn(*args)
    finally:
        _pragma(conn, "wal_autocheckpoint", autocheckpoint)


def _then_fsync(
    conn: sqlite3.Connection, wal: Path | None, fn: Callable[..., T], args: tuple[Any, ...]
) -> tuple[T, bool, bool]:
    """On the thread: ``fn(*args)``, then the WAL fsynced if rows are committed now that were
    not before (a COMMIT, or a statement that committed by itself). Returns whether it
    committed, and whether the WAL is on the disk. ``synchronous`` as SQLite means it: FULL
    fsynced in the COMMIT already, OFF (a benchmark measuring the work, not the disk) never does."""
    changes, open_tx = conn.total_changes, conn.in_transaction
    value = fn(*args)
    if conn.in_transaction or (conn.total_changes == changes and not open_tx):
        return value, False, False
    if wal is None:
        return value, True, False
    level = _pragma(conn, "synchronous")
    if level == 1:  # NORMAL, as Connection.open sets it
        _fsync_file(wal)
    return value, True, level >= 1


def _pragma(conn: sqlite3.Connection, name: str, value: int | None = None) -> int:
    """Read (or set, then read) an integer pragma; the statement is read to its end, so it
    never stays open to block a COMMIT."""
    rows = conn.execute(f"PRAGMA {name}" if value is None else f"PRAGMA {name}={int(value)}").fetchall()
    return int(rows[0][0]) if rows else int(value or 0)


def _fsync_file(path: Path) -> None:
    """fsync a file by its path: the kernel flushes every write to it, whoever made it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # checkpointed away and removed at close: nothing left to flush
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
