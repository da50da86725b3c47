"""Documents: the case record filled into .docx templates a legal clinic edits in Word.

    context.py       the case record -> plain values a template may use (blanks for unknown facts)
    render.py        docxtpl on python-docx: fill a template in memory; check one for ``bot.py check``
    placeholders.py  unknown placeholders found in the template's syntax tree, by the name typed
    fonts.py         the East Asian font and language declared on every run (WPS, Word, LibreOffice)

Nothing here knows Telegram, storage or the conversation: ``flows/features/drafts.py`` reads the
case record and content, calls ``render_drafts`` and hands the bytes to the delivery; the content
check (``flows/content/drafts.py``) calls ``check_template`` for every template file.
"""

from documents.context import BLANK, DRAFTS, DraftData, Words, build_context, for_draft, sample_data
from documents.render import Finding, TemplateProblem, check_template, render, render_drafts

__all__ = [
    "BLANK",
    "DRAFTS",
    "DraftData",
    "Finding",
    "TemplateProblem",
    "Words",
    "build_context",
    "check_template",
    "for_draft",
    "render",
    "render_drafts",
    "sample_data",
]
