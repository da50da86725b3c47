"""The SQLite connection runs statements on the event loop and leaves it only for what waits for
the disk (storage/sqlite_conn.py): every durable commit's fsync happens on its own thread, so one
chat's commit never holds up the loop, and the connection is never used by two threads at once.
Light writes (where a person is in the guide, message ids) are committed on the loop and fsynced
a moment later."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time

import pytest

from storage.base import CaseKey
from storage.sqlite_conn import Connection

LOOP = "MainThread"
DISK = "shouhu-sqlite"


@pytest.fixture
async def db(tmp_path):
    conn = await Connection.open(tmp_path / "t.db")  # synchronous=NORMAL: it fsyncs the WAL itself
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    yield conn
    await conn.close()


@contextlib.asynccontextmanager
async def other_work(every: float):
    """A task standing for the other chats; counts the turns the event loop gave it meanwhile."""
    turns = [0]

    async def run() -> None:
        while True:
            await asyncio.sleep(every)
            turns[0] += 1

    task = asyncio.create_task(run())
    try:
        yield turns
    finally:
        task.cancel()


def trace(db: Connection) -> list[tuple[str, str]]:
    """(thread, statement) for every statement SQLite runs, in order; the pragmas the connection
    reads and sets for itself around commits aside."""
    seen: list[tuple[str, str]] = []

    def record(sql: str) -> None:
        if not sql.startswith("PRAGMA"):
            seen.append((threading.current_thread().name, sql.split()[0]))

    db._conn.set_trace_callback(record)
    return seen


async def test_only_commits_and_statements_that_commit_by_themselves_leave_the_loop(db):
    seen = trace(db)
    await db.execute("BEGIN IMMEDIATE")
    await db.execute("INSERT INTO t (k, v) VALUES (1, 'a')")
    assert [tuple(r) for r in await db.execute_fetchall("SELECT k, v FROM t")] == [(1, "a")]
    await db.execute("UPDATE t SET v = 'b' WHERE k = 1")
    await db.commit()
    await db.execute("INSERT INTO t (k, v) VALUES (2, 'c')")  # a transaction by itself: fsynced
    await db.execute_fetchall("SELECT COUNT(*) FROM t")
    await db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [(3, "d"), (4, "e")])
    await db.execute("BEGIN IMMEDIATE")
    await db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [(5, "f")])
    await db.rollback()
    assert seen == [
        (LOOP, "BEGIN"),
        (LOOP, "INSERT"),
        (LOOP, "SELECT"),
        (LOOP, "UPDATE"),
        (DISK, "COMMIT"),
        (DISK, "INSERT"),
        (LOOP, "SELECT"),
        (DISK, "INSERT"),
        (DISK, "INSERT"),
        (LOOP, "BEGIN"),
        (LOOP, "INSERT"),
        (LOOP, "ROLLBACK"),
    ]
    assert [r[0] for r in await db.execute_fetchall("SELECT k FROM t ORDER BY k")] == [1, 2, 3, 4]


async def test_the_loop_runs_while_the_thread_works_and_a_cancelled_caller_does_not_free_the_connection(db):
    events: list[str] = []

    def slow_commit() -> None:  # what a slow disk's fsync looks like from the loop
        events.append("commit starts")
        time.sleep(0.3)
        events.append("commit ends")

    async with other_work(every=0.01) as turns:
        commit = asyncio.create_task(db._off_loop(slow_commit))
        await asyncio.sleep(0.05)
        commit.cancel()  # the caller gives up (an update's task cancelled at shutdown)
        await asyncio.sleep(0.01)  # the cancellation has landed; the thread still works
        assert commit.cancelled()
        seen = trace(db)
        rows = await db.execute_fetchall("SELECT COUNT(*) FROM t")  # must wait for the thread
        events.append("next statement")
    assert rows[0][0] == 0 and seen == [(LOOP, "SELECT")]
    assert events == ["commit starts", "commit ends", "next statement"]
    assert turns[0] >= 10, "the event loop kept running while the thread worked"


async def test_an_error_on_the_thread_reaches_the_caller_and_the_connection_goes_on(db):
    await db.execute("INSERT INTO t (k, v) VALUES (1, 'a')")
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO t (k, v) VALUES (1, 'again')")
    with pytest.raises(sqlite3.OperationalError):
        await db.execute("SELECT nothing FROM nowhere")
    assert not db.in_transaction
    assert [tuple(r) for r in await db.execute_fetchall("SELECT k, v FROM t")] == [(1, "a")]


async def test_a_long_result_is_read_in_steps_between_which_the_loop_runs(db):
    await db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [(i, str(i)) for i in range(2000)])
    async with other_work(every=0) as turns:
        await asyncio.sleep(0)
        async with db.execute("SELECT k FROM t ORDER BY k") as cur:
            keys = [row[0] async for row in cur]
        ran = turns[0]
    assert keys == list(range(2000))
    assert ran >= 2000 // 256, "other work ran between the steps"


async def test_pruning_a_busy_days_journal_runs_on_the_thread(tmp_path):
    """Maintenance deletes two days' handled updates and old message ids every few minutes: on the
    connection's thread, so chats are answered meanwhile."""
    from datetime import UTC, datetime, timedelta

    from storage.sqlite import SqliteStorage
    from tests.conftest import MASTER_KEY

    now = [datetime(2026, 11, 1, tzinfo=UTC)]
    storage = await SqliteStorage.open(tmp_path / "data", MASTER_KEY, clock=lambda: now[0])
    try:
        old = (now[0] - timedelta(days=3)).isoformat()
        await storage.db.executemany(
            "INSERT INTO updates (update_id, payload, received_at, handled_at) VALUES (?, NULL, ?, ?)",
            [(i, old, old) for i in range(1, 3001)],
        )
        async with storage.transaction() as tx:
            await tx.case(CaseKey(7), "zh-CN", "welcome")
            await tx.record_messages(CaseKey(7), list(range(1, 501)))
        now[0] += timedelta(days=3)
        seen = trace(storage.db)
        report = await storage.maintenance()
        assert (report.pruned_updates, report.pruned_messages) == (3000, 500)
        assert {thread for thread, sql in seen if sql == "DELETE"} == {DISK}
    finally:
        await storage.close()


