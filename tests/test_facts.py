"""The case facts: schedules read as people type them, and the interview through the engine
(every answer read back, every question skippable and changeable, the facts in /status and in
the export)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from flows import timeline
from flows.features import facts as facts_feature
from flows.model import Message
from flows.record import FACTS, Facts, Installment
from flows.schedule import ScheduleProblem, parse_fees, parse_schedule
from handlers.core import Services
from tests.chat import EngineChat
from tests.fakes.html_parse import parse_html, utf16_len

BJ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=BJ)
START = date(2026, 10, 1)
TODAY = NOW.date()
P = ScheduleProblem


def paid(*pairs) -> tuple[Installment, ...]:
    return tuple(Installment(date.fromisoformat(d), Decimal(a)) for d, a in pairs)


# ----------------------------------------------------------------------------- schedules

SCHEDULES = [
    ("10月8日 3000", paid(("2026-10-08", 3000))),
    ("10月8号还三千", paid(("2026-10-08", 3000))),
    ("7天 3000", paid(("2026-10-08", 3000))),
    ("7天后还3000元", paid(("2026-10-08", 3000))),
    ("2026-10-08 还 3,000", paid(("2026-10-08", 3000))),
    ("2027年1月1日 5k", paid(("2027-01-01", 5000))),
    ("10月8日 1500\n10月15日 1500", paid(("2026-10-08", 1500), ("2026-10-15", 1500))),
    ("10月15日 1500；10月8日 1500", paid(("2026-10-08", 1500), ("2026-10-15", 1500))),
    ("每月15日还350，共3期", paid(("2026-10-15", 350), ("2026-11-15", 350), ("2026-12-15", 350))),
    ("3期 每期350", paid(("2026-11-01", 350), ("2026-12-01", 350), ("2027-01-01", 350))),
    ("分三期，每月还三百五", paid(("2026-11-01", 350), ("2026-12-01", 350), ("2027-01-01", 350))),
    ("每月31号还100 共3期", paid(("2026-10-31", 100), ("2026-11-30", 100), ("2026-12-31", 100))),
    ("共2期，每月5号，每期1,000元", paid(("2026-10-05", 1000), ("2026-11-05", 1000))),
    ("9月1日 3000", paid(("2027-09-01", 3000))),  # a month-day before the money arrived: next year's
    ("", P.UNRECOGNISED),
    ("还钱", P.UNRECOGNISED),
    ("10月8日", P.UNRECOGNISED),  # no amount
    ("2月30日 100", P.UNRECOGNISED),
    ("2026-09-01 3000", P.BEFORE_START),
    ("200期 每期1", P.TOO_MANY),
    ("2040-01-01 100", P.TOO_FAR),
]


@pytest.mark.parametrize(("text", "expected"), SCHEDULES)
def test_schedules_as_people_type_them(text, expected):
    reading = parse_schedule(text, START, TODAY)
    if isinstance(expected, ScheduleProblem):
        assert reading.problem is expected and not reading.payments
    else:
        assert reading.problem is None and reading.payments == expected


def test_days_after_or_instalments_need_the_day_the_money_arrived():
    assert parse_schedule("7天 3000", None, TODAY).problem is P.NEEDS_START
    assert parse_schedule("12期 每期350", None, TODAY).problem is P.NEEDS_START
    assert parse_schedule("10月8日 3000", None, TODAY).payments == paid(("2026-10-08", 3000))


def test_fees_are_dated_sums_or_a_sum_on_every_instalment():
    schedule = paid(("2026-11-01", 350), ("2026-12-01", 350))
    assert parse_fees("10月1日 服务费 300", START, schedule, TODAY).payments == paid(("2026-10-01", 300))
    assert parse_fees("每月服务费50", START, schedule, TODAY).payments == paid(("2026-11-01", 50), ("2026-12-01", 50))
    assert parse_fees("每期 50", START, (), TODAY).problem is P.NEEDS_SCHEDULE


def test_facts_keep_the_fees_in_their_one_encoding():
    facts = Facts(app="某某贷", received_amount=Decimal("2100"), fees=paid(("2026-10-01", 300)))
    assert Facts.from_body(facts.to_body()) == facts
    assert Facts.from_body({k: v for k, v in facts.to_body().items() if k != "fees"}).fees == (), "older bodies"


# ----------------------------------------------------------------------------- the interview


@pytest.fixture
def chat(content, engine, storage, monkeypatch):
    from config import Settings

    monkeypatch.setattr(timeline, "now", lambda: NOW.astimezone(UTC))
    return EngineChat(Services(Settings(), content, engine, storage))


def fits(msg: Message) -> Message:
    text, _ = parse_html(msg.text)
    assert utf16_len(text) <= 600 and sum(len(r) for r in msg.buttons) <= 8, msg.text
    return msg


async def stored(chat) -> Facts:
    async with chat.services.storage.transaction() as tx:
        body = await tx.record_get(chat.case, FACTS, 1)
    return Facts.from_body(body) if body else Facts()


ANSWERS = {
    "app": ("某某贷", "某某贷"),
    "lender": None,  # skipped
    "collector_company": ("某某催收公司", "某某催收公司"),
    "contract_amount": ("三千", "3,000 元"),
    "received_amount": ("2100元", "2,100 元"),
    "received_on": ("10月1日", "2026-10-01"),
    "schedule": ("7天 3000", "一次还 3,000 元（2026-10-08）"),
    "fees": None,
    "paid_so_far": ("0", "0 元"),
    "overdue_since": ("10月8日", "2026-10-08"),
    "city": ("深圳", "深圳"),
    "name": None,  # "不写名字"
}


async def interview(chat, zh) -> None:
    await chat.send("/facts")
    await chat.click(zh.msg("btn_facts_start"))
    for field, answer in ANSWERS.items():
        shown = fits(chat.last)
        assert zh.msg(f"facts_ask_{field}") in shown.text, field
        if answer is None:
            await chat.click(zh.msg("btn_facts_no_name") if field == "name" else zh.msg("btn_facts_skip"))
            continue
        typed, echoed = answer
        await chat.send(typed)
        assert f"{zh.msg(f'facts_label_{field}')}：<b>{echoed}</b>" in chat.texts(), field


async def test_the_interview_reads_back_every_answer_and_keeps_them(chat, zh):
    await interview(chat, zh)
    assert zh.msg("facts_done") in chat.last.text and "已填 9/12 项" in fits(chat.last).text
    facts = await stored(chat)
    assert facts.app == "某某贷" and facts.lender is None and facts.name is None
    assert (facts.contract_amount, facts.received_amount) == (Decimal(3000), Decimal(2100))
    assert facts.received_on == date(2026, 10, 1) and facts.schedule == paid(("2026-10-08", 3000))


async def test_an_answer_that_cannot_be_read_is_refused_with_an_example_and_asked_again(chat, zh):
    await chat.send("/facts")
    await chat.click("改某一项")
    await chat.click("合同借款金额")
    await chat.send("很多钱")
    assert chat.last.text == zh.msg("facts_money_bad") and "3000" in chat.last.text
    await chat.send("3k")
    assert (await stored(chat)).contract_amount == Decimal(3000)
    assert "已填 1/12 项" in chat.last.text, "changing one answer returns to the facts"


async def test_an_answer_can_be_changed_and_cleared_later(chat, zh):
    await chat.send("/facts")
    await chat.click("改某一项")
    await chat.click("下一页")
    await chat.click("文书上的名字")
    await chat.send("张三")
    assert (await stored(chat)).name == "张三"
    await chat.click("改某一项")
    await chat.click("下一页")
    await chat.click("文书上的名字")
    assert "现在填的是：张三" in chat.last.text
    await chat.click("清空这一项")
    assert (await stored(chat)).name is None


async def test_status_shows_the_facts_and_the_export_carries_them(chat, zh):
    await interview(chat, zh)
    await chat.send("/status")
    status = fits(chat.last).text
    for shown in ("某某贷", "到手 2,100 元", "城市 深圳", "9/12"):
        assert shown in status, shown
    from flows.feature import Turn

    async with chat.services.storage.transaction() as tx:
        files = await facts_feature.export_files(Turn(chat.services.engine, chat.case, zh, tx))
    text = files[zh.msg("facts_export_file")].decode("utf-8")
    assert "借款App或平台：某某贷" in text
    assert f"合同上的出借方：{zh.msg('facts_blank')}" in text and f"文书上的名字：{zh.msg('facts_blank')}" in text
    assert "2026-10-08  3,000" in text


async def test_the_longest_answers_still_fit_a_phone_in_the_facts_and_in_status(chat, zh):
    from dataclasses import fields

    longest = {f.name: "字" * facts_feature.MAX_TEXT for f in fields(Facts) if f.name in facts_feature.INDEX}
    schedule = tuple(Installment(date(2026, 11, 1) + timedelta(days=3 * i), Decimal("123456.78")) for i in range(9))
    facts = Facts(
        **{k: v for k, v in longest.items() if k in ("app", "lender", "collector_company", "city", "name")},
        contract_amount=Decimal("999999999.99"),
        received_amount=Decimal("999999999.99"),
        received_on=date(2026, 10, 1),
        schedule=schedule,
        fees=schedule,
        paid_so_far=Decimal("999999999.99"),
        overdue_since=date(2026, 10, 8),
    )
    await chat.send("/start")
    async with chat.services.storage.transaction() as tx:
        await tx.record_add(chat.case, FACTS, facts.to_body())
    await chat.send("/facts")
    fits(chat.last)
    await chat.send("/status")
    fits(chat.last)
    await chat.send("/facts")
    await chat.click("改某一项")
    await chat.click("下一页")
    await chat.click("还款计划")
    fits(chat.last)


@pytest.mark.parametrize("kind", list(facts_feature.Kind))
def test_anything_typed_as_an_answer_is_read_or_refused_never_a_crash(kind, monkeypatch):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    monkeypatch.setattr(timeline, "now", lambda: NOW.astimezone(UTC))
    question = next(q for q in facts_feature.QUESTIONS if q.kind is kind)
    known = Facts(received_on=START, schedule=paid(("2026-11-01", 350)))
    pieces = st.sampled_from(
        ["10月8日", "7天", "每月", "15日", "共", "12期", "每期", "3000", "三千", "，", "\n", "-", "2026", "号"]
    )
    text = st.one_of(st.text(max_size=40), st.lists(pieces, max_size=8).map("".join))

    @settings(max_examples=150, deadline=None, database=None)
    @given(text)
    def read(typed: str) -> None:
        answer = facts_feature.read_answer(question, typed, known, BJ)
        assert (answer.value is None) == bool(answer.problem)
        if kind in (facts_feature.Kind.SCHEDULE, facts_feature.Kind.FEES) and answer.value:
            assert all(p.amount > 0 and p.on >= START for p in answer.value)

    read()
