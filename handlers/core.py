"""What every adapter shares: the services, and applying one event to one chat's case.

Telegram (handlers/*) and the terminal chat (handlers/terminal.py) both call ``apply``: same
engine, same storage, same transaction per update. Whatever works in one works in the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import AsyncIterable, Iterable

import httpx
from telegram.ext import CallbackContext, ExtBot

from config import Settings
from flows.content import Content
from flows.engine import Engine
from flows.model import Case, Event, Reply, StagedFile
from storage.base import CaseKey, Storage
from storage.errors import EmptyFile, OverQuota


@dataclass
class Services:
    """The application's shared objects (PTB's ``bot_data``), typed instead of a dict."""

    settings: Settings
    content: Content
    engine: Engine
    storage: Storage | None = field(default=None)
    http: httpx.AsyncClient | None = field(default=None)


class ShouhuContext(CallbackContext[ExtBot, dict, dict, Services]):
    """``context.storage`` and ``context.engine`` instead of ``bot_data["x"]`` look-ups."""

    @property
    def services(self) -> Services:
        return self.bot_data

    @property
    def storage(self) -> Storage:
        return self.bot_data.storage

    @property
    def engine(self) -> Engine:
        return self.bot_data.engine


async def apply(
    services: Services,
    chat_id: int,
    language_code: str | None,
    event: Event,
    *,
    update_id: int | None = None,
    incoming: Iterable[int] = (),
) -> tuple[Case, list[Reply]]:
    """Handle one event in one transaction; raises AlreadyHandled for a redelivered update."""
    loc = services.content.for_language(language_code)
    async with services.storage.transaction(update_id) as tx:
        case = await tx.case(CaseKey(chat_id), loc.code, loc.start)
        await tx.record_messages(CaseKey(chat_id), list(incoming))
        replies = await services.engine.handle(case, event, tx)
        await tx.save_case(case)
    return case, replies


async def stage_upload(
    services: Services,
    chat_id: int,
    language_code: str | None,
    chunks: AsyncIterable[bytes],
    *,
    kind: str,
    mime: str,
    filename: str = "",
    caption: str = "",
    file_unique_id: str = "",
    message_date: datetime | None = None,
) -> Event:
    """Stream an upload into the vault (hashed, encrypted, fsynced) and return the event that
    commits it. Quota and empty files become a ``file_error`` event; nothing half-stored stays.
    Errors of the source (a broken download) propagate to the caller."""
    loc = services.content.for_language(language_code)
    storage = services.storage
    case, key, used = await storage.ensure_case(CaseKey(chat_id), loc.code, loc.start)
    try:
        blob_id, path, sha, size = await storage.vault.ingest(
            case.id, key, chunks, max_bytes=services.settings.quota_bytes - used)
    except OverQuota:
        return Event("file_error", "quota_full", said=caption)
    except EmptyFile:
        return Event("file_error", "empty", said=caption)
    staged = StagedFile(blob_id, path, sha, size, kind, mime, file_unique_id, caption, filename, message_date)
    return Event("file", staged=staged, said=caption)
