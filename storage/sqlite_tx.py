"""One update's work: the ``Transaction`` the engine sees (``flows.model.CaseStore``).

Written in the SQL that SQLite and PostgreSQL share (``?`` and ``:name`` parameters, ``ON
CONFLICT DO NOTHING``, no ``LIMIT -1``), so PostgreSQL runs this same code through
``storage.pg_compat``, which speaks the slice of the connection API used here (``storage.sqlite_conn``). Rows are read by
column name (``sqlite3.Row``, or ``pg_compat.Row``). Whatever a victim wrote (caption, note, the
file's name) is sealed under the case key, bound to its case, item and field, before it is
written. Files leave the vault only after the rows that named them are committed.
"""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.model import Awaiting, Case, EvidenceItem, StagedFile
from storage import crypto
from storage.base import CaseKey, EvidenceVault, StoredEvidence, Transaction
from storage.sealing import Keyring, RowSealer
from storage.sqlite_conn import Connection

NO_LIMIT = 2**63 - 1  # LIMIT -1 is SQLite's alone; both take the largest BIGINT
DELETABLE_FOR = timedelta(hours=47)  # Telegram lets a bot delete its messages for 48 hours
COLUMNS = (
    "case_id, no, blob_id, kind, category, size, mime, extension, received_at, message_date, dup_key, "
    "sha256_sealed, file_unique_id, caption, note, filename, seal"
)


def now() -> datetime:
    return datetime.now(UTC)


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


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


