"""The harassment log (骚扰记录): who was contacted, how, when. Two taps for the common case.

/log (or a content button ``action: log``) asks who was contacted; the next tap says how, and
the incident is kept with the time set to now. Everything else is optional and can be added
or changed later: the time typed in everyday Chinese (read back for confirmation), the
collector's number or name, a note, links to evidence. The summary counts what a complaint,
a police report or a court asks first; the chart shows it day by day.

Callback data (``<rid>`` is the incident's number; 0 while a new one is being logged):
    lgh|               who was contacted? (the log's first screen)
    lgm|<rid>|<page>   the relations on page 1 or 2        lgr|<rel>         who (new) -> how?
    lgc|<rel>|<chan>   how (new): kept, time now           lgl|<page>        the list
    lgo|<rid>          one incident                        lgs|              summary
    lgp|               the chart (a picture)               lgt|<rid>         type its time
    lgk|<rid>|<min>|<a> keep the time read (UTC minutes since 1970, approximate 0/1)
    lgw|<rid>          type the collector's number/name    lgn|<rid>         type a note
    lge|<rid>          link evidence                       lgx|<rid>|<no>    link/unlink item no
    lgb|<rid>          change who                          lgsr|<rid>|<rel>  set who
    lgv|<rid>          change how                          lgsc|<rid>|<chan> set how
    lgd|<rid>          ask to delete                       lgdy|<rid>        delete
Texts it waits for: ``log_when``, ``log_collector``, ``log_note`` (item: the incident number).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from flows import chart, log_text, timeline
from flows.content import Locale
from flows.feature import Feature, FileBody, Id, Route, Stale, Turn
from flows.model import Awaiting, Btn, Keyboard, Message, Reply, SendImage, Toast
from flows.parse import FUTURE_TOLERANCE, MAX_AGE, Refusal, parse_when
from flows.record import CHANNELS, INCIDENT, RELATIONS, Incident
from flows.screens import continue_row

PAGE_SIZE = 4
LATEST_SHOWN = 3
EVIDENCE_OFFERED = 6
MAX_COLLECTOR = 80
MAX_NOTE = 500
CHART_FILE = "shouhu_log_chart.png"
LAW_NODE = "log_incident"  # the content node whose law entries the summary cites (📖)


# ---------------------------------------------------------------------------- reading


async def incidents(turn: Turn) -> list[tuple[int, Incident]]:
    """Every incident, newest first."""
    found = [(rid, Incident.from_body(body)) for rid, body in await turn.store.record_list(turn.case, INCIDENT)]
    return sorted(found, key=lambda p: (p[1].at, p[0]), reverse=True)


async def _get(turn: Turn, rid: int) -> Incident:
    body = await turn.store.record_get(turn.case, INCIDENT, rid)
    if body is None:
        raise Stale(rid)
    return Incident.from_body(body)


async def _typed_for(turn: Turn, awaiting: Awaiting) -> tuple[int, Incident | None]:
    """The incident a typed answer is for (it may have been deleted meanwhile)."""
    rid = awaiting.item or 0
    body = await turn.store.record_get(turn.case, INCIDENT, rid)
    return rid, Incident.from_body(body) if body is not None else None


async def _gone(turn: Turn, rid: int) -> list[Reply]:
    return [Message(turn.loc.msg("log_gone", no=rid)), await listing(turn, 1, edit=False)]


async def _put(turn: Turn, rid: int, inc: Incident) -> None:
    if not await turn.store.record_put(turn.case, INCIDENT, rid, inc.to_body()):
        raise Stale(rid)


# ---------------------------------------------------------------------------- screens


async def home(turn: Turn, *, edit: bool = False) -> Message:
    """The log's first screen: how many so far, the latest few, and "who was contacted?"."""
    loc = turn.loc
    found = await incidents(turn)
    rows = log_text.relation_rows(loc, 0, 1)
    if not found:
        return Message(loc.msg("log_home_empty"), tuple(rows), edit)
    night = sum(1 for _, i in found if log_text.night_mark(loc, i.at))
    parts = [loc.msg("log_home", count=len(found), night=night)]
    parts += [log_text.line(loc, no, i) for no, i in found[:LATEST_SHOWN]]
    rows[-1] += (Btn(loc.msg("btn_log_list"), "lgl|1"),)
    return Message("\n".join(parts) + "\n\n" + loc.msg("log_ask_relation", no=0), tuple(rows), edit)


