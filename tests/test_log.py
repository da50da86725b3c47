"""The harassment log: counting (night hours exact at their edges), the chart, the timeline CSV,
and logging, changing and deleting incidents through the engine, screen by screen."""

from __future__ import annotations

import csv
import io
import struct
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from flows import chart, log_text, timeline
from flows.model import Message, Press, SendImage, Toast
from flows.record import INCIDENT, Incident
from flows.timeline import longest_run, summarise
from handlers.core import Services
from storage.base import CaseKey
from tests.chat import EngineChat
from tests.fakes.html_parse import parse_html, utf16_len

BJ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=BJ)  # a Friday afternoon


def at(day: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=BJ).astimezone(UTC)


def inc(t: datetime, relation: str = "parents", channel: str = "call", **kw) -> Incident:
    return Incident(at=t, relation=relation, channel=channel, **kw)


@pytest.fixture
def clock(monkeypatch):
    """The moment the person logs at (incidents logged by two taps take it)."""
    monkeypatch.setattr(timeline, "now", lambda: NOW.astimezone(UTC))
    return NOW


@pytest.fixture
def chat(content, engine, storage, clock):
    from config import Settings

    return EngineChat(Services(Settings(), content, engine, storage))


def fits_a_phone(msg: Message) -> None:
    text, _ = parse_html(msg.text)
    assert utf16_len(text) <= 600, (utf16_len(text), msg.text)
    assert sum(len(row) for row in msg.buttons) <= 8, [b.label for row in msg.buttons for b in row]
    assert all(len(b.data.encode()) <= 64 for row in msg.buttons for b in row)


def screens(chat) -> list[Message]:
    shown = [r for r in chat.replies if isinstance(r, Message)]
    for m in shown:
        fits_a_phone(m)
    return shown


# ----------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("hh", "mm", "night"),
    [(21, 59, False), (22, 0, True), (7, 59, True), (8, 0, False), (0, 0, True), (12, 0, False)],
)
def test_night_is_counted_exactly_at_its_edges_in_the_locale_clock(hh, mm, night):
    s = summarise([inc(at(3, hh, mm))], BJ)
    assert s.night == (1 if night else 0)
    assert s.days[0].on == date(2026, 11, 3), "the day is the local calendar day, not UTC's"


def test_the_summary_counts_people_channels_days_and_the_longest_run():
    items = [
        inc(at(1, 23, 30), "parents", "call"),  # night
        inc(at(2, 7, 0), "parents", "sms"),  # night
        inc(at(2, 12, 0), "colleagues", "call"),
        inc(at(3, 9, 0), "boss", "call"),
        inc(at(6, 22, 15), "parents", "im"),  # night, after a gap
    ]
    s = summarise(items, BJ)
    assert (s.count, s.night, s.active_days) == (5, 3, 4)
    assert s.by_relation == (("parents", 3), ("colleagues", 1), ("boss", 1))
    assert s.by_channel == (("call", 3), ("sms", 1), ("im", 1))
    assert [d.total for d in s.days] == [1, 2, 1, 0, 0, 1], "every day from the first to the latest, zeros too"
    assert s.run and (s.run.days, s.run.first, s.run.last) == (3, date(2026, 11, 1), date(2026, 11, 3))
    assert s.busiest and s.busiest.on == date(2026, 11, 2)
    assert s.first == items[0].at and s.latest == items[-1].at
    assert summarise([], BJ).count == 0 and longest_run([]) is None


# ----------------------------------------------------------------------------- the chart


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_chart_is_a_png_a_phone_can_show(zh):
    s = summarise([inc(at(d, 23)) for d in range(1, 8)] + [inc(at(3, 10))], BJ)
    data = chart.png(s.days, log_text.chart_text(zh))
    w, h = png_size(data)
    assert 400 < w < 2000 and 200 < h < 1000 and w + h < 10000


def test_without_a_chinese_font_every_label_is_ascii_so_nothing_shows_as_boxes(zh):
    s = summarise([inc(at(1, 23)), inc(at(2, 10))], BJ)
    fig = chart.figure(s.days, log_text.chart_text(zh), font=None)
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_text())]
    assert texts and all(t.isascii() for t in texts), texts
    assert "2026-11-01 - 2026-11-02" in texts and "22:00-08:00" in texts


def test_with_a_chinese_font_the_words_come_from_content(zh):
    font = chart.font_for(zh.msg("log_chart_title"))
    if font is None:
        pytest.skip("no font with Chinese glyphs on this machine")
    s = summarise([inc(at(1, 23))], BJ)
    fig = chart.figure(s.days, log_text.chart_text(zh), font=font)
    texts = {t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))}
    assert {zh.msg("log_chart_title"), zh.msg("log_chart_night")} <= texts


