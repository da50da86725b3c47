"""The harassment log, counted: what a complaint, a police report or a court asks first.

Pure: incidents in, numbers out, in the locale's time zone (a day is a calendar day there, and
night is 22:00 to 08:00 there, the hours collection standards keep free of calls). Words and
layout belong to the log feature and its content file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from flows.parse import is_night
from flows.record import CHANNELS, RELATIONS, Incident


def now() -> datetime:
    """The present moment, aware (UTC): what "now" means when an incident is logged. One
    function, looked up at call time, so a test can set the clock (``monkeypatch``)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Day:
    on: date
    total: int
    night: int

    @property
    def daytime(self) -> int:
        return self.total - self.night


@dataclass(frozen=True)
class Run:
    """The longest stretch of consecutive calendar days with at least one incident."""

    days: int
    first: date
    last: date


@dataclass(frozen=True)
class Summary:
    count: int = 0
    night: int = 0
    by_relation: tuple[tuple[str, int], ...] = ()  # most first, ties in RELATIONS order
    by_channel: tuple[tuple[str, int], ...] = ()
    days: tuple[Day, ...] = field(default=(), repr=False)  # every day from the first to the latest, zeros included
    first: datetime | None = None
    latest: datetime | None = None
    run: Run | None = None

    @property
    def active_days(self) -> int:
        return sum(1 for d in self.days if d.total)

    @property
    def busiest(self) -> Day | None:
        """The day with the most incidents (the latest such day on a tie)."""
        return max((d for d in self.days if d.total), key=lambda d: (d.total, d.on), default=None)


def _ranked(counts: Counter[str], order: Sequence[str]) -> tuple[tuple[str, int], ...]:
    rank = {k: i for i, k in enumerate(order)}
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], rank.get(kv[0], len(rank)), kv[0])))


def longest_run(days: Iterable[date]) -> Run | None:
    best: Run | None = None
    start = prev = None
    for d in sorted(set(days)):
        if prev is None or d - prev != timedelta(days=1):
            start = d
        prev = d
        assert start is not None
        length = (d - start).days + 1
        if best is None or length > best.days:
            best = Run(length, start, d)
    return best


def summarise(incidents: Iterable[Incident], tz: tzinfo) -> Summary:
    items = sorted(incidents, key=lambda i: i.at)
    if not items:
        return Summary()
    per_day: Counter[date] = Counter()
    night_day: Counter[date] = Counter()
    night = 0
    for i in items:
        day = i.at.astimezone(tz).date()
        per_day[day] += 1
        if is_night(i.at, tz):
            night += 1
            night_day[day] += 1
    first_day, last_day = min(per_day), max(per_day)
    days = tuple(
        Day(d, per_day[d], night_day[d])
        for d in (first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1))
    )
    return Summary(
        count=len(items),
        night=night,
        by_relation=_ranked(Counter(i.relation for i in items), RELATIONS),
        by_channel=_ranked(Counter(i.channel for i in items), CHANNELS),
        days=days,
        first=items[0].at,
        latest=items[-1].at,
        run=longest_run(per_day),
    )
