"""The review's findings that a person would hit: each test failed on the code before its fix."""

from __future__ import annotations

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
    """Journaling fails (ENOSPC): polling must survive, the person is told once, and their
    message is handled as soon as there is room again."""
    storage = bot.services.storage
    real = storage.journal
    failures = {"left": 3}

    async def full(update_id, payload):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        await real(update_id, payload)

    storage.journal = full
    user = fake.user(USER, language_code="zh")
    user.send("/start")
    notice, welcome = await user.wait_for_messages(2, timeout=20)
    assert notice.raw_text == zh.msg("journal_trouble")
    assert "/privacy" in welcome.text
    user.send("/help")
    (help_msg,) = await user.wait_for_messages(1, timeout=10)
    assert help_msg.raw_text.startswith(zh.msg("help")[:20]), "still listening after the disk was full"