async def _latest_evidence(turn: Turn, limit: int) -> list[int]:
    count = await turn.store.evidence_count(turn.case)
    items = await turn.store.evidence_page(turn.case, max(count - limit, 0), limit) if count else []
    return [it.no for it in reversed(items)]


async def _saved(turn: Turn, rid: int, inc: Incident) -> Message:
    """Right after two taps: what was kept, and what may be added."""
    loc = turn.loc
    rows: list[tuple[Btn, ...]] = [
        (Btn(loc.msg("btn_log_time"), f"lgt|{rid}"), Btn(loc.msg("btn_log_collector"), f"lgw|{rid}")),
    ]
    last = await _latest_evidence(turn, 1)
    second = [Btn(loc.msg("btn_log_note"), f"lgn|{rid}")]
    if last:
        second.append(Btn(loc.msg("btn_log_link_latest", no=f"E-{last[0]:03d}"), f"lgx|{rid}|{last[0]}"))
    rows.append(tuple(second))
    rows.append((Btn(loc.msg("btn_log_summary"), "lgs|"), Btn(loc.msg("btn_log_done"), "h|")))
    text = loc.msg(
        "log_saved",
        no=rid,
        relation=log_text.relation(loc, inc.relation),
        channel=log_text.channel(loc, inc.channel),
        time=log_text.when(loc, inc.at),
        tz=loc.tz_label,
    )
    return Message(text, tuple(rows), edit=True)


async def listing(turn: Turn, page: int, *, edit: bool = True) -> Message:
    loc = turn.loc
    found = await incidents(turn)
    if not found:
        return Message(loc.msg("log_list_empty"), ((Btn(loc.msg("btn_log_add"), "lgh|"),), *continue_row(loc)), edit)
    pages = (len(found) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 1), pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    lines = [loc.msg("log_list_header", count=len(found), page=page, pages=pages)]
    lines += [log_text.line(loc, no, i) for no, i in shown]
    rows: list[tuple[Btn, ...]] = [(Btn(log_text.button_label(loc, no, i), f"lgo|{no}"),) for no, i in shown]
    nav = []
    if page > 1:
        nav.append(Btn(loc.msg("btn_prev_page"), f"lgl|{page - 1}"))
    if page < pages:
        nav.append(Btn(loc.msg("btn_next_page"), f"lgl|{page + 1}"))
    if nav:
        rows.append(tuple(nav))
    rows.append((Btn(loc.msg("btn_log_summary"), "lgs|"), Btn(loc.msg("btn_log_add"), "lgh|")))
    return Message("\n".join(lines), tuple(rows), edit)


# ---------------------------------------------------------------------------- logging one


async def show_home(turn: Turn) -> list[Reply]:
    return [await home(turn)]


async def press_home(turn: Turn) -> list[Reply]:
    turn.case.awaiting = None
    return [Toast(""), await home(turn, edit=True)]


async def relations_page(turn: Turn, rid: int, page: int) -> list[Reply]:
    if page not in (1, 2):
        raise Stale(page)
    if rid:
        await _get(turn, rid)
    key = "log_ask_relation" if rid == 0 else "log_change_relation"
    return [
        Toast(""),
        Message(turn.loc.msg(key, no=rid), tuple(log_text.relation_rows(turn.loc, rid, page)), edit=True),
    ]


async def pick_relation(turn: Turn, rel: str) -> list[Reply]:
    if rel not in RELATIONS:
        raise Stale(rel)
    loc = turn.loc
    text = loc.msg("log_ask_channel", relation=log_text.relation(loc, rel))
    return [Toast(""), Message(text, log_text.channel_rows(loc, 0, rel), edit=True)]


