"""The engine's vocabulary: cases, events in, replies out, and the storage it may ask.

Nothing here knows Telegram or SQLite. Adapters (handlers/) turn what a person did into one
of the ``Event`` types and show the ``Reply`` values the engine returns; storage/ implements
``CaseStore``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Awaiting:
    """What the next typed text is for: ``kind`` names it (a feature owns each kind), ``item``
    the evidence item it is about, if any. Stored between updates as ``encode()``."""

    kind: str
    item: int | None = None

    def encode(self) -> str:
        return self.kind if self.item is None else f"{self.kind}:{self.item}"

    @classmethod
    def decode(cls, text: str | None) -> Awaiting | None:
        if not text:
            return None
        kind, _, item = text.partition(":")
        return cls(kind, int(item)) if item.isdigit() else cls(kind)


@dataclass
class Case:
    """One victim's case. ``node`` is the transitions state, stored between updates."""

    id: str
    chat_id: int
    locale: str
    node: str
    ticks: set[str] = field(default_factory=set)  # "checklist:item" of ticked checklist items
    awaiting: Awaiting | None = None
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
    case_id: str = ""  # whose vault folder (and key) it was sealed into


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
    filename: str = ""  # what the sender called the file (shown, never used as a path)

    @property
    def label(self) -> str:
        return f"E-{self.no:03d}"


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Command:
    """``/name args`` typed (adapters pass only names the engine knows; anything else is
    ``""``). ``args`` is the rest of the line: a deep link's start parameter arrives as
    ``/start <param>``. It may be anything a stranger typed: never log it."""

    name: str
    args: str = ""


@dataclass(frozen=True)
class Press:
    """A button pressed: its callback data, as sent (it may be stale or forged)."""

    data: str


@dataclass(frozen=True)
class Text:
    """Something typed. Empty for a sticker, a location...: anything that is not text."""

    text: str


@dataclass(frozen=True)
class Upload:
    """A file already staged in the vault, to be committed with this update."""

    staged: StagedFile

    @property
    def said(self) -> str:
        return self.staged.caption


class FileProblem(enum.Enum):
    TOO_BIG = "too_big"
    QUOTA_FULL = "quota_full"
    EMPTY = "empty"
    DOWNLOAD_FAILED = "download_failed"
    DISK_FULL = "disk_full"  # our server's disk, not the person's file and not Telegram


@dataclass(frozen=True)
class UploadFailed:
    problem: FileProblem
    caption: str = ""


Event = Command | Press | Text | Upload | UploadFailed


def said(event: Event) -> str:
    """Whatever the person wrote with the event: checked for distress words."""
    if isinstance(event, Text):
        return event.text
    if isinstance(event, Upload):
        return event.staged.caption
    if isinstance(event, UploadFailed):
        return event.caption
    return ""


# ---------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class Btn:
    label: str
    data: str


Keyboard = tuple[tuple[Btn, ...], ...]


@dataclass(frozen=True)
class Message:
    text: str
    buttons: Keyboard = ()
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
class SendDocument:
    """A file made for the person (a draft), sent as a document named ``name``. ``make()`` gives
    its bytes: delivery calls it in a worker thread after the update's transaction has committed
    (a big case's drafts take a second; the write lock every chat shares is not held meanwhile),
    writes them to storage's scratch folder only while sending, and removes them."""

    name: str
    make: Callable[[], bytes] = field(repr=False)
    caption: str = ""


@dataclass(frozen=True)
class DeleteMessages:
    ids: tuple[int, ...]


@dataclass(frozen=True)
class ToStaff:
    """A message for the clinic's staff chat, sent only for a handoff the person consented to.
    ``track``: keep its id in the case record, so a staff reply to it reaches the person and a
    withdrawal deletes it (an untracked one is a notice nobody answers). ``then``: what the
    person is shown once the staff chat has taken it (instead, if it refused: why not)."""

    message: Message
    track: bool = True
    then: Message | None = None


@dataclass(frozen=True)
class ToStaffFile:
    """Evidence item ``no``'s original, for the staff chat (after the second, separate consent)."""

    no: int
    caption: str


@dataclass(frozen=True)
class StaffDelete:
    """Remove these of the bot's messages from the staff chat (Telegram allows it for 48 hours)."""

    ids: tuple[int, ...]


@dataclass(frozen=True)
class Notify:
    """A message to another person's private chat: only ever someone this case is linked to by
    an invitation (the victim who invited a witness, or the witness invited)."""

    chat_id: int
    message: Message


@dataclass(frozen=True)
class SendSealed:
    """A file of this case's vault that is not an evidence item (yet): a witness's upload the
    victim looks at before accepting it. Sent back only if it decrypts to ``sha256``."""

    blob_id: str
    sha256: str
    name: str  # the file name shown; never a path


@dataclass(frozen=True)
class SendImage:
    """A picture for the chat (a chart). ``draw()`` makes its PNG bytes: delivery calls it in a
    worker thread after the update's transaction has committed, so a slow plot never holds the
    write lock every chat shares. ``name`` is the file's name, ``caption`` its words (HTML)."""

    name: str
    draw: Callable[[], bytes]
    caption: str = ""


Reply = (
    Message
    | Toast
    | SendOriginal
    | Export
    | DeleteMessages
    | SendImage
    | ToStaff
    | ToStaffFile
    | StaffDelete
    | Notify
    | SendSealed
    | SendDocument
)


class CaseStore(Protocol):
    """What the engine may ask of storage, inside the update's transaction."""

    async def evidence_count(self, case: Case) -> int: ...
    async def evidence_bytes(self, case: Case) -> int: ...
    async def evidence_page(self, case: Case, offset: int, limit: int) -> list[EvidenceItem]: ...
    async def evidence_get(self, case: Case, no: int) -> EvidenceItem | None: ...
    async def evidence_add(self, case: Case, staged: StagedFile) -> tuple[EvidenceItem, bool]: ...
    async def evidence_add_text(self, case: Case, text: str, *, caption: str = "") -> tuple[EvidenceItem, bool]: ...
    async def discard_staged(self, staged: StagedFile) -> None: ...
    async def evidence_set_category(self, case: Case, no: int, category: str) -> bool: ...
    async def evidence_set_note(self, case: Case, no: int, note: str) -> bool: ...
    async def evidence_delete(self, case: Case, no: int) -> bool: ...
    async def case_delete(self, case: Case) -> list[int]: ...

    # the case record: what features keep beside the evidence, sealed under the case key.
    # ``kind`` is the feature's name for it ("incident", "facts", ...); numbers count from 1.
    async def record_add(
        self,
        case: Case,
        kind: str,
        body: dict,
        *,
        due_at: datetime | None = None,
        lookup: str | None = None,
        blob_id: str | None = None,
    ) -> int: ...
    async def record_find(self, kind: str, token: str) -> tuple[Case, int] | None: ...
    async def record_put(
        self, case: Case, kind: str, rid: int, body: dict, *, due_at: datetime | None = None
    ) -> bool: ...
    async def record_get(self, case: Case, kind: str, rid: int) -> dict | None: ...
    async def record_list(self, case: Case, kind: str) -> list[tuple[int, dict]]: ...
    async def record_delete(self, case: Case, kind: str, rid: int) -> bool: ...
