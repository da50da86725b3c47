"""What every adapter shares: the services, and applying one event to one chat's case.

Telegram (handlers/*) and the terminal chat (handlers/terminal.py) both call ``apply``: same
engine, same storage, same transaction per update. Whatever works in one works in the other.
Nothing here imports python-telegram-bot.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from datetime import datetime

from config import Settings
from flows.content import Content
from flows.engine import Engine
from flows.features import FEATURES, handoff
from flows.model import Case, Event, FileProblem, Reply, StagedFile, Upload, UploadFailed
from storage.base import CaseKey, Storage
from storage.errors import EmptyFile, OverQuota, StorageUnavailable
from storage.sqlite import SqliteStorage

log = logging.getLogger(__name__)

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})  # no room left, or the service's quota is used up
PG_DISK_FULL = "53100"  # PostgreSQL's SQLSTATE disk_full (its vault keeps files in the database)


def disk_full(exc: BaseException) -> bool:
    """The error says our own disk has no room: not a broken file, not the network, not Telegram."""
    if isinstance(exc, OSError):
        return exc.errno in DISK_FULL
    return getattr(exc, "sqlstate", None) == PG_DISK_FULL


@dataclass(frozen=True)
class Services:
    """The application's shared objects, all present once storage is open."""

    settings: Settings
    content: Content
    engine: Engine
    storage: Storage


async def open_storage(settings: Settings) -> Storage:
    """Which storage backend a deployment uses: the one place adapters get their ``Storage``
    from. SHOUHU_DATABASE_URL set: PostgreSQL (psycopg imported only then); unset: SQLite in the
    data dir. Nothing in flows/ or the rest of handlers/ changes."""
    if settings.database_url:
        try:
            from storage.postgres import PostgresStorage
        except ImportError as exc:
            raise StorageUnavailable(
                "SHOUHU_DATABASE_URL is set, but psycopg is not installed: pip install -e '.[postgres]'"
            ) from exc

        return await PostgresStorage.open(
            settings.database_url,
            settings.data_dir,
            settings.master_key,
            key_file=settings.key_file,
            key_in_data_dir=settings.key_in_data_dir,
        )
    return await SqliteStorage.open(
        settings.data_dir, settings.master_key, key_file=settings.key_file, key_in_data_dir=settings.key_in_data_dir
    )


def build_engine(settings: Settings, content: Content) -> Engine:
    """The engine with the features this instance offers: handoff only with a staff chat."""
    features = tuple(f for f in FEATURES if f is not handoff.FEATURE or settings.staff_chat_id is not None)
    return Engine(
        content,
        features=features,
        quota_bytes=settings.quota_bytes,
        download_limit_mb=None if settings.local_api else 20,
        witness_days=settings.witness_days,
    )


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
) -> Upload | UploadFailed:
    """Stream an upload into the vault (hashed, encrypted, fsynced) and return the event that
    commits it. Quota, empty files and a full disk on our side (writing, fsync or rename: the
    vault has removed what it began) become ``UploadFailed``; nothing half-stored stays.
    Errors of the source (a broken download) propagate to the caller.

    The engine says whose vault it goes into: the chat's own case, or (a relative helping
    someone) the case of the person who invited them, sealed under that case's key."""
    loc = services.content.for_language(language_code)
    storage = services.storage
    async with storage.transaction() as tx:
        case = await tx.case(CaseKey(chat_id), loc.code, loc.start)
        claim = await services.engine.upload_claim(case, tx)
    target = claim.case
    key = await storage.case_key(target)
    try:
        blob_id, path, sha, size = await storage.vault.ingest(
            target.id, key, chunks, max_bytes=services.settings.quota_bytes - claim.used
        )
    except OverQuota:
        return UploadFailed(FileProblem.QUOTA_FULL, caption)
    except EmptyFile:
        return UploadFailed(FileProblem.EMPTY, caption)
    except Exception as exc:
        if not disk_full(exc):
            raise
        # loud for the operator; never the file's name or caption (a victim's words)
        log.error(
            "DISK FULL: an upload could not be stored in the vault (data dir %s): %s. Nothing of it was kept; "
            "the person was asked to send it again later. Free some space now.",
            services.settings.data_dir,
            type(exc).__name__ if not isinstance(exc, OSError) else errno.errorcode.get(exc.errno or 0, "ENOSPC"),
        )
        return UploadFailed(FileProblem.DISK_FULL, caption)
    return Upload(
        StagedFile(blob_id, path, sha, size, kind, mime, file_unique_id, caption, filename, message_date, target.id)
    )


def discard(event: Event) -> None:
    """Remove a staged file whose update did not commit (the sweep at start would, too)."""
    if isinstance(event, Upload):
        event.staged.path.unlink(missing_ok=True)
