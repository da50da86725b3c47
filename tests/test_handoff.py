"""Handoff on Telegram: a victim, the clinic's staff group and a staff member, all through the
fake Bot API. Nothing crosses between the two chats before consent or after withdrawal."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from flows.record import FACTS, INCIDENT, Facts, Incident
from storage.base import CaseKey
from tests.conftest import running_bot, settled
from tests.fakes.botapi import FakeBotAPI

USER = 700100200
STAFF = 700999000
STAFF_CHAT = -1001234567890
SECRET = "MARKER-user-typed-7d1f"  # what the victim wrote in their account and captions
FILE = b"screenshot bytes MARKER-file-3a9c"


@pytest.fixture
async def staff_bot(fake, data_dir):
    async with running_bot(fake, data_dir, staff_chat_id=STAFF_CHAT) as app:
        yield app
    assert not fake.unexpected, fake.unexpected


async def staff_room(fake, app):
    """The clinic's staff group, with the bot added to it (it stays)."""
    staffer = fake.user(STAFF, "社工小王", username="xiaowang_staff")
    group = fake.group(STAFF_CHAT, staffer, title="诊所工作人员")
    await settled(app, group.add_bot())
    return group


async def victim(fake, zh, *, with_file: bool = True):
    user = fake.user(USER, "小李", username="xiaoli_victim", language_code="zh")
    user.send("/start")
    await user.wait_for_messages(1)
    if with_file:
        user.send_document(FILE, "我的截图.png", "image/png", caption=SECRET)
        msgs = await user.wait_for_messages(1)
        receipt = next(m for m in msgs if m.buttons)
        user.press(receipt, zh.categories[0].label)
        await user.wait_for_messages(1)
    return user


async def consent_screen(user, zh):
    """From any step: the navigation row's ☰ opens the steps, which hold the handoff button."""
    user.send("/start")
    (welcome,) = await user.wait_for_messages(1)
    user.press(welcome, "要不要马上还钱")
    (step,) = await user.wait_for_messages(1)
    user.press(step, zh.msg("btn_steps"))
    (steps,) = await user.wait_for_messages(1)
    user.press(steps, zh.msg("btn_handoff"))
    (screen,) = await user.wait_for_messages(1)
    return screen


async def open_handoff(user, group, zh):
    """Consent given: returns the summary as the staff group got it, and the victim's screen."""
    screen = await consent_screen(user, zh)
    user.press(screen, zh.msg("btn_handoff_agree"))
    (sent,) = await user.wait_for_messages(1)
    (summary,) = await group.wait_for_messages(1)
    return summary, sent


async def add_facts_and_incidents(app):
    async with app.services.storage.transaction() as tx:
        case = await tx.case(CaseKey(USER), "zh-CN", "welcome")
        await tx.record_add(case, FACTS, Facts(app="速借宝", contract_amount=Decimal("5000")).to_body())
        night = datetime(2024, 5, 1, 15, 30, tzinfo=UTC)  # 23:30 in Beijing
        for at in (night, night + timedelta(hours=12)):
            await tx.record_add(case, INCIDENT, Incident(at=at, relation="parents", channel="call").to_body())


# ---------------------------------------------------------------------------- without a staff chat


async def test_without_a_staff_chat_there_is_no_handoff(bot, fake, zh):
    user = await victim(fake, zh, with_file=False)
    (welcome,) = [user.last_message]
    user.press(welcome, "要不要马上还钱")
    (step,) = await user.wait_for_messages(1)
    user.press(step, zh.msg("btn_steps"))
    (steps,) = await user.wait_for_messages(1)
    assert not any("找真人" in label for label in steps.button_labels)
    user.send("/human")
    (answer,) = await user.wait_for_messages(1)
    assert answer.raw_text == zh.msg("unknown_command")
    upd = user.press_data(steps, "hy|0|0|0|1")  # a forged consent changes nothing and sends nothing anywhere
    assert (await user.wait_for_answer(upd)).text == zh.msg("stale_button")
    await settled(bot, upd)
    assert not fake.calls("setMyCommands") or all(
        "human" not in c.get("commands", "") for c in fake.calls("setMyCommands")
    )


