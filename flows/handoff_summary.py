"""The case summary a handoff sends to the staff chat, and nothing more.

What it holds is what the consent screen lists: the case facts that are filled in, the step the
person is at, counts of logged incidents, and the evidence list (number, category, date received,
SHA-256) without any file, note, caption or file name. It never holds a chat id, a Telegram
account or anything typed outside the facts. The person sees it word for word before agreeing
(the preview), because that is the only honest way to say "exactly this".

Long cases are cut at line ends into several messages, each under Telegram's 4096 characters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from flows.content import Locale
from flows.feature import messages
from flows.record import FACTS, INCIDENT, Facts, Incident
from flows.screens import local_time, local_tz

if TYPE_CHECKING:
    from flows.feature import Turn

PART_LIMIT = 3500  # characters of one staff message (Telegram allows 4096 after parsing)
NIGHT = (22, 8)  # incidents from 22:00 to 08:00 local time are counted as at night
RECENT = timedelta(days=7)
FACT_FIELDS = (
    "app",
    "lender",
    "collector_company",
    "contract_amount",
    "received_amount",
    "received_on",
    "schedule",
    "paid_so_far",
    "overdue_since",
    "city",
    "name",
    "extra",
)
SUMMARY_MESSAGES = messages(
    {
        **{f"handoff_field_{f}": "" for f in FACT_FIELDS},
        "handoff_staff_header": "ref",
        "handoff_staff_updated_header": "ref",
        "handoff_staff_continued": "ref",
        "handoff_staff_fact": "label value",
        "handoff_staff_money": "amount",
        "handoff_staff_no_facts": "",
        "handoff_staff_step": "step",
        "handoff_staff_incidents": "total night week first last",
        "handoff_staff_no_incidents": "",
        "handoff_staff_evidence_header": "count",
        "handoff_staff_evidence_line": "no category date sha",
        "handoff_staff_no_evidence": "",
        "handoff_staff_footer": "",
        "evidence_uncategorised": "",
    }
)


def facts_present(body: dict | None) -> list[str]:
    """The fact fields that hold something (the consent screen names exactly these)."""
    if not body:
        return []
    facts = Facts.from_body(body)
    return [f for f in FACT_FIELDS if getattr(facts, f) not in (None, "", (), {})]


def _value(loc: Locale, v: object) -> str:
    if isinstance(v, Decimal):
        return loc.messages["handoff_staff_money"].format(amount=f"{v:,}")
    if hasattr(v, "isoformat"):
        return v.isoformat()  # type: ignore[union-attr]
    return str(v)


def fact_lines(loc: Locale, body: dict | None) -> list[str]:
    if not body:
        return [loc.msg("handoff_staff_no_facts")]
    facts = Facts.from_body(body)
    lines = []
    for f in facts_present(body):
        label = loc.msg(f"handoff_field_{f}")
        if f == "schedule":
            value = loc.msg("clause_separator").join(
                f"{i.on.isoformat()} {_value(loc, i.amount)}" for i in facts.schedule
            )
            lines.append(loc.msg("handoff_staff_fact", label=label, value=value))
        elif f == "extra":
            lines += [loc.msg("handoff_staff_fact", label=k, value=v) for k, v in facts.extra.items()]
        else:
            lines.append(loc.msg("handoff_staff_fact", label=label, value=_value(loc, getattr(facts, f))))
    return lines


def step_title(loc: Locale, node_id: str, staff: Locale | None = None) -> str | None:
    """ "2. 保存证据": the step of the person's node, titled in ``staff``'s words if given."""
    node = loc.nodes.get(node_id)
    if node is None or node.step is None:
        return None
    titles = {st.n: st.title for st in (staff or loc).steps} or {st.n: st.title for st in loc.steps}
    return f"{node.step}. {titles.get(node.step, '')}".strip()


def incident_line(loc: Locale, bodies: list[dict], now: datetime) -> str:
    if not bodies:
        return loc.msg("handoff_staff_no_incidents")
    times = sorted(Incident.from_body(b).at for b in bodies)
    tz = local_tz(loc)
    night = sum(1 for t in times if t.astimezone(tz).hour >= NIGHT[0] or t.astimezone(tz).hour < NIGHT[1])
    week = sum(1 for t in times if t >= now - RECENT)
    first, last = (local_time(loc, t, "%Y-%m-%d") for t in (times[0], times[-1]))
    return loc.msg("handoff_staff_incidents", total=len(times), night=night, week=week, first=first, last=last)


async def case_summary(turn: Turn, staff: Locale, *, ref: str, updated: bool) -> list[str]:
    """The summary as the staff chat will show it, already cut into messages."""
    case, store = turn.case, turn.store
    head = staff.msg("handoff_staff_updated_header" if updated else "handoff_staff_header", ref=ref)
    lines = [head, ""]
    lines += fact_lines(staff, await store.record_get(case, FACTS, 1))
    lines.append(staff.msg("handoff_staff_step", step=step_title(turn.loc, case.node, staff) or "—"))
    incidents = [b for _, b in await store.record_list(case, INCIDENT)]
    lines.append(incident_line(staff, incidents, datetime.now(UTC)))
    count = await store.evidence_count(case)
    if count:
        lines.append(staff.msg("handoff_staff_evidence_header", count=count))
        for it in await store.evidence_page(case, 0, count):
            cat = staff.category(it.category)
            lines.append(
                staff.msg(
                    "handoff_staff_evidence_line",
                    no=it.label,
                    category=cat.label if cat else staff.msg("evidence_uncategorised"),
                    date=local_time(staff, it.received_at, "%Y-%m-%d"),
                    sha=it.sha256,
                )
            )
    else:
        lines.append(staff.msg("handoff_staff_no_evidence"))
    lines += ["", staff.msg("handoff_staff_footer")]
    return _parts(lines, staff.msg("handoff_staff_continued", ref=ref))


def _parts(lines: list[str], continued: str) -> list[str]:
    parts: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if parts[-1] and size + len(line) + 1 > PART_LIMIT:
            parts.append([continued])
            size = len(continued)
        parts[-1].append(line)
        size += len(line) + 1
    return ["\n".join(p).strip() for p in parts]


def split(text: str, limit: int = PART_LIMIT) -> list[str]:
    """A long message in pieces that each fit one Telegram message with a header."""
    text = text.strip() or "…"
    return [text[i : i + limit] for i in range(0, len(text), limit)]
