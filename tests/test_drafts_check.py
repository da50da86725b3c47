"""`python bot.py check` and the draft templates: an operator who breaks a template in Word is
told which file and which placeholder, before any victim gets a broken draft."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from docx import Document

import bot
from flows.content import load_content
from flows.errors import ContentError
from tests.conftest import CONTENT_DIR


@pytest.fixture
def content_copy(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root


def templates(root: Path) -> Path:
    return root / "zh-CN" / "templates"


def add_paragraph(path: Path, text: str) -> None:
    """What an operator does in Word: type a line into the template and save."""
    doc = Document(str(path))
    doc.add_paragraph(text)
    doc.save(str(path))


def problems(root: Path) -> list[str]:
    with pytest.raises(ContentError) as err:
        load_content(root)
    return [str(p) for p in err.value.problems]


def check_output(root: Path, capsys) -> tuple[int, str]:
    code = bot.main(["check", str(root)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_shipped_templates_pass_check(capsys):
    code, out = check_output(CONTENT_DIR, capsys)
    assert code == 0, out


def test_an_unknown_placeholder_fails_check_naming_the_file_and_the_placeholder(content_copy, capsys):
    add_paragraph(templates(content_copy) / "complaint.docx", "借款平台：{{ facts.apq }}")
    code, out = check_output(content_copy, capsys)
    assert code == 1
    line = next(l for l in out.splitlines() if "complaint.docx" in l)
    assert "unknown placeholder 'facts.apq'" in line and "did you mean 'facts.app'" in line, line


def test_an_unknown_name_inside_a_loop_or_an_untaken_branch_is_found(content_copy):
    add_paragraph(templates(content_copy) / "police.docx", "{% for e in evidence.rows %}{{ e.sha }}{% endfor %}")
    add_paragraph(templates(content_copy) / "lawsuit.docx", "{% if false %}{{ defendant.name }}{% endif %}")
    found = problems(content_copy)
    assert any("police.docx" in p and "'e.sha'" in p and "e.sha256" in p for p in found), found
    assert any("lawsuit.docx" in p and "'defendant'" in p for p in found), found


def test_a_template_that_does_not_open_fails_check(content_copy):
    (templates(content_copy) / "evidence.docx").write_bytes(b"this is not a Word file")
    found = problems(content_copy)
    assert any("evidence.docx" in p and "cannot be opened as a Word document" in p for p in found), found


def test_a_syntax_error_names_the_paragraph(content_copy):
    add_paragraph(templates(content_copy) / "complaint.docx", "催收机构：{{ facts.collector_company }")
    found = problems(content_copy)
    assert any("complaint.docx" in p and "syntax" in p and "催收机构" in p for p in found), found


def test_a_missing_or_misnamed_template_is_named(content_copy):
    (templates(content_copy) / "lawsuit.docx").rename(templates(content_copy) / "lawsiut.docx")
    found = problems(content_copy)
    assert any("lawsuit.docx" in p and "missing" in p for p in found), found
    assert any("lawsiut.docx" in p and "did you mean 'lawsuit.docx'" in p for p in found), found


def test_drafts_yaml_and_reminders_yaml_are_checked(content_copy):
    zh = content_copy / "zh-CN"
    drafts = (zh / "drafts.yaml").read_text(encoding="utf-8")
    (zh / "drafts.yaml").write_text(drafts.replace("    sms:", "    smss:"), encoding="utf-8")
    reminders = (zh / "reminders.yaml").read_text(encoding="utf-8")
    reminders = reminders.replace("after_days: 15", "after_days: soon").replace(
        "《中华人民共和国民事诉讼法》；", "《中华人民共和国民事诉讼法》第一百二十六条；"
    )
    (zh / "reminders.yaml").write_text(reminders, encoding="utf-8")
    found = problems(content_copy)
    assert any("drafts.yaml" in p and "unknown category 'smss'" in p and "did you mean 'sms'" in p for p in found)
    assert any("reminders.yaml" in p and "complaint_no_answer" in p and "after_days" in p for p in found), found
    assert any("reminders.yaml" in p and "lawsuit_next" in p and "article number" in p for p in found), found


def test_word_lock_files_are_not_templates(content_copy):
    (templates(content_copy) / "~$mplaint.docx").write_bytes(b"\x00lock")
    load_content(content_copy)


def test_a_template_edited_in_word_still_renders_with_its_placeholders_split_across_runs(content_copy):
    """Word splits text into runs at will (spell check, an edit in the middle): docxtpl joins
    them back, and check must agree."""
    path = templates(content_copy) / "complaint.docx"
    doc = Document(str(path))
    par = doc.add_paragraph()
    for piece in ("{{ facts.", "app", " }}"):
        par.add_run(piece)
    doc.save(str(path))
    content = load_content(content_copy)
    from documents import render
    from documents.context import sample_data, sample_words
    from documents.render import build_context, for_draft

    words = sample_words()
    data = render(
        content.locale("zh-CN").drafts.templates["complaint"],
        for_draft(build_context(sample_data(), words), "complaint", words),
    )
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "\nApp\n" in f"\n{text}\n"
