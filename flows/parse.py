"""What people type, read as times and amounts: Chinese first, no network, no guessing in silence.

A frightened person types "昨晚11点" or "两千五", not ISO dates. This module turns such text
into an aware ``datetime`` or a ``Decimal``, or says plainly why it cannot (``Refusal``), so the
caller can echo the reading back for confirmation or ask again with an example.

Conventions (the echo-back shows the result, so a surprising reading gets corrected):

* Chinese numerals become digits first: 二十二点四十 -> 22点40, 十一月三日 -> 11月3日, 两 = 2.
* A day part shifts the hour: 下午3点 -> 15:00, 晚上11点 -> 23:00, 凌晨两点 -> 02:00.
  Late-night hours belong to the night after the named day: 昨晚1点 -> today 01:00,
  晚上12点 -> 00:00 of the next day. Without a day part the hour is read as 24-hour clock.
* A day part without a time takes a default hour and is marked ``approximate``:
  凌晨 03:00 · 清晨 06:00 · 早上 07:00 · 上午 10:00 · 中午 12:00 · 下午 15:00 · 傍晚 18:00 ·
  晚上 21:00 · 夜里/深夜 23:00 · 半夜/午夜 00:00 of the next day. A day without any time
  (昨天, 三天前, 11月3日) is 12:00, approximate. 晚上 defaults to 21:00 on purpose: a vague
  "evening" is not counted as night-time (22:00-08:00) unless the person says so.
* When no day is named (晚上11点, 22:40, 周五) the latest such moment not in the future is
  meant; a month-day without a year is the latest one not after today; 3号 is this month's
  or, if still ahead, last month's. An explicitly named day (今天, 明天, 这周五, a full date)
  is never moved: if it is ahead of ``now`` by more than ``FUTURE_TOLERANCE`` it is refused.
* 上周五 is the Friday of the previous calendar week (weeks start on Monday); 周五 alone is
  the latest Friday on or before today.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from enum import Enum

FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks drift; "现在" typed a minute late is not the future
MAX_AGE = timedelta(days=3653)  # ten years back: older is almost surely a typo (2016 for 2026)
MAX_MONEY = Decimal(1_000_000_000)  # a billion yuan is not a consumer loan


class Refusal(str, Enum):
    EMPTY = "empty"
    UNRECOGNISED = "unrecognised"
    IMPOSSIBLE = "impossible"  # 2月30日, 25点, 13月
    FUTURE = "future"
    TOO_OLD = "too_old"


@dataclass(frozen=True)
class When:
    """A reading of a typed time: ``at`` (aware, in the caller's tz) or a ``refusal``."""

    at: datetime | None
    approximate: bool = False  # the hour (or minute) is a default, not what was typed
    refusal: Refusal | None = None


# ----------------------------------------------------------------------------- numerals

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_CN_RUN = re.compile("[零〇一二两三四五六七八九十百千万亿]+")


def cn_to_int(s: str) -> int | None:
    """十一 -> 11, 二十二 -> 22, 一百零五 -> 105, 两千五 -> 2500, 一万二 -> 12000, 二〇二六 -> 2026."""
    if not s:
        return None
    if all(c in _DIGITS for c in s):
        return int("".join(str(_DIGITS[c]) for c in s))
    total = section = 0
    digit: int | None = None
    last_unit = 0
    zero = False
    for c in s:
        if c in _DIGITS:
            if _DIGITS[c] == 0:
                zero, digit = True, None
                continue
            if digit is not None:
                return None  # 二三 inside a number with units: not a number we understand
            digit = _DIGITS[c]
        elif c in _UNITS:
            unit = _UNITS[c]
            if digit is None:
                if unit != 10 or section or total:
                    return None
                digit = 1  # 十一: the leading 一 is left out
            if section and last_unit < 10_000 and unit >= last_unit:
                return None  # 三千四千: within a section the units must fall
            section += digit * unit
            digit, last_unit, zero = None, unit, False
        else:
            big = _BIG[c]
            section += digit or 0
            if not section:
                return None
            total += section * big
            section, digit, last_unit, zero = 0, None, big, False
    if digit is not None:
        # 两千五 / 一万二: a last digit right after a unit means one unit lower (五 = 500).
        section += digit * (last_unit // 10) if last_unit >= 10 and not zero else digit
    return total + section


def _arabic(text: str) -> str:
    return _CN_RUN.sub(lambda m: str(v) if (v := cn_to_int(m.group())) is not None else m.group(), text)


# ----------------------------------------------------------------------------- times

_SHORT = re.compile(r"(?<![天周期拜])(今|昨|前|明)(晚上|晚|早上|早|晨|夜里|夜)")
_SHORT_DAY = {"今": "今天", "昨": "昨天", "前": "前天", "明": "明天"}
_SHORT_PART = {"晚上": "晚上", "晚": "晚上", "早上": "早上", "早": "早上", "晨": "清晨", "夜里": "夜里", "夜": "夜里"}
_FUZZ_BEFORE = re.compile(r"^(大概|大约|约莫|约|差不多|估计|好像是|好像|可能是)")
_FUZZ_AFTER = re.compile(r"(左右|前后|多|的时候|时候|那会儿?)$")
_NOW = {"现在", "此刻", "当下", "now", "刚刚", "刚才", "刚", "just now"}
_AGO = re.compile(r"^(?P<n>\d{1,3})?个?(?P<half>半)?个?(?P<u>分钟|分|小时|钟头)前$")

# fmt: off
_REL_DAYS = {"大前天": -3, "前天": -2, "前日": -2, "昨天": -1, "昨日": -1, "昨儿": -1,
             "今天": 0, "今日": 0, "今儿": 0, "明天": 1, "明日": 1, "后天": 2}
# fmt: on
_DATE = re.compile(
    r"(?P<n>\d{1,3})\s*个?\s*(?P<u>天|日|周|星期|礼拜)前"
    r"|(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<mo>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*[日号]?"
    r"|(?P<mo2>\d{1,2})\s*(?:/|月)\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?P<d3>\d{1,2})\s*[日号]"
    r"|(?P<rel>" + "|".join(sorted(_REL_DAYS, key=len, reverse=True)) + r")"
    r"|(?P<wk>上上个?|上个?|这个?|本)?(?:周|星期|礼拜)(?P<wd>[1-7日天])"
)
# (start hour of the part, default hour, rule for typed hours); 半夜's default is next-day 00:00.
# fmt: off
_PARTS: dict[str, tuple[int, int, str]] = {
    "凌晨": (0, 3, "small"), "清晨": (5, 6, "am"), "早晨": (5, 7, "am"), "早上": (5, 7, "am"),
    "早": (5, 7, "am"), "上午": (8, 10, "am"), "中午": (11, 12, "noon"), "午后": (12, 14, "pm"),
    "下午": (12, 15, "pm"), "傍晚": (17, 18, "pm"), "晚上": (18, 21, "night"), "晚间": (18, 21, "night"),
    "晚": (18, 21, "night"), "夜里": (20, 23, "night"), "夜间": (20, 23, "night"),
    "深夜": (22, 23, "night"), "半夜": (24, 24, "night"), "午夜": (24, 24, "night"),
}
# fmt: on
_PART = re.compile("|".join(sorted(_PARTS, key=len, reverse=True)))
_TIME = re.compile(
    r"(?P<h>\d{1,2})\s*(?::\s*(?P<m>\d{2})(?::\d{2})?|[点时]\s*(?:钟|(?P<half>半)|(?P<q>[13])\s*刻|(?P<m2>\d{1,2})\s*分?)?)"
)


def _hour(rule: str | None, h: int) -> tuple[int, int]:
    """(24-hour clock hour, days after the named day) for an hour typed after a day part."""
    if rule == "small":
        return (0 if h == 12 else h), 0
    if rule == "noon":
        return (h + 12 if 1 <= h <= 5 else h), 0
    if rule == "pm":
        return (h + 12 if h < 12 else h), 0
    if rule == "night":
        if h in (12, 24):
            return 0, 1
        if h <= 5:
            return h, 1
        return (h + 12 if h < 12 else h), 0
    return (0, 1) if h == 24 else (h, 0)


def _normalise(text: str) -> tuple[str, bool]:
    s = unicodedata.normalize("NFKC", text).strip().lower().rstrip("。.!！?？,，")
    fuzzy = False
    for pattern in (_FUZZ_BEFORE, _FUZZ_AFTER):
        s, n = pattern.subn("", s.strip())
        fuzzy = fuzzy or bool(n)
    s = _arabic(s.replace("的", ""))
    s = _SHORT.sub(lambda m: _SHORT_DAY[m.group(1)] + _SHORT_PART[m.group(2)], s)
    return s.strip(), fuzzy


def parse_when(text: str, now: datetime, tz: tzinfo) -> When:
    """Read ``text`` as a past moment in ``tz`` relative to ``now`` (which must be aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(tz)
    s, fuzzy = _normalise(text or "")
    if not s:
        return When(None, refusal=Refusal.EMPTY)
    if s in _NOW:
        return When(now, approximate=s not in ("现在", "此刻", "当下", "now"))
    if m := _AGO.fullmatch(s):
        if not (m["n"] or m["half"]):
            return When(None, refusal=Refusal.UNRECOGNISED)
        amount = int(m["n"] or 0) + (0.5 if m["half"] else 0)
        step = timedelta(minutes=1) if m["u"].startswith("分") else timedelta(hours=1)
        return _checked(now - amount * step, now, fuzzy)

    pos, today = 0, now.date()
    day: date | None = None
    how = "implicit"  # implicit: may move back; explicit: never moved; yearless/monthless: move back a year/month
    if m := _DATE.match(s):
        pos = m.end()
        try:
            day, how = _day(m, today)
        except ValueError:
            return When(None, refusal=Refusal.IMPOSSIBLE)
    s = s[pos:].lstrip(" t")
    part = None
    if m := _PART.match(s):
        part = _PARTS[m.group()]
        s = s[m.end() :].lstrip()
    tm = _TIME.fullmatch(s) if s else None
    if s and not tm or (day is None and part is None and tm is None):
        return When(None, refusal=Refusal.UNRECOGNISED)

    approximate = fuzzy
    if tm:
        hour, offset = _hour(part[2] if part else None, int(tm["h"]))
        minute = int(tm["m"] or tm["m2"] or 0) + (30 if tm["half"] else 0) + 15 * int(tm["q"] or 0)
        if hour > 23 or minute > 59 or (int(tm["h"]) == 24 and minute):
            return When(None, refusal=Refusal.IMPOSSIBLE)
    elif part:
        hour, offset, approximate = part[1] % 24, part[1] // 24, True
    else:
        hour, minute, offset, approximate = 12, 0, 0, True
    if not tm:
        minute = 0

    base = day or today
    at = datetime.combine(base + timedelta(days=offset), time(hour, minute), tzinfo=tz)
    if at > now + FUTURE_TOLERANCE:
        if not tm and part and base == today and part[0] <= now.hour:
            at = now  # 今天下午, typed at 14:30: this afternoon so far
        elif how == "implicit":
            at -= timedelta(days=1)
        elif how == "weekday":
            at -= timedelta(days=7)
    return _checked(at, now, approximate)


def _day(m: re.Match[str], today: date) -> tuple[date, str]:
    if m["n"]:
        return today - timedelta(days=int(m["n"]) * (1 if m["u"] in "天日" else 7)), "explicit"
    if m["y"]:
        return date(int(m["y"]), int(m["mo"]), int(m["d"])), "explicit"
    if m["mo2"]:
        mo, d = int(m["mo2"]), int(m["d2"])
        date(2024, mo, d)  # a leap year: 2月29日 is a real day in some year
        year = today.year if (mo, d) <= (today.month, today.day) else today.year - 1
        return date(year, mo, d), "yearless"
    if m["d3"]:
        d = int(m["d3"])
        if d <= today.day:
            return today.replace(day=d), "monthless"
        prev = today.replace(day=1) - timedelta(days=1)
        return prev.replace(day=d), "monthless"
    if m["rel"]:
        return today + timedelta(days=_REL_DAYS[m["rel"]]), "explicit"
    if m["wd"]:
        wd = 6 if m["wd"] in "日天7" else int(m["wd"]) - 1
        monday = today - timedelta(days=today.weekday())
        wk = m["wk"] or ""
        if wk.startswith("上上"):
            return monday - timedelta(days=14) + timedelta(days=wd), "explicit"
        if wk.startswith("上"):
            return monday - timedelta(days=7) + timedelta(days=wd), "explicit"
        if wk:
            return monday + timedelta(days=wd), "explicit"
        return today - timedelta(days=(today.weekday() - wd) % 7), "weekday"
    raise AssertionError("_DATE matched no alternative")


def _checked(at: datetime, now: datetime, approximate: bool) -> When:
    if at > now + FUTURE_TOLERANCE:
        return When(None, refusal=Refusal.FUTURE)
    if at < now - MAX_AGE:
        return When(None, refusal=Refusal.TOO_OLD)
    return When(at, approximate=approximate)


def is_night(t: datetime, tz: tzinfo) -> bool:
    """22:00 <= local time < 08:00: the hours collection standards keep free of calls."""
    if t.tzinfo is None:
        raise ValueError("t must be timezone-aware")
    local = t.astimezone(tz).time()
    return local >= time(22) or local < time(8)


# ----------------------------------------------------------------------------- money

_MONEY = re.compile(
    r"(?:¥|rmb|cny|人民币)?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?|\d*[零〇一二两三四五六七八九十百千万亿\d]+)"
    r"\s*(?P<unit>k|w|千|万)?\s*(?:元|块钱|块|圆|rmb)?"
)


def parse_money(text: str) -> Decimal | None:
    """ "3,000", "3千", "三千", "3k", "1.2万", "一万二", "¥2,100", "2100元", "两千五", "3000块" -> yuan.

    Refuses negatives, more than two decimals, malformed thousands separators and anything
    that is not only an amount (returns None); the caller asks again with an example.
    """
    s = unicodedata.normalize("NFKC", text or "").strip().lower().replace("￥", "¥").replace(" ", "")
    m = _MONEY.fullmatch(s)
    if not m:
        return None
    num, unit = m["num"], m["unit"]
    scale = {"k": 1000, "千": 1000, "w": 10_000, "万": 10_000}.get(unit or "", 1)
    if re.search("[零〇一二两三四五六七八九十百千万亿]", num):
        # 三千 / 3千5 / 一万二: write Arabic digits as Chinese ones and read the whole numeral.
        chinese = "".join("零一二三四五六七八九"[int(c)] if c.isdigit() else c for c in num)
        if unit in ("千", "万"):
            chinese += unit
            scale = 1
        elif unit:
            return None
        value = cn_to_int(chinese)
        if value is None:
            return None
        amount = Decimal(value)
    else:
        try:
            amount = Decimal(num.replace(",", "")) * scale
        except InvalidOperation:
            return None
    if amount > MAX_MONEY:
        return None
    return amount.quantize(Decimal("0.01")).normalize() if amount % 1 else Decimal(int(amount))
