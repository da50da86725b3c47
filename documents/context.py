"""What a template may say: the case record turned into plain strings, lists and counts.

Templates are content (an operator edits them in Word), so they get finished text, never
objects with methods: every value here is a ``str``, an ``int``, a ``bool``, a list or a dict of
those. A fact the person did not give is ``words.blank`` (＿＿＿＿), to be filled in by hand;
nothing is guessed. The same ``build_context`` serves real drafts and ``python bot.py check``
(with ``sample_data()``), so a template that renders in check renders for a victim.

The names a template may use (see ``content/<locale>/templates/README.md`` for the operator):

    doc        title, made_on, disclaimer, blank
    person     name, city
    facts      app, lender, collector_company, contract_amount, received_amount, received_on,
               paid_so_far, overdue_since, schedule, known, skipped
    log        total, night, days, first, last, collectors, contacted,
               by_relation [{name, count}], by_channel [{name, count}]
    incidents  [{no, time, relation, channel, collector, note, evidence, night}]
    evidence   count, rows [{no, label, name, category, source, proves, sha256, time}],
               groups [{title, proves, count, rows}]
    filings    complaints [{channel, date, reference}], police [{station, date, receipt}],
               lawsuits [{court, date, case_no}], station, court, court_known
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from flows.filing import COMPLAINT, LAWSUIT, POLICE, Filing
from flows.model import EvidenceItem
from flows.parse import is_night
from flows.record import CHANNELS, RELATIONS, Facts, Incident, Installment

BLANK = "＿＿＿＿"
NAME_LIMIT = 60  # characters of a note or caption used in an evidence item's name
NOTE_LIMIT = 120  # characters of an incident's note shown in a table
DRAFTS = ("complaint", "police", "lawsuit", "evidence")  # the four templates, by file name (<id>.docx)
FACT_FIELDS = (
    "app",
    "lender",
    "collector_company",
    "contract_amount",
    "received_amount",
    "received_on",
    "paid_so_far",
    "overdue_since",
    "city",
    "name",
)


@dataclass(frozen=True)
class Words:
    """Everything a draft says that comes from content, not from the case."""

    blank: str = BLANK
    disclaimer: str = ""
    titles: Mapping[str, str] = field(default_factory=dict)  # draft id -> document title
    relations: Mapping[str, str] = field(default_factory=dict)  # RELATIONS id -> words
    channels: Mapping[str, str] = field(default_factory=dict)  # CHANNELS id -> words
    sources: Mapping[str, str] = field(default_factory=dict)  # evidence kind -> 来源
    categories: Mapping[str, str] = field(default_factory=dict)  # category id -> label, in content's order
    proves: Mapping[str, str] = field(default_factory=dict)  # category id -> 证明内容
    uncategorised: str = ""
    filing_channels: Mapping[str, str] = field(default_factory=dict)  # complaint channel id -> words
    yes: str = "yes"
    no: str = "no"
    approx: str = "~"  # put before a time the person gave vaguely
    date_format: str = "{y}-{m:02d}-{d:02d}"  # placeholders y m d
    tz: tzinfo = UTC

    def day(self, d: date | None) -> str:
        return self.date_format.format(y=d.year, m=d.month, d=d.day) if d else self.blank

    def when(self, t: datetime) -> str:
        return t.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class DraftData:
    """The case record as the drafts read it (already opened; nothing here is sealed)."""

    facts: Facts | None
    incidents: Sequence[Incident]
    evidence: Sequence[EvidenceItem]
    filings: Sequence[Filing]
    made_at: datetime


def _money(v: Decimal | None, blank: str) -> str:
    return f"{v:,.2f}" if v is not None else blank


def _text(v: str | None, blank: str) -> str:
    return v.strip() if v and v.strip() else blank


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _schedule(items: Sequence[Installment], w: Words) -> str:
    return "；".join(f"{w.day(i.on)} {_money(i.amount, w.blank)}" for i in items) or w.blank


def facts_context(facts: Facts | None, w: Words) -> dict[str, Any]:
    f = facts or Facts()
    money = {k: _money(getattr(f, k), w.blank) for k in ("contract_amount", "received_amount", "paid_so_far")}
    days = {k: w.day(getattr(f, k)) for k in ("received_on", "overdue_since")}
    texts = {k: _text(getattr(f, k), w.blank) for k in ("app", "lender", "collector_company", "city", "name")}
    known = sum(1 for k in FACT_FIELDS if getattr(f, k) not in (None, ""))
    return {
        **texts,
        **money,
        **days,
        "schedule": _schedule(f.schedule, w),
        "known": known,
        "skipped": len(FACT_FIELDS) - known,
    }


def _counted(values: Sequence[str], names: Mapping[str, str], order: Sequence[str]) -> list[dict[str, Any]]:
    """[{name, count}], most first; ties in the shared vocabulary's order."""
    counts = Counter(values)
    rank = {v: i for i, v in enumerate(order)}
    return [
        {"name": names.get(v, v), "count": n}
        for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], rank.get(kv[0], len(rank))))
    ]


