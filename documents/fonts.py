"""Chinese text in a .docx shows in a Chinese font on a phone's WPS, a clerk's Word and LibreOffice.

Word picks a run's font per script: ``w:ascii``/``w:hAnsi`` for Latin, ``w:eastAsia`` for
Chinese. python-docx's ``font.name`` sets only the Latin ones, so text a template or a
placeholder brings in can end up in whatever East Asian font the reader's program guesses (or
as boxes). After rendering, every run gets an explicit ``w:eastAsia``: the one its character
style, paragraph style or the document defaults would give it (so a heading set in 黑体 stays
黑体), or ``DEFAULT_EAST_ASIAN`` if nothing names one. A run whose own properties pick a theme
font (``w:eastAsiaTheme``) is left to the theme; a theme font of a style or of the defaults is
not trusted (LibreOffice does not resolve it the way Word does) and is made explicit. The document defaults also declare the East Asian
language (``w:lang w:eastAsia``), which Word and WPS use for line breaking and punctuation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

DEFAULT_EAST_ASIAN = "宋体"  # SimSun: present on every Chinese Windows and in WPS; LibreOffice substitutes a CJK font
DEFAULT_LANGUAGE = "zh-CN"

_R, _RPR, _RFONTS, _RSTYLE = qn("w:r"), qn("w:rPr"), qn("w:rFonts"), qn("w:rStyle")
_P, _PPR, _PSTYLE = qn("w:p"), qn("w:pPr"), qn("w:pStyle")
_EA, _EA_THEME, _VAL = qn("w:eastAsia"), qn("w:eastAsiaTheme"), qn("w:val")
_THEME = "theme"  # a run's own theme font: left alone


def _east_asian(rpr: Any, *, theme: bool = True) -> str | None:
    """The East Asian font an ``rPr`` names; ``_THEME`` for a theme font (None unless ``theme``)."""
    if rpr is None:
        return None
    fonts = rpr.find(_RFONTS)
    if fonts is None:
        return None
    if fonts.get(_EA_THEME):
        return _THEME if theme else None
    return fonts.get(_EA)


class _Styles:
    """Each style's own East Asian font and what it is based on, read once per document."""

    def __init__(self, styles_element: Any):
        self.own: dict[str, str | None] = {}
        self.based_on: dict[str, str] = {}
        self.default_paragraph: str | None = None
        for style in styles_element.iter(qn("w:style")):
            sid = style.get(qn("w:styleId"))
            if not sid:
                continue
            self.own[sid] = _east_asian(style.find(_RPR), theme=False)
            based = style.find(qn("w:basedOn"))
            if based is not None and based.get(_VAL):
                self.based_on[sid] = based.get(_VAL)
            if style.get(qn("w:type")) == "paragraph" and style.get(qn("w:default")) in ("1", "true"):
                self.default_paragraph = sid
        defaults = styles_element.find(qn("w:docDefaults"))
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{_RPR}") if defaults is not None else None
        self.document_default = _east_asian(rpr, theme=False)

    def font(self, sid: str | None) -> str | None:
        seen: set[str] = set()
        while sid and sid not in seen:
            seen.add(sid)
            if self.own.get(sid):
                return self.own[sid]
            sid = self.based_on.get(sid)
        return None


def _rpr_of(run: Any) -> Any:
    rpr = run.find(_RPR)
    if rpr is None:
        rpr = etree.SubElement(run, _RPR)
        run.remove(rpr)
        run.insert(0, rpr)  # rPr is the first child of a run
    return rpr


def _set_font(run: Any, font: str) -> None:
    rpr = _rpr_of(run)
    fonts = rpr.find(_RFONTS)
    if fonts is None:
        fonts = etree.SubElement(rpr, _RFONTS)
        rpr.remove(fonts)
        rpr.insert(1 if rpr.find(_RSTYLE) is not None else 0, fonts)  # after rStyle, before the rest
    fonts.set(_EA, font)


def _paragraph_style(run: Any) -> str | None:
    parent = run.getparent()
    while parent is not None and parent.tag != _P:
        parent = parent.getparent()
    if parent is None:
        return None
    style = parent.find(f"{_PPR}/{_PSTYLE}")
    return style.get(_VAL) if style is not None else None


def fix_runs(roots: Iterable[Any], styles: _Styles, fallback: str) -> int:
    """Give every run under ``roots`` an explicit East Asian font; returns how many were set."""
    changed = 0
    for root in roots:
        for run in root.iter(_R):
            rpr = run.find(_RPR)
            if _east_asian(rpr):
                continue
            char_style = rpr.find(_RSTYLE) if rpr is not None else None
            font = (
                styles.font(char_style.get(_VAL) if char_style is not None else None)
                or styles.font(_paragraph_style(run) or styles.default_paragraph)
                or styles.document_default
                or fallback
            )
            _set_font(run, font)
            changed += 1
    return changed


def _declare_defaults(styles_element: Any, font: str, language: str) -> None:
    defaults = styles_element.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = etree.SubElement(styles_element, qn("w:docDefaults"))
        styles_element.remove(defaults)
        styles_element.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = etree.SubElement(defaults, qn("w:rPrDefault"))
        defaults.remove(rpr_default)
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(_RPR)
    if rpr is None:
        rpr = etree.SubElement(rpr_default, _RPR)
    if not _east_asian(rpr, theme=False):
        fonts = rpr.find(_RFONTS)
        if fonts is None:
            fonts = etree.SubElement(rpr, _RFONTS)
            rpr.remove(fonts)
            rpr.insert(0, fonts)
        fonts.set(_EA, font)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = etree.SubElement(rpr, qn("w:lang"))  # last in rPr's order among what we write
    if not lang.get(_EA):
        lang.set(_EA, language)


def apply_east_asian_fonts(doc: Document, font: str = DEFAULT_EAST_ASIAN, language: str = DEFAULT_LANGUAGE) -> int:
    """Declare the East Asian font and language in ``doc`` (body, headers, footers, defaults)."""
    styles_element = doc.styles.element
    _declare_defaults(styles_element, font, language)
    styles = _Styles(styles_element)
    roots = [doc.element.body]
    for rel in doc.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external:
            roots.append(rel.target_part.element)
    return fix_runs(roots, styles, font)