async def test_a_pragmas_unread_answer_does_not_block_the_next_commit(db):
    """What ran on the thread ran to its end there: a checkpoint's answer left unread (a test
    helper, a maintenance step) must not leave a statement open that makes COMMIT fail."""
    checkpoint = await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # answer not read, cursor kept
    await db.execute("BEGIN IMMEDIATE")
    await db.execute("INSERT INTO t (k, v) VALUES (1, 'a')")
    await db.commit()
    assert len(await checkpoint.fetchall()) == 1
    assert [tuple(r) for r in await db.execute_fetchall("SELECT k, v FROM t")] == [(1, "a")]


async def test_stats_over_every_case_are_read_on_the_thread(tmp_path):
    """/stats reads whole tables (60 ms at 100,000 cases): on the thread, not the event loop."""
    from storage.sqlite import SqliteStorage
    from tests.conftest import MASTER_KEY

    storage = await SqliteStorage.open(tmp_path / "data", MASTER_KEY)
    try:
        for chat in (1, 2, 3):
            async with storage.transaction() as tx:
                await tx.case(CaseKey(chat), "zh-CN", "welcome")
        seen = trace(storage.db)
        stats = await storage.stats()
        assert stats.cases == 3
        assert seen and {thread for thread, _ in seen} == {DISK}
        seen.clear()
        await storage.db.execute_fetchall("SELECT COUNT(*) FROM cases")
        assert seen == [(LOOP, "SELECT")], "and afterwards reads run inline again"
    finally:
        await storage.close()


@pytest.fixture
def fsyncs(monkeypatch):
    """(thread, file) for every fsync of the WAL the connection makes, from now on."""
    import storage.sqlite_conn as sqlite_conn

    seen: list[tuple[str, str]] = []
    real = sqlite_conn._fsync_file

    def recording(path):
        real(path)
        seen.append((threading.current_thread().name, path.name))

    monkeypatch.setattr(sqlite_conn, "_fsync_file", recording)
    monkeypatch.setattr(sqlite_conn, "SYNC_WITHIN", 0.05)
    return seen


async def test_a_commit_returns_once_the_wal_is_fsynced_on_the_thread(db, fsyncs):
    """What synchronous=FULL did, the connection does itself: every commit that is not light, and
    every statement that commits a row by itself, is fsynced before it returns."""
    await db.execute("BEGIN IMMEDIATE")
    await db.execute("INSERT INTO t (k, v) VALUES (1, 'a')")
    assert fsyncs == []
    await db.commit()
    assert fsyncs == [(DISK, "t.db-wal")]
    await db.execute("INSERT INTO t (k, v) VALUES (2, 'b')")  # a transaction by itself
    await db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [(3, "c")])
    assert fsyncs == [(DISK, "t.db-wal")] * 3
    await db.execute("PRAGMA busy_timeout = 100")  # on the thread too, but it wrote nothing
    await db.execute("INSERT INTO t (k, v) VALUES (3, 'c') ON CONFLICT DO NOTHING")
    assert len(fsyncs) == 3, "nothing written, nothing to fsync"
    await db.execute("PRAGMA synchronous=FULL")  # synchronous as SQLite means it: FULL fsyncs in the COMMIT
    await db.execute("INSERT INTO t (k, v) VALUES (4, 'd')")
    await db.execute("PRAGMA synchronous=OFF")  # and OFF never (a benchmark of the work, not the disk)
    await db.execute("INSERT INTO t (k, v) VALUES (5, 'e')")
    assert len(fsyncs) == 3


