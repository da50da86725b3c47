"""What an export says, and the tables it carries, built from the locale in one place.

``ExportText.from_locale`` is the only place the export reads content: the README, the
headers of the Chinese evidence list, the category and kind labels, the time zone. The
machine-readable manifest keeps stable English keys for scripts; the evidence list
(``证据清单.csv`` in zh-CN) is for people, in their language.

Every CSV cell that a spreadsheet would run as a formula (``= + - @``, tab, CR first) is
neutralised with a leading apostrophe: captions are forwarded from harassers.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from flows.content import Locale
from flows.model import EvidenceItem
from storage.base import StoredEvidence

DEFAULT_TZ = timezone(timedelta(hours=8))  # until Locale.tz (bot.yaml `timezone:`) lands
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LIST_COLUMNS = ("no", "category", "note", "filename", "caption", "sha256", "received")


def offset_label(tz: tzinfo) -> str:
    """``UTC+08:00``: a label that needs no translation."""
    offset = datetime.now(tz).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def csv_safe(value: Any) -> Any:
    """A cell Excel, WPS or LibreOffice shows as text, never runs (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads Chinese), CRLF lines, every cell neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    writer.writerows([csv_safe(v) for v in row] for row in rows)
    return buf.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class ExportText:
    readme_template: str
    kinds: Mapping[str, str]
    categories: Mapping[str, str]
    uncategorised: str
    list_file: str
    list_header: tuple[str, ...]
    tz: tzinfo = DEFAULT_TZ
    tz_label: str = "UTC+08:00"

    @classmethod
    def from_locale(cls, loc: Locale) -> ExportText:
        tz = getattr(loc, "tz", None) or DEFAULT_TZ
        tz_label = getattr(loc, "tz_label", None) or offset_label(tz)
        return cls(
            readme_template=loc.messages["export_readme"],
            kinds={k[len("evidence_kind_") :]: v for k, v in loc.messages.items() if k.startswith("evidence_kind_")},
            categories={c.id: c.label for c in loc.categories},
            uncategorised=loc.messages["evidence_uncategorised"],
            list_file=loc.messages["export_list_file"],
            list_header=tuple(loc.msg(f"export_col_{c}", tz=tz_label) for c in LIST_COLUMNS),
            tz=tz,
            tz_label=tz_label,
        )

    def local(self, t: datetime) -> datetime:
        return t.astimezone(self.tz)

    def category(self, item: EvidenceItem) -> str:
        return self.categories.get(item.category or "", "")

    def file_name(self, item: EvidenceItem) -> str:
        """A name a person can read, never taken from what the sender called the file."""
        label = UNSAFE.sub("_", self.category(item) or self.uncategorised)
        return f"{item.label}_{label}_{self.local(item.received_at):%Y-%m-%d}.{item.extension}"

    def readme(self, created: datetime, count: int) -> bytes:
        text = self.readme_template.format(
            created=f"{self.local(created):%Y-%m-%d %H:%M}", count=count, tz=self.tz_label
        )
        return text.encode("utf-8")


@dataclass(frozen=True)
class Planned:
    """One item placed in a part of the export."""

    record: StoredEvidence
    name: str  # its path in the ZIP: originals/<readable name>
    part: int


def _iso(t: datetime | None, tz: tzinfo) -> str:
    return t.astimezone(tz).isoformat(timespec="seconds") if t else ""


def manifests(text: ExportText, plan: Sequence[Planned], created: datetime) -> dict[str, bytes]:
    """manifest.json, manifest.csv and the evidence list: the whole case, in every part."""
    rows = []
    for p in plan:
        item = p.record.item
        rows.append(
            {
                "number": item.label,
                "kind": text.kinds.get(item.kind, item.kind),
                "category": text.category(item),
                "note": item.note,
                "caption": item.caption,
                "original_filename": p.record.filename,
                "file": p.name,
                "part": p.part,
                "size_bytes": item.size,
                "sha256": item.sha256,
                "received_at_utc": _iso(item.received_at, UTC),
                "received_at_local": _iso(item.received_at, text.tz),
                "telegram_message_time_utc": _iso(item.message_date, UTC),
                "mime": item.mime,
            }
        )
    as_json = json.dumps(
        {"generated_at_utc": _iso(created, UTC), "time_zone": text.tz_label, "items": rows},
        ensure_ascii=False,
        indent=2,
    ).encode("utf-8")
    keys = list(rows[0]) if rows else ["number"]
    as_csv = csv_bytes(keys, ([r[k] for k in keys] for r in rows))
    people = csv_bytes(
        text.list_header,
        (
            [
                p.record.item.label,
                text.category(p.record.item) or text.uncategorised,
                p.record.item.note,
                p.record.filename,
                p.record.item.caption,
                p.record.item.sha256,
                f"{text.local(p.record.item.received_at):%Y-%m-%d %H:%M:%S}",
            ]
            for p in plan
        ),
    )
    return {"manifest.json": as_json, "manifest.csv": as_csv, text.list_file: people}
