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

Telegram behaviour imitated (see each ``_api_*`` method in ``methods_*.py``):

* auth: wrong token -> 401 ``Unauthorized`` (404 if malformed); unknown method ->
  404 ``Not Found: method not found``; method names are case-insensitive.
* getUpdates: long polling, offset confirmation (``is_confirmed``), negative
  offsets, ``allowed_updates`` memory, 409 Conflict for the older of two
  concurrent polls; deleteWebhook(drop_pending_updates) drops the queue.
* webhooks: setWebhook (secret_token checked like Telegram) makes the fake POST each
  pending update to the bot's own server on 127.0.0.1 with the secret header, in
  order; a 2xx confirms it, anything else is retried; getUpdates then answers 409.
* text: 1..4096 characters after entity parsing and whitespace trimming, raw
  text <= 32 KiB, captions <= 1024; HTML parsed by a port of tdlib's parser.
* inline keyboards: button text required and non-empty, exactly one action,
  callback_data 1..64 bytes (BUTTON_DATA_INVALID), <= 100 buttons, <= 8 per row.
* chats: unknown chat -> "chat not found"; a user seen only in a group ->
  403 "bot can't initiate conversation with a user"; blocked / kicked / left ->
  the matching 403.
* edits: message must exist, be the bot's and (for text edits) have text; the same
  text and keyboard checks as sends; unchanged text+entities+keyboard -> "message is
  not modified"; an edit without reply_markup removes the keyboard.
* callbacks: each query answered at most once ("query is too old ..."), text <= 200.
* deletes: only within 48 h, others' messages only in private chats; one message that
  can't be deleted refuses the whole deleteMessages call (as tdlib does).
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

Negative tests ("the bot sent nothing") wait for Telegram's own confirmation, never a
sleep (see :mod:`tests.fakes.observe` for what it proves)::

    mark = server.mark()
    user.send("hello again")
    await user.wait_confirmed()            # the bot's getUpdates offset moved past it
    # received is not yet handled: then wait for the bot's "idle" signal (once it has
    # one), or fence the chat with an update the bot answers (see tests.fakes.observe)
    assert user.requests_since(mark) == []

Layout of the package (each module says why it exists):

* ``html_parse``       Telegram's HTML parser (tdlib port) and UTF-16 lengths
* ``protocol``         limits and Telegram's error descriptions (``ApiError``)
* ``call``             one call's parameters; the ``@api_method`` routing table
* ``message_content``  text/caption and reply_markup checks shared by every send and edit
* ``records``          what the fake "cloud" stores; ``views``: the snapshots tests read
* ``state``            server memory, chat lookup, update queue, event-driven waiting
* ``methods_*``        the API methods by family (messages, files, chats, updates, webhook, bot)
* ``observe``          what tests read: confirmations, request log, answers, fault injection
* ``server``           ``FakeBotAPI``: lifecycle, users and groups, dispatch
* ``users``            ``FakeChat`` / ``FakeUser`` / ``FakeGroup``
* ``http_server``      the HTTP layer (body parsing, downloads)

This module is the import point: ``from tests.fakes.botapi import FakeBotAPI, ...``.
"""

from __future__ import annotations

from tests.fakes.html_parse import HtmlParseError, parse_html, utf16_len
from tests.fakes.protocol import (
    DELETE_WINDOW_SECONDS,
    MAX_BUTTONS_PER_ROW,
    MAX_BUTTONS_TOTAL,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_RAW_TEXT_BYTES,
    MAX_TEXT_LENGTH,
    MAX_UPLOAD_SIZE,
    MAX_UPLOAD_SIZE_LOCAL,
    MB,
    ApiError,
)
from tests.fakes.server import FakeBotAPI
from tests.fakes.users import FakeChat, FakeGroup, FakeUser, FileInput
from tests.fakes.views import (
    BotMessage,
    ButtonView,
    CallbackAnswer,
    DocumentView,
    DownloadRecord,
    PendingCallback,
    RecordedRequest,
    UploadedFile,
)

__all__ = [
    "DELETE_WINDOW_SECONDS",
    "MAX_BUTTONS_PER_ROW",
    "MAX_BUTTONS_TOTAL",
    "MAX_CALLBACK_ANSWER_LENGTH",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_DOWNLOAD_SIZE",
    "MAX_RAW_TEXT_BYTES",
    "MAX_TEXT_LENGTH",
    "MAX_UPLOAD_SIZE",
    "MAX_UPLOAD_SIZE_LOCAL",
    "MB",
    "ApiError",
    "BotMessage",
    "ButtonView",
    "CallbackAnswer",
    "DocumentView",
    "DownloadRecord",
    "FakeBotAPI",
    "FakeChat",
    "FakeGroup",
    "FakeUser",
    "FileInput",
    "HtmlParseError",
    "PendingCallback",
    "RecordedRequest",
    "UploadedFile",
    "parse_html",
    "utf16_len",
]
