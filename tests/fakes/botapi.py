"""A strict, in-process fake of the Telegram Bot API HTTP server.

The fake is a real HTTP server (stdlib ``ThreadingHTTPServer`` in a background
thread, bound to ``127.0.0.1`` on a free port).  The *real* python-telegram-bot
``Bot`` / ``Application`` talks to it exactly as it talks to
``api.telegram.org``::

    with FakeBotAPI(token="123:ABC") as server:
        bot = telegram.Bot("123:ABC", base_url=server.base_url,
                           base_file_url=server.base_file_url)

and so does a bot running in a separate process (point its API URL at
``server.url``).

Tests play the *users*: ``server.user(...)`` returns a :class:`FakeUser` that can
``send`` text, press inline buttons, upload documents/photos/voice notes and
read what the bot sent back (:class:`BotMessage` views).

Design rule: **be at least as strict as Telegram and fail loudly**.  Validation
rules and error descriptions are copied from Telegram's own server code
(tdlib/telegram-bot-api ``Client.cpp`` and tdlib ``MessageEntity.cpp``), so a
bot that passes against the fake does not trip over "can't parse entities" or
"BUTTON_DATA_INVALID" in production.  Anything the fake does not implement is
answered with ``404 Not Found: method not found`` *and* recorded in
:attr:`FakeBotAPI.unexpected`, which tests should assert to be empty
(:meth:`FakeBotAPI.assert_clean`).

Where the fake is deliberately *stricter* than Telegram, the docstring says so
(e.g. a bare ``&`` in HTML text, which Telegram silently shows literally but
the Bot API documentation forbids).

Telegram behaviour imitated (see each ``_api_*`` method):

* auth: wrong token -> 401 ``Unauthorized`` (404 if malformed); unknown method ->
  404 ``Not Found: method not found``; method names are case-insensitive.
* getUpdates: long polling, offset confirmation (``is_confirmed``), negative
  offsets, ``allowed_updates`` memory, 409 Conflict for the older of two
  concurrent polls; deleteWebhook(drop_pending_updates) drops the queue.
* text: 1..4096 characters after entity parsing and whitespace trimming, raw
  text <= 32 KiB, captions <= 1024; HTML parsed by a port of tdlib's parser.
* inline keyboards: button text required and non-empty, exactly one action,
  callback_data 1..64 bytes (BUTTON_DATA_INVALID), <= 100 buttons, <= 8 per row.
* chats: unknown chat -> "chat not found"; a user seen only in a group ->
  403 "bot can't initiate conversation with a user"; blocked / kicked / left ->
  the matching 403.
* edits: message must exist, be the bot's and (for text edits) have text;
  unchanged text+entities+keyboard -> "message is not modified"; an edit without
  reply_markup removes the keyboard.
* callbacks: each query answered at most once ("query is too old ..."), text <= 200.
* deletes: only within 48 h, others' messages only in private chats.
* files: uploads <= 50 MB (413), getFile <= 20 MB ("file is too big") unless
  ``local_mode``; file paths become downloadable only through getFile.

Typical use (same event loop as the bot, or the bot in a subprocess)::

    with FakeBotAPI(token="123:ABC") as server:
        user = server.user(chat_id=1001, first_name="小李", language_code="zh-hans")
        user.send("/start")
        ...start the bot with base_url=server.base_url, base_file_url=server.base_file_url...
        (welcome,) = await user.wait_for_messages(1)
        user.press(welcome, "开始")
        server.assert_clean()   # nothing unexpected, every callback answered
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import email.parser
import email.policy
import hashlib
import io
import json
import mimetypes
import os
import re
import select
import shutil
import socket
import tempfile
import threading
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "MB",
    "BotMessage",
    "ButtonView",
    "CallbackAnswer",
    "DocumentView",
    "DownloadRecord",
    "FakeBotAPI",
    "FakeChat",
    "FakeGroup",
    "FakeUser",
    "HtmlParseError",
    "PendingCallback",
    "RecordedRequest",
    "parse_html",
    "utf16_len",
]

MB = 1024 * 1024

#: Telegram limits (https://core.telegram.org/bots/api and Telegram's server code).
MAX_TEXT_LENGTH = 4096  # characters (Unicode code points) after entity parsing
MAX_CAPTION_LENGTH = 1024
MAX_RAW_TEXT_BYTES = 1 << 15  # Bot API server rejects longer raw text: "text is too long"
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS_TOTAL = 100
MAX_BUTTONS_PER_ROW = 8
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_SIZE = 20 * MB  # getFile limit of the cloud Bot API
MAX_UPLOAD_SIZE = 50 * MB  # multipart upload limit of the cloud Bot API
MAX_UPLOAD_SIZE_LOCAL = 2000 * MB  # ... of a local (--local) Bot API server
DELETE_WINDOW_SECONDS = 48 * 3600

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
#: update types NOT delivered while allowed_updates is unset or []
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_DEFAULT_FAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_CHUNK = 64 * 1024


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


def _bad(description: str) -> ApiError:
    """Telegram prefixes every 400 with ``Bad Request: ``."""
    return ApiError(400, f"Bad Request: {description}")


def _forbidden(description: str) -> ApiError:
    return ApiError(403, f"Forbidden: {description}")


# --------------------------------------------------------------------------------------
# HTML parse mode (a port of tdlib's parse_html)
# --------------------------------------------------------------------------------------


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html`; Telegram reports it as ``can't parse entities: <msg>``."""


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SPACES = " \t\r\n\v\0"  # tdlib's is_space (NUL counts: it is the C string terminator)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets and lengths."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_html_entity(src: str, pos: int) -> tuple[int, int, bool]:
    """Port of tdlib ``decode_html_entity``: returns (code point or 0, end position, had ';')."""
    n = len(src)

    def at(k: int) -> str:
        return src[k] if k < n else "\0"

    end = pos + 1
    res = 0
    if at(pos + 1) == "#":
        end += 1
        if at(pos + 2) == "x":
            end += 1
            while at(end) in "0123456789abcdefABCDEF" and at(end) != "\0":
                res = res * 16 + int(at(end), 16)
                end += 1
        else:
            while at(end) in "0123456789" and at(end) != "\0":
                res = res * 10 + int(at(end))
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos, False
    else:
        while at(end).isascii() and at(end).isalpha():
            end += 1
        name = src[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return 0, pos, False
        res = ord(_NAMED_ENTITIES[name])
    if at(end) == ";":
        return res, end + 1, True
    return res, end, False


def parse_html(src: str, *, strict_entities: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)`` like Telegram does.

    This is a line-by-line port of tdlib's ``parse_html`` (what the Bot API server
    runs for ``parse_mode=HTML``): only the tags ``b strong i em u ins s strike del
    span(class="tg-spoiler") tg-spoiler a(href) code pre blockquote(expandable)
    tg-emoji tg-time`` are accepted; an unknown tag, an unclosed / mismatched tag
    or a bare ``<`` (``"a < b"`` is parsed as the start of a tag with an empty
    name) is an error whose message is copied from tdlib.  Entity offsets and
    lengths are in UTF-16 code units.

    ``strict_entities`` (default): a ``&`` in text that does not start one of the
    supported character references ``&lt; &gt; &amp; &quot; &#NN; &#xHH;``
    (terminated by ``;``) is an error.  Telegram itself keeps such an ``&``
    literally, but the Bot API documentation requires it to be escaped, and an
    unescaped ``&`` almost always means user input was not passed through
    ``html.escape`` (which would then turn "a &lt; b" typed by a user into "a < b").
    """
    n = len(src)

    def at(k: int) -> str:
        return src[k] if k < n else "\0"

    def boff(k: int) -> int:
        return len(src[:k].encode("utf-8", "surrogatepass"))

    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    # stack entries: [tag, argument, utf16 offset, index into out]
    stack: list[list[Any]] = []
    i = 0
    while i < n:
        c = src[i]
        if c == "&":
            code, end, had_semicolon = _decode_html_entity(src, i)
            if code and (had_semicolon or not strict_entities):
                ch = chr(code)
                out.append(ch)
                utf16 += 2 if code > 0xFFFF else 1
                i = end
                continue
            if strict_entities:
                raise HtmlParseError(
                    f"Unescaped character '&' at byte offset {boff(i)}: write it as &amp; "
                    "(Telegram would show it literally, but the Bot API docs require escaping; "
                    "the fake is strict here)"
                )
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # start tag
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
            tag = src[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {boff(begin)}')
            argument = ""
            while at(i) != ">":
                while i < n and src[i] in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) not in _SPACES and at(i) not in "=>/\"'":
                    i += 1
                attr = src[attr_begin:i]
                if not attr:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {boff(begin)}'
                    )
                while i < n and src[i] in _SPACES:
                    i += 1
                if at(i) != "=":
                    if i >= n:
                        raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                    continue
                i += 1
                while i < n and src[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
                if src[i] not in "'\"":
                    token_begin = i
                    while (at(i).isascii() and at(i).isalnum()) or at(i) in ".-":
                        if at(i) == "\0":
                            break
                        i += 1
                    value = src[token_begin:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset {boff(token_begin)}"
                        )
                else:
                    quote = src[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and src[i] != quote:
                        if src[i] == "&":
                            code, end, _ = _decode_html_entity(src, i)
                            if code:
                                chars.append(chr(code))
                                i = end
                                continue
                        chars.append(src[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {boff(begin)}')
            stack.append([tag, argument, utf16, len(out)])
            i += 1  # skip '>'
            continue

        # end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {boff(begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_tag = src[begin + 2 : i].lower()
        while i < n and src[i] in _SPACES:
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {boff(begin)}")
        tag, argument, offset, out_index = stack[-1]
        if end_tag and end_tag != tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {boff(begin)}, expected "</{tag}>", found "</{end_tag}>"'
            )
        if utf16 > offset:
            length = utf16 - offset
            entity: dict[str, Any] | None = None
            if tag in ("i", "em"):
                entity = {"type": "italic"}
            elif tag in ("b", "strong"):
                entity = {"type": "bold"}
            elif tag in ("s", "strike", "del"):
                entity = {"type": "strikethrough"}
            elif tag in ("u", "ins"):
                entity = {"type": "underline"}
            elif tag in ("tg-spoiler", "span"):
                entity = {"type": "spoiler"}
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise HtmlParseError("Invalid custom emoji identifier specified")
                entity = {"type": "custom_emoji", "custom_emoji_id": argument}
            elif tag == "tg-time":
                entity = None  # accepted by Telegram; no Bot API entity needed for the fake
            elif tag == "a":
                url = argument or "".join(out[out_index:])
                entity = {"type": "text_link", "url": url} if url else None
            elif tag == "pre":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "code"
                    and last["offset"] == offset
                    and last["length"] == length
                    and last.get("_language")
                ):
                    last["type"] = "pre"
                    last["language"] = last.pop("_language")
                else:
                    entity = {"type": "pre"}
            elif tag == "code":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "pre"
                    and last["offset"] == offset
                    and last["length"] == length
                    and argument
                ):
                    last["language"] = argument
                else:
                    entity = {"type": "code"}
                    if argument:
                        entity["_language"] = argument
            elif tag == "blockquote":
                entity = {"type": "expandable_blockquote" if argument else "blockquote"}
            if entity is not None:
                entity["offset"] = offset
                entity["length"] = length
                entities.append(entity)
        stack.pop()
        i += 1  # skip '>'
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    ordered = [
        {"offset": e["offset"], "length": e["length"], "type": e["type"], **_entity_extras(e)}
        for e in entities
    ]
    return "".join(out), ordered


def _entity_extras(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if k not in ("offset", "length", "type")}


def _trim_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading and trailing whitespace of message texts and captions."""
    stripped_left = text.lstrip(" \t\r\n")
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(" \t\r\n")
    total = utf16_len(result)
    fixed = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] - shift + entity["length"])
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


