"""The fault suite (#10, Proof): kill -9, a full disk, a misbehaving Bot API, a broken key.

After each fault: nothing acknowledged is lost, nothing is duplicated, nothing half-written is
visible, and the bot answers again. What other files already cover is not repeated here:

* kill -9 mid-download after Telegram was told "received", and between a file's write and its
  row's commit: tests/test_process.py
* a full disk while journaling (the bot stays listening): tests/test_hardening.py
* not enough disk before an export, a failing part leaves no plaintext: tests/test_storage_export.py
* 429 and 502 on sends, button answers and polling; 502 on a download: tests/test_telegram*.py
* a wrong, damaged, lost or misplaced key, unit by unit: tests/test_storage_keys.py
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from config import Settings
from flows.engine import Engine
from handlers.core import Services
from handlers.terminal import Terminal, plain
from tests.backends import blob_ids, vault_contents
from tests.conftest import CONTENT_DIR, ROOT, TOKEN, settled
from tests.terminal_chat import say
from tests.test_process import DATA, kill9, send_stalled_document, start_bot, stop

USER = 424242


def documents(msgs) -> list:
    return [m for m in msgs if m.document]


def zipped(doc) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(doc.document.data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def originals(doc) -> list[bytes]:
    return [data for name, data in zipped(doc).items() if name.startswith("originals/")]


def plaintext_left(data_dir: Path) -> list[Path]:
    """Files in the scratch folder (exports and originals on their way out are plaintext)."""
    tmp = data_dir / "tmp"
    return [p for p in tmp.rglob("*") if p.is_file()] if tmp.exists() else []


def vault_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "vault").rglob("*.bin"))


# ----------------------------------------------------------------------------- kill -9


async def test_kill_between_two_updates_repeats_nothing(fake, data_dir, tmp_path, zh):
    """The bot handled an update and replied, but died before telling Telegram (its next poll
    never got through): Telegram sends the update again, and the restarted bot neither stores
    it twice nor answers it twice."""
    user = fake.user(USER, language_code="zh")
    log = tmp_path / "bot.log"
    procs = [start_bot(fake, data_dir, log)]
    try:
        user.send("/testimony")
        await user.wait_for_messages(1, timeout=30)
        await fake.wait_until(lambda: fake.polling, 20)
        with fake._lock:  # the waiting poll takes the update; the poll that would confirm it fails
            fake.fail_next("getUpdates", 502, times=100_000)
            sent = user.send("他们打到我单位，说我是骗子")
        first = await user.wait_for_messages(2, timeout=30)
        assert "E-001" in first[-1].text
        kill9(procs[-1])
        with fake._lock:
            fake._faults["getupdates"].clear()
        assert not fake.is_confirmed(sent["update_id"]), "Telegram will deliver it again"

        procs.append(start_bot(fake, data_dir, log))
        await fake.wait_confirmed(sent, timeout=30)
        user.send("/evidence")
        (listing,) = await user.wait_for_messages(1, timeout=30)
        assert listing.raw_text.startswith(zh.msg("evidence_list_header", count=1, page=1, pages=1))
        assert "E-001" in listing.text and "E-002" not in listing.text, "stored once"
        assert user.take_new_messages() == [], "answered once"
    finally:
        stop(procs[-1])


async def test_a_reply_sent_just_before_a_kill_is_still_retracted_by_delete(fake, data_dir, tmp_path, zh):
    """The ids of the bot's messages are written without waiting for the disk (fsynced a moment
    later): the bot killed right after writing them, /delete still takes that reply back."""
    user = fake.user(USER, language_code="zh")
    log = tmp_path / "bot.log"
    procs = [start_bot(fake, data_dir, log)]
    try:
        user.send("/start")
        await user.wait_for_messages(1, timeout=30)
        user.send("/testimony")
        (prompt,) = await user.wait_for_messages(1, timeout=30)
        reader = sqlite3.connect(data_dir / "shouhu.db")
        try:
            written = "SELECT count(*) FROM chat_messages WHERE message_id = ?"
            await fake.wait_until(lambda: reader.execute(written, (prompt.message_id,)).fetchone()[0], 10)
        finally:
            reader.close()
        kill9(procs[-1])

        procs.append(start_bot(fake, data_dir, log))
        user.send("/delete")
        (confirm,) = await user.wait_for_messages(1, timeout=30)
        user.press(confirm, zh.msg("btn_confirm_delete"))
        msgs = await user.wait_for_messages(1, timeout=30)
        assert msgs[-1].raw_text == zh.msg("delete_done")
        await fake.wait_until(lambda: user.message(prompt.message_id).deleted, 10)  # the reply from before the kill
    finally:
        stop(procs[-1])


async def test_a_step_pressed_just_before_a_kill_is_kept(fake, data_dir, tmp_path, zh):
    """A step press commits without waiting for the disk (fsynced within a second): the bot
    killed right after its answer, the person is still on that step after the restart."""
    user = fake.user(USER, language_code="zh")
    log = tmp_path / "bot.log"
    procs = [start_bot(fake, data_dir, log)]
    try:
        user.send("/start")
        (start,) = await user.wait_for_messages(1, timeout=30)
        user.press_data(start, "s|3")  # the step bar's button for step 3
        await user.wait_for_messages(1, timeout=30)
        kill9(procs[-1])

        procs.append(start_bot(fake, data_dir, log))
        user.send("/status")
        (status,) = await user.wait_for_messages(1, timeout=30)
        here = [line for line in status.raw_text.splitlines() if zh.msg("status_here").strip() in line]
        assert len(here) == 1 and here[0].startswith("3."), status.raw_text
    finally:
        stop(procs[-1])


async def test_kill_during_an_export_leaves_no_plaintext_and_the_next_export_is_whole(fake, data_dir, tmp_path, zh):
    user = fake.user(USER, language_code="zh")
    log = tmp_path / "bot.log"
    procs = [start_bot(fake, data_dir, log)]
    try:
        user.send_document(DATA, "call.m4a", "audio/mp4")
        await user.wait_for_messages(1, timeout=30)
        user.send("/export")
        (confirm,) = await user.wait_for_messages(1, timeout=30)
        gate = fake.hold("sendDocument", USER)  # the part is on its way when the process dies
        user.press(confirm, zh.msg("btn_confirm_export"))
        await fake.wait_until(lambda: fake.held("sendDocument") == 1, 30)
        assert plaintext_left(data_dir), "a part lies in plaintext in the scratch folder meanwhile"
        kill9(procs[-1])
        gate.set()  # the part Telegram had before the kill reaches the chat
        await fake.wait_until(lambda: any(m.document for m in user.history), 10)
        user.take_new_messages()

        procs.append(start_bot(fake, data_dir, log))
        (follow_up,) = await user.wait_for_messages(1, timeout=30)  # "正在打包…" is not left hanging
        assert follow_up.raw_text == zh.msg("export_interrupted")
        assert plaintext_left(data_dir) == [], "the start swept what the dead process left"

        stop(procs[-1])  # a second restart has nothing more to say
        procs.append(start_bot(fake, data_dir, log))
        user.send("/help")  # answered after the start's reports, were there any
        (answer,) = await user.wait_for_messages(1, timeout=30)
        assert answer.raw_text == zh.msg("help")
        assert [m for m in user.history if m.raw_text == zh.msg("export_interrupted")] == [follow_up], "told once"

        user.press(follow_up, zh.msg("btn_export_again"))  # its button still builds the export
        (confirm,) = await user.wait_for_messages(1, timeout=30)
        user.press(confirm, zh.msg("btn_confirm_export"))
        msgs = await user.wait_for_messages(2, timeout=30)
        (doc,) = documents(msgs)
        assert originals(doc) == [DATA], "one original, exactly as sent"
        assert msgs[-1].raw_text == zh.msg("export_done", count=1, parts=1)
    finally:
        stop(procs[-1])
    assert plaintext_left(data_dir) == []


async def test_a_delete_acknowledged_before_a_kill_is_done_after_the_restart(fake, data_dir, tmp_path, zh):
    """确认删除 is pressed while the chat's earlier upload is still downloading; Telegram has
    been told both arrived when the process dies. After the restart both are handled, in
    order: the upload is stored, then everything is deleted, and the person is told."""
    user = fake.user(USER, language_code="zh")
    log = tmp_path / "bot.log"
    procs = [start_bot(fake, data_dir, log)]
    try:
        user.send("/testimony")
        await user.wait_for_messages(1, timeout=30)
        user.send("我写下的经过")
        await user.wait_for_messages(2, timeout=30)
        user.send("/delete")
        (confirm,) = await user.wait_for_messages(1, timeout=30)
        upd, gate = send_stalled_document(fake, user)
        await fake.wait_until(lambda: fake.download_started(upd["message"]["document"]["file_id"]), 20)
        press = user.press(confirm, zh.msg("btn_confirm_delete"))
        await fake.wait_confirmed(press, timeout=20)
        kill9(procs[-1])
        gate.set()

        procs.append(start_bot(fake, data_dir, log))
        msgs = await user.wait_for_messages(2, timeout=30)
        assert "E-002" in msgs[0].text, "the upload first, stored once"
        assert msgs[1].raw_text == zh.msg("delete_done")
        await fake.wait_until(lambda: not vault_files(data_dir), 10)
        user.send("/evidence")
        (listing,) = await user.wait_for_messages(1, timeout=30)
        assert listing.raw_text == zh.msg("evidence_list_empty")
    finally:
        stop(procs[-1])


async def test_a_crash_after_a_deletion_commits_leaves_no_file_after_the_restart(data_dir):
    from storage.base import CaseKey
    from storage.sqlite import SqliteStorage
    from tests.conftest import MASTER_KEY

    storage = await SqliteStorage.open(data_dir, MASTER_KEY)
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(5), "zh-CN", "welcome")
        await tx.evidence_add_text(case, "经过")
    assert vault_files(data_dir)

    async def dies(case_id):
        raise KeyboardInterrupt  # the process ends between the commit and the folder's removal

    storage.vault.remove_case = dies  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        async with storage.transaction() as tx:
            await tx.case_delete(await tx.case(CaseKey(5), "zh-CN", "welcome"))
    await storage.close()
    assert vault_files(data_dir), "the sealed file outlived its case"
    storage = await SqliteStorage.open(data_dir, MASTER_KEY)
    await storage.close()
    assert vault_files(data_dir) == [] and not (data_dir / "vault" / case.id).exists()


# ----------------------------------------------------------------------------- a full disk


def _disk_full_on_write(monkeypatch, module) -> None:
    """Files ``module`` creates (mode x or w) fail their first write with ENOSPC."""

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def full_open(path, mode="r", *args, **kwargs):
        f = builtins.open(path, mode, *args, **kwargs)  # noqa: SIM115 - handed to the caller, who closes it
        return Full(f) if ("x" in mode or "w" in mode) else f

    monkeypatch.setattr(module, "open", full_open, raising=False)


SECRET_NAME, SECRET_CAPTION = "王小明欠款录音.m4a", "催收员李某的电话"  # never in a log


def _disk_full_in_the_vault(monkeypatch, storage) -> None:
    """The vault cannot take the file: the local file's first write fails with ENOSPC (SQLite),
    or PostgreSQL answers its chunk insert with SQLSTATE 53100 disk_full (files live in it)."""
    import storage.vault as vault_module

    if isinstance(storage.vault, vault_module.LocalVault):
        _disk_full_on_write(monkeypatch, vault_module)
        return
    import psycopg.errors

    async def full(*args):
        raise psycopg.errors.DiskFull("could not extend file: No space left on device")

    monkeypatch.setattr(storage.vault, "_row", full)


async def test_a_full_disk_during_an_upload_keeps_nothing_half_and_the_file_comes_later(
    bot, fake, zh, data_dir, monkeypatch, caplog
):
    """Our disk is full, not Telegram's download broken: the person is told the file was not
    saved yet, that the server is at fault, and to send it later; the operator's log says
    DISK FULL without the file's name or caption; nothing half-written stays anywhere."""
    user = fake.user(USER, language_code="zh")
    _disk_full_in_the_vault(monkeypatch, bot.services.storage)
    user.send_document(DATA, SECRET_NAME, "audio/mp4", caption=SECRET_CAPTION)
    (msg,) = await user.wait_for_messages(1, timeout=15)
    assert msg.raw_text == zh.msg("evidence_disk_full"), "told it was our disk, not Telegram, and to send it later"
    assert msg.raw_text != zh.msg("evidence_download_failed")
    assert await vault_contents(bot.services.storage) == [] and plaintext_left(data_dir) == []
    loud = [r for r in caplog.records if r.levelname == "ERROR" and "DISK FULL" in r.getMessage()]
    assert loud, "the operator is told loudly"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET_NAME not in logged and SECRET_CAPTION not in logged
    monkeypatch.undo()  # room again
    user.send_document(DATA, "call.m4a", "audio/mp4")
    (receipt,) = await user.wait_for_messages(1, timeout=15)
    assert "E-001" in receipt.text and hashlib.sha256(DATA).hexdigest()[:16] in receipt.text
    assert len(await blob_ids(bot.services.storage)) == 1


