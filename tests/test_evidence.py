"""The evidence locker through the terminal chat: receipts, secrecy at rest, tamper, export, deletion."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from config import Settings
from flows.engine import Engine
from handlers.core import Services
from handlers.terminal import Terminal
from storage import crypto
from storage.base import CaseKey
from tests.backends import at_rest, blob_bytes, blob_ids, db_run, reopen, set_blob_bytes, vault_contents
from tests.conftest import files_containing
from tests.terminal_chat import press, say

MARKER = b"SHOUHU-MARKER-7f3a"


@pytest.fixture
def term(content, storage, tmp_path):
    services = Services(Settings(quota_bytes=1024 * 1024), content, Engine(content, quota_bytes=1024 * 1024), storage)
    out = io.StringIO()
    t = Terminal(services, out, tmp_path / "out")
    return t


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


async def test_receipt_category_note_and_export_hold_the_exact_bytes(term, tmp_path, zh):
    data = b"\x00\x01recording" + MARKER + bytes(range(256)) * 700  # > 2 chunks
    sha = hashlib.sha256(data).hexdigest()
    out = await say(term, f":audio {write(tmp_path, 'call.m4a', data)} 妈妈接到的电话")
    assert "E-001" in out and sha[:16] in out and "北京时间" in out
    out = await press(term, "催收电话录音")
    assert "E-001" in out
    await press(term, zh.msg("btn_add_note"))
    out = await say(term, "3月2日晚上11点打给我妈")
    assert "E-001" in out
    out = await say(term, f":photo {write(tmp_path, 's.jpg', b'jpeg' + MARKER)}")
    assert "E-002" in out and zh.msg("evidence_photo_hint")[:10] in out

    await say(term, "/export")
    out = await press(term, "确认导出")
    zips = sorted((tmp_path / "out").glob("*.zip"))
    assert len(zips) == 1, out
    with zipfile.ZipFile(zips[0]) as zf:
        names = zf.namelist()
        original = next(n for n in names if n.startswith("originals/E-001_催收电话录音_"))
        assert original.endswith(".m4a")
        assert zf.read(original) == data
        sums = zf.read("SHA256SUMS").decode()
        assert f"{sha}  {original}" in sums.splitlines()
        for line in sums.splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
        raw_csv = zf.read("manifest.csv")
        assert raw_csv.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
        rows = list(csv.DictReader(io.StringIO(raw_csv.decode("utf-8-sig"))))
        assert rows[0]["sha256"] == sha and rows[0]["note"] == "3月2日晚上11点打给我妈"
        assert rows[0]["caption"] == "妈妈接到的电话" and rows[0]["category"] == "催收电话录音"
        manifest = json.loads(zf.read("manifest.json"))
        assert [i["number"] for i in manifest["items"]] == ["E-001", "E-002"]
        readme = zf.read("README.txt").decode()
        assert "sha256sum -c SHA256SUMS" in readme and "certutil" in readme


@pytest.mark.backends("sqlite")  # file modes: PostgreSQL's files are the server's (initdb makes them 0600/0700)
async def test_only_the_bot_can_read_its_files(term, tmp_path, data_dir, storage):
    await say(term, f":file {write(tmp_path, 'a.txt', b'abc')}")
    for name in ("shouhu.db", "shouhu.db-wal"):
        assert (data_dir / name).stat().st_mode & 0o077 == 0, name
    assert (data_dir / "vault").stat().st_mode & 0o077 == 0


async def test_nothing_readable_at_rest(term, tmp_path, data_dir, storage):
    await say(term, f":file {write(tmp_path, 'a.txt', b'letter ' + MARKER)} caption {MARKER.decode()}")
    await press(term, "短信截图")
    await press(term, term.s.content.locale("zh-CN").msg("btn_add_note"))
    await say(term, f"note {MARKER.decode()}")
    await say(term, "/testimony")
    await say(term, f"他们打给了我的领导 {MARKER.decode()}")
    folder = await at_rest(storage)
    assert files_containing(folder, MARKER) == []
    assert files_containing(folder, "他们打给了我的领导".encode()) == []


async def test_testimony_is_evidence_with_its_own_hash(term, zh):
    await say(term, "/testimony")
    text = "三月起每天晚上十点后给我同事打电话"
    out = await say(term, text)
    assert "E-001" in out and hashlib.sha256(text.encode()).hexdigest()[:16] in out


async def test_same_bytes_twice_are_stored_once(term, tmp_path, storage):
    p = write(tmp_path, "x.jpg", b"same" * 100)
    await say(term, f":file {p}")
    out = await say(term, f":file {p}")
    assert "E-001" in out and "E-002" not in out
    assert len(await blob_ids(storage)) == 1


async def test_quota_and_empty_file_get_clear_replies(term, tmp_path, zh, storage):
    out = await say(term, f":file {write(tmp_path, 'empty.txt', b'')}")
    assert zh.msg("evidence_empty")[:8] in out
    out = await say(term, f":file {write(tmp_path, 'big.bin', b'x' * (1024 * 1024 + 1))}")
    assert zh.msg("evidence_quota_full", quota_mb=1)[:8] in out
    assert not await vault_contents(storage), "nothing half-stored"


@pytest.mark.parametrize("damage", ["flip", "swap", "drop_last", "truncate"])
async def test_tampered_item_is_reported_never_packed(term, tmp_path, storage, damage):
    good = b"good" * 10
    bad = bytes(range(256)) * 1000  # 4 chunks
    await say(term, f":file {write(tmp_path, 'good.txt', good)}")
    await say(term, f":file {write(tmp_path, 'bad.bin', bad)}")
    blobs = {b: await blob_bytes(storage, b) for b in await blob_ids(storage)}
    target = max(blobs, key=lambda b: len(blobs[b]))
    blob = bytearray(blobs[target])
    header, chunk = 20, 65536 + 16
    if damage == "flip":
        blob[header + 100] ^= 1
    elif damage == "swap":
        a, b = blob[header : header + chunk], blob[header + chunk : header + 2 * chunk]
        blob[header : header + 2 * chunk] = b + a
    elif damage == "drop_last":
        blob = blob[: header + 3 * chunk]
    else:
        blob = blob[:-5]
    await set_blob_bytes(storage, target, bytes(blob))
    await say(term, "/export")
    out = await press(term, "确认导出")
    assert "E-002" in out, "the damaged item is named"
    (zip_path,) = (tmp_path / "out").glob("*.zip")
    with zipfile.ZipFile(zip_path) as zf:
        assert not [n for n in zf.namelist() if n.startswith("originals/E-002")]
        assert [n for n in zf.namelist() if n.startswith("originals/E-001")]
    out = await say(term, "/evidence")
    await press(term, "E-002")
    out = await press(term, term.s.content.locale("zh-CN").msg("btn_get_original"))
    assert not list((tmp_path / "out").glob("E-002*")), "a damaged original is never handed out"


async def test_wrong_master_key_cannot_open_the_data(term, tmp_path, data_dir, storage):
    await say(term, f":file {write(tmp_path, 'a.txt', b'abc')}")
    import base64

    with pytest.raises(crypto.MasterKeyError):
        await reopen(storage, master_key=base64.b64encode(b"w" * 32).decode())


async def test_delete_leaves_nothing_behind(term, tmp_path, data_dir, storage, zh):
    await say(term, f":file {write(tmp_path, 'a.txt', MARKER * 3000)} {MARKER.decode()}")
    await say(term, "/testimony")
    await say(term, f"testimony {MARKER.decode()}")
    out = await say(term, "/delete")
    assert "/export" in out
    await press(term, "确认删除")
    assert files_containing(await at_rest(storage), MARKER) == []
    assert not await vault_contents(storage)
    ((n,),) = await db_run(storage, "SELECT COUNT(*) FROM cases")
    assert n == 0
    out = await say(term, "/export")
    assert zh.msg("export_empty")[:10] in out


@pytest.mark.backends(
    "sqlite"
)  # PostgreSQL: tests/test_storage_postgres.py (a grace period, another worker may be writing)
async def test_a_file_written_but_never_committed_is_swept_at_start(storage, data_dir, content):
    case, key, _ = await storage.ensure_case(CaseKey(5), "zh-CN", "welcome")

    async def chunks():
        yield b"half"

    _, path, _, _ = await storage.vault.ingest(case.id, key, chunks(), max_bytes=100)
    (path.parent / ".tmp-deadbeef").write_bytes(b"partial")
    assert path.exists()
    await storage.close()
    again = await reopen(storage)
    try:
        assert not path.exists() and not (path.parent / ".tmp-deadbeef").exists()
    finally:
        await again.close()


async def test_evidence_list_pages_and_an_item_changes_category(term, tmp_path, zh):
    for i in range(10):
        await say(term, f":file {write(tmp_path, f'{i}.txt', f'item {i}'.encode())}")
    out = await say(term, "/evidence")
    assert "E-001" in out and "E-008" in out and "E-009" not in out and "1/2" in out
    out = await press(term, zh.msg("btn_next_page"))
    assert "E-009" in out and "E-010" in out and "2/2" in out
    out = await press(term, "E-010")
    assert zh.msg("evidence_uncategorised") in out
    await press(term, zh.msg("btn_change_category"))
    await press(term, "亲友证言")
    out = await say(term, "/evidence")
    await press(term, zh.msg("btn_next_page"))
    out = await press(term, "E-010")
    assert "亲友证言" in out


async def test_a_long_note_is_kept_whole_but_shown_short(term, tmp_path, zh):
    await say(term, f":file {write(tmp_path, 'a.txt', b'abc')}")
    await press(term, "其他")
    await press(term, zh.msg("btn_add_note"))
    note = "他们打来电话。" * 580  # 4060 characters, as long as one Telegram message allows
    await say(term, note)
    await say(term, "/evidence")
    out = await press(term, "E-001")
    assert "他们打来电话。" in out and len(out) < 4096 - 100
    await say(term, "/export")
    await press(term, "确认导出")
    (zip_path,) = (tmp_path / "out").glob("*.zip")
    with zipfile.ZipFile(zip_path) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode("utf-8-sig"))))
    assert rows[0]["note"] == note
