""" "Should I pay this?": the real rate on the money actually received, against the caps in content.

Pure and network-free: cash flows in, numbers and verdicts out. Sentences live in
content/<locale>/interest.yaml under ``messages:``; ``Check.placeholders()`` fills them.

Cash flows are seen from the borrower: ``RECEIVED`` is money that reached their hands (after
砍头息 and any fee deducted up front: deducted money was never received), ``REPAYMENT`` and
``FEE`` are money they paid out. The rate is the internal rate of return of those flows.

Annualising (the convention courts and regulators use when they state an annual rate):
the rate is found **per unit period** and multiplied by the periods in a year, *not*
compounded. The unit period follows the repayment schedule:

* one repayment date        -> the whole term (7 days: rate for the week × 365/7);
* repayments monthly on the same day of the month -> one month (× 12), the way an
  instalment loan's "IRR 年化" is quoted;
* repayments every n days   -> n days (× 365/n);
* anything irregular        -> one day (× 365).

Within the schedule, whole unit periods compound and an odd fraction of a period earns
simple interest (the actuarial method): a flow ``n + f`` periods after the first money
received is discounted by ``(1 + i)^n · (1 + f·i)``. A month counts whole calendar months,
then leftover days as thirtieths. The compounded figure ``(1 + i)^periods − 1`` is kept
as a secondary number only.

A year has 365 days. Rates are fractions (0.24 = 24%); ``simple_annual`` is rounded to
0.0001 (0.01 percentage point) *before* it is compared with a cap, so the verdict agrees
with the figure a person sees.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from flows.errors import ShouhuFlowError

DAYS_PER_YEAR = 365
MAX_SIMPLE_ANNUAL = 100.0  # 10,000 %: above this the dates or amounts are almost surely mistyped
MAX_SPAN = timedelta(days=3660)  # about ten years between the first and the last flow
LPR_STALE_AFTER = timedelta(days=28)  # a fixing holds until the next one, about a month later
_BP = Decimal("0.0001")


class Flow(str, Enum):
    RECEIVED = "received"
    REPAYMENT = "repayment"
    FEE = "fee"


@dataclass(frozen=True)
class CashFlow:
    on: date
    amount: Decimal  # yuan, > 0; the kind says which way it went
    kind: Flow


class Problem(str, Enum):
    """Why no rate can be given; each has a message ``interest_error_<value>`` in content."""

    NOTHING_RECEIVED = "nothing_received"
    NO_REPAYMENT = "no_repayment"
    REPAYMENT_BEFORE_LOAN = "repayment_before_loan"
    BAD_AMOUNT = "bad_amount"
    SPAN_TOO_LONG = "span_too_long"
    RATE_ABSURD = "rate_absurd"


class InterestInputError(ShouhuFlowError):
    """The flows cannot give a meaningful rate; ``problem`` says which way."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.value)


class Unit(str, Enum):
    TERM = "term"
    MONTH = "month"
    DAYS = "days"
    DAY = "day"


@dataclass(frozen=True)
class Rate:
    received: Decimal
    paid: Decimal  # repayments and fees
    first_day: date
    last_day: date
    unit: Unit
    unit_days: int  # TERM/DAYS: days in one period; MONTH: 0; DAY: 1
    periods_per_year: float
    period_rate: float  # i: the rate for one unit period
    simple_annual: Decimal  # i × periods_per_year, rounded to 0.0001
    effective_annual: float | None  # (1 + i)^periods_per_year − 1; None if it overflows

    @property
    def cost(self) -> Decimal:
        return self.paid - self.received

    @property
    def no_interest(self) -> bool:
        return self.simple_annual <= 0


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (Jan 31 + 1 -> Feb 28/29)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(d.day, (nxt - timedelta(days=1)).day))


def _unit(start: date, repayments: list[date]) -> tuple[Unit, int, float]:
    """The unit period read off the repayment dates (all after ``start``, sorted, distinct).

    Same day of each month is monthly even with an odd first period (received on the 10th,
    repaid on the 15ths). Every-n-days needs the schedule to show it: two equal gaps, or one
    gap equal to the first period; otherwise the schedule is irregular and the unit is a day.
    """
    if len(repayments) == 1:
        days = (repayments[0] - start).days
        return Unit.TERM, days, DAYS_PER_YEAR / days
    if all(d == add_months(repayments[0], k) for k, d in enumerate(repayments)):
        return Unit.MONTH, 0, 12.0
    gaps = {(b - a).days for a, b in itertools.pairwise(repayments)}
    if len(gaps) == 1 and (len(repayments) > 2 or (repayments[0] - start).days in gaps):
        gap = gaps.pop()
        return Unit.DAYS, gap, DAYS_PER_YEAR / gap
    return Unit.DAY, 1, float(DAYS_PER_YEAR)


