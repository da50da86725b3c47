"""The SQLite schema, as migrations: one list of statements per version, applied in order.

``PRAGMA user_version`` holds the version reached. Each version runs in one transaction with
its statements executed one by one (never a script split on ``;``, which would break on a
``;`` inside a string or a trigger). Add a version at the end; never edit one that shipped.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
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
    ],
]