class SqliteTx(Transaction):
    """Lives for one ``transaction()`` block. ``after_commit`` runs once the rows are committed
    (files leave the vault then); ``after_rollback`` removes files written for rows that never
    committed."""

    def __init__(self, db: Connection, vault: EvidenceVault, keys: Keyring, clock: Callable[[], datetime] = now):
        self.db = db
        self.vault = vault
        self.keys = keys
        self.clock = clock
        self.after_commit: list[Callable[[], Awaitable[None]]] = []
        self.after_rollback: list[Callable[[], Awaitable[None]]] = []
        self.deleted = False  # something was deleted: old pages must leave the WAL
        self.wiped: bool | None = None
        self._keys: dict[str, bytes] = {}
        self._sealers: dict[str, RowSealer] = {}

    # Reads are one call each (``execute_fetchall``): on PostgreSQL a round trip, on SQLite inline.
    async def _one(self, sql: str, params: Sequence = ()) -> sqlite3.Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Sequence = ()) -> list[sqlite3.Row]:
        return list(await self.db.execute_fetchall(sql, params))

    # -------------------------------------------------------------- cases

    async def case(self, key: CaseKey, locale: str, start: str) -> Case:
        row = await self._one("SELECT id, locale, node, ticks, awaiting FROM cases WHERE chat_id = ?", (key.chat_id,))
        if row:
            return Case(
                row["id"],
                key.chat_id,
                row["locale"],
                row["node"],
                set(json.loads(row["ticks"])),
                Awaiting.decode(row["awaiting"]),
            )
        case_id = secrets.token_hex(16)
        case_key, wrapped = self.keys.new_case_key(case_id, key.chat_id)
        t = iso(self.clock())
        await self.db.execute(
            "INSERT INTO cases (id, chat_id, locale, node, wrapped_key, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
            (case_id, key.chat_id, locale, start, wrapped, t, t),
        )
        self._keys[case_id] = case_key
        return Case(case_id, key.chat_id, locale, start)

    async def case_key(self, case: Case) -> bytes:
        if case.id not in self._keys:
            row = await self._one("SELECT wrapped_key FROM cases WHERE id = ?", (case.id,))
            if row is None:
                raise LookupError("no such case")
            self._keys[case.id] = self.keys.unwrap(case.id, case.chat_id, row["wrapped_key"])
        return self._keys[case.id]

    async def save_case(self, case: Case) -> None:
        """Where the person is in the guide: light (``Connection.light``). A new case's row and
        key were written by ``case()``, durably."""
        if case.deleted:
            return
        with self.db.light():
            await self._save_case(case)

    async def _save_case(self, case: Case) -> None:
        await self.db.execute(
            "UPDATE cases SET locale = ?, node = ?, ticks = ?, awaiting = ?, updated_at = ? WHERE id = ?",
            (
                case.locale,  # /language's choice outlives the update that made it
                case.node,
                json.dumps(sorted(case.ticks)),
                case.awaiting.encode() if case.awaiting else None,
                iso(self.clock()),
                case.id,
            ),
        )

    async def record_messages(self, key: CaseKey, message_ids: Sequence[int]) -> None:
        if not message_ids:  # a button press brings no message of the user's
            return
        t = iso(self.clock())
        with self.db.light():  # as the ids of the bot's own messages (SqliteStorage.record_sent)
            await self.db.executemany(
                "INSERT INTO chat_messages (case_id, message_id, at) SELECT id, ?, ? FROM cases WHERE chat_id = ? "
                "ON CONFLICT DO NOTHING",
                [(mid, t, key.chat_id) for mid in message_ids],
            )

    async def case_delete(self, case: Case) -> list[int]:
        """Everything of the case goes: rows, the wrapped key, the vault folder (after commit)."""
        cutoff = iso(self.clock() - DELETABLE_FOR)
        rows = await self._all(
            "SELECT message_id FROM chat_messages WHERE case_id = ? AND at >= ? ORDER BY message_id", (case.id, cutoff)
        )
        ids = [r["message_id"] for r in rows]
        await self.db.execute("DELETE FROM cases WHERE id = ?", (case.id,))  # cascades
        self._keys.pop(case.id, None)
        self._sealers.pop(case.id, None)
        self.after_commit.append(lambda: self.vault.remove_case(case.id))
        self.deleted = True
        return ids

    # -------------------------------------------------------------- evidence

    async def sealer(self, case: Case) -> RowSealer:
        if case.id not in self._sealers:
            self._sealers[case.id] = RowSealer(case.id, case.chat_id, await self.case_key(case))
        return self._sealers[case.id]

    @staticmethod
    def _item(sealer: RowSealer, row: sqlite3.Row) -> StoredEvidence:
        """The item a row holds; ``intact`` False if a sealed field or the row's seal fails
        (the row was changed, or copied from another item, case or chat)."""
        no, intact = row["no"], True

        def opened(column: str, field: str) -> str:
            nonlocal intact
            try:
                return sealer.open_field(no, field, row[column])
            except crypto.IntegrityError:
                intact = False
                return ""

        sha = opened("sha256_sealed", "sha256")
        note, caption, filename = opened("note", "note"), opened("caption", "caption"), opened("filename", "filename")
        intact = intact and sealer.check(row, sha)
        item = EvidenceItem(
            no,
            row["kind"],
            row["category"],
            row["size"],
            sha,
            datetime.fromisoformat(row["received_at"]),
            row["mime"],
            row["extension"],
            note=note,
            caption=caption,
            message_date=datetime.fromisoformat(row["message_date"]) if row["message_date"] else None,
            blob_id=row["blob_id"],
        )
        return StoredEvidence(item, filename=filename, intact=intact)

    async def records(
        self, case: Case, offset: int = 0, limit: int = -1, no: int | None = None
    ) -> list[StoredEvidence]:
        """Items in order of their number (or item ``no``), with what only the export needs."""
        params: tuple[str | int, ...]
        if no is None:
            sql, params = (
                f"SELECT {COLUMNS} FROM evidence WHERE case_id = ? ORDER BY no LIMIT ? OFFSET ?",
                (case.id, limit if limit >= 0 else NO_LIMIT, offset),
            )
        else:
            sql, params = f"SELECT {COLUMNS} FROM evidence WHERE case_id = ? AND no = ?", (case.id, no)
        rows = await self._all(sql, params)
        if not rows:
            return []
        sealer = await self.sealer(case)
        return [self._item(sealer, r) for r in rows]

    async def integrity_problems(self) -> AsyncIterator[tuple[str, list[int]]]:
        """(case id, item numbers failing their seal) for every case with a problem; [0] for a
        case whose key does not open for its chat. Two queries, whatever the number of cases."""
        sealers: dict[str, RowSealer | None] = {}
        async with self.db.execute("SELECT id, chat_id, wrapped_key FROM cases") as cur:
            async for r in cur:
                try:
                    sealers[r["id"]] = RowSealer(
                        r["id"], r["chat_id"], self.keys.unwrap(r["id"], r["chat_id"], r["wrapped_key"])
                    )
                except crypto.IntegrityError:
                    sealers[r["id"]] = None
        bad: dict[str, list[int]] = {cid: [0] for cid, sealer in sealers.items() if sealer is None}
        async with self.db.execute(f"SELECT {COLUMNS} FROM evidence ORDER BY case_id, no") as cur:
            async for row in cur:
                sealer = sealers.get(row["case_id"])
                if sealer is not None and not self._item(sealer, row).intact:
                    bad.setdefault(row["case_id"], []).append(row["no"])
        for item in sorted(bad.items()):
            yield item

    async def evidence_count(self, case: Case) -> int:
        row = await self._one("SELECT COUNT(*) AS n FROM evidence WHERE case_id = ?", (case.id,))
        return row["n"] if row else 0

    async def evidence_bytes(self, case: Case) -> int:
        row = await self._one("SELECT COALESCE(SUM(size), 0) AS n FROM evidence WHERE case_id = ?", (case.id,))
        return int(row["n"]) if row else 0  # PostgreSQL's SUM of a BIGINT is a NUMERIC

    async def evidence_page(self, case: Case, offset: int, limit: int) -> list[EvidenceItem]:
        return [r.item for r in await self.records(case, offset, limit)]

    async def evidence_get(self, case: Case, no: int) -> EvidenceItem | None:
        found = await self.records(case, no=no)
        return found[0].item if found else None

    async def _by_hash(self, case: Case, sha: str) -> EvidenceItem | None:
        dup = (await self.sealer(case)).duplicate_key(sha)
        row = await self._one("SELECT no FROM evidence WHERE case_id = ? AND dup_key = ?", (case.id, dup))
        return await self.evidence_get(case, row["no"]) if row else None

    async def evidence_add(self, case: Case, staged: StagedFile) -> tuple[EvidenceItem, bool]:
        """Commit a staged file as the next item; the same bytes twice return the first item.
        The file may already be held by a record (a witness's upload being accepted): then a
        rollback leaves it to that record instead of removing it."""
        self.after_rollback.append(lambda: self._remove_unclaimed(case.id, staged.blob_id))
        existing = await self._by_hash(case, staged.sha256)
        if existing:
            self.after_commit.append(lambda: self.vault.remove(case.id, staged.blob_id))
            return existing, True
        sealer = await self.sealer(case)
        found = await self._one("SELECT next_no FROM cases WHERE id = ?", (case.id,))
        if found is None:
            raise LookupError("no such case")
        no = found["next_no"]
        await self.db.execute("UPDATE cases SET next_no = next_no + 1 WHERE id = ?", (case.id,))
        row: dict[str, object] = {
            "case_id": case.id,
            "no": no,
            "blob_id": staged.blob_id,
            "kind": staged.kind,
            "category": None,
            "size": staged.size,
            "mime": staged.mime or "application/octet-stream",
            "extension": extension_for(staged.kind, staged.mime, staged.filename),
            "received_at": iso(self.clock()),
            "message_date": iso(staged.message_date) if staged.message_date else None,
            "dup_key": sealer.duplicate_key(staged.sha256),
            "sha256_sealed": sealer.seal_field(no, "sha256", staged.sha256),
            "file_unique_id": sealer.seal_field(no, "file_unique_id", staged.file_unique_id),
            "caption": sealer.seal_field(no, "caption", staged.caption),
            "note": None,
            "filename": sealer.seal_field(no, "filename", staged.filename),
        }
        row["seal"] = sealer.seal(row, staged.sha256)
        await self.db.execute(
            f"INSERT INTO evidence ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
        )
        item = await self.evidence_get(case, no)
        assert item is not None  # just inserted, same transaction
        return item, False

    async def evidence_add_text(self, case: Case, text: str, *, caption: str = "") -> tuple[EvidenceItem, bool]:
        key = await self.case_key(case)
        blob_id, path, sha, size = await self.vault.write_bytes(case.id, key, text.encode("utf-8"))
        staged = StagedFile(
            blob_id,
            path,
            sha,
            size,
            "testimony",
            "text/plain; charset=utf-8",
            caption=caption,
            message_date=self.clock(),
            case_id=case.id,
        )
        return await self.evidence_add(case, staged)

    async def discard_staged(self, staged: StagedFile) -> None:
        """A staged file this update does not keep: removed once the update is over, either way."""
        if not staged.case_id:
            raise ValueError("a staged file without its case cannot be discarded")
        self.after_commit.append(lambda: self.vault.remove(staged.case_id, staged.blob_id))
        self.after_rollback.append(lambda: self.vault.remove(staged.case_id, staged.blob_id))

    async def _remove_unclaimed(self, case_id: str, blob_id: str) -> None:
        """Remove a vault file unless a committed row (an item or a record) still names it."""
        claimed = await self._one(
            "SELECT 1 FROM evidence WHERE case_id = ? AND blob_id = ? "
            "UNION ALL SELECT 1 FROM records WHERE case_id = ? AND blob_id = ?",
            (case_id, blob_id, case_id, blob_id),
        )
        if claimed is None:
            await self.vault.remove(case_id, blob_id)

    async def _change(self, case: Case, no: int, column: str, value: object) -> bool:
        """Change one column of an item and seal the row again, if it was intact: a row changed
        behind the bot's back keeps its broken seal whatever the user does next."""
        row = await self._one(f"SELECT {COLUMNS} FROM evidence WHERE case_id = ? AND no = ?", (case.id, no))
        if row is None:
            return False
        sealer = await self.sealer(case)
        record = self._item(sealer, row)
        changed = {k: row[k] for k in row.keys()} | {column: value}  # noqa: SIM118 - a Row iterates values
        seal = sealer.seal(changed, record.item.sha256) if record.intact else row["seal"]
        await self.db.execute(
            f"UPDATE evidence SET {column} = ?, seal = ? WHERE case_id = ? AND no = ?", (value, seal, case.id, no)
        )
        return True

    async def evidence_set_category(self, case: Case, no: int, category: str) -> bool:
        return await self._change(case, no, "category", category)

    async def evidence_set_note(self, case: Case, no: int, note: str) -> bool:
        return await self._change(case, no, "note", (await self.sealer(case)).seal_field(no, "note", note))

    async def evidence_delete(self, case: Case, no: int) -> bool:
        row = await self._one("SELECT blob_id FROM evidence WHERE case_id = ? AND no = ?", (case.id, no))
        if not row:
            return False
        blob_id = row["blob_id"]
        await self.db.execute("DELETE FROM evidence WHERE case_id = ? AND no = ?", (case.id, no))
        self.after_commit.append(lambda: self.vault.remove(case.id, blob_id))
        self.deleted = True
        return True

    # -------------------------------------------------------------- the case record

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
        row = await self._one(
            "SELECT COALESCE(MAX(rid), 0) + 1 AS rid FROM records WHERE case_id = ? AND kind = ?", (case.id, kind)
        )
        rid = int(row["rid"]) if row else 1
        sealer = await self.sealer(case)
        t = iso(self.clock())
        if blob_id:  # a staged file this record now holds: gone again if the update rolls back
            self.after_rollback.append(lambda: self._remove_unclaimed(case.id, blob_id))
        await self.db.execute(
            "INSERT INTO records (case_id, kind, rid, body, due_at, lookup, blob_id, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (
                case.id,
                kind,
                rid,
                sealer.seal_record(kind, rid, _encode(body)),
                iso(due_at) if due_at else None,
                self.keys.lookup(kind, lookup) if lookup else None,
                blob_id,
                t,
                t,
            ),
        )
        return rid

    async def record_find(self, kind: str, token: str) -> tuple[Case, int] | None:
        row = await self._one(
            "SELECT c.id, c.chat_id, c.locale, c.node, c.ticks, c.awaiting, r.rid FROM records r "
            "JOIN cases c ON c.id = r.case_id WHERE r.kind = ? AND r.lookup = ?",
            (kind, self.keys.lookup(kind, token)),
        )
        if row is None:
            return None
        case = Case(
            row["id"],
            row["chat_id"],
            row["locale"],
            row["node"],
            set(json.loads(row["ticks"])),
            Awaiting.decode(row["awaiting"]),
        )
        return case, int(row["rid"])

    async def record_put(self, case: Case, kind: str, rid: int, body: dict, *, due_at: datetime | None = None) -> bool:
        sealer = await self.sealer(case)
        cur = await self.db.execute(
            "UPDATE records SET body = ?, due_at = ?, updated_at = ? WHERE case_id = ? AND kind = ? AND rid = ?",
            (
                sealer.seal_record(kind, rid, _encode(body)),
                iso(due_at) if due_at else None,
                iso(self.clock()),
                case.id,
                kind,
                rid,
            ),
        )
        return cur.rowcount > 0

    async def record_get(self, case: Case, kind: str, rid: int) -> dict | None:
        row = await self._one(
            "SELECT body FROM records WHERE case_id = ? AND kind = ? AND rid = ?", (case.id, kind, rid)
        )
        if row is None:
            return None
        return json.loads((await self.sealer(case)).open_record(kind, rid, row["body"]))

    async def record_list(self, case: Case, kind: str) -> list[tuple[int, dict]]:
        sealer = await self.sealer(case)
        rows = await self._all(
            "SELECT rid, body FROM records WHERE case_id = ? AND kind = ? ORDER BY rid", (case.id, kind)
        )
        return [(r["rid"], json.loads(sealer.open_record(kind, r["rid"], r["body"]))) for r in rows]

    async def record_delete(self, case: Case, kind: str, rid: int) -> bool:
        """The record goes, and the vault file it held (after commit), unless an evidence item
        now holds that file (a witness's upload accepted into the case)."""
        row = await self._one(
            "SELECT blob_id FROM records WHERE case_id = ? AND kind = ? AND rid = ?", (case.id, kind, rid)
        )
        if row is None:
            return False
        await self.db.execute("DELETE FROM records WHERE case_id = ? AND kind = ? AND rid = ?", (case.id, kind, rid))
        blob_id = row["blob_id"]
        if blob_id:
            self.after_commit.append(lambda: self._remove_unclaimed(case.id, blob_id))
        self.deleted = True
        return True


def _encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
