"""What binds the stored record, behind one object per key.

``Keyring`` holds the master key (storage classes hold it, never the raw key, and nothing
reads another object's key attribute): it wraps case keys bound to their case *and chat*, and
seals the update journal.

``RowSealer`` holds one case key and binds each evidence row: an HMAC-SHA256 over a canonical
encoding of everything the row says (case, chat, item number, blob, kind, category, size,
SHA-256, MIME, extension, times, and a hash of each sealed field) under a key derived from the
case key. Someone who can write the database but has no master key cannot swap files, hashes,
times or categories between items, or move an item or a case elsewhere, without the seal
failing. Duplicates are found by an HMAC of the SHA-256 under the case key, so the database
holds no bare hash that would confirm a known file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage import crypto

ROW_SEAL_VERSION = "shouhu/row-seal/v1"
SEALED_FIELDS = ("sha256_sealed", "file_unique_id", "caption", "note", "filename")


class Keyring:
    def __init__(self, master: bytes):
        if len(master) != crypto.KEY_SIZE:
            raise ValueError("the master key must be 32 bytes")
        self._master = master
        self._lookup_key = _derive(master, b"shouhu/v1/record-lookup")

    def new_case_key(self, case_id: str, chat_id: int) -> tuple[bytes, bytes]:
        """A fresh case key and its wrapped form (to store), bound to case and chat."""
        key = crypto.new_case_key()
        return key, crypto.wrap_key(self._master, case_id, key, chat_id=chat_id)

    def unwrap(self, case_id: str, chat_id: int, wrapped: bytes, *, legacy_ok: bool = False) -> bytes:
        """IntegrityError if this master key did not wrap it, or it belongs to another case or
        chat. A key in the old format (bound to the case only) opens only with ``legacy_ok``
        (the start-up check and the migration that rewraps it)."""
        if not legacy_ok and not bytes(wrapped).startswith(crypto.WRAP_MAGIC_V2):
            raise crypto.IntegrityError("a case key in the old format after the upgrade: the row was replaced")
        return crypto.unwrap_key(self._master, case_id, wrapped, chat_id=chat_id)

    def wrap(self, case_id: str, chat_id: int, case_key: bytes) -> bytes:
        """An existing case key wrapped under this master key (a rotation: the case key, and so
        every file and sealed field under it, stays the same)."""
        return crypto.wrap_key(self._master, case_id, case_key, chat_id=chat_id)

    _LOOKUP_CONTEXT = b"shouhu/lookup-key"

    def lookup_key_for(self, other: Keyring) -> bytes:
        """This keyring's lookup key sealed under ``other``'s master key: after a rotation the
        keyed hashes already stored (invitation tokens) must still be found."""
        return crypto.seal(other._master, self._LOOKUP_CONTEXT, self._lookup_key)

    def use_lookup_key(self, sealed: bytes) -> None:
        """Adopt the lookup key a rotation kept (``meta.lookup_key``); IntegrityError if it was
        not sealed under this master key."""
        self._lookup_key = crypto.open_sealed(self._master, self._LOOKUP_CONTEXT, sealed)

    def rewrap(self, case_id: str, chat_id: int, wrapped: bytes) -> bytes:
        """An old-format wrapped key, wrapped again bound to its chat."""
        key = crypto.unwrap_key(self._master, case_id, wrapped)
        return crypto.wrap_key(self._master, case_id, key, chat_id=chat_id)

    _KEY_CHECK = b"shouhu/key-check"

    def lookup(self, kind: str, token: str) -> bytes:
        """A keyed hash of a secret someone presents (an invitation token): the database holds
        this, never the token, and it finds the record without knowing the case."""
        return hmac.new(self._lookup_key, f"{kind}:{token}".encode(), hashlib.sha256).digest()

    def chat_tag(self, chat_id: int) -> int:
        """A chat's name in the update journal: a signed 64-bit keyed hash of its id (under the
        lookup key, which a key rotation keeps), so rows of one chat are found together while
        the database alone does not say which chat they are."""
        return int.from_bytes(self.lookup("journal-chat", str(chat_id))[:8], "big", signed=True)

    def key_check(self) -> bytes:
        """A value only this master key opens: tells a wrong key from a changed row at start."""
        return crypto.seal(self._master, self._KEY_CHECK, b"shouhu")

    def opens_key_check(self, blob: bytes) -> bool:
        try:
            return crypto.open_sealed(self._master, self._KEY_CHECK, blob) == b"shouhu"
        except crypto.IntegrityError:
            return False

    @staticmethod
    def _journal_context(update_id: int) -> bytes:
        return f"shouhu/journal/{update_id}".encode()

    def seal_journal(self, update_id: int, payload: bytes) -> bytes:
        return crypto.seal(self._master, self._journal_context(update_id), payload)

    def open_journal(self, update_id: int, blob: bytes) -> bytes:
        return crypto.open_sealed(self._master, self._journal_context(update_id), blob)


class Columns(Protocol):
    """A row by column name: a ``sqlite3.Row`` or a dict about to be written."""

    def __getitem__(self, key: str, /) -> Any: ...


def _derive(case_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(case_key)


def field_context(case_id: str, no: int, field: str) -> bytes:
    return f"shouhu/row/{case_id}/{no}/{field}".encode()


def record_context(case_id: str, kind: str, rid: int) -> bytes:
    return f"shouhu/record/{case_id}/{kind}/{rid}".encode()


class RowSealer:
    """The seals of one case's evidence rows (built from its case key)."""

    def __init__(self, case_id: str, chat_id: int, case_key: bytes):
        self.case_id = case_id
        self.chat_id = chat_id
        self.case_key = case_key
        self._mac_key = _derive(case_key, b"shouhu/v1/row-seal")
        self._dup_key = _derive(case_key, b"shouhu/v1/duplicate")

    def duplicate_key(self, sha256_hex: str) -> bytes:
        return hmac.new(self._dup_key, sha256_hex.encode("ascii"), hashlib.sha256).digest()

    def seal_field(self, no: int, field: str, text: str) -> bytes | None:
        return crypto.seal(self.case_key, field_context(self.case_id, no, field), text.encode()) if text else None

    def open_field(self, no: int, field: str, blob: bytes | None) -> str:
        """IntegrityError if the blob was changed or belongs to another item or field."""
        return crypto.open_sealed(self.case_key, field_context(self.case_id, no, field), blob).decode() if blob else ""

    def seal(self, row: Columns, sha256_hex: str) -> bytes:
        """The row's seal: ``row`` holds its stored columns, ``sha256_hex`` the opened hash."""
        canonical = [
            ROW_SEAL_VERSION,
            self.case_id,
            self.chat_id,
            row["no"],
            row["blob_id"],
            row["kind"],
            row["category"],
            row["size"],
            sha256_hex,
            row["mime"],
            row["extension"],
            row["received_at"],
            row["message_date"],
            *[hashlib.sha256(row[f]).hexdigest() if row[f] else None for f in SEALED_FIELDS],
        ]
        encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return hmac.new(self._mac_key, encoded, hashlib.sha256).digest()

    def seal_record(self, kind: str, rid: int, body: bytes) -> bytes:
        """A case record's body: AEAD under the case key, bound to case, kind and number."""
        return crypto.seal(self.case_key, record_context(self.case_id, kind, rid), body)

    def open_record(self, kind: str, rid: int, blob: bytes) -> bytes:
        """IntegrityError if the body was changed or moved from another case, kind or number."""
        return crypto.open_sealed(self.case_key, record_context(self.case_id, kind, rid), blob)

    def check(self, row: Columns, sha256_hex: str) -> bool:
        return bool(row["seal"]) and hmac.compare_digest(self.seal(row, sha256_hex), bytes(row["seal"]))
