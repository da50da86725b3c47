"""messages*.yaml: every sentence the code looks up by key, merged from any number of files.

Feature modules keep their sentences in their own file (``messages_evidence.yaml``...). All are
merged into one table; a key written twice is an error naming both places, because which of
the two a user would see would depend on file order.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from flows.content.limits import MAX_LABEL_WIDTH, placeholders
from flows.content.schema import Reader
from flows.content.tables import FIXED_LABELS
from flows.content.yamlines import line_of


def read_messages(r: Reader, required: Mapping[str, frozenset[str]], plain_text: frozenset[str]) -> dict[str, str]:
    """The merged table; checks that every key in ``required`` is present, that no other key
    is, and that each uses only the placeholders the code supplies for it."""
    messages: dict[str, str] = {}
    where: dict[str, tuple[str, int]] = {}
    found = r.files("messages*.yaml", "messages")
    for file, data in found:
        table = r.mapping(file, data, "messages", "a mapping of key -> text")
        if table is None:
            continue
        for key in table:
            line = line_of(table, key)
            if not isinstance(key, str):
                r.fail(file, line, f"message key {key!r} must be a word like evidence_duplicate")
                continue
            if key in where:
                f0, l0 = where[key]
                r.fail(file, line, f"message '{key}' is defined twice (first at {f0}:{l0})")
                continue
            where[key] = (file, line)
            if key not in required:
                close = difflib.get_close_matches(key, list(required), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "a typo?"
                r.fail(file, line, f"unknown message key '{key}' (the code never shows it; {hint})")
                continue
            text = r.string(file, table, key, max_width=MAX_LABEL_WIDTH if key.startswith("btn_") else None)
            messages[key] = text
            _check_text(r, file, line, key, text, required[key], plain_text)
    # Only when every file was readable is a key that is not there really missing; otherwise
    # listing every required key would bury the one problem that matters.
    if "messages" not in r.incomplete:
        for key in required:
            if key not in messages and key not in where:
                r.fail(found[0][0], 1, f"message '{key}' is missing (add it to any messages*.yaml)")
    return messages


def _check_text(
    r: Reader, file: str, line: int, key: str, text: str, allowed: frozenset[str], plain_text: frozenset[str]
) -> None:
    names, errors = placeholders(text)
    for e in errors:
        r.fail(file, line, f"message '{key}': {e}")
    unknown = names - allowed
    if unknown:
        listed = ", ".join(f"{{{p}}}" for p in sorted(allowed)) or "none"
        used = ", ".join(f"{{{u}}}" for u in sorted(unknown))
        r.fail(file, line, f"'{key}' uses {used}; allowed: {listed}")
    if key in FIXED_LABELS and text != FIXED_LABELS[key]:
        r.fail(file, line, f"'{key}' must be exactly {FIXED_LABELS[key]!r} (scripts and users rely on it)")
    if key not in plain_text and not unknown and not errors:
        r.html(file, line, f"message '{key}'", text.format(**{p: "0" for p in allowed}))
