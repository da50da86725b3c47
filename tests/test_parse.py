"""Typed times and amounts: what a victim types is read the way they meant it, or refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from flows.parse import Refusal, cn_to_int, is_night, parse_money, parse_when

BJ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 5, 20, 30, tzinfo=BJ)  # a Thursday evening, when people write in

A = "approx"  # the hour is a default: the bot must ask or show it as "约"
F, I, U, O, E = Refusal.FUTURE, Refusal.IMPOSSIBLE, Refusal.UNRECOGNISED, Refusal.TOO_OLD, Refusal.EMPTY

# text -> (expected Beijing time "YYYY-MM-DD HH:MM", and "approx" when the time is a default) or a refusal
TABLE: list[tuple[str, tuple[str, ...] | Refusal]] = [
    ("昨晚11点", ("2026-11-04 23:00",)),
    ("今天下午3点半", ("2026-11-05 15:30",)),
    ("11月3日 22:40", ("2026-11-03 22:40",)),
    ("11/3 22:40", ("2026-11-03 22:40",)),
    ("2026-11-03 22:40", ("2026-11-03 22:40",)),
    ("2026年11月3日晚上10点40分", ("2026-11-03 22:40",)),
    ("十一月三日二十二点四十", ("2026-11-03 22:40",)),
    ("１１月３日　２２：４０", ("2026-11-03 22:40",)),  # full-width, as some keyboards type
    ("2026/11/3", ("2026-11-03 12:00", A)),
    ("前天下午", ("2026-11-03 15:00", A)),
    ("刚才", ("2026-11-05 20:30", A)),
    ("现在", ("2026-11-05 20:30",)),
    ("上周五晚上9点", ("2026-10-30 21:00",)),
    ("三天前", ("2026-11-02 12:00", A)),
    ("今早7点", ("2026-11-05 07:00",)),
    ("凌晨两点", ("2026-11-05 02:00",)),
    ("半小时前", ("2026-11-05 20:00",)),
    ("一个半小时前", ("2026-11-05 19:00",)),
    ("10分钟前", ("2026-11-05 20:20",)),
    ("两小时前", ("2026-11-05 18:30",)),
    ("大前天", ("2026-11-02 12:00", A)),
    ("昨天", ("2026-11-04 12:00", A)),
    ("十一点", ("2026-11-05 11:00",)),  # no day part: a 24-hour clock
    ("二十二点四十", ("2026-11-04 22:40",)),  # no day named and tonight's is ahead: last night's
    ("昨天晚上十一点", ("2026-11-04 23:00",)),
    ("昨晚1点", ("2026-11-05 01:00",)),  # after midnight still belongs to "last night"
    ("昨天晚上12点", ("2026-11-05 00:00",)),
    ("昨天半夜两点", ("2026-11-05 02:00",)),
    ("昨天半夜", ("2026-11-05 00:00", A)),
    ("周四晚上10点", ("2026-10-29 22:00",)),  # today is Thursday, 22:00 is ahead: last week's
    ("周一", ("2026-11-02 12:00", A)),
    ("星期天下午", ("2026-11-01 15:00", A)),
    ("上上周一早上8点", ("2026-10-19 08:00",)),
    ("3号晚上10点", ("2026-11-03 22:00",)),
    ("30号", ("2026-10-30 12:00", A)),  # the 30th is ahead this month: last month's
    ("12月25日", ("2025-12-25 12:00", A)),  # ahead this year: last year's
    ("晚上10点多", ("2026-11-04 22:00", A)),
    ("大概昨晚11点左右", ("2026-11-04 23:00", A)),
    ("今天下午", ("2026-11-05 15:00", A)),
    ("今晚", ("2026-11-05 20:30", A)),  # the evening has begun: so far, now
    ("傍晚", ("2026-11-05 18:00", A)),
    ("中午1点", ("2026-11-05 13:00",)),
    ("10点一刻", ("2026-11-05 10:15",)),
    ("十点零五", ("2026-11-05 10:05",)),
    ("下午3:15", ("2026-11-05 15:15",)),
    ("昨天 8:05", ("2026-11-04 08:05",)),
    ("2周前", ("2026-10-22 12:00", A)),
    ("2026-11-05 20:34", ("2026-11-05 20:34",)),  # within the five minutes a clock may be off
    ("今晚11点", F),
    ("明天", F),
    ("这周五", F),
    ("2027-01-01", F),
    ("2026-11-05 20:40", F),
    ("2月30日", I),
    ("13月1日", I),
    ("25点", I),
    ("10:61", I),
    ("2010-01-01", O),
    ("", E),
    ("   ", E),
    ("他们又打电话了", U),
    ("昨天 blah", U),
    ("分钟前", U),
]


def test_the_table_is_big_enough_to_mean_something():
    assert len(TABLE) >= 40
    assert len({t for t, _ in TABLE}) == len(TABLE)


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[t or "<empty>" for t, _ in TABLE])
def test_typed_time_is_read_as_meant_or_refused(text, expected):
    got = parse_when(text, NOW, BJ)
    if isinstance(expected, Refusal):
        assert (got.at, got.refusal) == (None, expected)
        return
    assert got.refusal is None, got
    assert got.at is not None and got.at.utcoffset() == timedelta(hours=8)
    assert got.at.strftime("%Y-%m-%d %H:%M") == expected[0]
    assert got.approximate == (A in expected)


def test_now_in_another_zone_gives_the_same_instant_in_beijing():
    utc_now = NOW.astimezone(UTC)
    got = parse_when("昨晚11点", utc_now, BJ)
    assert got.at == datetime(2026, 11, 4, 23, 0, tzinfo=BJ)
    assert got.at.tzinfo is BJ


def test_a_day_that_exists_only_in_another_month_is_refused():
    # On 5 December, "31号" would be 31 November, which does not exist.
    got = parse_when("31号", datetime(2026, 12, 5, 9, 0, tzinfo=BJ), BJ)
    assert got.refusal is Refusal.IMPOSSIBLE


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_when("昨天", datetime(2026, 11, 5, 20, 30), BJ)


@pytest.mark.parametrize(
    ("hh", "mm", "night"),
    [(21, 59, False), (22, 0, True), (7, 59, True), (8, 0, False), (0, 0, True), (12, 0, False)],
)
def test_night_is_22_to_8_beijing_time(hh, mm, night):
    assert is_night(datetime(2026, 11, 4, hh, mm, tzinfo=BJ), BJ) is night


def test_night_is_judged_in_beijing_whatever_zone_the_time_carries():
    assert is_night(datetime(2026, 11, 4, 14, 0, tzinfo=UTC), BJ)  # 22:00 in Beijing
    assert not is_night(datetime(2026, 11, 4, 13, 59, tzinfo=UTC), BJ)
    with pytest.raises(ValueError):
        is_night(datetime(2026, 11, 4, 23, 0), BJ)


MONEY = [
    ("3000", "3000"),
    ("3,000", "3000"),
    ("3千", "3000"),
    ("三千", "3000"),
    ("3k", "3000"),
    ("3K", "3000"),
    ("1.2万", "12000"),
    ("一万二", "12000"),
    ("¥2,100", "2100"),
    ("￥2100", "2100"),
    ("2100元", "2100"),
    ("两千五", "2500"),
    ("3000块", "3000"),
    ("三千块钱", "3000"),
    ("3千5", "3500"),
    ("1.5w", "15000"),
    ("2100.50元", "2100.5"),
    ("人民币3000元", "3000"),
    ("1,234,567", "1234567"),
    ("三万五千", "35000"),
    ("一百零五", "105"),
    ("0", "0"),
    ("３０００", "3000"),
]


@pytest.mark.parametrize(("text", "expected"), MONEY)
def test_amounts_as_people_type_them(text, expected):
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", ["-3000", "负三千", "abc", "", "3,00", "30,00", "3.456", "3000元abc", "三k", "100亿", "三千四千", "1e5"]
)
def test_garbage_and_negatives_are_refused(text):
    assert parse_money(text) is None


@pytest.mark.parametrize(
    ("cn", "n"),
    [
        ("十", 10),
        ("十一", 11),
        ("二十二", 22),
        ("四十", 40),
        ("两", 2),
        ("零五", 5),
        ("一百零五", 105),
        ("两千五", 2500),
        ("一万二", 12000),
        ("二〇二六", 2026),
        ("十万", 100000),
        ("一千二百三十四", 1234),
    ],
)
def test_chinese_numerals(cn, n):
    assert cn_to_int(cn) == n