# --------------------------------------------------------------------------------------
# stored state
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _FileRecord:
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
            return open(self.path, "rb")  # noqa: SIM115 - caller closes
        assert self.data is not None
        return io.BytesIO(self.data)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        with self.open() as f:
            return f.read()


_FOLDERS = {
    "document": "documents",
    "photo": "photos",
    "voice": "voice",
    "audio": "music",
    "video": "videos",
    "video_note": "video_notes",
}
_FILE_ID_PREFIX = {
    "document": "BQACAgUAAxkBAAI",
    "photo": "AgACAgUAAxkBAAI",
    "voice": "AwACAgUAAxkBAAI",
    "audio": "CQACAgUAAxkBAAI",
    "video": "BAACAgUAAxkBAAI",
    "video_note": "DQACAgUAAxkBAAI",
}


@dataclasses.dataclass
class _StoredMessage:
    chat: _Chat
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
    file: _FileRecord | None = None
    reply_to: _StoredMessage | None = None
    edit_date: int | None = None
    version: int = 0
    deleted: bool = False

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
class _Chat:
    id: int
    type: str  # private, group, supergroup
    data: dict[str, Any]
    username: str | None = None
    known: bool = False  # appeared in an update, so the bot may write to it
    blocked: bool = False  # private chat: the user blocked the bot
    bot_status: str = "member"  # groups: member, left, kicked
    next_message_id: int = 1
    messages: dict[int, _StoredMessage] = dataclasses.field(default_factory=dict)
    bot_messages: list[_StoredMessage] = dataclasses.field(default_factory=list)
    actions: list[str] = dataclasses.field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None


@dataclasses.dataclass
class _CallbackQuery:
    id: str
    chat_id: int
    message_id: int
    data: str
    from_user_id: int
    created: float
    answer: CallbackAnswer | None = None


@dataclasses.dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None


class _Poll:
    """A getUpdates long poll in progress."""

    def __init__(self, ctx: _RequestContext):
        self.ctx = ctx
        self.aborted = False


# --------------------------------------------------------------------------------------
# public views
# --------------------------------------------------------------------------------------


class ButtonView(NamedTuple):
    """An inline keyboard button as the user sees it: label and callback_data (None for URL buttons)."""

    label: str
    data: str | None


class DocumentView:
    """A document the bot sent: ``filename``, ``mime_type``, ``size`` and ``data`` (the uploaded
    bytes, read on access).  Unpacks as ``filename, data = message.document``."""

    def __init__(self, record: _FileRecord):
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

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclasses.dataclass
class DownloadRecord:
    """One file download (GET /file/bot<token>/<file_path>)."""

    file_id: str
    file_path: str
    status: str  # started, completed, aborted


# --------------------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------------------


