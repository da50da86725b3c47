"""What the adapters and the engine may ask of storage, whatever database is behind it.

SQLite (``storage.sqlite``) is the embedded default; PostgreSQL (``storage.postgres``, chosen by
SHOUHU_DATABASE_URL in ``handlers.core.open_storage``) keeps state, the journal and the sealed
files in one database for a deployment beyond one machine (docs/POSTGRES.md). Both implement the
same four interfaces, and ``flows/`` and ``handlers/`` do not know which one runs:

    Storage         open/close, one transaction per update, the update journal, cases, evidence
                    reading, the bot's sent-message ids, periodic maintenance
    Transaction     the per-update store handed to the engine (``flows.model.CaseStore``)
    EvidenceVault   sealed files: write once, read back checked, remove
    ChatIsolation   one chat's updates one after another (a process lock here, a database lock
                    across workers)

Everything is keyed by ``CaseKey``, the way aiogram keys its FSM storage by ``StorageKey``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import shutil
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.model import Case, EvidenceItem, StagedFile
from storage import crypto
from storage.crypto import CryptoError
from storage.sealing import Keyring
from storage.types import (
    CaseKey,
    DueRecord,
    FoundRecord,
    MaintenanceReport,
    ReadState,
    Stats,
    StoredEvidence,
)

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- the vault


class EvidenceVault(ABC):
    """Sealed originals. A file is written (streamed, hashed, encrypted) before the row that
    names it commits, so a crash leaves at most an orphan, which ``sweep`` removes.

    ``open_blob`` blocks: call it (and ``read``/``check``) from a worker thread, as the export
    does, never on the event loop with a large file.
    """

    @abstractmethod
    async def ingest(
        self, case_id: str, case_key: bytes, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> tuple[str, Path, str, int]:
        """Store ``chunks``; return (blob_id, path, sha256 hex, size). Nothing stays on failure.
        Raises EmptyFile for zero bytes, OverQuota past ``max_bytes``. ``path`` is the sealed
        file on this machine's disk; a vault that keeps no local file (PostgreSQL) returns a path
        where nothing exists, so unlinking it is harmless."""

    async def write_bytes(self, case_id: str, case_key: bytes, data: bytes) -> tuple[str, Path, str, int]:
        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self.ingest(case_id, case_key, one(), max_bytes=len(data))

    @abstractmethod
    def open_blob(self, case_id: str, blob_id: str) -> Any:
        """A binary file object over the sealed bytes (blocking); OSError if it cannot be read."""

    @abstractmethod
    def read(self, case_id: str, case_key: bytes, blob_id: str) -> Iterator[bytes]:
        """Plaintext chunks (blocking). IntegrityError if the file was altered, cut or swapped;
        OSError if it cannot be read now."""

    def check(self, case_id: str, case_key: bytes, blob_id: str, sha256: str) -> ReadState:
        """Decrypt the whole file and compare its hash (blocking). An OSError is logged for the
        operator, without content, and is UNREADABLE, not DAMAGED."""
        digest = hashlib.sha256()
        try:
            for chunk in self.read(case_id, case_key, blob_id):
                digest.update(chunk)
        except CryptoError:
            return ReadState.DAMAGED
        except OSError as exc:
            log.error(
                "evidence file %s of case %s could not be read: %s",
                blob_id,
                case_id,
                exc.strerror or type(exc).__name__,
            )
            return ReadState.UNREADABLE
        return ReadState.OK if digest.hexdigest() == sha256 else ReadState.DAMAGED

    @abstractmethod
    async def remove(self, case_id: str, blob_id: str) -> None: ...

    @abstractmethod
    async def remove_case(self, case_id: str) -> None: ...

    @abstractmethod
    async def sweep(self, known: dict[str, set[str]]) -> int:
        """Remove what no row claims (``known``: case id -> blob ids); return how many."""


# ----------------------------------------------------------------------------- per-chat order


class ChatIsolation(ABC):
    """One chat's updates one after another; different chats concurrently (aiogram's
    ``BaseEventIsolation``). In-process here; a database advisory lock across workers."""

    shared = False  # True when other processes take the same locks (several workers, one database)

    @abstractmethod
    def lock(self, key: CaseKey) -> AbstractAsyncContextManager[None]: ...

    @abstractmethod
    def try_lock(self, key: CaseKey) -> AbstractAsyncContextManager[bool]:
        """The chat's lock if nobody holds or waits for it (True inside), else False at once."""

    async def close(self) -> None:
        return None


