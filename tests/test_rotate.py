"""Rotating the master key (``python bot.py rotate-key``, storage/rotate.py): every case key and
the journal under the new key in one transaction; refused while anything else has the database
open or any row does not open; an interrupted rotation is finished or undone by running it again."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.base import CaseKey, ReadState
from storage.crypto import MasterKeyError
from storage.masterkey import KeySource, pending_key_file
from storage.rotate import RotationError, rotate_master_key
from storage.sqlite import SqliteStorage
from tests.conftest import ROOT, files_containing

MARKER = "他们打到我单位了-rotate-4417"


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.fixture
def key_file(tmp_path) -> Path:
    return tmp_path / "config" / "shouhu" / "master.key"


async def _fill(data_dir: Path, **open_kw) -> dict:
    """Two cases with evidence and records (one findable by a token), one update waiting in the
    journal; returns what to compare after the rotation."""
    storage = await SqliteStorage.open(data_dir, **open_kw)
    try:
        async with storage.transaction() as tx:
            a = await tx.case(CaseKey(1001), "zh-CN", "welcome")
            b = await tx.case(CaseKey(1002), "zh-CN", "welcome")
            await tx.evidence_add_text(a, MARKER)
            await tx.evidence_add_text(b, "第二个人的经过")
            await tx.record_add(a, "invitation", {"for": "妈妈"}, lookup="token-abc")
        await storage.journal(77, {"update_id": 77, "message": {"text": MARKER}})
        async with storage.db.execute("SELECT wrapped_key FROM cases") as cur:
            wrapped = [bytes(r[0]) for r in await cur.fetchall()]
        async with storage.db.execute("SELECT payload FROM updates WHERE payload IS NOT NULL") as cur:
            journal = [bytes(r[0]) for r in await cur.fetchall()]
        return {"cases": (a, b), "wrapped": wrapped, "journal": journal}
    finally:
        await storage.close()


async def _everything_opens(storage: SqliteStorage, cases) -> None:
    for case in cases:
        (item,) = await storage.evidence(case)
        key = await storage.case_key(case)
        assert storage.vault.check(case.id, key, item.blob_id, item.sha256) is ReadState.OK
    assert await storage.verify_records() == {}
    found = await storage.find_record("invitation", "token-abc")
    assert found and found.case.chat_id == 1001, "a token stored before the rotation is still found"
    (pending,) = await storage.pending_updates()
    assert pending["message"]["text"] == MARKER, "the journal is replayed under the new key"


async def test_a_rotation_reseals_every_key_and_the_journal_and_everything_still_opens(data_dir, key_file):
    before = await _fill(data_dir, key_file=key_file)
    assert files_containing(data_dir, MARKER.encode()) == [], "the journal and the evidence are sealed at rest"
    old_key = key_file.read_bytes()
    report = rotate_master_key(data_dir, KeySource(key_file=key_file))
    assert (report.cases, report.journal, report.wal_truncated) == (2, 1, True)
    assert key_file.read_bytes() != old_key and not pending_key_file(key_file).exists()
    for blob in before["wrapped"] + before["journal"]:
        assert files_containing(data_dir, blob) == [], "nothing sealed under the old key is left on disk"
    storage = await SqliteStorage.open(data_dir, key_file=key_file)
    try:
        await _everything_opens(storage, before["cases"])
    finally:
        await storage.close()
    with pytest.raises(MasterKeyError, match="does not open"):
        await SqliteStorage.open(data_dir, old_key.decode().strip())
    rotate_master_key(data_dir, KeySource(key_file=key_file))  # and again: the lookup key travels on
    storage = await SqliteStorage.open(data_dir, key_file=key_file)
    try:
        await _everything_opens(storage, before["cases"])
    finally:
        await storage.close()


async def test_a_rotation_is_refused_while_the_database_is_open(data_dir, key_file):
    before = await _fill(data_dir, key_file=key_file)
    old_key = key_file.read_bytes()
    storage = await SqliteStorage.open(data_dir, key_file=key_file)  # the bot, still running
    try:
        with pytest.raises(RotationError, match="in use"):
            rotate_master_key(data_dir, KeySource(key_file=key_file))
        async with storage.db.execute("SELECT wrapped_key FROM cases") as cur:
            assert [bytes(r[0]) for r in await cur.fetchall()] == before["wrapped"]
    finally:
        await storage.close()
    assert key_file.read_bytes() == old_key and not pending_key_file(key_file).exists()


async def test_one_damaged_case_row_stops_the_whole_rotation(data_dir, key_file):
    before = await _fill(data_dir, key_file=key_file)
    a, b = before["cases"]
    storage = await SqliteStorage.open(data_dir, key_file=key_file)
    await storage.db.execute(  # b's row now carries a's wrapped key: it opens for neither
        "UPDATE cases SET wrapped_key = (SELECT wrapped_key FROM cases WHERE id = ?) WHERE id = ?", (a.id, b.id)
    )
    await storage.db.commit()
    await storage.close()
    old_key = key_file.read_bytes()
    with pytest.raises(RotationError, match=b.id):
        rotate_master_key(data_dir, KeySource(key_file=key_file))
    assert key_file.read_bytes() == old_key and not pending_key_file(key_file).exists()
    storage = await SqliteStorage.open(data_dir, key_file=key_file)
    try:
        key = await storage.case_key(a)  # a's row was not half-rotated
        (item,) = await storage.evidence(a)
        assert storage.vault.check(a.id, key, item.blob_id, item.sha256) is ReadState.OK
    finally:
        await storage.close()


async def test_a_rotation_cut_after_its_commit_is_finished_by_running_it_again(data_dir, key_file, monkeypatch):
    from storage import rotate

    before = await _fill(data_dir, key_file=key_file)

    def crash(pending, key_file):
        raise KeyboardInterrupt  # the process dies between the commit and the file move

    monkeypatch.setattr(rotate, "_move_into_place", crash)
    with pytest.raises(KeyboardInterrupt):
        rotate_master_key(data_dir, KeySource(key_file=key_file))
    monkeypatch.undo()
    assert pending_key_file(key_file).exists(), "the new key is kept: the database needs it now"
    with pytest.raises(MasterKeyError, match="rotate-key"):
        await SqliteStorage.open(data_dir, key_file=key_file)
    report = rotate_master_key(data_dir, KeySource(key_file=key_file))
    assert report.finished_earlier and not pending_key_file(key_file).exists()
    storage = await SqliteStorage.open(data_dir, key_file=key_file)
    try:
        await _everything_opens(storage, before["cases"])
    finally:
        await storage.close()


async def test_a_rotation_cut_before_its_commit_is_undone_and_done_again(data_dir, key_file):
    before = await _fill(data_dir, key_file=key_file)
    pending = pending_key_file(key_file)
    pending.write_text(_b64(os.urandom(32)) + "\n")  # what a kill -9 before the commit leaves
    with pytest.raises(MasterKeyError, match="interrupted"):
        await SqliteStorage.open(data_dir, key_file=key_file)
    report = rotate_master_key(data_dir, KeySource(key_file=key_file))
    assert report.cases == 2 and not report.finished_earlier and not pending.exists()
    storage = await SqliteStorage.open(data_dir, key_file=key_file)
    try:
        await _everything_opens(storage, before["cases"])
    finally:
        await storage.close()


async def test_a_key_from_the_environment_is_rotated_to_the_one_given(data_dir):
    old, new = os.urandom(32), os.urandom(32)
    before = await _fill(data_dir, master_key=_b64(old))
    with pytest.raises(RotationError, match="SHOUHU_NEW_MASTER_KEY"):
        rotate_master_key(data_dir, KeySource(env_value=_b64(old)))
    report = rotate_master_key(data_dir, KeySource(env_value=_b64(old)), new_key=new)
    assert report.cases == 2
    again = rotate_master_key(data_dir, KeySource(env_value=_b64(old)), new_key=new)
    assert again.finished_earlier and "already sealed" in again.notes[0]
    storage = await SqliteStorage.open(data_dir, _b64(new))
    try:
        await _everything_opens(storage, before["cases"])
    finally:
        await storage.close()


async def test_rotate_key_command(data_dir, tmp_path):
    old, new = os.urandom(32), os.urandom(32)
    before = await _fill(data_dir, master_key=_b64(old))
    env = dict(os.environ, SHOUHU_DATA_DIR=str(data_dir), SHOUHU_MASTER_KEY=_b64(old), SHOUHU_NEW_MASTER_KEY=_b64(new))
    r = subprocess.run(
        [sys.executable, "bot.py", "rotate-key"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert "2 case key(s)" in r.stdout and "SHOUHU_MASTER_KEY" in r.stdout
    assert _b64(new) not in r.stdout + r.stderr and _b64(old) not in r.stdout + r.stderr, "keys are never printed"
    storage = await SqliteStorage.open(data_dir, _b64(new))
    try:
        await _everything_opens(storage, before["cases"])
    finally:
        await storage.close()
