"""The filings tracker: what the victim filed, where and when; shown in /status and exported.

Three kinds (flows/filing.py): a complaint (channel, date, reference), a police report (station,
date, 接报案回执 or not), a lawsuit (court, date, case number). A new filing is stored at once
and its questions are asked one by one; every one can be skipped (a blank in the drafts, never a
guess). When the last is answered, reminders are planned (flows/features/reminders.py).

Callback data:
    pl|                        the list                   pn|<type>     record a new filing
    pa|<rid>|<field>|<value>   a button's answer (value ``-`` skips; a date: ``today``/``yesterday``)
    po|<rid>   open one        pr|<rid>  the 回执 came     pd|<rid>  ask to delete   pdy|<rid>  delete
Texts it waits for: ``filing_<field>`` (item = the filing's number) for typed answers.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flows.content import Locale
from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.features import reminders
from flows.filing import COMPLAINT, COMPLAINT_CHANNELS, FILING, LAWSUIT, POLICE, TYPES, Filing
from flows.model import Awaiting, Btn, Keyboard, Message, Reply, Toast
from flows.parse import parse_when
from flows.screens import continue_row, local_tz

FIELDS = {
    COMPLAINT: ("channel", "on", "reference"),
    POLICE: ("station", "on", "receipt"),
    LAWSUIT: ("court", "on", "case_no"),
}
TYPED = ("on", "reference", "station", "court", "case_no")  # answered by typing (buttons offer shortcuts)
MAX_TYPED = 100  # characters kept of a typed answer (a station's or a court's name, a number)
SHOWN_IN_STATUS = 6
OPEN_BUTTONS = 4  # with the three "record a new one" and the continue button: 8 buttons at most


def _blank(loc: Locale) -> str:
    return loc.msg("draft_blank")


def line(loc: Locale, n: int, f: Filing) -> str:
    """One filing in a list: its kind, where, when, its number or 回执."""
    blank = _blank(loc)
    date = loc.msg("draft_date", y=f.on.year, m=f.on.month, d=f.on.day) if f.on else blank
    common = {"n": n, "date": date}
    if f.type == COMPLAINT:
        channel = loc.msg(f"filing_channel_{f.channel}") if f.channel else blank
        text = loc.msg("filing_line_complaint", channel=channel, reference=f.reference or blank, **common)
    elif f.type == POLICE:
        receipt = {True: "filing_receipt_yes", False: "filing_receipt_no", None: "draft_blank"}[f.receipt]
        text = loc.msg("filing_line_police", station=f.station or blank, receipt=loc.msg(receipt), **common)
    else:
        text = loc.msg("filing_line_lawsuit", court=f.court or blank, case_no=f.case_no or blank, **common)
    return text if f.complete else text + loc.msg("filing_incomplete")


async def _all(turn: Turn) -> list[tuple[int, Filing]]:
    return [(rid, Filing.from_body(body)) for rid, body in await turn.store.record_list(turn.case, FILING)]


async def _one(turn: Turn, rid: int) -> Filing:
    body = await turn.store.record_get(turn.case, FILING, rid)
    if body is None:
        raise Stale(rid)
    return Filing.from_body(body)


def _add_row(loc: Locale) -> tuple[Btn, ...]:
    return tuple(Btn(loc.msg(f"btn_filing_{t}"), f"pn|{t}") for t in TYPES)


async def filings_screen(turn: Turn, *, edit: bool = False) -> Message:
    loc = turn.loc
    found = await _all(turn)
    if not found:
        return Message(loc.msg("filings_empty"), (_add_row(loc), *continue_row(loc)), edit)
    lines = [loc.msg("filings_header")] + [line(loc, n, f) for n, (_, f) in enumerate(found, start=1)]
    latest = list(enumerate(found, start=1))[-OPEN_BUTTONS:]  # the list shows all; the latest can be opened
    opens = tuple(Btn(loc.msg("btn_filing_open", n=n), f"po|{rid}") for n, (rid, _) in latest)
    return Message("\n".join(lines), (opens, _add_row(loc), *continue_row(loc)), edit)


async def show(turn: Turn) -> list[Reply]:
    return [await filings_screen(turn)]


async def show_pressed(turn: Turn) -> list[Reply]:
    return [Toast(""), await filings_screen(turn)]


# ---------------------------------------------------------------------------- recording one


def _question(loc: Locale, rid: int, f: Filing, field: str) -> Message:
    skip = Btn(loc.msg("btn_skip"), f"pa|{rid}|{field}|-")
    if field == "channel":
        opts = [Btn(loc.msg(f"filing_channel_{c}"), f"pa|{rid}|channel|{c}") for c in COMPLAINT_CHANNELS]
        rows: Keyboard = (*(tuple(opts[i : i + 2]) for i in range(0, len(opts), 2)), (skip,))
        return Message(loc.msg("filing_ask_channel"), rows)
    if field == "receipt":
        return Message(
            loc.msg("filing_ask_receipt"),
            (
                (
                    Btn(loc.msg("btn_receipt_yes"), f"pa|{rid}|receipt|yes"),
                    Btn(loc.msg("btn_receipt_no"), f"pa|{rid}|receipt|no"),
                ),
            ),
        )
    if field == "on":
        return Message(
            loc.msg("filing_ask_date", what=loc.msg(f"filing_type_{f.type}")),
            (
                (
                    Btn(loc.msg("btn_today"), f"pa|{rid}|on|today"),
                    Btn(loc.msg("btn_yesterday"), f"pa|{rid}|on|yesterday"),
                ),
                (skip,),
            ),
        )
    return Message(loc.msg(f"filing_ask_{field}"), ((skip,),))


async def _next(turn: Turn, rid: int, f: Filing, answered: str) -> list[Reply]:
    """Store ``f`` and ask the question after ``answered``; after the last, plan reminders."""
    fields = FIELDS[f.type]
    following = fields[fields.index(answered) + 1 :] if answered in fields else fields
    if following:
        await turn.store.record_put(turn.case, FILING, rid, f.to_body())
        field = following[0]
        if field in TYPED:
            turn.case.awaiting = Awaiting(f"filing_{field}", rid)
        return [_question(turn.loc, rid, f, field)]
    f = f.with_(complete=True)
    await turn.store.record_put(turn.case, FILING, rid, f.to_body())
    loc = turn.loc
    n = [r for r, _ in await _all(turn)].index(rid) + 1
    due = await reminders.schedule(turn, rid, f)
    text = loc.msg("filing_saved", line=line(loc, n, f))
    if due is not None:
        text += "\n" + loc.msg("filing_reminder_set", date=due.astimezone(local_tz(loc)).strftime("%Y-%m-%d"))
    return [Message(text, (_add_row(loc), (Btn(loc.msg("btn_filings"), "pl|"),), *continue_row(loc)))]


async def new(turn: Turn, kind: str) -> list[Reply]:
    if kind not in TYPES:
        raise Stale(kind)
    f = Filing(kind, noted=reminders.today(turn.loc))
    rid = await turn.store.record_add(turn.case, FILING, f.to_body())
    return [Toast(""), *await _next(turn, rid, f, "")]


async def answer(turn: Turn, rid: int, field: str, value: str) -> list[Reply]:
    f = await _one(turn, rid)
    if field not in FIELDS.get(f.type, ()):
        raise Stale(field)
    turn.case.awaiting = None
    if value == "-":
        return [Toast(""), *await _next(turn, rid, f, field)]
    if field == "channel" and value in COMPLAINT_CHANNELS:
        f = f.with_(channel=value)
    elif field == "receipt" and value in ("yes", "no"):
        f = f.with_(receipt=value == "yes")
    elif field == "on" and value in ("today", "yesterday"):
        f = f.with_(on=reminders.today(turn.loc) - timedelta(days=1 if value == "yesterday" else 0))
    else:
        raise Stale(value)
    return [Toast(""), *await _next(turn, rid, f, field)]


async def typed(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    field = awaiting.kind.removeprefix("filing_")
    rid = awaiting.item or 0
    body = await turn.store.record_get(turn.case, FILING, rid)
    if body is None:
        return [Message(turn.loc.msg("filing_gone"), continue_row(turn.loc))]
    f = Filing.from_body(body)
    value = " ".join(text.split())[:MAX_TYPED]
    if field == "on":
        when = parse_when(value, reminders.now(), local_tz(turn.loc))
        if when.at is None:
            turn.case.awaiting = awaiting  # ask again, same question
            return [Message(turn.loc.msg("filing_date_unclear"), _question(turn.loc, rid, f, "on").buttons)]
        f = f.with_(on=when.at.date())
    else:
        f = f.with_(**{field: value})
    return await _next(turn, rid, f, field)


# ---------------------------------------------------------------------------- one filing


async def open_one(turn: Turn, rid: int) -> list[Reply]:
    loc, f = turn.loc, await _one(turn, rid)
    n = [r for r, _ in await _all(turn)].index(rid) + 1
    first: tuple[Btn, ...] = ()
    if f.type == POLICE and f.receipt is not True:
        first = (Btn(loc.msg("btn_got_receipt"), f"pr|{rid}"),)
    rows: Keyboard = (
        *((first,) if first else ()),
        (Btn(loc.msg("btn_filing_delete"), f"pd|{rid}"), Btn(loc.msg("btn_filings"), "pl|")),
    )
    return [Toast(""), Message(line(loc, n, f), rows)]


async def got_receipt(turn: Turn, rid: int) -> list[Reply]:
    f = await _one(turn, rid)
    if f.type != POLICE:
        raise Stale(rid)
    f = f.with_(receipt=True)
    await turn.store.record_put(turn.case, FILING, rid, f.to_body())
    await reminders.cancel(turn, rid)  # nothing to chase any more
    return [Toast(""), Message(turn.loc.msg("filing_receipt_saved"), ((Btn(turn.loc.msg("btn_filings"), "pl|"),),))]


async def ask_delete(turn: Turn, rid: int) -> list[Reply]:
    loc, f = turn.loc, await _one(turn, rid)
    n = [r for r, _ in await _all(turn)].index(rid) + 1
    return [
        Toast(""),
        Message(
            loc.msg("filing_delete_confirm", line=line(loc, n, f)),
            ((Btn(loc.msg("btn_filing_delete_yes"), f"pdy|{rid}"), Btn(loc.msg("btn_cancel"), f"po|{rid}")),),
        ),
    ]


async def delete(turn: Turn, rid: int) -> list[Reply]:
    await reminders.cancel(turn, rid)
    if not await turn.store.record_delete(turn.case, FILING, rid):
        raise Stale(rid)
    return [Toast(""), Message(turn.loc.msg("filing_deleted")), await filings_screen(turn)]


# ---------------------------------------------------------------------------- /status and /export


async def status_lines(turn: Turn) -> str:
    """Beside the five steps in /status: what was filed where (the latest few)."""
    loc = turn.loc
    found = [(n, f) for n, (_, f) in enumerate(await _all(turn), start=1)]
    if not found:
        return loc.msg("filings_status_none")
    shown = [line(loc, n, f) for n, f in found[-SHOWN_IN_STATUS:]]
    more = len(found) - len(shown)
    lines = [loc.msg("filings_status_header", count=len(found)), *shown]
    return "\n".join(lines + ([loc.msg("filings_status_more", count=more)] if more else []))


EXPORT_COLUMNS = ("type", "date", "where", "number", "receipt", "complete")


async def export_file(turn: Turn) -> dict[str, bytes]:
    """A table for people (Excel opens it): one row per filing, in the locale's words."""
    loc = turn.loc
    found = await _all(turn)
    if not found:
        return {}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([loc.msg(f"filings_col_{c}") for c in EXPORT_COLUMNS])
    for _, f in found:
        where = {
            COMPLAINT: loc.msg(f"filing_channel_{f.channel}") if f.channel else "",
            POLICE: f.station,
            LAWSUIT: f.court,
        }
        number = {COMPLAINT: f.reference, POLICE: "", LAWSUIT: f.case_no}
        receipt = "" if f.type != POLICE or f.receipt is None else loc.msg("draft_yes" if f.receipt else "draft_no")
        writer.writerow(
            [
                _safe(loc.msg(f"filing_type_{f.type}")),
                f.on.isoformat() if f.on else "",
                _safe(where.get(f.type) or ""),
                _safe(number.get(f.type) or ""),
                receipt,
                loc.msg("draft_yes" if f.complete else "draft_no"),
            ]
        )
    return {loc.msg("filings_export_file"): ("\ufeff" + out.getvalue()).encode("utf-8")}


