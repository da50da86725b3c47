"""A repayment schedule (or a list of fees) as people type it, read into dated amounts.

Repayment dates lie ahead as often as behind, so this reads dates of its own rather than
``parse_when`` (which reads moments already past). What people type:

    10月8日 3000            one sum on one day (the first such day on or after the money arrived;
                            without that day, the one nearest to today)
    7天 3000 / 7天后还3000   one sum n days after the money arrived
    2026-10-08 还 3000       a full date
    每月15日还350，共12期    instalments: count, amount and (optionally) the day of the month;
    12期 每期350             without a day, the first falls one month after the money arrived
    one line per payment     several of the first three forms, one per line (or separated by ；)

Amounts go through ``flows.parse.parse_money`` (三千, 3k, 2,100元). Every reading is echoed
back by the caller before it is kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from flows.interest import add_months
from flows.parse import cn_to_int, parse_money
from flows.record import Installment

MAX_INSTALMENTS = 120  # ten years of monthly payments
MAX_DAYS_AHEAD = 3660

_CN_RUN = re.compile("[零〇一二两三四五六七八九十百千万]+")
_FULL = re.compile(r"(?P<y>\d{4})\s*[年\-/.]\s*(?P<m>\d{1,2})\s*[月\-/.]\s*(?P<d>\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(r"(?P<m>\d{1,2})\s*[月/]\s*(?P<d>\d{1,2})\s*[日号]?")
_DAYS_AFTER = re.compile(r"(?P<n>\d{1,4})\s*(?:天|日)(?:后|以后|之后|到期)?")
_COUNT = re.compile(r"(?:分|共|一共)?\s*(?P<n>\d{1,3})\s*期")
_EACH = re.compile(r"(?:每期|每月|每个月|月供)\s*(?:还款|还|应还|要还)?\s*(?P<amount>\d[\d.,]*\s*[kw千万]?\s*元?)")
_DAY_OF_MONTH = re.compile(r"每(?:个)?月\s*(?P<d>\d{1,2})\s*[日号]")
_FILLER = re.compile(r"(要还|应还|还款|需还|还|共计|合计|一共|金额|到期|本息|元整|：|:|，|,|。|\s)+")
_SPLIT = re.compile(r"[\n；;]+")
_FEE_WORDS = re.compile(r"(服务费|会员费|担保费|手续费|管理费|展期费|费用|费)")


class ScheduleProblem(str, Enum):
    """Why a schedule could not be read; each has a message ``facts_schedule_<value>`` in content."""

    UNRECOGNISED = "unrecognised"
    NEEDS_START = "needs_start"  # "7天" or "12期" without the day the money arrived
    BEFORE_START = "before_start"  # a payment before the money arrived
    TOO_MANY = "too_many"
    TOO_FAR = "too_far"
    NEEDS_SCHEDULE = "needs_schedule"  # "每期 50" before the repayment schedule is known


@dataclass(frozen=True)
class Reading:
    payments: tuple[Installment, ...] = ()
    problem: ScheduleProblem | None = None
    monthly: bool = False  # read from "n 期": shown back as count × amount from the first date


def _digits(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).strip().lower()
    return _CN_RUN.sub(lambda m: str(v) if (v := cn_to_int(m.group())) is not None else m.group(), s)


def _amount(text: str) -> Decimal | None:
    rest = _FILLER.sub("", _FEE_WORDS.sub("", text))
    value = parse_money(rest) if rest else None
    return value if value and value > 0 else None


def _on_or_after(start: date | None, month: int, day: int, today: date) -> date:
    """Month-day without a year: the first one on or after ``start``; without a start, the one
    nearest to today (a due day just past is as likely as one ahead)."""
    if start is not None:
        candidate = date(start.year, month, day)
        return candidate if candidate >= start else date(start.year + 1, month, day)
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:  # 2月29日 outside a leap year
            continue
    if not candidates:
        raise ValueError("no such day")
    return min(candidates, key=lambda d: abs((d - today).days))


def _one(line: str, start: date | None, today: date) -> Installment | ScheduleProblem:
    try:
        if m := _FULL.search(line):
            on = date(int(m["y"]), int(m["m"]), int(m["d"]))
        elif m := _MONTH_DAY.search(line):
            on = _on_or_after(start, int(m["m"]), int(m["d"]), today)
        elif m := _DAYS_AFTER.search(line):
            if start is None:
                return ScheduleProblem.NEEDS_START
            on = start + timedelta(days=int(m["n"]))
        else:
            return ScheduleProblem.UNRECOGNISED
    except ValueError:  # 2月30日
        return ScheduleProblem.UNRECOGNISED
    amount = _amount(line[: m.start()] + " " + line[m.end() :])
    if amount is None:
        return ScheduleProblem.UNRECOGNISED
    return Installment(on, amount)


def _monthly(s: str, start: date | None) -> Reading | None:
    count, each = _COUNT.search(s), _EACH.search(_DAY_OF_MONTH.sub("每月", s))
    if not count or not each:
        return None
    amount = _amount(each["amount"])
    n = int(count["n"])
    if amount is None or n < 1:
        return Reading(problem=ScheduleProblem.UNRECOGNISED)
    if n > MAX_INSTALMENTS:
        return Reading(problem=ScheduleProblem.TOO_MANY)
    if start is None:
        return Reading(problem=ScheduleProblem.NEEDS_START)
    first = add_months(start, 1)
    if d := _DAY_OF_MONTH.search(s):
        day = int(d["d"])
        if not 1 <= day <= 31:
            return Reading(problem=ScheduleProblem.UNRECOGNISED)
        first = _next_day_of_month(start, day)
    return Reading(tuple(Installment(add_months(first, k), amount) for k in range(n)), monthly=True)


def _next_day_of_month(start: date, day: int) -> date:
    """The first ``day``-th of a month after ``start`` (clamped to short months' ends)."""
    for k in range(2):
        month = add_months(start.replace(day=1), k)
        candidate = month.replace(day=min(day, _month_end(month)))
        if candidate > start:
            return candidate
    raise AssertionError("the day comes round within two months")


def _month_end(d: date) -> int:
    return (add_months(d.replace(day=1), 1) - timedelta(days=1)).day


def parse_schedule(text: str, start: date | None, today: date) -> Reading:
    """Read ``text`` as dated payments; ``start`` is the day the money arrived (if known)."""
    s = _digits(text or "")
    if not s:
        return Reading(problem=ScheduleProblem.UNRECOGNISED)
    monthly = _monthly(s, start)
    if monthly is not None:
        return _checked(monthly, start, today)
    payments = []
    for line in (x.strip() for x in _SPLIT.split(s)):
        if not line:
            continue
        got = _one(line, start, today)
        if isinstance(got, ScheduleProblem):
            return Reading(problem=got)
        payments.append(got)
    if not payments:
        return Reading(problem=ScheduleProblem.UNRECOGNISED)
    if len(payments) > MAX_INSTALMENTS:
        return Reading(problem=ScheduleProblem.TOO_MANY)
    return _checked(Reading(tuple(sorted(payments, key=lambda p: p.on))), start, today)


def _checked(reading: Reading, start: date | None, today: date) -> Reading:
    if reading.problem or not reading.payments:
        return reading
    if start and reading.payments[0].on < start:
        return Reading(problem=ScheduleProblem.BEFORE_START)
    if reading.payments[-1].on > today + timedelta(days=MAX_DAYS_AHEAD):
        return Reading(problem=ScheduleProblem.TOO_FAR)
    return reading


def parse_fees(text: str, start: date | None, schedule: tuple[Installment, ...], today: date) -> Reading:
    """Fees read like a schedule; "每期 50" / "每月服务费50" without a count is a fee on every
    date of the repayment ``schedule``."""
    reading = parse_schedule(text, start, today)
    if reading.problem is not ScheduleProblem.UNRECOGNISED:
        return reading
    each = _EACH.search(_digits(_FEE_WORDS.sub("", text or "")))  # 每月服务费50 -> 每月50
    amount = _amount(each["amount"]) if each else None
    if amount is None:
        return reading
    if not schedule:
        return Reading(problem=ScheduleProblem.NEEDS_SCHEDULE)
    return Reading(tuple(Installment(p.on, amount) for p in schedule), monthly=True)
