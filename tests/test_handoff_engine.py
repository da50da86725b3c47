"""Handoff without Telegram: where the button lives, what the screens and the summary hold, the
setting that turns it on, and the terminal's preview of what would reach the staff chat."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from config import ConfigError, Settings
from flows.feature import Turn
from flows.features import handoff
from flows.handoff_summary import case_summary
from flows.model import Press, ToStaff
from flows.record import FACTS, Facts, Installment
from flows.screens import render
from handlers.core import Services, build_engine
from handlers.terminal import Terminal
from storage.base import CaseKey
from tests.chat import EngineChat

STAFF_CHAT = -1009876543210
FULL_FACTS = Facts(
    app="某某借款App名字比较长",
    lender="某某小额贷款有限公司",
    collector_company="某某信息咨询服务有限公司",
    contract_amount=Decimal("12000"),
    received_amount=Decimal("8400.50"),
    received_on=date(2024, 1, 3),
    schedule=(Installment(date(2024, 2, 3), Decimal("4000")), Installment(date(2024, 3, 3), Decimal("4000"))),
    paid_so_far=Decimal("4000"),
    overdue_since=date(2024, 3, 4),
    city="成都",
    name="李某某",
    extra={"工作单位": "某某公司"},
)


def services_for(content, storage, **settings) -> Services:
    s = Settings(**settings)
    return Services(s, content, build_engine(s, content), storage)


@pytest.fixture
def chat(content, storage):
    return EngineChat(services_for(content, storage, staff_chat_id=STAFF_CHAT), chat_id=918273645)


def test_the_setting_is_a_group_id():
    assert Settings.from_env({"SHOUHU_STAFF_CHAT_ID": " -1001234567890 "}).staff_chat_id == -1001234567890
    assert Settings.from_env({}).staff_chat_id is None
    for wrong in ("staff", "12345", "0"):
        with pytest.raises(ConfigError, match="SHOUHU_STAFF_CHAT_ID"):
            Settings.from_env({"SHOUHU_STAFF_CHAT_ID": wrong})


def test_handoff_is_in_the_engine_only_with_a_staff_chat(content):
    assert handoff.FEATURE not in build_engine(Settings(), content).features
    assert "human" not in build_engine(Settings(), content).commands
    assert handoff.FEATURE in build_engine(Settings(staff_chat_id=STAFF_CHAT), content).features


async def test_one_tap_from_every_step_and_no_screen_over_eight_buttons(chat, zh):
    await chat.send("/start")
    for node in zh.nodes.values():
        if node.step is None:
            continue
        chat.case.node = node.id
        shown = render(chat.case, zh)
        assert len([b for row in shown.buttons for b in row]) <= 8
        assert any(b.data == "m|" for row in shown.buttons for b in row), node.id
    await chat.do(Press("m|"))
    buttons = [b for row in chat.last.buttons for b in row]
    assert any(b.data == "hf|" and b.label == zh.msg("btn_handoff") for b in buttons)
    assert len(buttons) <= 8


async def test_screens_fit_a_phone_with_every_fact_filled_in(chat, zh, storage):
    await chat.send("/start")
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(chat.chat_id), "zh-CN", zh.start)
        await tx.record_add(case, FACTS, FULL_FACTS.to_body())
        for i in range(30):
            await tx.evidence_add_text(case, f"第 {i} 条记录")
    await chat.send("/human")
    consent = chat.last
    assert len(consent.text) <= 600 and sum(len(r) for r in consent.buttons) <= 8
    for field in ("借款平台", "放款方", "还款计划", "姓名", "其他信息"):
        assert field in consent.text
    await chat.click(zh.msg("btn_handoff_agree"))
    staff = [r for r in chat.replies if isinstance(r, ToStaff)]
    text = "\n".join(r.message.text for r in staff)
    assert "E-001" in text and "E-030" in text and "李某某" in text and "工作单位：某某公司" in text
    assert str(chat.chat_id) not in text
    await chat.do(Press("hx|"))
    assert len(chat.last.text) <= 600 and "E-001–E-012…" in chat.last.text and "30 件" in chat.last.text


async def test_a_long_case_is_cut_into_messages_telegram_accepts(chat, zh, storage):
    await chat.send("/start")
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(chat.chat_id), "zh-CN", zh.start)
        for i in range(120):
            await tx.evidence_add_text(case, f"记录 {i}")
        parts = await case_summary(Turn(chat.services.engine, case, zh, tx), zh, ref="H-TEST00", updated=False)
    assert len(parts) > 1 and all(len(p) < 4096 for p in parts)
    joined = "\n".join(parts)
    assert all(f"E-{n:03d}" in joined for n in range(1, 121))
    assert all(p.startswith("（H-TEST00 续）") for p in parts[1:])


async def test_a_long_note_goes_in_pieces_and_the_mode_stays_until_left(chat, zh):
    await chat.send("/human")
    await chat.click(zh.msg("btn_handoff_agree"))
    await chat.do(Press("hn|"))
    await chat.send("很" * 5000)
    staff = [r for r in chat.replies if isinstance(r, ToStaff)]
    assert len(staff) == 2 and all(len(r.message.text) < 4096 for r in staff)
    assert staff[-1].then is not None and staff[-1].then.text == zh.msg("handoff_note_sent")
    assert chat.case.awaiting and chat.case.awaiting.kind == handoff.NOTE
    await chat.do(Press("h|"))
    assert chat.case.awaiting is None


async def test_the_terminal_shows_what_would_reach_the_staff(content, storage, tmp_path, zh):
    out = io.StringIO()
    term = Terminal(services_for(content, storage, staff_chat_id=STAFF_CHAT), out, tmp_path / "out")
    await term.handle(await term.event_for("/human"))
    await term.handle(await term.event_for("1"))  # the first numbered button: agree
    printed = out.getvalue()
    assert "（发给工作人员：" in printed and "新的求助 H-" in printed
    assert zh.msg("btn_handoff_note") in printed, "the person's screen follows"


async def test_the_summary_counts_incidents_by_night_and_week(chat, zh, storage):
    from flows.record import INCIDENT, Incident

    await chat.send("/start")
    now = datetime.now(UTC)
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(chat.chat_id), "zh-CN", zh.start)
        for at in (now, datetime(2024, 5, 1, 14, 0, tzinfo=UTC), datetime(2024, 5, 1, 2, 0, tzinfo=UTC)):
            await tx.record_add(case, INCIDENT, Incident(at=at, relation="boss", channel="call").to_body())
        (part,) = await case_summary(Turn(chat.services.engine, case, zh, tx), zh, ref="H-TEST00", updated=False)
    line = next(line for line in part.splitlines() if line.startswith("骚扰记录"))
    night = 1 + (now.astimezone(zh.tz).hour >= 22 or now.astimezone(zh.tz).hour < 8)  # 22:00 Beijing is night
    assert "共 3 次（2024-05-01 至" in line and f"夜间（22:00–8:00）{night} 次" in line and "最近 7 天 1 次" in line


async def test_consent_to_a_screen_that_no_longer_lists_everything_sends_nothing(chat, zh, storage):
    await chat.send("/human")
    screen = chat.last
    assert "0 件" in screen.text
    async with storage.transaction() as tx:  # a file arrives after the screen was shown
        await tx.evidence_add_text(await tx.case(CaseKey(chat.chat_id), "zh-CN", zh.start), "新证据")
    await chat.click(zh.msg("btn_handoff_agree"), screen)
    assert not [r for r in chat.replies if isinstance(r, ToStaff)]
    assert "1 件" in chat.last.text, "the screen again, listing what would now go"
    await chat.click(zh.msg("btn_handoff_agree"))
    assert [r for r in chat.replies if isinstance(r, ToStaff)]