# ----------------------------------------------------------------------------- one update's work


class Transaction(ABC):
    """The store one update sees: implements ``flows.model.CaseStore`` (same method names),
    plus finding the case and recording message ids. Everything commits together, or nothing.

    After the ``transaction()`` block has exited, ``wiped`` says whether a deletion in it has
    left no old page behind: None (nothing was deleted), True, or False (another reader holds
    old pages; ``Storage.maintenance`` finishes it as soon as it can).
    """

    wiped: bool | None = None

    @abstractmethod
    async def case(self, key: CaseKey, locale: str, start: str) -> Case:
        """The chat's case, created (with a fresh case key) if it has none."""

    @abstractmethod
    async def save_case(self, case: Case) -> None: ...

    @abstractmethod
    async def record_messages(self, key: CaseKey, message_ids: Sequence[int]) -> None: ...

    @abstractmethod
    async def case_key(self, case: Case) -> bytes:
        """The case's data key (unwrapped under the master key)."""

    @abstractmethod
    def integrity_problems(self) -> AsyncIterator[tuple[str, list[int]]]:
        """(case id, item numbers failing their seal) for every case with a problem; [0] for a
        case whose key does not open for its chat."""

    @abstractmethod
    async def records(self, case: Case, *, no: int | None = None) -> list[StoredEvidence]:
        """The case's evidence rows (or item ``no``) with their original file names and seal checks."""

    # flows.model.CaseStore
    @abstractmethod
    async def evidence_count(self, case: Case) -> int: ...
    @abstractmethod
    async def evidence_bytes(self, case: Case) -> int: ...
    @abstractmethod
    async def evidence_page(self, case: Case, offset: int, limit: int) -> list[EvidenceItem]: ...
    @abstractmethod
    async def evidence_get(self, case: Case, no: int) -> EvidenceItem | None: ...
    @abstractmethod
    async def evidence_add(self, case: Case, staged: StagedFile) -> tuple[EvidenceItem, bool]: ...
    @abstractmethod
    async def evidence_add_text(self, case: Case, text: str, *, caption: str = "") -> tuple[EvidenceItem, bool]: ...
    @abstractmethod
    async def discard_staged(self, staged: StagedFile) -> None:
        """A staged file this update does not keep (its feature refused it): removed afterwards."""

    @abstractmethod
    async def evidence_set_category(self, case: Case, no: int, category: str) -> bool: ...
    @abstractmethod
    async def evidence_set_note(self, case: Case, no: int, note: str) -> bool: ...
    @abstractmethod
    async def evidence_delete(self, case: Case, no: int) -> bool: ...
    @abstractmethod
    async def case_delete(self, case: Case) -> list[int]:
        """Everything of the case goes; returns the bot's message ids it may still delete."""

    # the case record (flows.model.CaseStore): sealed JSON bodies under the case key
    @abstractmethod
    async def record_add(
        self,
        case: Case,
        kind: str,
        body: dict,
        *,
        due_at: datetime | None = None,
        lookup: str | None = None,
        blob_id: str | None = None,
    ) -> int:
        """Store ``body`` as the next record of ``kind``; ``due_at`` makes it findable by time
        (``Storage.due_records``), ``lookup`` by a secret token (``Storage.find_record``,
        ``record_find``). ``blob_id`` names a staged vault file of ``case`` the record holds:
        kept while the record is, removed with it (unless an evidence item took it over)."""

    @abstractmethod
    async def record_find(self, kind: str, token: str) -> tuple[Case, int] | None:
        """As ``Storage.find_record``, inside this update: the case and number of the record of
        ``kind`` stored with ``lookup=token`` (a witness invitation, from its link)."""

    @abstractmethod
    async def record_put(
        self, case: Case, kind: str, rid: int, body: dict, *, due_at: datetime | None = None
    ) -> bool: ...

    @abstractmethod
    async def record_get(self, case: Case, kind: str, rid: int) -> dict | None: ...

    @abstractmethod
    async def record_list(self, case: Case, kind: str) -> list[tuple[int, dict]]:
        """Every record of ``kind``, oldest first."""

    @abstractmethod
    async def record_delete(self, case: Case, kind: str, rid: int) -> bool:
        """The record goes, and the vault file it holds (after commit) unless an evidence item
        of the case now holds that file."""


