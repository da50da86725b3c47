"""Tests for storage/crypto.py: the evidence vault's encryption at rest."""

from __future__ import annotations

import io
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.crypto import (
    CHUNK_SIZE,
    CryptoError,
    IntegrityError,
    MasterKeyError,
    StreamEncryptor,
    decrypt_chunks,
    new_case_key,
    open_sealed,
    seal,
    unwrap_key,
    wrap_key,
)

C = CHUNK_SIZE
TAG = 16
HEADER = 20  # b"SHV1" + 16-byte salt
ENC = C + TAG
CASE_KEY = bytes(range(32))
CONTEXT = b"case=c-0001\x00item=i-0001"


def _plaintext(n: int) -> bytes:
    # Deterministic and non-repeating enough that swapped chunks differ.
    return (b"".join(i.to_bytes(4, "big") for i in range(n // 4 + 1)))[:n]


def _encrypt(plaintext: bytes, piece: int | None = None, key=CASE_KEY, context=CONTEXT) -> bytes:
    enc = StreamEncryptor(key, context)
    out = []
    piece = piece or max(len(plaintext), 1)
    for i in range(0, len(plaintext), piece):
        out.append(enc.update(plaintext[i : i + piece]))
    out.append(enc.finalize())
    return b"".join(out)


def _decrypt(blob: bytes, key=CASE_KEY, context=CONTEXT) -> bytes:
    return b"".join(decrypt_chunks(key, context, io.BytesIO(blob)))


def _chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER:]
    return blob[:HEADER], [body[i : i + ENC] for i in range(0, len(body), ENC)]


def _reference_decode(case_key: bytes, context: bytes, blob: bytes) -> bytes:
    """Independent decoder written from the module docstring only."""
    assert blob[:4] == b"SHV1"
    salt, body = blob[4:20], blob[20:]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"shouhu/v1/file\x00" + context).derive(case_key)
    pieces = [body[i : i + ENC] for i in range(0, len(body), ENC)] or [b""]
    out = []
    for i, chunk in enumerate(pieces):
        nonce = i.to_bytes(11, "big") + (b"\x01" if i == len(pieces) - 1 else b"\x00")
        aad = b"SHV1" + len(context).to_bytes(4, "big") + context + nonce
        out.append(AESGCM(key).decrypt(nonce, chunk, aad))
    return b"".join(out)


class ShortReads(io.RawIOBase):
    """A file that returns at most `limit` bytes per read and records request sizes."""

    def __init__(self, data: bytes, limit: int = 1000):
        self._buf = io.BytesIO(data)
        self._limit = limit
        self.max_request = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.max_request = max(self.max_request, n)
        return self._buf.read(min(n, self._limit))


# --------------------------------------------------------------------------
# Round trips and format
# --------------------------------------------------------------------------

SIZES = [0, 1, C - 1, C, C + 1, 3 * C + 5]


@pytest.mark.parametrize(
    ("size", "piece"),
    [(s, p) for s in SIZES for p in (13, 4099, C + 7, None)]
    + [(s, 1) for s in SIZES if s <= C + 1],  # 1-byte pieces: smaller sizes only (speed)
)
def test_round_trip_any_piece_sizes(size: int, piece: int | None) -> None:
    plaintext = _plaintext(size)
    blob = _encrypt(plaintext, piece)

    n_chunks = max(1, -(-size // C))  # the empty plaintext is one empty last chunk
    assert len(blob) == HEADER + size + n_chunks * TAG
    assert blob[:4] == b"SHV1"
    assert _decrypt(blob) == plaintext
    # The documented format is enough to write a decoder.
    assert _reference_decode(CASE_KEY, CONTEXT, blob) == plaintext


@pytest.mark.parametrize("size", SIZES)
def test_seal_round_trip_and_same_format(size: int) -> None:
    plaintext = _plaintext(size)
    blob = seal(CASE_KEY, CONTEXT, plaintext)
    assert open_sealed(CASE_KEY, CONTEXT, blob) == plaintext
    assert _reference_decode(CASE_KEY, CONTEXT, blob) == plaintext
    assert _decrypt(blob) == plaintext


def test_empty_plaintext_is_one_empty_last_chunk() -> None:
    blob = seal(CASE_KEY, CONTEXT, b"")
    assert len(blob) == HEADER + TAG
    assert open_sealed(CASE_KEY, CONTEXT, blob) == b""
    assert list(decrypt_chunks(CASE_KEY, CONTEXT, io.BytesIO(blob))) == []


def test_same_plaintext_encrypts_differently_each_time() -> None:
    assert seal(CASE_KEY, CONTEXT, b"hello") != seal(CASE_KEY, CONTEXT, b"hello")


def test_ciphertext_never_contains_plaintext_marker() -> None:
    marker = b"MARKER-13800138000-ZHANGSAN"
    plaintext = (marker + b" ") * ((3 * C) // (len(marker) + 1))
    for blob in (_encrypt(plaintext, 5000), seal(CASE_KEY, CONTEXT, marker)):
        assert marker not in blob
        assert marker[:8] not in blob
        assert CONTEXT not in blob and b"c-0001" not in blob  # context is not stored


def test_encryptor_buffers_at_most_one_chunk() -> None:
    enc = StreamEncryptor(CASE_KEY, CONTEXT)
    emitted = len(enc.update(b""))
    assert emitted == HEADER  # header comes out on the first update
    fed = 0
    for piece in (1, C - 1, 1, 2 * C + 3, 10):
        emitted += len(enc.update(b"x" * piece))
        fed += piece
        # Everything except the (possibly last) chunk still buffered is out.
        complete = -(-fed // C) - 1
        assert emitted == HEADER + complete * ENC
    emitted += len(enc.finalize())
    assert emitted == HEADER + fed + (-(-fed // C)) * TAG


def test_decrypt_reads_bounded_and_handles_short_reads() -> None:
    plaintext = _plaintext(3 * C + 5)
    f = ShortReads(_encrypt(plaintext), limit=999)
    out = []
    for chunk in decrypt_chunks(CASE_KEY, CONTEXT, f):
        assert 0 < len(chunk) <= C
        out.append(chunk)
    assert b"".join(out) == plaintext
    assert f.max_request <= ENC + 1


def test_encryptor_cannot_be_used_after_finalize() -> None:
    enc = StreamEncryptor(CASE_KEY, CONTEXT)
    enc.update(b"abc")
    enc.finalize()
    with pytest.raises(CryptoError):
        enc.update(b"more")
    with pytest.raises(CryptoError):
        enc.finalize()


# --------------------------------------------------------------------------
# Tampering, truncation, reordering, extension, wrong key or context
# --------------------------------------------------------------------------


def _flip(blob: bytes, pos: int) -> bytes:
    b = bytearray(blob)
    b[pos] ^= 0x01
    return bytes(b)


def test_flip_any_byte_of_small_object() -> None:
    blob = seal(CASE_KEY, CONTEXT, b"a note about the caller")
    for pos in range(len(blob)):
        with pytest.raises(IntegrityError):
            open_sealed(CASE_KEY, CONTEXT, _flip(blob, pos))


def test_flip_byte_in_header_body_and_tag_of_multichunk_file() -> None:
    blob = _encrypt(_plaintext(2 * C + 100))
    positions = [
        0,  # magic
        3,
        4,  # salt
        HEADER - 1,
        HEADER,  # first ciphertext byte of chunk 0
        HEADER + C // 2,
        HEADER + C,  # first tag byte of chunk 0
        HEADER + ENC - 1,  # last tag byte of chunk 0
        HEADER + ENC + 7,  # chunk 1 body
        HEADER + 2 * ENC,  # last chunk body
        len(blob) - 1,  # last tag byte of the file
    ]
    for pos in positions:
        with pytest.raises(IntegrityError):
            _decrypt(_flip(blob, pos))


def test_swapped_chunks_fail() -> None:
    header, chunks = _chunks(_encrypt(_plaintext(3 * C + 5)))
    assert len(chunks) == 4
    chunks[0], chunks[1] = chunks[1], chunks[0]
    with pytest.raises(IntegrityError):
        _decrypt(header + b"".join(chunks))


def test_chunk_from_another_file_fails() -> None:
    header_a, chunks_a = _chunks(_encrypt(_plaintext(2 * C + 5)))
    _, chunks_b = _chunks(_encrypt(_plaintext(2 * C + 5)))  # same key, context, plaintext
    chunks_a[1] = chunks_b[1]
    with pytest.raises(IntegrityError):
        _decrypt(header_a + b"".join(chunks_a))


@pytest.mark.parametrize("size", [3 * C + 5, 2 * C])
def test_dropping_last_chunk_fails(size: int) -> None:
    header, chunks = _chunks(_encrypt(_plaintext(size)))
    truncated = header + b"".join(chunks[:-1])
    received = []
    with pytest.raises(IntegrityError):
        for piece in decrypt_chunks(CASE_KEY, CONTEXT, io.BytesIO(truncated)):
            received.append(piece)
    # Earlier chunks were authentic and yielded; the error comes at the end,
    # which is why callers must consume the whole iterator before trusting it.
    assert b"".join(received) == _plaintext(size)[: len(b"".join(received))]


@pytest.mark.parametrize("cut", [1, 5, TAG - 1, TAG, TAG + 1, C])
def test_dropping_trailing_bytes_fails(cut: int) -> None:
    blob = _encrypt(_plaintext(2 * C + 100))
    with pytest.raises(IntegrityError):
        _decrypt(blob[:-cut])


@pytest.mark.parametrize("length", [0, 3, 4, HEADER - 1, HEADER, HEADER + TAG - 1])
def test_truncated_to_nothing_or_header_fails(length: int) -> None:
    blob = _encrypt(_plaintext(100))
    with pytest.raises(IntegrityError):
        _decrypt(blob[:length])


def test_appending_fails() -> None:
    blob = _encrypt(_plaintext(C + 5))
    _, chunks = _chunks(blob)
    other_header, other_chunks = _chunks(_encrypt(_plaintext(C + 5)))
    for extra in (b"\x00", b"\x00" * TAG, chunks[-1], chunks[0], other_chunks[-1]):
        with pytest.raises(IntegrityError):
            _decrypt(blob + extra)
    # Appending a whole second object is not a valid object either.
    with pytest.raises(IntegrityError):
        _decrypt(blob + other_header + b"".join(other_chunks))


def test_appending_empty_chunk_after_full_last_chunk_fails() -> None:
    blob = _encrypt(_plaintext(C))  # one full last chunk
    with pytest.raises(IntegrityError):
        _decrypt(blob + seal(CASE_KEY, CONTEXT, b"")[HEADER:])


@pytest.mark.parametrize("size", [0, 10, 2 * C + 1])
def test_wrong_case_key_or_context_fails(size: int) -> None:
    blob = _encrypt(_plaintext(size))
    with pytest.raises(IntegrityError):
        _decrypt(blob, key=new_case_key())
    with pytest.raises(IntegrityError):
        _decrypt(blob, context=b"case=c-0001\x00item=i-0002")  # another item
    with pytest.raises(IntegrityError):
        _decrypt(blob, context=b"case=c-0002\x00item=i-0001")  # another case
    with pytest.raises(IntegrityError):
        open_sealed(CASE_KEY, CONTEXT + b"x", blob)


def test_integrity_error_is_a_crypto_error() -> None:
    assert issubclass(IntegrityError, CryptoError)
    assert issubclass(MasterKeyError, CryptoError)


# --------------------------------------------------------------------------
# Case keys
# --------------------------------------------------------------------------


def test_new_case_key_is_random_32_bytes() -> None:
    a, b = new_case_key(), new_case_key()
    assert len(a) == 32 and len(b) == 32 and a != b


def test_wrap_unwrap_round_trip() -> None:
    master, case_key = os.urandom(32), new_case_key()
    wrapped = wrap_key(master, "case-42", case_key)
    assert case_key not in wrapped
    assert wrapped != wrap_key(master, "case-42", case_key)  # random nonce
    assert unwrap_key(master, "case-42", wrapped) == case_key


def test_unwrap_with_wrong_master_or_case_or_damage_fails() -> None:
    master, case_key = os.urandom(32), new_case_key()
    wrapped = wrap_key(master, "case-42", case_key)
    with pytest.raises(IntegrityError):
        unwrap_key(os.urandom(32), "case-42", wrapped)
    with pytest.raises(IntegrityError):
        unwrap_key(master, "case-43", wrapped)
    for pos in range(len(wrapped)):
        with pytest.raises(IntegrityError):
            unwrap_key(master, "case-42", _flip(wrapped, pos))
    for bad in (b"", wrapped[:-1], wrapped + b"\x00"):
        with pytest.raises(IntegrityError):
            unwrap_key(master, "case-42", bad)


def test_a_key_bound_to_a_chat_opens_only_for_that_chat() -> None:
    master, case_key = os.urandom(32), new_case_key()
    wrapped = wrap_key(master, "case-42", case_key, chat_id=1001)
    assert wrapped.startswith(b"SHK2") and len(wrapped) == 64
    assert unwrap_key(master, "case-42", wrapped, chat_id=1001) == case_key
    for case_id, chat_id in (("case-42", 1002), ("case-42", None), ("case-43", 1001), ("case-4", 21001)):
        with pytest.raises(IntegrityError):
            unwrap_key(master, case_id, wrapped, chat_id=chat_id)
    for pos in range(len(wrapped)):
        with pytest.raises(IntegrityError):
            unwrap_key(master, "case-42", _flip(wrapped, pos), chat_id=1001)
