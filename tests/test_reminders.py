"""Reminders: planned from filings, kept in the database, sent once (also across a restart),
turned off by the victim, erased by /delete. The tests choose the time; nothing sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.feature import Turn
from flows.features import reminders
from flows.filing import FILING, Filing
from handlers import reminders as timer
from handlers.core import Services
from storage.base import CaseKey
from tests.chat import EngineChat
from tests.conftest import running_bot, settled

NOW = datetime(2026, 11, 5, 3, 0, tzinfo=UTC)
USER = 777000111


@pytest.fixture
def services(content, engine, storage):
    from config import Settings

    return Services(Settings(), content, engine, storage)


@pytest.fixture
def chat(services, monkeypatch):
    monkeypatch.setattr(reminders, "clock", lambda: NOW)
    return EngineChat(services)


async def pending(storage, chat_id: int = 42):
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(chat_id), "zh-CN", "welcome")
        return await tx.record_list(case, reminders.REMINDER)


async def complaint_and_police(chat):
    await chat.send("/filings")
    await chat.click("➕ 投诉")
    await chat.click("互联网金融协会")
    await chat.click("今天")
    await chat.click("跳过")
    await chat.click("➕ 报案")
    await chat.click("跳过")
    await chat.click("今天")
    await chat.click("没拿到")


async def test_reminders_are_due_by_content_at_ten_in_the_morning(chat, zh):
    await complaint_and_police(chat)
    due = sorted(
        d.due_at for d in await chat.services.storage.due_records(reminders.REMINDER, NOW + timedelta(days=60))
    )
    rules = zh.drafts.reminders
    beijing = [d.astimezone(zh.tz) for d in due]
    assert [b.date() for b in beijing] == [
        (NOW + timedelta(days=rules["police_no_receipt"].after_days)).date(),
        (NOW + timedelta(days=rules["complaint_no_answer"].after_days)).date(),
    ]
    assert all(b.hour == reminders.SEND_HOUR for b in beijing), "never at night"


async def test_turning_reminders_off_cancels_the_pending_ones_and_plans_no_new(chat):
    storage = chat.services.storage
    await complaint_and_police(chat)
    assert len(await pending(storage)) == 2
    await chat.send("/reminders")
    assert "2 条提醒等着发" in chat.last.text
    await chat.click("🔕 不再提醒")
    assert "2 条还没发的提醒已取消" in chat.texts()
    assert await pending(storage) == []
    assert await storage.due_records(reminders.REMINDER, NOW + timedelta(days=365)) == []

    await chat.send("/filings")
    await chat.click("➕ 起诉")
    for _ in range(3):
        await chat.click("跳过")
    assert "⏰" not in chat.texts(), "no promise of a reminder while they are off"
    assert await pending(storage) == []

    await chat.send("/reminders")
    await chat.click("🔔 打开提醒")
    assert "3 条提醒会按时发来" in chat.texts(), "turned on again: what is still ahead is planned again"


async def test_delete_erases_pending_reminders(chat):
    storage = chat.services.storage
    await complaint_and_police(chat)
    assert await storage.due_records(reminders.REMINDER, NOW + timedelta(days=365))
    await chat.send("/delete")
    await chat.click("确认删除")
    assert await storage.due_records(reminders.REMINDER, NOW + timedelta(days=365)) == []


async def test_a_fired_reminder_says_what_to_do_and_names_its_source(chat, zh):
    await complaint_and_police(chat)
    storage = chat.services.storage
    later = NOW + timedelta(days=20)
    texts = []
    for due in await storage.due_records(reminders.REMINDER, later):
        async with storage.transaction() as tx:
            turn = Turn(chat.services.engine, due.case, zh, tx)
            fired = await reminders.fire(turn, due.rid)
            assert fired is not None
            texts.append(fired.replies[0].text)
    complaint = next(t for t in texts if "投诉" in t and "到今天" in t)
    rule = zh.drafts.reminders["complaint_no_answer"]
    assert rule.source in complaint and rule.as_of in complaint and "互联网金融协会" in complaint
    police = next(t for t in texts if "接报案回执" in t)
    assert zh.drafts.reminders["police_no_receipt"].source in police
    assert await storage.due_records(reminders.REMINDER, later) == [], "each fires once"
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(42), "zh-CN", "welcome")
        reminded = {r for _, b in await tx.record_list(case, FILING) for r in Filing.from_body(b).reminded}
    assert reminded == {"complaint_no_answer", "police_no_receipt"}


async def test_a_reminder_whose_receipt_came_is_not_sent(chat, zh):
    await complaint_and_police(chat)
    storage = chat.services.storage
    async with storage.transaction() as tx:  # the 回执 came, and an older build left its reminder in place
        case = await tx.case(CaseKey(42), "zh-CN", "welcome")
        rid, body = (await tx.record_list(case, FILING))[1]
        await tx.record_put(case, FILING, rid, Filing.from_body(body).with_(receipt=True).to_body())
    sent = []
    for due in await storage.due_records(reminders.REMINDER, NOW + timedelta(days=5)):
        async with storage.transaction() as tx:
            sent.append(await reminders.fire(Turn(chat.services.engine, due.case, zh, tx), due.rid))
    assert sent == [None]


# ----------------------------------------------------------------------------- across a restart, on Telegram


async def record_complaint_on_telegram(user):
    user.send("/filings")
    (screen,) = await user.wait_for_messages(1)
    user.press(screen, "➕ 投诉")
    (ask,) = await user.wait_for_messages(1)
    user.press(ask, "金融监管总局12378")
    (ask,) = await user.wait_for_messages(1)
    user.press(ask, "今天")
    (ask,) = await user.wait_for_messages(1)
    user.send("GD-77")
    (saved,) = await user.wait_for_messages(1)
    assert "⏰" in saved.text
    return saved


async def test_a_reminder_set_before_a_restart_fires_once_after_it(fake, data_dir, zh):
    user = fake.user(USER, language_code="zh-hans")
    async with running_bot(fake, data_dir):
        await record_complaint_on_telegram(user)
    async with running_bot(fake, data_dir) as app:  # a new process: only the database remembers
        (due,) = await app.services.storage.due_records(reminders.REMINDER, datetime.now(UTC) + timedelta(days=30))
        assert await timer.send_due(app, due.due_at + timedelta(minutes=1)) == 1
        (reminder,) = await user.wait_for_messages(1)
        assert "跟进提醒" in reminder.text and "金融监管总局12378" in reminder.text
        assert zh.drafts.reminders["complaint_no_answer"].source in reminder.text
        assert "🔕 不再提醒" in reminder.button_labels
        assert await timer.send_due(app, due.due_at + timedelta(days=30)) == 0, "once"
        user.send("/reminders")
        (screen,) = await user.wait_for_messages(1)
        assert "0 条提醒等着发" in screen.text
    assert not fake.unexpected, fake.unexpected


async def test_the_timer_sends_what_fell_due_while_the_bot_was_down(fake, data_dir):
    user = fake.user(USER, language_code="zh-hans")
    async with running_bot(fake, data_dir) as app:
        await record_complaint_on_telegram(user)
        storage = app.services.storage
        async with storage.transaction() as tx:  # as if the bot had been down past the due time
            case = await tx.case(CaseKey(USER), "zh-CN", "welcome")
            ((rid, body),) = await tx.record_list(case, reminders.REMINDER)
            await tx.record_put(case, reminders.REMINDER, rid, body, due_at=datetime.now(UTC) - timedelta(hours=1))
    async with running_bot(fake, data_dir) as app:  # the timer's first wake-up comes at start
        (reminder,) = await user.wait_for_messages(1)
        assert "跟进提醒" in reminder.text
        user.send("/reminders")
        (screen,) = await user.wait_for_messages(1)
        assert "0 条提醒等着发" in screen.text
    assert not fake.unexpected, fake.unexpected


async def test_turning_off_from_the_reminder_itself(fake, data_dir):
    user = fake.user(USER, language_code="zh-hans")
    async with running_bot(fake, data_dir) as app:
        await record_complaint_on_telegram(user)
        await record_complaint_on_telegram(user)
        first = min(
            d.due_at
            for d in await app.services.storage.due_records(reminders.REMINDER, datetime.max.replace(tzinfo=UTC))
        )
        # both are due the same morning: send them, then turn off from the first one
        assert await timer.send_due(app, first + timedelta(minutes=1)) == 2
        one, _ = await user.wait_for_messages(2)
        await record_complaint_on_telegram(user)
        update = user.press(one, "🔕 不再提醒")
        (off,) = await user.wait_for_messages(1)
        assert "1 条还没发的提醒已取消" in off.text
        await settled(app, update)
        assert await timer.send_due(app, first + timedelta(days=60)) == 0
    assert not fake.unexpected, fake.unexpected
