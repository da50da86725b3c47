"""What only the PostgreSQL backend has: two workers on one database (a chat's lock, an update
handled once, a dead worker's chats freed), deletion and VACUUM, sealed files as rows streamed
in, the orphan sweep's grace, migrations once, and ``bot.py migrate`` from SQLite.

The behaviour both backends share is tested once, for both, by the parametrised ``storage`` and
``bot`` fixtures (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from config import Settings
from flows.model import StagedFile
from storage import schema
from storage.base import CaseKey
from storage.errors import AlreadyHandled, StorageUnavailable
from storage.export import export_parts
from storage.export_text import ExportText
from storage.sqlite_tx import now
from tests.backends import db_run, open_backend
from tests.conftest import MASTER_KEY

try:
    import psycopg
except ImportError:  # every test here asks for pg_url, which skips (or fails on CI) with the reason
    psycopg = None


@pytest.fixture
async def two_workers(pg_url, tmp_path):
    """Two storages on one database, as two bot processes would open it."""
    a = await open_backend(tmp_path / "a", pg_url)
    b = await open_backend(tmp_path / "b", pg_url)
    yield a, b
    await a.close()
    await b.close()


async def until(check, what: str, tries: int = 500) -> None:
    """Wait for a state the database reports (a lock waited on), never for a length of time."""
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never saw: {what}")


async def waiting_locks(url: str, locktype: str) -> int:
    """Locks waited for, seen from a connection of the test's own (a worker's may be busy)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = %s AND NOT granted", (locktype,))
        return (await cur.fetchone())[0]


async def test_a_chat_waits_for_the_worker_holding_it_other_chats_do_not(two_workers, pg_url):
    a, b = two_workers
    entered = asyncio.Event()

    async def b_takes_chat_1():
        async with b.isolation().lock(CaseKey(1)):
            entered.set()

    async with a.isolation().lock(CaseKey(1)):
        task = asyncio.create_task(b_takes_chat_1())
        await until(lambda: waiting_locks(pg_url, "advisory"), "worker b waiting for chat 1")
        async with b.isolation().lock(CaseKey(2)):  # another chat: not held up
            pass
        assert not entered.is_set(), "chat 1 is still worker a's"
    await asyncio.wait_for(task, 10)
    assert entered.is_set()


async def test_a_dead_workers_chats_go_to_the_others(two_workers, pg_url):
    """kill -9 of a worker closes its connections; the server drops its advisory locks."""
    a, b = two_workers
    async with a.isolation().lock(CaseKey(7)):
        task = asyncio.create_task(_hold(b, 7))
        await until(lambda: waiting_locks(pg_url, "advisory"), "worker b waiting for chat 7")
        await db_run(
            a,
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid <> pg_backend_pid()",
        )
        await asyncio.wait_for(task, 10)  # b got the chat while a still thinks it holds it


async def _hold(storage, chat: int) -> None:
    async with storage.isolation().lock(CaseKey(chat)):
        pass


async def test_an_update_given_to_two_workers_is_handled_once(two_workers, pg_url):
    a, b = two_workers
    await a.journal(500, {"update_id": 500})
    async with a.transaction(500) as tx:
        await tx.case(CaseKey(9), "zh-CN", "welcome")
        second = asyncio.create_task(_handle(b, 500))
        await until(lambda: waiting_locks(pg_url, "transactionid"), "worker b waiting on the journal row")
    with pytest.raises(AlreadyHandled):
        await asyncio.wait_for(second, 10)
    assert await b.is_handled(500) and await b.pending_updates() == []


async def _handle(storage, update_id: int) -> None:
    async with storage.transaction(update_id) as tx:
        await tx.case(CaseKey(9), "zh-CN", "welcome")


async def test_deletion_takes_rows_and_sealed_files_in_one_transaction_and_vacuums(storage_pg):
    storage = storage_pg
    case, key, _ = await storage.ensure_case(CaseKey(3), "zh-CN", "welcome")
    blob_id, path, sha, size = await storage.vault.write_bytes(case.id, key, os.urandom(300_000))
    async with storage.transaction() as tx:
        await tx.evidence_add(case, StagedFile(blob_id, path, sha, size, "document", "application/pdf"))
        await tx.record_add(case, "facts", {"amount": 3000})
    async with storage.transaction() as tx:
        await tx.case_delete(case)
    assert tx.wiped is True and not storage.wipe_pending
    for table in ("cases", "evidence", "records", "blobs", "blob_chunks"):
        assert (await db_run(storage, f"SELECT COUNT(*) FROM {table}"))[0][0] == 0, table


