"""The case record's shapes: what the harassment log and the case facts keep, in one place, so
the features that write them (log, facts) and the ones that read them (drafts, the export,
witnesses, handoff) agree. Stored as sealed JSON bodies in the case record
(``CaseStore.record_*``, kinds ``INCIDENT`` and ``FACTS``); ``to_body``/``from_body`` are the
only encoding. Unknown facts stay ``None``: documents show a blank (＿＿＿＿), never a guess.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

INCIDENT = "incident"
FACTS = "facts"  # one record per case, number 1

# who was contacted / how: ids; their words live in content (messages_log.yaml)
RELATIONS = ("parents", "spouse", "children", "relatives", "colleagues", "boss", "friends", "self", "other")
CHANNELS = ("call", "sms", "im", "visit", "mail_or_posting", "other")


@dataclass(frozen=True)
class Incident:
    """One contact by a collector: who, how, when; the rest optional."""

    at: datetime  # aware, UTC when stored
    relation: str  # one of RELATIONS
    channel: str  # one of CHANNELS
    approximate: bool = False  # the person gave a vague time ("昨晚")
    collector: str = ""  # the number or name the collector used
    note: str = ""
    evidence: tuple[int, ...] = ()  # evidence item numbers (E-00n) that show it

    def to_body(self) -> dict[str, Any]:
        body = asdict(self)
        body["at"] = self.at.isoformat()
        body["evidence"] = list(self.evidence)
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Incident:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in body.items() if k in known}
        values["at"] = datetime.fromisoformat(body["at"])
        values["evidence"] = tuple(body.get("evidence", ()))
        return cls(**values)


@dataclass(frozen=True)
class Installment:
    on: date
    amount: Decimal


@dataclass(frozen=True)
class Facts:
    """The case facts from the short interview; every one may be unknown (None)."""

    app: str | None = None  # the app or platform
    lender: str | None = None  # the lender named in the contract
    collector_company: str | None = None
    contract_amount: Decimal | None = None
    received_amount: Decimal | None = None  # what actually reached the borrower
    received_on: date | None = None
    schedule: tuple[Installment, ...] = ()  # instalments, or one sum and a date
    paid_so_far: Decimal | None = None
    overdue_since: date | None = None
    city: str | None = None
    name: str | None = None  # only if the person wants it in documents
    fees: tuple[Installment, ...] = ()  # money paid besides the schedule (service, membership, extension fees)
    extra: dict[str, str] = field(default_factory=dict)  # room for a clinic's own questions

    def to_body(self) -> dict[str, Any]:
        def enc(v: Any) -> Any:
            if isinstance(v, Decimal):
                return str(v)
            if isinstance(v, date):
                return v.isoformat()
            return v

        body = {f.name: enc(getattr(self, f.name)) for f in fields(self) if f.name not in ("schedule", "fees", "extra")}
        body["schedule"] = [{"on": i.on.isoformat(), "amount": str(i.amount)} for i in self.schedule]
        body["fees"] = [{"on": i.on.isoformat(), "amount": str(i.amount)} for i in self.fees]
        body["extra"] = dict(self.extra)
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Facts:
        def money(k: str) -> Decimal | None:
            return Decimal(body[k]) if body.get(k) is not None else None

        def day(k: str) -> date | None:
            return date.fromisoformat(body[k]) if body.get(k) else None

        return cls(
            app=body.get("app"),
            lender=body.get("lender"),
            collector_company=body.get("collector_company"),
            contract_amount=money("contract_amount"),
            received_amount=money("received_amount"),
            received_on=day("received_on"),
            schedule=tuple(
                Installment(date.fromisoformat(i["on"]), Decimal(i["amount"])) for i in body.get("schedule", ())
            ),
            fees=tuple(Installment(date.fromisoformat(i["on"]), Decimal(i["amount"])) for i in body.get("fees", ())),
            paid_so_far=money("paid_so_far"),
            overdue_since=day("overdue_since"),
            city=body.get("city"),
            name=body.get("name"),
            extra=dict(body.get("extra", {})),
        )
