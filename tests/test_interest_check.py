""" "Should I pay this?" through the engine: from the facts, or on the spot without keeping the
numbers; the caps from content (interest.yaml, checked by the loader); the law behind them."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from flows import timeline
from flows.content import load_content
from flows.errors import ContentError
from flows.features import interest_check
from flows.interest import CashFlow, Flow, check
from flows.model import Message
from flows.record import FACTS, Facts, Installment
from handlers.core import Services
from tests.chat import EngineChat
from tests.conftest import CONTENT_DIR
from tests.fakes.html_parse import parse_html, utf16_len

BJ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=BJ)
NEVER = ("不用还", "不要还", "不必还", "可以不还", "无需还", "别还了")  # a lawful debt stays a debt


@pytest.fixture
def chat(content, engine, storage, monkeypatch):
    from config import Settings

    monkeypatch.setattr(timeline, "now", lambda: NOW.astimezone(UTC))
    return EngineChat(Services(Settings(), content, engine, storage))


def shown(chat) -> str:
    """Every message of the last reply, each checked to fit a phone."""
    texts = []
    for r in chat.replies:
        if isinstance(r, Message):
            text, _ = parse_html(r.text)
            assert utf16_len(text) <= 600, (utf16_len(text), r.text)
            assert sum(len(row) for row in r.buttons) <= 8
            texts.append(r.text)
    said = "\n".join(texts)
    assert not any(w in said for w in NEVER), said
    return said


async def put_facts(chat, facts: Facts) -> None:
    await chat.send("/start")
    async with chat.services.storage.transaction() as tx:
        await tx.record_add(chat.case, FACTS, facts.to_body())


async def stored(chat, kind: str = FACTS) -> dict | None:
    async with chat.services.storage.transaction() as tx:
        return await tx.record_get(chat.case, kind, 1)


# ----------------------------------------------------------------------------- from the facts

SEVEN_DAYS = Facts(
    app="某某贷",
    contract_amount=Decimal(3000),
    received_amount=Decimal(2100),
    received_on=date(2026, 10, 1),
    schedule=(Installment(date(2026, 10, 8), Decimal(3000)),),
)


async def test_from_the_facts_the_real_rate_and_every_line_in_plain_words(chat, zh):
    await put_facts(chat, SEVEN_DAYS)
    await chat.send("/interest")
    assert "2,100 元（2026-10-01）" in shown(chat)
    await chat.click("按这些算")
    said = shown(chat)
    expected = check(
        [
            CashFlow(date(2026, 10, 1), Decimal(2100), Flow.RECEIVED),
            CashFlow(date(2026, 10, 8), Decimal(3000), Flow.REPAYMENT),
        ],
        zh.interest.caps,
    )
    assert expected.placeholders()["rate"] == "2,234.69%"
    for piece in ("2,234.69%", "12.00%", "砍头息", "900 元", "42.86%", "持牌金融机构", "书面列明", "12348"):
        assert piece in said, piece
    assert "复利" not in said, "a week compounded over a year is a number that only frightens"
    assert zh.msg("interest_what_it_means").splitlines()[0] in said


async def test_the_law_behind_the_caps_is_a_phone_screen_at_a_time_with_sources(chat, zh):
    await put_facts(chat, SEVEN_DAYS)
    await chat.send("/interest")
    await chat.click("按这些算")
    await chat.click("法律依据")
    first = shown(chat)
    assert zh.law["lending_25_28"].source in first and "信息截至" in first
    await chat.click("下一页")
    second = shown(chat)
    assert zh.law["line_24_2017"].source in second or zh.law["line_24_2017"].source in first
    pages = interest_check.law_pages(zh)
    assert {lid for page in pages for lid in page} >= {"lending_25_28", "licensed_2020_27", "line_24_2017"}


async def test_missing_facts_are_asked_for_and_kept(chat, zh):
    await put_facts(chat, Facts(app="某某贷"))
    await chat.send("/interest")
    await chat.click("填进案件信息再算")
    for typed in ("10000", "2026-01-10", "每月10日还1000，共12期"):
        await chat.send(typed)
        shown(chat)
    await chat.click("没有别的费用")
    said = shown(chat)
    assert "%" in said and zh.msg("interest_not_kept") not in said
    facts = Facts.from_body(await stored(chat))
    assert facts.app == "某某贷" and facts.received_amount == Decimal(10000) and len(facts.schedule) == 12


async def test_on_the_spot_nothing_is_kept_and_every_fee_counts(chat, zh):
    await put_facts(chat, SEVEN_DAYS)
    before = await stored(chat)
    await chat.send("/interest")
    await chat.click("只算一次，不保存")
    for typed in ("10000", "2026-01-10", "12期 每期1000"):
        await chat.send(typed)
    assert await stored(chat, interest_check.SCRATCH) is not None, "kept only while the questions are open"
    await chat.send("每期 50")
    said = shown(chat)
    flows = [CashFlow(date(2026, 1, 10), Decimal(10000), Flow.RECEIVED)]
    flows += [CashFlow(date(2026 + (m // 12), m % 12 + 1, 10), Decimal(1000), Flow.REPAYMENT) for m in range(1, 13)]
    with_fees = check(flows + [CashFlow(f.on, Decimal(50), Flow.FEE) for f in flows[1:]], zh.interest.caps)
    without = check(flows, zh.interest.caps)
    assert with_fees.placeholders()["rate"] in said and without.placeholders()["rate"] not in said
    assert "600 元" in said and zh.msg("interest_not_kept") in said
    assert await stored(chat, interest_check.SCRATCH) is None, "the numbers are gone once answered"
    assert await stored(chat) == before, "the facts are untouched"


@pytest.mark.parametrize(
    ("answers", "key"),
    [
        (("0", "10月1日", "10月8日 3000"), "interest_error_bad_amount"),
        (("2100", "10月1日", "10月8日 2000"), "interest_no_interest"),
        (("100", "10月1日", "10月2日 10000000"), "interest_error_rate_absurd"),
    ],
)
async def test_inputs_that_give_no_rate_get_a_clear_answer_never_a_negative_rate(chat, zh, answers, key):
    await chat.send("/interest")
    await chat.click("只算一次，不保存")
    for typed in answers:
        await chat.send(typed)
    await chat.click("没有别的费用")
    said = shown(chat)
    assert zh.msg(key).splitlines()[0][:20] in said.replace("<b>", "").replace("</b>", "")
    assert not re.search(r"-\d[\d,.]*%", said), said


async def test_a_repayment_before_the_money_arrived_is_caught_when_typed(chat, zh):
    await chat.send("/interest")
    await chat.click("只算一次，不保存")
    await chat.send("2100")
    await chat.send("10月1日")
    await chat.send("2026-09-01 3000")
    assert chat.last.text == zh.msg("facts_schedule_before_start")


async def test_a_loan_before_the_lpr_table_gets_no_4x_line(chat, zh):
    await chat.send("/interest")
    await chat.click("只算一次，不保存")
    for typed in ("5000", "2019-03-01", "2019-09-01 6000"):
        await chat.send(typed)
    await chat.click("没有别的费用")
    said = shown(chat)
    assert "2019年8月20日" in said and "四倍是" not in said


# ----------------------------------------------------------------------------- content


def copy_content(tmp_path: Path) -> Path:
    shutil.copytree(CONTENT_DIR, tmp_path / "content")
    return tmp_path / "content"


@pytest.mark.parametrize(
    ("before", "after", "problem"),
    [
        ("      rate: 4.25\n", "      rate: high\n", "'rate' must be a number"),
        ("    - from: 2019-09-20\n", "    - from: 2019-08-01\n", "date order"),
        ("    law: [line_24_2017]", "    law: [line_24_2017x]", "law 'line_24_2017x' is not in law.yaml"),
        ("  multiple: 4\n", "  multipel: 4\n", "did you mean 'multiple'"),
        ("      as_of: 2026-11-01\n", "      as_of: soon\n", "'as_of' must be a date"),
        ("    certainty: reported\n    law: [line_36", "    certainty: unverified\n    law: [line_36", "unverified"),
    ],
)
def test_check_names_the_line_of_a_broken_interest_yaml(tmp_path, before, after, problem):
    root = copy_content(tmp_path)
    path = root / "zh-CN" / "interest.yaml"
    text = path.read_text(encoding="utf-8")
    assert before in text
    path.write_text(text.replace(before, after, 1), encoding="utf-8")
    with pytest.raises(ContentError) as err:
        load_content(root)
    found = [p for p in err.value.problems if problem in p.message]
    assert found and found[0].file.endswith("interest.yaml") and found[0].line > 1, err.value.problems


async def test_a_locale_without_interest_yaml_says_the_check_is_unavailable(tmp_path, storage, monkeypatch):
    from config import Settings
    from flows.engine import Engine

    root = copy_content(tmp_path)
    (root / "zh-CN" / "interest.yaml").unlink()
    content = load_content(root)
    assert content.locale("zh-CN").interest is None
    chat = EngineChat(Services(Settings(), content, Engine(content), storage))
    await chat.send("/interest")
    await chat.click("只算一次，不保存")
    for typed in ("2100", "10月1日", "10月8日 3000"):
        await chat.send(typed)
    await chat.click("没有别的费用")
    assert content.locale("zh-CN").msg("interest_unavailable") in chat.texts()


def test_in_the_terminal_an_amount_is_typed_text_not_a_button_number(tmp_path, monkeypatch, content):
    import asyncio
    import io

    from config import Settings
    from handlers.terminal import chat as terminal_chat
    from tests.conftest import MASTER_KEY

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(timeline, "now", lambda: NOW.astimezone(UTC))
    lines = ["/interest", "2", "3000", "10月1日", "7天 3500", "1", ":q"]  # 只算一次; ...; 没有别的费用
    out = io.StringIO()
    settings = Settings(data_dir=tmp_path / "data", master_key=MASTER_KEY)
    asyncio.run(terminal_chat(settings, content, io.StringIO("\n".join(lines) + "\n"), out))
    assert "3,000 元" in out.getvalue() and "869.05%" in out.getvalue()