async def test_deletion_seen_by_an_older_snapshot_stays_pending_then_finishes(storage_pg, pg_url, caplog):
    """A backup (pg_dump holds one snapshot) still sees the deleted rows: VACUUM must keep them,
    the deletion says so, and maintenance finishes it once the snapshot is gone."""
    storage = storage_pg
    await storage.ensure_case(CaseKey(77), "zh-CN", "welcome")
    reader = await psycopg.AsyncConnection.connect(pg_url)
    try:
        await reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await reader.execute("SELECT COUNT(*) FROM cases")
        async with storage.transaction() as tx:
            await tx.case_delete(await tx.case(CaseKey(77), "zh-CN", "welcome"))
        assert tx.wiped is False and storage.wipe_pending
        assert (await (await reader.execute("SELECT COUNT(*) FROM cases")).fetchone())[0] == 1, "the backup sees it"
        assert (await storage.maintenance()).wipe_pending
    finally:
        await reader.close()
    assert not (await storage.maintenance()).wipe_pending and not storage.wipe_pending


@pytest.fixture
async def storage_pg(pg_url, data_dir):
    s = await open_backend(data_dir, pg_url)
    yield s
    await s.close()


async def test_a_sealed_file_is_streamed_in_as_rows_and_read_back_whole(storage_pg, monkeypatch):
    from storage import pg_vault

    storage = storage_pg
    case, key, _ = await storage.ensure_case(CaseKey(4), "zh-CN", "welcome")
    data = os.urandom(1_500_000)
    written: list[int] = []
    real_row = storage.vault._row

    async def row(blob_id, seq, chunk):
        written.append(len(chunk))
        await real_row(blob_id, seq, chunk)

    monkeypatch.setattr(storage.vault, "_row", row)

    async def pieces():
        for i in range(0, len(data), 64 * 1024):
            yield data[i : i + 64 * 1024]

    blob_id, _, sha, size = await storage.vault.ingest(case.id, key, pieces(), max_bytes=len(data))
    assert size == len(data) and sha == hashlib.sha256(data).hexdigest()
    assert len(written) > 4 and max(written) <= pg_vault.ROW_BYTES, "one row at a time, never the whole file"
    back = await asyncio.to_thread(lambda: b"".join(storage.vault.read(case.id, key, blob_id)))
    assert back == data


async def test_an_upload_that_never_committed_is_swept_after_its_grace(storage_pg, data_dir):
    storage = storage_pg
    case, key, _ = await storage.ensure_case(CaseKey(5), "zh-CN", "welcome")
    await storage.vault.write_bytes(case.id, key, b"half")
    await storage.maintenance()
    assert len(await db_run(storage, "SELECT blob_id FROM blobs")) == 1, "another worker may still be writing it"
    storage.clock = lambda: now() + timedelta(hours=2)
    storage.vault.clock = storage.clock
    await storage.maintenance()
    assert await db_run(storage, "SELECT blob_id FROM blobs") == []


async def test_workers_starting_together_migrate_once(pg_url, tmp_path):
    opened = await asyncio.gather(*(open_backend(tmp_path / f"w{i}", pg_url) for i in range(3)))
    try:
        rows = await db_run(opened[0], "SELECT version FROM schema_version")
        assert rows == [(len(schema.MIGRATIONS),)]
    finally:
        for s in opened:
            await s.close()


async def test_an_unreachable_server_is_a_sentence_without_the_password(tmp_path, pg_url):
    from storage.postgres import PostgresStorage

    url = f"postgresql://shouhu:SECRET-PASSWORD@/shouhu?host={tmp_path}&port=1"
    with pytest.raises(StorageUnavailable) as caught:
        await PostgresStorage.open(url, tmp_path / "data", MASTER_KEY)
    assert "cannot connect to PostgreSQL" in str(caught.value) and "SECRET-PASSWORD" not in str(caught.value)


async def test_open_storage_follows_the_database_url(pg_url, data_dir):
    from handlers.core import open_storage
    from storage.postgres import PostgresStorage

    storage = await open_storage(Settings(data_dir=data_dir, master_key=MASTER_KEY, database_url=pg_url))
    try:
        assert isinstance(storage, PostgresStorage)
    finally:
        await storage.close()


# ----------------------------------------------------------------------------- bot.py migrate


async def _sqlite_instance(data_dir: Path) -> tuple[str, dict[str, bytes]]:
    """A SQLite instance with evidence (one file over several chunks), a case record and a
    journal (one update handled, one waiting)."""
    sqlite = await open_backend(data_dir, None)
    try:
        case, key, _ = await sqlite.ensure_case(CaseKey(42), "zh-CN", "welcome")
        files = {"a.pdf": os.urandom(400_000), "b.txt": "他们又打给我妈".encode()}
        for name, data in files.items():
            blob_id, path, sha, size = await sqlite.vault.write_bytes(case.id, key, data)
            async with sqlite.transaction() as tx:
                await tx.evidence_add(
                    case, StagedFile(blob_id, path, sha, size, "document", "application/octet-stream", filename=name)
                )
        async with sqlite.transaction() as tx:
            await tx.evidence_add_text(case, "三月起每天晚上十点后给我同事打电话")
            await tx.record_add(case, "incident", {"note": "打给我爸"}, due_at=now() + timedelta(days=1))
        await sqlite.journal(10, {"update_id": 10})
        await sqlite.mark_handled(10)
        await sqlite.journal(11, {"update_id": 11, "message": {"text": "等待中"}})
        return case.id, await _originals(sqlite, 42)
    finally:
        await sqlite.close()