def _safe(cell: str) -> str:
    """A spreadsheet must show, never run, what was typed (=, +, -, @ start a formula)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


FEATURE = Feature(
    name="filings",
    commands={"filings": show},
    buttons={
        "pl": Route(show_pressed),
        "pn": Route(new, (Id,)),
        "pa": Route(answer, (int, Id, Id)),
        "po": Route(open_one, (int,)),
        "pr": Route(got_receipt, (int,)),
        "pd": Route(ask_delete, (int,)),
        "pdy": Route(delete, (int,)),
    },
    texts={f"filing_{field}": typed for field in TYPED},
    exports=export_file,
    status=status_lines,
    messages=messages(
        {
            "filings_header": "",
            "filings_empty": "",
            "filing_line_complaint": "n date channel reference",
            "filing_line_police": "n date station receipt",
            "filing_line_lawsuit": "n date court case_no",
            "filing_incomplete": "",
            **{f"filing_type_{t}": "" for t in TYPES},
            **{f"filing_channel_{c}": "" for c in COMPLAINT_CHANNELS},
            "filing_receipt_yes": "",
            "filing_receipt_no": "",
            "filing_ask_channel": "",
            "filing_ask_date": "what",
            "filing_ask_reference": "",
            "filing_ask_station": "",
            "filing_ask_receipt": "",
            "filing_ask_court": "",
            "filing_ask_case_no": "",
            "filing_date_unclear": "",
            "filing_gone": "",
            "filing_saved": "line",
            "filing_reminder_set": "date",
            "filing_receipt_saved": "",
            "filing_delete_confirm": "line",
            "filing_deleted": "",
            "filings_status_none": "",
            "filings_status_header": "count",
            "filings_status_more": "count",
            "filings_export_file": "",
            **{f"filings_col_{c}": "" for c in EXPORT_COLUMNS},
            **{f"btn_filing_{t}": "" for t in TYPES},
            "btn_filing_open": "n",
            "btn_filings": "",
            "btn_skip": "",
            "btn_today": "",
            "btn_yesterday": "",
            "btn_receipt_yes": "",
            "btn_receipt_no": "",
            "btn_got_receipt": "",
            "btn_filing_delete": "",
            "btn_filing_delete_yes": "",
            "btn_cancel": "",
        }
    ),
    plain_messages=frozenset({"filings_export_file", *(f"filings_col_{c}" for c in EXPORT_COLUMNS)}),
)