@pytest.mark.backends("sqlite")  # the local vault's fsync and rename
async def test_a_full_disk_at_the_vault_files_fsync_leaves_no_renamed_file(bot, fake, zh, data_dir, monkeypatch):
    """The file was written and renamed, then the folder's fsync failed for lack of room: the
    person hears the disk-full message and the renamed file is gone too (no row will claim it)."""
    import storage.vault as vault_module

    real = vault_module._fsync_and_rename

    def renamed_then_full(tmp: Path, final: Path) -> None:
        os.replace(tmp, final)
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(vault_module, "_fsync_and_rename", renamed_then_full)
    user = fake.user(USER, language_code="zh")
    user.send_document(DATA, "call.m4a", "audio/mp4")
    (msg,) = await user.wait_for_messages(1, timeout=15)
    assert msg.raw_text == zh.msg("evidence_disk_full")
    assert vault_files(data_dir) == [] and not list((data_dir / "vault").rglob(".tmp-*"))
    monkeypatch.setattr(vault_module, "_fsync_and_rename", real)
    user.send_document(DATA, "call.m4a", "audio/mp4")
    (receipt,) = await user.wait_for_messages(1, timeout=15)
    assert "E-001" in receipt.text and len(vault_files(data_dir)) == 1


async def test_the_terminal_chat_says_a_full_disk_is_ours_and_keeps_going(storage, content, tmp_path, zh, monkeypatch):
    """The terminal chat's upload meets the same full disk: the same message, no crash, nothing
    kept, and the next upload is stored."""
    sample = tmp_path / "call.m4a"
    sample.write_bytes(DATA)
    term = Terminal(Services(Settings(), content, Engine(content), storage), io.StringIO(), tmp_path / "out")
    _disk_full_in_the_vault(monkeypatch, storage)
    said = await say(term, f":audio {sample} {SECRET_CAPTION}")
    assert plain(zh.msg("evidence_disk_full")) in said and "E-001" not in said
    assert await vault_contents(storage) == []
    monkeypatch.undo()
    assert "E-001" in await say(term, f":audio {sample}")


