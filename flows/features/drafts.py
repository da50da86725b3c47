"""Drafts: the complaint, the police report, the civil complaint and the evidence list, as .docx.

Made on request from the case record (facts, harassment log, evidence, filings) with the
templates of the person's own locale (content/<locale>/templates/), sent in the chat with a
short summary, made again whenever asked (so an edited fact shows up), and put into /export.
A draft is never stored: it is made in memory from the sealed record each time, and the
delivery writes it only to storage's scratch folder while sending it.

Rendering is CPU work (docxtpl + lxml; benchmarks/drafts.py measures it for 500 evidence items
and 300 incidents): the handler only reads the case record and returns ``SendDocument`` replies
whose ``make()`` the delivery calls in a worker thread after the update's transaction, so neither
the event loop nor the database's single writer waits for it. The export's copies are made the
same way: the ``exports`` hook returns the functions, the export calls them after its read.

Callback data:
    dg|<id>   make draft <id> (complaint, police, lawsuit, evidence) or ``all``
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import partial

from documents import DRAFTS, DraftData, Words, build_context, for_draft, render
from documents.context import FACT_FIELDS, facts_context, log_context
from flows.content import Locale
from flows.feature import Feature, FileBody, Id, Route, Stale, Turn, messages
from flows.features import reminders
from flows.filing import COMPLAINT_CHANNELS, FILING, Filing
from flows.model import Btn, Keyboard, Message, Reply, SendDocument, Toast
from flows.record import CHANNELS, FACTS, INCIDENT, RELATIONS, Facts, Incident
from flows.screens import continue_row, local_tz

log = logging.getLogger(__name__)

ALL = "all"
# one record per draft made for the case: which, how often, when last (never its text); /stats counts them
DRAFT = "draft"
KINDS = ("photo", "document", "voice", "audio", "video", "video_note", "testimony")  # evidence kinds (their 来源)
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def words(loc: Locale) -> Words:
    """What the drafts of ``loc`` say besides the case (built once per locale at start)."""
    return Words(
        blank=loc.msg("draft_blank"),
        disclaimer=loc.msg("draft_disclaimer"),
        titles={d: loc.msg(f"draft_title_{d}") for d in DRAFTS},
        relations={r: loc.msg(f"draft_relation_{r}") for r in RELATIONS},
        channels={c: loc.msg(f"draft_channel_{c}") for c in CHANNELS},
        sources={k: loc.msg(f"draft_source_{k}") for k in KINDS},
        categories={c.id: c.label for c in loc.categories},
        proves=dict(loc.drafts.proves) if loc.drafts else {},
        uncategorised=loc.msg("evidence_uncategorised"),
        filing_channels={c: loc.msg(f"filing_channel_{c}") for c in COMPLAINT_CHANNELS},
        yes=loc.msg("draft_yes"),
        no=loc.msg("draft_no"),
        approx=loc.msg("draft_approx"),
        date_format=loc.messages["draft_date"],
        tz=local_tz(loc),
    )


async def gather(turn: Turn) -> DraftData:
    """The case record as the drafts read it. A record that does not open as its shape is
    left out and logged (its number only): the drafts then count what could be read."""
    store, case = turn.store, turn.case
    raw = await store.record_get(case, FACTS, 1)
    facts = None
    if raw is not None:
        try:
            facts = Facts.from_body(raw)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            log.error("case %s: the facts record does not read as Facts; drafts show blanks", case.id)
    incidents = []
    for rid, body in await store.record_list(case, INCIDENT):
        try:
            incidents.append(Incident.from_body(body))
        except (KeyError, TypeError, ValueError):
            log.error("case %s: incident %d does not read as an Incident; left out of the drafts", case.id, rid)
    filings = [Filing.from_body(b) for _, b in await store.record_list(case, FILING)]
    count = await store.evidence_count(case)
    evidence = await store.evidence_page(case, 0, count) if count else []
    return DraftData(facts, incidents, evidence, filings, reminders.now())


def file_name(loc: Locale, draft: str, data: DraftData) -> str:
    day = data.made_at.astimezone(local_tz(loc)).strftime("%Y%m%d")
    name = loc.msg("draft_file_name", title=loc.msg(f"draft_title_{draft}"), date=day)
    return _UNSAFE.sub("_", name).strip() or f"{draft}.docx"


def renderer(turn: Turn, data: DraftData, draft: str) -> Callable[[], bytes]:
    """What makes one draft's bytes later (after the transaction, in a worker thread): the
    template as loaded and checked, and a snapshot of the case record taken now."""
    template = turn.loc.drafts.templates[draft] if turn.loc.drafts else b""
    w: Words = turn.prepared("drafts")
    return partial(_render_one, template, data, w, draft)


def _render_one(template: bytes, data: DraftData, w: Words, draft: str) -> bytes:
    return render(template, for_draft(build_context(data, w), draft, w))


def available(loc: Locale, which: tuple[str, ...]) -> tuple[str, ...]:
    templates = loc.drafts.templates if loc.drafts else {}
    return tuple(d for d in which if d in templates)


def menu(loc: Locale) -> Keyboard:
    singles = [Btn(loc.msg(f"btn_draft_{d}"), f"dg|{d}") for d in DRAFTS]
    return (
        (Btn(loc.msg("btn_drafts_all"), f"dg|{ALL}"),),
        tuple(singles[:2]),
        tuple(singles[2:]),
        *continue_row(loc),
    )


def counts(turn: Turn, data: DraftData) -> dict[str, int]:
    """What the drafts were made from, in numbers for the chat."""
    w: Words = turn.prepared("drafts")
    facts = facts_context(data.facts, w)
    log_summary, _ = log_context(data.incidents, w)
    return {
        "facts_known": facts["known"],
        "facts_total": len(FACT_FIELDS),
        "blanks": facts["skipped"],
        "incidents": log_summary["total"],
        "night": log_summary["night"],
        "evidence": len(data.evidence),
    }


async def intro(turn: Turn) -> list[Reply]:
    c = counts(turn, await gather(turn))
    text = turn.loc.msg(
        "drafts_intro",
        facts_known=c["facts_known"],
        facts_total=c["facts_total"],
        incidents=c["incidents"],
        night=c["night"],
        evidence=c["evidence"],
    )
    return [Message(text, menu(turn.loc))]


async def generate(turn: Turn, which: str) -> list[Reply]:
    """The drafts asked for, as files, and a summary. Only the case record is read here (inside
    the transaction); the documents are made by the delivery, after it."""
    loc = turn.loc
    if which != ALL and which not in DRAFTS:
        raise Stale(which)
    chosen = available(loc, DRAFTS if which == ALL else (which,))
    if not chosen:
        return [Toast(""), Message(loc.msg("drafts_unavailable"), continue_row(loc))]
    data = await gather(turn)
    await note_made(turn, chosen, data)
    replies: list[Reply] = [Toast("")]
    for draft in chosen:
        replies.append(
            SendDocument(file_name(loc, draft, data), renderer(turn, data, draft), loc.msg(f"draft_caption_{draft}"))
        )
    c = counts(turn, data)
    summary = loc.msg(
        "drafts_summary",
        count=len(chosen),
        incidents=c["incidents"],
        night=c["night"],
        evidence=c["evidence"],
        blanks=c["blanks"],
    )
    again = ((Btn(loc.msg("btn_drafts_again"), f"dg|{which}"), Btn(loc.msg("btn_drafts_menu"), "dm|")),)
    replies.append(Message(summary, (*again, *continue_row(loc))))
    return replies


async def note_made(turn: Turn, drafts: tuple[str, ...], data: DraftData) -> None:
    """Remember that these drafts were handed over (for /stats: a number, nothing of the text)."""
    known = {body.get("draft"): (rid, body) for rid, body in await turn.store.record_list(turn.case, DRAFT)}
    for draft in drafts:
        rid, old = known.get(draft, (None, {}))
        times = old.get("times")
        body = {
            "draft": draft,
            "times": (times if isinstance(times, int) else 0) + 1,
            "last": data.made_at.date().isoformat(),
        }
        if rid is None:
            await turn.store.record_add(turn.case, DRAFT, body)
        else:
            await turn.store.record_put(turn.case, DRAFT, rid, body)


async def menu_pressed(turn: Turn) -> list[Reply]:
    return [Toast(""), *await intro(turn)]


async def export_files(turn: Turn) -> dict[str, FileBody]:
    """All four drafts in the export's drafts folder: the case record is read now, the documents
    are made by the export after its read transaction, in a worker thread."""
    loc = turn.loc
    chosen = available(loc, DRAFTS)
    if not chosen:
        return {}
    data = await gather(turn)
    folder = loc.msg("draft_export_folder")
    return {f"{folder}/{file_name(loc, d, data)}": renderer(turn, data, d) for d in chosen}


FEATURE = Feature(
    name="drafts",
    commands={"drafts": intro},
    buttons={"dg": Route(generate, (Id,)), "dm": Route(menu_pressed)},
    prepare=words,
    exports=export_files,
    messages=messages(
        {
            "drafts_intro": "facts_known facts_total incidents night evidence",
            "drafts_summary": "count incidents night evidence blanks",
            "drafts_unavailable": "",
            **{f"draft_title_{d}": "" for d in DRAFTS},
            **{f"draft_caption_{d}": "" for d in DRAFTS},
            **{f"btn_draft_{d}": "" for d in DRAFTS},
            "btn_drafts_all": "",
            "btn_drafts_again": "",
            "btn_drafts_menu": "",
            "draft_file_name": "title date",
            "draft_export_folder": "",
            "draft_disclaimer": "",
            "draft_blank": "",
            "draft_date": "y m d",
            "draft_approx": "",
            "draft_yes": "",
            "draft_no": "",
            **{f"draft_relation_{r}": "" for r in RELATIONS},
            **{f"draft_channel_{c}": "" for c in CHANNELS},
            **{f"draft_source_{k}": "" for k in KINDS},
            "evidence_uncategorised": "",
        }
    ),
    plain_messages=frozenset(
        {
            *(f"draft_title_{d}" for d in DRAFTS),
            "draft_file_name",
            "draft_export_folder",
            "draft_disclaimer",
            "draft_blank",
            "draft_date",
            "draft_approx",
            "draft_yes",
            "draft_no",
            *(f"draft_relation_{r}" for r in RELATIONS),
            *(f"draft_channel_{c}" for c in CHANNELS),
            *(f"draft_source_{k}" for k in KINDS),
        }
    ),
)
