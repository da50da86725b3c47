"""The master key's jobs, behind one object: wrapping case keys and sealing the journal.

Storage classes hold a ``Keyring``, never the raw master key, and nothing reads another
object's key attribute.
"""

from __future__ import annotations

from storage import crypto


class Keyring:
    def __init__(self, master: bytes):
        if len(master) != crypto.KEY_SIZE:
            raise ValueError("the master key must be 32 bytes")
        self._master = master

    def new_case_key(self, case_id: str) -> tuple[bytes, bytes]:
        """A fresh case key and its wrapped form (to store)."""
        key = crypto.new_case_key()
        return key, crypto.wrap_key(self._master, case_id, key)

    def unwrap(self, case_id: str, wrapped: bytes) -> bytes:
        """IntegrityError if this master key did not wrap it, or it belongs to another case."""
        return crypto.unwrap_key(self._master, case_id, wrapped)

    @staticmethod
    def _journal_context(update_id: int) -> bytes:
        return f"shouhu/journal/{update_id}".encode()

    def seal_journal(self, update_id: int, payload: bytes) -> bytes:
        return crypto.seal(self._master, self._journal_context(update_id), payload)

    def open_journal(self, update_id: int, blob: bytes) -> bytes:
        return crypto.open_sealed(self._master, self._journal_context(update_id), blob)
