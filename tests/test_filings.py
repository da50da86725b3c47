"""The filings tracker: a victim records a complaint, a police report and a lawsuit, sees them in
/status, gets the reminders they call for, and can correct or delete them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.features import reminders
from flows.filing import FILING, Filing
from flows.model import Message, Toast
from handlers.core import Services
from tests.chat import EngineChat

NOW = datetime(2026, 11, 5, 3, 0, tzinfo=UTC)  # 11:00 in Beijing


@pytest.fixture
def services(content, engine, storage):
    from config import Settings

    return Services(Settings(), content, engine, storage)


@pytest.fixture
def chat(services, monkeypatch):
    monkeypatch.setattr(reminders, "clock", lambda: NOW)
    return EngineChat(services)


async def records(chat, kind):
    async with chat.services.storage.transaction() as tx:
        return await tx.record_list(chat.case, kind)


async def record_complaint(chat, reference="GD-2026-1103"):
    await chat.send("/filings")
    await chat.click("➕ 投诉")
    assert "投诉交到了哪里" in chat.last.text
    await chat.click("金融监管总局12378")
    assert "哪一天投诉" in chat.last.text
    await chat.send("11月3日")
    assert "受理编号" in chat.last.text
    await chat.send(reference)


async def test_a_complaint_is_recorded_step_by_step_and_shown_in_status(chat):
    await chat.send("/filings")
    assert "还没有记录" in chat.last.text
    await record_complaint(chat)
    saved = chat.texts()
    assert "记下了" in saved and "金融监管总局12378" in saved and "2026年11月3日" in saved and "GD-2026-1103" in saved
    assert "⏰ 2026-11-18" in saved, "15 days after the complaint (content's reminders.yaml), said in the chat"
    ((rid, body),) = await records(chat, FILING)
    f = Filing.from_body(body)
    assert (f.type, f.channel, f.reference, f.complete) == ("complaint", "nfra_12378", "GD-2026-1103", True)

    await chat.send("/status")
    status = chat.last.text
    assert "递交过的材料：1 份" in status and "GD-2026-1103" in status


async def test_a_police_report_without_receipt_is_chased_until_the_receipt_comes(chat):
    await chat.send("/filings")
    await chat.click("➕ 报案")
    await chat.send("朝阳区某某派出所")
    await chat.click("今天")
    assert "接报案回执" in chat.last.text
    await chat.click("没拿到")
    assert "回执：没拿到" in chat.texts()
    ((rid, body),) = await records(chat, reminders.REMINDER)
    assert body["rule"] == "police_no_receipt"

    await chat.click("📮 我的记录")
    await chat.click("第1条")
    await chat.click("✅ 回执拿到了")
    assert "拿到了" in chat.texts()
    assert await records(chat, reminders.REMINDER) == [], "nothing left to chase"
    await chat.send("/filings")
    assert "回执：拿到了" in chat.last.text


async def test_every_question_can_be_skipped_and_stays_blank(chat):
    await chat.send("/filings")
    await chat.click("➕ 起诉")
    await chat.click("跳过")  # court
    await chat.click("跳过")  # date
    await chat.click("跳过")  # case number
    text = chat.texts()
    assert "起诉 · ＿＿＿＿ · ＿＿＿＿ · 案号：＿＿＿＿" in text, text
    ((_, body),) = await records(chat, FILING)
    f = Filing.from_body(body)
    assert f.court is None and f.on is None and f.case_no is None and f.complete
    assert f.noted == NOW.date(), "reminders count from the day it was recorded"


async def test_a_date_that_cannot_be_read_is_asked_again(chat):
    await chat.send("/filings")
    await chat.click("➕ 投诉")
    await chat.click("其他渠道")
    await chat.send("上个世纪吧")
    assert "没看懂这个日期" in chat.last.text
    await chat.send("明年3月1日")
    assert "没看懂这个日期" in chat.last.text, "a day still ahead is refused"
    await chat.send("2026-11-04")
    assert "受理编号" in chat.last.text
    ((_, body),) = await records(chat, FILING)
    assert body["on"] == "2026-11-04"


async def test_deleting_a_filing_cancels_its_reminder_and_old_buttons_are_stale(chat):
    await record_complaint(chat)
    assert len(await records(chat, reminders.REMINDER)) == 1
    await chat.click("📮 我的记录")
    listing = chat.last
    await chat.click("第1条")
    await chat.click("🗑 删除")
    await chat.click("确认删除这条")
    assert "已删除" in chat.texts()
    assert await records(chat, FILING) == [] and await records(chat, reminders.REMINDER) == []
    replies = await chat.click("第1条", listing)
    assert isinstance(replies[0], Toast) and replies[0].text, "a stale button is answered, not obeyed"


async def test_the_filings_screen_stays_within_eight_buttons(chat):
    for _ in range(6):
        await chat.send("/filings")
        await chat.click("➕ 起诉")
        for _ in range(3):
            await chat.click("跳过")
    await chat.send("/filings")
    screen = chat.last
    assert isinstance(screen, Message)
    assert sum(len(row) for row in screen.buttons) <= 8
    assert all(f"{n}. 起诉" in screen.text for n in range(1, 7)), "the list shows every filing"