def test_a_long_log_is_drawn_a_week_per_bar():
    days = summarise([inc(at(1, 12, month=1)), inc(at(1, 12, month=11))], BJ).days
    bars, weekly = chart.bars(days)
    assert weekly and len(bars) < chart.MAX_DAILY_BARS and sum(b.total for b in bars) == 2


# ----------------------------------------------------------------------------- the timeline CSV


def test_the_timeline_has_chinese_headers_local_times_evidence_and_no_formulas(zh):
    found = [
        (2, inc(at(2, 23, 5), "colleagues", "sms", collector='=HYPERLINK("http://x")', evidence=(3, 1))),
        (1, inc(at(1, 9, 0), "parents", "call", approximate=True, note="+86 说要上门")),
    ]
    rows = list(csv.reader(io.StringIO(log_text.timeline_csv(zh, found).decode("utf-8-sig"))))
    assert rows[0] == [zh.msg(f"log_col_{c}", tz=zh.tz_label) for c in log_text.LOG_COLUMNS]
    assert rows[1][:6] == ["1", "2026-11-01 09:00", "", "父母", "电话", zh.msg("log_yes")], "oldest first"
    assert rows[1][7] == "'+86 说要上门"
    assert rows[2][1:3] == ["2026-11-02 23:05", zh.msg("log_yes")]
    assert rows[2][6].startswith("'="), "a collector's text never runs as a formula"
    assert rows[2][8] == "E-001 E-003"


# ----------------------------------------------------------------------------- logging through the engine


async def test_two_taps_log_an_incident_now_and_every_screen_fits(chat, zh):
    await chat.send("/log")
    (home,) = screens(chat)
    assert [b.label for b in home.buttons[0]] == ["父母", "配偶", "子女"]
    await chat.click("父母")
    (how,) = screens(chat)
    assert how.edit and "父母" in how.text
    await chat.click("电话")
    (saved,) = screens(chat)
    assert "第 1 条" in saved.text and "2026-11-20 周五 15:30" in saved.text
    async with chat.services.storage.transaction() as tx:
        ((rid, body),) = await tx.record_list(chat.case, INCIDENT)
    got = Incident.from_body(body)
    assert (rid, got.relation, got.channel, got.at) == (1, "parents", "call", NOW.astimezone(UTC))


async def test_the_less_common_relations_are_one_tap_further(chat):
    await chat.send("/log")
    await chat.click("其他亲属·本人·其他…")
    (more,) = screens(chat)
    assert [b.label for row in more.buttons for b in row][:3] == ["其他亲属", "本人", "其他"]
    await chat.click("本人")
    await chat.click("上门")
    assert "本人 · 上门" in chat.texts()


async def log_one(chat, relation: str = "父母", channel: str = "电话") -> None:
    await chat.send("/log")
    await chat.click(relation)
    await chat.click(channel)


async def test_a_typed_time_is_read_back_and_kept_only_when_confirmed(chat, zh):
    await log_one(chat)
    await chat.click("改时间")
    (prompt,) = screens(chat)
    assert "昨晚11点" in prompt.text, "the question shows examples"
    await chat.send("昨晚11点")
    (echo,) = screens(chat)
    assert "2026-11-19 周四 23:00" in echo.text and zh.msg("log_night_mark").strip() in echo.text
    await chat.send("11月18日 7:30")  # typing again replaces the reading
    (echo,) = screens(chat)
    assert "2026-11-18 周三 07:30" in echo.text
    await chat.click("对，就是这个时间")
    (view,) = screens(chat)
    assert "2026-11-18 周三 07:30" in view.text and view.edit
    async with chat.services.storage.transaction() as tx:
        body = await tx.record_get(chat.case, INCIDENT, 1)
    assert Incident.from_body(body).at == at(18, 7, 30)


@pytest.mark.parametrize(
    ("typed", "key"),
    [("下周一", "log_time_unrecognised"), ("明天晚上", "log_time_future"), ("2月30日", "log_time_impossible")],
)
async def test_a_time_that_cannot_be_read_is_refused_with_an_example(chat, zh, typed, key):
    await log_one(chat)
    await chat.click("改时间")
    await chat.send(typed)
    (refused,) = screens(chat)
    assert refused.text == zh.msg(key)
    await chat.send("前天下午")  # the question stays open
    assert "约 2026-11-18 周三 15:00" in chat.texts()


async def test_a_forged_time_in_the_future_is_refused(chat):
    await log_one(chat)
    future = int((NOW + timedelta(days=2)).timestamp()) // 60
    await chat.do(Press(f"lgk|1|{future}|0"))
    assert isinstance(chat.replies[0], Toast) and chat.replies[0].text  # the stale-button answer


