"""What the draft templates of every locale share: page, fonts, styles, tables with row loops.

Used by tools/build_templates.py (see there). The styles get their names from ``Look`` so an
operator sees them in their own language in Word's style pane.
"""

from __future__ import annotations

from dataclasses import dataclass

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

SONG, HEI, MONO = "宋体", "黑体", "Courier New"
B = "{{ doc.blank }}"  # a blank to fill in by hand


@dataclass(frozen=True)
class Look:
    """The style names of one locale's templates, and its footer line."""

    title: str
    subtitle: str
    section: str
    table: str
    note: str
    mono: str
    footer: str


def _fonts(rpr_owner, latin: str, east_asian: str) -> None:
    """Set Latin and East Asian fonts on a style or run (python-docx's font.name sets only Latin)."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(attr)) is not None:
            del fonts.attrib[qn(attr)]
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asian)


def _defaults(doc) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    fonts = rpr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr, value in (("w:ascii", "Times New Roman"), ("w:hAnsi", "Times New Roman"), ("w:cs", "Times New Roman")):
        fonts.set(qn(attr), value)
    fonts.set(qn("w:eastAsia"), SONG)
    rpr.find(qn("w:sz")).set(qn("w:val"), "24")
    rpr.find(qn("w:szCs")).set(qn("w:val"), "24")
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}/{qn('w:spacing')}")
    spacing.set(qn("w:after"), "60")
    spacing.set(qn("w:line"), "360")  # 1.5 lines


def _paragraph_style(doc, name: str, *, east_asian: str, size: float, bold=False, center=False, color=None):
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    _fonts(style.element, "Times New Roman", east_asian)
    style.font.size = Pt(size)
    style.font.bold = bold
    if color:
        style.font.color.rgb = RGBColor(*color)
    if center:
        style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return style


def new_document(look: Look, *, landscape: bool = False) -> DocxDocument:
    doc = Document()
    _defaults(doc)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_height, section.page_width = section.page_width, section.page_height
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    _paragraph_style(doc, look.title, east_asian=HEI, size=18, bold=True, center=True)
    _paragraph_style(doc, look.subtitle, east_asian=SONG, size=12, center=True)
    _paragraph_style(doc, look.section, east_asian=HEI, size=14, bold=True)
    _paragraph_style(doc, look.table, east_asian=SONG, size=10)
    _paragraph_style(doc, look.note, east_asian=SONG, size=9, color=(0x55, 0x55, 0x55))
    mono = doc.styles.add_style(look.mono, WD_STYLE_TYPE.CHARACTER)
    _fonts(mono.element, MONO, SONG)
    mono.font.size = Pt(7.5)
    footer = section.footer.paragraphs[0]
    footer.text = look.footer
    footer.style = doc.styles[look.note]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def p(doc, text: str = "", style: str | None = None, *, bold_lead: str = ""):
    par = doc.add_paragraph(style=style)
    if bold_lead:
        par.add_run(bold_lead).bold = True
    if text:
        par.add_run(text)
    return par


def cell_text(look: Look, cell, text: str, *, bold=False, mono=False) -> None:
    par = cell.paragraphs[0]
    par.style = cell.part.document.styles[look.table]
    par.paragraph_format.line_spacing = 1.0
    run = par.add_run(text)
    run.bold = bold
    if mono:
        run.style = cell.part.document.styles[look.mono]


def set_widths(table, widths: list[float]) -> None:
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(int(Cm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = Cm(w)


def repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def loop_table(
    look: Look, doc, headers: list[str], loop: str, cells: list[str], widths: list[float], mono: int | None = None
):
    """A table with a header row and one row repeated ``loop`` (``{%tr for ... %}``)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers):
        cell_text(look, cell, text, bold=True)
    repeat_header(table.rows[0])
    cell_text(look, table.rows[1].cells[0], "{%tr " + loop + " %}")
    for i, (cell, text) in enumerate(zip(table.rows[2].cells, cells)):
        cell_text(look, cell, text, mono=i == mono)
    cell_text(look, table.rows[3].cells[0], "{%tr endfor %}")
    set_widths(table, widths)
    return table


def element_table(look: Look, doc, rows: list[tuple[str, str]], widths=(4.0, 13.0)):
    """要素式: one row per element, its name on the left, what to say on the right."""
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = doc.styles["Table Grid"]
    for row, (name, text) in zip(table.rows, rows):
        cell_text(look, row.cells[0], name, bold=True)
        cell_text(look, row.cells[1], text)
    set_widths(table, list(widths))
    return table