async def _originals(storage, chat: int) -> dict[str, bytes]:
    from flows.content import load_content
    from tests.conftest import CONTENT_DIR

    zh = load_content(CONTENT_DIR).locale("zh-CN")
    case, _, _ = await storage.ensure_case(CaseKey(chat), "zh-CN", "welcome")
    out: dict[str, bytes] = {}
    async with export_parts(storage, case, ExportText.from_locale(zh)) as export:
        async for part in export:
            with zipfile.ZipFile(part.path) as zf:
                out |= {n: zf.read(n) for n in zf.namelist() if n.startswith("originals/") or n == "SHA256SUMS"}
    assert not export.summary.failed and not export.summary.unreadable
    return out


async def test_migrate_copies_sqlite_into_postgresql_and_exports_the_same_bytes(pg_url, data_dir, tmp_path):
    from storage import pg_migrate

    case_id, before = await _sqlite_instance(data_dir)
    said: list[str] = []
    assert await pg_migrate.run(pg_url, data_dir, MASTER_KEY, say=said.append) == 0, said
    assert "copied and verified" in said[-1] and "3 item(s) decrypted" in said[-1]

    pg = await open_backend(tmp_path / "worker", pg_url)
    try:
        after = await _originals(pg, 42)
        assert after == before and len([n for n in after if n.startswith("originals/")]) == 3
        case, _, _ = await pg.ensure_case(CaseKey(42), "zh-CN", "welcome")
        assert case.id == case_id, "the same case, under the same key"
        async with pg.transaction() as tx:
            assert [body for _, body in await tx.record_list(case, "incident")] == [{"note": "打给我爸"}]
        assert [u["update_id"] for u in await pg.pending_updates()] == [11], "the journal came along"
    finally:
        await pg.close()


async def test_migrate_refuses_to_run_twice_into_a_non_empty_database(pg_url, data_dir, monkeypatch, capsys):
    import bot

    await _sqlite_instance(data_dir)
    monkeypatch.setenv("SHOUHU_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SHOUHU_MASTER_KEY", MASTER_KEY)
    assert await asyncio.to_thread(bot.main, ["migrate", "--to", pg_url]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(bot.main, ["migrate", "--to", pg_url]) == 1
    err = capsys.readouterr().err
    assert "already holds data" in err and "empty database" in err
    pg = await open_backend(data_dir / "w", pg_url)
    try:
        assert (await db_run(pg, "SELECT COUNT(*) FROM evidence"))[0][0] == 3, "nothing copied twice"
    finally:
        await pg.close()


async def test_a_copy_that_fails_leaves_the_database_empty_to_try_again(pg_url, data_dir, tmp_path):
    from storage import pg_migrate

    await _sqlite_instance(data_dir)
    (largest,) = sorted((data_dir / "vault").rglob("*.bin"), key=lambda p: p.stat().st_size)[-1:]
    kept = tmp_path / "kept.bin"
    largest.rename(kept)
    said: list[str] = []
    assert await pg_migrate.run(pg_url, data_dir, MASTER_KEY, say=said.append) == 1
    assert "missing from the vault" in said[-1] and "nothing was copied" in said[-1]
    kept.rename(largest)
    assert await pg_migrate.run(pg_url, data_dir, MASTER_KEY, say=said.append) == 0, said[-1]


async def test_a_server_restart_between_updates_costs_no_update(storage_pg):
    """Connections the server dropped (a restart, a failover) are replaced on next use."""
    storage = storage_pg
    async with storage.isolation().lock(CaseKey(1)):
        await storage.ensure_case(CaseKey(1), "zh-CN", "welcome")
    async with await psycopg.AsyncConnection.connect(storage.conns.url, autocommit=True) as admin:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    with pytest.raises(StorageUnavailable):  # the one connection in use when it happened fails once
        await storage.is_handled(1)
    async with storage.isolation().lock(CaseKey(1)):
        case, _, _ = await storage.ensure_case(CaseKey(1), "zh-CN", "welcome")
    assert case.chat_id == 1 and not await storage.is_handled(1)


def test_the_bot_says_when_its_database_cannot_be_reached(pg_url, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {
        **os.environ,
        "SHOUHU_DATABASE_URL": f"postgresql://shouhu:SECRET-PASSWORD@/shouhu?host={tmp_path}&port=1",
        "SHOUHU_MASTER_KEY": MASTER_KEY,
        "SHOUHU_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "chat"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "cannot connect to PostgreSQL" in done.stderr and "Traceback" not in done.stderr
    assert "SECRET-PASSWORD" not in done.stderr + done.stdout
