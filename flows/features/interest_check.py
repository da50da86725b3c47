""" "Should I pay this?": the real annual rate on the money actually received, against the caps.

From the case facts, or asked on the spot without keeping the numbers: what reached the
person's hands, on which day, how it is to be repaid, and any fee paid besides. The rate comes
from ``flows.interest`` (simple annual rate, the way courts and regulators state it); the caps
and their sources from content (interest.yaml, read by ``flows.content.interest``), the
sentences from messages_interest.yaml. It says what the excess means and never tells anyone not
to repay a lawful debt: it asks them not to rush, and to have the amount set out in writing.

Callback data (``<mode>``: ``keep`` stores answers in the facts, ``temp`` only for this check):
    ic|               start: from the facts, or the questions
    icf|              check with the facts as they are
    ick|<i>           ask question i for the facts       ict|<i>   ask question i, not kept (0 starts anew)
    ics|<mode>|<i>    no fees (the last question)        icl|<page>|<in place 0/1>  the law behind the caps
Texts it waits for: ``interest_keep``, ``interest_temp`` (item: the question's index in ``CALC``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from html import unescape

from flows.content import Locale, Node
from flows.feature import Feature, Id, Route, Stale, Turn, messages
from flows.features import facts as facts_feature
from flows.interest import CashFlow, Check, Flow, InterestInputError, Problem, check
from flows.model import Awaiting, Btn, Keyboard, Message, Reply, Toast
from flows.record import Facts
from flows.screens import continue_row, law_screen

CALC = ("received_amount", "received_on", "schedule", "fees")  # what a rate needs, in the order asked
NEEDED = CALC[:3]
SCRATCH = "interest_scratch"  # the numbers of a check not kept: erased as soon as it is answered
MAX_SCREEN = 600
LAW_SCREEN = "interest_check"  # names the law screen (no content node of that id is needed)
MAX_COMPOUND_SHOWN = 10.0  # 1,000 %: a week's rate compounded over a year is a number with no use
MODES = ("keep", "temp")
TAG = re.compile(r"<[^>]+>")
PLACEHOLDERS = "received paid cost days first_day rate period_rate effective contract_date lpr lpr_date"
PLACEHOLDERS += " cap_lpr_cap cap_line_24 cap_line_36"


def flows_of(facts: Facts) -> list[CashFlow]:
    assert facts.received_amount is not None and facts.received_on is not None
    out = [CashFlow(facts.received_on, facts.received_amount, Flow.RECEIVED)]
    out += [CashFlow(p.on, p.amount, Flow.REPAYMENT) for p in facts.schedule]
    out += [CashFlow(p.on, p.amount, Flow.FEE) for p in facts.fees]
    return out


def complete(facts: Facts) -> bool:
    return all(facts_feature.known(facts, facts_feature.QUESTIONS[facts_feature.INDEX[f]]) for f in NEEDED)


def visible(text: str) -> int:
    """Characters as Telegram counts them (UTF-16 units of the text without its tags)."""
    return len(unescape(TAG.sub("", text)).encode("utf-16-le")) // 2


def pack(paragraphs: list[str], limit: int = MAX_SCREEN) -> list[str]:
    """Paragraphs joined into as few messages as fit a phone screen each."""
    out: list[str] = []
    for p in paragraphs:
        joined = f"{out[-1]}\n\n{p}" if out else p
        if out and visible(joined) <= limit:
            out[-1] = joined
        else:
            out.append(p)
    return out


def verdict(loc: Locale, result: Check, facts: Facts, last: tuple[str, ...] = ()) -> list[str]:
    """The answer in paragraphs: the rate, each line, what it means, ``last``, the disclaimer."""
    v = result.placeholders()
    rate = result.rate
    if rate.no_interest:
        return [loc.msg("interest_no_interest", **v), *last, loc.msg("interest_disclaimer")]
    first = [loc.msg("interest_summary", **v)]
    if facts.contract_amount is not None and facts.received_amount is not None:
        deducted = facts.contract_amount - facts.received_amount
        if deducted > 0:
            first.append(
                loc.msg(
                    "interest_deducted",
                    contract=facts_feature.yuan(facts.contract_amount),
                    received=facts_feature.yuan(facts.received_amount),
                    deducted=facts_feature.yuan(deducted),
                )
            )
    if facts.fees:
        fees = sum((p.amount for p in facts.fees), Decimal(0))
        first.append(loc.msg("interest_fees_counted", fees=facts_feature.yuan(fees)))
    if len(facts.schedule) == 1:
        first.append(loc.msg("interest_term", **v))
    if rate.effective_annual is not None and rate.effective_annual <= MAX_COMPOUND_SHOWN:
        first.append(loc.msg("interest_compound", **v))  # a secondary figure; past this it only alarms
    lines: list[str] = []
    if result.lpr is None:
        lines.append(loc.msg("interest_no_lpr", **v))
    else:
        key = "interest_over_lpr_cap" if "lpr_cap" in result.exceeded else "interest_under_lpr_cap"
        lines.append(loc.msg(key, **v))
        if not result.lpr_confirmed:
            lines.append(loc.msg("interest_lpr_unconfirmed", **v))
    lines.append(loc.msg("interest_licensed", **v))
    for line in result.lines:
        if line.id != "lpr_cap" and line.exceeded:
            key = f"interest_over_{line.id.removeprefix('line_')}"
            lines.append(
                loc.msg(key, **v) if key in loc.messages else loc.msg("interest_over_other", cap=v[f"cap_{line.id}"])
            )
    tail = [loc.msg("interest_what_it_means")] if result.exceeded else []
    return ["\n".join(first), *lines, *tail, *last, loc.msg("interest_disclaimer")]


def result_buttons(loc: Locale) -> Keyboard:
    return (
        (Btn(loc.msg("btn_law"), "icl|1|0"), Btn(loc.msg("btn_interest_facts"), "fv|")),
        (Btn(loc.msg("btn_interest_again"), "ic|"), *continue_row(loc)[0]),
    )


def answer(loc: Locale, facts: Facts, last: tuple[str, ...] = ()) -> list[Reply]:
    """The check's messages (the last one carries the buttons); ``last`` comes before the disclaimer."""
    rules = loc.interest
    if rules is None:
        return [Message(loc.msg("interest_unavailable"), continue_row(loc))]
    try:
        result = check(flows_of(facts), rules.caps, facts.received_on)
    except InterestInputError as exc:
        problem: Problem = exc.problem
        return [Message("\n\n".join((loc.msg(f"interest_error_{problem.value}"), *last)), result_buttons(loc))]
    texts = pack(verdict(loc, result, facts, last))
    replies: list[Reply] = [Message(t) for t in texts[:-1]]
    return [*replies, Message(texts[-1], result_buttons(loc))]


