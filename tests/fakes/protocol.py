"""Telegram's limits and error answers, as the fake Bot API reproduces them.

The numbers and the description texts are Telegram's own (the Bot API documentation,
tdlib's ``MessageContent.cpp`` / ``MessagesManager.cpp`` and telegram-bot-api's
``Client.cpp``), so a bot that handles these answers handles production.  Every 400
starts with ``Bad Request: `` and every 403 with ``Forbidden: `` because Telegram's
front end adds those prefixes to the lower-cased tdlib message.
"""

from __future__ import annotations

from typing import Any

MB = 1024 * 1024

#: Telegram limits (https://core.telegram.org/bots/api and Telegram's server code).
MAX_TEXT_LENGTH = 4096  # characters (Unicode code points, tdlib's utf8_length) after entity parsing
MAX_CAPTION_LENGTH = 1024
MAX_RAW_TEXT_BYTES = 1 << 15  # Bot API server rejects longer raw text: "text is too long"
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS_TOTAL = 100
MAX_BUTTONS_PER_ROW = 8
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_SIZE = 20 * MB  # getFile limit of the cloud Bot API
MAX_UPLOAD_SIZE = 50 * MB  # multipart upload limit of the cloud Bot API
MAX_UPLOAD_SIZE_LOCAL = 2000 * MB  # ... of a local (--local) Bot API server
MAX_DELETE_IDS = 100  # deleteMessages
DELETE_WINDOW_SECONDS = 48 * 3600

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
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

DEFAULT_FAULT_DESCRIPTIONS = {
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


class NotImplementedByFake(ApiError):
    """A request Telegram may accept but the fake does not imitate.

    It is answered with a 400 (so the bot fails loudly) *and* recorded in
    ``FakeBotAPI.unexpected``, so a test cannot pass over it unnoticed.
    """

    def __init__(self, what: str, description: str):
        super().__init__(400, f"Bad Request: {description}")
        self.what = what


def bad(description: str) -> ApiError:
    """Telegram prefixes every 400 with ``Bad Request: ``."""
    return ApiError(400, f"Bad Request: {description}")


def forbidden(description: str) -> ApiError:
    """Telegram prefixes every 403 with ``Forbidden: ``."""
    return ApiError(403, f"Forbidden: {description}")
