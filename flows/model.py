"""The engine's vocabulary: cases, events in, replies out, and the storage it may ask.

Nothing here knows Telegram or SQLite. Adapters (handlers/) turn updates into ``Event``s and
``Reply``s into Bot API calls; storage/ implements ``CaseStore``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, Union


@dataclass
class Case:
    """One victim's case. ``node`` is the transitions state, stored between updates."""

    id: str
    chat_id: int
    locale: str
    node: str
    ticks: set[str] = field(default_factory=set)  # "node:item" of ticked checklist items
    awaiting: str | None = None  # "testimony" or "note:<no>": what the next text is for
    deleted: bool = False


@dataclass(frozen=True)
class StagedFile:
    """An upload already streamed, hashed and encrypted into the vault, not yet committed."""

    blob_id: str
    path: Path
    sha256: str
    size: int
    kind: str  # photo, document, voice, audio, video, video_note, testimony
    mime: str
    file_unique_id: str = ""
    caption: str = ""
    filename: str = ""
    message_date: datetime | None = None


@dataclass(frozen=True)
class EvidenceItem:
    no: int
    kind: str
    category: str | None
    size: int
    sha256: str
    received_at: datetime
    mime: str
    extension: str = ""
    note: str = ""
    caption: str = ""
    message_date: datetime | None = None  # when Telegram says the message was sent
    blob_id: str = ""  # the vault file holding it

    @property
    def label(self) -> str:
        return f"E-{self.no:03d}"


@dataclass(frozen=True)
class Event:
    """What the user did. ``kind``: command, button, text, file, file_error."""

    kind: str
    value: str = ""
    staged: StagedFile | None = None
    said: str = ""  # whatever the user wrote with it (text or caption), checked for distress words


@dataclass(frozen=True)
class Btn:
    label: str
    data: str


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[tuple[Btn, ...], ...] = ()
    edit: bool = False  # replace the message whose button was pressed, instead of sending anew


@dataclass(frozen=True)
class Toast:
    """The short answer to a button press (the spinner always stops; this adds words)."""

    text: str


@dataclass(frozen=True)
class SendOriginal:
    no: int


@dataclass(frozen=True)
class Export:
    pass


@dataclass(frozen=True)
class DeleteMessages:
    ids: tuple[int, ...]


Reply = Union[Message, Toast, SendOriginal, Export, DeleteMessages]


class CaseStore(Protocol):
    """What the engine may ask of storage, inside the update's transaction."""

    async def evidence_count(self, case: Case) -> int: ...
    async def evidence_bytes(self, case: Case) -> int: ...
    async def evidence_page(self, case: Case, offset: int, limit: int) -> list[EvidenceItem]: ...
    async def evidence_get(self, case: Case, no: int) -> EvidenceItem | None: ...
    async def evidence_add(self, case: Case, staged: StagedFile) -> tuple[EvidenceItem, bool]: ...
    async def evidence_add_text(self, case: Case, text: str) -> tuple[EvidenceItem, bool]: ...
    async def evidence_set_category(self, case: Case, no: int, category: str) -> bool: ...
    async def evidence_set_note(self, case: Case, no: int, note: str) -> bool: ...
    async def evidence_delete(self, case: Case, no: int) -> bool: ...
    async def case_delete(self, case: Case) -> list[int]: ...