# ---------------------------------------------------------------------------- asking


async def _numbers(turn: Turn, mode: str) -> Facts:
    if mode == "keep":
        return await facts_feature.load(turn)
    body = await turn.store.record_get(turn.case, SCRATCH, 1)
    return Facts.from_body(body) if body is not None else Facts()


async def _keep(turn: Turn, mode: str, numbers: Facts) -> None:
    if mode == "keep":
        await facts_feature.save(turn, numbers)
    elif not await turn.store.record_put(turn.case, SCRATCH, 1, numbers.to_body()):
        await turn.store.record_add(turn.case, SCRATCH, numbers.to_body())


def _next_open(mode: str, numbers: Facts, after: int) -> int | None:
    """The next question to ask: every one in ``temp`` mode, only the unknown ones in ``keep``."""
    for i in range(after, len(CALC)):
        q = facts_feature.QUESTIONS[facts_feature.INDEX[CALC[i]]]
        if mode == "temp" or not facts_feature.known(numbers, q):
            return i
    return None


def _ask(turn: Turn, mode: str, i: int, before: str = "", *, edit: bool = False) -> Message:
    loc = turn.loc
    turn.case.awaiting = Awaiting(f"interest_{mode}", i)
    text = loc.msg("interest_question", n=i + 1, total=len(CALC)) + loc.msg(f"facts_ask_{CALC[i]}")
    rows: list[tuple[Btn, ...]] = []
    if CALC[i] == "fees":
        rows.append((Btn(loc.msg("btn_interest_no_fees"), f"ics|{mode}|{i}"),))
    rows.append((Btn(loc.msg("btn_cancel"), "ic|"),))
    return Message(f"{before}\n\n{text}" if before else text, tuple(rows), edit)