# ---------------------------------------------------------------------------- consent


async def test_nothing_reaches_the_staff_before_consent(staff_bot, fake, zh):
    group = await staff_room(fake, staff_bot)
    user = await victim(fake, zh)
    screen = await consent_screen(user, zh)
    assert "找真人帮忙" in screen.text and zh.msg("btn_handoff_agree") in screen.button_labels
    user.press(screen, zh.msg("btn_handoff_preview"))
    shown = await user.wait_for_messages(3)  # header, the summary word for word, the consent again
    assert "E-001" in shown[1].text and hashlib.sha256(FILE).hexdigest() in shown[1].text
    user.send("我想找人帮忙 " + SECRET)
    await user.wait_for_messages(1)
    last = user.send("/status")
    await user.wait_for_messages(1)
    await settled(staff_bot, last)
    assert group.take_new_messages() == [], "no summary, no words, nothing before consent"
    assert [c for c in fake.calls("sendDocument") if c.get("chat_id") == str(STAFF_CHAT)] == []


async def test_summary_after_consent_holds_no_file_and_no_chat_id(staff_bot, fake, zh):
    group = await staff_room(fake, staff_bot)
    user = await victim(fake, zh)
    user.send("/testimony")
    await user.wait_for_messages(1)
    user.send("他们给我妈打了十几次 " + SECRET)
    await user.wait_for_messages(2)
    await add_facts_and_incidents(staff_bot)
    screen = await consent_screen(user, zh)
    for listed in ("借款平台", "合同金额", "2 条", "2 件"):  # exactly what will go
        assert listed in screen.text
    assert len(screen.text) <= 600 and len(screen.button_labels) <= 8
    mark = fake.mark()
    user.press(screen, zh.msg("btn_handoff_agree"))
    (sent,) = await user.wait_for_messages(1)
    (summary,) = await group.wait_for_messages(1)
    ref = re.search(r"H-[A-Z0-9]{6}", summary.text).group(0)
    assert ref in sent.text
    text = summary.text
    assert "速借宝" in text and "5,000 元" in text and "共 2 次" in text and "夜间（22:00–8:00）1 次" in text
    assert "E-001" in text and "E-002" in text and hashlib.sha256(FILE).hexdigest() in text
    for private in (str(USER), "小李", "xiaoli_victim", SECRET, "我的截图", "他们给我妈"):
        assert private not in text, private
    staff_calls = [r for r in fake.requests_since(mark) if r.chat_id == STAFF_CHAT]
    assert [r.method for r in staff_calls] == ["sendMessage"], "a summary, and no file"


async def test_files_go_only_after_the_second_consent(staff_bot, fake, zh):
    group = await staff_room(fake, staff_bot)
    user = await victim(fake, zh)
    summary, sent = await open_handoff(user, group, zh)
    assert group.history[-1].document is None
    user.press(sent, zh.msg("btn_handoff_files"))
    (files,) = await user.wait_for_messages(1)
    assert "E-001" in files.text and "1 件" in files.text
    fence = user.send("/status")
    await user.wait_for_messages(1)
    await settled(staff_bot, fence)
    assert group.take_new_messages() == [], "the files screen itself sends nothing"
    user.press(files, zh.msg("btn_handoff_files_agree"))
    await user.wait_for_messages(1)
    (doc,) = await group.wait_for_messages(1)
    assert doc.document is not None and doc.document.data == FILE
    assert "E-001" in doc.caption and SECRET not in doc.caption and "我的截图" not in (doc.document.filename or "")
    user.press(sent, zh.msg("btn_handoff_files"))
    (again,) = await user.wait_for_messages(1)
    assert again.raw_text == zh.msg("handoff_files_all_sent"), "a file is sent once"


# ---------------------------------------------------------------------------- relaying


