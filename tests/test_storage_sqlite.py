"""Storage behind its interface (SQLite's own parts marked; the rest runs on both backends): migrations, per-chat isolation, the start-up sweep,
deletion that leaves no key in the WAL, and upkeep on a timer."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest

from storage import schema
from storage.base import CaseKey, ChatIsolation, Storage
from storage.isolation import MemoryChatIsolation
from storage.sqlite import SqliteStorage
from storage.sqlite_tx import now
from tests.backends import db_run
from tests.conftest import MASTER_KEY, files_containing


async def test_each_backend_is_a_storage_and_gives_a_chat_isolation(storage):
    assert isinstance(storage, Storage)
    assert isinstance(storage.isolation(), ChatIsolation)


async def test_migrations_run_statement_by_statement(data_dir, monkeypatch):
    """A ';' inside a string literal would break a script split on ';'."""
    extra = [
        "CREATE TABLE notes_for_test (text TEXT NOT NULL DEFAULT 'a;b')",
        "INSERT INTO notes_for_test DEFAULT VALUES",
    ]
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    monkeypatch.setattr("storage.sqlite.MIGRATIONS", schema.MIGRATIONS)
    s = await SqliteStorage.open(data_dir, MASTER_KEY)
    try:
        async with s.db.execute("PRAGMA user_version") as cur:
            assert (await cur.fetchone())[0] == len(schema.MIGRATIONS)
        async with s.db.execute("SELECT text FROM notes_for_test") as cur:
            assert (await cur.fetchone())["text"] == "a;b"
    finally:
        await s.close()


async def test_one_chat_waits_its_turn_other_chats_do_not():
    iso = MemoryChatIsolation()
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first():
        async with iso.lock(CaseKey(1)):
            order.append("1a in")
            first_in.set()
            await release.wait()
            order.append("1a out")

    async def second_of_same_chat():
        async with iso.lock(CaseKey(1)):
            order.append("1b in")

    async def other_chat():
        async with iso.lock(CaseKey(2)):
            order.append("2 in")

    t1 = asyncio.create_task(first())
    await first_in.wait()
    t2 = asyncio.create_task(second_of_same_chat())
    await other_chat()  # not blocked by chat 1
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["1a in", "2 in"], "chat 1's second update waits; chat 2 went ahead"
    release.set()
    await asyncio.gather(t1, t2)
    assert order == ["1a in", "2 in", "1a out", "1b in"]
    assert len(iso) == 0, "no lock is kept for a chat nobody waits on"


async def test_a_crash_inside_an_export_does_not_stop_the_next_start(data_dir):
    """Exports and originals use folders in data/tmp; the sweep removes folders too (#10.1)."""
    s = await SqliteStorage.open(data_dir, MASTER_KEY)
    await s.close()
    left = data_dir / "tmp" / "3f2a9c"
    left.mkdir()
    (left / "shouhu_evidence_20260101.zip").write_bytes(b"PK plaintext of a whole case")
    (data_dir / "tmp" / "loose.part").write_bytes(b"x")
    again = await SqliteStorage.open(data_dir, MASTER_KEY)
    try:
        assert list((data_dir / "tmp").iterdir()) == []
    finally:
        await again.close()


async def test_scratch_folder_is_removed_whatever_happens(storage):
    with pytest.raises(RuntimeError):
        async with storage.scratch() as folder:
            (folder / "original.jpg").write_bytes(b"plaintext")
            raise RuntimeError("send failed")
    assert list(storage.tmp_dir.iterdir()) == []


async def _case_with_key(storage: SqliteStorage, chat: int) -> bytes:
    case, _, _ = await storage.ensure_case(CaseKey(chat), "zh-CN", "welcome")
    async with storage.db.execute("SELECT wrapped_key FROM cases WHERE id = ?", (case.id,)) as cur:
        return bytes((await cur.fetchone())["wrapped_key"])


@pytest.mark.backends("sqlite")  # PostgreSQL: tests/test_storage_postgres.py
async def test_deletion_with_a_reader_open_stays_pending_then_finishes(storage, data_dir):
    """#10.8: another connection (a backup, a shell) keeps the wrapped key in the WAL; the
    deletion says it is not finished, and maintenance finishes it once the reader is gone."""
    wrapped = await _case_with_key(storage, 77)
    reader = sqlite3.connect(data_dir / "shouhu.db")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM cases").fetchall()  # holds a snapshot from before the deletion
        async with storage.transaction() as tx:
            case = await tx.case(CaseKey(77), "zh-CN", "welcome")
            await tx.case_delete(case)
        assert tx.wiped is False and storage.wipe_pending
        assert (data_dir / "shouhu.db-wal").read_bytes().count(wrapped), "the key is still in the WAL"
        report = await storage.maintenance()
        assert report.wipe_pending, "still held while the reader is open"
    finally:
        reader.close()
    report = await storage.maintenance()
    assert not report.wipe_pending and not storage.wipe_pending
    assert files_containing(data_dir, wrapped) == []


@pytest.mark.backends("sqlite")  # PostgreSQL: tests/test_storage_postgres.py
async def test_deletion_without_readers_is_wiped_at_once(storage, data_dir):
    wrapped = await _case_with_key(storage, 78)
    async with storage.transaction() as tx:
        await tx.case_delete(await tx.case(CaseKey(78), "zh-CN", "welcome"))
    assert tx.wiped is True and not storage.wipe_pending
    assert files_containing(data_dir, wrapped) == []


async def test_maintenance_forgets_old_message_ids_and_journal_rows(storage):
    """#10.14: pruned on a timer, not only at start."""
    key = CaseKey(5)
    await storage.ensure_case(key, "zh-CN", "welcome")
    await storage.record_sent(key, [1, 2])
    await storage.journal(100, {"update_id": 100})
    await storage.mark_handled(100)
    await storage.journal(101, {"update_id": 101})  # not handled: kept however old

    async def counts() -> tuple[int, int]:
        ((messages,),) = await db_run(storage, "SELECT COUNT(*) AS n FROM chat_messages")
        ((updates,),) = await db_run(storage, "SELECT COUNT(*) AS n FROM updates")
        return messages, updates

    report = await storage.maintenance()
    assert (report.pruned_messages, report.pruned_updates) == (0, 0) and await counts() == (2, 2)
    start = now()
    storage.clock = lambda: start + timedelta(hours=47, minutes=1)
    report = await storage.maintenance()
    assert report.pruned_messages == 2 and report.pruned_updates == 0
    storage.clock = lambda: start + timedelta(days=2, minutes=1)
    report = await storage.maintenance()
    assert report.pruned_updates == 1 and await counts() == (0, 1)
    assert [u["update_id"] for u in await storage.pending_updates()] == [101]