async def test_a_full_disk_during_an_export_says_so_and_leaves_no_plaintext(bot, fake, zh, data_dir, monkeypatch):
    from storage import export as export_module

    user = fake.user(USER, language_code="zh")
    user.send_document(DATA, "call.m4a", "audio/mp4")
    await user.wait_for_messages(1, timeout=15)
    real = export_module._write_part

    def half_then_full(*args):
        args[3].write_bytes(b"PK\x03\x04 half a part of plaintext")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_module, "_write_part", half_then_full)
    user.send("/export")
    (confirm,) = await user.wait_for_messages(1)
    user.press(confirm, zh.msg("btn_confirm_export"))
    (said,) = await user.wait_for_messages(1, timeout=15)
    assert said.raw_text == zh.msg("export_no_space")
    assert plaintext_left(data_dir) == []
    monkeypatch.setattr(export_module, "_write_part", real)
    user.send("/export")
    (confirm,) = await user.wait_for_messages(1)
    user.press(confirm, zh.msg("btn_confirm_export"))
    msgs = await user.wait_for_messages(2, timeout=15)
    (doc,) = documents(msgs)
    assert originals(doc) == [DATA]
    assert len(fake.calls("sendDocument")) == 1


# ----------------------------------------------------------------------------- the Bot API misbehaves