async def test_an_unsynced_write_runs_inline_and_is_fsynced_within_its_time(db, tmp_path, fsyncs):
    """The sent message ids: written on the loop without waiting for the disk, visible to any
    reader at once (in the WAL, the operating system's), and the WAL fsynced a moment later."""
    seen = trace(db)
    await db.execute_unsynced("INSERT INTO t (k, v) VALUES (1, 'sent')")
    assert [thread for thread, sql in seen if sql == "INSERT"] == [LOOP]
    assert fsyncs == [], "not fsynced before the moment is up"
    other = sqlite3.connect(tmp_path / "t.db")
    assert other.execute("SELECT v FROM t").fetchall() == [("sent",)], "committed when it returns"
    other.close()
    await db.execute_unsynced("INSERT INTO t (k, v) VALUES (2, 'sent')")
    await asyncio.sleep(0.2)
    assert fsyncs == [("asyncio_0", "t.db-wal")], "one fsync of the WAL for both writes, off the loop"


async def test_a_light_transaction_commits_on_the_loop_and_a_durable_commit_since_spares_its_fsync(
    db, tmp_path, fsyncs
):
    seen = trace(db)
    weighty = db.weighty_rows
    await db.execute("BEGIN IMMEDIATE")
    with db.light():
        await db.execute("INSERT INTO t (k, v) VALUES (1, 'step 2')")
    assert db.weighty_rows == weighty, "a light row does not count"
    await db.commit_light()
    assert seen[-1] == (LOOP, "COMMIT") and fsyncs == []
    other = sqlite3.connect(tmp_path / "t.db")
    assert other.execute("SELECT v FROM t").fetchall() == [("step 2",)], "committed when it returns"
    other.close()
    await asyncio.sleep(0.2)
    assert len(fsyncs) == 1, "fsynced within its time"

    await db.execute("BEGIN IMMEDIATE")
    with db.light():
        await db.execute("UPDATE t SET v = 'step 3' WHERE k = 1")
    await db.commit_light()
    await db.execute("BEGIN IMMEDIATE")
    await db.execute("INSERT INTO t (k, v) VALUES (2, 'a fact')")
    assert db.weighty_rows == weighty + 1
    await db.commit()  # the WAL is a log: its fsync holds the light commit before it too
    await asyncio.sleep(0.2)
    assert len(fsyncs) == 2, "no second fsync for the light commit"


async def test_light_writes_never_checkpoint_inline_and_the_wal_stays_bounded(db, tmp_path, monkeypatch):
    """A WAL past its checkpoint size is copied into the database by the next commit on the
    thread, never inline by a write that is meant to cost the loop nothing; and after LIGHT_RUN
    light writes in a row, the next commit is such a commit, so the WAL cannot grow unchecked."""
    import storage.sqlite_conn as sqlite_conn

    monkeypatch.setattr(sqlite_conn, "LIGHT_RUN", 3)
    await db.execute("PRAGMA wal_autocheckpoint=1")  # every commit would checkpoint
    await db.execute("INSERT INTO t (k, v) VALUES (0, 'x')")  # on the thread: checkpointed there
    size = (tmp_path / "t.db").stat().st_size
    seen = trace(db)
    await db.execute_unsynced("INSERT INTO t (k, v) VALUES (1, ?)", ("y" * 50_000,))
    for k in (2, 3):
        await db.execute("BEGIN IMMEDIATE")
        with db.light():
            await db.execute("INSERT INTO t (k, v) VALUES (?, 'z')", (k,))
        await db.commit_light()
    assert (tmp_path / "t.db").stat().st_size == size, "no checkpoint inline"
    assert {thread for thread, _ in seen} == {LOOP}
    assert (await db.execute_fetchall("PRAGMA wal_autocheckpoint"))[0][0] == 1, "the setting is back"
    await db.execute("BEGIN IMMEDIATE")
    with db.light():
        await db.execute("INSERT INTO t (k, v) VALUES (4, 'z')")
    await db.commit_light()  # the fourth in a row
    assert seen[-1] == (DISK, "COMMIT")
    assert (tmp_path / "t.db").stat().st_size > size + 40_000, "checkpointed on the thread"
