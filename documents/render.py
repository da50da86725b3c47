"""Fill a .docx template (docxtpl on python-docx) and check one the way ``bot.py check`` does.

Rendering happens in memory: template bytes in, document bytes out, nothing on disk (the
caller decides where the result goes; see handlers/delivery.py, which uses storage's scratch
folder). Values are escaped for XML (``autoescape``): a victim's note with ``<`` or ``&`` cannot
break the document. Unknown names raise (``StrictUndefined``) instead of printing nothing, so a
template that passed ``check`` never silently drops a fact.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined, TemplateError, TemplateSyntaxError
from lxml import etree

from documents.context import DraftData, Words, build_context, empty_data, for_draft, sample_data, sample_words
from documents.fonts import DEFAULT_EAST_ASIAN, apply_east_asian_fonts
from documents.placeholders import unknown_placeholders

_TAG = re.compile(r"<[^>]+>")


class TemplateProblem(Exception):
    """A template that cannot be rendered; ``str()`` says why in an operator's words."""


def environment() -> Environment:
    return Environment(autoescape=True, undefined=StrictUndefined)


def _open(data: bytes) -> DocxTemplate:
    try:
        tpl = DocxTemplate(io.BytesIO(data))
        tpl.init_docx()
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise TemplateProblem(f"cannot be opened as a Word document (.docx): {type(exc).__name__}: {exc}") from exc
    return tpl


def render(template: bytes, context: dict[str, Any], *, font: str = DEFAULT_EAST_ASIAN) -> bytes:
    """The filled document as .docx bytes. TemplateProblem if the template is broken."""
    tpl = _open(template)
    try:
        tpl.render(context, environment())
    except TemplateError as exc:
        raise TemplateProblem(f"cannot be filled in: {exc}") from exc
    doc = tpl.docx
    assert doc is not None
    apply_east_asian_fonts(doc, font)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def render_drafts(templates: dict[str, bytes], data: DraftData, words: Words) -> dict[str, bytes]:
    """Every template filled from one case: draft id -> .docx bytes."""
    context = build_context(data, words)
    return {draft: render(tpl, for_draft(context, draft, words)) for draft, tpl in templates.items()}


# ----------------------------------------------------------------------------- check


@dataclass(frozen=True)
class Finding:
    """One problem of one template, for ``check``: ``placeholder`` set when one is unknown."""

    message: str
    placeholder: str | None = None


def _source(tpl: DocxTemplate) -> str:
    """The Jinja source docxtpl renders (body, headers and footers), one paragraph a line."""
    doc = tpl.docx
    assert doc is not None
    xml = tpl.patch_xml(tpl.get_xml())
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for _, part in tpl.get_headers_footers(uri):
            xml += tpl.patch_xml(tpl.get_part_xml(part))
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


def _near(source: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    text = _TAG.sub("", source.splitlines()[lineno - 1] if lineno <= len(source.splitlines()) else "")
    return f" (in the paragraph: {text.strip()[:80]!r})" if text.strip() else ""


def check_template(data: bytes) -> list[Finding]:
    """What ``bot.py check`` says about one template: it opens, every placeholder is one the
    drafts supply, and it renders with sample facts (everything known) and with nothing known.
    The answer depends only on the bytes: it is remembered, so content loaded again (a reload,
    a test) does not render the same template again."""
    return list(_check(data))


@lru_cache(maxsize=32)
def _check(data: bytes) -> tuple[Finding, ...]:
    return tuple(_check_uncached(data))


def _check_uncached(data: bytes) -> list[Finding]:
    try:
        tpl = _open(data)
        source = _source(tpl)
    except TemplateProblem as exc:
        return [Finding(str(exc))]
    env = environment()
    words = sample_words()
    full = for_draft(build_context(sample_data(), words), "sample", words)
    try:
        unknown = unknown_placeholders(source, env, full)
    except TemplateSyntaxError as exc:
        return [Finding(f"template syntax error: {exc.message}{_near(source, exc.lineno)}")]
    if unknown:
        return [
            Finding(
                f"unknown placeholder '{u.placeholder}'"
                + (f" (did you mean '{u.suggestion}'?)" if u.suggestion else ""),
                u.placeholder,
            )
            for u in unknown
        ]
    findings = []
    for label, data_set in (("sample facts", sample_data()), ("no facts at all", empty_data())):
        context = for_draft(build_context(data_set, words), "sample", words)
        try:
            rendered = render(data, context)
            Document(io.BytesIO(rendered))
        except TemplateProblem as exc:
            findings.append(Finding(f"rendering with {label} failed: {exc}"))
        except Exception as exc:  # noqa: BLE001 - any failure here is the template's, reported to the operator
            findings.append(Finding(f"rendering with {label} failed: {type(exc).__name__}: {exc}"))
    return findings
