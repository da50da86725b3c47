"""What a test needs to reach behind either storage backend: open it again, change a row, find
and damage a sealed blob, and flush everything to the files an attacker with the disk would read.
The tests say what they check once; these helpers say how on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from storage.base import Storage
from storage.sqlite import SqliteStorage
from tests.conftest import MASTER_KEY


async def open_backend(data_dir: Path, database_url: str | None, master_key: str | None = MASTER_KEY, **kw) -> Storage:
    if database_url is None:
        return await SqliteStorage.open(data_dir, master_key, **kw)
    from storage.postgres import PostgresStorage

    return await PostgresStorage.open(database_url, data_dir, master_key, **kw)


def url_of(storage: Storage) -> str | None:
    return None if isinstance(storage, SqliteStorage) else storage.conns.url  # type: ignore[attr-defined]


async def reopen(storage: Storage, **kw) -> Storage:
    """The same data opened again, as the next start would (the caller closes it)."""
    return await open_backend(storage.tmp_dir.parent, url_of(storage), **kw)


async def db_run(storage: Storage, sql: str, params=()) -> list:
    """Run one statement straight on the database behind ``storage`` (committed), in SQLite's
    words (``?`` parameters): how a test changes a row behind the bot's back on either backend."""
    if isinstance(storage, SqliteStorage):
        cur = await storage.db.execute(sql, params)
        rows = list(await cur.fetchall())
        await storage.db.commit()
        return rows
    async with storage.conns.connection() as db:  # type: ignore[attr-defined]
        cur = await db.execute(sql, params)
        return list(await cur.fetchall())


async def blob_ids(storage: Storage) -> list[str]:
    """Every sealed blob the vault holds, committed or not."""
    if isinstance(storage, SqliteStorage):
        return sorted(p.stem for p in (storage.data_dir / "vault").rglob("*.bin"))
    return sorted(r[0] for r in await db_run(storage, "SELECT blob_id FROM blobs"))


async def vault_contents(storage: Storage) -> list[str]:
    """Everything the vault holds: committed blobs, temp files, half-written blobs."""
    if isinstance(storage, SqliteStorage):
        return sorted(str(f) for f in (storage.data_dir / "vault").rglob("*") if f.is_file())
    return sorted(r[0] for r in await db_run(storage, "SELECT blob_id FROM blobs"))


async def blob_bytes(storage: Storage, blob_id: str) -> bytes:
    if isinstance(storage, SqliteStorage):
        (path,) = (storage.data_dir / "vault").rglob(f"{blob_id}.bin")
        return path.read_bytes()
    rows = await db_run(storage, "SELECT data FROM blob_chunks WHERE blob_id = ? ORDER BY seq", (blob_id,))
    return b"".join(bytes(r[0]) for r in rows)


async def set_blob_bytes(storage: Storage, blob_id: str, data: bytes) -> None:
    """Replace a sealed blob's bytes behind the bot's back."""
    if isinstance(storage, SqliteStorage):
        (path,) = (storage.data_dir / "vault").rglob(f"{blob_id}.bin")
        path.write_bytes(data)
        return
    await db_run(storage, "DELETE FROM blob_chunks WHERE blob_id = ?", (blob_id,))
    await db_run(storage, "INSERT INTO blob_chunks (blob_id, seq, data) VALUES (?, 0, ?)", (blob_id, data))
    await db_run(storage, "UPDATE blobs SET chunks = 1 WHERE blob_id = ?", (blob_id,))


async def make_unreadable(storage: Storage, case_id: str, blob_id: str) -> None:
    """An error on read that is not damage: SQLite, even as root, the file's name now holds a
    folder (EISDIR); PostgreSQL, the blob is no longer complete (a missing file's equivalent)."""
    if isinstance(storage, SqliteStorage):
        path = storage.vault.path(case_id, blob_id)
        path.unlink()
        path.mkdir()
        return
    await db_run(storage, "UPDATE blobs SET complete = FALSE WHERE blob_id = ?", (blob_id,))


async def wal_checkpoint(storage: SqliteStorage, mode: str = "TRUNCATE") -> None:
    """A checkpoint taken in turn with the bot's own statements (its one connection must not
    run two at once: a reply being recorded meanwhile would find the table locked)."""
    async with storage._write:
        await storage.db.execute(f"PRAGMA wal_checkpoint({mode})")


async def at_rest(storage: Storage) -> Path:
    """Flush what the database holds to its files, and return the folder holding them all: the
    data dir (SQLite: database, WAL and vault) or the PostgreSQL cluster (tables and WAL)."""
    if isinstance(storage, SqliteStorage):
        await wal_checkpoint(storage)
        return storage.data_dir
    await db_run(storage, "CHECKPOINT")
    ((folder,),) = await db_run(storage, "SHOW data_directory")
    return Path(folder)
