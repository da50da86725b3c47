"""The evidence vault inside PostgreSQL: sealed files as rows of chunks, so a clinic backs up
one system.

A blob is the exact byte stream ``storage.vault.LocalVault`` would write to a file (the STREAM
format of ``storage.crypto``, bound to case and blob id), cut into rows of ``blob_chunks`` of
about ``ROW_BYTES`` in order. The same bytes in both backends is what lets ``bot.py migrate``
copy sealed files without opening them, and the export read either one the same way.

* ``ingest`` streams: one chunk of plaintext in, its ciphertext written as a row in its own
  short transaction on the vault's writer connection (never the update's connection, which may
  be waiting on this very upload, and never one long transaction that would hold back VACUUM).
  Memory holds at most one row. The blob is marked ``complete`` at the end; on any failure its
  rows are deleted.
* ``open_blob``/``read`` block (the export calls them in a worker thread): a blocking
  connection of their own (kept for the next read, up to ``SYNC_IDLE_MAX``), one row fetched at
  a time.
* A blob whose evidence row never committed (a crash, or a rollback whose cleanup failed) is
  removed by ``sweep`` once it is older than ``ORPHAN_GRACE`` (another worker may be writing
  it right now). A case's blobs go in the same transaction as the case (``PgTx``).

The ``path`` that ``ingest`` returns is where a local vault would have put the file; nothing is
written there (``handlers.core.discard`` unlinks a path that does not exist: harmless), and a
caller that needs the bytes reads them through ``read``.

S3-compatible object storage would be a third ``EvidenceVault``: ``ingest`` as a multipart
upload of the same byte stream (parts of >= 5 MiB), ``read`` as ranged GETs, ``remove`` as
DELETE, ``sweep`` by listing a case's prefix; see docs/POSTGRES.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import secrets
import threading
from collections.abc import AsyncIterable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from storage.base import EvidenceVault
from storage.crypto import ENCRYPTED_CHUNK_SIZE, StreamEncryptor, decrypt_chunks
from storage.errors import EmptyFile, OverQuota, StorageUnavailable
from storage.pg_compat import Row
from storage.pg_connections import Connections, connect_blocking
from storage.sqlite_tx import iso, now
from storage.vault import blob_context

log = logging.getLogger(__name__)

ROW_BYTES = 4 * ENCRYPTED_CHUNK_SIZE  # about 256 KiB of ciphertext per row
SYNC_IDLE_MAX = 4
ORPHAN_GRACE = timedelta(hours=1)


class PostgresVault(EvidenceVault):
    def __init__(self, conns: Connections, tmp_dir: Path, clock: Callable[[], datetime] = now):
        self.conns = conns
        self.tmp_dir = tmp_dir
        self.clock = clock
        self._writer: psycopg.AsyncConnection[Row] | None = None
        self._writer_lock = asyncio.Lock()
        self._readers: list[psycopg.Connection[Row]] = []  # idle blocking connections for reads
        self._readers_lock = threading.Lock()

    def reader_connection(self) -> psycopg.Connection[Row]:
        with self._readers_lock:
            while self._readers:
                conn = self._readers.pop()
                if not conn.closed and not conn.broken:
                    return conn
        return connect_blocking(self.conns.url)

    def give_back(self, conn: psycopg.Connection[Row]) -> None:
        """Keep a connection whose read ended cleanly; close any other."""
        idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with self._readers_lock:
            if idle and not conn.closed and not conn.broken and len(self._readers) < SYNC_IDLE_MAX:
                self._readers.append(conn)
                return
        conn.close()

    async def _write(self, sql: str, params: tuple = ()) -> int:
        """One statement in its own transaction on the writer connection; rows affected."""
        async with self._writer_lock:
            if self._writer is None or self._writer.closed or self._writer.broken:
                self._writer = await self.conns.dedicated()
            try:
                cur = await self._writer.execute(sql, params)
            except psycopg.OperationalError as exc:
                raise StorageUnavailable(str(exc).strip()) from exc
            return cur.rowcount

    async def close(self) -> None:
        async with self._writer_lock:
            if self._writer is not None:
                await self._writer.close()
                self._writer = None
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()

    async def ingest(
        self, case_id: str, case_key: bytes, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> tuple[str, Path, str, int]:
        blob_id = secrets.token_hex(12)
        digest = hashlib.sha256()
        enc = StreamEncryptor(case_key, blob_context(case_id, blob_id))
        size, seq, pending = 0, 0, bytearray()
        await self._write(
            "INSERT INTO blobs (blob_id, case_id, created_at) VALUES (%s, %s, %s)",
            (blob_id, case_id, iso(self.clock())),
        )
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise OverQuota()
                digest.update(chunk)
                pending += enc.update(chunk)
                while len(pending) >= ROW_BYTES:
                    await self._row(blob_id, seq, bytes(pending[:ROW_BYTES]))
                    del pending[:ROW_BYTES]
                    seq += 1
            if size == 0:
                raise EmptyFile()
            pending += enc.finalize()
            await self._row(blob_id, seq, bytes(pending))
            seq += 1
            await self._write(
                "UPDATE blobs SET size = %s, chunks = %s, complete = TRUE WHERE blob_id = %s", (size, seq, blob_id)
            )
        except BaseException:
            try:
                await asyncio.shield(self._write("DELETE FROM blobs WHERE blob_id = %s", (blob_id,)))
            except Exception as exc:  # noqa: BLE001 - the sweep removes it later; the first error matters
                log.warning("a half-written blob stays until the sweep: %s", type(exc).__name__)
            raise
        return blob_id, self.tmp_dir / f".in-database-{blob_id}", digest.hexdigest(), size

    async def _row(self, blob_id: str, seq: int, data: bytes) -> None:
        await self._write("INSERT INTO blob_chunks (blob_id, seq, data) VALUES (%s, %s, %s)", (blob_id, seq, data))

    def open_blob(self, case_id: str, blob_id: str) -> io.BufferedReader:
        return io.BufferedReader(BlobReader(self, case_id, blob_id), buffer_size=ENCRYPTED_CHUNK_SIZE)

    def read(self, case_id: str, case_key: bytes, blob_id: str) -> Iterator[bytes]:
        with self.open_blob(case_id, blob_id) as f:
            yield from decrypt_chunks(case_key, blob_context(case_id, blob_id), f)

    async def remove(self, case_id: str, blob_id: str) -> None:
        await self._write("DELETE FROM blobs WHERE case_id = %s AND blob_id = %s", (case_id, blob_id))

    async def remove_case(self, case_id: str) -> None:
        await self._write("DELETE FROM blobs WHERE case_id = %s", (case_id,))

    async def sweep(self, known: dict[str, set[str]]) -> int:
        """Remove blobs no row claims, once older than ORPHAN_GRACE: a younger one may be an
        upload another worker is writing now."""
        cutoff = iso(self.clock() - ORPHAN_GRACE)
        sql = "SELECT case_id, blob_id FROM blobs WHERE created_at < ?"
        async with self.conns.connection() as db, db.execute(sql, (cutoff,)) as cur:
            old = [(r["case_id"], r["blob_id"]) async for r in cur]
        orphans = [(c, b) for c, b in old if b not in known.get(c, ())]
        for case_id, blob_id in orphans:
            await self.remove(case_id, blob_id)
        if orphans:
            log.info("swept %d orphaned blob(s) from the database", len(orphans))
        return len(orphans)


class BlobReader(io.RawIOBase):
    """A sealed blob as a binary file, one row in memory at a time (blocking)."""

    def __init__(self, vault: PostgresVault, case_id: str, blob_id: str):
        super().__init__()
        self._vault = vault
        self._conn: psycopg.Connection[Row] | None = vault.reader_connection()
        self._blob_id = blob_id
        self._seq = 0
        self._buf = memoryview(b"")
        row = self._query(
            "SELECT chunks FROM blobs WHERE blob_id = %s AND case_id = %s AND complete", (blob_id, case_id)
        )
        if row is None:
            self.close()
            raise FileNotFoundError(f"no sealed blob {blob_id} in the database")
        self._chunks: int = row["chunks"]

    def _query(self, sql: str, params: tuple) -> Row | None:
        assert self._conn is not None
        try:
            return self._conn.execute(sql, params).fetchone()  # type: ignore[arg-type] # our own, literal
        except psycopg.OperationalError as exc:
            self._conn.close()
            raise StorageUnavailable(str(exc).strip()) from exc

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._buf and self._seq < self._chunks:
            row = self._query(
                "SELECT data FROM blob_chunks WHERE blob_id = %s AND seq = %s", (self._blob_id, self._seq)
            )
            self._seq += 1
            if row is None:  # a row missing: the blob ends here, and decryption says DAMAGED
                self._seq = self._chunks
                break
            self._buf = memoryview(row["data"])
        n = min(len(view), len(self._buf))
        view[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._vault.give_back(conn)
        super().close()