async def _finish(turn: Turn, mode: str, numbers: Facts, before: str = "") -> list[Reply]:
    turn.case.awaiting = None
    replies: list[Reply] = [Message(before)] if before else []
    if mode == "temp":
        await turn.store.record_delete(turn.case, SCRATCH, 1)
    return replies + answer(turn.loc, numbers, (turn.loc.msg("interest_not_kept"),) if mode == "temp" else ())


async def start(turn: Turn) -> list[Reply]:
    loc = turn.loc
    turn.case.awaiting = None
    facts = await facts_feature.load(turn)
    temp = Btn(loc.msg("btn_interest_temp"), "ict|0")
    if complete(facts):
        shown = {f: facts_feature.value_text(loc, facts_feature.QUESTIONS[facts_feature.INDEX[f]], facts) for f in CALC}
        text = loc.msg(
            "interest_from_facts", fees=shown["fees"] or loc.msg("interest_no_fees"), **{f: shown[f] for f in NEEDED}
        )
        rows: Keyboard = (
            (Btn(loc.msg("btn_interest_from_facts"), "icf|"),),
            (temp, Btn(loc.msg("btn_interest_facts"), "fv|")),
        )
        return [Message(text, rows)]
    first = _next_open("keep", facts, 0) or 0
    rows = ((Btn(loc.msg("btn_interest_keep"), f"ick|{first}"),), (temp,), *continue_row(loc))
    return [Message(loc.msg("interest_intro"), rows)]


async def press_start(turn: Turn) -> list[Reply]:
    return [Toast(""), *await start(turn)]


async def from_facts(turn: Turn) -> list[Reply]:
    facts = await facts_feature.load(turn)
    if not complete(facts):
        raise Stale("facts")
    return [Toast(""), *answer(turn.loc, facts)]


async def ask_keep(turn: Turn, i: int) -> list[Reply]:
    if not 0 <= i < len(CALC):
        raise Stale(i)
    return [Toast(""), _ask(turn, "keep", i, edit=True)]


async def ask_temp(turn: Turn, i: int) -> list[Reply]:
    if not 0 <= i < len(CALC):
        raise Stale(i)
    if i == 0:
        await turn.store.record_delete(turn.case, SCRATCH, 1)  # a new check starts from nothing
    return [Toast(""), _ask(turn, "temp", i, edit=True)]


async def no_fees(turn: Turn, mode: str, i: int) -> list[Reply]:
    if mode not in MODES or not 0 <= i < len(CALC) or CALC[i] != "fees":
        raise Stale(i)
    numbers = replace(await _numbers(turn, mode), fees=())
    await _keep(turn, mode, numbers)
    if not complete(numbers):
        raise Stale("numbers")
    return [Toast(""), *await _finish(turn, mode, numbers)]


