"""The schema of both backends, as migrations: one list of steps per version, applied in order.

SQLite keeps the version reached in ``PRAGMA user_version``, PostgreSQL in ``schema_version``.
Each version runs in one transaction with its statements executed one by one (never a script
split on ``;``, which would break on a ``;`` inside a string or a trigger). A step is

* a string: the same statement in both dialects;
* ``Sql(sqlite=..., postgresql=...)``: the statement as each dialect says it ("" where a dialect
  has nothing to do); ``typed(...)`` derives the PostgreSQL form of a ``CREATE TABLE`` written
  for SQLite by naming its two column types the way PostgreSQL does (``INTEGER`` -> ``BIGINT``:
  Telegram ids pass 2**31; ``BLOB`` -> ``BYTEA``), so the table is written once;
* a function given the connection and the keyring (sealing what was stored in the clear), run
  between the statements through the SQL both dialects share (``storage.pg_compat``).

Add a version at the end; never edit one that shipped (the SQLite form of every shipped
statement is exactly the text it always was).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from storage.sealing import Keyring, RowSealer

Dialect = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class Sql:
    """One statement as each dialect says it; "" where a dialect has nothing to do."""

    sqlite: str
    postgresql: str

    def for_dialect(self, dialect: Dialect) -> str:
        return self.sqlite if dialect == "sqlite" else self.postgresql


_PG_TYPES = {"INTEGER": "BIGINT", "BLOB": "BYTEA"}


def typed(statement: str) -> Sql:
    """A ``CREATE TABLE`` written for SQLite, and the same table with PostgreSQL's type names."""
    return Sql(statement, re.sub(r"\b(INTEGER|BLOB)\b", lambda m: _PG_TYPES[m.group(1)], statement))


DataStep = Callable[[Any, Keyring], Awaitable[None]]  # a storage.sqlite_conn.Connection or storage.pg_compat.PgDb
Step = str | Sql | DataStep


def statement(step: str | Sql, dialect: Dialect) -> str:
    return step if isinstance(step, str) else step.for_dialect(dialect)


async def seal_evidence_rows(db: Any, keys: Keyring) -> None:
    """Version 2: every case key rewrapped bound to its chat; every evidence row copied into
    the new table with its hash and file_unique_id sealed, its duplicate key and its seal."""
    async with db.execute("SELECT id, chat_id, wrapped_key FROM cases") as cur:
        cases = await cur.fetchall()
    for case in cases:
        wrapped = keys.rewrap(case["id"], case["chat_id"], case["wrapped_key"])
        await db.execute("UPDATE cases SET wrapped_key = ? WHERE id = ?", (wrapped, case["id"]))
        sealer = RowSealer(case["id"], case["chat_id"], keys.unwrap(case["id"], case["chat_id"], wrapped))
        async with db.execute("SELECT * FROM evidence WHERE case_id = ? ORDER BY no", (case["id"],)) as cur:
            rows = await cur.fetchall()
        for old in rows:
            row = {
                k: old[k]
                for k in (
                    "case_id",
                    "no",
                    "blob_id",
                    "kind",
                    "category",
                    "size",
                    "mime",
                    "extension",
                    "received_at",
                    "message_date",
                    "caption",
                    "note",
                    "filename",
                )
            }
            row["sha256_sealed"] = sealer.seal_field(old["no"], "sha256", old["sha256"])
            row["file_unique_id"] = sealer.seal_field(old["no"], "file_unique_id", old["file_unique_id"] or "")
            row["dup_key"] = sealer.duplicate_key(old["sha256"])
            row["seal"] = sealer.seal(row, old["sha256"])
            await db.execute(
                f"INSERT INTO evidence_v2 ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
            )


