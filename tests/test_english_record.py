"""The case record in English: the harassment log, the case details and the interest check, walked
through the engine by a person who chose English. The examples the English prompts give must be
ones the parsers read (they read digits and Chinese, not English words such as "yesterday"), and
the screens must read as English: spaces after separators, no Chinese punctuation glued in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from flows import timeline
from flows.model import Message
from handlers.core import Services
from tests.chat import EngineChat
from tests.fakes.html_parse import parse_html, utf16_len

BJ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=BJ)
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# (question, what the person types): every example must appear in the English question itself
FACTS_EXAMPLES = [
    ("contract_amount", "3,000"),
    ("contract_amount", "3k"),
    ("received_amount", "2100"),
    ("received_on", "2026-10-01"),
    ("schedule", "2026-10-08 3000"),
    ("schedule", "每月15日还350，共12期"),
    ("schedule", "7天 3000"),
    ("fees", "2026-10-01 300"),
    ("paid_so_far", "1500"),
    ("paid_so_far", "0"),
    ("overdue_since", "2026-11-08"),
]


@pytest.fixture
def en(content):
    return content.locale("en")


@pytest.fixture
def chat(content, engine, storage, monkeypatch):
    from config import Settings

    monkeypatch.setattr(timeline, "now", lambda: NOW.astimezone(UTC))
    return EngineChat(Services(Settings(), content, engine, storage), language="en")


def shown(chat) -> str:
    """The last reply's messages, each checked to fit a phone."""
    texts = []
    for r in chat.replies:
        if isinstance(r, Message):
            text, _ = parse_html(r.text)
            assert utf16_len(text) <= 600, (utf16_len(text), r.text)
            texts.append(text)
    return "\n".join(texts)


async def test_every_time_the_english_log_suggests_is_read_back(chat, en):
    await chat.send("/log")
    await chat.click("Parents")
    await chat.click("Call")
    await chat.click("Change time")
    examples = [line.removeprefix("• ").split(" (")[0] for line in shown(chat).splitlines() if line.startswith("• ")]
    assert examples, "the prompt shows examples"
    for typed in examples:
        await chat.send(typed)
        assert "I read this as" in shown(chat), typed
    for refusal in ("log_time_unrecognised", "log_time_impossible", "log_time_future", "log_time_too_old"):
        for example in re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", en.msg(refusal)):
            await chat.send(example)
            assert "I read this as" in shown(chat), (refusal, example)


async def test_the_english_summary_reads_as_english(chat):
    await chat.send("/log")
    await chat.click("Parents")
    await chat.click("Call")
    await chat.send("/log")
    await chat.click("Boss")
    await chat.click("Text message")
    await chat.click("Summary")
    said = shown(chat)
    assert "Parents: 1, Boss: 1" in said, "a separator keeps its space after the comma"
    assert not CJK.search(said), said


async def test_the_examples_the_english_questions_give_are_read(chat, en):
    await chat.send("/facts")
    await chat.click("Start")
    assert "(1/12) Which" in shown(chat), "the question number and the question are apart"
    for field, typed in FACTS_EXAMPLES:
        assert typed in en.msg(f"facts_ask_{field}"), f"{typed!r} is not an example in facts_ask_{field}"
        await chat.send("/facts")
        await chat.click("Change one")
        label = en.msg(f"facts_label_{field}")
        if not any(label in b.label for row in chat.last.buttons for b in row):
            await chat.click("Next page")
        await chat.click(label)
        await chat.send(typed)
        assert "✔ Saved" in shown(chat), (field, typed, chat.texts())


async def test_the_interest_check_in_english_never_says_a_debt_need_not_be_paid(chat):
    await chat.send("/interest")
    await chat.click("Just once")
    for typed in ("2100", "2026-10-01", "2026-10-08 3000"):
        await chat.send(typed)
    await chat.click("No other fees")
    said = shown(chat)
    assert "four times that is 12.00%" in said
    assert "still a debt" in said
    lowered = said.lower()
    for never in ("need not repay", "needn't repay", "don't have to repay", "do not have to pay", "no need to pay"):
        assert never not in lowered, never