async def test_a_staff_reply_reaches_the_victim_and_the_victims_words_reach_the_staff(staff_bot, fake, zh, caplog):
    caplog.set_level(logging.DEBUG)
    group = await staff_room(fake, staff_bot)
    user = await victim(fake, zh, with_file=False)
    summary, sent = await open_handoff(user, group, zh)

    group.send("我们看到了，明天上午给你回电 STAFF-WORDS-1", reply_to=summary)
    (relayed,) = await user.wait_for_messages(1)
    assert "STAFF-WORDS-1" in relayed.text and "机构工作人员回复" in relayed.text
    assert "社工小王" not in relayed.text and "xiaowang_staff" not in relayed.text

    user.press(relayed, zh.msg("btn_handoff_reply"))
    (prompt,) = await user.wait_for_messages(1)
    user.send("好的，我妈又接到电话了 " + SECRET)
    (ack,) = await user.wait_for_messages(1)
    assert ack.raw_text == zh.msg("handoff_note_sent")
    (note,) = await group.wait_for_messages(1)
    assert SECRET in note.text and str(USER) not in note.text and "小李" not in note.text

    group.send("收到 STAFF-WORDS-2", reply_to=note)  # a reply to any of the case's messages
    (second,) = await user.wait_for_messages(1)
    assert "STAFF-WORDS-2" in second.text

    group.send("大家今天谁值班？")  # staff among themselves: not the bot's business
    user.press(prompt, zh.msg("btn_handoff_note_done"))
    await user.wait_for_messages(1)
    fence = user.send("这句不是给工作人员的 " + SECRET)  # the note mode has ended
    await user.wait_for_messages(1)
    await settled(staff_bot, fence)
    assert group.take_new_messages() == []
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("handlers", "flows", "storage"))
    for words in (SECRET, "STAFF-WORDS", "我妈", "值班", str(USER)):
        assert words not in ours, words


async def test_crisis_words_to_the_staff_bring_the_crisis_message_first(staff_bot, fake, zh):
    group = await staff_room(fake, staff_bot)
    user = await victim(fake, zh, with_file=False)
    summary, sent = await open_handoff(user, group, zh)
    user.press(sent, zh.msg("btn_handoff_note"))
    await user.wait_for_messages(1)
    user.send("我真的活不下去了")
    first, second = await user.wait_for_messages(2)
    assert "12356" in first.text, "care comes first"
    assert second.raw_text == zh.msg("handoff_note_crisis_sent")
    (alert,) = await group.wait_for_messages(1)
    assert "⚠️" in alert.text and "活不下去" in alert.text


# ---------------------------------------------------------------------------- withdrawing


async def test_after_withdrawal_nothing_crosses_and_the_summary_is_deleted(staff_bot, fake, zh):
    group = await staff_room(fake, staff_bot)
    user = await victim(fake, zh)
    summary, sent = await open_handoff(user, group, zh)
    user.press(sent, zh.msg("btn_handoff_files"))
    (files,) = await user.wait_for_messages(1)
    user.press(files, zh.msg("btn_handoff_files_agree"))
    (sending,) = await user.wait_for_messages(1)
    (doc,) = await group.wait_for_messages(1)
    user.press(sending, zh.msg("btn_handoff_note"))
    (prompt,) = await user.wait_for_messages(1)
    user.send("第一条留言")
    await user.wait_for_messages(1)
    (note,) = await group.wait_for_messages(1)

    user.press(sending, zh.msg("btn_handoff_withdraw"))
    (confirm,) = await user.wait_for_messages(1)
    user.press(confirm, zh.msg("btn_handoff_withdraw_confirm"))
    done = await user.wait_for_messages(2)
    assert done[0].raw_text == zh.msg("handoff_withdrawn")
    (notice,) = await group.wait_for_messages(1)
    assert "撤回" in notice.text
    for gone in (summary, doc, note):
        assert group.message(gone.message_id).deleted, gone
    assert [m.message_id for m in group.history] == [notice.message_id]

    user.send("还在吗 " + SECRET)  # the note mode is over; nothing goes to the staff
    await user.wait_for_messages(1)
    staff_reply = group.send("你好，还需要帮忙吗？STAFF-LATE", reply_to=summary.message_id)
    (told,) = await group.wait_for_messages(1)
    assert told.raw_text == zh.msg("handoff_staff_not_relayed")
    await settled(staff_bot, staff_reply)
    assert user.take_new_messages() == []
    assert all(SECRET not in (m.text or "") for m in group.history)
    upd = user.press_data(prompt, "hn|")  # an old "write to the staff" button
    assert (await user.wait_for_answer(upd)).text == zh.msg("stale_button")