MIGRATIONS: list[list[Step]] = [
    # 1: the foundation and the evidence locker
    [
        typed(
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
        )
        """
        ),
        typed(
            """
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
        )
        """
        ),
        typed(
            """
        CREATE TABLE chat_messages (
            case_id    TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL,
            at         TEXT NOT NULL,
            PRIMARY KEY (case_id, message_id)
        )
        """
        ),
        typed(
            """
        CREATE TABLE updates (
            update_id   INTEGER PRIMARY KEY,
            payload     BLOB,
            received_at TEXT NOT NULL,
            handled_at  TEXT
        )
        """
        ),
    ],  # 2: the stored record bound under the case key; no bare hash, no cross-bot file id in the clear
    [
        typed(
            """
        CREATE TABLE evidence_v2 (
            case_id        TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            no             INTEGER NOT NULL,
            blob_id        TEXT NOT NULL UNIQUE,
            kind           TEXT NOT NULL,
            category       TEXT,
            size           INTEGER NOT NULL,
            mime           TEXT NOT NULL,
            extension      TEXT NOT NULL,
            received_at    TEXT NOT NULL,
            message_date   TEXT,
            dup_key        BLOB NOT NULL,
            sha256_sealed  BLOB NOT NULL,
            file_unique_id BLOB,
            caption        BLOB,
            note           BLOB,
            filename       BLOB,
            seal           BLOB NOT NULL,
            PRIMARY KEY (case_id, no),
            UNIQUE (case_id, dup_key)
        )
        """
        ),
        seal_evidence_rows,
        typed("CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)"),
        "DROP TABLE evidence",
        "ALTER TABLE evidence_v2 RENAME TO evidence",
    ],
    # 3: the case record: what features keep beside the evidence (harassment log, facts,
    #    filings, reminders, witness invitations), each a sealed JSON body under the case key
    [
        typed(
            """
        CREATE TABLE records (
            case_id    TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            kind       TEXT NOT NULL,
            rid        INTEGER NOT NULL,
            body       BLOB NOT NULL,
            due_at     TEXT,
            lookup     BLOB,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (case_id, kind, rid)
        )
        """
        ),
        "CREATE INDEX records_due ON records (due_at) WHERE due_at IS NOT NULL",
        "CREATE UNIQUE INDEX records_lookup ON records (kind, lookup) WHERE lookup IS NOT NULL",
    ],  # 4: sealed evidence inside the database (PostgreSQL: one system to back up). SQLite keeps
    #    its sealed files in the vault folder and has nothing to do. A blob's chunks are the bytes
    #    of the sealed file (storage.crypto's STREAM format) in order, cut where they arrived;
    #    EXTERNAL storage: ciphertext does not compress, so PostgreSQL should not try.
    [
        Sql(
            "",
            """
            CREATE TABLE blobs (
                blob_id    TEXT PRIMARY KEY,
                case_id    TEXT NOT NULL,
                size       BIGINT NOT NULL DEFAULT 0,
                chunks     INTEGER NOT NULL DEFAULT 0,
                complete   BOOLEAN NOT NULL DEFAULT FALSE,
                created_at TEXT NOT NULL
            )
            """,
        ),
        Sql("", "CREATE INDEX blobs_case ON blobs (case_id)"),
        Sql(
            "",
            """
            CREATE TABLE blob_chunks (
                blob_id TEXT NOT NULL REFERENCES blobs(blob_id) ON DELETE CASCADE,
                seq     INTEGER NOT NULL,
                data    BYTEA NOT NULL,
                PRIMARY KEY (blob_id, seq)
            )
            """,
        ),
        Sql("", "ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL"),
    ],
    # 5: a record may hold a vault file (a witness's upload waiting for the victim's decision): the
    #    sweep at start keeps it, and deleting the record removes it. Blob ids are random and name
    #    nothing, like the vault's file names, so the column is not sealed.
    ["ALTER TABLE records ADD COLUMN blob_id TEXT"],
    # 6: several workers on one database take the journal as their queue, a chat at a time: each
    #    row names its chat by a keyed hash (``Keyring.chat_tag``), never the chat id, so a copy
    #    of the database does not tell which chats wrote in the last two days.
    [
        Sql("ALTER TABLE updates ADD COLUMN chat_tag INTEGER", "ALTER TABLE updates ADD COLUMN chat_tag BIGINT"),
        "CREATE INDEX updates_waiting ON updates (chat_tag, update_id) WHERE handled_at IS NULL",
    ],
]
