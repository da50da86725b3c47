"""The SQLite schema, as migrations: one list of statements per version, applied in order.

``PRAGMA user_version`` holds the version reached. Each version runs in one transaction with
its statements executed one by one (never a script split on ``;``, which would break on a
``;`` inside a string or a trigger). A step that needs keys (sealing what was stored in the
clear) is a function given the connection and the keyring, run between the statements. Add a
version at the end; never edit one that shipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiosqlite

from storage.sealing import Keyring, RowSealer

DataStep = Callable[[aiosqlite.Connection, Keyring], Awaitable[None]]
Step = str | DataStep


async def seal_evidence_rows(db: aiosqlite.Connection, keys: Keyring) -> None:
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
        """,
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
        """,
        """
        CREATE TABLE chat_messages (
            case_id    TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL,
            at         TEXT NOT NULL,
            PRIMARY KEY (case_id, message_id)
        )
        """,
        """
        CREATE TABLE updates (
            update_id   INTEGER PRIMARY KEY,
            payload     BLOB,
            received_at TEXT NOT NULL,
            handled_at  TEXT
        )
        """,
    ],  # 2: the stored record bound under the case key; no bare hash, no cross-bot file id in the clear
    [
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
        """,
        seal_evidence_rows,
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
        "DROP TABLE evidence",
        "ALTER TABLE evidence_v2 RENAME TO evidence",
    ],
    # 3: the case record: what features keep beside the evidence (harassment log, facts,
    #    filings, reminders, witness invitations), each a sealed JSON body under the case key
    [
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
        """,
        "CREATE INDEX records_due ON records (due_at) WHERE due_at IS NOT NULL",
        "CREATE UNIQUE INDEX records_lookup ON records (kind, lookup) WHERE lookup IS NOT NULL",
    ],
    # 4: a record may hold a vault file (a witness's upload waiting for the victim's decision): the
    #    sweep at start keeps it, and deleting the record removes it. Blob ids are random and name
    #    nothing, like the vault's file names, so the column is not sealed.
    ["ALTER TABLE records ADD COLUMN blob_id TEXT"],
]
