"""PostgreSQL storage: state, the update journal and the sealed evidence in one database, for a
deployment that outgrows one process on one disk (``SHOUHU_DATABASE_URL=postgresql://...``).

The same interfaces as SQLite (``storage.base``), and mostly the same code: one update's work
is ``storage.sqlite_tx`` run through ``storage.pg_compat``; the schema is ``storage.schema``'s
one list, in PostgreSQL's words. What differs lives here:

* connections (``storage.pg_connections``): autocommit, an explicit transaction per unit of
  work; ``transaction(update_id)`` locks the journal row (``FOR UPDATE``), so two workers given
  the same update never both handle it: the second waits, then sees it handled;
* sealed files as rows (``storage.pg_vault``), deleted in the case's own transaction;
* per-chat isolation by advisory lock (``storage.pg_isolation``);
* after a deletion commits, ``VACUUM`` of the touched tables removes the dead row versions (the
  nearest PostgreSQL has to SQLite's ``secure_delete`` + checkpoint; docs/POSTGRES.md says what
  it does not do). If an older snapshot still sees them (a backup running), the wipe stays
  pending and ``maintenance()`` tries again.

Driver: psycopg 3 rather than asyncpg. Both are maintained and fast; psycopg is the reference
PostgreSQL driver for Python (libpq underneath: every ``postgresql://`` URL, ``sslmode``,
``.pgpass`` and service file works as with psql), has the same API blocking and async (the
vault's reads run in a worker thread, the rest on the event loop: one driver for both), and
its cost per query is not what limits this bot (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import psycopg

from flows.model import Awaiting, Case
from storage import crypto
from storage.base import (
    DueRecord,
    FoundRecord,
    MaintenanceReport,
    Stats,
    Storage,
)
from storage.errors import AlreadyHandled
from storage.masterkey import KeySource, default_key_file, load_master_key
from storage.pg_compat import PgDb, Row
from storage.pg_connections import Connections, open_connections
from storage.pg_isolation import PgChatIsolation, advisory_key
from storage.pg_vault import PostgresVault
from storage.schema import MIGRATIONS, Sql, statement
from storage.sealing import Keyring
from storage.sqlite import JOURNAL_KEEP, empty_folder
from storage.sqlite_stats import read_stats
from storage.sqlite_tx import DELETABLE_FOR, SqliteTx, iso, now

# files a row still claims: evidence, and a case record's waiting file (a witness's upload)
CLAIMED_BLOBS = (
    "SELECT case_id, blob_id FROM evidence UNION ALL SELECT case_id, blob_id FROM records WHERE blob_id IS NOT NULL"
)

log = logging.getLogger(__name__)

WIPED_TABLES = ("cases", "evidence", "records", "chat_messages", "updates", "blobs", "blob_chunks")


async def migrate(conns: Connections, keys: Keyring) -> int:
    """Bring the schema to the last version, each version in one transaction (PostgreSQL's DDL
    is transactional), under an advisory lock so workers starting together migrate once."""
    lock = advisory_key("migrate")
    async with conns.connection() as db:
        while True:
            async with db.conn.transaction():
                await db.conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                await db.conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = await (await db.conn.execute("SELECT max(version) AS v FROM schema_version")).fetchone()
                version = row["v"] if row and row["v"] is not None else 0
                if version >= len(MIGRATIONS):
                    return version
                for step in MIGRATIONS[version]:
                    if isinstance(step, str | Sql):
                        if sql := statement(step, "postgresql"):
                            await db.conn.execute(sql)  # type: ignore[arg-type] # our own, literal
                    else:
                        await step(db, keys)
                await db.conn.execute("DELETE FROM schema_version")
                await db.conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version + 1,))
            log.info("database migrated to version %d", version + 1)


class PgTx(SqliteTx):
    """The shared transaction, plus what PostgreSQL does differently: a case's or an item's
    sealed blob leaves in the same transaction as its rows."""

    async def case_delete(self, case: Case) -> list[int]:
        await self.db.execute("DELETE FROM blobs WHERE case_id = ?", (case.id,))
        return await super().case_delete(case)

    async def evidence_delete(self, case: Case, no: int) -> bool:
        await self.db.execute(
            "DELETE FROM blobs WHERE blob_id IN (SELECT blob_id FROM evidence WHERE case_id = ? AND no = ?)",
            (case.id, no),
        )
        return await super().evidence_delete(case, no)


class PostgresStorage(Storage):
    def __init__(
        self, conns: Connections, data_dir: Path, keys: Keyring, *, clock: Callable[[], datetime] = now
    ) -> None:
        self.conns = conns
        self.data_dir = data_dir
        self.keys = keys
        self.clock = clock
        self.tmp_dir = data_dir / "tmp"
        self.vault: PostgresVault = PostgresVault(conns, self.tmp_dir, clock)
        self._isolation = PgChatIsolation(conns)
        self._wipe_pending = False

    @classmethod
    async def open(
        cls,
        url: str,
        data_dir: Path,
        master_key: str | None = None,
        *,
        key_file: Path | None = None,
        key_in_data_dir: bool = False,
        clock: Callable[[], datetime] = now,
        keys: Keyring | None = None,
    ) -> PostgresStorage:
        """Connect, check the master key, migrate, sweep. ``data_dir`` holds only this worker's
        scratch folder (and, if so configured, the key file). ``keys``: the keyring another
        storage opened (``bot.py migrate``: the copy opens with the source's key). MasterKeyError
        or StorageUnavailable carry a sentence for the operator."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        conns = await open_connections(url)
        try:
            holds = await _sealed_contents(conns)
            source = KeySource(master_key, key_file or default_key_file(), key_in_data_dir)
            if keys is None:
                keys = Keyring(load_master_key(source, data_dir, holds=holds))
            self = cls(conns, data_dir, keys, clock=clock)
            await self._check_master_key(source, holds)
            await migrate(conns, self.keys)
            await self._write_key_check()
            await self._sweep()
            await self.verify_records()
            await self.maintenance()
        except BaseException:
            await conns.close()
            raise
        return self

    async def close(self) -> None:
        await self._isolation.close()
        await self.vault.close()
        await self.conns.close()

    async def _one(self, sql: str, params: Sequence = ()) -> Row | None:
        async with self.conns.connection() as db, db.execute(sql, params) as cur:
            return await cur.fetchone()

    async def _run(self, sql: str, params: Sequence = ()) -> int:
        async with self.conns.connection() as db, db.execute(sql, params) as cur:
            return cur.rowcount

    async def _check_master_key(self, source: KeySource, holds: str) -> None:
        if not await _has_table(self.conns, "meta"):
            return
        row = await self._one("SELECT value FROM meta WHERE name = 'key_check'")
        if row is None or self.keys.opens_key_check(bytes(row["value"])):
            return
        if holds:
            where = "SHOUHU_MASTER_KEY" if source.env_value is not None else f"the key file {source.key_file}"
            raise crypto.MasterKeyError(
                f"The master key from {where} does not open the {holds} stored in this PostgreSQL database. "
                "Set SHOUHU_MASTER_KEY (or restore the key file) to the key this data was created with."
            )
        log.info("a new master key for a database that holds nothing sealed")

    async def _write_key_check(self) -> None:
        row = await self._one("SELECT value FROM meta WHERE name = 'key_check'")
        if row is None or not self.keys.opens_key_check(bytes(row["value"])):
            await self._run(
                "INSERT INTO meta (name, value) VALUES ('key_check', ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (self.keys.key_check(),),
            )

    async def _sweep(self) -> None:
        known: dict[str, set[str]] = {}
        async with self.conns.connection() as db, db.execute(CLAIMED_BLOBS) as cur:
            async for row in cur:
                known.setdefault(row["case_id"], set()).add(row["blob_id"])
        await self.vault.sweep(known)
        empty_folder(self.tmp_dir)

    # ------------------------------------------------------------------ the update journal

    async def journal(self, update_id: int, payload: dict, chat_id: int | None = None) -> None:
        blob = self.keys.seal_journal(update_id, json.dumps(payload).encode())
        tag = None if chat_id is None else self.keys.chat_tag(chat_id)
        await self._run(
            "INSERT INTO updates (update_id, payload, received_at, chat_tag) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (update_id, blob, iso(self.clock()), tag),
        )

    async def _journal_rows(self, sql: str, params: Sequence) -> list[tuple[int, bytes]]:
        async with self.conns.connection() as db, db.execute(sql, params) as cur:
            return [(row["update_id"], bytes(row["payload"])) for row in await cur.fetchall()]

    async def is_handled(self, update_id: int) -> bool:
        row = await self._one("SELECT handled_at FROM updates WHERE update_id = ?", (update_id,))
        return bool(row and row["handled_at"])

    async def mark_handled(self, update_id: int) -> None:
        async with self.conns.connection() as db:
            await self._mark(db, update_id)

    async def _mark(self, db: PgDb, update_id: int) -> None:
        t = iso(self.clock())
        await db.execute(
            "INSERT INTO updates (update_id, payload, received_at, handled_at) VALUES (?, NULL, ?, ?) "
            "ON CONFLICT (update_id) DO UPDATE SET payload = NULL, handled_at = excluded.handled_at",
            (update_id, t, t),
        )

    # ------------------------------------------------------------------ transactions

    @asynccontextmanager
    async def transaction(self, update_id: int | None = None) -> AsyncIterator[PgTx]:
        async with self.conns.connection() as db:
            tx = PgTx(db, self.vault, self.keys, self.clock)  # type: ignore[arg-type] # the SQLite connection's API, see pg_compat
            try:
                async with db.conn.transaction():
                    if update_id is not None:
                        await self._claim(db, update_id)
                    yield tx
                    if update_id is not None:
                        await self._mark(db, update_id)
            except BaseException:
                for undo in tx.after_rollback:
                    await undo()
                raise
        for action in tx.after_commit:
            await action()
        if tx.deleted:
            tx.wiped = await self._vacuum()

    async def _claim(self, db: PgDb, update_id: int) -> None:
        """Lock the update's journal row for this transaction; AlreadyHandled if it was handled.
        A second worker with the same update waits here until the first commits."""
        await db.execute(
            "INSERT INTO updates (update_id, payload, received_at) VALUES (?, NULL, ?) ON CONFLICT DO NOTHING",
            (update_id, iso(self.clock())),
        )
        async with db.execute("SELECT handled_at FROM updates WHERE update_id = ? FOR UPDATE", (update_id,)) as cur:
            row = await cur.fetchone()
        if row and row["handled_at"]:
            raise AlreadyHandled(update_id)

    async def _vacuum(self) -> bool:
        """VACUUM the tables a deletion touches; True once no dead row version can be left in
        them: no transaction that began before now still holds a snapshot (one that does, a
        backup for instance, keeps the deleted rows visible, and VACUUM must leave them)."""
        try:
            async with self.conns.connection() as db:
                row = await (
                    await db.conn.execute(
                        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                        "AND backend_xmin IS NOT NULL AND xact_start < statement_timestamp()"
                    )
                ).fetchone()
                await db.conn.execute("VACUUM " + ", ".join(WIPED_TABLES))
            left = int(row["n"]) if row else 0
        except (psycopg.Error, OSError) as exc:
            log.warning("VACUUM after a deletion failed (%s); maintenance tries again", type(exc).__name__)
            left = -1
        wiped = left == 0
        if wiped and self._wipe_pending:
            log.info("the pending wipe finished: no deleted row version is left in the tables")
        elif not wiped and not self._wipe_pending:
            log.warning(
                "a deletion is not finished in the tables: another transaction still sees the deleted rows "
                "(a backup or a long query); maintenance retries VACUUM until it ends"
            )
        self._wipe_pending = not wiped
        return wiped

    # ------------------------------------------------------------------ the case record, across cases

    async def case_by_id(self, case_id: str) -> Case | None:
        row = await self._one("SELECT id, chat_id, locale, node, ticks, awaiting FROM cases WHERE id = ?", (case_id,))
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

    async def due_records(self, kind: str, until: datetime) -> list[DueRecord]:
        async with (
            self.conns.connection() as db,
            db.execute(
                "SELECT case_id, rid, due_at FROM records WHERE kind = ? AND due_at IS NOT NULL AND due_at <= ? "
                "ORDER BY due_at",
                (kind, iso(until)),
            ) as cur,
        ):
            rows = [(r["case_id"], r["rid"], r["due_at"]) async for r in cur]
        out = []
        for case_id, rid, due_at in rows:
            case = await self.case_by_id(case_id)
            if case is not None:
                out.append(DueRecord(case, rid, datetime.fromisoformat(due_at)))
        return out

    async def find_record(self, kind: str, token: str) -> FoundRecord | None:
        row = await self._one(
            "SELECT case_id, rid FROM records WHERE kind = ? AND lookup = ?", (kind, self.keys.lookup(kind, token))
        )
        if row is None:
            return None
        case = await self.case_by_id(row["case_id"])
        return FoundRecord(case, row["rid"]) if case else None

    async def stats(self) -> Stats:
        async with self.conns.connection() as db:
            return await read_stats(db, self.clock())  # type: ignore[arg-type]  # the SQLite connection's API, see pg_compat

    # ------------------------------------------------------------------ upkeep

    async def maintenance(self) -> MaintenanceReport:
        """Forget handled journal rows and old message ids, remove orphaned blobs, and finish a
        pending wipe."""
        t = self.clock()
        async with self.conns.connection() as db, db.conn.transaction():
            updates = await db.execute(
                "DELETE FROM updates WHERE handled_at IS NOT NULL AND handled_at < ?", (iso(t - JOURNAL_KEEP),)
            )
            messages = await db.execute("DELETE FROM chat_messages WHERE at < ?", (iso(t - DELETABLE_FOR),))
        known: dict[str, set[str]] = {}
        async with self.conns.connection() as db, db.execute(CLAIMED_BLOBS) as cur:
            async for row in cur:
                known.setdefault(row["case_id"], set()).add(row["blob_id"])
        await self.vault.sweep(known)
        if self._wipe_pending:
            await self._vacuum()
        return MaintenanceReport(messages.rowcount, updates.rowcount, self._wipe_pending)


async def _has_table(conns: Connections, name: str) -> bool:
    async with conns.connection() as db:
        row = await (await db.conn.execute("SELECT to_regclass(%s) AS t", (name,))).fetchone()
    return bool(row and row["t"])


async def _sealed_contents(conns: Connections) -> str:
    """What the database keeps under the master key, in words for the operator ("" if nothing)."""
    if not await _has_table(conns, "cases"):
        return ""
    async with conns.connection() as db:
        cases = await (await db.execute("SELECT COUNT(*) AS n FROM cases")).fetchone()
        updates = await (await db.execute("SELECT COUNT(*) AS n FROM updates WHERE payload IS NOT NULL")).fetchone()
    n_cases, n_updates = (cases["n"] if cases else 0), (updates["n"] if updates else 0)
    parts = [
        f"{n_cases} case(s)" if n_cases else "",
        f"{n_updates} update(s) waiting in the journal" if n_updates else "",
    ]
    return " and ".join(p for p in parts if p)
