"""The filings tracker's record shape: what the victim filed, where and when (kind ``filing``).

Kept beside ``flows/record.py`` (the harassment log and facts) and read the same way, by the
filings feature that writes it, by the drafts (a police report mentions the complaint made
before it) and by reminders. Unknown answers stay ``None``: shown as a blank, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

FILING = "filing"
COMPLAINT = "complaint"  # to a regulator: channel, date, reference number
POLICE = "police"  # a police report: station, date, 接报案回执 received or not
LAWSUIT = "lawsuit"  # a civil suit: court, date, case number
TYPES = (COMPLAINT, POLICE, LAWSUIT)

# follow-ups (flows/features/reminders.py): each fires once per filing; delays in content's reminders.yaml
COMPLAINT_NO_ANSWER = "complaint_no_answer"  # no answer to a complaint after the period content states
POLICE_NO_RECEIPT = "police_no_receipt"  # a police report without a 接报案回执
LAWSUIT_NEXT = "lawsuit_next"  # a lawsuit filed: what happens next
REMINDER_RULES = (COMPLAINT_NO_ANSWER, POLICE_NO_RECEIPT, LAWSUIT_NEXT)

# where a complaint went: ids; their words live in content (messages_filings.yaml)
COMPLAINT_CHANNELS = ("nfra_12378", "local_finance", "nifa", "c12321", "c12377", "other")


@dataclass(frozen=True)
class Filing:
    type: str  # one of TYPES
    on: date | None = None  # the day it was filed
    channel: str | None = None  # complaint: one of COMPLAINT_CHANNELS
    reference: str | None = None  # complaint: the reference (受理编号) given
    station: str | None = None  # police: the station
    receipt: bool | None = None  # police: was a 接报案回执 handed over
    court: str | None = None  # lawsuit: the court
    case_no: str | None = None  # lawsuit: the case number (案号)
    noted: date | None = None  # the day it was recorded here (reminders count from it if ``on`` is unknown)
    complete: bool = False  # every question was asked (answered or skipped)
    reminded: tuple[str, ...] = ()  # reminder rules already sent for it (each fires once)

    def to_body(self) -> dict[str, Any]:
        body = {f.name: getattr(self, f.name) for f in fields(self)}
        body["on"] = self.on.isoformat() if self.on else None
        body["noted"] = self.noted.isoformat() if self.noted else None
        body["reminded"] = list(self.reminded)
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Filing:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in body.items() if k in known}
        values["on"] = date.fromisoformat(body["on"]) if body.get("on") else None
        values["noted"] = date.fromisoformat(body["noted"]) if body.get("noted") else None
        values["reminded"] = tuple(body.get("reminded", ()))
        return cls(**values)

    def with_(self, **changes: Any) -> Filing:
        return replace(self, **changes)

    @property
    def since(self) -> date | None:
        """The day follow-ups count from: when it was filed, else when it was recorded here."""
        return self.on or self.noted
