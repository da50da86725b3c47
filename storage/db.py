"""SQLite storage: schema and migrations, the update journal, cases and evidence rows.

One aiosqlite connection, one writer: every update is handled inside ``transaction(update_id)``
(``BEGIN IMMEDIATE`` under an asyncio lock), which also records the update as handled, so a
redelivered update changes nothing. Everything a victim wrote (captions, notes, file names, the
journaled update itself) is sealed with a key of its case (or, for the journal, the master key)
before it reaches the database. ``secure_delete`` zeroes what is deleted; a WAL checkpoint after
a case is deleted leaves no old page behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import os
import re
import secrets
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator

import aiosqlite

from flows.model import Awaiting, Case, EvidenceItem, StagedFile
from storage import crypto
from storage.errors import AlreadyHandled
from storage.vault import Vault

log = logging.getLogger(__name__)

MIGRATIONS: list[str] = [
    # 1: the foundation and the evidence locker
    """
    CREATE TABLE cases (
        id          TEXT PRIMARY KEY,
        chat_id     INTEGER NOT NULL UNIQUE,
        locale      TEXT NOT NULL,
        node        TEXT NOT NULL,
        ticks       TEXT NOT NULL DEFAULT '[]',
        awaiting    TEXT,
        wrapped_key BLOB NOT NULL,
        next_no     INTEGER NOT NULL DEFAULT 1,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE evidence (
        case_id        TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        no             INTEGER NOT NULL,
        blob_id        TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL,
        category       TEXT,
        size           INTEGER NOT NULL,
        sha256         TEXT NOT NULL,
        mime           TEXT NOT NULL,
        extension      TEXT NOT NULL,
        file_unique_id TEXT,
        received_at    TEXT NOT NULL,
        message_date   TEXT,
        caption        BLOB,
        note           BLOB,
        filename       BLOB,
        PRIMARY KEY (case_id, no),
        UNIQUE (case_id, sha256)
    );
    CREATE TABLE chat_messages (
        case_id    TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        message_id INTEGER NOT NULL,
        at         TEXT NOT NULL,
        PRIMARY KEY (case_id, message_id)
    );
    CREATE TABLE updates (
        update_id   INTEGER PRIMARY KEY,
        payload     BLOB,
        received_at TEXT NOT NULL,
        handled_at  TEXT
    );
    """,
]

JOURNAL_KEEP = timedelta(days=2)
DELETABLE_FOR = timedelta(hours=47)  # Telegram lets a bot delete messages for 48 hours


def now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="microseconds")


def extension_for(kind: str, mime: str, filename: str) -> str:
    """A safe file extension: from the sender's file name if sane, else from the MIME type."""
    suffix = Path(filename).suffix.lower().lstrip(".") if filename else ""
    if re.fullmatch(r"[a-z0-9]{1,8}", suffix):
        return suffix
    fixed = {"photo": "jpg", "voice": "ogg", "video_note": "mp4", "testimony": "txt"}
    if kind in fixed:
        return fixed[kind]
    guessed = mimetypes.guess_extension(mime or "") or ".bin"
    return guessed.lstrip(".")


class Storage:
    """The database and the vault, opened once in ``post_init`` and closed in ``post_shutdown``."""

    def __init__(self, db: aiosqlite.Connection, data_dir: Path, master_key: bytes):
        self.db = db
        self.data_dir = data_dir
        self.vault = Vault(data_dir / "vault")
        self.tmp_dir = data_dir / "tmp"
        self._master = master_key
        self._write = asyncio.Lock()

    @classmethod
    async def open(cls, data_dir: Path, master_key_env: str | None) -> "Storage":
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        master = crypto.load_master_key(master_key_env, data_dir)
        path = data_dir / "shouhu.db"
        if not path.exists():  # SQLite gives its -wal and -shm files the database file's mode
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "secure_delete=ON", "busy_timeout=5000"):
                await db.execute(f"PRAGMA {pragma}")
            self = cls(db, data_dir, master)
            await self._migrate()
            await self._check_master_key()
            await self._sweep()
        except BaseException:
            await db.close()
            raise
        return self

    async def close(self) -> None:
        await self.db.close()

    async def _migrate(self) -> None:
        (version,) = await (await self.db.execute("PRAGMA user_version")).fetchone()
        for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in script.split(";"):
                    if statement.strip():
                        await self.db.execute(statement)
                await self.db.execute(f"PRAGMA user_version = {i}")
                await self.db.commit()
            except BaseException:
                await self.db.rollback()
                raise
            log.info("database migrated to version %d", i)

    async def _check_master_key(self) -> None:
        """Refuse to start with a master key that cannot open the cases already stored."""
        row = await (await self.db.execute("SELECT id, wrapped_key FROM cases LIMIT 1")).fetchone()
        if row:
            try:
                crypto.unwrap_key(self._master, row[0], row[1])
            except crypto.IntegrityError:
                raise crypto.MasterKeyError(
                    "The master key does not open the cases stored in this data directory. "
                    "Set SHOUHU_MASTER_KEY (or restore master.key) to the key this data was created with."
                ) from None

    async def _sweep(self) -> None:
        known: dict[str, set[str]] = {}
        async with self.db.execute("SELECT id FROM cases") as cur:
            async for (cid,) in cur:
                known[cid] = set()
        async with self.db.execute("SELECT case_id, blob_id FROM evidence") as cur:
            async for cid, bid in cur:
                known.setdefault(cid, set()).add(bid)
        self.vault.sweep(known)
        if self.tmp_dir.exists():
            for f in self.tmp_dir.iterdir():
                f.unlink(missing_ok=True)
        self.tmp_dir.mkdir(exist_ok=True, mode=0o700)
        cutoff = _iso(now() - JOURNAL_KEEP)
        await self.db.execute("DELETE FROM updates WHERE handled_at IS NOT NULL AND handled_at < ?", (cutoff,))
        # message ids only matter while Telegram still lets the bot delete them
        await self.db.execute("DELETE FROM chat_messages WHERE at < ?", (_iso(now() - DELETABLE_FOR),))

    # ------------------------------------------------------------------ the update journal

    def _journal_context(self, update_id: int) -> bytes:
        return f"shouhu/journal/{update_id}".encode()

    async def journal(self, update_id: int, payload: dict) -> None:
        """Keep an update (sealed) before Telegram is told we have it."""
        blob = crypto.seal(self._master, self._journal_context(update_id), json.dumps(payload).encode())
        async with self._write:
            await self.db.execute(
                "INSERT OR IGNORE INTO updates (update_id, payload, received_at) VALUES (?, ?, ?)",
                (update_id, blob, _iso(now())),
            )
            await self.db.commit()

    async def pending_updates(self) -> list[dict]:
        """Journaled updates not yet handled, oldest first (to finish after a crash)."""
        out = []
        async with self.db.execute(
            "SELECT update_id, payload FROM updates WHERE handled_at IS NULL AND payload IS NOT NULL ORDER BY update_id"
        ) as cur:
            async for uid, blob in cur:
                out.append(json.loads(crypto.open_sealed(self._master, self._journal_context(uid), blob)))
        return out

    async def is_handled(self, update_id: int) -> bool:
        row = await (await self.db.execute("SELECT handled_at FROM updates WHERE update_id = ?", (update_id,))).fetchone()
        return bool(row and row[0])

    async def mark_handled(self, update_id: int) -> None:
        async with self._write:
            await self.db.execute("BEGIN IMMEDIATE")
            await self._mark(update_id)
            await self.db.commit()

    async def _mark(self, update_id: int) -> None:
        t = _iso(now())
        await self.db.execute(
            "INSERT INTO updates (update_id, payload, received_at, handled_at) VALUES (?, NULL, ?, ?) "
            "ON CONFLICT(update_id) DO UPDATE SET payload = NULL, handled_at = excluded.handled_at",
            (update_id, t, t),
        )

    # ------------------------------------------------------------------ transactions

    @asynccontextmanager
    async def transaction(self, update_id: int | None = None) -> AsyncIterator["Tx"]:
        """One unit of work; raises AlreadyHandled (and changes nothing) for a handled update."""
        async with self._write:
            await self.db.execute("BEGIN IMMEDIATE")
            tx = Tx(self)
            try:
                if update_id is not None:
                    row = await (await self.db.execute(
                        "SELECT handled_at FROM updates WHERE update_id = ?", (update_id,))).fetchone()
                    if row and row[0]:
                        raise AlreadyHandled(update_id)
                yield tx
                if update_id is not None:
                    await self._mark(update_id)
                await self.db.commit()
            except BaseException:
                await self.db.rollback()
                raise
            if tx.checkpoint:  # while no other transaction is open: old pages leave the WAL now
                await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for action in tx.after_commit:
            action()

    async def case_key(self, case: Case) -> bytes:
        row = await (await self.db.execute("SELECT wrapped_key FROM cases WHERE id = ?", (case.id,))).fetchone()
        return crypto.unwrap_key(self._master, case.id, row[0])

    async def ensure_case(self, chat_id: int, locale: str, start: str) -> tuple[Case, bytes, int]:
        """The chat's case (created if new), its data key and the bytes of evidence it holds."""
        async with self.transaction() as tx:
            case = await tx.case(chat_id, locale, start)
            used = await tx.evidence_bytes(case)
        return case, await self.case_key(case), used

    async def record_sent(self, chat_id: int, message_ids: list[int]) -> None:
        """Remember the bot's messages, so /delete can remove them from the chat later."""
        if not message_ids:
            return
        async with self.transaction() as tx:
            await tx.record_messages(chat_id, message_ids)

    async def evidence(self, case: Case, no: int | None = None) -> list[EvidenceItem]:
        """Every item of the case (or item ``no`` alone), read in one short transaction."""
        async with self.transaction() as tx:
            if no is None:
                return await tx.evidence_page(case, 0, 1_000_000)
            item = await tx.evidence_get(case, no)
            return [item] if item else []


