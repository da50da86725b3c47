"""Reminders: follow-ups after a filing, each sent once, which the victim can turn off.

A filing (flows/features/filings.py) schedules what content's reminders.yaml says for its kind:
no answer to a complaint after the period content states, a police report without a 接报案回执,
what happens after a lawsuit is filed. Each is a record of kind ``reminder`` with ``due_at``
(the database is the truth: they survive restarts); handlers/reminders.py wakes on a timer,
finds the due ones (``Storage.due_records``) and calls ``fire`` in one transaction per reminder:
the record is deleted there, so a reminder is sent once even if the bot restarts right after.
Reminders arrive at ``SEND_HOUR`` local time, never at night. Turning reminders off deletes the
pending ones; /delete erases them with the case.

Callback data:
    rm|off   turn reminders off (cancels the pending ones)     rm|on   turn them back on
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flows.content import Locale
from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.filing import (
    COMPLAINT,
    COMPLAINT_NO_ANSWER,
    FILING,
    LAWSUIT,
    LAWSUIT_NEXT,
    POLICE,
    POLICE_NO_RECEIPT,
    REMINDER_RULES,
    Filing,
)
from flows.model import Btn, Keyboard, Message, Reply, Toast
from flows.screens import continue_row, local_tz

log = logging.getLogger(__name__)

REMINDER = "reminder"  # body: {"rule": one of REMINDER_RULES, "filing": filing record number}
PREFS = "reminder_prefs"  # one record (number 1): {"off": bool}
SEND_HOUR = 10  # local time a reminder is due on its day


def _utc_now() -> datetime:
    return datetime.now(UTC)


clock: Callable[[], datetime] = _utc_now  # tests drive time by replacing this


def now() -> datetime:
    return clock()


def today(loc: Locale) -> date:
    return now().astimezone(local_tz(loc)).date()


def rules_for(filing: Filing) -> list[str]:
    """The follow-ups a complete filing calls for (each at most once)."""
    if not filing.complete:
        return []
    wanted = {
        COMPLAINT: [COMPLAINT_NO_ANSWER],
        POLICE: [POLICE_NO_RECEIPT] if filing.receipt is False else [],
        LAWSUIT: [LAWSUIT_NEXT],
    }.get(filing.type, [])
    return [r for r in wanted if r not in filing.reminded]


def due_at(loc: Locale, rule: str, filing: Filing) -> datetime | None:
    """``SEND_HOUR`` local time, ``after_days`` after the filing's day (content's reminders.yaml)."""
    rules = loc.drafts.reminders if loc.drafts else {}
    since = filing.since
    if rule not in rules or since is None:
        return None
    day = since + timedelta(days=rules[rule].after_days)
    return datetime.combine(day, time(SEND_HOUR), local_tz(loc)).astimezone(UTC)


async def is_off(turn: Turn) -> bool:
    prefs = await turn.store.record_get(turn.case, PREFS, 1)
    return bool(prefs and prefs.get("off"))


async def _set_off(turn: Turn, off: bool) -> None:
    if await turn.store.record_get(turn.case, PREFS, 1) is None:
        await turn.store.record_add(turn.case, PREFS, {"off": off})
    else:
        await turn.store.record_put(turn.case, PREFS, 1, {"off": off})


async def pending(turn: Turn) -> list[tuple[int, dict]]:
    return await turn.store.record_list(turn.case, REMINDER)


async def cancel(turn: Turn, filing_rid: int | None = None) -> int:
    """Delete the pending reminders (of one filing, or all); returns how many."""
    n = 0
    for rid, body in await pending(turn):
        if filing_rid is None or body.get("filing") == filing_rid:
            n += await turn.store.record_delete(turn.case, REMINDER, rid)
    return n


async def schedule(turn: Turn, filing_rid: int, filing: Filing, *, future_only: bool = False) -> datetime | None:
    """(Re)plan the reminders of one filing; the earliest due time, or None (off, or nothing due).
    One already past its time is due now (the next wake-up sends it), unless ``future_only``."""
    await cancel(turn, filing_rid)
    if await is_off(turn):
        return None
    earliest = None
    for rule in rules_for(filing):
        at = due_at(turn.loc, rule, filing)
        if at is None or (future_only and at <= now()):
            continue
        at = max(at, now())
        await turn.store.record_add(turn.case, REMINDER, {"rule": rule, "filing": filing_rid}, due_at=at)
        earliest = at if earliest is None else min(earliest, at)
    return earliest


def _filing_words(loc: Locale, filing: Filing) -> dict[str, str]:
    blank = loc.msg("draft_blank")
    return {
        "date": loc.msg("draft_date", y=filing.since.year, m=filing.since.month, d=filing.since.day)
        if filing.since
        else blank,
        "channel": loc.msg(f"filing_channel_{filing.channel}") if filing.channel else blank,
        "station": filing.station or blank,
        "court": filing.court or blank,
    }


@dataclass(frozen=True)
class Fired:
    """A reminder taken from the record to be sent: what to show, and what puts it back."""

    replies: list[Reply]
    rule: str
    filing: int


async def fire(turn: Turn, rid: int, at: datetime | None = None) -> Fired | None:
    """Take reminder ``rid`` out of the record and say it, if it is still wanted (the 回执 may
    have come, reminders may be off): it is deleted either way, so it is sent at most once.
    ``at`` is the time it is sent (the timer's clock): the days since the filing count to it."""
    body = await turn.store.record_get(turn.case, REMINDER, rid)
    if body is None:  # cancelled meanwhile
        return None
    await turn.store.record_delete(turn.case, REMINDER, rid)
    rule, filing_rid = body.get("rule"), body.get("filing")
    raw = await turn.store.record_get(turn.case, FILING, filing_rid) if isinstance(filing_rid, int) else None
    drafts = turn.loc.drafts
    if raw is None or not isinstance(rule, str) or rule not in REMINDER_RULES or drafts is None:
        return None
    filing = Filing.from_body(raw)
    if rule not in rules_for(filing) or await is_off(turn):
        return None
    assert isinstance(filing_rid, int)
    await turn.store.record_put(
        turn.case, FILING, filing_rid, filing.with_(reminded=(*filing.reminded, rule)).to_body()
    )
    loc = turn.loc
    source = drafts.reminders[rule]
    sent_on = (at or now()).astimezone(local_tz(loc)).date()
    days = (sent_on - filing.since).days if filing.since else source.after_days
    words = _filing_words(loc, filing)
    text = loc.msg(
        f"reminder_{rule}",
        days=days,
        source=source.source,
        as_of=source.as_of,
        **{k: words[k] for k in _PLACEHOLDERS[rule].split() if k in words},
    )
    return Fired([Message(text, reminder_buttons(loc))], rule, filing_rid)


async def put_back(turn: Turn, fired: Fired, at: datetime) -> None:
    """A reminder that could not be delivered: due again at ``at``, not counted as sent."""
    raw = await turn.store.record_get(turn.case, FILING, fired.filing)
    if raw is None:
        return
    filing = Filing.from_body(raw)
    reminded = tuple(r for r in filing.reminded if r != fired.rule)
    await turn.store.record_put(turn.case, FILING, fired.filing, filing.with_(reminded=reminded).to_body())
    await turn.store.record_add(turn.case, REMINDER, {"rule": fired.rule, "filing": fired.filing}, due_at=at)


def reminder_buttons(loc: Locale) -> Keyboard:
    return (
        (Btn(loc.msg("btn_reminders_off"), "rm|off"), Btn(loc.msg("btn_filings"), "pl|")),
        *continue_row(loc),
    )


# ---------------------------------------------------------------------------- /reminders


async def screen(turn: Turn) -> list[Reply]:
    loc = turn.loc
    if await is_off(turn):
        return [
            Message(loc.msg("reminders_off_now"), ((Btn(loc.msg("btn_reminders_on"), "rm|on"),), *continue_row(loc)))
        ]
    count = len(await pending(turn))
    return [
        Message(
            loc.msg("reminders_on_now", count=count),
            ((Btn(loc.msg("btn_reminders_off"), "rm|off"),), *continue_row(loc)),
        )
    ]


async def switch(turn: Turn, answer: str) -> list[Reply]:
    loc = turn.loc
    if answer == "off":
        cancelled = await cancel(turn)
        await _set_off(turn, True)
        return [Toast(""), Message(loc.msg("reminders_turned_off", count=cancelled), continue_row(loc))]
    if answer != "on":
        raise Stale(answer)
    await _set_off(turn, False)
    for rid, body in await turn.store.record_list(turn.case, FILING):
        await schedule(turn, rid, Filing.from_body(body), future_only=True)
    count = len(await pending(turn))
    return [Toast(""), Message(loc.msg("reminders_turned_on", count=count), continue_row(loc))]


_PLACEHOLDERS = {
    COMPLAINT_NO_ANSWER: "channel date days source as_of",
    POLICE_NO_RECEIPT: "station date days source as_of",
    LAWSUIT_NEXT: "court date days source as_of",
}

FEATURE = Feature(
    name="reminders",
    commands={"reminders": screen},
    buttons={"rm": Route(switch, (Id,))},
    messages=messages(
        {
            **{f"reminder_{rule}": placeholders for rule, placeholders in _PLACEHOLDERS.items()},
            "reminders_on_now": "count",
            "reminders_off_now": "",
            "reminders_turned_off": "count",
            "reminders_turned_on": "count",
            "btn_reminders_off": "",
            "btn_reminders_on": "",
        }
    ),
)