async def typed(turn: Turn, awaiting: Awaiting, text: str) -> list[Reply]:
    loc = turn.loc
    mode, i = awaiting.kind.removeprefix("interest_"), awaiting.item or 0
    if mode not in MODES or not 0 <= i < len(CALC):
        return await start(turn)
    q = facts_feature.QUESTIONS[facts_feature.INDEX[CALC[i]]]
    numbers = await _numbers(turn, mode)
    got = facts_feature.read_answer(q, text, numbers, loc.tz)
    if got.problem:
        turn.case.awaiting = awaiting
        return [Message(loc.msg(got.problem), _ask(turn, mode, i).buttons)]
    numbers = replace(numbers, **{q.field: got.value})
    await _keep(turn, mode, numbers)
    echo = loc.msg(
        "facts_saved", label=loc.msg(f"facts_label_{q.field}"), value=facts_feature.value_text(loc, q, numbers)
    )
    nxt = _next_open(mode, numbers, i + 1)
    if nxt is not None:
        return [_ask(turn, mode, nxt, echo)]
    if not complete(numbers):  # keep mode, a needed fact was cleared meanwhile: ask from the start
        return [_ask(turn, mode, _next_open(mode, numbers, 0) or 0, echo)]
    return await _finish(turn, mode, numbers, echo)


def law_pages(loc: Locale) -> list[tuple[str, ...]]:
    """The law behind the caps (interest.yaml ``law:``), a phone screen at a time."""
    rules = loc.interest
    ids = tuple(dict.fromkeys(lid for refs in (rules.law.values() if rules else ()) for lid in refs if lid in loc.law))
    pages: list[tuple[str, ...]] = []
    for lid in ids:
        if pages and visible(law_screen(loc, Node(LAW_SCREEN, "", "", law=(*pages[-1], lid))).text) <= MAX_SCREEN:
            pages[-1] += (lid,)
        else:
            pages.append((lid,))
    return pages


async def law(turn: Turn, page: int, in_place: int) -> list[Reply]:
    loc = turn.loc
    pages = law_pages(loc)
    if not 1 <= page <= len(pages):
        raise Stale(page)
    shown = law_screen(loc, Node(LAW_SCREEN, "", "", law=pages[page - 1]))
    nav = [Btn(loc.msg("btn_prev_page"), f"icl|{page - 1}|1")] if page > 1 else []
    nav += [Btn(loc.msg("btn_next_page"), f"icl|{page + 1}|1")] if page < len(pages) else []
    rows = ((*nav, Btn(loc.msg("btn_back"), "ic|")),)
    return [Toast(""), Message(shown.text, rows, edit=bool(in_place))]


FEATURE = Feature(
    name="interest",
    commands={"interest": start},
    buttons={
        "ic": Route(press_start),
        "icf": Route(from_facts),
        "ick": Route(ask_keep, (int,)),
        "ict": Route(ask_temp, (int,)),
        "ics": Route(no_fees, (Id, int)),
        "icl": Route(law, (int, int)),
    },
    texts={"interest_keep": typed, "interest_temp": typed},
    messages=messages(
        {
            **{f"interest_error_{p.value}": "" for p in Problem},
            "interest_summary": PLACEHOLDERS,
            "interest_term": PLACEHOLDERS,
            "interest_compound": PLACEHOLDERS,
            "interest_no_interest": PLACEHOLDERS,
            "interest_over_lpr_cap": PLACEHOLDERS,
            "interest_under_lpr_cap": PLACEHOLDERS,
            "interest_lpr_unconfirmed": PLACEHOLDERS,
            "interest_no_lpr": PLACEHOLDERS,
            "interest_licensed": PLACEHOLDERS,
            "interest_over_24": PLACEHOLDERS,
            "interest_over_36": PLACEHOLDERS,
            "interest_over_other": "cap",
            "interest_what_it_means": "",
            "interest_disclaimer": "",
            "interest_deducted": "contract received deducted",
            "interest_fees_counted": "fees",
            "interest_intro": "",
            "interest_from_facts": "received_amount received_on schedule fees",
            "interest_no_fees": "",
            "interest_question": "n total",
            "interest_not_kept": "",
            "interest_unavailable": "",
            "btn_interest_from_facts": "",
            "btn_interest_keep": "",
            "btn_interest_temp": "",
            "btn_interest_facts": "",
            "btn_interest_again": "",
            "btn_interest_no_fees": "",
            "btn_law": "",
            "btn_cancel": "",
            "btn_back": "",
            "btn_prev_page": "",
            "btn_next_page": "",
        }
    ),
)
