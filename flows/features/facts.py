"""The case facts (案件信息): a short interview whose answers every later document is written from.

Twelve questions, asked one at a time: the app, the lender, the collection company, the amount
in the contract and the amount received, the day it arrived, the repayment schedule, fees paid
besides it, what has been paid, overdue since when, the city, and a name (only if the person
wants it in documents; otherwise documents show a blank). Every question can be skipped and
changed later; every answer is read back. Unknown facts stay unknown (None), never guessed.

Callback data (``<mode>``: ``all`` walks the questions in order, ``one`` changes one):
    fv|                 the facts so far               fe|<page>          choose one to change
    fq|<mode>|<i>       ask question i                 fs|<mode>|<i>      skip it (keep what is there)
    fc|<mode>|<i>       clear it (make it unknown)
Texts it waits for: ``facts_all`` and ``facts_one`` (item: the question's index).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flows import timeline
from flows.content import Locale
from flows.feature import Feature, FileBody, Id, Route, Stale, Turn, messages
from flows.interest import add_months
from flows.model import Awaiting, Btn, Keyboard, Message, Reply, Toast
from flows.parse import Refusal, parse_money, parse_when
from flows.record import FACTS, Facts, Installment
from flows.schedule import ScheduleProblem, parse_fees, parse_schedule
from flows.screens import continue_row

MAX_TEXT = 60  # a name, an app, a city: longer is almost surely something else pasted
SHOWN = 20  # characters of an answer in the overview (twelve lines must fit one screen)
SHOWN_STATUS = 24  # ... and in /status
PICKER_PAGE = 6
LISTED_PAYMENTS = 4


class Kind(enum.Enum):
    TEXT = "text"
    MONEY = "money"
    DATE = "date"
    SCHEDULE = "schedule"
    FEES = "fees"


@dataclass(frozen=True)
class Question:
    field: str  # the Facts field it fills
    kind: Kind


QUESTIONS = (
    Question("app", Kind.TEXT),
    Question("lender", Kind.TEXT),
    Question("collector_company", Kind.TEXT),
    Question("contract_amount", Kind.MONEY),
    Question("received_amount", Kind.MONEY),
    Question("received_on", Kind.DATE),
    Question("schedule", Kind.SCHEDULE),
    Question("fees", Kind.FEES),
    Question("paid_so_far", Kind.MONEY),
    Question("overdue_since", Kind.DATE),
    Question("city", Kind.TEXT),
    Question("name", Kind.TEXT),
)
INDEX = {q.field: i for i, q in enumerate(QUESTIONS)}
MODES = ("all", "one")


# ---------------------------------------------------------------------------- storage


async def load(turn: Turn) -> Facts:
    body = await turn.store.record_get(turn.case, FACTS, 1)
    return Facts.from_body(body) if body is not None else Facts()


async def save(turn: Turn, facts: Facts) -> None:
    if not await turn.store.record_put(turn.case, FACTS, 1, facts.to_body()):
        await turn.store.record_add(turn.case, FACTS, facts.to_body())


def known(facts: Facts, q: Question) -> bool:
    value = getattr(facts, q.field)
    return value not in (None, ())


# ---------------------------------------------------------------------------- reading and showing answers


@dataclass(frozen=True)
class Answer:
    value: Any = None
    problem: str = ""  # the message key that says why it could not be read


def read_answer(q: Question, text: str, facts: Facts, tz: Any) -> Answer:
    """``text`` read as the answer to ``q`` (``facts`` gives the day the money arrived)."""
    text = text.strip()
    if q.kind is Kind.TEXT:
        return Answer(text) if len(text) <= MAX_TEXT else Answer(problem="facts_too_long")
    if q.kind is Kind.MONEY:
        amount = parse_money(text)
        return Answer(amount) if amount is not None else Answer(problem="facts_money_bad")
    now = timeline.now()
    if q.kind is Kind.DATE:
        when = parse_when(text, now, tz)
        if when.at is None:
            return Answer(problem=f"facts_date_{(when.refusal or Refusal.UNRECOGNISED).value}")
        return Answer(when.at.astimezone(tz).date())
    today = now.astimezone(tz).date()
    if q.kind is Kind.SCHEDULE:
        reading = parse_schedule(text, facts.received_on, today)
    else:
        reading = parse_fees(text, facts.received_on, facts.schedule, today)
    if reading.problem:
        return Answer(problem=f"facts_schedule_{reading.problem.value}")
    return Answer(reading.payments)


def yuan(x: Decimal) -> str:
    return f"{x.quantize(Decimal('0.01'), ROUND_HALF_UP):,}".removesuffix(".00")


def payments_text(loc: Locale, payments: tuple[Installment, ...]) -> str:
    """One sum and a day, n equal monthly instalments, or the payments listed."""
    total = yuan(sum((p.amount for p in payments), Decimal(0)))
    first = payments[0]
    if len(payments) == 1:
        return loc.msg("facts_pay_once", amount=yuan(first.amount), on=first.on.isoformat())
    monthly = all(p.on == add_months(first.on, k) and p.amount == first.amount for k, p in enumerate(payments))
    if monthly:
        return loc.msg(
            "facts_pay_monthly", n=len(payments), amount=yuan(first.amount), first=first.on.isoformat(), total=total
        )
    listed = loc.msg("facts_separator").join(f"{p.on:%m-%d} {yuan(p.amount)}" for p in payments[:LISTED_PAYMENTS])
    more = "…" if len(payments) > LISTED_PAYMENTS else ""
    return loc.msg("facts_pay_list", n=len(payments), total=total, items=listed + more)


def value_text(loc: Locale, q: Question, facts: Facts) -> str:
    """The answer as a person reads it ('' if unknown)."""
    value = getattr(facts, q.field)
    if value in (None, ()):
        return ""
    if q.kind is Kind.MONEY:
        return loc.msg("facts_yuan", amount=yuan(value))
    if q.kind is Kind.DATE:
        assert isinstance(value, date)
        return value.isoformat()
    if q.kind in (Kind.SCHEDULE, Kind.FEES):
        return payments_text(loc, value)
    return str(value)


def short(text: str, limit: int = SHOWN) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_lines(loc: Locale, facts: Facts) -> list[str]:
    unknown = loc.msg("facts_unknown")
    return [
        loc.msg(
            "facts_line",
            n=i + 1,
            label=loc.msg(f"facts_label_{q.field}"),
            value=short(value_text(loc, q, facts)) or unknown,
        )
        for i, q in enumerate(QUESTIONS)
    ]


# ---------------------------------------------------------------------------- screens


def question_text(loc: Locale, i: int, facts: Facts, before: str = "") -> str:
    q = QUESTIONS[i]
    now = value_text(loc, q, facts)
    parts = [before] if before else []
    parts.append(loc.msg("facts_question", n=i + 1, total=len(QUESTIONS)) + loc.msg(f"facts_ask_{q.field}"))
    if now:
        parts.append(loc.msg("facts_current", value=now))
    return "\n\n".join(parts)


def _question_buttons(loc: Locale, mode: str, i: int, facts: Facts) -> Keyboard:
    q = QUESTIONS[i]
    skip = loc.msg("btn_facts_no_name") if q.field == "name" else loc.msg("btn_facts_skip")
    row = [Btn(skip, f"fs|{mode}|{i}")]
    if known(facts, q):
        row.append(Btn(loc.msg("btn_facts_clear"), f"fc|{mode}|{i}"))
    return (tuple(row), (Btn(loc.msg("btn_facts_stop"), "fv|"),))


def ask(turn: Turn, mode: str, i: int, facts: Facts, *, before: str = "", edit: bool = False) -> Message:
    turn.case.awaiting = Awaiting(f"facts_{mode}", i)
    return Message(question_text(turn.loc, i, facts, before), _question_buttons(turn.loc, mode, i, facts), edit)


async def overview(turn: Turn, *, before: str = "", edit: bool = False) -> Message:
    loc = turn.loc
    facts = await load(turn)
    filled = sum(1 for q in QUESTIONS if known(facts, q))
    parts = [before] if before else []
    parts.append(loc.msg("facts_header", filled=filled, total=len(QUESTIONS)))
    text = "\n\n".join(parts) + "\n" + "\n".join(summary_lines(loc, facts)) + "\n\n" + loc.msg("facts_hint")
    first_open = next((i for i, q in enumerate(QUESTIONS) if not known(facts, q)), 0)
    start = loc.msg("btn_facts_start") if filled == 0 else loc.msg("btn_facts_continue")
    rows = (
        (Btn(start, f"fq|all|{first_open}"), Btn(loc.msg("btn_facts_change"), "fe|1")),
        (Btn(loc.msg("btn_facts_interest"), "ic|"), *continue_row(loc)[0]),
    )
    return Message(text, rows, edit)


def _next(turn: Turn, mode: str, i: int, facts: Facts, before: str) -> Message | None:
    """The next question in ``all`` mode; None when the interview is over."""
    if mode == "all" and i + 1 < len(QUESTIONS):
        return ask(turn, mode, i + 1, facts, before=before)
    return None


# ---------------------------------------------------------------------------- handlers


async def show(turn: Turn) -> list[Reply]:
    return [await overview(turn)]


async def press_overview(turn: Turn) -> list[Reply]:
    turn.case.awaiting = None
    return [Toast(""), await overview(turn, edit=True)]


def _checked(mode: str, i: int) -> None:
    if mode not in MODES or not 0 <= i < len(QUESTIONS):
        raise Stale(i)


async def question(turn: Turn, mode: str, i: int) -> list[Reply]:
    _checked(mode, i)
    return [Toast(""), ask(turn, mode, i, await load(turn), edit=True)]


async def skip(turn: Turn, mode: str, i: int) -> list[Reply]:
    _checked(mode, i)
    turn.case.awaiting = None
    nxt = _next(turn, mode, i, await load(turn), "")
    if nxt is not None:
        return [Toast(""), replace(nxt, edit=True)]
    return [Toast(""), await overview(turn, before=turn.loc.msg("facts_done") if mode == "all" else "", edit=True)]


async def clear(turn: Turn, mode: str, i: int) -> list[Reply]:
    _checked(mode, i)
    q = QUESTIONS[i]
    facts = await load(turn)
    empty: Any = () if q.kind in (Kind.SCHEDULE, Kind.FEES) else None
    await save(turn, replace(facts, **{q.field: empty}))
    _, *shown = await skip(turn, mode, i)
    return [Toast(turn.loc.msg("facts_cleared_toast")), *shown]


async def typed(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    """An answer: read back and kept, or refused with an example (the question stays open)."""
    loc = turn.loc
    mode, i = awaiting.kind.removeprefix("facts_"), awaiting.item or 0
    if mode not in MODES or not 0 <= i < len(QUESTIONS):
        return [await overview(turn)]
    q = QUESTIONS[i]
    facts = await load(turn)
    answer = read_answer(q, text, facts, loc.tz)
    if answer.problem:
        turn.case.awaiting = awaiting
        return [Message(loc.msg(answer.problem), _question_buttons(loc, mode, i, facts))]
    facts = replace(facts, **{q.field: answer.value})
    await save(turn, facts)
    echo = loc.msg("facts_saved", label=loc.msg(f"facts_label_{q.field}"), value=value_text(loc, q, facts))
    nxt = _next(turn, mode, i, facts, echo)
    if nxt is not None:
        return [nxt]
    return [await overview(turn, before=echo + ("\n" + loc.msg("facts_done") if mode == "all" else ""))]


async def change(turn: Turn, page: int) -> list[Reply]:
    loc = turn.loc
    pages = (len(QUESTIONS) + PICKER_PAGE - 1) // PICKER_PAGE
    if not 1 <= page <= pages:
        raise Stale(page)
    turn.case.awaiting = None
    shown = range((page - 1) * PICKER_PAGE, min(page * PICKER_PAGE, len(QUESTIONS)))
    rows: list[tuple[Btn, ...]] = [
        (Btn(f"{i + 1}. {loc.msg(f'facts_label_{QUESTIONS[i].field}')}", f"fq|one|{i}"),) for i in shown
    ]
    nav = [Btn(loc.msg("btn_prev_page"), f"fe|{page - 1}")] if page > 1 else []
    nav += [Btn(loc.msg("btn_next_page"), f"fe|{page + 1}")] if page < pages else []
    nav.append(Btn(loc.msg("btn_back"), "fv|"))
    rows.append(tuple(nav))
    return [Toast(""), Message(loc.msg("facts_pick"), tuple(rows), edit=True)]


# ---------------------------------------------------------------------------- export and /status


async def export_files(turn: Turn) -> dict[str, FileBody]:
    """The facts as a text file for people (unknown ones as a blank to fill in by hand)."""
    loc = turn.loc
    facts = await load(turn)
    if not any(known(facts, q) for q in QUESTIONS):
        return {}
    blank, colon = loc.msg("facts_blank"), loc.msg("label_separator")
    lines = [loc.msg("facts_export_header", tz=loc.tz_label)]
    for q in QUESTIONS:
        value = getattr(facts, q.field)
        if q.kind in (Kind.SCHEDULE, Kind.FEES) and value:
            shown = "\n".join(f"  {p.on.isoformat()}  {yuan(p.amount)}" for p in value)
            lines.append(f"{loc.msg(f'facts_label_{q.field}')}{colon}{payments_text(loc, value)}\n{shown}")
        else:
            lines.append(f"{loc.msg(f'facts_label_{q.field}')}{colon}{value_text(loc, q, facts) or blank}")
    return {loc.msg("facts_export_file"): ("\n".join(lines) + "\n").encode("utf-8")}


async def status_line(turn: Turn) -> str:
    loc = turn.loc
    facts = await load(turn)
    shown = [
        loc.msg(
            "facts_status_item",
            label=loc.msg(f"facts_short_{q.field}"),
            value=short(value_text(loc, q, facts), SHOWN_STATUS),
        )
        for q in QUESTIONS
        if known(facts, q)
    ]
    if not shown:
        return loc.msg("facts_status_empty")
    return loc.msg(
        "facts_status", filled=len(shown), total=len(QUESTIONS), items=loc.msg("facts_separator").join(shown)
    )


FIELDS = tuple(q.field for q in QUESTIONS)
PROBLEMS = (
    ["facts_too_long", "facts_money_bad"]
    + [f"facts_date_{r.value}" for r in Refusal]
    + [f"facts_schedule_{p.value}" for p in ScheduleProblem]
)

FEATURE = Feature(
    name="facts",
    commands={"facts": show},
    buttons={
        "fv": Route(press_overview),
        "fe": Route(change, (int,)),
        "fq": Route(question, (Id, int)),
        "fs": Route(skip, (Id, int)),
        "fc": Route(clear, (Id, int)),
    },
    texts={"facts_all": typed, "facts_one": typed},
    exports=export_files,
    status=status_line,
    messages=messages(
        {
            **{f"facts_label_{f}": "" for f in FIELDS},
            **{f"facts_short_{f}": "" for f in FIELDS},
            **{f"facts_ask_{f}": "" for f in FIELDS},
            **{p: "" for p in PROBLEMS},
            "facts_header": "filled total",
            "facts_line": "n label value",
            "facts_unknown": "",
            "facts_hint": "",
            "facts_question": "n total",
            "facts_current": "value",
            "facts_saved": "label value",
            "facts_done": "",
            "facts_cleared_toast": "",
            "facts_pick": "",
            "facts_yuan": "amount",
            "facts_pay_once": "amount on",
            "facts_pay_monthly": "n amount first total",
            "facts_pay_list": "n total items",
            "facts_blank": "",
            "facts_separator": "",
            "facts_export_header": "tz",
            "facts_export_file": "",
            "facts_status": "filled total items",
            "facts_status_item": "label value",
            "facts_status_empty": "",
            "btn_facts_start": "",
            "btn_facts_continue": "",
            "btn_facts_change": "",
            "btn_facts_interest": "",
            "btn_facts_skip": "",
            "btn_facts_no_name": "",
            "btn_facts_clear": "",
            "btn_facts_stop": "",
            "btn_prev_page": "",
            "btn_next_page": "",
            "btn_back": "",
        }
    ),
    plain_messages=frozenset(
        {f"facts_label_{f}" for f in FIELDS}
        | {f"facts_short_{f}" for f in FIELDS}
        | {"facts_yuan", "facts_pay_once", "facts_pay_monthly", "facts_pay_list", "facts_blank", "facts_separator"}
        | {"facts_export_header", "facts_export_file", "facts_unknown", "facts_status_item"}
    ),
)
