"""Encryption at rest for the Shouhu evidence vault.

Everything a victim sends is stored encrypted. This module is the only place
that touches keys or ciphertext; it implements no cipher itself and uses the
``cryptography`` package (AES-256-GCM, HKDF-SHA256) for every primitive.

Key hierarchy
=============

* **Master key** (32 bytes): from the environment variable
  ``SHOUHU_MASTER_KEY`` or a key file outside the data directory; see
  ``storage.masterkey``. Losing the master key makes every case unreadable:
  back it up.
* **Case key** (32 random bytes, :func:`new_case_key`): one per case, stored
  only wrapped by the master key (:func:`wrap_key` / :func:`unwrap_key`).
* **File key**: derived per encrypted object from the case key and a random
  per-object salt (see below); never stored.

Wrapped case key format (64 bytes)
==================================

::

    b"SHK1" (4) || nonce (12, random) || AES-256-GCM(master, nonce,
        plaintext = case_key (32), aad = b"shouhu/v1/wrap\\x00" || UTF-8(case_id))
        = ciphertext (32) || tag (16)

The AAD binds the wrapped key to its case id: a wrapped key copied to another
case, or unwrapped with another master key, fails with :class:`IntegrityError`.

The SHK2 format (what storage writes since schema version 2) is the same with
``b"SHK2"`` and ``aad = b"shouhu/v2/wrap\\x00" || I2OSP(len(case), 4) || case
|| I2OSP(len(chat), 4) || chat`` (both UTF-8; ``chat`` the chat id in decimal):
a case pointed at another chat no longer opens.

Encrypted object format ("SHV1", used for files and for sealed small values)
============================================================================

A STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015), as used by
age and Tink::

    header  = b"SHV1" (4) || salt (16, random per object)
    body    = chunk_0 || chunk_1 || ... || chunk_n       (n >= 0)
    chunk_i = AES-256-GCM ciphertext of plaintext piece P_i || tag (16)

* ``file_key = HKDF-SHA256(ikm=case_key, salt=salt,
  info=b"shouhu/v1/file\\x00" || context, length=32)``.
* Plaintext is cut into pieces of ``CHUNK_SIZE`` = 65536 bytes; every piece
  except the last is exactly 65536 bytes, so every chunk except the last is
  exactly 65552 bytes on disk. The last piece holds 1..65536 bytes, or is
  empty only when the whole plaintext is empty (then there is exactly one
  chunk: 16 bytes, the tag alone). An encoder must not emit an empty last
  chunk after a full one; a decoder rejects it, so each plaintext has exactly
  one valid encoding shape.
* ``nonce_i = I2OSP(i, 11) || last_flag`` (12 bytes): an 11-byte big-endian
  chunk counter starting at 0, then ``0x01`` for the last chunk and ``0x00``
  for every other.
* ``aad_i = b"SHV1" || I2OSP(len(context), 4) || context || nonce_i``: the
  associated data binds the context (the caller's case id + item id), the
  chunk index and the last-chunk flag.

Decoding: check the magic; derive the file key; read chunks of 65552 bytes.
A chunk that is followed by more data is decrypted with flag 0; the chunk
that ends the file (16..65552 bytes) is decrypted with flag 1. Any failure
(bad magic, short header, chunk shorter than a tag, tag mismatch, empty last
chunk after chunk 0) means the object was modified, truncated, reordered,
extended, or the key or context is wrong, and raises :class:`IntegrityError`.

Because each chunk is authenticated on its own, :func:`decrypt_chunks` yields
plaintext before it has seen the end of the file; truncation is detected only
at the end. A caller must consume the whole iterator (for example into a
temporary file) before trusting or showing any of the output.

Context
=======

``context`` is caller-chosen bytes that names what an object *is*, e.g.
``b"case=<case_id>\\x00item=<item_id>"``. It must be an unambiguous encoding
(no two different (case, item) pairs may give the same bytes) and stable:
the same context is needed to decrypt. Ciphertext moved to another item or
another case fails to decrypt.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "CHUNK_SIZE",
    "CryptoError",
    "IntegrityError",
    "MasterKeyError",
    "StreamEncryptor",
    "decrypt_chunks",
    "new_case_key",
    "open_sealed",
    "seal",
    "unwrap_key",
    "wrap_key",
]

log = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
"""Plaintext bytes per chunk (every chunk but the last is exactly this long)."""

KEY_SIZE = 32
MAGIC = b"SHV1"
SALT_SIZE = 16
HEADER_SIZE = len(MAGIC) + SALT_SIZE
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
_COUNTER_SIZE = 11
_MAX_CHUNKS = 1 << (8 * _COUNTER_SIZE)
_LAST = b"\x01"
_NOT_LAST = b"\x00"
_FILE_INFO = b"shouhu/v1/file\x00"

WRAP_MAGIC = b"SHK1"
_WRAP_NONCE_SIZE = 12
WRAPPED_KEY_SIZE = len(WRAP_MAGIC) + _WRAP_NONCE_SIZE + KEY_SIZE + TAG_SIZE
_WRAP_AAD = b"shouhu/v1/wrap\x00"
WRAP_MAGIC_V2 = b"SHK2"
_WRAP_AAD_V2 = b"shouhu/v2/wrap\x00"


class CryptoError(Exception):
    """Base class for every error raised by this module."""


class IntegrityError(CryptoError):
    """Ciphertext or wrapped key failed authentication.

    It was tampered with, truncated, reordered or extended, or the key or
    context used to open it is not the one it was sealed with. No plaintext
    from the failing chunk is ever returned.
    """


class MasterKeyError(CryptoError):
    """The master key is misconfigured; the message tells an operator what to do."""


# --------------------------------------------------------------------------
# Case keys
# --------------------------------------------------------------------------


def _check_key(key: bytes, what: str) -> None:
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
        raise ValueError(f"{what} must be {KEY_SIZE} bytes")


def new_case_key() -> bytes:
    """Return a fresh random 32-byte case data key."""
    return os.urandom(KEY_SIZE)


def _wrap_aad(case_id: str, chat_id: int | None) -> bytes:
    if not isinstance(case_id, str):
        raise TypeError("case_id must be a str")
    if chat_id is None:
        return _WRAP_AAD + case_id.encode("utf-8")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        raise TypeError("chat_id must be an int")
    case = case_id.encode("utf-8")
    chat = str(chat_id).encode("ascii")
    return _WRAP_AAD_V2 + len(case).to_bytes(4, "big") + case + len(chat).to_bytes(4, "big") + chat


def wrap_key(master: bytes, case_id: str, case_key: bytes, *, chat_id: int | None = None) -> bytes:
    """Encrypt ``case_key`` under ``master``, bound to ``case_id`` (and, in the SHK2 format,
    to ``chat_id`` too); 64 bytes out."""
    _check_key(master, "master key")
    _check_key(case_key, "case key")
    nonce = os.urandom(_WRAP_NONCE_SIZE)
    sealed = AESGCM(bytes(master)).encrypt(nonce, bytes(case_key), _wrap_aad(case_id, chat_id))
    return (WRAP_MAGIC if chat_id is None else WRAP_MAGIC_V2) + nonce + sealed


def unwrap_key(master: bytes, case_id: str, wrapped: bytes, *, chat_id: int | None = None) -> bytes:
    """Recover a case key; :class:`IntegrityError` on wrong master, case id, chat or damage.
    An SHK2 key opens only with the chat it was bound to; an SHK1 key ignores ``chat_id``."""
    _check_key(master, "master key")
    wrapped = bytes(wrapped)
    if len(wrapped) != WRAPPED_KEY_SIZE or not wrapped.startswith((WRAP_MAGIC, WRAP_MAGIC_V2)):
        raise IntegrityError("wrapped case key is malformed")
    if wrapped.startswith(WRAP_MAGIC_V2):
        if chat_id is None:
            raise IntegrityError("this wrapped case key is bound to a chat; give its chat_id")
        aad = _wrap_aad(case_id, chat_id)
    else:
        aad = _wrap_aad(case_id, None)
    nonce = wrapped[len(WRAP_MAGIC) : len(WRAP_MAGIC) + _WRAP_NONCE_SIZE]
    try:
        return AESGCM(bytes(master)).decrypt(nonce, wrapped[len(WRAP_MAGIC) + _WRAP_NONCE_SIZE :], aad)
    except InvalidTag:
        raise IntegrityError("cannot unwrap case key: wrong master key, wrong case or chat, or damaged data") from None


# --------------------------------------------------------------------------
# Streaming encryption (SHV1)
# --------------------------------------------------------------------------


def _file_aead(case_key: bytes, context: bytes, salt: bytes) -> AESGCM:
    _check_key(case_key, "case key")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_SIZE,
        salt=salt,
        info=_FILE_INFO + context,
    )
    return AESGCM(hkdf.derive(bytes(case_key)))


def _check_context(context: bytes) -> bytes:
    if not isinstance(context, (bytes, bytearray)):
        raise TypeError("context must be bytes")
    if len(context) >= 1 << 32:
        raise ValueError("context is too long")
    return bytes(context)


def _nonce_and_aad(context: bytes, index: int, last: bool) -> tuple[bytes, bytes]:
    if index >= _MAX_CHUNKS:
        raise CryptoError("too many chunks")
    nonce = index.to_bytes(_COUNTER_SIZE, "big") + (_LAST if last else _NOT_LAST)
    aad = MAGIC + len(context).to_bytes(4, "big") + context + nonce
    return nonce, aad


class StreamEncryptor:
    """Feed plaintext in any pieces; get ciphertext bytes out. Used while streaming a download.

    ``update()`` returns ciphertext ready to append to the output (the header
    on the first call, then whole chunks as they fill up; possibly ``b""``).
    ``finalize()`` returns the last chunk and must be called exactly once.
    At most one plaintext chunk is buffered, whatever the input piece sizes.
    The output is only valid once ``finalize()``'s bytes have been written.
    """

    def __init__(self, case_key: bytes, context: bytes):
        self._context = _check_context(context)
        salt = os.urandom(SALT_SIZE)
        self._aead = _file_aead(case_key, self._context, salt)
        self._header: bytes | None = MAGIC + salt
        self._buf = bytearray()
        self._index = 0
        self._finalized = False

    def _seal_chunk(self, piece: bytes | bytearray, last: bool) -> bytes:
        nonce, aad = _nonce_and_aad(self._context, self._index, last)
        self._index += 1
        return self._aead.encrypt(nonce, bytes(piece), aad)

    def _take_header(self) -> list[bytes]:
        header, self._header = self._header, None
        return [header] if header is not None else []

    def update(self, data: bytes) -> bytes:
        """Add plaintext; return the ciphertext that is ready (header first time)."""
        if self._finalized:
            raise CryptoError("StreamEncryptor is already finalized")
        out = self._take_header()
        view = memoryview(data).cast("B")
        pos = 0
        while pos < len(view):
            if len(self._buf) == CHUNK_SIZE:
                # More plaintext follows, so the buffered chunk is not the last.
                out.append(self._seal_chunk(self._buf, last=False))
                self._buf.clear()
            take = min(CHUNK_SIZE - len(self._buf), len(view) - pos)
            self._buf += view[pos : pos + take]
            pos += take
        return b"".join(out)

    def finalize(self) -> bytes:
        """Return the remaining ciphertext: the last chunk (flag 1), header if not yet sent."""
        if self._finalized:
            raise CryptoError("StreamEncryptor is already finalized")
        self._finalized = True
        out = self._take_header()
        out.append(self._seal_chunk(self._buf, last=True))
        self._buf = bytearray()
        return b"".join(out)


def _read_exact(fileobj: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes, stopping short only at end of file."""
    parts = []
    remaining = n
    while remaining > 0:
        part = fileobj.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def decrypt_chunks(case_key: bytes, context: bytes, fileobj: BinaryIO) -> Iterator[bytes]:
    """Yields plaintext chunks read from a binary file object.

    Raises :class:`IntegrityError` on any problem, including truncation at the
    end (so a caller must consume the whole iterator before trusting it). Each
    yielded chunk has itself been authenticated; memory use is about one chunk.
    """
    context = _check_context(context)
    header = _read_exact(fileobj, HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
        raise IntegrityError("not a Shouhu encrypted object (bad or missing SHV1 header)")
    aead = _file_aead(case_key, context, header[len(MAGIC) :])

    index = 0
    # One byte of look-ahead tells whether the current chunk is the last one.
    pending = _read_exact(fileobj, ENCRYPTED_CHUNK_SIZE + 1)
    while True:
        last = len(pending) <= ENCRYPTED_CHUNK_SIZE
        if last:
            chunk, pending = pending, b""
            if len(chunk) < TAG_SIZE:
                raise IntegrityError(f"encrypted object is truncated (chunk {index})")
            if len(chunk) == TAG_SIZE and index > 0:
                raise IntegrityError(f"encrypted object has an empty final chunk {index}")
        else:
            chunk = pending[:ENCRYPTED_CHUNK_SIZE]
            rest = pending[ENCRYPTED_CHUNK_SIZE:]
        nonce, aad = _nonce_and_aad(context, index, last)
        try:
            plaintext = aead.decrypt(nonce, chunk, aad)
        except InvalidTag:
            raise IntegrityError(
                f"chunk {index} failed authentication: the object was modified, "
                "truncated, reordered or extended, or the key or context is wrong"
            ) from None
        if last:
            if plaintext:
                yield plaintext
            return
        yield plaintext
        index += 1
        pending = rest + _read_exact(fileobj, ENCRYPTED_CHUNK_SIZE)


# --------------------------------------------------------------------------
# Small values
# --------------------------------------------------------------------------


def seal(case_key: bytes, context: bytes, plaintext: bytes) -> bytes:
    """Encrypt a small value (caption, note) in memory, in the SHV1 format."""
    enc = StreamEncryptor(case_key, context)
    return enc.update(plaintext) + enc.finalize()


def open_sealed(case_key: bytes, context: bytes, blob: bytes) -> bytes:
    """Decrypt a value made by :func:`seal`; :class:`IntegrityError` on any problem."""
    return b"".join(decrypt_chunks(case_key, context, io.BytesIO(blob)))
