"""``python bot.py migrate --to postgresql://...``: copy a SQLite instance into PostgreSQL.

Sealed data is copied as it is: the rows byte for byte, each vault file as the rows of its blob
(the same bytes, ``storage.pg_vault``), the wrapped case keys unchanged, so the same master key
opens everything and nothing is decrypted on the way. The whole copy is one PostgreSQL
transaction: if it fails, the database is left empty and the command can be run again.

Before: the source opens with the master key (a wrong key is refused here, not discovered in
production), and the destination must hold nothing (no case, no journaled update, no blob):
running twice, or into another instance's database, is refused. After: every table's row count
and a SHA-256 over its rows, and every blob's SHA-256, are compared between the two; then the
PostgreSQL instance is opened as the bot would open it, every seal is checked and every item is
decrypted and compared with the hash on its receipt.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from storage.errors import StorageError
from storage.pg_compat import Row
from storage.pg_vault import ROW_BYTES
from storage.postgres import PostgresStorage
from storage.sqlite import SqliteStorage

log = logging.getLogger(__name__)

# Tables in foreign-key order, each with the columns that order its rows for the hash.
TABLES: dict[str, str] = {
    "cases": "id",
    "evidence": "case_id, no",
    "chat_messages": "case_id, message_id",
    "records": "case_id, kind, rid",
    "updates": "update_id",
}


class MigrateRefused(StorageError):
    """The destination is not empty, or the copy does not match; the message says what to do."""


@dataclass
class MigrateReport:
    rows: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    blob_bytes: int = 0
    items_checked: int = 0


def _canonical(value: Any) -> bytes:
    if value is None:
        return b"\x00N"
    if isinstance(value, bytes | bytearray | memoryview):
        return b"\x00B" + bytes(value).hex().encode()
    return b"\x00V" + repr(value).encode()


def _rows_digest(rows: list[Any], names: list[str]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        for name in names:
            digest.update(_canonical(row[name]))
        digest.update(b"\x00R")
    return digest.hexdigest()


async def _sqlite_table(source: SqliteStorage, table: str) -> tuple[list[str], list[Any]]:
    async with source.db.execute(f"SELECT * FROM {table} ORDER BY {TABLES[table]}") as cur:
        names = [d[0] for d in cur.description]
        return names, list(await cur.fetchall())


async def _pg_table(conn: psycopg.AsyncConnection[Row], table: str, names: list[str]) -> list[Row]:
    cur = await conn.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY {TABLES[table]}")  # type: ignore[arg-type]
    return await cur.fetchall()


async def _is_empty(dest: PostgresStorage) -> str:
    """ "" if the destination holds nothing of a case; else what it holds, in words."""
    async with dest.conns.connection() as db:
        held = []
        for table in ("cases", "updates", "blobs"):
            row = await (await db.execute(f"SELECT COUNT(*) AS n FROM {table}")).fetchone()
            if row and row["n"]:
                held.append(f"{row['n']} row(s) in {table}")
    return ", ".join(held)


async def _copy(source: SqliteStorage, conn: psycopg.AsyncConnection[Row], report: MigrateReport) -> dict[str, str]:
    """Everything, in one transaction; returns each blob's SHA-256 as read from the vault."""
    sums: dict[str, str] = {}
    async with conn.transaction():
        for table in TABLES:
            names, rows = await _sqlite_table(source, table)
            columns = ", ".join(names)
            marks = ", ".join(["%s"] * len(names))
            async with conn.cursor() as cur:
                await cur.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # type: ignore[arg-type]
                    [tuple(r) for r in rows],
                )
            report.rows[table] = len(rows)
        async with source.db.execute("SELECT case_id, blob_id, size, received_at FROM evidence") as cur:
            blobs = list(await cur.fetchall())
        for blob in blobs:
            sums[blob["blob_id"]] = await _copy_blob(source, conn, blob)
            report.blobs += 1
    return sums


async def _copy_blob(source: SqliteStorage, conn: psycopg.AsyncConnection[Row], blob: Any) -> str:
    """One vault file as its blob's rows, read ROW_BYTES at a time."""
    path = source.vault.path(blob["case_id"], blob["blob_id"])
    digest = hashlib.sha256()
    await conn.execute(
        "INSERT INTO blobs (blob_id, case_id, size, created_at) VALUES (%s, %s, %s, %s)",
        (blob["blob_id"], blob["case_id"], blob["size"], blob["received_at"]),
    )
    seq = 0
    if not path.is_file():
        raise MigrateRefused(
            f"The sealed file of an item of case {blob['case_id']} is missing from the vault ({path}); nothing "
            "was copied. Restore the vault folder from a backup, or run the bot on SQLite once (it reports "
            "which item) and delete that item, then migrate."
        )
    with open(path, "rb") as f:
        while data := await asyncio.to_thread(f.read, ROW_BYTES):
            digest.update(data)
            await conn.execute(
                "INSERT INTO blob_chunks (blob_id, seq, data) VALUES (%s, %s, %s)", (blob["blob_id"], seq, data)
            )
            seq += 1
    await conn.execute("UPDATE blobs SET chunks = %s, complete = TRUE WHERE blob_id = %s", (seq, blob["blob_id"]))
    return digest.hexdigest()


