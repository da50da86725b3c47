"""SQLite storage: the embedded default. One connection (``storage.sqlite_conn``: statements
inline, commits on its own thread), one writer.

Every update is handled inside ``transaction(update_id)`` (``BEGIN IMMEDIATE`` under an asyncio
lock), which also records the update as handled, so a redelivered update changes nothing.
Whatever a victim wrote is sealed under a key of its case (the journal under the master key)
before it reaches the database. ``secure_delete`` zeroes deleted rows; after a deletion a
``wal_checkpoint(TRUNCATE)`` moves the zeroed pages into the database and empties the WAL. A
reader elsewhere (a backup, a shell) can hold old pages in the WAL; then the wipe stays
pending, ``wipe_pending`` says so, and ``maintenance()`` finishes it as soon as it can.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from flows.model import Awaiting, Case
from storage import crypto
from storage.base import (
    CaseKey,
    DueRecord,
    FoundRecord,
    MaintenanceReport,
    Stats,
    Storage,
)
from storage.errors import AlreadyHandled
from storage.isolation import MemoryChatIsolation
from storage.masterkey import KeySource, default_key_file, load_master_key
from storage.schema import MIGRATIONS, Sql, statement
from storage.sealing import Keyring
from storage.sqlite_conn import Connection
from storage.sqlite_stats import read_stats
from storage.sqlite_tx import DELETABLE_FOR, SqliteTx, iso, now
from storage.vault import LocalVault

log = logging.getLogger(__name__)

JOURNAL_KEEP = timedelta(days=2)
BUSY_TIMEOUT_MS = 5000
CHECKPOINT_BACKOFF = (0.0, 0.02, 0.05, 0.1, 0.2)  # seconds before each try, under a second in all
PRAGMAS = (
    "journal_mode=WAL",  # synchronous=NORMAL: the connection fsyncs the WAL itself (storage/sqlite_conn.py)
    "foreign_keys=ON",
    "secure_delete=ON",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
)


async def migrate(db: Connection, keys: Keyring) -> int:
    """Bring the schema to the last version; each version in one transaction."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    version = row[0] if row else 0
    for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
        await db.execute("BEGIN IMMEDIATE")
        try:
            for step in statements:
                if isinstance(step, str | Sql):
                    if sql := statement(step, "sqlite"):
                        await db.execute(sql)
                else:
                    await step(db, keys)
            await db.execute(f"PRAGMA user_version = {number:d}")
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
        log.info("database migrated to version %d", number)
    return len(MIGRATIONS)


