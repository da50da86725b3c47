"""Build the draft templates (content/<locale>/templates/*.docx) from scratch.

    python tools/build_templates.py                 # every locale below, into content/<locale>/templates
    python tools/build_templates.py zh-CN [OUT_DIR]

The committed .docx files are content: a clinic's lawyer edits them in Word or WPS afterwards,
and ``python bot.py check`` verifies every placeholder. This script exists so the originals can
be regenerated (and reviewed as text in a diff): running it overwrites any edits made in Word.

Placeholders are docxtpl's: ``{{ facts.app }}``, a paragraph loop ``{%p for ... %}``, a table
row loop ``{%tr for ... %}``; the names are listed in documents/context.py and in
content/zh-CN/templates/README.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the project's packages are importable
    sys.path.insert(0, str(ROOT))

from docx.document import Document as DocxDocument  # noqa: E402

from tools import templates_en, templates_zh  # noqa: E402

LOCALES: dict[str, dict[str, Callable[[], DocxDocument]]] = {
    "zh-CN": templates_zh.BUILDERS,
    "en": templates_en.BUILDERS,
}


def build(locale: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, make in LOCALES[locale].items():
        doc = make()
        doc.core_properties.author = "守护 Shouhu"
        doc.core_properties.title = name
        doc.save(str(out / f"{name}.docx"))
        print(f"wrote {out / name}.docx")


def main(argv: list[str]) -> int:
    if argv:
        build(argv[0], Path(argv[1]) if len(argv) > 1 else ROOT / "content" / argv[0] / "templates")
        return 0
    for locale in LOCALES:
        build(locale, ROOT / "content" / locale / "templates")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
