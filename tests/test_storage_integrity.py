"""The stored record is bound under the case key (#10.5, #10.6): someone who can write the
database but has no master key cannot swap files, hashes or times between items, or point a
case at another chat, without the export and the start-up check naming it; and the database
holds no bare hash or Telegram file id."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import sqlite3
import zipfile
from pathlib import Path

import pytest

from config import Settings
from flows.engine import Engine
from handlers.core import Services
from handlers.terminal import Terminal
from storage import crypto, schema
from storage.base import CaseKey
from storage.sqlite import SqliteStorage
from tests.backends import at_rest, db_run, reopen
from tests.conftest import MASTER_KEY, files_containing
from tests.terminal_chat import press, say


@pytest.fixture
def term(content, storage, tmp_path):
    return Terminal(Services(Settings(), content, Engine(content), storage), io.StringIO(), tmp_path / "out")


async def three_items(term: Terminal, tmp_path: Path) -> list[bytes]:
    datas = [b"first screenshot", b"second recording", b"third letter"]
    for i, data in enumerate(datas):
        p = tmp_path / f"{i}.bin"
        p.write_bytes(data)
        await say(term, f":file {p}")
    return datas


def packed(tmp_path: Path) -> list[str]:
    zips = list((tmp_path / "out").glob("*.zip"))
    if not zips:
        return []
    with zipfile.ZipFile(zips[0]) as zf:
        return sorted(n.split("/")[1][:5] for n in zf.namelist() if n.startswith("originals/"))


async def swap(storage, columns: tuple[str, ...], a: int, b: int) -> None:
    cols = ", ".join(columns)
    ra, rb = await db_run(storage, f"SELECT no, {cols} FROM evidence WHERE no IN (?, ?) ORDER BY no", (a, b))
    for no in (a, b):
        await db_run(
            storage, "UPDATE evidence SET blob_id = 'x' || blob_id, dup_key = ? WHERE no = ?", (os.urandom(32), no)
        )
    for target, source in ((ra, rb), (rb, ra)):
        sets = ", ".join(f"{c} = ?" for c in columns)
        await db_run(storage, f"UPDATE evidence SET {sets} WHERE no = ?", (*[source[c] for c in columns], target["no"]))


async def test_swapped_hashes_and_files_are_refused_at_export_and_reported_at_start(
    term, tmp_path, storage, data_dir, zh, caplog
):
    await three_items(term, tmp_path)
    await swap(storage, ("sha256_sealed", "dup_key", "blob_id"), 1, 2)
    await say(term, "/export")
    out = await press(term, "确认导出")
    assert "E-001" in out and "E-002" in out, "both rewritten items are named as damaged"
    assert packed(tmp_path) == ["E-003"], "only the untouched item is packed"

    await say(term, "/evidence")
    await press(term, "E-001")
    out = await press(term, zh.msg("btn_get_original"))
    assert zh.msg("evidence_damaged", no="E-001")[:20] in out

    with caplog.at_level(logging.ERROR, logger="storage"):
        again = await reopen(storage)
        await again.close()
    assert any("E-001, E-002" in r.getMessage() for r in caplog.records)


async def test_a_changed_time_or_category_is_named_and_stays_named(term, tmp_path, storage, zh):
    await three_items(term, tmp_path)
    await db_run(storage, "UPDATE evidence SET received_at = '2020-01-01T00:00:00.000000+00:00' WHERE no = 1")
    await db_run(storage, "UPDATE evidence SET category = 'other' WHERE no = 3")
    await say(term, "/evidence")
    await press(term, "E-003")
    await press(term, zh.msg("btn_change_category"))
    await press(term, zh.categories[0].label)  # the user's own change does not bless the forged one
    await say(term, "/export")
    out = await press(term, "确认导出")
    assert "E-001" in out and "E-003" in out
    assert packed(tmp_path) == ["E-002"]


async def test_a_case_pointed_at_another_chat_does_not_open(storage, data_dir, caplog):
    case, _, _ = await storage.ensure_case(CaseKey(1111), "zh-CN", "welcome")
    await db_run(storage, "UPDATE cases SET chat_id = 2222 WHERE id = ?", (case.id,))
    async with storage.transaction() as tx:
        moved = await tx.case(CaseKey(2222), "zh-CN", "welcome")
        assert moved.id == case.id
        with pytest.raises(crypto.IntegrityError):
            await tx.case_key(moved)
    with caplog.at_level(logging.ERROR, logger="storage"):
        again = await reopen(storage)
        await again.close()
    assert any(case.id in r.getMessage() and "does not open for its chat" in r.getMessage() for r in caplog.records)


async def test_the_database_holds_no_bare_hash_and_no_telegram_file_id(storage, data_dir):
    data = b"a file someone else might also hold"
    sha = hashlib.sha256(data).hexdigest()
    case, key, _ = await storage.ensure_case(CaseKey(3), "zh-CN", "welcome")
    blob_id, path, digest, size = await storage.vault.write_bytes(case.id, key, data)
    from flows.model import StagedFile

    staged = StagedFile(blob_id, path, digest, size, "document", "application/pdf", file_unique_id="AgADUNIQUEfileid")
    async with storage.transaction() as tx:
        item, duplicate = await tx.evidence_add(case, staged)
    assert item.sha256 == sha and not duplicate
    blob_id2, path2, _, _ = await storage.vault.write_bytes(case.id, key, data)
    async with storage.transaction() as tx:
        again, duplicate = await tx.evidence_add(
            case, StagedFile(blob_id2, path2, sha, size, "document", "application/pdf")
        )
    assert duplicate and again.no == item.no, "duplicates are still found, by a keyed hash"
    folder = await at_rest(storage)
    for needle in (sha.encode(), bytes.fromhex(sha), b"AgADUNIQUEfileid"):
        assert files_containing(folder, needle) == []


def _legacy_database(data_dir: Path) -> tuple[str, str]:
    """A version-1 database as the bot wrote it before: an SHK1 key, a bare hash, a file id."""
    master = base64.b64decode(MASTER_KEY)
    case_id, key = "c" * 32, b"K" * 32
    sha = hashlib.sha256(b"old evidence").hexdigest()
    db = sqlite3.connect(data_dir / "shouhu.db")
    for step in schema.MIGRATIONS[0]:
        assert isinstance(step, str | schema.Sql)
        db.execute(schema.statement(step, "sqlite"))
    db.execute("PRAGMA user_version = 1")
    t = "2026-01-02T03:04:05.000000+00:00"
    db.execute(
        "INSERT INTO cases (id, chat_id, locale, node, wrapped_key, next_no, created_at, updated_at) "
        "VALUES (?, 42, 'zh-CN', 'welcome', ?, 2, ?, ?)",
        (case_id, crypto.wrap_key(master, case_id, key), t, t),
    )
    caption = crypto.seal(key, f"shouhu/row/{case_id}/1/caption".encode(), "旧的附言".encode())
    db.execute(
        "INSERT INTO evidence (case_id, no, blob_id, kind, category, size, sha256, mime, extension, "
        "file_unique_id, received_at, caption) VALUES (?, 1, 'b1', 'document', 'sms', 12, ?, 'text/plain', "
        "'txt', 'AgADoldFILEid', ?, ?)",
        (case_id, sha, t, caption),
    )
    db.commit()
    db.close()
    return case_id, sha


async def test_an_old_database_is_sealed_on_upgrade(data_dir):
    case_id, sha = _legacy_database(data_dir)
    s = await SqliteStorage.open(data_dir, MASTER_KEY)
    try:
        async with s.transaction() as tx:
            case = await tx.case(CaseKey(42), "zh-CN", "welcome")
            (record,) = await tx.records(case)
        assert case.id == case_id and record.intact
        assert (record.item.sha256, record.item.caption, record.item.category) == (sha, "旧的附言", "sms")
        async with s.db.execute("SELECT wrapped_key FROM cases") as cur:
            assert bytes((await cur.fetchone())["wrapped_key"]).startswith(b"SHK2"), "rewrapped bound to the chat"
        await s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert files_containing(data_dir, sha.encode()) == [] and files_containing(data_dir, b"AgADoldFILEid") == []
    finally:
        await s.close()
