"""Test doubles for the Shouhu test-suite.

:mod:`tests.fakes.botapi` provides :class:`FakeBotAPI`, a strict fake of the
Telegram Bot API HTTP server that the real python-telegram-bot talks to.
"""

from tests.fakes.botapi import (
    BotMessage,
    ButtonView,
    CallbackAnswer,
    DocumentView,
    FakeBotAPI,
    FakeChat,
    FakeGroup,
    FakeUser,
    PendingCallback,
    RecordedRequest,
)

__all__ = [
    "BotMessage",
    "ButtonView",
    "CallbackAnswer",
    "DocumentView",
    "FakeBotAPI",
    "FakeChat",
    "FakeGroup",
    "FakeUser",
    "PendingCallback",
    "RecordedRequest",
]