async def test_429_and_5xx_during_upload_and_export_deliver_everything_once(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    fake.fail_next("getFile", 502)
    fake.fail_next("download", 503)
    user.send_document(DATA, "call.m4a", "audio/mp4")
    (receipt,) = await user.wait_for_messages(1, timeout=20)
    assert "E-001" in receipt.text
    user.send("/export")
    (confirm,) = await user.wait_for_messages(1)
    fake.fail_next("sendDocument", 429, retry_after=1)
    fake.fail_next("sendMessage", 500)
    press = user.press(confirm, zh.msg("btn_confirm_export"))
    msgs = await user.wait_for_messages(2, timeout=20)
    (doc,) = documents(msgs)
    assert originals(doc) == [DATA]
    await settled(bot, press)
    assert documents(user.take_new_messages()) == [], "the retried part arrived once"
    assert [r.method for r in fake.errors] == ["getFile", "sendDocument", "sendMessage"]


async def test_a_slow_answer_to_one_chat_holds_up_nobody_else(bot, fake, zh):
    slow = fake.user(111, language_code="zh")
    other = fake.user(222, language_code="zh")
    gate = fake.hold("sendMessage", 111)
    slow.send("/start")
    await fake.wait_until(lambda: fake.held("sendMessage") == 1, 10)
    other.send("/start")
    (welcome,) = await other.wait_for_messages(1)
    assert welcome.buttons and slow.take_new_messages() == []
    gate.set()
    (late,) = await slow.wait_for_messages(1)
    assert late.raw_text == welcome.raw_text
    last = slow.send("/help")
    (help_msg,) = await slow.wait_for_messages(1)
    await settled(bot, last)
    assert help_msg.raw_text.startswith(zh.msg("help")[:20]) and slow.take_new_messages() == []


@pytest.mark.backends("sqlite")  # reads the vault folder
async def test_a_download_cut_mid_way_is_fetched_again_and_stored_whole(bot, fake, zh, data_dir):
    user = fake.user(USER, language_code="zh")
    with fake._lock:
        upd = user.send_document(DATA, "call.m4a", "audio/mp4")
        fake.reset_download(upd["message"]["document"]["file_id"])
    (receipt,) = await user.wait_for_messages(1, timeout=20)
    assert hashlib.sha256(DATA).hexdigest()[:16] in receipt.text
    assert [d.status for d in fake.downloads] == ["reset", "completed"]
    assert len(vault_files(data_dir)) == 1 and not list((data_dir / "vault").rglob(".tmp-*"))

    with fake._lock:
        upd = user.send_document(os.urandom(50_000), "b.m4a", "audio/mp4")
        fake.reset_download(upd["message"]["document"]["file_id"], times=3)
    (msg,) = await user.wait_for_messages(1, timeout=20)
    assert msg.raw_text == zh.msg("evidence_download_failed")
    assert len(vault_files(data_dir)) == 1, "nothing half stored"


# ----------------------------------------------------------------------------- the key


def _start_with_key_file(server, data_dir: Path, key_file: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "SHOUHU_MASTER_KEY"}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=server.url,
        SHOUHU_DATA_DIR=str(data_dir),
        SHOUHU_CONTENT_DIR=str(CONTENT_DIR),
        SHOUHU_KEY_FILE=str(key_file),
    )
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def test_a_damaged_or_missing_key_stops_the_start_and_the_restored_key_reads_everything(
    fake, data_dir, tmp_path, zh
):
    user = fake.user(USER, language_code="zh")
    key_file = tmp_path / "config" / "master.key"
    log = tmp_path / "bot.log"
    proc = _start_with_key_file(fake, data_dir, key_file, log)
    try:
        user.send_document(DATA, "call.m4a", "audio/mp4")
        await user.wait_for_messages(1, timeout=30)
    finally:
        stop(proc)
    good = key_file.read_bytes()

    key_file.write_text("not a key, a damaged file\n")
    failed = _start_with_key_file(fake, data_dir, key_file, log)
    assert failed.wait(60) == 2
    assert key_file.read_text() == "not a key, a damaged file\n", "a damaged key is never replaced"
    key_file.unlink()
    failed = _start_with_key_file(fake, data_dir, key_file, log)
    assert failed.wait(60) == 2
    assert not key_file.exists(), "no new key over a database that holds cases"
    said = log.read_text(errors="replace")
    assert "does not contain base64 of 32 bytes" in said and "does not exist" in said
    assert "Traceback" not in said and TOKEN not in said

    key_file.write_bytes(good)
    proc = _start_with_key_file(fake, data_dir, key_file, log)
    try:
        user.send("/export")
        (confirm,) = await user.wait_for_messages(1, timeout=30)
        user.press(confirm, zh.msg("btn_confirm_export"))
        (doc,) = documents(await user.wait_for_messages(2, timeout=30))
        assert originals(doc) == [DATA], "nothing was lost while the key was away"
    finally:
        stop(proc)
    db = sqlite3.connect(data_dir / "shouhu.db")
    try:
        assert db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 1
    finally:
        db.close()