async def pick_channel(turn: Turn, rel: str, chan: str) -> list[Reply]:
    """The second tap: the incident is kept now, at the present time."""
    if rel not in RELATIONS or chan not in CHANNELS:
        raise Stale(chan)
    inc = Incident(at=timeline.now().replace(second=0, microsecond=0), relation=rel, channel=chan)
    rid = await turn.store.record_add(turn.case, INCIDENT, inc.to_body())
    return [Toast(turn.loc.msg("log_saved_toast", no=rid)), await _saved(turn, rid, inc)]


# ---------------------------------------------------------------------------- one incident


async def open_incident(turn: Turn, rid: int) -> list[Reply]:
    turn.case.awaiting = None
    return [Toast(""), log_text.incident_view(turn.loc, rid, await _get(turn, rid))]


async def change_relation(turn: Turn, rid: int) -> list[Reply]:
    return await relations_page(turn, rid, 1)


async def set_relation(turn: Turn, rid: int, rel: str) -> list[Reply]:
    if rel not in RELATIONS:
        raise Stale(rel)
    inc = replace(await _get(turn, rid), relation=rel)
    await _put(turn, rid, inc)
    return [Toast(log_text.relation(turn.loc, rel)), log_text.incident_view(turn.loc, rid, inc)]


async def change_channel(turn: Turn, rid: int) -> list[Reply]:
    inc = await _get(turn, rid)
    text = turn.loc.msg("log_ask_channel", relation=log_text.relation(turn.loc, inc.relation))
    return [Toast(""), Message(text, log_text.channel_rows(turn.loc, rid, inc.relation), edit=True)]


async def set_channel(turn: Turn, rid: int, chan: str) -> list[Reply]:
    if chan not in CHANNELS:
        raise Stale(chan)
    inc = replace(await _get(turn, rid), channel=chan)
    await _put(turn, rid, inc)
    return [Toast(log_text.channel(turn.loc, chan)), log_text.incident_view(turn.loc, rid, inc)]


def _cancel(loc: Locale, rid: int) -> Keyboard:
    return ((Btn(loc.msg("btn_cancel"), f"lgo|{rid}"),),)


async def ask_time(turn: Turn, rid: int) -> list[Reply]:
    await _get(turn, rid)
    turn.case.awaiting = Awaiting("log_when", rid)
    minute = int(timeline.now().timestamp()) // 60
    rows = ((Btn(turn.loc.msg("btn_log_now"), f"lgk|{rid}|{minute}|0"),), *_cancel(turn.loc, rid))
    return [Toast(""), Message(turn.loc.msg("log_ask_time", no=rid), rows)]


