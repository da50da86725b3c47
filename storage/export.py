"""Export: ZIP parts a court or a lawyer can check offline, built one at a time off the loop.

Each part holds its share of the originals (decrypted, checked against the hash recorded on
arrival), and the whole case's ``manifest.json``, ``manifest.csv``, the evidence list for
people (``证据清单.csv``), ``SHA256SUMS`` (for ``sha256sum -c``) and ``README.txt``. An item
that fails its check is named, never packed; one the disk cannot give now is named apart.

Only one part exists on disk at a time: it is written in a worker thread, handed to the caller,
and removed when the caller asks for the next (the whole case never lies in plaintext in
``tmp``). Free disk is checked before each part. Originals are stored, not compressed, so a
part's size is known before it is written, and copied in chunks, so memory stays flat::

    async with export_parts(storage, case, ExportText.from_locale(loc), budget=...) as export:
        async for part in export:
            await send(part.path, part.number, part.total)
    export.summary  # count, parts, failed, unreadable
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import zipfile
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flows.model import Case, EvidenceItem
from storage.base import EvidenceVault, ReadState, Storage, StoredEvidence
from storage.crypto import CryptoError
from storage.errors import ChangedDuringExport, NotEnoughDisk
from storage.export_text import ExportText, Planned, manifests
from storage.sqlite_tx import now

log = logging.getLogger(__name__)

UPLOAD_LIMIT = 50 * 1000 * 1000  # the Bot API's sendDocument limit (public server)
LOCAL_UPLOAD_LIMIT = 2000 * 1000 * 1000  # a local (--local) Bot API server
HEADROOM = 2 * 1000 * 1000  # the manifests and ZIP headers
DISK_RESERVE = 64 * 1024 * 1024  # left free for the database and new uploads while exporting
ZIP_OVERHEAD_PER_ITEM = 512  # local header, central directory entry, zip64 extras


def part_budget(local_api: bool) -> int:
    return (LOCAL_UPLOAD_LIMIT if local_api else UPLOAD_LIMIT) - HEADROOM


@dataclass
class ExportSummary:
    count: int = 0  # items packed
    parts: int = 0
    failed: list[int] = field(default_factory=list)  # damaged: tag, hash or seal failed
    unreadable: list[int] = field(default_factory=list)  # the disk could not give them now


@dataclass(frozen=True)
class ExportPart:
    path: Path
    number: int
    total: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Original:
    """An original on its way back: ``path`` only when ``state`` is OK."""

    state: ReadState
    item: EvidenceItem | None = None
    path: Path | None = None


def restore(vault: EvidenceVault, case_id: str, key: bytes, item: EvidenceItem, dest: Path) -> ReadState:
    """Write the original to ``dest`` (blocking); anything but OK leaves nothing behind."""
    digest = hashlib.sha256()
    state = ReadState.OK
    try:
        with open(dest, "xb") as out:
            for chunk in vault.read(case_id, key, item.blob_id):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != item.sha256:
            state = ReadState.DAMAGED
    except CryptoError:
        state = ReadState.DAMAGED
    except OSError as exc:
        log.error(
            "the original of item %d could not be read or written: %s", item.no, exc.strerror or type(exc).__name__
        )
        state = ReadState.UNREADABLE
    if state is not ReadState.OK:
        dest.unlink(missing_ok=True)
    return state


async def restore_original(storage: Storage, case: Case, text: ExportText, no: int, folder: Path) -> Original:
    """Item ``no``'s original, checked, written into ``folder`` under its readable name."""
    records = await storage.evidence_records(case, no)
    if not records:
        return Original(ReadState.MISSING)
    record = records[0]
    if not record.intact:
        return Original(ReadState.DAMAGED, record.item)
    dest = folder / text.file_name(record.item)
    dest.unlink(missing_ok=True)
    key = await storage.case_key(case)
    state = await asyncio.to_thread(restore, storage.vault, case.id, key, record.item, dest)
    return Original(state, record.item, dest if state is ReadState.OK else None)


def _write_part(
    vault: EvidenceVault,
    case_id: str,
    key: bytes,
    path: Path,
    items: list[Planned],
    text: ExportText,
    tables: dict[str, bytes],
    created: datetime,
) -> None:
    """One ZIP part (blocking: run in a worker thread). Entries carry the item's received
    time in the locale's time zone, not 1980-01-01."""
    sums = []
    stamp = text.local(created).timetuple()[:6]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for p in items:
            item = p.record.item
            info = zipfile.ZipInfo(p.name, date_time=text.local(item.received_at).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16
            digest = hashlib.sha256()
            with zf.open(info, "w", force_zip64=item.size > 2**31) as out:
                for chunk in vault.read(case_id, key, item.blob_id):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != item.sha256:  # changed since it was checked: never ship it
                raise ChangedDuringExport(item.label)
            sums.append(f"{item.sha256}  {p.name}\n")
        for name, data in {**tables, "SHA256SUMS": "".join(sums).encode("utf-8")}.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, data)


