"""Content reload while the bot runs (/reload, SIGHUP): invalid content is refused whole and the old
keeps serving; valid content is swapped in, the menu follows it, and a person whose page is gone
continues from the start of their step with a short note, their ticks kept."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings
from flows.content import load_content
from flows.engine import Engine
from flows.model import Press
from handlers.core import Services
from handlers.reload import STEPS_FILE, remember_steps
from tests.chat import EngineChat
from tests.conftest import CONTENT_DIR, MASTER_KEY, ROOT, TOKEN, running_bot, settled
from tests.test_process import stop

ADMIN = 700001
VICTIM = 800002
GONE = "evidence_how"  # a page of step 2 that is not the step's first


@pytest.fixture
def content_copy(tmp_path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, folder)
    return folder


def edit(folder: Path, pattern: str, replacement: str, files: str = "*.yaml") -> None:
    """Apply a regular-expression edit to the locale's files, as an operator would by hand."""
    changed = 0
    for path in (folder / "zh-CN").glob(files):
        text = path.read_text(encoding="utf-8")
        new = re.sub(pattern, replacement, text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    assert changed, f"{pattern!r} is in no file"


def rename_node(folder: Path, old: str, new: str) -> None:
    edit(folder, rf"\b{old}\b", new)


async def walk_to(user, zh, node_id: str):
    """From /start to ``node_id`` of step 2 through the buttons; returns the message showing it."""
    user.send("/start")
    (welcome,) = await user.wait_for_messages(1)
    user.press(welcome, next(b.label for row in zh.nodes[zh.start].buttons for b in row if b.go == "menu"))
    (menu,) = await user.wait_for_messages(1)
    user.press_data(menu, "s|2")
    (step,) = await user.wait_for_messages(1)
    label = next(b.label for row in zh.nodes[zh.steps[1].node].buttons for b in row if b.go == node_id)
    user.press(step, label)
    (page,) = await user.wait_for_messages(1)
    assert page.raw_text.startswith(zh.nodes[node_id].text.strip()[:20])
    return page


async def test_invalid_content_is_refused_with_its_problems_and_the_old_keeps_serving(fake, data_dir, content_copy, zh):
    victim, admin = fake.user(VICTIM, language_code="zh"), fake.user(ADMIN, language_code="zh")
    async with running_bot(fake, data_dir, content_dir=content_copy, admin_ids=frozenset({ADMIN})) as app:
        page = await walk_to(victim, zh, GONE)
        before_content, before_engine = app.content, app.engine
        edit(content_copy, r"go: evidence_witness\}", "go: no_such_page}", "nodes_step2.yaml")
        mark = fake.mark()
        admin.send("/reload")
        (refusal,) = await admin.wait_for_messages(1)
        # every problem, each at its file and line, the paths as the admin sees them in the content folder
        edited = (content_copy / "zh-CN" / "nodes_step2.yaml").read_text(encoding="utf-8").splitlines()
        line = next(i for i, text in enumerate(edited, 1) if "no_such_page" in text)
        listed = [row for row in refusal.text.splitlines() if row.startswith("zh-CN/")]
        assert refusal.raw_text.startswith(zh.msg("admin_reload_failed", count=len(listed), problems="").split("\n")[0])
        assert any(row.startswith(f"zh-CN/nodes_step2.yaml:{line}: ") and "no_such_page" in row for row in listed)
        assert str(content_copy) not in refusal.text, "paths are short: relative to the content folder"
        assert app.content is before_content and app.engine is before_engine
        assert not [r for r in fake.requests_since(mark) if r.method == "setMyCommands"], "the menu is untouched"

        victim.press(page, page.buttons[0][0].label)  # the old page still works: nothing was swapped
        (next_page,) = await victim.wait_for_messages(1)
        assert next_page.raw_text.startswith(zh.nodes["evidence_witness"].text.strip()[:20])
    assert not fake.unexpected


async def test_a_person_whose_page_was_removed_continues_from_the_start_of_their_step(fake, data_dir, content_copy, zh):
    victim, admin = fake.user(VICTIM, language_code="zh"), fake.user(ADMIN, language_code="zh")
    async with running_bot(fake, data_dir, content_dir=content_copy, admin_ids=frozenset({ADMIN})) as app:
        page = await walk_to(victim, zh, GONE)
        rename_node(content_copy, GONE, "evidence_how_v2")
        edit(content_copy, r"command_help: .*", "command_help: 帮助（新版）")
        old_engine = app.engine
        admin.send("/reload")
        (done,) = await admin.wait_for_messages(1)
        assert done.raw_text.startswith("✅") and app.engine is not old_engine
        assert GONE not in app.content.locale("zh-CN").nodes
        default_menu = fake.commands[('{"type": "default"}', "")]
        assert {"command": "help", "description": "帮助（新版）"} in default_menu, "the menu follows the reload"

        victim.press(page, page.buttons[0][0].label)  # a button of the page that is gone
        note, start_of_step = await victim.wait_for_messages(2)
        step = zh.steps[1]
        assert note.raw_text == zh.msg("content_moved_step", n=step.n, title=step.title)
        assert start_of_step.raw_text.startswith(zh.nodes[step.node].text.strip()[:20])

        update = victim.press(
            start_of_step, next(b.label for row in zh.nodes[step.node].buttons for b in row if b.go == GONE)
        )
        (renamed,) = await victim.wait_for_messages(1)  # the person goes on, to the page under its new name
        assert renamed.raw_text.startswith(zh.nodes[GONE].text.strip()[:20])
        await settled(app, update)
    assert len(victim.history) == 7, "one note, once: " + victim.transcript()


async def test_ticks_of_removed_items_are_kept_but_not_shown(storage, content_copy, content):
    chat = EngineChat(Services(Settings(), content, Engine(content), storage))
    await chat.jump(2)
    await chat.click("📋")
    await chat.click("借款App权限截图")
    assert "☑ 借款App权限截图" in [b.label for row in chat.last.buttons for b in row]

    edit(content_copy, r"\n\s*- \{id: app_permissions, text: 借款App权限截图\}", "", "checklists.yaml")
    fewer = load_content(content_copy)
    chat.services = Services(Settings(), fewer, Engine(fewer), storage)
    await chat.send("/status")
    step2 = next(line for line in chat.texts().splitlines() if zh_title(fewer, 2) in line)
    assert "0/6" in step2, step2  # counted out of the items that exist
    await chat.jump(2)
    await chat.click("📋")
    assert not [b for row in chat.last.buttons for b in row if "App权限" in b.label]
    assert "evidence_kit:app_permissions" in chat.case.ticks, "kept in the case"

    chat.services = Services(Settings(), content, Engine(content), storage)  # the item comes back
    await chat.jump(2)
    await chat.click("📋")
    assert "☑ 借款App权限截图" in [b.label for row in chat.last.buttons for b in row]


def zh_title(content, n: int) -> str:
    return next(st.title for st in content.locale("zh-CN").steps if st.n == n)


async def test_removed_pages_are_remembered_across_a_restart(storage, data_dir, content_copy, content, zh):
    first = Engine(content)
    remember_steps(first, data_dir)
    assert (data_dir / STEPS_FILE).exists() and first.former_steps == {}
    chat = EngineChat(Services(Settings(), content, first, storage))
    await chat.jump(2)
    await chat.do(Press(f"g|{zh.steps[1].node}|{GONE}"))
    assert chat.case.node == GONE

    rename_node(content_copy, GONE, "evidence_how_v2")
    upgraded = load_content(content_copy)
    second = Engine(upgraded)
    remember_steps(second, data_dir)  # what a start with the edited content does
    assert second.former_steps == {"zh-CN": {GONE: 2}}
    chat.services = Services(Settings(), upgraded, second, storage)
    await chat.send("你好")
    assert chat.case.node == zh.steps[1].node
    assert chat.replies[0].text == zh.msg("content_moved_step", n=2, title=zh.steps[1].title)


async def test_a_page_of_no_step_that_is_gone_leads_to_the_start(storage, content_copy, content, zh):
    chat = EngineChat(Services(Settings(), content, Engine(content), storage))
    await chat.send("/start")
    async with storage.transaction() as tx:  # a node no content ever had (an old version's)
        chat.case.node = "from_an_old_version"
        await tx.save_case(chat.case)
    await chat.send("/status")
    assert chat.replies[0].text == zh.msg("content_moved_start") and chat.case.node == zh.start


async def test_a_crisis_message_stays_alone_even_when_the_page_is_gone(storage, content, zh):
    chat = EngineChat(Services(Settings(), content, Engine(content), storage))
    await chat.send("/start")
    async with storage.transaction() as tx:
        chat.case.node = "from_an_old_version"
        await tx.save_case(chat.case)
    await chat.send(zh.crisis_words[0])
    assert chat.replies[0].text == zh.crisis_text
    assert not any(getattr(r, "text", "") == zh.msg("content_moved_start") for r in chat.replies)


# ----------------------------------------------------------------------------- SIGHUP, in the real process


async def test_sighup_reloads_valid_content_and_refuses_broken_content(fake, data_dir, content_copy, tmp_path, zh):
    victim = fake.user(VICTIM, language_code="zh")
    log = tmp_path / "bot.log"
    env = dict(
        os.environ,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=fake.url,
        SHOUHU_DATA_DIR=str(data_dir),
        SHOUHU_CONTENT_DIR=str(content_copy),
        SHOUHU_MASTER_KEY=MASTER_KEY,
    )
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        page = await walk_to(victim, zh, GONE)

        broken = content_copy / "zh-CN" / "steps.yaml"
        original = broken.read_text(encoding="utf-8")
        broken.write_text(original + "\n  - oops: [", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        await fake.wait_until(lambda: "reload refused" in log.read_text(errors="replace"), 30)
        victim.send("/status")  # still serving
        (status,) = await victim.wait_for_messages(1, timeout=20)
        assert zh.steps[0].title in status.text

        broken.write_text(original, encoding="utf-8")
        rename_node(content_copy, GONE, "evidence_how_v2")
        proc.send_signal(signal.SIGHUP)
        await fake.wait_until(lambda: "content reloaded" in log.read_text(errors="replace"), 30)
        victim.press(page, page.buttons[0][0].label)
        note, _ = await victim.wait_for_messages(2, timeout=20)
        assert note.raw_text == zh.msg("content_moved_step", n=2, title=zh.steps[1].title)
    finally:
        stop(proc)
    text = log.read_text(errors="replace")
    assert "steps.yaml" in text and TOKEN not in text and "Traceback" not in text