async def test_collector_note_evidence_relation_and_channel_can_be_changed(chat, zh, storage):
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(chat.chat_id), "zh-CN", "welcome")
        await tx.evidence_add_text(case, "我的陈述")
    await log_one(chat)
    await chat.click("关联 E-001")
    (picker,) = screens(chat)
    assert "☑ E-001" in [b.label for row in picker.buttons for b in row]
    await chat.click("返回")
    await chat.click("号码或名字")
    await chat.send("x" * 81)
    assert chat.last.text == zh.msg("log_too_long", limit=80)
    await chat.send("138xxxx1234 <王经理>")
    assert "138xxxx1234 &lt;王经理&gt;" in chat.last.text, "what a person typed is shown, escaped"
    await chat.click("备注")
    await chat.send("说要去我爸单位")
    await chat.click("改对象")
    await chat.click("领导")
    await chat.click("改方式")
    await chat.click("短信")
    (view,) = screens(chat)
    for shown in ("领导 · 短信", "说要去我爸单位", "E-001", "138xxxx1234"):
        assert shown in view.text


async def test_the_list_pages_and_a_deleted_incident_is_gone(chat, zh):
    for relation in ("父母", "配偶", "子女", "同事", "领导", "朋友"):
        await log_one(chat, relation)
    await chat.send("/log")
    await chat.click("全部记录")
    (page1,) = screens(chat)
    assert "第 1/2 页" in page1.text and "#6" in page1.text and "#2" not in page1.text
    await chat.click("下一页")
    (page2,) = screens(chat)
    assert "#2" in page2.text and "#1" in page2.text
    await chat.click("#1 ")
    await chat.click("删除")
    await chat.click("确认删除这条")
    assert zh.msg("log_deleted", no=1) in chat.texts()
    await chat.do(Press("lgo|1"))  # the old button of a deleted incident
    assert isinstance(chat.replies[0], Toast) and chat.replies[0].text == zh.msg("stale_button")
    await chat.send("/log")
    assert "共 5 条" in chat.last.text


async def test_typing_for_an_incident_deleted_meanwhile_is_answered_calmly(chat, zh):
    await log_one(chat)
    await chat.click("备注")
    async with chat.services.storage.transaction() as tx:
        await tx.record_delete(chat.case, INCIDENT, 1)
    await chat.send("一段备注")
    assert zh.msg("log_gone", no=1) in chat.texts()


async def test_summary_and_chart(chat, zh, monkeypatch):
    await log_one(chat, "父母", "电话")
    monkeypatch.setattr(timeline, "now", lambda: at(19, 23, 10))
    await log_one(chat, "同事", "短信")
    await chat.send("/log")
    await chat.click("全部记录")
    await chat.click("汇总")
    (summary,) = screens(chat)
    for shown in (
        "共 <b>2</b> 条",
        "<b>1</b> 条",
        "父母 1、同事 1",
        "电话 1、短信 1",
        "最长连续 2 天",
        "11-19 1、11-20 1",
    ):
        assert shown in summary.text, shown
    await chat.click("每天的图")
    (picture,) = [r for r in chat.replies if isinstance(r, SendImage)]
    assert "共 2 条" in picture.caption
    w, h = png_size(picture.draw())
    assert w > h
    await chat.click("法律依据", summary)
    assert "GB/T 45251" in chat.texts()


async def test_status_shows_the_log(chat):
    await log_one(chat)
    await chat.send("/status")
    assert "骚扰记录：1 条，其中夜间 0 条" in chat.last.text
    fits_a_phone(chat.last)


async def test_a_typed_incident_finds_the_log(chat, zh):
    await chat.send("他们又打来了")
    assert chat.case.node == "log_incident"
    await chat.click("记一笔")
    (home,) = screens(chat)
    assert zh.msg("log_home_empty").splitlines()[0] in home.text


# ----------------------------------------------------------------------------- the terminal chat


def test_the_terminal_chat_logs_and_shows_the_chart_as_a_file(tmp_path, monkeypatch, content):
    import asyncio

    from config import Settings
    from handlers.terminal import chat as terminal_chat
    from tests.conftest import MASTER_KEY

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(timeline, "now", lambda: NOW.astimezone(UTC))
    settings = Settings(data_dir=tmp_path / "data", master_key=MASTER_KEY)
    lines = ["/log", "1", "1", "4", "1", "/delete", "1", ":q"]  # 父母, 电话, 汇总, 每天的图, delete
    out = io.StringIO()
    asyncio.run(terminal_chat(settings, content, io.StringIO("\n".join(lines) + "\n"), out))
    said = out.getvalue()
    assert "第 1 条" in said and "📈" in said
    assert "shouhu_log_chart.png" in said
    assert not (tmp_path / "shouhu-out" / "shouhu_log_chart.png").exists(), "/delete removed it"