class FakeBotAPI:
    """A fake Telegram Bot API server (cloud or ``--local`` flavour) on 127.0.0.1.

    Parameters:
        token: the bot token.  Requests with any other token get ``401
            Unauthorized`` (well-formed token) or ``404 Not Found`` (malformed), like
            Telegram, and are recorded in :attr:`unexpected`.
        local_mode: imitate a ``telegram-bot-api --local`` server: no 20 MB getFile
            limit, ``file_path`` is the absolute path of the file on disk, ``file://``
            URIs are accepted for uploads and the upload limit is 2000 MB.
        clock: time source for message dates and the 48 h deletion window.
        strict_html_entities: see :func:`parse_html`.
        callback_query_ttl: if set, answering a callback query more than this many
            seconds (by ``clock``) after the press fails with "query is too old"
            (Telegram's window is roughly 15 s; ``None`` disables the check).
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        local_mode: bool = False,
        clock: Callable[[], float] = time.time,
        bot_username: str = "shouhu_test_bot",
        bot_first_name: str = "守护 Test",
        strict_html_entities: bool = True,
        callback_query_ttl: float | None = None,
        first_update_id: int = 1,
    ):
        self.token = token
        self.local_mode = local_mode
        self.strict_html_entities = strict_html_entities
        self.callback_query_ttl = callback_query_ttl
        self._clock = clock
        try:
            bot_id = int(token.split(":", 1)[0])
        except ValueError:
            bot_id = 1
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._closing = False
        self._inflight = 0  # HTTP requests being answered right now
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._tmpdir: str | None = None

        # updates
        self._updates: deque[dict[str, Any]] = deque()
        self._next_update_id = first_update_id
        self._confirmed_below = first_update_id  # every update_id < this is confirmed
        self._dropped: set[int] = set()
        self._allowed_updates: frozenset[str] | None = None
        self._active_poll: _Poll | None = None
        #: every update ever enqueued, in order
        self.all_updates: list[dict[str, Any]] = []
        #: number of getUpdates calls terminated by a newer concurrent getUpdates (409)
        self.conflicts = 0

        # chats, users, files
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._seen_users: set[int] = set()
        self._fakes: dict[int, FakeChat] = {}
        self._files: dict[str, _FileRecord] = {}
        self._paths: dict[str, _FileRecord] = {}
        self._file_counter = 0
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._callback_counter = 0
        self._delays: dict[str, threading.Event] = {}
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)

        #: every request, in arrival order of their answers
        self.requests: list[RecordedRequest] = []
        #: human-readable descriptions of everything the fake did not expect:
        #: unknown methods, wrong tokens, unknown paths, unsupported features, fake bugs.
        self.unexpected: list[str] = []
        #: chat ids the bot left with leaveChat
        self.left_chats: set[int] = set()
        #: commands set with setMyCommands, keyed by (scope JSON, language_code)
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.downloads: list[DownloadRecord] = []
        self.webhook_deletions = 0

        self._methods: dict[str, tuple[str, Callable[[dict[str, str], dict[str, _Upload], _RequestContext], Any]]] = {
            name.lower(): (name, fn)
            for name, fn in {
                "getMe": self._api_get_me,
                "logOut": self._api_true,
                "close": self._api_true,
                "deleteWebhook": self._api_delete_webhook,
                "getWebhookInfo": self._api_get_webhook_info,
                "setMyCommands": self._api_set_my_commands,
                "getMyCommands": self._api_get_my_commands,
                "deleteMyCommands": self._api_delete_my_commands,
                "getUpdates": self._api_get_updates,
                "sendMessage": self._api_send_message,
                "editMessageText": self._api_edit_message_text,
                "editMessageReplyMarkup": self._api_edit_message_reply_markup,
                "answerCallbackQuery": self._api_answer_callback_query,
                "sendDocument": self._api_send_document,
                "sendChatAction": self._api_send_chat_action,
                "deleteMessage": self._api_delete_message,
                "deleteMessages": self._api_delete_messages,
                "getFile": self._api_get_file,
                "leaveChat": self._api_leave_chat,
            }.items()
        }

    # ----------------------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotAPI:
        """Start serving on 127.0.0.1 (free port) in a daemon thread.  Returns self."""
        if self._httpd is not None:
            raise RuntimeError("FakeBotAPI already started")
        self._closing = False
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="FakeBotAPI", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server: end long polls (they answer ``[]``) and delayed downloads, let
        in-flight answers go out, then close all connections."""
        httpd = self._httpd
        if httpd is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._inflight == 0, timeout=2)
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections.items())
        for _thread, sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread, _sock in connections:
            thread.join(timeout=5)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the server must be started)."""
        if self._httpd is None:
            raise RuntimeError("FakeBotAPI is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """Value for ``telegram.Bot(base_url=...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``telegram.Bot(base_file_url=...)``."""
        return f"{self.url}/file/bot"

    def bot_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``telegram.Bot(**server.bot_kwargs())``."""
        return {
            "token": self.token,
            "base_url": self.base_url,
            "base_file_url": self.base_file_url,
            "local_mode": self.local_mode,
        }

    # ----------------------------------------------------------------------------- users & chats

    def user(
        self,
        chat_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        """A Telegram user and their private chat with the bot (chat id == user id).

        Calling it again with the same id returns the same :class:`FakeUser`.
        """
        if chat_id <= 0:
            raise ValueError("user ids (and private chat ids) are positive")
        with self._lock:
            existing = self._fakes.get(chat_id)
            if existing is not None:
                assert isinstance(existing, FakeUser)
                return existing
            user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": first_name}
            chat_data: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
            if last_name:
                user["last_name"] = chat_data["last_name"] = last_name
            if username:
                user["username"] = chat_data["username"] = username
            if language_code:
                user["language_code"] = language_code
            self._users[chat_id] = user
            self._chats[chat_id] = _Chat(id=chat_id, type="private", data=chat_data, username=username)
            fake = FakeUser(self, chat_id, user)
            self._fakes[chat_id] = fake
            return fake

    def group(
        self, chat_id: int, from_user: FakeUser, *, title: str = "Test group", username: str | None = None
    ) -> FakeGroup:
        """A group the bot is a member of; ``from_user`` is the default sender.

        Ids starting with -100 are supergroups, other negative ids basic groups.
        """
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        with self._lock:
            existing = self._fakes.get(chat_id)
            if existing is not None:
                assert isinstance(existing, FakeGroup)
                return existing
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            data: dict[str, Any] = {"id": chat_id, "type": kind, "title": title}
            if username:
                data["username"] = username
            self._chats[chat_id] = _Chat(id=chat_id, type=kind, data=data, username=username)
            fake = FakeGroup(self, chat_id, from_user)
            self._fakes[chat_id] = fake
            return fake

    # ----------------------------------------------------------------------------- assertions

    def is_confirmed(self, update_id: int) -> bool:
        """True once getUpdates was called with an offset > update_id (Telegram's confirmation)."""
        with self._lock:
            return update_id < self._confirmed_below

    def was_dropped(self, update_id: int) -> bool:
        """True if the update was discarded without delivery (deleteWebhook(drop_pending_updates)
        or filtered out by allowed_updates)."""
        with self._lock:
            return update_id in self._dropped

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not confirmed yet (delivered or not)."""
        with self._lock:
            return copy.deepcopy(list(self._updates))

    def unanswered_callbacks(self) -> list[PendingCallback]:
        """Callback queries the bot never answered (Telegram clients then show a spinner)."""
        with self._lock:
            return [
                PendingCallback(q.id, q.chat_id, q.message_id, q.data, q.from_user_id)
                for q in self._callbacks.values()
                if q.answer is None
            ]

    def callback_answer(self, update_or_id: dict[str, Any] | str) -> CallbackAnswer | None:
        """The answer to a callback query (pass the update returned by ``press``), or None."""
        qid = _callback_id(update_or_id)
        with self._lock:
            q = self._callbacks.get(qid)
            if q is None:
                raise KeyError(f"no callback query with id {qid!r}")
            return q.answer

    def calls(self, method: str) -> list[dict[str, str]]:
        """Parameters of every successful and failed call of ``method`` (case-insensitive)."""
        key = method.lower()
        with self._lock:
            return [dict(r.params) for r in self.requests if r.method.lower() == key]

    @property
    def errors(self) -> list[RecordedRequest]:
        """Every request that got an error answer (fault-injected ones included)."""
        with self._lock:
            return [r for r in self.requests if not r.ok]

    def download_started(self, file_id: str) -> bool:
        with self._lock:
            return any(d.file_id == file_id for d in self.downloads)

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a file known to the fake (uploaded by the bot or a user)."""
        with self._lock:
            record = self._files.get(file_id)
        if record is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        return record.read()

    def assert_clean(self, *, allow_unanswered_callbacks: bool = False) -> None:
        """Fail if the bot did anything the fake did not expect or left callbacks unanswered."""
        problems: list[str] = []
        with self._lock:
            problems.extend(f"unexpected: {u}" for u in self.unexpected)
        if not allow_unanswered_callbacks:
            problems.extend(f"unanswered callback query: {q}" for q in self.unanswered_callbacks())
        if problems:
            raise AssertionError("FakeBotAPI:\n  " + "\n  ".join(problems))

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 10.0, message: str | None = None
    ) -> Any:
        """Poll ``predicate`` (every 20 ms, without blocking the event loop) until truthy.

        Returns the truthy value; raises AssertionError after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() >= deadline:
                raise AssertionError(
                    (message or f"condition not met within {timeout} s") + "\n" + self._debug_tail()
                )
            await asyncio.sleep(0.02)

    # ----------------------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error.

        ``status`` 429 gets ``parameters.retry_after`` (default 1 s) and Telegram's
        "Too Many Requests: retry after N" description; other statuses get a
        standard description ("Bad Gateway" for 502, ...) unless ``description`` is
        given.  Use ``method="download"`` for file downloads (GET /file/...).
        """
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or _DEFAULT_FAULT_DESCRIPTIONS.get(status, "Error")
        with self._lock:
            for _ in range(times):
                self._faults[method.lower()].append(_Fault(status, description, retry_after))

    def delay_file(self, file_id: str, event: threading.Event | None = None) -> threading.Event:
        """Make downloads of ``file_id`` stall until ``event`` is set.

        The fake sends the response headers and the first part of the body, then
        waits — so a bot process killed meanwhile dies *mid-download*.
        Returns the event (a new one if none is given).
        """
        event = event or threading.Event()
        with self._lock:
            self._delays[file_id] = event
        return event

    # ----------------------------------------------------------------------------- update queue

    def _now(self) -> int:
        return int(self._clock())

    def _enqueue(self, kind: str, payload: dict[str, Any], chat_id: int | None) -> dict[str, Any]:
        with self._cond:
            if chat_id is not None:
                self._chats[chat_id].known = True
            update = {"update_id": self._next_update_id, kind: payload}
            self._next_update_id += 1
            self._updates.append(update)
            self.all_updates.append(update)
            self._cond.notify_all()
            return copy.deepcopy(update)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
            self._confirmed_below = max(self._confirmed_below, offset)
        elif offset < 0:
            keep = -offset
            while len(self._updates) > keep:
                forgotten = self._updates.popleft()
                self._confirmed_below = max(self._confirmed_below, forgotten["update_id"] + 1)

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        ready = []
        for update in list(self._updates):
            kind = next(k for k in update if k != "update_id")
            allowed = self._allowed_updates
            if (allowed is None and kind in NOT_DEFAULT_UPDATES) or (allowed is not None and kind not in allowed):
                self._updates.remove(update)
                self._dropped.add(update["update_id"])
                continue
            ready.append(update)
            if len(ready) >= limit:
                break
        return copy.deepcopy(ready)

    # ----------------------------------------------------------------------------- helpers for handlers

    def _get_chat(self, params: dict[str, str], *, write: bool) -> _Chat:
        raw = params.get("chat_id", "").strip()
        if not raw:
            raise _bad("chat_id is empty")
        chat: _Chat | None = None
        try:
            chat_id = int(raw)
        except ValueError:
            if raw.startswith("@"):
                chat = next((c for c in self._chats.values() if c.username == raw[1:] and c.type != "private"), None)
        else:
            chat = self._chats.get(chat_id)
            if chat is not None and not chat.known:
                if chat.type == "private" and chat_id in self._seen_users:
                    raise _forbidden("bot can't initiate conversation with a user")
                chat = None
            elif chat is None and chat_id in self._seen_users:
                raise _forbidden("bot can't initiate conversation with a user")
        if chat is None:
            raise _bad("chat not found")
        if write:
            self._check_can_write(chat)
        return chat

    @staticmethod
    def _check_can_write(chat: _Chat) -> None:
        if chat.type == "private":
            if chat.blocked:
                raise _forbidden("bot was blocked by the user")
            return
        kind = "group" if chat.type == "group" else "supergroup"
        if chat.bot_status == "kicked":
            raise _forbidden(f"bot was kicked from the {kind} chat")
        if chat.bot_status == "left":
            raise _forbidden(f"bot is not a member of the {kind} chat")

    @staticmethod
    def _int_param(params: dict[str, str], name: str, default: int) -> int:
        raw = params.get(name, "").strip()
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError:
            try:
                return int(float(raw))
            except ValueError:
                return default

    @staticmethod
    def _bool_param(params: dict[str, str], name: str) -> bool:
        return params.get(name, "").strip().lower() in ("true", "1")

    @staticmethod
    def _message_id(params: dict[str, str], name: str = "message_id") -> int:
        raw = params.get(name, "").strip()
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value <= 0:
            raise _bad("message identifier is not specified")
        return value

    def _parse_formatted(
        self,
        raw: str,
        parse_mode: str,
        entities_json: str,
        *,
        limit: int,
        what: str,
        required: bool,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Text/caption + parse_mode -> (visible text, entities), with Telegram's checks."""
        if required and raw == "":
            raise _bad("message text is empty")
        if len(raw.encode("utf-8", "surrogatepass")) > MAX_RAW_TEXT_BYTES:
            raise _bad("text is too long")
        mode = parse_mode.strip().lower()
        if raw == "" or mode in ("", "none"):
            text = raw
            entities: list[dict[str, Any]] = []
            if entities_json.strip():
                try:
                    parsed = json.loads(entities_json)
                except ValueError:
                    raise _bad("can't parse entities JSON object") from None
                if not isinstance(parsed, list):
                    raise _bad("can't parse entities JSON object")
                entities = parsed
        elif mode == "html":
            try:
                text, entities = parse_html(raw, strict_entities=self.strict_html_entities)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        elif mode in ("markdown", "markdownv2"):
            self._unexpected(f"parse_mode {parse_mode!r} is not implemented by the fake (only HTML)")
            raise _bad(f"can't parse entities: the fake Bot API implements only parse_mode HTML, not {parse_mode}")
        else:
            raise _bad("unsupported parse_mode")
        text, entities = _trim_text(text, entities)
        if required and not text:
            raise _bad("message text is empty")
        if len(text) > limit:
            raise _bad(f"{what} is too long")
        return text, entities

    def _parse_reply_markup(self, params: dict[str, str], *, inline_only: bool) -> tuple[str, Any]:
        """Validate reply_markup like Telegram.  Returns (kind, value), kind in
        none / inline / keyboard / remove / force_reply."""
        raw = params.get("reply_markup", "")
        if raw.strip() == "":
            return "none", None
        try:
            value = json.loads(raw)
        except ValueError:
            raise _bad("can't parse reply keyboard markup JSON object") from None
        if not isinstance(value, dict):
            raise _bad("object expected as reply markup")

        if "keyboard" in value and not inline_only:
            keyboard = value["keyboard"]
            if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
                raise _bad('field "keyboard" must be an Array of Arrays')
            labels: list[list[str]] = []
            for row in keyboard:
                new_row = []
                for button in row:
                    label = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(label, str):
                        raise _bad("can't parse keyboard button: KeyboardButton must be a String or an Object")
                    if not label:
                        raise _bad("keyboard button text must be non-empty")
                    new_row.append(label)
                labels.append(new_row)
            if any(labels):
                return "keyboard", labels

        inline_keyboard = value.get("inline_keyboard")
        if "inline_keyboard" in value and not isinstance(inline_keyboard, list):
            raise _bad('field "inline_keyboard" must be of type Array')
        rows: list[list[dict[str, Any]]] = []
        for row in inline_keyboard or []:
            if not isinstance(row, list):
                raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
            new_row = []
            for button in row:
                try:
                    new_row.append(_parse_inline_button(button))
                except _ButtonError as exc:
                    raise _bad(f"can't parse inline keyboard button: {exc}") from None
            rows.append(new_row)
        rows = [r for r in rows if r]
        if rows:
            for row in rows:
                for button in row:
                    if not button["text"]:
                        raise _bad("inline keyboard button text must be non-empty")
            for row in rows:
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                        raise _bad("BUTTON_DATA_INVALID")
                    url = button.get("url")
                    if url is not None and not re.match(r"^(https?|tg)://\S+$", url):
                        raise _bad("BUTTON_URL_INVALID")
            if sum(len(r) for r in rows) > MAX_BUTTONS_TOTAL or any(len(r) > MAX_BUTTONS_PER_ROW for r in rows):
                raise _bad("reply markup is too long")
            return "inline", {"inline_keyboard": rows}
        if inline_only:
            if "keyboard" in value or value.get("remove_keyboard") or value.get("force_reply"):
                raise _bad("inline keyboard expected")
            return "none", None
        if value.get("remove_keyboard") or value.get("hide_keyboard"):
            return "remove", None
        if value.get("force_reply"):
            return "force_reply", None
        return "none", None

    def _reply_target(self, chat: _Chat, params: dict[str, str]) -> _StoredMessage | None:
        target_id: int | None = None
        allow_without = self._bool_param(params, "allow_sending_without_reply")
        raw = params.get("reply_parameters", "").strip()
        if raw:
            try:
                reply = json.loads(raw)
            except ValueError:
                raise _bad("can't parse reply parameters JSON object") from None
            if not isinstance(reply, dict) or "message_id" not in reply:
                raise _bad("can't parse reply parameters JSON object")
            target_id = int(reply["message_id"])
            allow_without = bool(reply.get("allow_sending_without_reply", allow_without))
        elif params.get("reply_to_message_id", "").strip():
            target_id = self._int_param(params, "reply_to_message_id", 0)
        if target_id is None:
            return None
        target = chat.messages.get(target_id)
        if target is None or target.deleted:
            if allow_without:
                return None
            raise _bad("message to be replied not found")
        return target

    def _new_message(self, chat: _Chat, *, sender: dict[str, Any], from_bot: bool) -> _StoredMessage:
        message = _StoredMessage(
            chat=chat, message_id=chat.next_message_id, sender=sender, from_bot=from_bot, date=self._now()
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if from_bot:
            message.seq = len(chat.bot_messages)
            chat.bot_messages.append(message)
        return message

    def _apply_markup(self, chat: _Chat, message: _StoredMessage, kind: str, value: Any) -> None:
        if kind == "inline":
            message.reply_markup = value
        elif kind == "keyboard":
            chat.reply_keyboard = value
        elif kind == "remove":
            chat.reply_keyboard = None

    def _unexpected(self, what: str) -> None:
        with self._lock:
            self.unexpected.append(what)

    def _new_file(
        self,
        kind: str,
        *,
        data: bytes | None = None,
        path: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> _FileRecord:
        with self._lock:
            self._file_counter += 1
            n = self._file_counter
            if path is not None:
                path = os.path.abspath(path)
                size = os.path.getsize(path)
            else:
                assert data is not None
                size = len(data)
            digest = hashlib.sha256(f"{self.token}/{n}".encode()).hexdigest()
            record = _FileRecord(
                file_id=f"{_FILE_ID_PREFIX[kind]}{n:05d}{digest[:40]}",
                file_unique_id=f"AgAD{n:05d}{digest[40:48]}",
                kind=kind,
                size=size,
                number=n,
                data=data,
                path=path,
                file_name=file_name,
                mime_type=mime_type,
            )
            self._files[record.file_id] = record
            return record

    def _materialize(self, record: _FileRecord) -> str:
        """Local mode: a file's absolute path on disk (bytes are written to a temp dir once)."""
        if record.path is not None:
            return record.path
        if record.materialized is None:
            if self._tmpdir is None:
                self._tmpdir = tempfile.mkdtemp(prefix="fake-botapi-")
            folder = Path(self._tmpdir, _FOLDERS[record.kind])
            folder.mkdir(exist_ok=True)
            target = folder / f"file_{record.number}{_extension(record)}"
            target.write_bytes(record.data or b"")
            record.materialized = str(target)
        return record.materialized

    # ----------------------------------------------------------------------------- API methods

    def _api_true(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> bool:
        return True

    def _api_get_me(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_delete_webhook(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> bool:
        """No webhook is ever set; ``drop_pending_updates=true`` discards the queue like Telegram."""
        with self._lock:
            self.webhook_deletions += 1
            if self._bool_param(params, "drop_pending_updates"):
                for update in self._updates:
                    self._dropped.add(update["update_id"])
                self._updates.clear()
        return True

    def _api_get_webhook_info(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> dict:
        with self._lock:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    @staticmethod
    def _commands_key(params: dict[str, str]) -> tuple[str, str]:
        scope_raw = params.get("scope", "").strip()
        scope: Any = {"type": "default"}
        if scope_raw:
            try:
                scope = json.loads(scope_raw)
            except ValueError:
                raise _bad("can't parse BotCommandScope JSON object") from None
            if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
                raise _bad("can't parse BotCommandScope: Field \"type\" must be of type String")
        return json.dumps(scope, sort_keys=True), params.get("language_code", "")

    def _api_set_my_commands(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> bool:
        """Commands: 1-32 chars of a-z, 0-9, _ ; descriptions 1-256 chars; at most 100."""
        try:
            commands = json.loads(params.get("commands", ""))
        except ValueError:
            raise _bad("can't parse commands JSON object") from None
        if not isinstance(commands, list):
            raise _bad("expected an Array of BotCommand")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand: expected an Object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not isinstance(description, str):
                raise _bad('can\'t parse BotCommand: Field "command" must be of type String')
            name = name.lstrip("/")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params)
        with self._lock:
            self.commands[key] = cleaned
        return True

    def _api_get_my_commands(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> list:
        key = self._commands_key(params)
        with self._lock:
            return copy.deepcopy(self.commands.get(key, []))

    def _api_delete_my_commands(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> bool:
        key = self._commands_key(params)
        with self._lock:
            self.commands.pop(key, None)
        return True

    def _api_get_updates(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> list:
        """Long polling like Telegram.

        * ``offset`` confirms (forever drops) every update with a smaller id; a
          negative offset keeps only the last ``-offset`` updates.
        * waits up to ``timeout`` seconds for an update, answers as soon as one arrives.
        * a new getUpdates while another is still waiting terminates the *older* one
          with ``409 Conflict: terminated by other getUpdates request; ...``
          (exactly Telegram's behaviour; counted in :attr:`conflicts` unless the
          older client had already disconnected).
        * ``allowed_updates`` (JSON list) is remembered for later calls; ``[]``
          restores the default (everything except chat_member and reactions).
        """
        offset = self._int_param(params, "offset", 0)
        limit = min(max(self._int_param(params, "limit", 100), 1), 100)
        timeout = max(self._int_param(params, "timeout", 0), 0)
        allowed_raw = params.get("allowed_updates", "").strip()
        allowed: list[str] | None = None
        if allowed_raw:
            try:
                allowed = json.loads(allowed_raw)
            except ValueError:
                raise _bad("can't parse allowed_updates JSON array") from None
            if not isinstance(allowed, list):
                raise _bad("can't parse allowed_updates JSON array")
        deadline = time.monotonic() + timeout
        with self._cond:
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) if allowed else None
            old = self._active_poll
            if old is not None:
                old.aborted = True
                if not old.ctx.client_gone():
                    self.conflicts += 1
                self._cond.notify_all()
            poll = _Poll(ctx)
            self._active_poll = poll
            try:
                self._confirm(offset)
                while True:
                    if poll.aborted:
                        raise ApiError(409, CONFLICT_GET_UPDATES)
                    ready = self._deliverable(limit)
                    remaining = deadline - time.monotonic()
                    if ready or remaining <= 0 or self._closing:
                        return ready
                    self._cond.wait(min(remaining, 0.2))
                    if ctx.client_gone():
                        return []  # nobody is listening any more
            finally:
                if self._active_poll is poll:
                    self._active_poll = None

    def _api_send_message(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> dict:
        """Text 1..4096 characters after entity parsing (whitespace trimmed), HTML parsed like
        Telegram, inline keyboard validated, chat must be known and writable."""
        if not params.get("chat_id", "").strip():
            raise _bad("chat_id is empty")
        text, entities = self._parse_formatted(
            params.get("text", ""),
            params.get("parse_mode", ""),
            params.get("entities", ""),
            limit=MAX_TEXT_LENGTH,
            what="message",
            required=True,
        )
        markup_kind, markup = self._parse_reply_markup(params, inline_only=False)
        with self._lock:
            chat = self._get_chat(params, write=True)
            reply_to = self._reply_target(chat, params)
            message = self._new_message(chat, sender=self.bot_user, from_bot=True)
            message.text = text
            message.raw_text = params.get("text", "")
            message.entities = entities
            message.parse_mode = params.get("parse_mode") or None
            message.reply_to = reply_to
            self._apply_markup(chat, message, markup_kind, markup)
            return message.to_dict()

    def _editable_message(self, params: dict[str, str]) -> _StoredMessage:
        if params.get("inline_message_id", "").strip():
            self._unexpected("inline_message_id edits are not implemented by the fake")
            raise _bad("MESSAGE_ID_INVALID")
        if not params.get("chat_id", "").strip():
            raise _bad("message identifier is not specified")
        chat = self._get_chat(params, write=True)
        message_id = self._message_id(params)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad("message to edit not found")
        if not message.from_bot:
            raise _bad("message can't be edited")
        return message

    def _api_edit_message_text(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> dict:
        """Same checks as sendMessage; the message must be a visible text message of the bot in
        that chat.  Omitting reply_markup removes the inline keyboard (as on Telegram); an edit
        that changes neither text, entities nor keyboard is "message is not modified"."""
        text, entities = self._parse_formatted(
            params.get("text", ""),
            params.get("parse_mode", ""),
            params.get("entities", ""),
            limit=MAX_TEXT_LENGTH,
            what="message",
            required=True,
        )
        _kind, markup = self._parse_reply_markup(params, inline_only=True)
        with self._lock:
            message = self._editable_message(params)
            if message.text is None:
                raise _bad("there is no text in the message to edit")
            if (message.text, message.entities, message.reply_markup) == (text, entities, markup):
                raise _bad(NOT_MODIFIED)
            message.text = text
            message.raw_text = params.get("text", "")
            message.entities = entities
            message.parse_mode = params.get("parse_mode") or None
            message.reply_markup = markup
            message.edit_date = self._now()
            message.version += 1
            return message.to_dict()

    def _api_edit_message_reply_markup(
        self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext
    ) -> dict:
        """Replace (or, without reply_markup, remove) the inline keyboard of a bot message."""
        _kind, markup = self._parse_reply_markup(params, inline_only=True)
        with self._lock:
            message = self._editable_message(params)
            if message.reply_markup == markup:
                raise _bad(NOT_MODIFIED)
            message.reply_markup = markup
            message.edit_date = self._now()
            message.version += 1
            return message.to_dict()

    def _api_answer_callback_query(
        self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext
    ) -> bool:
        """Each query can be answered once; unknown, already answered (or, with
        ``callback_query_ttl``, too old) ids get "query is too old ..."; text <= 200 chars."""
        text = params.get("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        qid = params.get("callback_query_id", "").strip()
        with self._lock:
            query = self._callbacks.get(qid)
            if query is None or query.answer is not None:
                raise _bad(QUERY_TOO_OLD)
            if self.callback_query_ttl is not None and self._clock() - query.created > self.callback_query_ttl:
                raise _bad(QUERY_TOO_OLD)
            cache_time = params.get("cache_time")
            query.answer = CallbackAnswer(
                text=text or None,
                show_alert=self._bool_param(params, "show_alert"),
                url=params.get("url") or None,
                cache_time=int(cache_time) if cache_time and cache_time.strip().isdigit() else None,
            )
        return True

    def _api_send_document(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> dict:
        """Upload (multipart, <= 50 MB; 2000 MB in local mode), re-send by file_id, or in local
        mode a ``file://`` URI.  Caption <= 1024 characters after entity parsing."""
        if not params.get("chat_id", "").strip():
            raise _bad("chat_id is empty")
        caption, caption_entities = self._parse_formatted(
            params.get("caption", ""),
            params.get("parse_mode", ""),
            params.get("caption_entities", ""),
            limit=MAX_CAPTION_LENGTH,
            what="message caption",
            required=False,
        )
        markup_kind, markup = self._parse_reply_markup(params, inline_only=False)
        record = self._input_file(params, files, "document")
        with self._lock:
            chat = self._get_chat(params, write=True)
            reply_to = self._reply_target(chat, params)
            message = self._new_message(chat, sender=self.bot_user, from_bot=True)
            message.file = record
            message.media = {"document": _document_dict(record)}
            message.caption = caption or None
            message.raw_caption = params.get("caption") or None
            message.caption_entities = caption_entities
            message.parse_mode = params.get("parse_mode") or None
            message.reply_to = reply_to
            self._apply_markup(chat, message, markup_kind, markup)
            return message.to_dict()

    def _input_file(self, params: dict[str, str], files: dict[str, _Upload], field: str) -> _FileRecord:
        value = params.get(field, "")
        upload = files.get(field)
        if upload is None and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
        if upload is not None:
            limit = MAX_UPLOAD_SIZE_LOCAL if self.local_mode else MAX_UPLOAD_SIZE
            if len(upload.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not upload.data:
                raise _bad("file must be non-empty")
            name = upload.filename or f"{field}"
            mime = upload.content_type
            if mime in ("", "application/octet-stream", "text/plain"):
                mime = mimetypes.guess_type(name, strict=False)[0] or mime or "application/octet-stream"
            return self._new_file(field, data=upload.data, file_name=name, mime_type=mime)
        value = value.strip()
        if not value:
            raise _bad(f"there is no {field.replace('_', ' ')} in the request")
        if value.startswith("file://"):
            if not self.local_mode:
                raise _bad("wrong file identifier/HTTP URL specified")
            path = unquote(urlsplit(value).path)
            if not os.path.isfile(path):
                raise _bad("wrong file identifier/HTTP URL specified")
            name = os.path.basename(path)
            # a real --local server takes the file during the request: the bot may delete it after
            with self._lock:
                if self._tmpdir is None:
                    self._tmpdir = tempfile.mkdtemp(prefix="fake-botapi-")
                copy = os.path.join(self._tmpdir, f"upload-{len(self._files)}-{name}")
            shutil.copyfile(path, copy)
            return self._new_file(
                field,
                path=copy,
                file_name=name,
                mime_type=mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream",
            )
        if re.match(r"^https?://", value):
            self._unexpected(f"{field} by HTTP URL ({value}) is not implemented by the fake")
            raise _bad("wrong file identifier/HTTP URL specified")
        with self._lock:
            record = self._files.get(value)
        if record is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if record.kind == "photo" and field != "photo":
            raise _bad(f"can't use file of type Photo as {field.capitalize()}")
        return record

    def _api_send_chat_action(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> bool:
        action = params.get("action", "").strip()
        with self._lock:
            chat = self._get_chat(params, write=True)
            if action not in CHAT_ACTIONS:
                raise _bad("wrong parameter action in request")
            chat.actions.append(action)
        return True

    def _check_deletable(self, chat: _Chat, message: _StoredMessage) -> None:
        """Bots may delete any message in a private chat and their own messages in groups,
        only if it was sent less than 48 hours ago."""
        if not message.from_bot and chat.type != "private":
            raise _bad("message can't be deleted")
        if self._clock() - message.date >= DELETE_WINDOW_SECONDS:
            raise _bad("message can't be deleted for everyone")

    def _api_delete_message(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> bool:
        with self._lock:
            chat = self._get_chat(params, write=False)
            message_id = self._message_id(params)
            message = chat.messages.get(message_id)
            if message is None or message.deleted:
                raise _bad("message to delete not found")
            self._check_deletable(chat, message)
            message.deleted = True
        return True

    def _api_delete_messages(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> bool:
        """1..100 ids; ids that don't exist are skipped (as documented by Telegram)."""
        raw = params.get("message_ids", "").strip()
        if not raw:
            raise _bad("message identifiers are not specified")
        try:
            ids = json.loads(raw)
        except ValueError:
            raise _bad("can't parse message_ids JSON object") from None
        if not isinstance(ids, list):
            raise _bad("expected an Array of message identifiers")
        if len(ids) > 100:
            raise _bad("too many message identifiers specified")
        if not ids:
            raise _bad("message identifiers are not specified")
        message_ids = []
        for value in ids:
            try:
                message_id = int(value)
            except (TypeError, ValueError):
                raise _bad("message identifier must be a Number") from None
            if message_id <= 0:
                raise _bad("invalid message identifier specified")
            message_ids.append(message_id)
        with self._lock:
            chat = self._get_chat(params, write=False)
            targets = [chat.messages[m] for m in message_ids if m in chat.messages and not chat.messages[m].deleted]
            for message in targets:
                self._check_deletable(chat, message)
            for message in targets:
                message.deleted = True
        return True

    def _api_get_file(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> dict:
        """Cloud mode: files over 20 MB -> "file is too big"; file_path is relative and is
        served at /file/bot<token>/<file_path>.  Local mode: any size; file_path is the absolute
        path on disk (PTB then reads the file directly)."""
        file_id = params.get("file_id", "").strip()
        if not file_id:
            raise _bad("file_id not specified")
        with self._lock:
            record = self._files.get(file_id)
            if record is None:
                raise _bad("invalid file_id")
            if not self.local_mode and record.size > MAX_DOWNLOAD_SIZE:
                raise _bad("file is too big")
            if record.file_path is None:
                if self.local_mode:
                    record.file_path = self._materialize(record)
                else:
                    record.file_path = f"{_FOLDERS[record.kind]}/file_{record.number}{_extension(record)}"
                self._paths[record.file_path] = record
            return {
                "file_id": record.file_id,
                "file_unique_id": record.file_unique_id,
                "file_size": record.size,
                "file_path": record.file_path,
            }

    def _api_leave_chat(self, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext) -> bool:
        with self._lock:
            chat = self._get_chat(params, write=False)
            if chat.type == "private":
                raise _bad("chat member status can't be changed in private chats")
            self._check_can_write(chat)
            chat.bot_status = "left"
            self.left_chats.add(chat.id)
            self._enqueue_my_chat_member(chat, self.bot_user, "member", "left")
        return True

    def _enqueue_my_chat_member(self, chat: _Chat, actor: dict[str, Any], old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": dict(self.bot_user), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        payload = {
            "chat": dict(chat.data),
            "from": dict(actor),
            "date": self._now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._enqueue("my_chat_member", payload, chat.id)

    # ----------------------------------------------------------------------------- HTTP dispatch

    def _check_token(self, token: str) -> ApiError | None:
        if token == self.token:
            return None
        self._unexpected(f"request with wrong bot token {token!r}")
        if re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            return ApiError(401, "Unauthorized")
        return ApiError(404, "Not Found")

    def _take_fault(self, key: str) -> ApiError | None:
        with self._lock:
            queue = self._faults.get(key)
            if not queue:
                return None
            fault = queue.popleft()
        return ApiError(fault.status, fault.description, fault.retry_after)

    def _call(
        self, token: str, method: str, params: dict[str, str], files: dict[str, _Upload], ctx: _RequestContext
    ) -> tuple[int, dict[str, Any]]:
        name = method
        try:
            error = self._check_token(token)
            if error is not None:
                raise error
            entry = self._methods.get(method.lower())
            if entry is None:
                self._unexpected(f"call of unimplemented/unknown Bot API method {method!r} with {params!r}")
                raise ApiError(404, "Not Found: method not found")
            name, handler = entry
            fault = self._take_fault(name.lower())
            if fault is not None:
                raise fault
            result = handler(params, files, ctx)
            status, payload = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, payload = exc.code, exc.payload()
        except Exception:  # a bug in the fake: make it loud
            self._unexpected(f"fake Bot API crashed in {method}: {traceback.format_exc()}")
            status, payload = 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=name,
                    params=dict(params),
                    files={
                        k: UploadedFile(v.filename, v.content_type, len(v.data)) for k, v in files.items()
                    },
                    status=status,
                    description=None if status == 200 else payload.get("description"),
                    at=time.monotonic(),
                )
            )
        return status, payload

    def _download(self, handler: _Handler, token: str, file_path: str) -> None:
        error = self._check_token(token) or self._take_fault("download")
        with self._lock:
            record = self._paths.get(file_path)
        if error is None and record is None:
            self._unexpected(f"download of unknown file_path {file_path!r} (call getFile first)")
            error = ApiError(404, "Not Found")
        if error is not None:
            handler.send_json(error.code, error.payload())
            return
        assert record is not None
        download = DownloadRecord(record.file_id, file_path, "started")
        with self._lock:
            self.downloads.append(download)
            event = self._delays.get(record.file_id)
        try:
            with record.open() as f:
                if event is not None and not event.is_set() and record.size < 2:
                    # nothing to split: stall before the headers instead
                    if not self._wait_for(event):
                        download.status = "aborted"
                        handler.close_connection = True
                        return
                handler.send_response(200)
                handler.send_header("Content-Type", record.mime_type or "application/octet-stream")
                handler.send_header("Content-Length", str(record.size))
                handler.end_headers()
                if event is not None and not event.is_set():
                    handler.wfile.write(f.read(min(record.size // 2, _CHUNK)))
                    handler.wfile.flush()
                    if not self._wait_for(event):
                        download.status = "aborted"
                        handler.close_connection = True
                        return
                while chunk := f.read(_CHUNK):
                    handler.wfile.write(chunk)
                handler.wfile.flush()
            download.status = "completed"
        except OSError:
            download.status = "aborted"
            raise

    def _wait_for(self, event: threading.Event) -> bool:
        while not event.wait(0.05):
            if self._closing:
                return False
        return True

    def _debug_tail(self) -> str:
        with self._lock:
            lines = []
            failed = [r for r in self.requests if not r.ok][-5:]
            if failed:
                lines.append("recent error answers of the fake:")
                lines.extend(f"  {r.method} {r.params} -> {r.status} {r.description}" for r in failed)
            if self.unexpected:
                lines.append("unexpected:")
                lines.extend(f"  {u}" for u in self.unexpected[-5:])
            return "\n".join(lines)

    def _transcript(self, chat_id: int) -> str:
        with self._lock:
            chat = self._chats[chat_id]
            lines = []
            for message in chat.messages.values():
                who = "bot" if message.from_bot else message.sender.get("first_name", "user")
                body = message.text if message.text is not None else (message.caption or "")
                kinds = [k for k in message.media]
                extra = f" [{', '.join(kinds)}]" if kinds else ""
                if message.reply_markup:
                    labels = [b["text"] for row in message.reply_markup["inline_keyboard"] for b in row]
                    extra += " " + " ".join(f"[{label}]" for label in labels)
                if message.deleted:
                    extra += " (deleted)"
                if message.edit_date is not None:
                    extra += " (edited)"
                lines.append(f"  #{message.message_id} {who}: {body}{extra}")
            return "\n".join(lines[-15:]) or "  (empty)"


# --------------------------------------------------------------------------------------
# user-side API
# --------------------------------------------------------------------------------------


def _callback_id(update_or_id: dict[str, Any] | str) -> str:
    if isinstance(update_or_id, str):
        return update_or_id
    return update_or_id["callback_query"]["id"]


def _extension(record: _FileRecord) -> str:
    if record.file_name and "." in record.file_name:
        return "." + record.file_name.rsplit(".", 1)[1]
    guessed = mimetypes.guess_extension(record.mime_type or "", strict=False)
    return guessed or {"photo": ".jpg", "voice": ".oga", "video_note": ".mp4"}.get(record.kind, "")


def _file_fields(record: _FileRecord, **fields: Any) -> dict[str, Any]:
    """The JSON of a Telegram file object (Document, PhotoSize, Voice, ...)."""
    return {"file_id": record.file_id, "file_unique_id": record.file_unique_id, **fields, "file_size": record.size}


def _document_dict(record: _FileRecord) -> dict[str, Any]:
    data: dict[str, Any] = {"file_id": record.file_id, "file_unique_id": record.file_unique_id}
    if record.file_name:
        data["file_name"] = record.file_name
    if record.mime_type:
        data["mime_type"] = record.mime_type
    data["file_size"] = record.size
    return data


class _ButtonError(ValueError):
    pass


def _parse_inline_button(button: Any) -> dict[str, Any]:
    """tdlib's get_inline_keyboard_button: an Object with a String "text" and one action."""
    if not isinstance(button, dict):
        raise _ButtonError("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise _ButtonError('Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise _ButtonError('Field "text" must be of type String')
    result: dict[str, Any] = {"text": button["text"]}
    for field in ("url", "callback_data"):
        value = button.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _ButtonError(f'Field "{field}" must be of type String')
        if str(value):
            result[field] = str(value)
            return result
    for field in (
        "callback_game",
        "pay",
        "switch_inline_query",
        "switch_inline_query_chosen_chat",
        "switch_inline_query_current_chat",
        "login_url",
        "web_app",
        "copy_text",
    ):
        if field in button:
            result[field] = button[field]
            return result
    raise _ButtonError("Text buttons are unallowed in the inline keyboard")


FileInput = bytes | str | os.PathLike


class FakeChat:
    """A chat as seen by the user(s) in it: what the bot sent, and ways to interact."""

    def __init__(self, server: FakeBotAPI, chat_id: int):
        self.server = server
        self.chat_id = chat_id
        self._cursor = 0

    # -- internals
    @property
    def _chat(self) -> _Chat:
        return self.server._chats[self.chat_id]

    def _sender(self, from_user: FakeUser | None) -> FakeUser:
        raise NotImplementedError

    def _snapshot(self, message: _StoredMessage) -> BotMessage:
        rows = message.reply_markup["inline_keyboard"] if message.reply_markup else []
        return BotMessage(
            chat_id=self.chat_id,
            message_id=message.message_id,
            date=message.date,
            text=message.text,
            raw_text=message.raw_text if message.text is not None else message.raw_caption,
            entities=copy.deepcopy(message.entities or message.caption_entities),
            caption=message.caption,
            parse_mode=message.parse_mode,
            buttons=[[ButtonView(b["text"], b.get("callback_data")) for b in row] for row in rows],
            reply_markup=copy.deepcopy(message.reply_markup),
            document=DocumentView(message.file) if message.file is not None and "document" in message.media else None,
            edited=message.edit_date is not None,
            deleted=message.deleted,
            version=message.version,
            reply_to_message_id=message.reply_to.message_id if message.reply_to else None,
        )

    def _send_message(self, sender: FakeUser, fill: Callable[[_StoredMessage], None]) -> dict[str, Any]:
        server = self.server
        with server._lock:
            chat = self._chat
            message = server._new_message(chat, sender=sender.user_dict, from_bot=False)
            fill(message)
            server._seen_users.add(sender.user_id)
            return server._enqueue("message", message.to_dict(), chat.id)

    def _register(self, kind: str, data: FileInput, **meta: Any) -> _FileRecord:
        if isinstance(data, (bytes, bytearray)):
            return self.server._new_file(kind, data=bytes(data), **meta)
        return self.server._new_file(kind, path=os.fspath(data), **meta)

    def _media(
        self, kind: str, payload: dict[str, Any], caption: str | None, from_user: FakeUser | None, record: _FileRecord
    ) -> dict[str, Any]:
        def fill(message: _StoredMessage) -> None:
            message.media = {kind: payload}
            message.file = record
            if caption:
                message.caption = caption

        return self._send_message(self._sender(from_user), fill)

    def _resolve(self, message: BotMessage | int) -> _StoredMessage:
        message_id = message if isinstance(message, int) else message.message_id
        stored = self._chat.messages.get(message_id)
        if stored is None or not stored.from_bot:
            raise AssertionError(f"no bot message #{message_id} in chat {self.chat_id}")
        if stored.deleted:
            raise AssertionError(f"bot message #{message_id} was deleted; the user can't press its buttons")
        return stored

    # -- sending
    def send_sticker(self, emoji: str = "😢", *, from_user: FakeUser | None = None) -> dict[str, Any]:
        """The user sends a sticker (not evidence, not text: the bot should still answer)."""

        def fill(message: _StoredMessage) -> None:
            n = len(self.server.all_updates)
            message.media = {"sticker": {"file_id": f"CAACAgIAAx{n:05d}", "file_unique_id": f"AgADst{n:05d}",
                                         "type": "regular", "width": 512, "height": 512,
                                         "is_animated": False, "is_video": False, "emoji": emoji}}

        return self._send_message(self._sender(from_user), fill)

    def edit_sent(self, update: dict[str, Any], text: str) -> dict[str, Any]:
        """The user edits a text message they sent earlier: Telegram sends an ``edited_message``."""
        server = self.server
        with server._lock:
            stored = self._chat.messages[update["message"]["message_id"]]
            stored.text = text
            stored.entities = []
            stored.edit_date = server._now()
            return server._enqueue("edited_message", stored.to_dict(), self.chat_id)

    def send(
        self, text: str, *, from_user: FakeUser | None = None, reply_to: BotMessage | int | None = None
    ) -> dict[str, Any]:
        """The user sends a text message.  A leading ``/command`` gets a ``bot_command`` entity
        at offset 0, as Telegram adds.  Returns the update."""
        if not text:
            raise ValueError("Telegram clients can't send empty messages")

        def fill(message: _StoredMessage) -> None:
            message.text = text
            match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
            if match:
                message.entities = [{"offset": 0, "length": utf16_len(match.group(0)), "type": "bot_command"}]
            if reply_to is not None:
                message.reply_to = self._chat.messages[reply_to if isinstance(reply_to, int) else reply_to.message_id]

        return self._send_message(self._sender(from_user), fill)

    def send_document(
        self,
        data: FileInput,
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        *,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        """The user sends a file as a document.  ``data`` is bytes or a path (big files are
        streamed from disk, never loaded)."""
        if file_name is None:
            file_name = "file" if isinstance(data, (bytes, bytearray)) else os.path.basename(os.fspath(data))
        mime_type = mime_type or mimetypes.guess_type(file_name, strict=False)[0] or "application/octet-stream"
        record = self._register("document", data, file_name=file_name, mime_type=mime_type)
        return self._media("document", _document_dict(record), caption, from_user, record)

    def send_photo(
        self,
        data: FileInput,
        caption: str | None = None,
        *,
        width: int = 1280,
        height: int = 960,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        """The user sends a photo.  Like Telegram, ``photo`` is an array of sizes, smallest
        first; only the LAST (largest) one is the original — the smaller ones are distinct
        thumbnail files with different, tiny content."""
        record = self._register("photo", data, mime_type="image/jpeg")
        sizes = []
        for scale in (90, 320, 800):
            if scale >= max(width, height):
                continue
            w, h = max(1, width * scale // max(width, height)), max(1, height * scale // max(width, height))
            thumb = self.server._new_file(
                "photo", data=f"THUMBNAIL {w}x{h} of {record.file_unique_id}".encode(), mime_type="image/jpeg"
            )
            sizes.append(_file_fields(thumb, width=w, height=h))
        sizes.append(_file_fields(record, width=width, height=height))
        return self._media("photo", sizes, caption, from_user, record)  # type: ignore[arg-type]

    def send_voice(
        self,
        data: FileInput,
        *,
        duration: int = 3,
        mime_type: str = "audio/ogg",
        caption: str | None = None,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        record = self._register("voice", data, mime_type=mime_type)
        payload = _file_fields(record, duration=duration, mime_type=mime_type)
        return self._media("voice", payload, caption, from_user, record)

    def send_audio(
        self,
        data: FileInput,
        file_name: str = "audio.mp3",
        mime_type: str = "audio/mpeg",
        *,
        duration: int = 30,
        title: str | None = None,
        performer: str | None = None,
        caption: str | None = None,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        record = self._register("audio", data, file_name=file_name, mime_type=mime_type)
        payload = _file_fields(record, duration=duration, file_name=file_name, mime_type=mime_type)
        if title:
            payload["title"] = title
        if performer:
            payload["performer"] = performer
        return self._media("audio", payload, caption, from_user, record)

    def send_video(
        self,
        data: FileInput,
        file_name: str = "video.mp4",
        mime_type: str = "video/mp4",
        *,
        duration: int = 10,
        width: int = 640,
        height: int = 360,
        caption: str | None = None,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        record = self._register("video", data, file_name=file_name, mime_type=mime_type)
        payload = _file_fields(
            record, width=width, height=height, duration=duration, file_name=file_name, mime_type=mime_type
        )
        return self._media("video", payload, caption, from_user, record)

    def send_video_note(
        self, data: FileInput, *, duration: int = 5, length: int = 240, from_user: FakeUser | None = None
    ) -> dict[str, Any]:
        record = self._register("video_note", data, mime_type="video/mp4")
        payload = _file_fields(record, length=length, duration=duration)
        return self._media("video_note", payload, None, from_user, record)

    # -- buttons
    def press(self, message: BotMessage | int, button: str, *, from_user: FakeUser | None = None) -> dict[str, Any]:
        """Press an inline button of a (still visible) bot message, as it looks NOW.

        ``button`` is matched against the exact label, then the exact callback_data,
        then as a unique label substring.  Raises AssertionError listing the labels
        if nothing (or more than one different button) matches.  Returns the
        callback_query update.
        """
        with self.server._lock:
            stored = self._resolve(message)
            rows = stored.reply_markup["inline_keyboard"] if stored.reply_markup else []
            buttons = [b for row in rows for b in row]
            labels = [b["text"] for b in buttons]
            matches = (
                [b for b in buttons if b["text"] == button]
                or [b for b in buttons if b.get("callback_data") == button]
                or [b for b in buttons if button in b["text"]]
            )
            if not matches:
                raise AssertionError(
                    f"no button {button!r} on bot message #{stored.message_id} ({stored.text or stored.caption!r}); "
                    f"buttons: {labels}"
                )
            if len({b.get("callback_data") for b in matches}) > 1:
                raise AssertionError(f"{button!r} matches several buttons: {[b['text'] for b in matches]}")
            chosen = matches[0]
            if "callback_data" not in chosen:
                raise AssertionError(f"button {chosen['text']!r} is not a callback button: {chosen}")
            return self.press_data(stored.message_id, chosen["callback_data"], from_user=from_user)

    def press_data(self, message: BotMessage | int, data: str, *, from_user: FakeUser | None = None) -> dict[str, Any]:
        """Send a callback query with arbitrary (possibly forged or stale) callback_data for a
        visible bot message.  Returns the callback_query update."""
        sender = self._sender(from_user)
        server = self.server
        with server._lock:
            stored = self._resolve(message)
            server._callback_counter += 1
            qid = str(4_300_000_000_000_000_000 + server._callback_counter)
            server._callbacks[qid] = _CallbackQuery(
                id=qid,
                chat_id=self.chat_id,
                message_id=stored.message_id,
                data=data,
                from_user_id=sender.user_id,
                created=server._clock(),
            )
            server._seen_users.add(sender.user_id)
            payload = {
                "id": qid,
                "from": dict(sender.user_dict),
                "message": stored.to_dict(),
                "chat_instance": str(-(abs(self.chat_id) * 7919 + 13)),
                "data": data,
            }
            return server._enqueue("callback_query", payload, self.chat_id)

    # -- reading
    @property
    def history(self) -> list[BotMessage]:
        """Every bot message currently visible in the chat (edits applied, deletions removed)."""
        with self.server._lock:
            return [self._snapshot(m) for m in self._chat.bot_messages if not m.deleted]

    @property
    def last_message(self) -> BotMessage | None:
        history = self.history
        return history[-1] if history else None

    def message(self, message_id: int) -> BotMessage:
        """Current state of one bot message (may be deleted)."""
        with self.server._lock:
            stored = self._chat.messages.get(message_id)
            if stored is None or not stored.from_bot:
                raise KeyError(f"no bot message #{message_id} in chat {self.chat_id}")
            return self._snapshot(stored)

    @property
    def chat_actions(self) -> list[str]:
        """Every sendChatAction action the bot sent to this chat."""
        with self.server._lock:
            return list(self._chat.actions)

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of the reply keyboard the bot currently shows (None if none)."""
        with self.server._lock:
            kb = self._chat.reply_keyboard
            return [list(r) for r in kb] if kb else None

    def take_new_messages(self) -> list[BotMessage]:
        """All bot messages sent since the last wait/take (no waiting)."""
        with self.server._lock:
            new = self._chat.bot_messages[self._cursor :]
            self._cursor += len(new)
            return [self._snapshot(m) for m in new]

    async def wait_for_messages(self, n: int = 1, timeout: float = 10.0) -> list[BotMessage]:
        """Wait until at least ``n`` new bot messages arrived since the last wait, and return
        exactly the ``n`` oldest of them (deterministic even if the bot sends bursts; later
        ones are returned by the next wait).  Messages deleted meanwhile are included with
        ``deleted=True``.  Never blocks the event loop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self.server._lock:
                new = self._chat.bot_messages[self._cursor :]
                if len(new) >= n:
                    taken = new[:n]
                    self._cursor += n
                    return [self._snapshot(m) for m in taken]
            if loop.time() >= deadline:
                raise AssertionError(
                    f"chat {self.chat_id}: expected {n} new bot message(s) within {timeout} s, got {len(new)}\n"
                    f"chat transcript:\n{self.server._transcript(self.chat_id)}\n{self.server._debug_tail()}"
                )
            await asyncio.sleep(0.02)

    async def wait_for_edit(self, message: BotMessage, timeout: float = 10.0) -> BotMessage:
        """Wait until the bot edited (or deleted) ``message`` after this snapshot was taken."""

        def changed() -> BotMessage | None:
            current = self.message(message.message_id)
            return current if current.version > message.version or current.deleted != message.deleted else None

        return await self.server.wait_until(
            changed, timeout, f"bot message #{message.message_id} in chat {self.chat_id} was not edited"
        )

    async def wait_for_answer(self, update: dict[str, Any] | str, timeout: float = 10.0) -> CallbackAnswer:
        """Wait until the bot answered the callback query of ``update`` (from ``press``)."""
        return await self.server.wait_until(
            lambda: self.server.callback_answer(update), timeout, f"callback query {_callback_id(update)} not answered"
        )

    def transcript(self) -> str:
        """Human-readable recent conversation (for assertion messages)."""
        return self.server._transcript(self.chat_id)


class FakeUser(FakeChat):
    """A Telegram user in their private chat with the bot."""

    def __init__(self, server: FakeBotAPI, user_id: int, user_dict: dict[str, Any]):
        super().__init__(server, user_id)
        self.user_id = user_id
        self.user_dict = user_dict

    @property
    def first_name(self) -> str:
        return self.user_dict["first_name"]

    def _sender(self, from_user: FakeUser | None) -> FakeUser:
        if from_user is not None and from_user is not self:
            raise ValueError("only the user can write in their private chat")
        return self

    def block(self) -> dict[str, Any]:
        """The user blocks the bot: sends now fail with 403 "bot was blocked by the user";
        Telegram delivers a my_chat_member update (member -> kicked)."""
        with self.server._lock:
            self._chat.blocked = True
            return self.server._enqueue_my_chat_member(self._chat, self.user_dict, "member", "kicked")

    def unblock(self) -> dict[str, Any]:
        with self.server._lock:
            self._chat.blocked = False
            return self.server._enqueue_my_chat_member(self._chat, self.user_dict, "kicked", "member")


class FakeGroup(FakeChat):
    """A (super)group containing the bot; ``from_user`` is the default sender."""

    def __init__(self, server: FakeBotAPI, chat_id: int, from_user: FakeUser):
        super().__init__(server, chat_id)
        self.from_user = from_user

    def _sender(self, from_user: FakeUser | None) -> FakeUser:
        return from_user or self.from_user

    def add_bot(self, by: FakeUser | None = None) -> dict[str, Any]:
        """Someone adds the bot to the group (my_chat_member left -> member)."""
        with self.server._lock:
            old = self._chat.bot_status if self._chat.known else "left"
            self._chat.bot_status = "member"
            self.server.left_chats.discard(self.chat_id)
            return self.server._enqueue_my_chat_member(self._chat, self._sender(by).user_dict, old, "member")

    def kick_bot(self, by: FakeUser | None = None) -> dict[str, Any]:
        """An admin removes the bot: sends fail with 403 "bot was kicked from the group chat"."""
        with self.server._lock:
            old = self._chat.bot_status
            self._chat.bot_status = "kicked"
            return self.server._enqueue_my_chat_member(self._chat, self._sender(by).user_dict, old, "kicked")


# --------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Upload:
    filename: str | None
    content_type: str
    data: bytes


class _RequestContext:
    """Lets a long-polling handler notice that its client went away."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if not readable:
                return False
            return self._sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


class _BodyTooLarge(Exception):
    pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: FakeBotAPI):
        self.api = api
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Connection resets from clients that die (e.g. killed bot processes) are normal.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.18.0"
    sys_version = ""
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.api._lock:
            self.server.api._connections[threading.current_thread()] = self.connection

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.server.api._lock:
                self.server.api._connections.pop(threading.current_thread(), None)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _dispatch(self) -> None:
        api = self.server.api
        with api._cond:
            api._inflight += 1
        try:
            self._answer()
        finally:
            with api._cond:
                api._inflight -= 1
                api._cond.notify_all()

    def _answer(self) -> None:
        api = self.server.api
        try:
            split = urlsplit(self.path)
            path = unquote(split.path)
            # Like Telegram's front end, the whole body is limited (plus a little room for the
            # multipart framing and the other fields); bigger bodies are drained and refused
            # before parsing.  A file part over the limit is refused again in _input_file.
            limit = (MAX_UPLOAD_SIZE_LOCAL if api.local_mode else MAX_UPLOAD_SIZE) + 64 * 1024
            try:
                body = self._read_body(limit)
            except _BodyTooLarge:
                self.send_json(413, {"ok": False, "error_code": 413, "description": "Request Entity Too Large"})
                return
            except ValueError as exc:
                self.close_connection = True
                self.send_json(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
                return

            file_match = re.fullmatch(r"/file/bot([^/]*)/(.+)", path)
            if file_match:
                self._api_download(file_match.group(1), file_match.group(2))
                return
            api_match = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
            if not api_match:
                api._unexpected(f"{self.command} of unknown path {self.path!r}")
                self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            try:
                params, files = self._parse_params(split.query, body)
            except ValueError as exc:
                self.send_json(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
                return
            token, method = api_match.groups()
            status, payload = api._call(token, method, params, files, _RequestContext(self.connection))
            self.send_json(status, payload)
        except OSError:  # the client went away (killed bot process, cancelled request, ...)
            self.close_connection = True
        except Exception:  # a bug in the fake's HTTP layer: make it loud
            api._unexpected(f"fake Bot API crashed answering {self.command} {self.path}: {traceback.format_exc()}")
            self.close_connection = True
            try:
                self.send_json(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
            except OSError:
                pass

    def _api_download(self, token: str, file_path: str) -> None:
        self.server.api._download(self, token, file_path)

    def _read_body(self, limit: int) -> bytes:
        if self.command != "POST":
            return b""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            total = 0
            too_large = False
            while True:
                size_line = self.rfile.readline(65537)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ValueError("malformed chunked body") from None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunk = self.rfile.read(size)
                self.rfile.readline(65537)
                total += size
                if total > limit:
                    too_large = True
                if not too_large:
                    parts.append(chunk)
            if too_large:
                raise _BodyTooLarge
            return b"".join(parts)
        try:
            length = int(self.headers.get("Content-Length", "0") or 0)
        except ValueError:
            raise ValueError("invalid Content-Length") from None
        if length > limit:
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, MB))
                if not chunk:
                    break
                remaining -= len(chunk)
            raise _BodyTooLarge
        return self.rfile.read(length) if length else b""

    def _parse_params(self, query: str, body: bytes) -> tuple[dict[str, str], dict[str, _Upload]]:
        params: dict[str, str] = dict(parse_qsl(query, keep_blank_values=True))
        files: dict[str, _Upload] = {}
        if not body:
            return params, files
        content_type = self.headers.get("Content-Type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type == "application/x-www-form-urlencoded":
            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
            except UnicodeDecodeError:
                raise ValueError("request body is not valid UTF-8") from None
        elif media_type == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                raise ValueError("can't parse JSON request body") from None
            if not isinstance(data, dict):
                raise ValueError("JSON request body must be an object")
            for key, value in data.items():
                if value is not None:
                    params[key] = value if isinstance(value, str) else json.dumps(value)
        elif media_type == "multipart/form-data":
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
            )
            if not message.is_multipart():
                raise ValueError("can't parse multipart/form-data body")
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not name:
                    continue
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                if filename is not None:
                    files[str(name)] = _Upload(filename=filename, content_type=part.get_content_type(), data=payload)
                else:
                    try:
                        params[str(name)] = payload.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ValueError(f"parameter {name!r} is not valid UTF-8") from None
        else:
            raise ValueError(f"unsupported Content-Type {content_type!r}")
        return params, files