def log_context(incidents: Sequence[Incident], w: Words) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ordered = sorted(incidents, key=lambda i: i.at)
    local_days = sorted({i.at.astimezone(w.tz).date() for i in ordered})
    collectors = list(dict.fromkeys(i.collector.strip() for i in ordered if i.collector.strip()))
    rows = [
        {
            "no": n,
            "time": (w.approx if i.approximate else "") + w.when(i.at),
            "relation": w.relations.get(i.relation, i.relation),
            "channel": w.channels.get(i.channel, i.channel),
            "collector": i.collector.strip(),
            "note": _short(i.note, NOTE_LIMIT),
            "evidence": "、".join(f"E-{e:03d}" for e in i.evidence),
            "night": is_night(i.at, w.tz),
        }
        for n, i in enumerate(ordered, start=1)
    ]
    log = {
        "total": len(ordered),
        "night": sum(1 for r in rows if r["night"]),
        "days": len(local_days),
        "first": w.day(local_days[0]) if local_days else w.blank,
        "last": w.day(local_days[-1]) if local_days else w.blank,
        "collectors": "、".join(collectors) or w.blank,
        "contacted": len({i.relation for i in ordered if i.relation != "self"}),
        "by_relation": _counted([i.relation for i in ordered], w.relations, RELATIONS),
        "by_channel": _counted([i.channel for i in ordered], w.channels, CHANNELS),
    }
    return log, rows


def evidence_context(items: Sequence[EvidenceItem], w: Words) -> dict[str, Any]:
    rows = []
    for n, item in enumerate(sorted(items, key=lambda i: i.no), start=1):
        cat = item.category if item.category and item.category in w.categories else ""
        label = w.categories.get(cat, w.uncategorised)
        detail = item.note or item.caption or item.filename
        rows.append(
            {
                "no": n,
                "label": item.label,
                "name": f"{item.label} {label}" + (f"（{_short(detail, NAME_LIMIT)}）" if detail else ""),
                "category": label,
                "source": w.sources.get(item.kind, item.kind),
                "proves": w.proves.get(cat, w.blank),
                "sha256": item.sha256,
                "time": w.when(item.received_at),
                "_cat": cat,
            }
        )
    groups = []
    for cat in [*w.categories, ""]:
        members = [r for r in rows if r["_cat"] == cat]
        if members:
            title = w.categories.get(cat, w.uncategorised)
            groups.append(
                {"title": title, "proves": w.proves.get(cat, w.blank), "count": len(members), "rows": members}
            )
    for r in rows:
        del r["_cat"]
    return {"count": len(rows), "rows": rows, "groups": groups}


def filings_context(filings: Sequence[Filing], w: Words) -> dict[str, Any]:
    done = [f for f in filings if f.complete]

    def of(kind: str) -> list[Filing]:
        return [f for f in done if f.type == kind]

    police = of(POLICE)
    lawsuits = of(LAWSUIT)
    station = next((f.station for f in reversed(police) if f.station), None)
    court = next((f.court for f in reversed(lawsuits) if f.court), None)
    return {
        "complaints": [
            {
                "channel": w.filing_channels.get(f.channel or "", w.blank),
                "date": w.day(f.on),
                "reference": _text(f.reference, w.blank),
            }
            for f in of(COMPLAINT)
        ],
        "police": [
            {
                "station": _text(f.station, w.blank),
                "date": w.day(f.on),
                "receipt": w.yes if f.receipt else w.no if f.receipt is False else w.blank,
            }
            for f in police
        ],
        "lawsuits": [
            {"court": _text(f.court, w.blank), "date": w.day(f.on), "case_no": _text(f.case_no, w.blank)}
            for f in lawsuits
        ],
        "station": station or w.blank,
        "court": court or w.blank,
        "court_known": bool(court),
    }


