"""interest.yaml (optional): the numbers the interest check compares a rate with.

The one-year LPR by date, its multiple (the 4×LPR line for private lending) and the fixed
lines people hear about (24%, 36%), each with ``source``, ``as_of`` and the law.yaml facts
behind it (``law:``, shown under the check's 📖 button). The sentences of the check live in
messages_interest.yaml like every other feature's; only numbers and their provenance are here.

Read with the same ``Reader`` as every other file, so a typo is ``file:line: problem`` from
``check``; the typed result is ``flows.interest.Caps`` (built by ``caps_from_mapping``, the
one place that turns the file into numbers) plus the law ids per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flows.content.model import LawFact
from flows.content.schema import Reader, kind
from flows.content.yamlines import LineMap, line_of
from flows.interest import Caps, CapsError, caps_from_mapping

FILE = "interest.yaml"
TOP_KEYS = ("lpr_1y", "lpr_cap", "lines")
LPR_KEYS = ("confirmed_through", "confirmed_through_source", "values")
FIXING_KEYS = ("from", "rate", "certainty", "source", "as_of")
CAP_KEYS = ("multiple", "applies_to", "law", "source", "as_of", "certainty")
LINE_KEYS = ("rate", "certainty", "source", "as_of", "law", "note")
CERTAINTY = ("verified", "reported")
LPR_CAP = "lpr_cap"  # the id of the 4×LPR line (flows.interest.CapLine.id)


@dataclass(frozen=True)
class InterestRules:
    """What the interest check needs from content besides its sentences."""

    caps: Caps
    law: dict[str, tuple[str, ...]]  # line id ("lpr_cap", "line_24", ...) -> law.yaml ids behind it


def read_interest(r: Reader, law: dict[str, LawFact]) -> InterestRules | None:
    """interest.yaml if the locale has one (a locale without it has no interest check)."""
    if not (r.folder / FILE).exists():
        return None
    rules = None
    for file, data in r.files(FILE, "lpr_1y", TOP_KEYS):
        before = len(r.problems)
        refs: dict[str, tuple[str, ...]] = {}
        _lpr(r, file, data)
        cap = r.entry(file, data, "lpr_cap", "'lpr_cap'", CAP_KEYS) if "lpr_cap" in data else None
        if cap is None and "lpr_cap" not in data:
            r.fail(file, data.line, "'lpr_cap:' is missing (the multiple of the LPR courts apply, with its source)")
        if cap is not None:
            _number(r, file, cap, "multiple", "'lpr_cap'", low=Decimal(1), high=Decimal(10))
            _provenance(r, file, cap, "'lpr_cap'")
            refs[LPR_CAP] = _law(r, file, cap, "'lpr_cap'", law)
        lines = r.mapping(file, data, "lines", "a mapping of line id -> {rate, source, as_of, law}")
        for lid in lines or {}:
            what = f"line '{lid}'"
            r.ident(file, line_of(lines, lid), lid, "line id", short=True)
            entry = r.entry(file, lines, lid, what, LINE_KEYS)
            if entry is None:
                continue
            _number(r, file, entry, "rate", what, low=Decimal(0), high=Decimal(1000), percent=True)
            _provenance(r, file, entry, what)
            refs[str(lid)] = _law(r, file, entry, what, law)
        if len(r.problems) > before:
            continue
        try:
            rules = InterestRules(caps_from_mapping(data), refs)
        except CapsError as exc:  # anything the checks above did not foresee: still file:line
            r.fail(file, data.line, str(exc))
    return rules


def _lpr(r: Reader, file: str, data: LineMap) -> None:
    table = r.entry(file, data, "lpr_1y", "'lpr_1y'", LPR_KEYS) if "lpr_1y" in data else None
    if table is None:
        return
    confirmed = _date(r, file, table, "confirmed_through", "'lpr_1y'")
    r.string(file, table, "confirmed_through_source", what="'lpr_1y'")
    values = r.seq(file, table, "values", "a non-empty list of {from, rate, certainty, source, as_of}", what="lpr_1y")
    if values is not None and not values:
        r.fail(file, line_of(table, "values"), "'lpr_1y': 'values' is empty (list the LPR fixings by date)")
    last: date | None = None
    for i, _ in enumerate(values or []):
        what = f"LPR value {i + 1}"
        v = r.entry(file, values, i, what, FIXING_KEYS)
        if v is None:
            continue
        day = _date(r, file, v, "from", what)
        _number(r, file, v, "rate", what, low=Decimal(0), high=Decimal(20), percent=True)
        _provenance(r, file, v, what)
        if day and last and day <= last:
            r.fail(file, line_of(v, "from"), f"{what}: {day} is not after {last} (list the fixings in date order)")
        last = day or last
    if confirmed and last and confirmed < last:
        r.fail(file, line_of(table, "confirmed_through"), f"'confirmed_through' {confirmed} is before the last value")


def _provenance(r: Reader, file: str, entry: LineMap, what: str) -> None:
    """``source`` and ``as_of`` on every number; ``certainty`` verified or reported."""
    r.string(file, entry, "source", what=what)
    _date(r, file, entry, "as_of", what)
    certainty = r.string(file, entry, "certainty", what=what)
    if certainty and certainty not in CERTAINTY:
        r.fail(
            file,
            line_of(entry, "certainty"),
            f"{what}: 'certainty' must be 'verified' or 'reported' (an unverified number is not shown), "
            f"not {certainty!r}",
        )


def _law(r: Reader, file: str, entry: LineMap, what: str, law: dict[str, LawFact]) -> tuple[str, ...]:
    ids = r.strings(file, entry, "law", "a list of ids from law.yaml", what=what, required=True)
    for lid in ids:
        if lid not in law and "law" not in r.incomplete:
            r.fail(file, line_of(entry, "law"), f"{what}: law '{lid}' is not in law.yaml")
    return tuple(ids)


def _date(r: Reader, file: str, entry: LineMap, key: str, what: str) -> date | None:
    value = entry.get(key)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    found = repr(value) if isinstance(value, str) else kind(value)
    r.fail(file, line_of(entry, key), f"{what}: '{key}' must be a date like 2026-11-01, not {found}")
    return None


def _number(
    r: Reader, file: str, entry: LineMap, key: str, what: str, *, low: Decimal, high: Decimal, percent: bool = False
) -> None:
    value: Any = entry.get(key)
    unit = " (a percentage: 3.10 means 3.10%)" if percent else ""
    try:
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and low < Decimal(str(value)) < high
    except InvalidOperation:
        ok = False
    if not ok:
        r.fail(
            file,
            line_of(entry, key),
            f"{what}: '{key}' must be a number between {low} and {high}{unit}, not {kind(value)}",
        )