class SqliteStorage(Storage):
    """The database, the vault and the scratch folder of one data directory."""

    def __init__(self, db: Connection, data_dir: Path, keys: Keyring, *, clock: Callable[[], datetime] = now):
        self.db = db
        self.data_dir = data_dir
        self.keys = keys
        self.clock = clock
        self.vault: LocalVault = LocalVault(data_dir / "vault")
        self.tmp_dir = data_dir / "tmp"
        self._write = asyncio.Lock()
        self._wipe_pending = False
        self._isolation = MemoryChatIsolation()

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        master_key: str | None = None,
        *,
        key_file: Path | None = None,
        key_in_data_dir: bool = False,
        clock: Callable[[], datetime] = now,
    ) -> SqliteStorage:
        """Open (or create) the data directory. ``master_key`` is SHOUHU_MASTER_KEY's value; without
        it the key comes from ``key_file`` (see ``storage.masterkey``). MasterKeyError, with a
        sentence for the operator, if the key is missing, misplaced or does not open the data."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = data_dir / "shouhu.db"
        if not path.exists():  # SQLite gives its -wal and -shm files the database file's mode
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = await Connection.open(path)
        try:
            for pragma in PRAGMAS:
                await db.execute(f"PRAGMA {pragma}")
            source = KeySource(master_key, key_file or default_key_file(), key_in_data_dir)
            holds = await _sealed_contents(db)
            master = load_master_key(source, data_dir, holds=holds)
            self = cls(db, data_dir, Keyring(master), clock=clock)
            await self._check_master_key(source, holds)  # before a migration reseals anything with it
            await self._adopt_lookup_key()
            await migrate(db, self.keys)
            await self._write_key_check()
            await self._sweep()
            await self.verify_records()
            await self.maintenance()
        except BaseException:
            await db.close()
            raise
        return self

    async def close(self) -> None:
        await self._isolation.close()
        await self.db.close()

    async def _one(self, sql: str, params: Sequence = ()) -> sqlite3.Row | None:
        rows = await self.db.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def _check_master_key(self, source: KeySource, holds: str) -> None:
        """Refuse a master key that cannot open what is stored. The key-check value (written at
        the first start) decides; a database from before it goes by its cases (any one that
        opens: a single changed row must not pass for a wrong key), else by its journal."""
        where = "SHOUHU_MASTER_KEY" if source.env_value is not None else f"the key file {source.key_file}"
        wrong = (
            f"The master key from {where} does not open the {{what}} in {self.data_dir}. Set "
            "SHOUHU_MASTER_KEY (or restore the key file) to the key this data was created with."
        )
        if await _has_table(self.db, "meta"):
            row = await self._one("SELECT value FROM meta WHERE name = 'key_check'")
            if row:
                if self.keys.opens_key_check(row["value"]):
                    return
                if holds:
                    raise crypto.MasterKeyError(
                        wrong.format(what="cases stored" if "case" in holds else "updates waiting in the journal")
                    )
                log.info("a new master key for a database that holds nothing sealed")
                return
        if not await _has_table(self.db, "cases"):
            return  # a new database
        async with self.db.execute("SELECT id, chat_id, wrapped_key FROM cases LIMIT 20") as cur:
            cases = await cur.fetchall()
        if cases and not any(self._opens(c) for c in cases):
            raise crypto.MasterKeyError(wrong.format(what="cases stored"))
        update = await self._one("SELECT update_id, payload FROM updates WHERE payload IS NOT NULL LIMIT 1")
        if update and not cases:
            try:
                self.keys.open_journal(update["update_id"], update["payload"])
            except crypto.IntegrityError:
                raise crypto.MasterKeyError(wrong.format(what="updates waiting in the journal")) from None

    async def _adopt_lookup_key(self) -> None:
        """After a key rotation (storage.rotate) the lookup key is the one the first master key
        gave, kept sealed in ``meta``; before any, it is derived from the master key."""
        if await _has_table(self.db, "meta"):
            row = await self._one("SELECT value FROM meta WHERE name = 'lookup_key'")
            if row:
                try:
                    self.keys.use_lookup_key(row["value"])
                except crypto.IntegrityError:
                    raise crypto.MasterKeyError(
                        f"The lookup key stored in {self.data_dir} does not open with this master key: the "
                        "database was changed, or restored from another rotation. Restore a matching backup."
                    ) from None

    def _opens(self, case: sqlite3.Row) -> bool:
        try:
            self.keys.unwrap(case["id"], case["chat_id"], case["wrapped_key"], legacy_ok=True)
        except crypto.IntegrityError:
            return False
        return True

    async def _write_key_check(self) -> None:
        row = await self._one("SELECT value FROM meta WHERE name = 'key_check'")
        if row is None or not self.keys.opens_key_check(row["value"]):
            async with self._write:
                await self.db.execute(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES ('key_check', ?)", (self.keys.key_check(),)
                )
                await self.db.commit()

    async def _sweep(self) -> None:
        """Remove what a crash left behind: vault files no row claims, and everything in tmp
        (exports and originals on their way out are plaintext: files and folders alike)."""
        known: dict[str, set[str]] = {}
        async with self.db.execute("SELECT id FROM cases") as cur:
            async for row in cur:
                known[row["id"]] = set()
        async with self.db.execute(
            "SELECT case_id, blob_id FROM evidence UNION ALL SELECT case_id, blob_id FROM records WHERE blob_id IS NOT NULL"
        ) as cur:
            async for row in cur:
                known.setdefault(row["case_id"], set()).add(row["blob_id"])
        await self.vault.sweep(known)
        await asyncio.to_thread(empty_folder, self.tmp_dir)

    # ------------------------------------------------------------------ the update journal

    async def journal(self, update_id: int, payload: dict, chat_id: int | None = None) -> None:
        blob = self.keys.seal_journal(update_id, json.dumps(payload).encode())
        tag = None if chat_id is None else self.keys.chat_tag(chat_id)
        async with self._write:  # one statement outside a transaction: committed (and fsynced) by itself
            await self.db.execute(
                "INSERT OR IGNORE INTO updates (update_id, payload, received_at, chat_tag) VALUES (?, ?, ?, ?)",
                (update_id, blob, iso(self.clock()), tag),
            )

    async def _journal_rows(self, sql: str, params: Sequence) -> list[tuple[int, bytes]]:
        async with self._write:
            rows = await self.db.execute_fetchall(sql, params)
        return [(row[0], bytes(row[1])) for row in rows]

    async def is_handled(self, update_id: int) -> bool:
        async with self._write:
            row = await self._one("SELECT handled_at FROM updates WHERE update_id = ?", (update_id,))
        return bool(row and row["handled_at"])

    async def mark_handled(self, update_id: int) -> None:
        async with self._write:
            await self._mark(update_id)  # one statement: its own transaction

    async def record_sent(self, key: CaseKey, message_ids: Sequence[int]) -> None:
        """One statement, a transaction by itself, after nearly every update: inline and
        fsynced a moment later (``Connection.execute_unsynced``). The ids are safe when this
        returns if the bot dies; a power cut in the moment before the fsync could cost /delete
        the ids of one reply (docs/SECURITY.md), not a byte of the case."""
        if not message_ids:
            return
        async with self._write:
            await self.db.execute_unsynced(
                "INSERT INTO chat_messages (case_id, message_id, at) "
                "SELECT cases.id, ids.value, ? FROM cases, json_each(?) AS ids WHERE cases.chat_id = ? "
                "ON CONFLICT DO NOTHING",
                (iso(self.clock()), json.dumps(list(message_ids)), key.chat_id),
            )

    async def _mark(self, update_id: int) -> None:
        t = iso(self.clock())
        await self.db.execute(
            "INSERT INTO updates (update_id, payload, received_at, handled_at) VALUES (?, NULL, ?, ?) "
            "ON CONFLICT(update_id) DO UPDATE SET payload = NULL, handled_at = excluded.handled_at",
            (update_id, t, t),
        )

    # ------------------------------------------------------------------ transactions

    @asynccontextmanager
    async def transaction(self, update_id: int | None = None) -> AsyncIterator[SqliteTx]:
        tx = SqliteTx(self.db, self.vault, self.keys, self.clock)
        async with self._write:
            await self.db.execute("BEGIN IMMEDIATE")
            weighty = self.db.weighty_rows
            try:
                if update_id is not None:
                    row = await self._one("SELECT handled_at FROM updates WHERE update_id = ?", (update_id,))
                    if row and row["handled_at"]:
                        raise AlreadyHandled(update_id)
                yield tx
                if update_id is not None:
                    with self.db.light():  # see below
                        await self._mark(update_id)
                if self.db.weighty_rows == weighty and not (tx.after_commit or tx.deleted):
                    # Only light rows: where the person is in the guide, the update's mark, message
                    # ids. A power cut within a second may take them back (a step to press again,
                    # an update handled again), never a piece of the record: that waits for the disk.
                    await self.db.commit_light()
                else:
                    await self.db.commit()
            except BaseException:
                try:
                    await self.db.rollback()
                except sqlite3.Error as exc:  # the original error matters more
                    log.error("rollback failed: %s", type(exc).__name__)
                for undo in tx.after_rollback:
                    await undo()
                raise
        for action in tx.after_commit:
            await action()
        if tx.deleted:
            tx.wiped = await self._checkpoint()

    async def _checkpoint(self) -> bool:
        """Empty the WAL (``TRUNCATE``); True once no old page is left there. Busy (another
        connection reads an older snapshot) is retried briefly, then left to ``maintenance``."""
        for delay in CHECKPOINT_BACKOFF:
            if delay:
                await asyncio.sleep(delay)
            async with self._write:  # no transaction of ours is open meanwhile
                await self.db.execute("PRAGMA busy_timeout = 0")  # never block the loop's only connection
                try:
                    row = await self._one("PRAGMA wal_checkpoint(TRUNCATE)")
                    busy = bool(row is None or row[0])
                except sqlite3.OperationalError:  # another process writes: busy too
                    busy = True
                finally:
                    await self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
            if not busy:
                if self._wipe_pending:
                    log.info("the pending wipe finished: no deleted page is left in the WAL")
                self._wipe_pending = False
                return True
        if not self._wipe_pending:
            log.warning(
                "a deletion is not finished on disk: another connection to the database holds old "
                "pages in its WAL; it is retried by maintenance until that connection ends"
            )
        self._wipe_pending = True
        return False

    # ------------------------------------------------------------------ the case record, across cases

    async def _case_by_id(self, case_id: str) -> Case | None:
        async with self.db.execute(
            "SELECT id, chat_id, locale, node, ticks, awaiting FROM cases WHERE id = ?", (case_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return Case(
            row["id"],
            row["chat_id"],
            row["locale"],
            row["node"],
            set(json.loads(row["ticks"])),
            Awaiting.decode(row["awaiting"]),
        )

    # Reads outside a transaction take the writer's lock too: one connection serves everything,
    # and a cursor left open between two awaits would meet a transaction's WAL checkpoint
    # ("database table is locked").

    async def due_records(self, kind: str, until: datetime) -> list[DueRecord]:
        async with self._write:
            return await self._due_records(kind, until)

    async def _due_records(self, kind: str, until: datetime) -> list[DueRecord]:
        async with self.db.execute(
            "SELECT case_id, rid, due_at FROM records WHERE kind = ? AND due_at IS NOT NULL AND due_at <= ? "
            "ORDER BY due_at",
            (kind, iso(until)),
        ) as cur:
            rows = [(r["case_id"], r["rid"], r["due_at"]) async for r in cur]
        out = []
        for case_id, rid, due_at in rows:
            case = await self._case_by_id(case_id)
            if case is not None:
                out.append(DueRecord(case, rid, datetime.fromisoformat(due_at)))
        return out

    async def find_record(self, kind: str, token: str) -> FoundRecord | None:
        async with self._write:
            return await self._find_record(kind, token)

    async def _find_record(self, kind: str, token: str) -> FoundRecord | None:
        async with self.db.execute(
            "SELECT case_id, rid FROM records WHERE kind = ? AND lookup = ?", (kind, self.keys.lookup(kind, token))
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        case = await self._case_by_id(row["case_id"])
        return FoundRecord(case, row["rid"]) if case else None

    async def stats(self) -> Stats:
        async with self._write:
            with self.db.all_off_loop():  # whole tables: not on the event loop
                return await read_stats(self.db, self.clock())

    # ------------------------------------------------------------------ upkeep

    async def maintenance(self) -> MaintenanceReport:
        """Forget handled journal rows after two days and message ids once Telegram no longer
        lets the bot delete them (so /privacy's 48 hours holds), and finish a pending wipe."""
        t = self.clock()
        async with self._write:  # after a busy day many rows go: on the connection's thread
            updates, messages = await self.db.run(_prune, iso(t - JOURNAL_KEEP), iso(t - DELETABLE_FOR))
        if self._wipe_pending:
            await self._checkpoint()
        return MaintenanceReport(messages, updates, self._wipe_pending)


def _prune(db: sqlite3.Connection, journal_before: str, messages_before: str) -> tuple[int, int]:
    """Handled journal rows and message ids past their time, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        updates = db.execute("DELETE FROM updates WHERE handled_at IS NOT NULL AND handled_at < ?", (journal_before,))
        messages = db.execute("DELETE FROM chat_messages WHERE at < ?", (messages_before,))
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return updates.rowcount, messages.rowcount


async def _has_table(db: Connection, name: str) -> bool:
    async with db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)) as cur:
        return await cur.fetchone() is not None


async def _sealed_contents(db: Connection) -> str:
    """What the database keeps under the master key, in words for the operator ("" if nothing)."""
    if not await _has_table(db, "cases"):
        return ""

    async def count(sql: str) -> int:
        async with db.execute(sql) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    cases = await count("SELECT COUNT(*) FROM cases")
    updates = await count("SELECT COUNT(*) FROM updates WHERE payload IS NOT NULL")
    parts = [f"{cases} case(s)" if cases else "", f"{updates} update(s) waiting in the journal" if updates else ""]
    return " and ".join(p for p in parts if p)


def empty_folder(folder: Path) -> None:
    folder.mkdir(exist_ok=True, mode=0o700)
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    os.chmod(folder, 0o700)
