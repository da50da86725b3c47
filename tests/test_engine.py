"""The conversation without Telegram: a victim walks the five steps through the engine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.model import Message, Press, Toast
from flows.screens import render
from handlers.core import Services
from tests.backends import db_run, reopen
from tests.chat import EngineChat


@pytest.fixture
def services(content, engine, storage):
    from config import Settings

    return Services(Settings(), content, engine, storage)


@pytest.fixture
def chat(services):
    return EngineChat(services)


async def test_start_welcomes_and_says_how_to_leave(chat, zh):
    await chat.send("/start")
    assert chat.case.node == zh.start
    assert "/privacy" in chat.last.text and "/delete" in chat.last.text
    assert chat.last.buttons, "the welcome must offer a first choice"


async def test_walk_every_step_tick_and_status(chat, zh):
    await chat.send("/start")
    for step in zh.steps:
        await chat.jump(step.n)
        assert chat.case.node == step.node
        node = zh.nodes[step.node]
        assert node.step == step.n
        if node.checklist:
            first = zh.checklists[node.checklist].items[0]
            await chat.click("📋")
            await chat.click(first.text)
            assert chat.last.edit, "ticking edits the checklist in place"
            assert chat.button(first.text).label.startswith("☑")
    await chat.send("/status")
    lines = chat.last.text.splitlines()
    for step in zh.steps:
        line = next(l for l in lines if step.title in l)
        assert "1/" in line, f"step {step.n} should show one item ticked: {line}"
    assert zh.msg("status_here").strip() in next(l for l in lines if zh.steps[-1].title in l)


async def test_untick(chat, zh):
    step = zh.steps[1]
    await chat.send("/start")
    await chat.jump(step.n)
    item = zh.checklists[zh.nodes[step.node].checklist].items[0]
    await chat.click("📋")
    await chat.click(item.text)
    await chat.click(item.text)
    assert chat.button(item.text).label.startswith("☐")
    assert not chat.case.ticks


async def test_every_content_button_leads_where_it_says(chat, zh):
    for node in zh.nodes.values():
        for row in node.buttons:
            for b in row:
                if b.go:
                    await chat.do(Press(f"g|{node.id}|{b.go}"))
                    assert chat.case.node == b.go, f"{node.id} -> {b.label}"


async def test_old_message_button_still_works(chat, zh):
    await chat.send("/start")
    welcome = chat.last
    await chat.jump(4)
    first = next(b for row in zh.nodes[zh.start].buttons for b in row if b.go)
    await chat.click(first.label, welcome)
    assert chat.case.node == first.go


@pytest.mark.parametrize(
    "data", ["g|nowhere|welcome", "g|welcome|nowhere", "s|9", "t|welcome|x", "zz", "", "c|1|other", "eo|x"]
)
async def test_forged_or_stale_button_answers_and_shows_where_you_are(chat, zh, data):
    await chat.send("/start")
    await chat.jump(3)
    replies = await chat.do(Press(data))
    assert any(isinstance(r, Toast) and r.text for r in replies)
    assert chat.case.node == zh.steps[2].node
    assert chat.last.text == render(chat.case, zh).text


async def test_distress_words_bring_the_crisis_message_first(chat, zh):
    await chat.send("/start")
    await chat.jump(2)
    await chat.send(f"我真的{zh.crisis_words[0]}了")
    messages = [r for r in chat.replies if isinstance(r, Message)]
    assert messages[0].text == zh.crisis_text
    assert "12356" in messages[0].text
    assert chat.case.node == zh.steps[1].node, "the conversation goes on where it was"


async def test_unexpected_text_gets_help_not_silence(chat, zh):
    await chat.send("/start")
    await chat.send("你好？")
    assert zh.nodes[zh.start].title in chat.texts()
    assert chat.last.buttons


async def test_unknown_command_is_answered(chat, zh):
    await chat.send("/frobnicate")
    assert zh.msg("unknown_command") in chat.texts()


async def test_progress_survives_a_restart(services, zh, data_dir):
    chat = EngineChat(services)
    await chat.send("/start")
    await chat.jump(2)
    item = zh.checklists[zh.nodes[zh.steps[1].node].checklist].items[0]
    await chat.click("📋")
    await chat.click(item.text)
    await services.storage.close()
    services = replace(services, storage=await reopen(services.storage))
    try:
        again = EngineChat(services)
        await again.do(Press("h|"))
        assert again.case.node == zh.steps[1].node
        assert again.button("📋").label.endswith(f"1/{len(zh.checklists[zh.nodes[zh.steps[1].node].checklist].items)}")
        await again.click("📋")
        assert again.button(item.text).label.startswith("☑")
    finally:
        await services.storage.close()


async def test_content_change_never_strands_a_user(services, zh):
    chat = EngineChat(services)
    await chat.send("/start")
    await db_run(services.storage, "UPDATE cases SET node = 'removed_in_new_content'")
    await chat.send("hello")
    assert chat.case.node == zh.start


async def test_random_callback_data_never_breaks_the_engine(chat, zh):
    """Whatever a forged button carries, the user gets an answer and the current node."""
    import random

    rng = random.Random(20261129)
    alphabet = "gstahcnelodxy|0123456789-_ 中文" + "".join(zh.nodes)[:40]
    await chat.send("/start")
    for _ in range(300):
        data = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        prefix = rng.choice(["", "g|", "t|", "c|", "e", "el|", "eo|", "x|", "d|n", "s|"])
        replies = await chat.do(Press((prefix + data)[:64]))
        assert isinstance(replies[0], Toast) and len(replies) >= 2, data  # spinner stopped, and something shown
    assert chat.case.node in zh.nodes