async def test_delete_withdraws_the_handoff(staff_bot, fake, zh):
    group = await staff_room(fake, staff_bot)
    user = await victim(fake, zh)
    summary, sent = await open_handoff(user, group, zh)
    user.send("/delete")
    (confirm,) = await user.wait_for_messages(1)
    user.press(confirm, "确认删除")
    (done,) = await user.wait_for_messages(1)
    assert done.raw_text == zh.msg("delete_done")
    (notice,) = await group.wait_for_messages(1)
    assert "撤回" in notice.text and group.message(summary.message_id).deleted
    staff_reply = group.send("请问还在吗", reply_to=summary.message_id)
    (told,) = await group.wait_for_messages(1)
    assert told.raw_text == zh.msg("handoff_staff_not_relayed")
    await settled(staff_bot, staff_reply)
    assert user.take_new_messages() == []
    async with staff_bot.services.storage.db.execute("SELECT COUNT(*) FROM cases") as cur:
        assert (await cur.fetchone())[0] == 0, "the staff reply made no case again"


async def test_messages_past_48_hours_stay_and_the_staff_are_asked_to_remove_them(data_dir, zh):
    now = [1_700_000_000.0]
    with FakeBotAPI(token="123456:TEST-token-never-in-logs", clock=lambda: now[0]) as fake:
        async with running_bot(fake, data_dir, staff_chat_id=STAFF_CHAT) as app:
            group = await staff_room(fake, app)
            user = await victim(fake, zh, with_file=False)
            summary, sent = await open_handoff(user, group, zh)
            now[0] += 49 * 3600  # two days later
            user.press(sent, zh.msg("btn_handoff_note"))
            await user.wait_for_messages(1)
            user.send("后来又打了")
            await user.wait_for_messages(1)
            (note,) = await group.wait_for_messages(1)
            user.send("/human")
            (screen,) = await user.wait_for_messages(1)
            user.press(screen, zh.msg("btn_handoff_withdraw"))
            (confirm,) = await user.wait_for_messages(1)
            user.press(confirm, zh.msg("btn_handoff_withdraw_confirm"))
            await user.wait_for_messages(2)
            (notice,) = await group.wait_for_messages(1)
        assert group.message(note.message_id).deleted, "the recent one goes even though the old one cannot"
        assert not group.message(summary.message_id).deleted
        assert "手动删除" in notice.text
        assert not fake.unexpected


# ---------------------------------------------------------------------------- the staff chat itself


async def test_the_bot_stays_in_the_staff_chat_and_leaves_other_groups(staff_bot, fake, zh):
    group = await staff_room(fake, staff_bot)
    chatter = group.send("/start")
    await settled(staff_bot, chatter)
    assert STAFF_CHAT not in fake.left_chats and group.take_new_messages() == []
    other = fake.group(-100555, fake.user(STAFF))
    other.send("/start")
    await other.wait_for_messages(1)
    await fake.wait_until(lambda: -100555 in fake.left_chats, 5)


async def test_a_staff_chat_that_refuses_the_bot_is_explained_to_the_victim(staff_bot, fake, zh):
    group = await staff_room(fake, staff_bot)
    await settled(staff_bot, group.kick_bot())
    user = await victim(fake, zh, with_file=False)
    screen = await consent_screen(user, zh)
    user.press(screen, zh.msg("btn_handoff_agree"))
    (msg,) = await user.wait_for_messages(1)
    assert msg.raw_text == zh.msg("handoff_unreachable"), "not told it was sent"
    fence = user.send("/status")
    await user.wait_for_messages(1)
    await settled(staff_bot, fence)
