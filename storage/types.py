"""The plain values storage hands out and takes: which case, what an item is, counts, reports.

They are shared by the interfaces (``storage.base``) and both backends; ``storage.base``
re-exports them, so ``from storage.base import CaseKey`` keeps working.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from flows.model import Case, EvidenceItem


@dataclass(frozen=True)
class CaseKey:
    """Which case: one per private chat. A backend may shard or lock by it."""

    chat_id: int


class ReadState(enum.Enum):
    """What reading an item's original gave. Only a failed tag or hash is "damaged"."""

    OK = "ok"
    DAMAGED = "damaged"  # authentication tag or SHA-256 failed: the stored bytes are not the original
    UNREADABLE = "unreadable"  # the disk (or the object store) failed now; the item may be fine later
    MISSING = "missing"  # no such item in the case


@dataclass(frozen=True)
class StoredEvidence:
    """An item as storage knows it: what the engine sees, plus what only the export shows."""

    item: EvidenceItem
    filename: str = ""  # what the sender called the file (sealed at rest)
    intact: bool = True  # False: its row no longer matches its seal under the case key (storage.sealing)


@dataclass(frozen=True)
class Stats:
    """Counts for the clinic (/stats): numbers and content ids only. Never a chat id, a name or
    anything a victim wrote; no column that holds such a thing is read to make them."""

    cases: int = 0
    cases_by_node: dict[tuple[str, str], int] = field(default_factory=dict)  # (locale, node) -> cases
    active_7d: int = 0  # cases that changed in the last 7 days (any message or press does)
    active_30d: int = 0
    evidence_items: int = 0
    evidence_bytes: int = 0
    records: dict[str, int] = field(default_factory=dict)  # the case record's kind -> records


@dataclass(frozen=True)
class MaintenanceReport:
    pruned_messages: int = 0  # message ids Telegram no longer lets the bot delete
    pruned_updates: int = 0  # handled journal rows past their keep time
    wipe_pending: bool = False  # a deletion's old pages are still held by another reader


@dataclass(frozen=True)
class DueRecord:
    case: Case
    rid: int
    due_at: datetime


@dataclass(frozen=True)
class FoundRecord:
    case: Case
    rid: int
