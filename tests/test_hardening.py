"""The review's findings that a person would hit: each test failed on the code before its fix."""

from __future__ import annotations

import asyncio
import errno

import pytest

from flows.engine import Engine
from flows.feature import Feature, Route
from flows.features import FEATURES
from flows.model import Press, Toast
from tests.chat import EngineChat
from tests.conftest import settled

USER = 555_000_111


@pytest.fixture
def services(content, engine, storage):
    from config import Settings
    from handlers.core import Services

    return Services(Settings(), content, engine, storage)


async def test_a_forged_huge_item_number_is_a_calm_answer(services, zh):
    chat = EngineChat(services)
    await chat.send("/start")
    for data in ("eo|" + "9" * 40, "c|" + "9" * 30 + "|other", "el|-1", "s|١", "edy|1e9"):
        replies = await chat.do(Press(data))
        assert isinstance(replies[0], Toast) and replies[0].text == zh.msg("stale_button"), data


async def test_a_bug_in_a_feature_is_not_taken_for_a_stale_button(content, storage):
    """A KeyError inside a handler is a bug: it must reach the error handler (and the log),
    not be answered as "this button is old"."""
    from config import Settings
    from handlers.core import Services

    async def broken(turn):
        return [{}["missing"]]

    engine = Engine(content, features=FEATURES + (Feature("broken", buttons={"zz": Route(broken)}),))
    chat = EngineChat(Services(Settings(), content, engine, storage))
    with pytest.raises(KeyError):
        await chat.do(Press("zz|"))


def test_two_features_cannot_claim_one_prefix(content):
    with pytest.raises(ValueError, match="already taken"):
        Engine(content, features=FEATURES + (Feature("again", buttons={"eo": Route(lambda t: None)}),))


async def test_language_lists_the_locales_and_switching_is_remembered(bot, fake, zh):
    user = fake.user(USER, language_code="fr")  # no French content: the default locale
    user.send("/language")
    (menu,) = await user.wait_for_messages(1)
    assert f"✓ {zh.msg('language_name')}" in menu.button_labels
    press = user.press(menu, f"✓ {zh.msg('language_name')}")
    answer = await user.wait_for_answer(press)
    assert answer.text == zh.msg("language_name")
    switched, node = await user.wait_for_messages(2)
    assert switched.raw_text == zh.msg("language_switched", name=zh.msg("language_name"))
    assert node.buttons


