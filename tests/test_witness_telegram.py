"""Relatives as witnesses, through the fake Bot API with two people: the victim invites, the
relative opens the link in their own chat, consents, writes and sends, hands it over; the
victim accepts one part and declines another. Then what neither side may reach, and what
neither side's /delete may leave behind."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import zipfile

import pytest

from flows.features.witness_record import INVITE, LINK, PART
from storage.base import CaseKey
from tests.backends import wal_checkpoint
from tests.conftest import files_containing, settled

VICTIM = 555000111
MOM = 555000222
STRANGER = 555000333
SHOT = b"\x89PNG screenshot of the collector's message RELATIVE-FILE-MARK-51c2"
SHOT2 = b"\x89PNG a second screenshot, deleted again RELATIVE-FILE-MARK-77d0"
NOTE = "他们打电话说要我替儿子还钱 RELATIVE-NOTE-MARK-3e9a"
LINK_RE = re.compile(r"https://t\.me/(\w+)\?start=(w_[A-Za-z0-9_-]+)")


async def invite(victim, zh, who: str = "witness_who_mother") -> str:
    """The victim makes an invitation; returns the start parameter of its link."""
    victim.send("/witness")
    (listing,) = await victim.wait_for_messages(1)
    victim.press(listing, zh.msg("witness_btn_new"))
    (choose,) = await victim.wait_for_messages(1)
    victim.press(choose, zh.msg(who))
    (ask,) = await victim.wait_for_messages(1)
    victim.press(ask, zh.msg("witness_btn_no_name"))
    made, forward = await victim.wait_for_messages(2)
    assert "转发" in made.text and not forward.buttons, "the message to forward has no buttons of ours"
    found = LINK_RE.search(forward.text)
    assert found, forward.text
    assert found.group(1) == "shouhu_test_bot", "the link names the bot Telegram says we are (getMe)"
    return found.group(2)


async def open_link(relative, param: str) -> list:
    relative.send(f"/start {param}")
    return await relative.wait_for_messages(3)  # who asks, their rights, the consent


async def consent(relative, zh, param: str):
    intro, rights, ask = await open_link(relative, param)
    assert zh.msg("witness_inviter_family") in intro.text
    relative.press(ask, zh.msg("witness_btn_consent"))
    thanks, home = await relative.wait_for_messages(2)
    return home


async def records(storage, chat_id: int, kind: str) -> list:
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(chat_id), "zh-CN", "welcome")
        return await tx.record_list(case, kind)


def button_data(message, label: str) -> str:
    return next(b.data for row in message.buttons for b in row if label in b.label)


@pytest.mark.backends("sqlite")  # reads the vault folder and the SQLite file directly
async def test_invite_consent_account_files_handover_accept_decline_export(bot, fake, zh, data_dir, caplog):
    caplog.set_level(logging.INFO)
    victim, mom = fake.user(VICTIM, language_code="zh"), fake.user(MOM, "妈妈", language_code="zh")
    storage = bot.services.storage
    param = await invite(victim, zh)

    # no consent: nothing of hers is stored, and she may come back
    intro, rights, ask = await open_link(mom, param)
    assert "一分钱" in intro.text and zh.nodes["relatives"].title not in intro.text
    assert rights.raw_text == zh.nodes["relatives"].text.strip()
    assert rights.button_labels == [zh.msg("btn_law")], "the page says 📖 法律依据: the button is there"
    mom.press(ask, zh.msg("witness_btn_no_consent"))
    (no,) = await mom.wait_for_messages(1)
    assert no.raw_text == zh.msg("witness_no_consent")
    assert await records(storage, MOM, LINK) == [] and await records(storage, VICTIM, PART) == []
    assert not list((data_dir / "vault").rglob("*.bin"))

    home = await consent(mom, zh, param)
    assert zh.msg("witness_btn_submit") in home.button_labels
    mom.send(NOTE)  # typed freely on her home screen: a note
    (saved,) = await mom.wait_for_messages(1)
    assert "#1" in saved.text
    mom.send_document(SHOT, "shot.png", "image/png", caption="3月5日晚上")
    (first,) = await mom.wait_for_messages(1)
    assert "#2" in first.text and hashlib.sha256(SHOT).hexdigest()[:16] in first.text
    mom.send_document(SHOT2, "shot2.png", "image/png")
    (second,) = await mom.wait_for_messages(1)
    assert "#3" in second.text
    mom.press(second, zh.msg("witness_btn_remove_this"))
    (sure,) = await mom.wait_for_messages(1)
    mom.press(sure, zh.msg("witness_btn_remove_yes"))
    await mom.wait_for_messages(1)
    assert len(await records(storage, VICTIM, PART)) == 2, "her parts live in the victim's case"
    assert await records(storage, MOM, PART) == [] and await records(storage, VICTIM, LINK) == []

    # nothing reaches the victim before she hands it over
    assert victim.take_new_messages() == []
    mom.press(first, zh.msg("witness_btn_submit"))
    (confirm,) = await mom.wait_for_messages(1)
    assert "说明 1 份、文件 1 个" in confirm.text
    mom.press(confirm, zh.msg("witness_btn_submit_yes"))
    (handed,) = await mom.wait_for_messages(1)
    assert "交给" in handed.text
    (notice,) = await victim.wait_for_messages(1)
    assert zh.msg("witness_who_mother") in notice.text and "说明 1 份，文件 1 个" in notice.text

    # the victim declines the note and accepts the screenshot
    victim.press(notice, "留言 #1")
    (note_view,) = await victim.wait_for_messages(1)
    assert NOTE in note_view.text
    victim.press(note_view, zh.msg("witness_btn_decline"))
    (sure,) = await victim.wait_for_messages(1)
    victim.press(sure, zh.msg("witness_btn_decline_yes"))
    (gone,) = await victim.wait_for_messages(1)
    victim.press(gone, zh.msg("witness_btn_next"))
    sent, file_view = await victim.wait_for_messages(2)
    assert sent.document.data == SHOT, "the victim sees the file before deciding"
    victim.press(file_view, zh.msg("witness_btn_accept"))
    (accepted,) = await victim.wait_for_messages(1)
    assert "E-001" in accepted.text and "来自：妈妈（邀请于" in accepted.text
    assert await records(storage, VICTIM, PART) == []

    victim.send("/export")
    (ask_export,) = await victim.wait_for_messages(1)
    victim.press(ask_export, "确认导出")
    docs = [m for m in await victim.wait_for_messages(2, timeout=20) if m.document]
    with zipfile.ZipFile(io.BytesIO(docs[0].document.data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    rows = list(csv.DictReader(io.StringIO(files["manifest.csv"].decode("utf-8-sig"))))
    assert len(rows) == 1, "exactly the accepted part"
    (row,) = rows
    assert files[row["file"]] == SHOT and row["sha256"] == hashlib.sha256(SHOT).hexdigest()
    assert row["caption"].startswith("来自：妈妈（邀请于 ") and row["caption"].endswith("3月5日晚上")
    assert row["category"] in ("witness", zh.category("witness").label)
    assert f"{row['sha256']}  {row['file']}" in files["SHA256SUMS"].decode()
    assert row["telegram_message_time_utc"], "when Telegram says she sent it"

    # declined at once: the note and the deleted screenshot are nowhere on disk
    await wal_checkpoint(storage)
    assert files_containing(data_dir, b"RELATIVE-NOTE-MARK") == []
    assert files_containing(data_dir, b"RELATIVE-FILE-MARK") == [], "sealed at rest, never in the clear"
    assert len(list((data_dir / "vault").rglob("*.bin"))) == 1, "only the accepted file is left"
    # every part decided: the relative's chat id is forgotten
    ((_, body),) = await records(storage, VICTIM, INVITE)
    assert body["chat"] is None and body["state"] == "accepted"

    token = param.removeprefix("w_")
    assert token not in caplog.text and param not in caplog.text, "the start parameter never reaches the logs"
    assert files_containing(data_dir, token.encode()) == [], "stored only sealed, looked up by a keyed hash"
    assert not fake.unanswered_callbacks()


async def test_the_relative_reaches_nothing_of_the_victims_case(bot, fake, zh):
    victim, mom = fake.user(VICTIM, language_code="zh"), fake.user(MOM, language_code="zh")
    own = b"the victim's own evidence VICTIM-OWN-MARK"
    victim.send_document(own, "own.txt")
    await victim.wait_for_messages(1)
    param = await invite(victim, zh)
    home = await consent(mom, zh, param)
    mom.send(NOTE)
    await mom.wait_for_messages(1)
    mom.press(home, zh.msg("witness_btn_submit"))
    (confirm,) = await mom.wait_for_messages(1)
    mom.press(confirm, zh.msg("witness_btn_submit_yes"))
    await mom.wait_for_messages(1)
    (notice,) = await victim.wait_for_messages(1)
    part_data = button_data(notice, "#1")
    prid = part_data.split("|")[1]

    # every button of the victim's, with the victim's numbers, pressed in the relative's chat
    forged = ["eo|1", "eg|1", "eh|1", "ed|1", "edy|1", "el|1", "c|1|sms", "n|1", "wl|", "wo|1", "wv|1", "wx|1"]
    forged += ["wxy|1", "ws|1|1", f"wp|{prid}", f"wa|{prid}", f"wd|{prid}", f"wdy|{prid}", "k|save_evidence"]
    for data in forged:
        update = mom.press_data(home, data)
        await settled(bot, update)
    for command in ("/evidence", "/export", "/witness", "/status"):
        update = mom.send(command)
        await settled(bot, update)
    seen = mom.take_new_messages()
    assert not any(m.document for m in seen), "no file of the victim's reaches the relative"
    text = "\n".join(str(m) for m in seen)
    assert "VICTIM-OWN-MARK" not in text and "own.txt" not in text
    assert hashlib.sha256(own).hexdigest()[:16] not in text
    not_found = zh.msg("evidence_not_found", no="E-001")
    assert all(not_found in m.text for m in seen if "E-001" in (m.text or "")), "only ever 'not found'"
    assert NOTE not in text
    assert "妈妈" not in text, "not even what the victim called her"
    assert victim.take_new_messages() == [], "nothing the relative pressed reached the victim"
    victim.send("/evidence")
    (listing,) = await victim.wait_for_messages(1)
    assert "E-001" in listing.text, "forged deletes changed nothing"
    victim.press(notice, "#1")
    (still,) = await victim.wait_for_messages(1)
    assert NOTE in still.text, "the handed-over note is still waiting for the victim"


async def refused(chat, zh, key: str = "witness_link_refused") -> None:
    line, welcome = await chat.wait_for_messages(2)
    assert line.raw_text == zh.msg(key)
    assert welcome.raw_text == zh.nodes[zh.start].text.strip(), "then the ordinary welcome"


async def test_forged_someone_elses_revoked_expired_and_used_links_get_one_calm_sentence(bot, fake, zh):
    from datetime import timedelta

    victim, mom = fake.user(VICTIM, language_code="zh"), fake.user(MOM, language_code="zh")
    stranger = fake.user(STRANGER, language_code="zh")

    stranger.send("/start w_" + "A" * 32)  # forged
    await refused(stranger, zh)
    stranger.send("/start w_abc")  # not even a token
    await refused(stranger, zh)
    stranger.send("/start hello")  # a parameter nobody owns: the welcome alone
    (welcome,) = await stranger.wait_for_messages(1)
    assert welcome.raw_text == zh.nodes[zh.start].text.strip()

    # one person per invitation: forwarded on, it is refused; the first person keeps it
    param = await invite(victim, zh)
    await open_link(mom, param)
    stranger.send(f"/start {param}")
    await refused(stranger, zh)
    await consent(mom, zh, param)

    # revoked: the link stops at once and the relative is told it ended (not why)
    victim.send("/witness")
    (listing,) = await victim.wait_for_messages(1)
    assert zh.msg("witness_state_opened") in listing.text
    victim.press(listing, zh.msg("witness_who_mother"))
    (one,) = await victim.wait_for_messages(1)
    victim.press(one, zh.msg("witness_btn_revoke"))
    (sure,) = await victim.wait_for_messages(1)
    victim.press(sure, zh.msg("witness_btn_revoke_yes"))
    await victim.wait_for_messages(1)
    (ended,) = await mom.wait_for_messages(1)
    assert ended.raw_text == zh.msg("witness_ended")
    mom.send(f"/start {param}")
    await refused(mom, zh, "witness_ended")

    # expired: 14 days by default, then the link is refused and the victim sees it expired
    later = await invite(victim, zh, "witness_who_friend")
    real = bot.engine.clock
    bot.engine.clock = lambda: real() + timedelta(days=14, minutes=1)
    try:
        stranger.send(f"/start {later}")
        await refused(stranger, zh)
        victim.send("/witness")
        (listing,) = await victim.wait_for_messages(1)
        assert zh.msg("witness_state_expired") in listing.text
    finally:
        bot.engine.clock = real

    # used: handed over and decided; the relative is thanked once, anyone else refused
    used = await invite(victim, zh, "witness_who_father")
    dad = fake.user(MOM + 1, language_code="zh")
    home = await consent(dad, zh, used)
    dad.send_document(SHOT, "shot.png", "image/png")
    await dad.wait_for_messages(1)
    dad.press(home, zh.msg("witness_btn_submit"))
    (confirm,) = await dad.wait_for_messages(1)
    dad.press(confirm, zh.msg("witness_btn_submit_yes"))
    await dad.wait_for_messages(1)
    (notice,) = await victim.wait_for_messages(1)
    victim.press(notice, "#1")
    sent, view = await victim.wait_for_messages(2)
    victim.press(view, zh.msg("witness_btn_accept"))
    await victim.wait_for_messages(1)
    stranger.send(f"/start {used}")
    await refused(stranger, zh)
    dad.send(f"/start {used}")
    await refused(dad, zh, "witness_done")


async def test_guessing_links_is_rate_limited(bot, fake, zh):
    from datetime import timedelta

    victim, stranger = fake.user(VICTIM, language_code="zh"), fake.user(STRANGER, language_code="zh")
    param = await invite(victim, zh)
    for i in range(5):
        stranger.send(f"/start w_{i:032d}")
        await refused(stranger, zh)
    stranger.send(f"/start {param}")  # even a real link: after five misses nothing is looked up
    await refused(stranger, zh)
    real = bot.engine.clock
    bot.engine.clock = lambda: real() + timedelta(hours=1, minutes=1)
    try:
        intro, rights, ask = await open_link(stranger, param)
        assert zh.msg("witness_btn_consent") in ask.button_labels
    finally:
        bot.engine.clock = real


async def test_guessing_through_forged_consent_buttons_is_rate_limited_too(bot, fake, zh):
    victim, stranger = fake.user(VICTIM, language_code="zh"), fake.user(STRANGER, language_code="zh")
    param = await invite(victim, zh)
    stranger.send("/start")
    (welcome,) = await stranger.wait_for_messages(1)
    for i in range(5):  # a token in a button can be forged like any callback data
        update = stranger.press_data(welcome, f"vc|{i:032d}")
        await settled(bot, update)
    assert all(zh.msg("witness_btn_consent") not in m.button_labels for m in stranger.take_new_messages())
    stranger.send(f"/start {param}")  # a miss by button counts like a miss by link
    await refused(stranger, zh)


async def test_a_link_opened_in_a_group_is_refused_and_binds_no_one(bot, fake, zh):
    victim, mom = fake.user(VICTIM, language_code="zh"), fake.user(MOM, language_code="zh")
    param = await invite(victim, zh)
    group = fake.group(-100777, mom)
    update = group.send(f"/start {param}")
    (line,) = await group.wait_for_messages(1)
    assert line.raw_text == zh.msg("group_chat")
    await settled(bot, update)
    assert group.take_new_messages() == []
    victim.send("/witness")
    (listing,) = await victim.wait_for_messages(1)
    assert zh.msg("witness_state_sent") in listing.text, "the group bound nobody"
    await consent(mom, zh, param)


async def hand_over(relative, zh, home) -> None:
    relative.press(home, zh.msg("witness_btn_submit"))
    (confirm,) = await relative.wait_for_messages(1)
    relative.press(confirm, zh.msg("witness_btn_submit_yes"))
    await relative.wait_for_messages(1)


async def delete_everything(chat) -> None:
    chat.send("/delete")
    (confirm,) = await chat.wait_for_messages(1)
    chat.press(confirm, "确认删除")
    await chat.wait_for_messages(1)


@pytest.mark.backends("sqlite")  # reads the vault folder and the SQLite file directly
async def test_the_victims_delete_ends_every_invitation_and_leaves_nothing(bot, fake, zh, data_dir):
    victim, mom = fake.user(VICTIM, language_code="zh"), fake.user(MOM, language_code="zh")
    dad = fake.user(MOM + 1, language_code="zh")
    storage = bot.services.storage
    mom_home = await consent(mom, zh, await invite(victim, zh))
    dad_home = await consent(dad, zh, await invite(victim, zh, "witness_who_father"))
    mom.send(NOTE)
    await mom.wait_for_messages(1)
    mom.send_document(SHOT, "shot.png", "image/png")
    await mom.wait_for_messages(1)
    await hand_over(mom, zh, mom_home)
    (notice,) = await victim.wait_for_messages(1)
    victim.press(notice, "#2")
    sent, view = await victim.wait_for_messages(2)
    victim.press(view, zh.msg("witness_btn_accept"))  # accepted: it is the victim's evidence now
    await victim.wait_for_messages(1)
    dad.send_document(SHOT2, "draft.png", "image/png")  # a draft, never handed over
    await dad.wait_for_messages(1)

    await delete_everything(victim)
    (ended_mom,) = await mom.wait_for_messages(1)
    (ended_dad,) = await dad.wait_for_messages(1)
    assert ended_mom.raw_text == ended_dad.raw_text == zh.msg("witness_ended"), "told it ended, not why"
    await wal_checkpoint(storage)
    assert files_containing(data_dir, b"RELATIVE-NOTE-MARK") == []
    assert files_containing(data_dir, b"RELATIVE-FILE-MARK") == []
    assert files_containing(data_dir, NOTE.encode()) == []
    assert files_containing(data_dir, str(VICTIM).encode()) == [], "nothing names the victim's chat"
    assert not list((data_dir / "vault").rglob("*.bin"))

    # the relative's chat is theirs again: a file sent now is told it was not kept, then is their own
    dad.send_document(b"after the end RELATIVE-FILE-MARK-late", "late.png", "image/png")
    not_kept, ended = await dad.wait_for_messages(2)
    assert not_kept.raw_text == zh.msg("witness_file_not_kept") and ended.raw_text == zh.msg("witness_ended")
    assert not list((data_dir / "vault").rglob("*.bin")), "not kept anywhere"
    dad.send_document(b"my own evidence", "mine.png", "image/png")
    (receipt,) = await dad.wait_for_messages(1)
    assert "E-001" in receipt.text
    assert dad_home.buttons


@pytest.mark.backends("sqlite")  # reads the vault folder and the SQLite file directly
async def test_the_relatives_delete_removes_what_was_not_accepted_and_their_chat_id(bot, fake, zh, data_dir):
    victim, mom = fake.user(VICTIM, language_code="zh"), fake.user(MOM, language_code="zh")
    storage = bot.services.storage
    home = await consent(mom, zh, await invite(victim, zh))
    mom.send_document(SHOT, "kept.png", "image/png")
    await mom.wait_for_messages(1)
    mom.send_document(SHOT2, "not-yet.png", "image/png")
    await mom.wait_for_messages(1)
    mom.send(NOTE)
    await mom.wait_for_messages(1)
    await hand_over(mom, zh, home)
    (notice,) = await victim.wait_for_messages(1)
    victim.press(notice, "#1")
    sent, view = await victim.wait_for_messages(2)
    victim.press(view, zh.msg("witness_btn_accept"))
    await victim.wait_for_messages(1)

    await delete_everything(mom)
    (withdrawn,) = await victim.wait_for_messages(1)
    assert withdrawn.raw_text == zh.msg("witness_withdrawn", who=zh.msg("witness_who_mother"))
    assert await records(storage, VICTIM, PART) == []
    ((_, body),) = await records(storage, VICTIM, INVITE)
    assert body["chat"] is None and body["state"] == "withdrawn"
    await wal_checkpoint(storage)
    assert files_containing(data_dir, NOTE.encode()) == [] and files_containing(data_dir, b"MARK-77d0") == []
    assert files_containing(data_dir, str(MOM).encode()) == [], "her chat id is gone"
    victim.send("/evidence")
    (listing,) = await victim.wait_for_messages(1)
    assert "E-001" in listing.text and zh.category("witness").label in listing.text, "what was accepted stays"
    assert len(list((data_dir / "vault").rglob("*.bin"))) == 1


async def test_a_relative_who_blocked_the_bot_costs_the_notice_not_the_deletion(bot, fake, zh, data_dir):
    victim, mom = fake.user(VICTIM, language_code="zh"), fake.user(MOM, language_code="zh")
    await consent(mom, zh, await invite(victim, zh))
    mom.send_document(SHOT, "shot.png", "image/png")
    await mom.wait_for_messages(1)
    blocked = mom.block()
    await settled(bot, blocked)
    await delete_everything(victim)
    assert not list((data_dir / "vault").rglob("*.bin"))
    assert mom.take_new_messages() == []
    victim.send("/witness")
    (listing,) = await victim.wait_for_messages(1)
    assert zh.msg("witness_list_empty") in listing.text, "no apology: nothing failed"