def _blob_digest(dest: PostgresStorage, case_id: str, blob_id: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with dest.vault.open_blob(case_id, blob_id) as f:
        while data := f.read(ROW_BYTES):
            digest.update(data)
            size += len(data)
    return digest.hexdigest(), size


async def _verify(
    source: SqliteStorage, dest: PostgresStorage, sums: dict[str, str], report: MigrateReport
) -> list[str]:
    problems = []
    conn = await dest.conns.dedicated()
    try:
        for table in TABLES:
            names, rows = await _sqlite_table(source, table)
            copied = await _pg_table(conn, table, names)
            if len(copied) != len(rows):
                problems.append(f"{table}: {len(rows)} row(s) in SQLite, {len(copied)} in PostgreSQL")
            elif _rows_digest(rows, names) != _rows_digest(copied, names):
                problems.append(f"{table}: the rows differ")
        cur = await conn.execute("SELECT case_id, blob_id FROM blobs ORDER BY blob_id")
        blobs = await cur.fetchall()
    finally:
        await conn.close()
    if len(blobs) != len(sums):
        problems.append(f"blobs: {len(sums)} vault file(s), {len(blobs)} blob(s) in PostgreSQL")
    for blob in blobs:
        digest, size = await asyncio.to_thread(_blob_digest, dest, blob["case_id"], blob["blob_id"])
        report.blob_bytes += size
        if sums.get(blob["blob_id"]) != digest:
            problems.append(f"blob {blob['blob_id']}: its bytes differ from the vault file")
    return problems


async def _check_items(dest: PostgresStorage, report: MigrateReport) -> list[str]:
    """Open the copy as the bot would: every seal, and every item decrypted against its hash."""
    problems = [
        f"case {case_id}: item(s) {nos} fail their seal" for case_id, nos in (await dest.verify_records()).items()
    ]
    async with dest.conns.connection() as db, db.execute("SELECT DISTINCT case_id FROM evidence") as cur:
        case_ids = [r["case_id"] async for r in cur]
    for case_id in case_ids:
        case = await dest.case_by_id(case_id)
        if case is None:
            continue
        key = await dest.case_key(case)
        for record in await dest.evidence_records(case):
            item = record.item
            state = await asyncio.to_thread(dest.vault.check, case.id, key, item.blob_id, item.sha256)
            report.items_checked += 1
            if state.value != "ok":
                problems.append(f"case {case_id} item E-{item.no:03d}: {state.value}")
    return problems


async def migrate_to_postgres(
    source: SqliteStorage, url: str, *, say: Callable[[str], None] = lambda _: None
) -> MigrateReport:
    """Copy ``source`` into the empty database at ``url``; MigrateRefused if it is not empty or
    the copy does not verify. The destination opens with the source's master key."""
    dest = await PostgresStorage.open(url, source.data_dir, keys=source.keys)
    try:
        held = await _is_empty(dest)
        if held:
            raise MigrateRefused(
                f"The PostgreSQL database already holds data ({held}); migrate copies into an empty database "
                "only, so it never mixes two instances or runs twice. Point --to at a new, empty database."
            )
        report = MigrateReport()
        say("copying (one transaction: if anything fails, the database stays empty)...")
        conn = await dest.conns.dedicated()
        try:
            sums = await _copy(source, conn, report)
        finally:
            await conn.close()
        say("verifying counts and hashes...")
        problems = await _verify(source, dest, sums, report)
        problems += await _check_items(dest, report)
        if problems:
            raise MigrateRefused(
                "The copy does not match the source: "
                + "; ".join(problems[:10])
                + ". Nothing was changed in SQLite. Empty the PostgreSQL database before trying again."
            )
        return report
    finally:
        await dest.close()


async def run(
    url: str,
    data_dir: Any,
    master_key: str | None,
    *,
    key_file: Any = None,
    key_in_data_dir: bool = False,
    say: Callable[[str], None] = print,
) -> int:
    """The command: 0 done and verified, 1 refused or not verified, 2 cannot start. Messages
    never repeat the URL (it may hold a password)."""
    from storage.crypto import MasterKeyError

    if not url.startswith(("postgresql://", "postgres://")):
        say("--to must be a PostgreSQL URL starting with postgresql://")
        return 2
    if not (data_dir / "shouhu.db").exists():
        say(f"There is no SQLite instance to copy in {data_dir} (no shouhu.db). Set SHOUHU_DATA_DIR.")
        return 2
    try:
        source = await SqliteStorage.open(data_dir, master_key, key_file=key_file, key_in_data_dir=key_in_data_dir)
    except MasterKeyError as exc:
        say(str(exc))
        return 2
    try:
        report = await migrate_to_postgres(source, url, say=say)
    except MigrateRefused as exc:
        say(str(exc))
        return 1
    except (MasterKeyError, OSError) as exc:  # StorageUnavailable is an OSError
        say(f"PostgreSQL: {exc}")
        return 2
    finally:
        await source.close()
    say(
        "copied and verified: "
        + ", ".join(f"{n} {table}" for table, n in report.rows.items())
        + f", {report.blobs} sealed file(s) ({report.blob_bytes} bytes); {report.items_checked} item(s) "
        "decrypted and matched their receipts. Set SHOUHU_DATABASE_URL to use it; keep the SQLite data "
        "until you have checked the bot on PostgreSQL, then delete it."
    )
    return 0
