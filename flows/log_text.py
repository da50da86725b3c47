"""The harassment log in words: lines, the summary, the chart's labels, the timeline CSV, the
pickers and the view of one incident, and the content keys all of them need.

Everything a person reads comes from content (messages_log.yaml); this only arranges it.
Times are shown in the locale's clock (``Locale.tz``), stored in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flows.chart import ChartText
from flows.content import Locale
from flows.feature import messages
from flows.model import Btn, Message
from flows.parse import Refusal, is_night
from flows.record import CHANNELS, RELATIONS, Incident
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


# ---------------------------------------------------------------------------- buttons

FIRST_PAGE = ("parents", "spouse", "children", "colleagues", "boss", "friends")  # two taps; the rest one more
MORE = tuple(r for r in RELATIONS if r not in FIRST_PAGE)


def relation_rows(loc: Locale, rid: int, page: int) -> list[tuple[Btn, ...]]:
    shown = FIRST_PAGE if page == 1 else MORE

    def data(rel: str) -> str:
        return f"lgr|{rel}" if rid == 0 else f"lgsr|{rid}|{rel}"

    buttons = [Btn(relation(loc, r), data(r)) for r in shown]
    rows = [tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3)]
    if page == 1:
        rows.append((Btn(loc.msg("btn_log_more_relations"), f"lgm|{rid}|2"),))
    else:
        rows.append((Btn(loc.msg("btn_back"), f"lgm|{rid}|1"),))
    return rows


def channel_rows(loc: Locale, rid: int, rel: str) -> tuple[tuple[Btn, ...], ...]:
    def data(chan: str) -> str:
        return f"lgc|{rel}|{chan}" if rid == 0 else f"lgsc|{rid}|{chan}"

    buttons = [Btn(channel(loc, c), data(c)) for c in CHANNELS]
    rows = [tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3)]
    back = Btn(loc.msg("btn_back"), "lgh|" if rid == 0 else f"lgo|{rid}")
    return (*rows, (back,))


def incident_view(loc: Locale, rid: int, inc: Incident, *, note: str = "", edit: bool = True) -> Message:
    text = view(loc, rid, inc)
    rows = (
        (Btn(loc.msg("btn_log_relation"), f"lgb|{rid}"), Btn(loc.msg("btn_log_channel"), f"lgv|{rid}")),
        (Btn(loc.msg("btn_log_time"), f"lgt|{rid}"), Btn(loc.msg("btn_log_collector"), f"lgw|{rid}")),
        (Btn(loc.msg("btn_log_note"), f"lgn|{rid}"), Btn(loc.msg("btn_log_evidence"), f"lge|{rid}")),
        (Btn(loc.msg("btn_log_delete"), f"lgd|{rid}"), Btn(loc.msg("btn_log_list"), "lgl|1")),
    )
    return Message(f"{note}\n\n{text}" if note else text, rows, edit)


# ---------------------------------------------------------------------------- what content must hold

MESSAGES = messages(
    {
        **{f"log_rel_{r}": "" for r in RELATIONS},
        **{f"log_chan_{c}": "" for c in CHANNELS},
        **{f"log_time_{r.value}": "" for r in Refusal},
        **{f"log_col_{c}": "tz" for c in LOG_COLUMNS},
        "log_home": "count night",
        "log_home_empty": "",
        "log_line": "no time relation channel night",
        "log_night_mark": "",
        "log_approx": "time",
        "log_weekdays": "",
        "log_empty_field": "",
        "log_ask_relation": "",
        "log_change_relation": "no",
        "log_ask_channel": "relation",
        "log_saved": "no relation channel time tz",
        "log_saved_toast": "no",
        "log_view": "no relation channel time tz night collector note evidence",
        "log_ask_time": "no",
        "log_time_echo": "time tz night",
        "log_time_saved": "time tz",
        "log_ask_collector": "no",
        "log_collector_saved": "",
        "log_ask_note": "no",
        "log_note_saved": "",
        "log_too_long": "limit",
        "log_no_evidence": "",
        "log_pick_evidence": "no",
        "log_delete_confirm": "no",
        "log_gone": "no",
        "log_deleted": "no",
        "log_list_header": "count page pages",
        "log_list_empty": "",
        "log_summary": (
            "count days first latest night tz busiest_day busiest run run_first run_last relations channels recent"
        ),
        "log_count": "what n",
        "log_count_separator": "",
        "log_chart_title": "",
        "log_chart_title_weekly": "",
        "log_chart_day": "",
        "log_chart_night": "",
        "log_chart_caption": "count night tz",
        "log_status": "count night",
        "log_export_file": "",
        "log_export_chart": "",
        "log_yes": "",
        "btn_log_more_relations": "",
        "btn_log_list": "",
        "btn_log_add": "",
        "btn_log_time": "",
        "btn_log_now": "",
        "btn_log_time_ok": "",
        "btn_log_time_again": "",
        "btn_log_collector": "",
        "btn_log_note": "",
        "btn_log_link_latest": "no",
        "btn_log_evidence": "",
        "btn_log_relation": "",
        "btn_log_channel": "",
        "btn_log_delete": "",
        "btn_log_confirm_delete": "",
        "btn_log_summary": "",
        "btn_log_chart": "",
        "btn_log_done": "",
        "btn_back": "",
        "btn_cancel": "",
        "btn_law": "",
        "btn_prev_page": "",
        "btn_next_page": "",
    }
)
PLAIN = frozenset(  # not HTML: also in buttons, the CSV, the picture
    {f"log_rel_{r}" for r in RELATIONS}
    | {f"log_chan_{c}" for c in CHANNELS}
    | {f"log_col_{c}" for c in LOG_COLUMNS}
    | {
        "log_weekdays",
        "log_yes",
        "log_export_file",
        "log_export_chart",
        "log_chart_title",
        "log_chart_title_weekly",
        "log_chart_day",
        "log_chart_night",
        "log_night_mark",
        "log_approx",
        "log_count",
        "log_count_separator",
    }
)
