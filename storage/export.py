"""Export: a ZIP a court or a lawyer can check offline.

Each part holds the originals (decrypted and checked against the hash recorded on arrival),
``manifest.json``, ``manifest.csv`` (UTF-8 with BOM, so Excel opens it), ``SHA256SUMS`` (for
``sha256sum -c``) and ``README.txt``. An item whose file fails the check is reported, never
packed. Parts stay under the Bot API's upload limit; every part carries the whole manifest.
Originals are stored, not compressed, so a part's size is known before it is written, and
copied through in chunks, so memory stays flat whatever the file size.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path

from flows.content import Locale
from flows.model import Case, EvidenceItem
from storage.crypto import CryptoError
from storage.db import Storage, now

UPLOAD_LIMIT = 50 * 1000 * 1000  # the Bot API's sendDocument limit (public server)
LOCAL_UPLOAD_LIMIT = 2000 * 1000 * 1000  # a local (--local) Bot API server
HEADROOM = 2 * 1000 * 1000  # the manifests and ZIP headers


def part_budget(local_api: bool) -> int:
    return (LOCAL_UPLOAD_LIMIT if local_api else UPLOAD_LIMIT) - HEADROOM
BEIJING = timezone(timedelta(hours=8))
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class ExportResult:
    parts: list[Path] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    count: int = 0


def file_name(loc: Locale, item: EvidenceItem) -> str:
    """A name a person can read, never taken from what the sender called the file."""
    cat = loc.category(item.category)
    label = UNSAFE.sub("_", cat.label if cat else loc.messages["evidence_uncategorised"])
    day = item.received_at.astimezone(BEIJING).strftime("%Y-%m-%d")
    return f"{item.label}_{label}_{day}.{item.extension}"


def restore(storage: Storage, case: Case, item: EvidenceItem, key: bytes, dest: Path) -> bool:
    """Write the original to ``dest``; False (and nothing left behind) if it fails its check."""
    digest = hashlib.sha256()
    try:
        with open(dest, "xb") as out:
            for chunk in storage.vault.read(case.id, key, item.blob_id):
                digest.update(chunk)
                out.write(chunk)
    except (CryptoError, OSError):
        dest.unlink(missing_ok=True)
        return False
    if digest.hexdigest() != item.sha256:
        dest.unlink(missing_ok=True)
        return False
    return True


async def restore_original(storage: Storage, case: Case, loc: Locale, no: int, folder: Path) -> tuple[EvidenceItem | None, Path | None]:
    """Item ``no``'s original, checked against its hash, written into ``folder`` under its
    readable name. (None, None): no such item; (item, None): it failed its check."""
    items = await storage.evidence(case, no)
    if not items:
        return None, None
    dest = folder / file_name(loc, items[0])
    dest.unlink(missing_ok=True)
    return items[0], dest if restore(storage, case, items[0], await storage.case_key(case), dest) else None


def _manifest(loc: Locale, items: list[tuple[EvidenceItem, str, int]]) -> tuple[bytes, bytes]:
    rows = []
    for item, name, part in items:
        cat = loc.category(item.category)
        rows.append({
            "number": item.label,
            "kind": loc.messages[f"evidence_kind_{item.kind}"],
            "category": cat.label if cat else "",
            "note": item.note,
            "caption": item.caption,
            "file": f"originals/{name}",
            "part": part,
            "size_bytes": item.size,
            "sha256": item.sha256,
            "received_at_utc": item.received_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "received_at_beijing": item.received_at.astimezone(BEIJING).isoformat(timespec="seconds"),
            "telegram_message_time_utc": item.message_date.astimezone(timezone.utc).isoformat(timespec="seconds")
            if item.message_date else "",
            "mime": item.mime,
        })
    as_json = json.dumps({"generated_at_utc": now().isoformat(timespec="seconds"), "items": rows},
                         ensure_ascii=False, indent=2).encode("utf-8")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["number"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return as_json, buf.getvalue().encode("utf-8-sig")


async def build_export(storage: Storage, case: Case, loc: Locale, *, budget: int = UPLOAD_LIMIT - HEADROOM) -> ExportResult:
    """Verify every item, then write numbered ZIP parts into a fresh folder under data/tmp."""
    items = await storage.evidence(case)
    key = await storage.case_key(case)
    result = ExportResult()
    good = [item for item in items if storage.vault.verify(case.id, key, item.blob_id, item.sha256)]
    result.failed = [item.no for item in items if item not in good]
    result.count = len(good)
    if not good:
        return result

    parts: list[list[EvidenceItem]] = [[]]
    size = 0
    for item in good:
        if parts[-1] and size + item.size > budget:
            parts.append([])
            size = 0
        parts[-1].append(item)
        size += item.size
    named = [(item, file_name(loc, item), p + 1) for p, part in enumerate(parts) for item in part]
    manifest_json, manifest_csv = _manifest(loc, named)
    stamp = now().astimezone(BEIJING)
    readme = loc.msg("export_readme", created=stamp.strftime("%Y-%m-%d %H:%M"), count=len(good)).encode("utf-8")

    folder = storage.tmp_dir / secrets.token_hex(8)
    folder.mkdir(mode=0o700)
    names = {item.no: name for item, name, _ in named}
    for p, part in enumerate(parts, start=1):
        suffix = f"_{p}of{len(parts)}" if len(parts) > 1 else ""
        path = folder / f"shouhu_evidence_{stamp:%Y%m%d}{suffix}.zip"
        sums = []
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
            for item in part:
                name = f"originals/{names[item.no]}"
                digest = hashlib.sha256()
                with zf.open(name, "w", force_zip64=item.size > 2**31) as out:
                    for chunk in storage.vault.read(case.id, key, item.blob_id):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != item.sha256:  # changed since verification: never ship it
                    raise CryptoError(f"{item.label} changed during export")
                sums.append(f"{item.sha256}  {name}\n")
            zf.writestr("manifest.json", manifest_json, zipfile.ZIP_DEFLATED)
            zf.writestr("manifest.csv", manifest_csv, zipfile.ZIP_DEFLATED)
            zf.writestr("SHA256SUMS", "".join(sums).encode("utf-8"), zipfile.ZIP_DEFLATED)
            zf.writestr("README.txt", readme, zipfile.ZIP_DEFLATED)
        result.parts.append(path)
    return result