async def typed_time(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    """A time typed in everyday words: read back for a tap, or refused with an example."""
    loc = turn.loc
    rid, inc = await _typed_for(turn, awaiting)
    if inc is None:
        return await _gone(turn, rid)
    turn.case.awaiting = awaiting  # typing again replaces the reading
    reading = parse_when(text, timeline.now(), loc.tz)
    if reading.at is None:
        refusal = reading.refusal or Refusal.UNRECOGNISED
        return [Message(loc.msg(f"log_time_{refusal.value}"), _cancel(loc, rid))]
    minute = int(reading.at.timestamp()) // 60
    echo = loc.msg(
        "log_time_echo",
        time=log_text.when(loc, reading.at, approximate=reading.approximate),
        tz=loc.tz_label,
        night=log_text.night_mark(loc, reading.at),
    )
    rows = (
        (Btn(loc.msg("btn_log_time_ok"), f"lgk|{rid}|{minute}|{int(reading.approximate)}"),),
        (Btn(loc.msg("btn_log_time_again"), f"lgt|{rid}"), Btn(loc.msg("btn_cancel"), f"lgo|{rid}")),
    )
    return [Message(echo, rows)]


async def keep_time(turn: Turn, rid: int, minute: int, approximate: int) -> list[Reply]:
    at = datetime.fromtimestamp(minute * 60, UTC)
    now = timeline.now()
    if approximate not in (0, 1) or at > now + FUTURE_TOLERANCE or at < now - MAX_AGE:
        raise Stale(minute)
    turn.case.awaiting = None
    inc = replace(await _get(turn, rid), at=at, approximate=bool(approximate))
    await _put(turn, rid, inc)
    loc = turn.loc
    note = loc.msg("log_time_saved", time=log_text.when(loc, at, approximate=inc.approximate), tz=loc.tz_label)
    return [Toast(""), log_text.incident_view(loc, rid, inc, note=note)]


async def ask_collector(turn: Turn, rid: int) -> list[Reply]:
    await _get(turn, rid)
    turn.case.awaiting = Awaiting("log_collector", rid)
    return [Toast(""), Message(turn.loc.msg("log_ask_collector", no=rid), _cancel(turn.loc, rid))]


async def ask_note(turn: Turn, rid: int) -> list[Reply]:
    await _get(turn, rid)
    turn.case.awaiting = Awaiting("log_note", rid)
    return [Toast(""), Message(turn.loc.msg("log_ask_note", no=rid), _cancel(turn.loc, rid))]


DETAILS = {  # typed text -> (the incident field it fills, at most how long, what is said once kept)
    "log_collector": ("collector", MAX_COLLECTOR, "log_collector_saved"),
    "log_note": ("note", MAX_NOTE, "log_note_saved"),
}


async def typed_detail(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    """The collector's number or name, or a note: kept, unless too long (then asked again)."""
    loc = turn.loc
    rid, inc = await _typed_for(turn, awaiting)
    if inc is None:
        return await _gone(turn, rid)
    field, limit, saved = DETAILS[awaiting.kind]
    if len(text.strip()) > limit:
        turn.case.awaiting = awaiting
        return [Message(loc.msg("log_too_long", limit=limit), _cancel(loc, rid))]
    changed: dict[str, Any] = {field: text.strip()}
    inc = replace(inc, **changed)
    await _put(turn, rid, inc)
    return [log_text.incident_view(loc, rid, inc, note=loc.msg(saved), edit=False)]


async def pick_evidence(turn: Turn, rid: int) -> list[Reply]:
    return [Toast(""), await _evidence_picker(turn, rid, await _get(turn, rid))]


async def _evidence_picker(turn: Turn, rid: int, inc: Incident) -> Message:
    loc = turn.loc
    offered = sorted(set(await _latest_evidence(turn, EVIDENCE_OFFERED)) | set(inc.evidence), reverse=True)
    back = (Btn(loc.msg("btn_back"), f"lgo|{rid}"),)
    if not offered:
        return Message(loc.msg("log_no_evidence"), (back,), edit=True)
    rows = tuple(
        (Btn(("☑ " if no in inc.evidence else "☐ ") + f"E-{no:03d}", f"lgx|{rid}|{no}"),)
        for no in offered[: EVIDENCE_OFFERED + 1]
    )
    return Message(loc.msg("log_pick_evidence", no=rid), (*rows, back), edit=True)


async def toggle_evidence(turn: Turn, rid: int, no: int) -> list[Reply]:
    inc = await _get(turn, rid)
    if no in inc.evidence:
        linked = tuple(n for n in inc.evidence if n != no)
    elif await turn.store.evidence_get(turn.case, no) is not None:
        linked = (*inc.evidence, no)
    else:
        raise Stale(no)
    inc = replace(inc, evidence=tuple(sorted(linked)))
    await _put(turn, rid, inc)
    return [Toast(f"E-{no:03d}"), await _evidence_picker(turn, rid, inc)]


async def ask_delete(turn: Turn, rid: int) -> list[Reply]:
    loc = turn.loc
    await _get(turn, rid)
    rows = ((Btn(loc.msg("btn_log_confirm_delete"), f"lgdy|{rid}"), Btn(loc.msg("btn_cancel"), f"lgo|{rid}")),)
    return [Toast(""), Message(loc.msg("log_delete_confirm", no=rid), rows, edit=True)]


async def delete(turn: Turn, rid: int) -> list[Reply]:
    if not await turn.store.record_delete(turn.case, INCIDENT, rid):
        raise Stale(rid)
    return [Toast(""), Message(turn.loc.msg("log_deleted", no=rid)), await listing(turn, 1, edit=False)]


# ---------------------------------------------------------------------------- list, summary, chart


async def page(turn: Turn, n: int) -> list[Reply]:
    turn.case.awaiting = None
    return [Toast(""), await listing(turn, n)]


async def summary(turn: Turn) -> list[Reply]:
    loc = turn.loc
    found = await incidents(turn)
    if not found:
        return [Toast(""), await listing(turn, 1, edit=False)]
    s = timeline.summarise((i for _, i in found), loc.tz)
    top: tuple[Btn, ...] = (Btn(loc.msg("btn_log_chart"), "lgp|"),)
    if LAW_NODE in loc.nodes and loc.nodes[LAW_NODE].law:
        top += (Btn(loc.msg("btn_law"), f"w|{LAW_NODE}"),)
    rows = (top, (Btn(loc.msg("btn_log_list"), "lgl|1"), Btn(loc.msg("btn_log_add"), "lgh|")), *continue_row(loc))
    return [Toast(""), Message(log_text.summary_text(loc, s), rows)]


async def picture(turn: Turn) -> list[Reply]:
    loc = turn.loc
    found = await incidents(turn)
    if not found:
        return [Toast(""), await listing(turn, 1, edit=False)]
    s = timeline.summarise((i for _, i in found), loc.tz)
    caption = loc.msg("log_chart_caption", count=s.count, night=s.night, tz=loc.tz_label)
    return [Toast(""), SendImage(CHART_FILE, partial(chart.png, s.days, log_text.chart_text(loc)), caption)]


# ---------------------------------------------------------------------------- export and /status


async def export_files(turn: Turn) -> dict[str, FileBody]:
    """The timeline (CSV, Chinese headers, linked evidence numbers) and the chart (drawn later,
    off the loop and outside the transaction)."""
    loc = turn.loc
    found = await incidents(turn)
    if not found:
        return {}
    s = timeline.summarise((i for _, i in found), loc.tz)
    drawing = partial(chart.png, s.days, log_text.chart_text(loc))
    return {loc.msg("log_export_file"): log_text.timeline_csv(loc, found), loc.msg("log_export_chart"): drawing}


async def status_line(turn: Turn) -> str:
    found = await incidents(turn)
    if not found:
        return ""
    night = sum(1 for _, i in found if log_text.night_mark(turn.loc, i.at))
    return turn.loc.msg("log_status", count=len(found), night=night)


FEATURE = Feature(
    name="log",
    commands={"log": show_home},
    buttons={
        "lgh": Route(press_home),
        "lgm": Route(relations_page, (int, int)),
        "lgr": Route(pick_relation, (Id,)),
        "lgc": Route(pick_channel, (Id, Id)),
        "lgl": Route(page, (int,)),
        "lgo": Route(open_incident, (int,)),
        "lgs": Route(summary),
        "lgp": Route(picture),
        "lgt": Route(ask_time, (int,)),
        "lgk": Route(keep_time, (int, int, int)),
        "lgw": Route(ask_collector, (int,)),
        "lgn": Route(ask_note, (int,)),
        "lge": Route(pick_evidence, (int,)),
        "lgx": Route(toggle_evidence, (int, int)),
        "lgb": Route(change_relation, (int,)),
        "lgsr": Route(set_relation, (int, Id)),
        "lgv": Route(change_channel, (int,)),
        "lgsc": Route(set_channel, (int, Id)),
        "lgd": Route(ask_delete, (int,)),
        "lgdy": Route(delete, (int,)),
    },
    texts={"log_when": typed_time, "log_collector": typed_detail, "log_note": typed_detail},
    exports=export_files,
    status=status_line,
    messages=log_text.MESSAGES,
    plain_messages=log_text.PLAIN,
)
