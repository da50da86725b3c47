"""What the fake "Telegram cloud" stores: chats, messages, files and callback queries.

These records are the fake server's memory.  Tests never see them directly: they read
snapshots (:mod:`tests.fakes.views`), so a later edit by the bot cannot change a value
a test already holds.  Every record is read and written under ``FakeBotAPI._lock``.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import mimetypes
from typing import Any, BinaryIO

from tests.fakes.views import CallbackAnswer

#: folder part of a file_path, by file kind (as the cloud Bot API names them)
FOLDERS = {
    "document": "documents",
    "photo": "photos",
    "voice": "voice",
    "audio": "music",
    "video": "videos",
    "video_note": "video_notes",
}
#: realistic file_id prefixes, by file kind (PTB does not parse them, people reading logs do)
FILE_ID_PREFIX = {
    "document": "BQACAgUAAxkBAAI",
    "photo": "AgACAgUAAxkBAAI",
    "voice": "AwACAgUAAxkBAAI",
    "audio": "CQACAgUAAxkBAAI",
    "video": "BAACAgUAAxkBAAI",
    "video_note": "DQACAgUAAxkBAAI",
}


@dataclasses.dataclass
class FileRecord:
    """A file known to the fake "Telegram cloud" (uploaded by a user or by the bot)."""

    file_id: str
    file_unique_id: str
    kind: str  # document, photo, voice, audio, video, video_note
    size: int
    number: int  # sequence number, used for file_path names ("documents/file_7.pdf")
    data: bytes | None = None
    path: str | None = None  # absolute path of a file on disk (big files, local mode)
    file_name: str | None = None
    mime_type: str | None = None
    file_path: str | None = None  # assigned by getFile
    materialized: str | None = None  # local mode: bytes written to disk

    def open(self) -> BinaryIO:
        if self.path is not None:
            return open(self.path, "rb")
        assert self.data is not None
        return io.BytesIO(self.data)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        with self.open() as f:
            return f.read()

    @property
    def extension(self) -> str:
        """``.pdf`` etc.: from the file name, else guessed from the MIME type or the kind."""
        if self.file_name and "." in self.file_name:
            return "." + self.file_name.rsplit(".", 1)[1]
        guessed = mimetypes.guess_extension(self.mime_type or "", strict=False)
        return guessed or {"photo": ".jpg", "voice": ".oga", "video_note": ".mp4"}.get(self.kind, "")

    def fields(self, **extra: Any) -> dict[str, Any]:
        """The JSON of a Telegram file object (Document, PhotoSize, Voice, ...)."""
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, **extra, "file_size": self.size}

    def document(self) -> dict[str, Any]:
        """The JSON of a Telegram ``Document`` (name and MIME type only when known)."""
        named = {"file_name": self.file_name, "mime_type": self.mime_type}
        return self.fields(**{k: v for k, v in named.items() if v})


@dataclasses.dataclass(frozen=True)
class Formatted:
    """A text or caption after Telegram's parsing: what the user sees and what the bot sent."""

    visible: str
    entities: list[dict[str, Any]]
    raw: str
    parse_mode: str | None


@dataclasses.dataclass
class StoredMessage:
    chat: ChatState
    message_id: int
    sender: dict[str, Any]
    from_bot: bool
    date: int
    seq: int = 0  # order among the bot messages of the chat
    text: str | None = None
    raw_text: str | None = None
    entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    caption: str | None = None
    raw_caption: str | None = None
    caption_entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    media: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. {"document": {...}}
    file: FileRecord | None = None
    reply_to: StoredMessage | None = None
    edit_date: int | None = None
    version: int = 0
    deleted: bool = False

    def set_text(self, text: Formatted) -> None:
        self.text = text.visible
        self.raw_text = text.raw
        self.entities = text.entities
        self.parse_mode = text.parse_mode

    def set_caption(self, caption: Formatted) -> None:
        self.caption = caption.visible or None
        self.raw_caption = caption.raw or None
        self.caption_entities = caption.entities
        self.parse_mode = caption.parse_mode

    def attach(self, kind: str, record: FileRecord, payload: Any) -> None:
        """Make this a media message (``payload`` is the JSON Telegram shows for ``kind``)."""
        self.media = {kind: payload}
        self.file = record

    def to_dict(self, *, nested: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": dict(self.sender),
            "chat": dict(self.chat.data),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.reply_to is not None and not nested:
            data["reply_to_message"] = self.reply_to.to_dict(nested=True)
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = copy.deepcopy(self.entities)
        data.update(copy.deepcopy(self.media))
        if self.caption:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = copy.deepcopy(self.caption_entities)
        if self.reply_markup is not None:
            data["reply_markup"] = copy.deepcopy(self.reply_markup)
        return data


@dataclasses.dataclass
class ChatState:
    id: int
    type: str  # private, group, supergroup
    data: dict[str, Any]
    username: str | None = None
    known: bool = False  # appeared in an update, so the bot may write to it
    blocked: bool = False  # private chat: the user blocked the bot
    bot_status: str = "member"  # groups: member, left, kicked
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = dataclasses.field(default_factory=dict)
    bot_messages: list[StoredMessage] = dataclasses.field(default_factory=list)
    actions: list[str] = dataclasses.field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    last_update_id: int | None = None  # the newest update this chat caused


@dataclasses.dataclass
class CallbackQueryState:
    id: str
    chat_id: int
    message_id: int
    data: str
    from_user_id: int
    created: float
    answer: CallbackAnswer | None = None


@dataclasses.dataclass
class Fault:
    """An error answer queued by ``FakeBotAPI.fail_next``."""

    status: int
    description: str
    retry_after: int | None
