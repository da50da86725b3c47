"""The evidence vault: encrypted files on disk, one folder per case.

Layout under ``<data>/vault/<case_id>/``: ``<blob_id>.bin`` (committed or about to be) and
``.tmp-<blob_id>`` (being written). Folder and file names are random; nothing on disk names a
chat or what was sent. A file is streamed through SHA-256 and the STREAM cipher chunk by chunk,
fsynced, and renamed to its final name *before* its row commits; ``sweep`` removes what no row
claims (a crash between rename and commit, or a temp file cut short).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import shutil
from collections.abc import AsyncIterable, Iterator
from pathlib import Path
from typing import BinaryIO

from storage.base import EvidenceVault
from storage.crypto import StreamEncryptor, decrypt_chunks
from storage.errors import EmptyFile, OverQuota

log = logging.getLogger(__name__)


def blob_context(case_id: str, blob_id: str) -> bytes:
    """Associated data binding a file to its case and item: a file moved elsewhere won't open."""
    return f"shouhu/evidence/{case_id}/{blob_id}".encode()


def _fsync_and_rename(tmp: Path, final: Path) -> None:
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class LocalVault(EvidenceVault):
    """The vault as files on this machine's disk."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def case_dir(self, case_id: str) -> Path:
        return self.root / case_id

    def path(self, case_id: str, blob_id: str) -> Path:
        return self.case_dir(case_id) / f"{blob_id}.bin"

    async def ingest(
        self, case_id: str, case_key: bytes, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> tuple[str, Path, str, int]:
        """Stream ``chunks`` into an encrypted file; return (blob_id, path, sha256 hex, size).

        Memory holds one chunk at a time. On any failure the temp file (or, if the rename was
        done, the renamed one) is removed.
        """
        blob_id = secrets.token_hex(12)
        folder = self.case_dir(case_id)
        folder.mkdir(exist_ok=True, mode=0o700)
        tmp = folder / f".tmp-{blob_id}"
        digest = hashlib.sha256()
        enc = StreamEncryptor(case_key, blob_context(case_id, blob_id))
        size = 0
        final = self.path(case_id, blob_id)
        try:
            with open(tmp, "xb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise OverQuota()
                    digest.update(chunk)
                    out.write(enc.update(chunk))
                out.write(enc.finalize())
            if size == 0:
                raise EmptyFile()
            await asyncio.to_thread(_fsync_and_rename, tmp, final)
        except BaseException:  # the folder's fsync after the rename may fail too (a full disk)
            tmp.unlink(missing_ok=True)
            final.unlink(missing_ok=True)
            raise
        return blob_id, final, digest.hexdigest(), size

    def open_blob(self, case_id: str, blob_id: str) -> BinaryIO:
        return open(self.path(case_id, blob_id), "rb")

    def read(self, case_id: str, case_key: bytes, blob_id: str) -> Iterator[bytes]:
        """Plaintext chunks; IntegrityError if the file was altered, cut or swapped, OSError if
        the disk cannot give it now."""
        with self.open_blob(case_id, blob_id) as f:
            yield from decrypt_chunks(case_key, blob_context(case_id, blob_id), f)

    async def remove(self, case_id: str, blob_id: str) -> None:
        await asyncio.to_thread(self.path(case_id, blob_id).unlink, missing_ok=True)  # a big file: not on the loop

    async def remove_case(self, case_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.case_dir(case_id), ignore_errors=True)

    async def sweep(self, known: dict[str, set[str]]) -> int:
        return await asyncio.to_thread(self._sweep, known)

    def _sweep(self, known: dict[str, set[str]]) -> int:
        """Remove temp files, files no row claims and folders of cases that no longer exist."""
        removed = 0
        for folder in self.root.iterdir() if self.root.exists() else ():
            if not folder.is_dir() or folder.name not in known:
                if folder.is_dir():
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    folder.unlink(missing_ok=True)
                removed += 1
                continue
            for f in folder.iterdir():
                if f.name.startswith(".tmp-") or f.suffix != ".bin" or f.stem not in known[folder.name]:
                    if f.is_dir():
                        shutil.rmtree(f, ignore_errors=True)
                    else:
                        f.unlink(missing_ok=True)
                    removed += 1
        if removed:
            log.info("swept %d orphaned vault file(s)", removed)
        return removed