class Tx:
    """The storage a handler and the engine see inside one transaction (implements CaseStore)."""

    def __init__(self, storage: Storage):
        self.s = storage
        self.db = storage.db
        self.after_commit: list = []
        self.checkpoint = False

    # -------------------------------------------------------------- cases

    async def case(self, chat_id: int, locale: str, start: str) -> Case:
        row = await (await self.db.execute(
            "SELECT id, locale, node, ticks, awaiting FROM cases WHERE chat_id = ?", (chat_id,))).fetchone()
        if row:
            return Case(row[0], chat_id, row[1], row[2], set(json.loads(row[3])), Awaiting.decode(row[4]))
        case_id = secrets.token_hex(16)
        wrapped = crypto.wrap_key(self.s._master, case_id, crypto.new_case_key())
        t = _iso(now())
        await self.db.execute(
            "INSERT INTO cases (id, chat_id, locale, node, wrapped_key, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
            (case_id, chat_id, locale, start, wrapped, t, t),
        )
        return Case(case_id, chat_id, locale, start)

    async def save_case(self, case: Case) -> None:
        if case.deleted:
            return
        await self.db.execute(
            "UPDATE cases SET node = ?, ticks = ?, awaiting = ?, updated_at = ? WHERE id = ?",
            (case.node, json.dumps(sorted(case.ticks)), case.awaiting.encode() if case.awaiting else None, _iso(now()), case.id),
        )

    async def record_messages(self, chat_id: int, message_ids: list[int]) -> None:
        if not message_ids:  # a button press brings no message of the user's
            return
        t = _iso(now())
        await self.db.executemany(
            "INSERT OR IGNORE INTO chat_messages (case_id, message_id, at) "
            "SELECT id, ?, ? FROM cases WHERE chat_id = ?",
            [(mid, t, chat_id) for mid in message_ids],
        )

    async def case_delete(self, case: Case) -> list[int]:
        """Everything of the case goes: rows, the wrapped key, the vault folder (after commit)."""
        cutoff = _iso(now() - DELETABLE_FOR)
        async with self.db.execute(
            "SELECT message_id FROM chat_messages WHERE case_id = ? AND at >= ? ORDER BY message_id", (case.id, cutoff)
        ) as cur:
            ids = [r[0] async for r in cur]
        await self.db.execute("DELETE FROM cases WHERE id = ?", (case.id,))  # cascades
        self.after_commit.append(lambda: self.s.vault.remove_case(case.id))
        self.checkpoint = True
        return ids

    # -------------------------------------------------------------- evidence (CaseStore)

    async def _key(self, case: Case) -> bytes:
        return await self.s.case_key(case)

    def _ctx(self, case: Case, no: int, field: str) -> bytes:
        return f"shouhu/row/{case.id}/{no}/{field}".encode()

    async def _row_to_item(self, case: Case, row, key: bytes) -> EvidenceItem:
        no, kind, category, size, sha, mime, ext, received, caption, note, sent, blob_id = row

        def opened(blob, field):
            return crypto.open_sealed(key, self._ctx(case, no, field), blob).decode() if blob else ""

        return EvidenceItem(
            no, kind, category, size, sha, datetime.fromisoformat(received), mime, ext,
            note=opened(note, "note"), caption=opened(caption, "caption"),
            message_date=datetime.fromisoformat(sent) if sent else None, blob_id=blob_id,
        )

    _COLS = "no, kind, category, size, sha256, mime, extension, received_at, caption, note, message_date, blob_id"

    async def evidence_count(self, case: Case) -> int:
        (n,) = await (await self.db.execute("SELECT COUNT(*) FROM evidence WHERE case_id = ?", (case.id,))).fetchone()
        return n

    async def evidence_bytes(self, case: Case) -> int:
        (n,) = await (await self.db.execute(
            "SELECT COALESCE(SUM(size), 0) FROM evidence WHERE case_id = ?", (case.id,))).fetchone()
        return n

    async def evidence_page(self, case: Case, offset: int, limit: int) -> list[EvidenceItem]:
        rows = await (await self.db.execute(
            f"SELECT {self._COLS} FROM evidence WHERE case_id = ? ORDER BY no LIMIT ? OFFSET ?",
            (case.id, limit, offset))).fetchall()
        if not rows:
            return []
        key = await self._key(case)
        return [await self._row_to_item(case, r, key) for r in rows]

    async def evidence_get(self, case: Case, no: int) -> EvidenceItem | None:
        row = await (await self.db.execute(
            f"SELECT {self._COLS} FROM evidence WHERE case_id = ? AND no = ?", (case.id, no))).fetchone()
        return await self._row_to_item(case, row, await self._key(case)) if row else None

    async def _by_hash(self, case: Case, sha: str) -> EvidenceItem | None:
        row = await (await self.db.execute(
            f"SELECT {self._COLS} FROM evidence WHERE case_id = ? AND sha256 = ?", (case.id, sha))).fetchone()
        return await self._row_to_item(case, row, await self._key(case)) if row else None

    async def evidence_add(self, case: Case, staged: StagedFile) -> tuple[EvidenceItem, bool]:
        """Commit a staged file as the next item; the same bytes twice return the first item."""
        existing = await self._by_hash(case, staged.sha256)
        if existing:
            self.after_commit.append(lambda: staged.path.unlink(missing_ok=True))
            return existing, True
        key = await self._key(case)
        (no,) = await (await self.db.execute("SELECT next_no FROM cases WHERE id = ?", (case.id,))).fetchone()
        await self.db.execute("UPDATE cases SET next_no = next_no + 1 WHERE id = ?", (case.id,))

        def sealed(text: str, field: str):
            return crypto.seal(key, self._ctx(case, no, field), text.encode()) if text else None

        received = now()
        await self.db.execute(
            "INSERT INTO evidence (case_id, no, blob_id, kind, size, sha256, mime, extension, file_unique_id, "
            "received_at, message_date, caption, filename) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                case.id, no, staged.blob_id, staged.kind, staged.size, staged.sha256, staged.mime or "application/octet-stream",
                extension_for(staged.kind, staged.mime, staged.filename), staged.file_unique_id or None, _iso(received),
                _iso(staged.message_date) if staged.message_date else None,
                sealed(staged.caption, "caption"), sealed(staged.filename, "filename"),
            ),
        )
        return await self.evidence_get(case, no), False

    async def evidence_add_text(self, case: Case, text: str) -> tuple[EvidenceItem, bool]:
        key = await self._key(case)
        blob_id, path, sha, size = await self.s.vault.write_bytes(case.id, key, text.encode("utf-8"))
        staged = StagedFile(blob_id, path, sha, size, "testimony", "text/plain; charset=utf-8", message_date=now())
        return await self.evidence_add(case, staged)

    async def evidence_set_category(self, case: Case, no: int, category: str) -> bool:
        cur = await self.db.execute("UPDATE evidence SET category = ? WHERE case_id = ? AND no = ?", (category, case.id, no))
        return cur.rowcount > 0

    async def evidence_set_note(self, case: Case, no: int, note: str) -> bool:
        blob = crypto.seal(await self._key(case), self._ctx(case, no, "note"), note.encode())
        cur = await self.db.execute("UPDATE evidence SET note = ? WHERE case_id = ? AND no = ?", (blob, case.id, no))
        return cur.rowcount > 0

    async def evidence_delete(self, case: Case, no: int) -> bool:
        row = await (await self.db.execute(
            "SELECT blob_id FROM evidence WHERE case_id = ? AND no = ?", (case.id, no))).fetchone()
        if not row:
            return False
        await self.db.execute("DELETE FROM evidence WHERE case_id = ? AND no = ?", (case.id, no))
        self.after_commit.append(lambda: self.s.vault.remove(case.id, row[0]))
        self.checkpoint = True
        return True
