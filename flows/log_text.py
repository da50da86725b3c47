"""The harassment log in words: lines, the summary, the chart's labels and the timeline CSV.

Everything a person reads comes from content (messages_log.yaml); this only arranges it.
Times are shown in the locale's clock (``Locale.tz``), stored in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flows.chart import ChartText
from flows.content import Locale
from flows.parse import is_night
from flows.record import Incident
from flows.timeline import Summary
from storage.export_text import csv_bytes

LOG_COLUMNS = ("no", "time", "night", "relation", "channel", "approximate", "collector", "note", "evidence")
RECENT_DAYS = 7  # days counted one by one in the summary (the chart shows them all)
SHOWN_TEXT = 40  # characters of a collector's name or a note shown in a line (all of it in the view and export)


def short(text: str, limit: int = SHOWN_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def relation(loc: Locale, rid: str) -> str:
    return loc.msg(f"log_rel_{rid}")


def channel(loc: Locale, cid: str) -> str:
    return loc.msg(f"log_chan_{cid}")


def when(loc: Locale, at: datetime, *, approximate: bool = False, full: bool = True) -> str:
    """2026-11-03 周二 22:40 (full) or 11-03 22:40, in the locale's clock; 约 for a vague time."""
    local = at.astimezone(loc.tz)
    weekday = loc.msg("log_weekdays").split()[local.weekday()]
    text = f"{local:%Y-%m-%d} {weekday} {local:%H:%M}" if full else f"{local:%m-%d %H:%M}"
    return loc.msg("log_approx", time=text) if approximate else text


def night_mark(loc: Locale, at: datetime) -> str:
    return loc.msg("log_night_mark") if is_night(at, loc.tz) else ""


def line(loc: Locale, no: int, inc: Incident) -> str:
    return loc.msg(
        "log_line",
        no=no,
        time=when(loc, inc.at, approximate=inc.approximate, full=False),
        relation=relation(loc, inc.relation),
        channel=channel(loc, inc.channel),
        night=night_mark(loc, inc.at),
    )


def button_label(loc: Locale, no: int, inc: Incident) -> str:
    local = inc.at.astimezone(loc.tz)
    night = loc.msg("log_night_mark") if is_night(inc.at, loc.tz) else ""
    return f"#{no} {local:%m-%d %H:%M} {relation(loc, inc.relation)}·{channel(loc, inc.channel)}{night}"


def evidence_labels(nos: Sequence[int]) -> str:
    return " ".join(f"E-{n:03d}" for n in sorted(nos))


def view(loc: Locale, no: int, inc: Incident) -> str:
    """One incident, whole (note and name shortened only past what a screen holds)."""
    empty = loc.msg("log_empty_field")
    return loc.msg(
        "log_view",
        no=no,
        relation=relation(loc, inc.relation),
        channel=channel(loc, inc.channel),
        time=when(loc, inc.at, approximate=inc.approximate),
        tz=loc.tz_label,
        night=night_mark(loc, inc.at),
        collector=short(inc.collector, 80) or empty,
        note=short(inc.note, 200) or empty,
        evidence=evidence_labels(inc.evidence) or empty,
    )


def _counts(loc: Locale, pairs: Sequence[tuple[str, int]], prefix: str) -> str:
    return loc.msg("log_count_separator").join(
        loc.msg("log_count", what=loc.msg(f"{prefix}{k}"), n=n) for k, n in pairs
    )


def summary_text(loc: Locale, s: Summary) -> str:
    assert s.first and s.latest and s.run and s.busiest
    return loc.msg(
        "log_summary",
        count=s.count,
        days=s.active_days,
        first=when(loc, s.first, full=False),
        latest=when(loc, s.latest, full=False),
        night=s.night,
        tz=loc.tz_label,
        busiest_day=f"{s.busiest.on:%m-%d}",
        busiest=s.busiest.total,
        run=s.run.days,
        run_first=f"{s.run.first:%m-%d}",
        run_last=f"{s.run.last:%m-%d}",
        relations=_counts(loc, s.by_relation, "log_rel_"),
        channels=_counts(loc, s.by_channel, "log_chan_"),
        recent=loc.msg("log_count_separator").join(
            loc.msg("log_count", what=f"{d.on:%m-%d}", n=d.total) for d in s.days[-RECENT_DAYS:]
        ),
    )


def chart_text(loc: Locale) -> ChartText:
    return ChartText(
        title=loc.msg("log_chart_title"),
        title_weekly=loc.msg("log_chart_title_weekly"),
        day=loc.msg("log_chart_day"),
        night=loc.msg("log_chart_night"),
    )


def timeline_csv(loc: Locale, incidents: Sequence[tuple[int, Incident]]) -> bytes:
    """The timeline for people (Excel/WPS): Chinese headers, local times, every cell safe."""
    yes = loc.msg("log_yes")
    header = [loc.msg(f"log_col_{c}", tz=loc.tz_label) for c in LOG_COLUMNS]
    rows = [
        [
            no,
            f"{inc.at.astimezone(loc.tz):%Y-%m-%d %H:%M}",
            yes if is_night(inc.at, loc.tz) else "",
            relation(loc, inc.relation),
            channel(loc, inc.channel),
            yes if inc.approximate else "",
            inc.collector,
            inc.note,
            evidence_labels(inc.evidence),
        ]
        for no, inc in sorted(incidents, key=lambda p: (p[1].at, p[0]))
    ]
    return csv_bytes(header, rows)
