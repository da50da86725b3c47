"""The evidence locker on Telegram: every kind of upload, receipts, export, originals, deletion."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile

from telegram import Update

from tests.backends import at_rest, blob_ids, vault_contents
from tests.conftest import files_containing, running_bot, settled

USER = 555000111
MARKER = b"MARKER-9c1e-victim-wrote-this"


def receipt_of(msgs):
    return next(m for m in msgs if "E-0" in (m.text or "") and m.buttons)


async def upload_and_file(user, zh, send, category: str):
    """Send something, get the receipt, pick its category; returns the receipt."""
    send()
    msgs = await user.wait_for_messages(1)
    receipt = receipt_of(msgs)
    user.press(receipt, category)
    await user.wait_for_messages(1)
    return receipt


def unzip_all(doc_msgs):
    out = {}
    for m in doc_msgs:
        with zipfile.ZipFile(io.BytesIO(m.document.data)) as zf:
            out[m.document.filename] = {n: zf.read(n) for n in zf.namelist()}
    return out


async def test_every_kind_of_upload_is_received_and_exported_exactly(bot, fake, zh):
    user = fake.user(USER, language_code="zh-hans")
    blobs = {
        "document": b"%PDF-1.4 fake notice " + MARKER,
        "photo": b"\xff\xd8\xff photo " + MARKER,
        "voice": b"OggS voice " + MARKER,
        "audio": b"ID3 call recording " + MARKER * 5000,
        "video": b"\x00\x00\x00\x18ftypmp42 video " + MARKER,
        "video_note": b"\x00\x00\x00\x18ftypmp42 round " + MARKER,
    }
    senders = {
        "document": lambda: user.send_document(
            blobs["document"], "通知.pdf", "application/pdf", caption="caption " + MARKER.decode()
        ),
        "photo": lambda: user.send_photo(blobs["photo"]),
        "voice": lambda: user.send_voice(blobs["voice"]),
        "audio": lambda: user.send_audio(blobs["audio"]),
        "video": lambda: user.send_video(blobs["video"]),
        "video_note": lambda: user.send_video_note(blobs["video_note"]),
    }
    for i, (kind, send) in enumerate(senders.items(), start=1):
        send()
        msgs = await user.wait_for_messages(2 if kind == "photo" else 1)
        receipt = receipt_of(msgs)
        sha = hashlib.sha256(blobs[kind]).hexdigest()
        assert f"E-{i:03d}" in receipt.text and sha[:16] in receipt.text, receipt.text
        assert zh.msg(f"evidence_kind_{kind}") in receipt.text
        if kind == "photo":
            assert any(zh.msg("evidence_photo_hint")[:12] in (m.raw_text or "") for m in msgs), "explain send-as-file"
        user.press(receipt, zh.categories[i % len(zh.categories)].label)
        (saved,) = await user.wait_for_messages(1)
        assert f"E-{i:03d}" in saved.text

    user.send("/export")
    (confirm,) = await user.wait_for_messages(1)
    assert "确认导出" in confirm.button_labels
    user.press(confirm, "确认导出")
    msgs = await user.wait_for_messages(3, timeout=20)  # preparing, the ZIP, done
    docs = [m for m in msgs if m.document]
    assert len(docs) == 1
    (files,) = unzip_all(docs).values()
    sums = dict(reversed(line.split("  ")) for line in files["SHA256SUMS"].decode().splitlines())
    rows = list(csv.DictReader(io.StringIO(files["manifest.csv"].decode("utf-8-sig"))))
    assert len(rows) == len(blobs) == len(sums)
    for row, (kind, data) in zip(rows, blobs.items()):
        assert files[row["file"]] == data, kind
        assert sums[row["file"]] == row["sha256"] == hashlib.sha256(data).hexdigest()
    assert rows[0]["caption"] == "caption " + MARKER.decode()
    assert all(r["telegram_message_time_utc"] and r["received_at_utc"] for r in rows)
    assert not fake.unanswered_callbacks()


async def test_original_comes_back_as_a_document(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    data = os.urandom(200_000)
    await upload_and_file(user, zh, lambda: user.send_document(data, "rec.m4a", "audio/mp4"), zh.categories[0].label)
    user.send("/evidence")
    (listing,) = await user.wait_for_messages(1)
    user.press(listing, "E-001")
    (item,) = await user.wait_for_messages(1)
    user.press(item, zh.msg("btn_get_original"))
    (doc,) = await user.wait_for_messages(1)
    assert doc.document.data == data
    assert doc.document.filename.startswith(f"E-001_{zh.categories[0].label}_") and doc.document.filename.endswith(
        ".m4a"
    )


async def test_note_edit_and_delete_one_item(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    receipt = await upload_and_file(user, zh, lambda: user.send_document(b"abc", "a.txt"), zh.categories[1].label)
    user.send("/evidence")
    (listing,) = await user.wait_for_messages(1)
    user.press(listing, "E-001")
    (item,) = await user.wait_for_messages(1)
    user.press(item, zh.msg("btn_edit_note"))
    await user.wait_for_messages(1)
    user.send("领导 3月5日 22:40 接到短信 <script>")
    await user.wait_for_messages(1)
    user.press(listing, "E-001")
    (item,) = await user.wait_for_messages(1)
    assert "领导 3月5日 22:40 接到短信 <script>" in item.text, "a note is shown back, escaped, not as HTML"
    user.press(item, zh.msg("btn_delete_item"))
    (confirm,) = await user.wait_for_messages(1)
    user.press(confirm, zh.msg("btn_confirm_delete_item"))
    await user.wait_for_messages(1)
    user.send("/evidence")
    (listing,) = await user.wait_for_messages(1)
    assert listing.raw_text == zh.msg("evidence_list_empty")
    user.press(receipt, zh.categories[0].label)  # a stale receipt for a deleted item
    (stale,) = await user.wait_for_messages(1)
    assert stale.buttons


async def test_redelivered_upload_is_stored_once(bot, fake, zh, data_dir):
    user = fake.user(USER, language_code="zh")
    upd = user.send_document(b"once " + MARKER, "x.txt")
    await user.wait_for_messages(1)
    await bot.update_queue.put(Update.de_json(upd, bot.bot))
    again = user.send_document(b"once " + MARKER, "again.txt")  # same bytes, new message
    (dup,) = await user.wait_for_messages(1)
    assert dup.raw_text == zh.msg("evidence_duplicate", no="E-001")
    await settled(bot, again)
    assert user.take_new_messages() == []
    assert len(await blob_ids(bot.services.storage)) == 1


async def test_file_over_20_mb_gets_a_clear_answer(bot, fake, zh, tmp_path):
    big = tmp_path / "long-call.m4a"
    with open(big, "wb") as f:
        f.truncate(21 * 1024 * 1024)
    user = fake.user(USER, language_code="zh")
    user.send_document(big)
    (msg,) = await user.wait_for_messages(1)
    assert msg.raw_text == zh.msg("evidence_too_big", limit_mb=20) and msg.buttons
    assert not await blob_ids(bot.services.storage)


async def test_local_bot_api_server_accepts_large_files(data_dir, tmp_path, zh):
    from tests.conftest import TOKEN
    from tests.fakes.botapi import FakeBotAPI

    big = tmp_path / "long-call.m4a"
    chunk = os.urandom(1024 * 1024)
    with open(big, "wb") as f:
        for _ in range(25):
            f.write(chunk)
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    with FakeBotAPI(token=TOKEN, local_mode=True) as server:
        async with running_bot(server, data_dir, local_api=True):
            user = server.user(USER, language_code="zh")
            user.send_document(big)
            (receipt,) = await user.wait_for_messages(1, timeout=30)
            assert digest[:16] in receipt.text and "25.0 MB" in receipt.text
            user.send("/export")
            (confirm,) = await user.wait_for_messages(1)
            user.press(confirm, "确认导出")
            docs = [m for m in await user.wait_for_messages(3, timeout=30) if m.document]
            with zipfile.ZipFile(io.BytesIO(docs[0].document.data)) as zf:
                name = next(n for n in zf.namelist() if n.startswith("originals/"))
                assert hashlib.sha256(zf.read(name)).hexdigest() == digest


async def test_delete_erases_everything_and_clears_the_chat(bot, fake, zh, data_dir):
    user = fake.user(USER, language_code="zh")
    user.send("/start")
    await user.wait_for_messages(1)
    await upload_and_file(
        user, zh, lambda: user.send_document(MARKER * 5000, "a.txt", caption=MARKER.decode()), zh.categories[0].label
    )
    user.send("/testimony")
    await user.wait_for_messages(1)
    user.send("他们给我妈打了十几次 " + MARKER.decode())
    await user.wait_for_messages(2)
    user.send("/delete")
    (confirm,) = await user.wait_for_messages(1)
    assert "/export" in confirm.text and "确认删除" in confirm.button_labels
    user.press(confirm, "确认删除")
    (done,) = await user.wait_for_messages(1)
    assert done.raw_text == zh.msg("delete_done")
    await fake.wait_until(lambda: [m.message_id for m in user.history] == [done.message_id], 5)

    storage = bot.services.storage
    folder = await at_rest(storage)
    assert files_containing(folder, MARKER) == []
    assert files_containing(folder, str(USER).encode()) == []
    assert files_containing(folder, "他们给我妈".encode()) == []
    user.send("/export")
    msgs = await user.wait_for_messages(1)
    assert msgs[0].raw_text == zh.msg("export_empty")


async def test_big_export_is_split_under_the_upload_limit(bot, fake, zh, tmp_path):
    user = fake.user(USER, language_code="zh")
    datas = []
    for i in range(3):
        p = tmp_path / f"rec{i}.m4a"
        data = os.urandom(19 * 1000 * 1000)
        p.write_bytes(data)
        datas.append(hashlib.sha256(data).hexdigest())
        user.send_document(p)
        await user.wait_for_messages(1, timeout=30)
    user.send("/export")
    (confirm,) = await user.wait_for_messages(1)
    user.press(confirm, "确认导出")
    msgs = await user.wait_for_messages(4, timeout=60)
    docs = [m for m in msgs if m.document]
    assert len(docs) == 2 and all(d.document.size < 50 * 1000 * 1000 for d in docs)
    seen = set()
    for files in unzip_all(docs).values():
        assert {"manifest.csv", "manifest.json", "SHA256SUMS", "README.txt"} <= set(files)
        assert len(list(csv.DictReader(io.StringIO(files["manifest.csv"].decode("utf-8-sig"))))) == 3
        for line in files["SHA256SUMS"].decode().splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256(files[name]).hexdigest() == digest
            seen.add(digest)
    assert seen == set(datas)


async def test_a_broken_download_is_tried_again_then_explained(bot, fake, zh, data_dir):
    user = fake.user(USER, language_code="zh")
    fake.fail_next("download", 502)
    user.send_document(b"first try breaks " + MARKER, "a.txt")
    (receipt,) = await user.wait_for_messages(1, timeout=15)
    assert "E-001" in receipt.text, "one 502 on the download is survived"
    fake.fail_next("download", 502, times=3)
    user.send_document(b"never arrives", "b.txt")
    (msg,) = await user.wait_for_messages(1, timeout=15)
    assert msg.raw_text == zh.msg("evidence_download_failed")
    storage = bot.services.storage
    assert len(await blob_ids(storage)) == 1 and len(await vault_contents(storage)) == 1, "the broken one left nothing"
