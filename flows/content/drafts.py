"""What the drafts, filings and reminders read from a locale folder, checked like the rest.

    templates/<id>.docx   the four draft templates (complaint, police, lawsuit, evidence), which a
                          clinic edits in Word or WPS. Each must open, use only placeholders the
                          drafts supply (documents/context.py), and render with sample facts and
                          with none; a problem names the file and the placeholder.
    drafts.yaml           ``drafts: {proves: {category id: 证明内容}}``: what each evidence category
                          proves, for the evidence list (a category without it gets a blank).
    reminders.yaml        ``reminders: {rule: {after_days, source, as_of, certainty}}``: when each
                          follow-up is due. A delay that rests on a legal period carries its source,
                          like law.yaml; the sentences are in messages_reminders.yaml.

One call from ``load_locale``; the result rides on ``Locale.drafts``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from flows.content.model import Category
from flows.content.schema import Reader
from flows.content.sections import ARTICLE_RE, DATE_RE
from flows.content.shapes import PROVES, REMINDER
from flows.content.yamlines import line_of
from flows.filing import REMINDER_RULES

TEMPLATE_FOLDER = "templates"
DRAFT_IDS = ("complaint", "police", "lawsuit", "evidence")  # documents.context.DRAFTS (kept light: no docx import)
REMINDER_KEYS = REMINDER.keys
MAX_DELAY_DAYS = 365
TEMPLATE_HINT = (
    "edit the template in Word or WPS; the placeholders it may use are listed in content/zh-CN/templates/README.md "
    "(content/README.md, 'Edit a document template')"
)


@dataclass(frozen=True)
class ReminderRule:
    id: str
    after_days: int
    source: str
    as_of: str
    certainty: str


@dataclass(frozen=True)
class DraftsContent:
    templates: Mapping[str, bytes] = field(default_factory=dict, repr=False)  # draft id -> .docx bytes as checked
    proves: Mapping[str, str] = field(default_factory=dict)  # category id -> 证明内容
    reminders: Mapping[str, ReminderRule] = field(default_factory=dict)


def read_templates(r: Reader) -> dict[str, bytes]:
    from documents.render import check_template  # docxtpl is loaded only when content is

    folder = r.folder / TEMPLATE_FOLDER
    templates: dict[str, bytes] = {}
    found = {p.stem: p for p in sorted(folder.glob("*.docx"))} if folder.is_dir() else {}
    for stem, path in found.items():
        if stem.startswith("~$"):  # Word's lock file while the template is open: not a template
            continue
        if stem not in DRAFT_IDS:
            close = difflib.get_close_matches(stem, DRAFT_IDS, n=1)
            hint = f"did you mean '{close[0]}.docx'? " if close else ""
            r.fail(
                str(path),
                1,
                f"unknown template '{path.name}' ({hint}expected: {', '.join(DRAFT_IDS)})",
                hint="rename it to one of those, or move it out of templates/",
            )
            continue
        data = path.read_bytes()
        findings = check_template(data)
        for f in findings:
            r.fail(str(path), 1, f.message, hint=TEMPLATE_HINT)
        if not findings:
            templates[stem] = data
    for draft in DRAFT_IDS:
        if draft not in found:
            r.fail(
                str(folder / f"{draft}.docx"),
                1,
                f"template missing: {draft}.docx (one per draft)",
                hint="copy it from content/zh-CN/templates/ and translate it, or run tools/build_templates.py",
            )
    return templates


def read_proves(r: Reader, categories: tuple[Category, ...]) -> dict[str, str]:
    proves: dict[str, str] = {}
    known = [c.id for c in categories]
    for file, data in r.files("drafts.yaml", "drafts"):
        section = r.mapping(file, data, "drafts", "a mapping with 'proves'")
        if section is None:
            continue
        r.keys(file, section, PROVES.keys, "drafts")
        table = r.mapping(file, section, "proves", "a mapping of evidence category id -> what it proves")
        for cid in table or {}:
            line = line_of(table, cid)
            if cid not in known:
                close = difflib.get_close_matches(str(cid), known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                r.fail(
                    file, line, f"'proves': unknown category '{cid}' ({hint}categories.yaml has: {', '.join(known)})"
                )
                continue
            proves[str(cid)] = r.string(file, table, cid, what="proves")
    return proves


def read_reminders(r: Reader) -> dict[str, ReminderRule]:
    rules: dict[str, ReminderRule] = {}
    for file, data in r.files("reminders.yaml", "reminders"):
        table = r.mapping(file, data, "reminders", f"a mapping of {', '.join(REMINDER_RULES)}")
        if table is None:
            continue
        for rid in table:
            what = f"reminder '{rid}'"
            if rid not in REMINDER_RULES:
                close = difflib.get_close_matches(str(rid), REMINDER_RULES, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                r.fail(file, line_of(table, rid), f"unknown {what} ({hint}known: {', '.join(REMINDER_RULES)})")
                continue
            e = r.entry(file, table, rid, what, REMINDER_KEYS)
            if e is None:
                continue
            days = e.get("after_days")
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DELAY_DAYS:
                r.fail(file, line_of(e, "after_days"), f"{what}: 'after_days' must be a whole number of days, 1 to 365")
                days = 0
            source = r.string(file, e, "source", what=what)
            as_of = r.string(file, e, "as_of", what=what)
            certainty = r.string(file, e, "certainty", what=what)
            if as_of and not DATE_RE.match(as_of):
                r.fail(file, line_of(e, "as_of"), f"{what}: 'as_of' must be a date like 2026-11-01, not {as_of!r}")
            if certainty and certainty not in ("verified", "reported"):
                r.fail(file, line_of(e, "certainty"), f"{what}: 'certainty' must be 'verified' or 'reported'")
            if certainty == "reported" and ARTICLE_RE.search(source):
                r.fail(file, line_of(e, "source"), f"{what} is only reported (not verified): cite no article number")
            rules[str(rid)] = ReminderRule(str(rid), days, source, as_of, certainty)
        for rid in REMINDER_RULES:
            if rid not in table:
                r.fail(file, table.line, f"reminder '{rid}' is missing (its delay, source, as_of, certainty)")
    return rules


def read_drafts(r: Reader, categories: tuple[Category, ...]) -> DraftsContent:
    return DraftsContent(read_templates(r), read_proves(r, categories), read_reminders(r))