def _periods(start: date, d: date, unit: Unit, unit_days: int) -> float:
    if unit is not Unit.MONTH:
        return (d - start).days / unit_days
    months = (d.year - start.year) * 12 + d.month - start.month
    while months > 0 and add_months(start, months) > d:
        months -= 1
    return months + (d - add_months(start, months)).days / 30


def _npv(flows: list[tuple[float, float]], i: float) -> float:
    """Present value of (periods, signed amount) at rate ``i``: what was paid minus received."""
    total, log = 0.0, math.log1p(i)
    for t, amount in flows:
        n = math.floor(t)
        total += amount * math.exp(-n * log) / (1 + (t - n) * i)
    return total


def real_rate(flows: Sequence[CashFlow]) -> Rate:
    """The rate on the money actually received. Raises ``InterestInputError``, never returns < 0."""
    if any(not isinstance(f.amount, Decimal) or not f.amount.is_finite() or f.amount <= 0 for f in flows):
        raise InterestInputError(Problem.BAD_AMOUNT)
    received = [f for f in flows if f.kind is Flow.RECEIVED]
    if not received:
        raise InterestInputError(Problem.NOTHING_RECEIVED)
    start = min(f.on for f in received)
    out = [f for f in flows if f.kind is not Flow.RECEIVED]
    if any(f.on < start for f in out):
        raise InterestInputError(Problem.REPAYMENT_BEFORE_LOAN)
    repay_days = sorted({f.on for f in flows if f.kind is Flow.REPAYMENT})
    if not repay_days:
        raise InterestInputError(Problem.NO_REPAYMENT)
    last = max(f.on for f in flows)
    if last - start > MAX_SPAN:
        raise InterestInputError(Problem.SPAN_TOO_LONG)
    on_day_one = sum((f.amount if f.kind is Flow.RECEIVED else -f.amount) for f in flows if f.on == start)
    if on_day_one <= 0:
        raise InterestInputError(Problem.NOTHING_RECEIVED)  # handed straight back: nothing to borrow

    total_in = sum((f.amount for f in received), Decimal(0))
    total_out = sum((f.amount for f in out), Decimal(0))
    later = [d for d in repay_days if d > start] or sorted({f.on for f in out if f.on > start})
    if total_out <= total_in:
        unit, unit_days, per_year = _unit(start, later) if later else (Unit.DAY, 1, float(DAYS_PER_YEAR))
        return Rate(total_in, total_out, start, last, unit, unit_days, per_year, 0.0, Decimal(0), 0.0)
    if not later:
        raise InterestInputError(Problem.RATE_ABSURD)  # unreachable: day-one check above; kept as a guard
    unit, unit_days, per_year = _unit(start, later)
    signed = [
        (_periods(start, f.on, unit, unit_days), float(f.amount) * (-1 if f.kind is Flow.RECEIVED else 1))
        for f in flows
    ]
    lo, hi = 0.0, MAX_SIMPLE_ANNUAL / per_year
    if _npv(signed, hi) > 0:
        raise InterestInputError(Problem.RATE_ABSURD)
    for _ in range(200):  # bisection: NPV falls from Σpaid − Σreceived > 0 at 0 to ≤ 0 at hi
        mid = (lo + hi) / 2
        if _npv(signed, mid) > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * max(1.0, hi):
            break
    i = (lo + hi) / 2
    simple = Decimal(repr(i * per_year)).quantize(_BP, ROUND_HALF_UP)
    try:
        effective: float | None = math.expm1(per_year * math.log1p(i))
    except OverflowError:
        effective = None
    return Rate(total_in, total_out, start, last, unit, unit_days, per_year, i, simple, effective)


# ----------------------------------------------------------------------------- caps


@dataclass(frozen=True)
class LprFixing:
    on: date  # publication day; the value holds from then until the next fixing
    rate: Decimal  # one-year LPR as a fraction (0.031 = 3.10%)
    certainty: str  # verified | reported (see content/README.md, law.yaml)
    source: str
    as_of: date


@dataclass(frozen=True)
class CapLine:
    id: str  # "lpr_cap" for the multiple of the LPR; otherwise the key under lines: (line_24, line_36)
    rate: Decimal
    exceeded: bool