async def test_a_button_pressed_in_a_group_shows_nothing_there_and_changes_nothing(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/testimony")
    await user.wait_for_messages(1)
    user.send("他们给我妈打了三次电话")
    await user.wait_for_messages(2)
    group = fake.group(-100777, user)
    group.send("/start")
    (line,) = await group.wait_for_messages(1)
    press = group.press_data(line, "d|ok", from_user=user)  # a forged "delete everything" in a group
    await settled(bot, press)
    assert group.take_new_messages() == []
    user.send("/evidence")
    (listing,) = await user.wait_for_messages(1)
    assert "E-001" in listing.text, "nothing of the case was deleted"


async def test_one_chat_flooding_does_not_hold_up_the_others(bot, fake, zh):
    """Seventy messages of one chat queue behind its stalled upload: another person is still
    answered at once, and the flooding chat gets one calm line, not seventy replies."""
    slow = fake.user(111, language_code="zh")
    other = fake.user(222, language_code="zh")
    with fake._lock:  # the stall is in place before the bot can fetch the update
        upd = slow.send_document(b"x" * 100_000, "rec.m4a")
        gate = fake.delay_file(upd["message"]["document"]["file_id"])
    await fake.wait_until(lambda: fake.download_started(upd["message"]["document"]["file_id"]), 10)
    for i in range(70):
        slow.send(f"第{i}条")
    other.send("/start")
    (welcome,) = await other.wait_for_messages(1, timeout=10)
    assert welcome.buttons
    (notice,) = await slow.wait_for_messages(1, timeout=10)
    assert notice.raw_text == zh.msg("flood")
    gate.set()
    last = slow.send("/status")
    await settled(bot, last)
    replies = slow.take_new_messages()
    assert "E-001" in replies[0].text, "the upload itself is kept"
    assert zh.msg("flood") not in [m.raw_text for m in replies], "one notice per flood"
    read = [m for m in replies if m.raw_text == zh.msg("evidence_category_pending", no="E-001")]
    assert 0 < len(read) <= 30, "only what was queued before the flood limit is read"


async def test_a_full_disk_does_not_leave_the_bot_deaf(bot, fake, zh):
    """An upload is still downloading when the next poll would confirm it, so it must go into
    the journal first, and the journal fails (ENOSPC): polling survives, nothing is confirmed to
    Telegram while the update is safe nowhere, the person is told once, and everything is
    answered once there is room again."""
    storage = bot.services.storage
    real = storage.journal
    failures = {"left": 3}

    async def full(update_id, payload, chat_id=None):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        await real(update_id, payload, chat_id)

    storage.journal = full
    user = fake.user(USER, language_code="zh")
    with fake._lock:  # the stall is in place before the bot can fetch the update
        upd = user.send_document(b"a recording" * 1000, "call.m4a", "audio/mp4")
        gate = fake.delay_file(upd["message"]["document"]["file_id"])
    (notice,) = await user.wait_for_messages(1, timeout=20)
    assert notice.raw_text == zh.msg("journal_trouble")
    assert not fake.is_confirmed(upd["update_id"]), "not confirmed while the journal cannot hold it"
    await fake.wait_confirmed(upd, timeout=20)
    assert upd in await storage.pending_updates(), "confirmed only once it was in the journal"
    assert failures["left"] == 0
    other = fake.user(USER + 1, language_code="zh")
    other.send("/help")
    (help_msg,) = await other.wait_for_messages(1, timeout=10)
    assert help_msg.raw_text.startswith(zh.msg("help")[:20]), "still listening after the disk was full"
    gate.set()
    (receipt,) = await user.wait_for_messages(1, timeout=20)
    assert "E-001" in receipt.text


async def test_an_update_answered_at_once_needs_no_journal_row(bot, fake, zh):
    """Polling: a /start handled before the next poll is confirmed without a journal write
    (the write and its fsync were a quarter of the bot's own cost per update)."""
    storage = bot.services.storage
    written = []
    real = storage.journal

    async def counting(update_id, payload, chat_id=None):
        written.append(update_id)
        await real(update_id, payload, chat_id)

    storage.journal = counting
    user = fake.user(USER, language_code="zh")
    sent = user.send("/start")
    await user.wait_for_messages(1)
    await fake.wait_confirmed(sent)
    assert await storage.is_handled(sent["update_id"])
    assert written == []


@pytest.mark.backends("sqlite")  # PostgreSQL waits for the disk at every commit
async def test_a_step_is_answered_without_waiting_for_the_disk_and_a_file_only_once_it_is_on_it(
    bot, fake, zh, monkeypatch
):
    """A press that only moves the person through the guide commits on the loop (fsynced within a
    second); a file is reported saved only after its row was fsynced."""
    import storage.sqlite_conn as sqlite_conn

    storage = bot.services.storage
    journaled: list[int] = []
    real_journal = storage.journal

    async def journal(update_id, payload, chat_id=None):  # an update still handled at the next poll
        journaled.append(update_id)
        await real_journal(update_id, payload, chat_id)

    storage.journal = journal
    user = fake.user(USER, language_code="zh")
    fsynced: list[int] = []  # the messages the person had when the WAL was fsynced
    real_fsync = sqlite_conn._fsync_file

    def fsync(path):
        real_fsync(path)
        fsynced.append(len(user.history))

    monkeypatch.setattr(sqlite_conn, "SYNC_WITHIN", 60.0)
    monkeypatch.setattr(sqlite_conn, "_fsync_file", fsync)
    user.send("/start")  # a new case: its key is written durably
    (start,) = await user.wait_for_messages(1)
    assert fsynced, "the new case waited for the disk"
    before = len(fsynced)
    press = user.press_data(start, "s|2")  # the step bar's button for step 2
    (step,) = await user.wait_for_messages(1)
    await settled(bot, press)
    assert step.raw_text != start.raw_text
    assert len(fsynced) - before == len(journaled), "no fsync for the step itself"

    before = len(fsynced)
    shown = len(user.history)
    user.send_document(b"a recording" * 100, "call.m4a", "audio/mp4")
    (receipt,) = await user.wait_for_messages(1)
    assert "E-001" in receipt.text
    assert fsynced[before:] and fsynced[before] == shown, "on the disk before the person was told"


# ----------------------------------------------------------------------------- #10.9 one-time confirmations


def _data(message, label: str) -> str:
    return next(b.data for row in message.buttons for b in row if b.label == label)


async def test_a_cancelled_delete_cannot_be_confirmed_after_a_new_upload(bot, fake, zh):
    """/delete -> 取消 -> an upload -> the old 确认删除: nothing is deleted, a calm answer, and
    the cancel took the buttons off the confirmation."""
    user = fake.user(USER, language_code="zh")
    user.send("/delete")
    (confirm,) = await user.wait_for_messages(1)
    old_ok = _data(confirm, zh.msg("btn_confirm_delete"))
    user.press(confirm, zh.msg("btn_cancel"))
    (where,) = await user.wait_for_messages(1)
    cancelled = user.message(confirm.message_id)
    assert cancelled.raw_text == zh.msg("delete_cancelled") and not cancelled.buttons
    user.send_document(b"the new screenshot", "new.png")
    (receipt,) = await user.wait_for_messages(1)
    assert "E-001" in receipt.text
    press = user.press_data(confirm, old_ok)  # the old button, as an old client might still send it
    answer = await user.wait_for_answer(press)
    assert answer.text == zh.msg("confirm_expired_toast")
    await settled(bot, press)
    assert zh.msg("delete_done") not in [m.raw_text for m in user.take_new_messages()]
    user.send("/evidence")
    (listing,) = await user.wait_for_messages(1)
    assert "E-001" in listing.text, "nothing was deleted"


async def test_a_used_export_confirmation_does_not_export_twice(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send_document(b"a recording", "call.m4a")
    await user.wait_for_messages(1)
    user.send("/export")
    (confirm,) = await user.wait_for_messages(1)
    ok = _data(confirm, zh.msg("btn_confirm_export"))
    user.press(confirm, zh.msg("btn_confirm_export"))
    first = await user.wait_for_messages(2, timeout=20)
    assert [m for m in first if m.document], "the first press exports"
    assert not user.message(confirm.message_id).buttons, "the confirmation lost its buttons"
    again = user.press_data(confirm, ok)
    answer = await user.wait_for_answer(again)
    assert answer.text == zh.msg("confirm_expired_toast")
    await settled(bot, again)
    assert not [m for m in user.take_new_messages() if m.document], "no second export"
    assert len(fake.calls("sendDocument")) == 1


async def test_only_the_newest_confirmation_works_and_an_item_delete_works_once(services, zh):
    chat = EngineChat(services)
    await chat.send("/testimony")
    await chat.send("他们打给了我妈")
    first = (await chat.send("/delete"))[-1]
    second = (await chat.send("/delete"))[-1]
    replies = await chat.do(Press(_data(first, zh.msg("btn_confirm_delete"))))
    assert isinstance(replies[0], Toast) and replies[0].text == zh.msg("confirm_expired_toast")
    assert await services.storage.evidence(chat.case), "a replaced confirmation deletes nothing"
    await chat.do(Press(_data(second, zh.msg("btn_cancel"))))

    await chat.do(Press("ed|1"))
    ask = chat.last
    await chat.do(Press(_data(ask, zh.msg("btn_cancel"))))
    assert chat.last.edit and "E-001" in chat.last.text, "the cancel turns the confirmation back into the item"
    replies = await chat.do(Press(_data(ask, zh.msg("btn_confirm_delete_item"))))
    assert replies[0].text == zh.msg("confirm_expired_toast") and await services.storage.evidence(chat.case)
    await chat.do(Press("ed|1"))
    ok = _data(chat.last, zh.msg("btn_confirm_delete_item"))
    await chat.do(Press(ok))
    assert chat.last.text == zh.msg("evidence_item_deleted", no="E-001")
    assert not await services.storage.evidence(chat.case)
    replies = await chat.do(Press(ok))
    assert replies[0].text == zh.msg("confirm_expired_toast")


async def test_an_old_confirmation_is_not_taken(services, zh, monkeypatch):
    from datetime import timedelta

    from flows import confirm

    chat = EngineChat(services)
    await chat.send("/testimony")
    await chat.send("他们打给了我妈")
    ask = (await chat.send("/delete"))[-1]
    later = confirm.now() + confirm.TTL + timedelta(seconds=1)
    monkeypatch.setattr(confirm, "now", lambda: later)
    replies = await chat.do(Press(_data(ask, zh.msg("btn_confirm_delete"))))
    assert replies[0].text == zh.msg("confirm_expired_toast")
    assert await services.storage.evidence(chat.case)


# ----------------------------------------------------------------------------- #10.8 deletion honesty


@pytest.mark.backends("sqlite")  # a second reader of the SQLite file holds the WAL
async def test_a_deletion_held_up_by_a_reader_says_it_is_finishing(bot, fake, zh, data_dir):
    """A second sqlite3 connection (a backup, a shell) holds old pages: the person is told the
    deletion is finishing, not that everything is gone; maintenance finishes it later."""
    import sqlite3

    user = fake.user(USER, language_code="zh")
    user.send("/delete")
    (confirm,) = await user.wait_for_messages(1)
    reader = sqlite3.connect(data_dir / "shouhu.db")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM cases").fetchall()  # a snapshot from before the deletion
        user.press(confirm, zh.msg("btn_confirm_delete"))
        (said,) = await user.wait_for_messages(1)
        assert said.raw_text == zh.msg("delete_finishing")
    finally:
        reader.close()
    report = await bot.services.storage.maintenance()
    assert not report.wipe_pending
    user.send("/delete")
    (confirm,) = await user.wait_for_messages(1)
    user.press(confirm, zh.msg("btn_confirm_delete"))
    (said,) = await user.wait_for_messages(1)
    assert said.raw_text == zh.msg("delete_done"), "without a reader, done means done"


# ----------------------------------------------------------------------------- #10.4 exports capped


class HeldOutput:
    """An Output whose files wait on a gate: an export that takes as long as the test likes."""

    def __init__(self, hold: bool = False):
        self.shown: list[str] = []
        self.files: list[str] = []
        self.hold = hold
        self.gate = asyncio.Event()
        self.changed = asyncio.Event()

    async def toast(self, text: str) -> None:
        pass

    async def show(self, msg) -> None:
        self.shown.append(msg.text)
        self.changed.set()

    async def send_file(self, path, caption=None) -> None:
        self.files.append(path.name)
        self.changed.set()
        if self.hold:
            await self.gate.wait()

    async def delete_messages(self, ids) -> None:
        pass

    async def until(self, predicate) -> None:
        while not predicate():
            self.changed.clear()
            await self.changed.wait()


async def test_exports_past_the_cap_wait_with_a_word_and_past_the_queue_are_asked_later(services, zh, monkeypatch):
    from flows.model import Export
    from handlers import delivery

    monkeypatch.setattr(delivery, "MAX_EXPORTS", 1)
    monkeypatch.setattr(delivery, "MAX_EXPORTS_WAITING", 1)
    cases = []
    for chat_id in (1, 2, 3):
        chat = EngineChat(services, chat_id=chat_id)
        await chat.send("/testimony")
        await chat.send(f"第 {chat_id} 个人的经过")
        cases.append(chat.case)
    first, second, third = HeldOutput(hold=True), HeldOutput(), HeldOutput()
    running = asyncio.create_task(delivery.deliver(services, cases[0], [Export()], first))
    await first.until(lambda: first.files)
    waiting = asyncio.create_task(delivery.deliver(services, cases[1], [Export()], second))
    await second.until(lambda: second.shown)
    assert second.shown == [zh.msg("export_busy")] and not second.files, "told to wait, not left in silence"
    await delivery.deliver(services, cases[2], [Export()], third)
    assert third.shown == [zh.msg("export_busy_later")] and not third.files
    first.gate.set()
    await asyncio.gather(running, waiting)
    assert len(second.files) == 1, "the waiting export ran once a slot was free"
    assert second.shown[-1] == zh.msg("export_done", count=1, parts=1)


# ----------------------------------------------------------------------------- #10.11 the terminal's files


async def test_the_terminal_keeps_its_exports_private_and_delete_removes_them(services, zh, tmp_path):
    import io
    import stat

    from handlers.terminal import Terminal

    out_dir = tmp_path / "shouhu-out"
    term = Terminal(services, io.StringIO(), out_dir)

    async def press(label: str) -> None:
        await term.handle(Press(next(b.data for b in term.buttons if b.label == label)))

    await term.handle(await term.event_for("/testimony"))
    await term.handle(await term.event_for("他们打给了我妈"))
    await term.handle(await term.event_for("/export"))
    await press(zh.msg("btn_confirm_export"))
    (zipped,) = list(out_dir.glob("*.zip"))
    assert stat.S_IMODE(zipped.stat().st_mode) == 0o600 and stat.S_IMODE(out_dir.stat().st_mode) & 0o077 == 0
    await term.handle(await term.event_for("/delete"))
    await press(zh.msg("btn_confirm_delete"))
    assert list(out_dir.iterdir()) == [], "the plaintext export went with the case"


# ----------------------------------------------------------------------------- #10.14 upkeep on a timer


@pytest.mark.backends("sqlite")  # a second reader of the SQLite file holds the WAL
async def test_a_pending_wipe_finishes_by_itself_once_the_reader_lets_go(storage, data_dir):
    """Not at the next start: the upkeep timer retries a held-up wipe until it is done."""
    import sqlite3

    from handlers.upkeep import Upkeep
    from storage.base import CaseKey

    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(77), "zh-CN", "welcome")
    reader = sqlite3.connect(data_dir / "shouhu.db")
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM cases").fetchall()
    async with storage.transaction() as tx:
        await tx.case_delete(case)
    assert storage.wipe_pending
    running = Upkeep()
    running.start(storage, every=3600, pending_every=0.01)
    try:
        reader.close()

        async def wiped() -> None:
            while storage.wipe_pending:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(wiped(), 10)
    finally:
        await running.stop()