def build_context(data: DraftData, w: Words) -> dict[str, Any]:
    """Everything but ``doc.title`` (``for_draft`` adds it per document)."""
    facts = facts_context(data.facts, w)
    log, incidents = log_context(data.incidents, w)
    return {
        "doc": {
            "title": "",
            "made_on": w.day(data.made_at.astimezone(w.tz).date()),
            "disclaimer": w.disclaimer,
            "blank": w.blank,
        },
        "person": {"name": facts["name"], "city": facts["city"]},
        "facts": facts,
        "log": log,
        "incidents": incidents,
        "evidence": evidence_context(data.evidence, w),
        "filings": filings_context(data.filings, w),
    }


def for_draft(context: dict[str, Any], draft: str, w: Words) -> dict[str, Any]:
    return {**context, "doc": {**context["doc"], "title": w.titles.get(draft, draft)}}


# ----------------------------------------------------------------------------- sample facts (check, tests)


def sample_words() -> Words:
    """Words for rendering templates in ``check``: every key filled, none from content."""
    return Words(
        disclaimer="disclaimer",
        titles={d: d for d in DRAFTS},
        relations={r: r for r in RELATIONS},
        channels={c: c for c in CHANNELS},
        sources={k: k for k in ("photo", "document", "voice", "audio", "video", "video_note", "testimony")},
        categories={"sms": "sms", "chat": "chat"},
        proves={"sms": "proves sms", "chat": "proves chat"},
        uncategorised="uncategorised",
        filing_channels={"nfra_12378": "12378", "other": "other"},
        tz=timezone(timedelta(hours=8)),
    )


def sample_data(made_at: datetime | None = None) -> DraftData:
    """A case with every fact, two incidents, three evidence.rows and one filing of each kind."""
    at = made_at or datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    facts = Facts(
        app="App",
        lender="Lender",
        collector_company="Collector",
        contract_amount=Decimal("5000"),
        received_amount=Decimal("3500"),
        received_on=date(2026, 8, 1),
        schedule=(Installment(date(2026, 9, 1), Decimal("2000")),),
        paid_so_far=Decimal("1000"),
        overdue_since=date(2026, 10, 1),
        city="City",
        name="Name",
    )
    incidents = (
        Incident(at - timedelta(days=3, hours=2), "parents", "call", collector="13800000000", evidence=(1,)),
        Incident(at - timedelta(days=1), "colleagues", "sms", approximate=True, note="note"),
    )
    evidence = tuple(
        EvidenceItem(n, kind, cat, 100, f"{n:064x}", at - timedelta(days=n), "text/plain", note=note)
        for n, kind, cat, note in ((1, "photo", "sms", "note"), (2, "voice", "chat", ""), (3, "document", None, ""))
    )
    filings = (
        Filing(COMPLAINT, on=date(2026, 11, 1), channel="nfra_12378", reference="R-1", complete=True),
        Filing(POLICE, on=date(2026, 11, 2), station="Station", receipt=False, complete=True),
        Filing(LAWSUIT, on=date(2026, 11, 3), court="Court", case_no="(2026)1", complete=True),
    )
    return DraftData(facts, incidents, evidence, filings, at)


def empty_data(made_at: datetime | None = None) -> DraftData:
    """A case with nothing recorded: every loop empty, every fact blank."""
    return DraftData(None, (), (), (), made_at or datetime(2026, 11, 20, tzinfo=UTC))


__all__ = [
    "BLANK",
    "DRAFTS",
    "DraftData",
    "Words",
    "build_context",
    "empty_data",
    "for_draft",
    "sample_data",
    "sample_words",
]
