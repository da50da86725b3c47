"""What a test sees: immutable snapshots of what the bot did.

Tests assert on these views, never on the fake's records, so a value a test holds does
not change when the bot edits or deletes a message later.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tests.fakes.records import FileRecord, StoredMessage

__all__ = [
    "BotMessage",
    "ButtonView",
    "CallbackAnswer",
    "DocumentView",
    "DownloadRecord",
    "PendingCallback",
    "RecordedRequest",
    "UploadedFile",
]


class ButtonView(NamedTuple):
    """An inline keyboard button as the user sees it: label and callback_data (None for URL buttons)."""

    label: str
    data: str | None


class DocumentView:
    """A document the bot sent: ``filename``, ``mime_type``, ``size`` and ``data`` (the uploaded
    bytes, read on access).  Unpacks as ``filename, data = message.document``."""

    def __init__(self, record: FileRecord):
        self._record = record
        self.file_id = record.file_id
        self.file_unique_id = record.file_unique_id
        self.filename: str | None = record.file_name
        self.mime_type: str | None = record.mime_type
        self.size = record.size

    @property
    def file_name(self) -> str | None:
        return self.filename

    @property
    def data(self) -> bytes:
        return self._record.read()

    def __iter__(self) -> Iterator[Any]:
        yield self.filename
        yield self.data

    def __repr__(self) -> str:
        return f"DocumentView(filename={self.filename!r}, mime_type={self.mime_type!r}, size={self.size})"


@dataclasses.dataclass(frozen=True)
class BotMessage:
    """Snapshot of a message the bot sent, as the user sees it.

    ``text`` is the visible text (HTML already parsed), ``raw_text`` what the bot
    passed to ``sendMessage``.  ``buttons`` is a list of rows, each a list of
    :class:`ButtonView` ``(label, callback_data)`` named tuples.  ``edited`` is True once the bot edited it;
    ``deleted`` is True if it has been deleted since.
    """

    chat_id: int
    message_id: int
    date: int
    text: str | None
    raw_text: str | None
    entities: list[dict[str, Any]]
    caption: str | None
    parse_mode: str | None
    buttons: list[list[ButtonView]]
    reply_markup: dict[str, Any] | None
    document: DocumentView | None
    edited: bool
    deleted: bool
    version: int
    reply_to_message_id: int | None
    photo: DocumentView | None = None  # a picture the bot sent (sendPhoto): its bytes as uploaded

    @classmethod
    def of(cls, message: StoredMessage) -> BotMessage:
        """A snapshot of a stored message (later edits do not change it)."""
        rows = message.reply_markup["inline_keyboard"] if message.reply_markup else []
        has_document = message.file is not None and "document" in message.media
        return cls(
            chat_id=message.chat.id,
            message_id=message.message_id,
            date=message.date,
            text=message.text,
            raw_text=message.raw_text if message.text is not None else message.raw_caption,
            entities=copy.deepcopy(message.entities or message.caption_entities),
            caption=message.caption,
            parse_mode=message.parse_mode,
            buttons=[[ButtonView(b["text"], b.get("callback_data")) for b in row] for row in rows],
            reply_markup=copy.deepcopy(message.reply_markup),
            document=DocumentView(message.file) if has_document and message.file is not None else None,
            edited=message.edit_date is not None,
            deleted=message.deleted,
            version=message.version,
            reply_to_message_id=message.reply_to.message_id if message.reply_to else None,
            photo=DocumentView(message.file) if "photo" in message.media and message.file is not None else None,
        )

    @property
    def button_labels(self) -> list[str]:
        return [b.label for row in self.buttons for b in row]

    @property
    def body(self) -> str:
        """Text, or caption for media messages ('' if neither)."""
        return self.text if self.text is not None else (self.caption or "")

    def __str__(self) -> str:
        parts = [self.body]
        if self.document is not None:
            parts.append(f"[document {self.document.filename!r}, {self.document.size} bytes]")
        if self.buttons:
            parts.append(" ".join(f"[{b.label}]" for b in (b for row in self.buttons for b in row)))
        if self.edited:
            parts.append("(edited)")
        if self.deleted:
            parts.append("(deleted)")
        return " ".join(p for p in parts if p)


@dataclasses.dataclass(frozen=True)
class CallbackAnswer:
    """What the bot passed to answerCallbackQuery."""

    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclasses.dataclass(frozen=True)
class PendingCallback:
    """A callback query the bot has not answered (yet)."""

    id: str
    chat_id: int
    message_id: int
    data: str
    from_user_id: int


@dataclasses.dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (metadata only in the request log)."""

    filename: str | None
    mime_type: str
    size: int


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One Bot API call as the fake saw it."""

    method: str  # canonical name, or the name as sent if unknown
    params: dict[str, str]
    files: dict[str, UploadedFile]
    status: int
    description: str | None  # error description, None on success
    at: float  # time.monotonic()
    seq: int = 0  # arrival order (``FakeBotAPI.mark()`` counts in this unit)
    chat_id: int | None = None  # the chat the call is about (a callback answer: the pressed message's chat)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclasses.dataclass
class DownloadRecord:
    """One file download (GET /file/bot<token>/<file_path>)."""

    file_id: str
    file_path: str
    status: str  # started, stalled (held by delay_file), completed, aborted


# --------------------------------------------------------------------------------------