# ----------------------------------------------------------------------------- the storage


class Storage(ABC):
    """Opened once at start (``post_init``), closed at shutdown. ``tmp_dir`` is this worker's
    private scratch space (exports, originals on their way out); it is emptied at start."""

    vault: EvidenceVault
    tmp_dir: Path
    keys: Keyring
    clock: Callable[[], datetime]
    _isolation: ChatIsolation
    _wipe_pending: bool = False

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self, update_id: int | None = None) -> AbstractAsyncContextManager[Transaction]:
        """One unit of work; records ``update_id`` as handled when it commits. Raises
        AlreadyHandled, changing nothing, for an update handled before."""

    # the update journal
    @abstractmethod
    async def journal(self, update_id: int, payload: dict, chat_id: int | None = None) -> None:
        """Keep an update (sealed) before Telegram is told we have it; ``chat_id`` (stored as a
        keyed hash only) lets ``pending_updates`` find the rows of one chat."""

    async def pending_updates(
        self,
        *,
        chat_id: int | None = None,
        upto: int | None = None,
        received_before: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """Journaled updates not yet handled, oldest (smallest update_id) first: all of them, or
        those of one chat up to and including ``upto``, or those waiting since before
        ``received_before`` (left behind by a worker that died); the oldest ``limit`` of them.
        A row whose seal does not open is logged, marked handled and left out: replaying it
        could only fail again."""
        where, params = ["handled_at IS NULL", "payload IS NOT NULL"], list[Any]()
        if chat_id is not None:
            where.append("chat_tag = ?")
            params.append(self.keys.chat_tag(chat_id))
        if upto is not None:
            where.append("update_id <= ?")
            params.append(upto)
        if received_before is not None:
            where.append("received_at < ?")
            params.append(received_before.astimezone(UTC).isoformat(timespec="microseconds"))
        sql = f"SELECT update_id, payload FROM updates WHERE {' AND '.join(where)} ORDER BY update_id"
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, limit]
        rows = await self._journal_rows(sql, params)
        out = []
        for update_id, payload in rows:
            try:
                out.append(json.loads(self.keys.open_journal(update_id, payload)))
            except crypto.IntegrityError:
                log.error("journaled update %d is damaged and cannot be replayed; it is dropped", update_id)
                await self.mark_handled(update_id)
        return out

    @abstractmethod
    async def _journal_rows(self, sql: str, params: Sequence[Any]) -> list[tuple[int, bytes]]:
        """(update_id, sealed payload) of the journal rows ``sql`` selects."""

    @abstractmethod
    async def is_handled(self, update_id: int) -> bool: ...

    @abstractmethod
    async def mark_handled(self, update_id: int) -> None: ...

    # cases and evidence, outside an update's transaction: each one short transaction, the same
    # for every backend
    async def ensure_case(self, key: CaseKey, locale: str, start: str) -> tuple[Case, bytes, int]:
        """The chat's case (created if new), its data key and the bytes of evidence it holds."""
        async with self.transaction() as tx:
            case = await tx.case(key, locale, start)
            used = await tx.evidence_bytes(case)
            case_key = await tx.case_key(case)
        return case, case_key, used

    async def case_key(self, case: Case) -> bytes:
        """The case's data key, unwrapped (its wrapping is bound to case and chat)."""
        row = await self._one("SELECT wrapped_key FROM cases WHERE id = ?", (case.id,))
        if row is None:
            raise LookupError("no such case")
        return self.keys.unwrap(case.id, case.chat_id, bytes(row["wrapped_key"]))

    @abstractmethod
    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row ``sql`` selects, outside a transaction (None if there is none)."""

    async def evidence(self, case: Case, no: int | None = None) -> list[EvidenceItem]:
        """Every item of the case (or item ``no`` alone)."""
        return [r.item for r in await self.evidence_records(case, no)]

    async def evidence_records(self, case: Case, no: int | None = None) -> list[StoredEvidence]:
        """As ``evidence``, with what the export needs besides (original file name, seal check)."""
        async with self.transaction() as tx:
            return await tx.records(case, no=no)

    async def record_sent(self, key: CaseKey, message_ids: Sequence[int]) -> None:
        """Remember the bot's messages, so /delete can remove them from the chat later."""
        if not message_ids:
            return
        async with self.transaction() as tx:
            await tx.record_messages(key, message_ids)

    async def verify_records(self) -> dict[str, list[int]]:
        """Every case's key against its chat and every item against its seal; what fails is
        logged for the operator (case ids and item numbers only) and returned. Item 0 stands
        for a case whose key no longer opens (its row was changed or moved to another chat)."""
        problems: dict[str, list[int]] = {}
        async with self.transaction() as tx:
            async for case_id, nos in tx.integrity_problems():
                problems[case_id] = nos
        for case_id, nos in problems.items():
            if nos == [0]:
                log.error("case %s: its key does not open for its chat; the case row was changed", case_id)
            else:
                log.error(
                    "case %s: item(s) %s do not match their seal; they were changed in the database",
                    case_id,
                    ", ".join(f"E-{n:03d}" for n in nos),
                )
        return problems

    # the case record, across cases
    @abstractmethod
    async def due_records(self, kind: str, until: datetime) -> list[DueRecord]:
        """Records of ``kind`` whose ``due_at`` is at or before ``until`` (reminders to send)."""

    @abstractmethod
    async def find_record(self, kind: str, token: str) -> FoundRecord | None:
        """The record of ``kind`` stored with ``lookup=token``, and its case (an invitation)."""

    # for the operator
    @abstractmethod
    async def stats(self) -> Stats:
        """Counts across all cases (see ``Stats``): what /stats shows, before small ones are hidden."""

    # upkeep
    @abstractmethod
    async def maintenance(self) -> MaintenanceReport:
        """Forget what is past its keep time and finish pending wipes; call on a timer."""

    @property
    def wipe_pending(self) -> bool:
        """A deletion committed but its old pages are not yet gone from disk."""
        return self._wipe_pending

    def isolation(self) -> ChatIsolation:
        """The per-chat lock that fits this backend."""
        return self._isolation

    @asynccontextmanager
    async def scratch(self) -> AsyncIterator[Path]:
        """A private folder under ``tmp_dir`` for plaintext on its way out; removed on exit,
        whatever happened (and swept at start, should the process die inside)."""
        folder = self.tmp_dir / secrets.token_hex(8)
        folder.mkdir(mode=0o700, parents=False)
        try:
            yield folder
        finally:  # in a worker thread: freeing a large file blocks for a while
            await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)


__all__ = [
    "CaseKey",
    "DueRecord",
    "FoundRecord",
    "ChatIsolation",
    "EvidenceVault",
    "MaintenanceReport",
    "ReadState",
    "Stats",
    "Storage",
    "StoredEvidence",
    "Transaction",
]