@dataclass(frozen=True)
class Caps:
    """The caps as content states them: the LPR table, its multiple and the fixed lines."""

    lpr: tuple[LprFixing, ...]  # sorted by date
    confirmed_through: date  # the latest fixing checked against a source
    lpr_multiple: Decimal
    lines: tuple[tuple[str, Decimal], ...]  # (id, rate)

    def lpr_at(self, day: date) -> LprFixing | None:
        """The fixing in force on ``day``; None before the first one (2019-08-20)."""
        found = None
        for fixing in self.lpr:
            if fixing.on > day:
                break
            found = fixing
        return found


class CapsError(ShouhuFlowError):
    """interest.yaml is not shaped as expected; the message names the field."""


def caps_from_mapping(data: Mapping[str, Any]) -> Caps:
    try:
        table = data["lpr_1y"]
        fixings = tuple(
            LprFixing(
                _date(v["from"]),
                Decimal(str(v["rate"])) / 100,
                str(v["certainty"]),
                str(v["source"]),
                _date(v["as_of"]),
            )
            for v in table["values"]
        )
        lines = tuple((str(k), Decimal(str(v["rate"])) / 100) for k, v in data["lines"].items())
        multiple = Decimal(str(data["lpr_cap"]["multiple"]))
        confirmed = _date(table["confirmed_through"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise CapsError(f"interest caps: missing or malformed field ({exc!r})") from exc
    if list(fixings) != sorted(fixings, key=lambda f: f.on) or not fixings:
        raise CapsError("interest caps: lpr_1y.values must be non-empty and in date order")
    if any(not 0 < f.rate < Decimal("0.2") for f in fixings) or any(
        f.certainty not in ("verified", "reported") for f in fixings
    ):
        raise CapsError("interest caps: every LPR needs a rate between 0 and 20 and certainty verified|reported")
    return Caps(fixings, confirmed, multiple, lines)


def load_caps(path: Path) -> Caps:
    return caps_from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")))


def _date(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v))


@dataclass(frozen=True)
class Check:
    rate: Rate
    contract_date: date
    lpr: LprFixing | None  # None: the contract predates the LPR, so there is no 4×LPR line
    lpr_confirmed: bool  # False: the contract is after the last fixing content has checked
    lines: tuple[CapLine, ...]

    @property
    def exceeded(self) -> tuple[str, ...]:
        return tuple(line.id for line in self.lines if line.exceeded)

    def placeholders(self) -> dict[str, str]:
        """Numbers for the ``{...}`` in interest.yaml messages, formatted for reading."""
        r = self.rate
        out = {
            "received": _yuan(r.received),
            "paid": _yuan(r.paid),
            "cost": _yuan(max(r.cost, Decimal(0))),
            "days": str((r.last_day - r.first_day).days),
            "first_day": r.first_day.isoformat(),
            "rate": _pct(r.simple_annual),
            "period_rate": _pct(Decimal(repr(r.period_rate))),
            "effective": _pct(Decimal(repr(r.effective_annual))) if r.effective_annual is not None else "—",
            "contract_date": self.contract_date.isoformat(),
            "lpr": "",
            "lpr_date": "",
            "cap_lpr_cap": "",
        }
        if self.lpr:
            out.update(lpr=_pct(self.lpr.rate), lpr_date=self.lpr.on.isoformat())
        out.update({f"cap_{line.id}": _pct(line.rate) for line in self.lines})
        return out


def _pct(x: Decimal) -> str:
    return f"{(x * 100).quantize(Decimal('0.01'), ROUND_HALF_UP):,}%"


def _yuan(x: Decimal) -> str:
    return f"{x.quantize(Decimal('0.01'), ROUND_HALF_UP):,}".removesuffix(".00")


def check(flows: Sequence[CashFlow], caps: Caps, contract_date: date | None = None) -> Check:
    """The rate, and which of the caps it exceeds. ``contract_date`` defaults to the first money received."""
    rate = real_rate(flows)
    day = contract_date or rate.first_day
    lpr = caps.lpr_at(day)
    lines = []
    if lpr:
        cap = lpr.rate * caps.lpr_multiple
        lines.append(CapLine("lpr_cap", cap, rate.simple_annual > cap))
    lines += [CapLine(id_, cap, rate.simple_annual > cap) for id_, cap in caps.lines]
    confirmed = lpr is not None and day < caps.confirmed_through + LPR_STALE_AFTER
    return Check(rate, day, lpr, confirmed, tuple(lines))
