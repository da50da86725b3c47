"""Rotate the master key: ``python bot.py rotate-key`` (stop the bot first).

What is sealed under the master key is re-sealed under a new one in ONE SQLite transaction:
every wrapped case key (``cases.wrapped_key``, still bound to its case and chat), every update
waiting in the journal (``updates.payload``), the key-check value, and the lookup key (kept, so
invitation tokens already stored still match). The case keys themselves do not change, so no
evidence file, sealed field or record body is rewritten: a rotation takes seconds whatever the
size of the vault. After the commit the WAL is checkpointed and truncated (with
``secure_delete`` on, the old wrapped keys are overwritten in the database file).

Refusals, so that a database is never left half-rotated or unopenable:
* another connection has the database open (the bot, a backup, a shell): the rotation takes
  SQLite's exclusive lock or does nothing;
* the current key does not open the database, or the schema is not the current one;
* any case key or journaled update does not open under the current key (a damaged row): the
  whole transaction is rolled back and the rows are named.

Where the new key comes from, and what survives a crash at any moment:
* key file (the default): a new random key is written to ``master.key.new`` (0600, fsynced)
  *before* the database changes, and moved over ``master.key`` after the commit. The bot
  refuses to start while ``.new`` exists; running ``rotate-key`` again looks at which key opens
  the database and either finishes (moves ``.new`` into place) or undoes (removes ``.new``,
  the database was not changed) and rotates afresh.
* ``SHOUHU_MASTER_KEY``: the operator gives the new key as ``SHOUHU_NEW_MASTER_KEY``; the
  database changes atomically, then SHOUHU_MASTER_KEY must be set to the new key. Running it
  again after a crash says which of the two keys the database now needs.

Backups made before a rotation still need the old key: keep it as long as such backups are
kept, and no longer. A rotation does not help against someone who already copied the database
together with the old key: they hold the case keys (see docs/SECURITY.md).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

from storage import crypto
from storage.crypto import KEY_SIZE, MasterKeyError
from storage.masterkey import (
    MASTER_KEY_ENV,
    KeySource,
    decode_key,
    pending_key_file,
    read_key_file,
    write_new_key_file,
)
from storage.schema import MIGRATIONS
from storage.sealing import Keyring

log = logging.getLogger(__name__)

NEW_KEY_ENV = "SHOUHU_NEW_MASTER_KEY"
DB_NAME = "shouhu.db"


class RotationError(Exception):
    """The rotation did not happen (nothing changed); the message says why and what to do."""


@dataclass
class RotationReport:
    cases: int = 0
    journal: int = 0
    finished_earlier: bool = False  # an interrupted rotation was completed, nothing re-sealed now
    wal_truncated: bool = True
    notes: list[str] = field(default_factory=list)


def rotate_master_key(data_dir: Path, source: KeySource, *, new_key: bytes | None = None) -> RotationReport:
    """Re-seal everything under the master key with a new key (see the module docstring).

    ``new_key`` is required when the key comes from SHOUHU_MASTER_KEY (``source.env_value``);
    with a key file, a fresh random key is made unless one is given.
    """
    db_path = Path(data_dir) / DB_NAME
    if not db_path.exists():
        raise RotationError(f"There is no database at {db_path}: nothing to rotate.")
    if new_key is not None and len(new_key) != KEY_SIZE:
        raise RotationError("The new master key must be 32 bytes.")
    if source.env_value is not None:
        return _rotate_env(db_path, source, new_key)
    return _rotate_file(db_path, source.key_file.expanduser(), new_key)


# ----------------------------------------------------------------------------- where the keys live


def _rotate_env(db_path: Path, source: KeySource, new_key: bytes | None) -> RotationReport:
    old = decode_key(source.env_value or "")
    if old is None:
        raise RotationError(f"{MASTER_KEY_ENV} is not base64 of 32 bytes; fix it first.")
    if new_key is None:
        raise RotationError(
            f"The master key comes from {MASTER_KEY_ENV}: give the new one as {NEW_KEY_ENV} (base64 of 32 "
            "bytes), run rotate-key, then set SHOUHU_MASTER_KEY to it."
        )
    if new_key == old:
        raise RotationError(f"{NEW_KEY_ENV} is the key in use; generate a new one.")
    with _exclusive(db_path) as db:
        if _opens(db, Keyring(new_key)) and not _opens(db, Keyring(old)):
            report = RotationReport(finished_earlier=True)
            report.notes.append(f"The database is already sealed under {NEW_KEY_ENV}; set {MASTER_KEY_ENV} to it.")
            return report
        report = _reseal(db, Keyring(old), Keyring(new_key))
    report.notes.append(f"Now set {MASTER_KEY_ENV} to the value of {NEW_KEY_ENV} before starting the bot.")
    return report


def _rotate_file(db_path: Path, key_file: Path, new_key: bytes | None) -> RotationReport:
    if not key_file.exists():
        raise RotationError(f"The master key file {key_file} does not exist: nothing to rotate from.")
    try:
        old = read_key_file(key_file)
    except MasterKeyError as exc:
        raise RotationError(str(exc)) from None
    pending = pending_key_file(key_file)
    with _exclusive(db_path) as db:
        if pending.exists():
            try:
                staged = read_key_file(pending)
            except MasterKeyError as exc:
                raise RotationError(f"{exc} It was left by an interrupted rotation; see docs/SECURITY.md.") from None
            if _opens(db, Keyring(staged)):  # the database was rotated; the file move was not done
                _move_into_place(pending, key_file)
                report = RotationReport(finished_earlier=True)
                report.notes.append(f"Finished an interrupted rotation: {key_file} now holds the new key.")
                return report
            if not _opens(db, Keyring(old)):
                raise RotationError(
                    f"Neither {key_file} nor {pending} opens the database in {db_path.parent}. Restore the "
                    "key file from your backup."
                )
            pending.unlink()  # the database never changed: that rotation is undone
            log.info("an interrupted rotation had not changed the database; starting again")
        if not _opens(db, Keyring(old)):
            raise RotationError(f"The key in {key_file} does not open the database in {db_path.parent}.")
        new = new_key or os.urandom(KEY_SIZE)
        write_new_key_file(pending, new)
        if read_key_file(pending) != new:  # someone else's file appeared there meanwhile
            raise RotationError(f"{pending} holds another key than the one just made; nothing was changed.")
        try:
            report = _reseal(db, Keyring(old), Keyring(new))
        except BaseException:
            pending.unlink(missing_ok=True)  # rolled back: the old key still opens everything
            raise
        _move_into_place(pending, key_file)
    report.notes.append(
        f"{key_file} now holds the new key; back it up now. Backups made before this still need the old key."
    )
    return report


def _move_into_place(pending: Path, key_file: Path) -> None:
    os.replace(pending, key_file)  # atomic on one file system
    fd = os.open(key_file.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- the database


class _exclusive:
    """The database opened by this process alone (SQLite's exclusive locking mode): another
    connection open anywhere makes it refuse, and none can open it meanwhile."""

    def __init__(self, path: Path):
        self.path = path
        self.db: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        try:
            db.execute("PRAGMA secure_delete=ON")
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("BEGIN EXCLUSIVE")
            db.execute("COMMIT")
        except sqlite3.OperationalError:
            db.close()
            raise RotationError(
                f"The database {self.path} is in use by another program (the bot, a backup, a shell). Stop it, "
                "then run rotate-key again. Nothing was changed."
            ) from None
        self.db = db
        return db

    def __exit__(self, *exc: object) -> None:
        assert self.db is not None
        self.db.close()


def _opens(db: sqlite3.Connection, keys: Keyring) -> bool:
    row = db.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
    return bool(row) and keys.opens_key_check(row[0])


def _reseal(db: sqlite3.Connection, old: Keyring, new: Keyring) -> RotationReport:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != len(MIGRATIONS):
        raise RotationError(
            f"The database is at schema version {version}, not {len(MIGRATIONS)}: start the bot once with the "
            "current key (it upgrades the database), stop it, then rotate."
        )
    lookup = db.execute("SELECT value FROM meta WHERE name = 'lookup_key'").fetchone()
    if lookup:
        old.use_lookup_key(lookup[0])
    report = RotationReport()
    bad_cases: list[str] = []
    bad_updates: list[int] = []
    db.execute("BEGIN EXCLUSIVE")
    try:
        for case_id, chat_id, wrapped in db.execute("SELECT id, chat_id, wrapped_key FROM cases").fetchall():
            try:
                case_key = old.unwrap(case_id, chat_id, wrapped)
            except crypto.IntegrityError:
                bad_cases.append(case_id)
                continue
            db.execute("UPDATE cases SET wrapped_key = ? WHERE id = ?", (new.wrap(case_id, chat_id, case_key), case_id))
            report.cases += 1
        rows = db.execute("SELECT update_id, payload FROM updates WHERE payload IS NOT NULL").fetchall()
        for update_id, payload in rows:
            try:
                opened = old.open_journal(update_id, payload)
            except crypto.IntegrityError:
                bad_updates.append(update_id)
                continue
            db.execute(
                "UPDATE updates SET payload = ? WHERE update_id = ?", (new.seal_journal(update_id, opened), update_id)
            )
            report.journal += 1
        if bad_cases or bad_updates:
            raise RotationError(
                "Some rows do not open under the current key, so nothing was rotated: "
                + "; ".join(
                    part
                    for part in (
                        f"case(s) {', '.join(bad_cases)}" if bad_cases else "",
                        f"journaled update(s) {', '.join(map(str, bad_updates))}" if bad_updates else "",
                    )
                    if part
                )
                + ". Start the bot once (it reports and drops damaged journal rows) or restore the rows from a "
                "backup, then rotate."
            )
        db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('key_check', ?)", (new.key_check(),))
        db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('lookup_key', ?)", (old.lookup_key_for(new),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    report.wal_truncated = not (busy and busy[0])
    return report


def cli(data_dir: Path, source: KeySource, env: dict[str, str]) -> int:
    """``python bot.py rotate-key``: 0 rotated (or an interrupted rotation finished), 2 refused."""
    new_key = None
    if env.get(NEW_KEY_ENV, "").strip():
        new_key = decode_key(env[NEW_KEY_ENV])
        if new_key is None:
            print(f"{NEW_KEY_ENV} must be base64 of 32 bytes.", file=sys.stderr)
            return 2
    try:
        report = rotate_master_key(data_dir, source, new_key=new_key)
    except RotationError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not report.finished_earlier:
        print(f"Rotated: {report.cases} case key(s) and {report.journal} journaled update(s) sealed under the new key.")
    if not report.wal_truncated:
        print("The write-ahead log could not be emptied; old wrapped keys may remain in it until the bot's next start.")
    for note in report.notes:
        print(note)
    return 0
