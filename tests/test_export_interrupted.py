"""An export cut off by the process dying is reported once, at the next start (#10, Proof).

The kill -9 itself, through the real process: tests/test_faults.py. Here, in-process on both
backends: an export that ends (sent, or refused with a word) leaves nothing to report; a marker
left behind is reported once, with a button that builds the export again; a person who blocked
the bot costs nothing; and the terminal chat does the same at its start.
"""

from __future__ import annotations

import io
import os

import pytest

from config import Settings
from flows.engine import Engine
from flows.feature import Turn
from flows.features import export
from handlers.core import Services
from handlers.exports import resume_interrupted
from handlers.terminal import Terminal, TerminalOutput, plain
from storage.base import CaseKey
from storage.errors import NotEnoughDisk
from tests.terminal_chat import press, say

USER = 515151
DATA = os.urandom(50_000)


async def _cut_off(app, chat_id: int) -> None:
    """What a process that died mid-export leaves in the case: the marker of the press."""
    services = app.services
    loc = services.content.locale("zh-CN")
    async with services.storage.transaction() as tx:
        case = await tx.case(CaseKey(chat_id), loc.code, loc.start)
        await export.started(Turn(services.engine, case, loc, tx))


async def _export(user, zh) -> list:
    user.send("/export")
    (confirm,) = await user.wait_for_messages(1, timeout=15)
    user.press(confirm, zh.msg("btn_confirm_export"))
    return await user.wait_for_messages(2, timeout=15)


async def test_an_export_that_ended_is_not_reported_at_the_next_start(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send_document(DATA, "call.m4a", "audio/mp4")
    await user.wait_for_messages(1, timeout=15)
    msgs = await _export(user, zh)
    assert msgs[-1].raw_text == zh.msg("export_done", count=1, parts=1)
    assert await resume_interrupted(bot) == 0
    assert user.take_new_messages() == []


async def test_an_export_refused_with_a_word_is_not_reported_again(bot, fake, zh, monkeypatch):
    import handlers.delivery as delivery

    class NoRoom:
        def __init__(self, *args, **kwargs):
            pass

        async def __aenter__(self):
            raise NotEnoughDisk(needed=10**12, free=0)

        async def __aexit__(self, *exc):
            return False

    user = fake.user(USER, language_code="zh")
    user.send_document(DATA, "call.m4a", "audio/mp4")
    await user.wait_for_messages(1, timeout=15)
    monkeypatch.setattr(delivery, "export_parts", NoRoom)
    user.send("/export")
    (confirm,) = await user.wait_for_messages(1, timeout=15)
    user.press(confirm, zh.msg("btn_confirm_export"))
    (said,) = await user.wait_for_messages(1, timeout=15)
    assert said.raw_text == zh.msg("export_no_space")
    assert await resume_interrupted(bot) == 0


async def test_a_cut_off_export_is_reported_once_with_a_button_that_builds_it(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send_document(DATA, "call.m4a", "audio/mp4")
    await user.wait_for_messages(1, timeout=15)
    await _cut_off(bot, USER)

    assert await resume_interrupted(bot) == 1
    (told,) = await user.wait_for_messages(1, timeout=15)
    assert told.raw_text == zh.msg("export_interrupted")
    assert await resume_interrupted(bot) == 0, "once"
    user.press(told, zh.msg("btn_export_again"))
    (confirm,) = await user.wait_for_messages(1, timeout=15)
    assert confirm.raw_text == zh.msg("export_confirm")
    user.press(confirm, zh.msg("btn_confirm_export"))
    msgs = await user.wait_for_messages(2, timeout=15)
    assert [m.document is not None for m in msgs] == [True, False]
    assert msgs[-1].raw_text == zh.msg("export_done", count=1, parts=1)
    assert await resume_interrupted(bot) == 0
    assert user.take_new_messages() == []


async def test_a_person_who_blocked_the_bot_is_not_reported_to_and_the_start_goes_on(bot, fake, zh):
    gone, here = fake.user(USER, language_code="zh"), fake.user(USER + 1, language_code="zh")
    for user in (gone, here):
        user.send("/start")
        await user.wait_for_messages(1, timeout=15)
    await _cut_off(bot, gone.chat_id)
    await _cut_off(bot, here.chat_id)
    gone.block()
    assert await resume_interrupted(bot) == 1
    (told,) = await here.wait_for_messages(1, timeout=15)
    assert told.raw_text == zh.msg("export_interrupted")
    assert await resume_interrupted(bot) == 0, "the blocked one's marker is gone too"


class Killed(BaseException):
    """The terminal process ending mid-export (no handler runs: like kill -9)."""


async def test_the_terminal_chat_reports_an_export_its_last_session_did_not_finish(
    storage, content, zh, tmp_path, monkeypatch
):
    def terminal() -> Terminal:
        return Terminal(Services(Settings(), content, Engine(content), storage), io.StringIO(), tmp_path / "out")

    sample = tmp_path / "call.m4a"
    sample.write_bytes(DATA)
    first = terminal()
    await say(first, f":audio {sample}")
    await say(first, "/export")

    async def dies(self, path, caption=None):
        raise Killed

    monkeypatch.setattr(TerminalOutput, "send_file", dies)
    with pytest.raises(Killed):
        await press(first, zh.msg("btn_confirm_export"))
    monkeypatch.undo()

    again = terminal()
    await again.begin()
    shown = again.out.getvalue()
    assert plain(zh.msg("export_interrupted")) in shown
    answer = await press(again, zh.msg("btn_export_again"))
    assert plain(zh.msg("export_confirm")).splitlines()[0] in answer
    done = await press(again, zh.msg("btn_confirm_export"))
    assert plain(zh.msg("export_done", count=1, parts=1)).strip() in done
    assert [p for p in (tmp_path / "out").iterdir() if p.suffix == ".zip"]

    later = terminal()
    await later.begin()
    assert plain(zh.msg("export_interrupted")) not in later.out.getvalue(), "said once"


async def test_telegram_unreachable_at_the_start_keeps_the_report_for_the_next_one(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/start")
    await user.wait_for_messages(1, timeout=15)
    await _cut_off(bot, USER)
    fake.fail_next("sendMessage", 502, times=5)  # every attempt the transport makes
    assert await resume_interrupted(bot) == 0
    assert user.take_new_messages() == []
    assert await resume_interrupted(bot) == 1
    (told,) = await user.wait_for_messages(1, timeout=15)
    assert told.raw_text == zh.msg("export_interrupted")
