"""Admins (SHOUHU_ADMIN_IDS): /stats and /reload for them only, out of everyone else's menu; /stats
is counts only, with small counts hidden."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from flows.features.admin import shown, stats_screen
from storage.base import CaseKey, Stats
from storage.sqlite import SqliteStorage
from tests.conftest import MASTER_KEY, TOKEN, running_bot, settled

ADMIN = 700001
VICTIM = 800002
OTHER = 800003
NAME, PHONE = "王小明", "13812345678"


async def test_admin_commands_are_unknown_commands_to_everyone_else(fake, data_dir, zh):
    victim = fake.user(VICTIM, language_code="zh")
    admin = fake.user(ADMIN, language_code="zh")
    async with running_bot(fake, data_dir, admin_ids=frozenset({ADMIN})) as app:
        for command in ("/stats", "/reload", "/statz"):  # the last is a plain typo: the same answer
            victim.send(command)
            (answer,) = await victim.wait_for_messages(1)
            assert answer.raw_text == zh.msg("unknown_command"), command
        admin.send("/stats")
        (stats,) = await admin.wait_for_messages(1)
        assert stats.raw_text.startswith(zh.msg("admin_stats_header"))
        content = app.content
        update = victim.send("/reload")
        await victim.wait_for_messages(1)
        await settled(app, update)
        assert app.content is content, "a stranger's /reload reloads nothing"
    assert not fake.unexpected


async def test_without_admins_nobody_has_admin_commands(bot, fake, zh):
    user = fake.user(ADMIN, language_code="zh")
    user.send("/stats")
    (answer,) = await user.wait_for_messages(1)
    assert answer.raw_text == zh.msg("unknown_command")
    assert all("stats" not in {c["command"] for c in menu} for menu in fake.commands.values())


async def test_admin_commands_are_in_the_admins_menu_only(fake, data_dir, content):
    async with running_bot(fake, data_dir, admin_ids=frozenset({ADMIN})):
        pass
    everyone = {key: menu for key, menu in fake.commands.items() if '"chat_id"' not in key[0]}
    admins = {key: menu for key, menu in fake.commands.items() if f'"chat_id": {ADMIN}' in key[0]}
    assert everyone and admins
    for menu in everyone.values():
        assert not {"stats", "reload"} & {c["command"] for c in menu}
    assert {"", "zh", "en"} <= {lang for _, lang in admins}, "the admin's menu exists in every language"
    for (_, lang), menu in admins.items():
        loc = content.for_language(lang)  # no language_code: the default locale
        names = {c["command"]: c["description"] for c in menu}
        assert names["stats"] == loc.msg("command_stats") and names["reload"] == loc.msg("command_reload")
        assert {"start", "help", "evidence", "delete"} <= set(names), "an admin keeps the ordinary commands"


async def test_stats_holds_no_chat_id_nor_anything_a_victim_wrote(fake, data_dir, zh):
    victim, other = fake.user(VICTIM, "小王", language_code="zh"), fake.user(OTHER, language_code="zh")
    admin = fake.user(ADMIN, language_code="zh")
    async with running_bot(fake, data_dir, admin_ids=frozenset({ADMIN})) as app:
        victim.send(f"我叫{NAME}，电话{PHONE}")
        await victim.wait_for_messages(1)
        victim.send_document(f"{NAME}的借条 {PHONE}".encode(), f"{NAME}.txt", caption=f"{NAME} {PHONE}")
        await victim.wait_for_messages(1)
        other.send("/start")
        await other.wait_for_messages(1)
        admin.send("/stats")
        (few,) = await admin.wait_for_messages(1)

        async with app.services.storage.transaction() as tx:  # more cases, so some counts reach 5
            for chat in range(1, 7):
                await tx.case(CaseKey(chat), "zh-CN", zh.steps[0].node)
        admin.send("/stats")
        (more,) = await admin.wait_for_messages(1)
    for screen in (few, more):
        for secret in (NAME, PHONE, str(VICTIM), str(OTHER), str(ADMIN), "小王"):
            assert secret not in screen.text, secret
    assert few.text.count("<5") >= 5 and "<5" in few.text.splitlines()[1]
    assert zh.msg("admin_stats_cases", cases=8, active7=8, active30=8) in more.text
    step1 = zh.msg("admin_stats_step", n=1, title=zh.steps[0].title, count=6)
    assert step1 in more.text, more.text
    assert zh.msg("admin_stats_drafts_none") in more.text
    assert not re.search(r"：\s*\d", few.text), "no count below 5 is shown as a number: " + few.text


def test_stats_screen_counts_by_step_and_hides_small_numbers(content, zh):
    step1, step2 = zh.steps[0], zh.steps[1]
    stats = Stats(
        cases=12,
        cases_by_node={("zh-CN", step1.node): 7, ("zh-CN", step2.node): 3, ("zh-CN", "gone_node"): 2},
        active_7d=4,
        active_30d=11,
        evidence_items=12,
        evidence_bytes=3 * 1024 * 1024,
        records={"incident": 6, "handoff": 1},
    )
    text = stats_screen(content, zh, stats).text
    assert zh.msg("admin_stats_cases", cases=12, active7="<5", active30=11) in text
    assert zh.msg("admin_stats_step", n=1, title=step1.title, count=7) in text
    assert zh.msg("admin_stats_step", n=2, title=step2.title, count="<5") in text
    assert zh.msg("admin_stats_no_step", count="<5") in text  # a removed node counts under "no step"
    assert zh.msg("admin_stats_evidence", items=12, size="3.0 MB") in text
    assert zh.msg("admin_stats_incidents", count=6) in text
    assert zh.msg("admin_stats_handoffs", count="<5") in text and zh.msg("admin_stats_drafts_none") in text
    assert [shown(n) for n in (0, 4, 5)] == ["<5", "<5", "5"]


async def test_storage_counts_cases_evidence_records_and_recent_activity(data_dir):
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    storage = await SqliteStorage.open(data_dir, MASTER_KEY, clock=lambda: now[0])
    try:
        for chat, days_ago in ((1, 40), (2, 10), (3, 1)):
            now[0] = datetime(2026, 3, 1, tzinfo=UTC) - timedelta(days=days_ago)
            async with storage.transaction() as tx:
                case = await tx.case(CaseKey(chat), "zh-CN", "welcome")
                if chat == 3:
                    case.node = "save_evidence"
                    await tx.save_case(case)
                    await tx.evidence_add_text(case, "经过：" + NAME)
                    await tx.record_add(case, "incident", {"note": PHONE})
                    await tx.record_add(case, "incident", {"note": PHONE})
        now[0] = datetime(2026, 3, 1, tzinfo=UTC)
        stats = await storage.stats()
    finally:
        await storage.close()
    assert stats.cases == 3 and stats.active_7d == 1 and stats.active_30d == 2
    assert stats.cases_by_node == {("zh-CN", "welcome"): 2, ("zh-CN", "save_evidence"): 1}
    assert stats.evidence_items == 1 and stats.evidence_bytes == len(("经过：" + NAME).encode())
    assert stats.records == {"incident": 2}


async def test_maintenance_runs_on_a_timer_and_outlives_a_failure(storage, caplog):
    from types import SimpleNamespace

    from handlers.app import maintenance_timer

    ran = asyncio.Event()
    calls = []

    async def maintenance():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk I/O error")  # a bad moment of the disk
        report = await storage.maintenance()
        ran.set()
        return report

    app = SimpleNamespace(services=SimpleNamespace(storage=SimpleNamespace(maintenance=maintenance)))
    timer = asyncio.create_task(maintenance_timer(app, every=0))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        timer.cancel()
    assert len(calls) >= 2 and "maintenance failed" in caplog.text


async def test_the_startup_line_says_what_is_in_effect_and_no_secret(fake, data_dir, caplog):
    caplog.set_level("INFO", logger="handlers.app")
    async with running_bot(fake, data_dir, admin_ids=frozenset({ADMIN, 42})):
        pass
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Shouhu starting")]
    assert "mode polling" in line and str(data_dir.resolve()) in line and "zh-CN (default)" in line
    assert f"admins 42, {ADMIN}" in line and "content " in line
    assert TOKEN not in caplog.text and MASTER_KEY not in caplog.text