class CaseExport:
    """One export of one case: an async context manager (its scratch folder) and an async
    iterator of parts. ``summary`` is complete once the iteration ends."""

    def __init__(
        self,
        storage: Storage,
        case: Case,
        text: ExportText,
        *,
        budget: int,
        reserve: int = DISK_RESERVE,
        extra: Mapping[str, bytes] | None = None,
    ):
        self.extra = dict(extra or {})  # the case record's files (timeline, facts, drafts): in every part
        self.storage = storage
        self.case = case
        self.text = text
        self.budget = budget
        self.reserve = reserve
        self.summary = ExportSummary()
        self._stack = AsyncExitStack()
        self._folder: Path | None = None

    async def __aenter__(self) -> CaseExport:
        self._folder = await self._stack.enter_async_context(self.storage.scratch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _checked(self, key: bytes) -> list[StoredEvidence]:
        """Every item whose original decrypts whole to its recorded hash, item by item in a
        worker thread; the others are sorted into failed and unreadable."""
        good = []
        for record in await self.storage.evidence_records(self.case):
            item = record.item
            state = (
                ReadState.DAMAGED
                if not record.intact
                else await asyncio.to_thread(self.storage.vault.check, self.case.id, key, item.blob_id, item.sha256)
            )
            if state is ReadState.OK:
                good.append(record)
            elif state is ReadState.UNREADABLE:
                self.summary.unreadable.append(item.no)
            else:
                self.summary.failed.append(item.no)
        return good

    def _plan(self, good: list[StoredEvidence]) -> list[list[Planned]]:
        parts: list[list[StoredEvidence]] = [[]]
        size = 0
        for record in good:
            if parts[-1] and size + record.item.size > self.budget:
                parts.append([])
                size = 0
            parts[-1].append(record)
            size += record.item.size
        return [
            [Planned(r, f"originals/{self.text.file_name(r.item)}", n) for r in part]
            for n, part in enumerate(parts, start=1)
        ]

    def _check_disk(self, folder: Path, items: list[Planned], tables: dict[str, bytes]) -> None:
        needed = sum(p.record.item.size + ZIP_OVERHEAD_PER_ITEM for p in items) + sum(len(v) for v in tables.values())
        free = shutil.disk_usage(folder).free
        if free < needed + self.reserve:
            log.warning(
                "export stopped: %d MB free, %d MB needed for the next part (plus %d MB kept in reserve)",
                free // 2**20,
                needed // 2**20,
                self.reserve // 2**20,
            )
            raise NotEnoughDisk(needed=needed, free=free)

    def __aiter__(self) -> AsyncIterator[ExportPart]:
        return self._parts()

    async def _parts(self) -> AsyncIterator[ExportPart]:
        if self._folder is None:
            raise RuntimeError("use `async with export_parts(...) as export:` before iterating")
        key = await self.storage.case_key(self.case)
        good = await self._checked(key)
        self.summary.count = len(good)
        if not good and not self.extra:
            return
        plan = self._plan(good) if good else [[]]
        created = now()
        tables = manifests(self.text, [p for part in plan for p in part], created)
        tables["README.txt"] = self.text.readme(created, len(good))
        tables.update(self.extra)
        self.summary.parts = len(plan)
        stamp = f"{self.text.local(created):%Y%m%d}"
        for number, items in enumerate(plan, start=1):
            suffix = f"_{number}of{len(plan)}" if len(plan) > 1 else ""
            path = self._folder / f"shouhu_evidence_{stamp}{suffix}.zip"
            self._check_disk(self._folder, items, tables)
            try:
                await asyncio.to_thread(
                    _write_part, self.storage.vault, self.case.id, key, path, items, self.text, tables, created
                )
                yield ExportPart(path, number, len(plan))
            finally:  # the caller is done with it (or gave up): it leaves the disk now, off the loop
                await asyncio.to_thread(path.unlink, missing_ok=True)  # freeing 1 GB takes ~0.2 s


def export_parts(
    storage: Storage,
    case: Case,
    text: ExportText,
    *,
    budget: int = UPLOAD_LIMIT - HEADROOM,
    reserve: int = DISK_RESERVE,
    extra: Mapping[str, bytes] | None = None,
) -> CaseExport:
    return CaseExport(storage, case, text, budget=budget, reserve=reserve, extra=extra)
