"""A victim on Telegram: the real Application against the strict fake Bot API server."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update

from tests.conftest import TOKEN, running_bot, settled

USER = 987654321


def to_step(msg, step) -> str:
    """The callback data of the button on ``msg`` that leads to ``step`` (step bar or menu)."""
    return next(
        b.data for row in msg.buttons for b in row if b.data == f"s|{step.n}" or b.data.endswith(f"|{step.node}")
    )


def go_label(loc, node_id: str, target: str) -> str:
    return next(b.label for row in loc.nodes[node_id].buttons for b in row if b.go == target)


async def test_five_steps_ticks_and_status_on_telegram(bot, fake, zh):
    user = fake.user(USER, "小李", language_code="zh-hans")
    user.send("/start")
    (welcome,) = await user.wait_for_messages(1)
    assert "/privacy" in welcome.text and "/delete" in welcome.text
    user.press(welcome, go_label(zh, zh.start, "menu"))
    (menu,) = await user.wait_for_messages(1)
    last = menu
    for step in zh.steps:
        user.press(last, to_step(last, step))
        (msg,) = await user.wait_for_messages(1)
        node = zh.nodes[step.node]
        assert msg.raw_text.startswith(node.text.strip())
        item = zh.checklists[node.checklist].items[0]
        user.press(msg, next(label for label in msg.button_labels if label.startswith("📋")))
        (checklist,) = await user.wait_for_messages(1)
        user.press(checklist, f"☐ {item.text}")
        edited = await user.wait_for_edit(checklist)
        assert f"☑ {item.text}" in edited.button_labels
        last = msg
    user.send("/status")
    (status,) = await user.wait_for_messages(1)
    for step in zh.steps:
        line = next(l for l in status.text.splitlines() if step.title in l)
        assert "1/" in line
    assert not fake.unanswered_callbacks(), "every button press stops the spinner"


async def test_restart_in_the_middle_and_press_an_old_button(fake, data_dir, zh):
    user = fake.user(USER, language_code="zh")
    async with running_bot(fake, data_dir):
        user.send("/start")
        (welcome,) = await user.wait_for_messages(1)
        user.press(welcome, go_label(zh, zh.start, "menu"))
        (menu,) = await user.wait_for_messages(1)
    async with running_bot(fake, data_dir):
        user.press(menu, to_step(menu, zh.steps[3]))
        (msg,) = await user.wait_for_messages(1)
        assert msg.raw_text.startswith(zh.nodes[zh.steps[3].node].text.strip())
        user.send("/status")
        (status,) = await user.wait_for_messages(1)
        assert zh.msg("status_here").strip() in next(l for l in status.text.splitlines() if zh.steps[3].title in l)


async def test_redelivered_update_changes_nothing(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/start")
    (welcome,) = await user.wait_for_messages(1)
    press = user.press(welcome, go_label(zh, zh.start, "menu"))
    await user.wait_for_messages(1)
    user.send("/status")
    await user.wait_for_messages(1)
    await bot.update_queue.put(Update.de_json(press, bot.bot))  # Telegram sends it again
    user.send("/help")  # a fence: one chat's updates are handled in order
    (only,) = await user.wait_for_messages(1)
    assert only.raw_text.startswith(zh.msg("help")[:20]), "the redelivered press changed nothing and said nothing"


async def test_forged_button_is_answered_and_shows_where_you_are(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/start")
    (welcome,) = await user.wait_for_messages(1)
    upd = user.press_data(welcome, "g|welcome|../../etc/passwd")
    answer = await user.wait_for_answer(upd)
    assert answer.text == zh.msg("stale_button")
    (again,) = await user.wait_for_messages(1)
    assert again.button_labels == welcome.button_labels


async def test_free_text_and_unknown_commands_are_answered(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("在吗")
    (msg,) = await user.wait_for_messages(1)
    assert zh.nodes[zh.start].title in msg.text and msg.buttons, "where you are, and what you can do"
    user.send("/whatever")
    (msg,) = await user.wait_for_messages(1)
    assert msg.raw_text == zh.msg("unknown_command") and msg.buttons


async def test_crisis_words_bring_12356_first(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/start")
    await user.wait_for_messages(1)
    user.send("我真的活不下去了")
    (msg,) = await user.wait_for_messages(1)
    assert "12356" in msg.text


async def test_group_gets_one_line_and_the_bot_leaves(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    group = fake.group(-100123, user)
    first = group.send("/start")
    (line,) = await group.wait_for_messages(1)
    assert line.raw_text == zh.msg("group_chat")
    await fake.wait_until(lambda: -100123 in fake.left_chats, 5)
    other = fake.group(-200456, user)
    added = other.add_bot()
    (line,) = await other.wait_for_messages(1)
    await fake.wait_until(lambda: -200456 in fake.left_chats, 5)
    await settled(bot, first)
    await settled(bot, added)
    assert group.take_new_messages() == [] and other.take_new_messages() == []


async def test_429_and_502_are_survived(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    fake.fail_next("sendMessage", 429, retry_after=1)
    user.send("/start")
    (welcome,) = await user.wait_for_messages(1, timeout=15)
    fake.fail_next("sendMessage", 502, times=2)
    fake.fail_next("answerCallbackQuery", 502)
    upd = user.press(welcome, go_label(zh, zh.start, "menu"))
    await user.wait_for_messages(1, timeout=15)
    await user.wait_for_answer(upd)
    fake.fail_next("getUpdates", 502, times=2)
    user.send("/help")
    (help_msg,) = await user.wait_for_messages(1, timeout=15)
    assert help_msg.raw_text.startswith(zh.msg("help")[:20])


async def test_logs_hold_no_token_and_nothing_the_victim_wrote(bot, fake, zh, caplog):
    from bot import setup_logging

    setup_logging()  # the levels production runs with
    caplog.set_level(logging.INFO)
    user = fake.user(USER, language_code="zh")
    fake.fail_next("sendMessage", 502)
    user.send("/start")
    await user.wait_for_messages(1, timeout=15)
    user.send("我的身份证号是 110101199001011234")
    await user.wait_for_messages(1)
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "110101199001011234" not in logged


async def test_a_slow_upload_in_one_chat_does_not_hold_up_another(bot, fake, zh):
    slow = fake.user(111, language_code="zh")
    other = fake.user(222, language_code="zh")
    with fake._lock:  # the stall is in place before the bot can fetch the update
        upd = slow.send_document(b"x" * 200_000, "rec.m4a")
        gate = fake.delay_file(upd["message"]["document"]["file_id"])
    await fake.wait_until(lambda: fake.download_started(upd["message"]["document"]["file_id"]), 10)
    slow.send("/status")  # queued behind the upload: one chat's updates stay in order
    other.send("/start")
    (welcome,) = await other.wait_for_messages(1)
    assert welcome.buttons
    assert slow.take_new_messages() == []
    gate.set()
    receipt, status = await slow.wait_for_messages(2)
    assert "E-001" in receipt.text and zh.msg("status_header").replace("<b>", "").replace("</b>", "") in status.text


async def test_a_failure_gets_a_calm_apology_not_silence(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    fake.fail_next("sendMessage", 500, times=5)  # every retry of the reply fails
    user.send("/start")
    (apology,) = await user.wait_for_messages(1, timeout=20)
    assert apology.raw_text == zh.msg("error")
    user.send("/start")
    (welcome,) = await user.wait_for_messages(1)
    assert "/privacy" in welcome.text


async def test_command_menu_comes_from_content(bot, fake, content):
    assert fake.commands, "setMyCommands was called"
    for (_scope, lang), menu in fake.commands.items():
        loc = content.for_language(lang or None)  # each language's menu in its own words
        assert {c["command"] for c in menu} >= {"start", "help", "status", "evidence", "export", "delete", "privacy"}
        assert {c["description"] for c in menu} >= {loc.msg("command_delete"), loc.msg("command_export")}


async def test_a_sticker_is_answered_and_an_edit_is_not_a_new_message(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/testimony")
    await user.wait_for_messages(1)
    sent = user.send("他们打给了我爸")
    msgs = await user.wait_for_messages(2)
    assert "E-001" in msgs[-1].text
    user.edit_sent(sent, "他们打给了我爸和我妈")  # an edit is not a second testimony
    sticker = user.send_sticker()
    (msg,) = await user.wait_for_messages(1)
    assert zh.nodes[zh.start].title in msg.text, "a sticker gets the where-you-are answer"
    await settled(bot, sticker)
    assert user.take_new_messages() == []


async def test_many_victims_at_once_each_in_order(bot, fake, zh):
    users = [fake.user(10_000 + i, language_code="zh") for i in range(20)]
    for u in users:
        u.send("/start")

    async def walk(user):
        (msg,) = await user.wait_for_messages(1, timeout=20)
        for step in zh.steps:
            user.press(msg, f"s|{step.n}" if step.n > 1 else go_label(zh, zh.start, "stop_paying"))
            (msg,) = await user.wait_for_messages(1, timeout=20)
            assert msg.raw_text.startswith(zh.nodes[step.node].text.strip())
        user.send("/status")
        (status,) = await user.wait_for_messages(1, timeout=20)
        return status

    statuses = await asyncio.gather(*(walk(u) for u in users))
    for status in statuses:
        assert zh.msg("status_here").strip() in next(l for l in status.text.splitlines() if zh.steps[-1].title in l)
    assert not fake.unanswered_callbacks()


async def test_polling_journals_each_update_as_telegram_sent_it(fake, data_dir):
    """What the journal replays after a crash is Telegram's own JSON, fields python-telegram-bot
    does not know included, not the library's re-serialisation of it."""
    from tests.test_process import DATA

    user = fake.user(616161, language_code="zh")
    async with running_bot(fake, data_dir) as app:
        with fake._lock:  # the bot cannot fetch the update before the stall is in place
            user.send_document(DATA, "call.m4a", "audio/mp4")
            upd = fake.all_updates[-1]  # what the fake will serve
            upd["message"]["some_future_field"] = {"added": "by a newer Bot API"}
            gate = fake.delay_file(upd["message"]["document"]["file_id"])
        await fake.wait_until(lambda: fake.is_confirmed(upd["update_id"]), 10)
        assert upd in await app.services.storage.pending_updates()
        gate.set()
        (receipt,) = await user.wait_for_messages(1, timeout=20)
        assert "E-001" in receipt.text
