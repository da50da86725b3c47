"""`python bot.py check` on whole content trees: what only a tree shows (locales side by side,
messages once the code fills them, the age of legal claims, interest.yaml), each problem at its
file, line and column with a hint under it; errors exit 1, warnings only with --strict."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

import bot
from flows.content.check import check_content
from tests.conftest import CONTENT_DIR

TODAY = date(2026, 11, 29)  # the clock check measures as_of by (injected; the shipped facts are from 2026-11-01)


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in l)


def found(root: Path, today: date = TODAY) -> list[str]:
    return [str(p) for p in check_content(root, today=today).problems]


def test_the_shipped_tree_is_clean_in_every_locale(tree):
    report = check_content(tree, today=TODAY)
    assert report.problems == []
    assert set(report.locales) == {"zh-CN", "en"}


def test_a_problem_is_file_line_column_with_a_hint_and_exits_1(tree, capsys):
    f = tree / "en" / "nodes_step1.yaml"
    edit(f, "    title: Check the debt\n", "    title: Check the debt\n    titel: typo\n")
    code = bot.main(["check", str(tree)])
    err = capsys.readouterr().err.splitlines()
    line = line_of(f, "titel:")
    at = next(i for i, l in enumerate(err) if l.startswith(f"{f}:{line}:5: node 'verify_debt': unknown key 'titel'"))
    assert err[at + 1].strip().startswith("hint: the rules for nodes*.yaml are in content/README.md")
    assert code == 1


# ----------------------------------------------------------------------------- parity


def test_a_node_only_one_locale_has_is_named_in_the_other(tree):
    zh = tree / "zh-CN" / "nodes_step1.yaml"
    edit(
        zh,
        "    buttons:\n      - [{label: 怎样核对欠款",
        "    buttons:\n      - {label: 新页面, go: new_page}\n      - [{label: 怎样核对欠款",
    )
    zh.write_text(
        zh.read_text(encoding="utf-8") + "\n  new_page:\n    title: 新页面\n    step: 1\n    text: 新的内容\n",
        encoding="utf-8",
    )
    problems = found(tree)
    en = tree / "en" / "nodes_step1.yaml"
    assert any(
        p.startswith(f"{en}:1: node 'new_page' is in zh-CN ({zh}:{line_of(zh, '  new_page:')}) but not in en")
        for p in problems
    ), problems


def test_ids_only_the_translation_has_are_named_where_they_are(tree):
    en = tree / "en" / "checklists.yaml"
    edit(en, "      - {id: receipts, text: Keep receipts of my costs}\n",
         "      - {id: receipts, text: Keep receipts of my costs}\n      - {id: extra, text: Something extra}\n")  # fmt: skip
    problems = found(tree)
    assert any(
        p.startswith(f"{en}:{line_of(en, 'id: extra')}:")
        and "checklist item 'sue_kit:extra' is in en but not in zh-CN" in p
        for p in problems
    ), problems


def test_a_translation_must_keep_every_placeholder(tree):
    en = tree / "en" / "messages.yaml"
    edit(en, '"This file was saved before, as {no}.', '"This file was saved before.')
    problems = found(tree)
    line = line_of(en, "evidence_duplicate:")
    assert any(
        p.startswith(f"{en}:{line}:3: message 'evidence_duplicate' uses none but zh-CN uses {{no}}") for p in problems
    ), problems


def test_a_message_the_code_gained_is_named_missing_in_every_locale_that_lacks_it(tree):
    zh = tree / "zh-CN" / "messages_listen.yaml"
    zh.write_text(zh.read_text(encoding="utf-8") + '  probe_new: "新的一句 {name}"\n', encoding="utf-8")
    from flows.engine import code_tables

    actions, required, plain = code_tables()
    report = check_content(
        tree, today=TODAY, actions=actions, required_messages={**required, "probe_new": frozenset({"name"})}
    )
    problems = [str(p) for p in report.problems]
    assert any("message 'probe_new' is missing" in p and "/en/" in p for p in problems), problems
    assert not any("probe_new" in p and "/zh-CN/" in p for p in problems), problems


def test_a_missing_file_is_one_problem_not_one_per_entry(tree):
    (tree / "en" / "interest.yaml").unlink()
    problems = found(tree)
    assert [p for p in problems if "interest" in p] == [
        f"{tree / 'en' / 'interest.yaml'}:1: interest.yaml is in zh-CN but not in en"
    ]


# ----------------------------------------------------------------------------- Telegram limits once filled in


def test_a_message_that_grows_too_long_once_filled_in_is_caught(tree):
    en = tree / "en" / "messages.yaml"
    padding = "Please contact the clinic. " * 144  # about 3900 characters: fits as written, not once filled
    edit(
        en,
        "    ⚠️ These items failed the fingerprint check",
        "    " + padding + "These items failed the fingerprint check",
    )
    problems = found(tree)
    line = line_of(en, "export_item_failed:")
    assert any(
        p.startswith(f"{en}:{line}:3: message 'export_item_failed' is") and "characters once filled in" in p
        for p in problems
    ), problems


def test_a_command_description_telegram_would_refuse_is_caught(tree):
    en = tree / "en" / "messages.yaml"
    edit(en, "command_help: What I can help with", "command_help: " + "What I can help with; " * 13)
    assert any("command menu allows 256 characters" in p for p in found(tree))


def test_a_law_page_over_telegrams_limit_is_caught_at_the_node(tree):
    law = tree / "en" / "law.yaml"
    text = law.read_text(encoding="utf-8")
    for fact in ("venue_tort", "causes_of_action", "court_fee", "online_filing"):  # each fits; together not
        text = re.sub(rf"(  {fact}:\n    plain: )", r"\1" + "Long. " * 200, text, count=1)
    law.write_text(text, encoding="utf-8")
    nodes = tree / "en" / "nodes_step5.yaml"
    problems = found(tree)
    assert any(
        p.startswith(f"{nodes}:{line_of(nodes, '  sue_court:')}:") and "(law screen) as shown is" in p for p in problems
    ), problems


# ----------------------------------------------------------------------------- legal claims


def test_as_of_older_than_a_year_is_a_warning_that_strict_fails(tree, capsys, monkeypatch):
    later = date(2027, 12, 1)
    report = check_content(tree, today=later)
    assert report.errors == [] and report.warnings
    law = tree / "zh-CN" / "law.yaml"
    first = line_of(law, "as_of: 2026-11-01")
    assert any(
        str(w).startswith(f"{law}:{first}:5: warning: as_of 2026-11-01 is 395 days old") for w in report.warnings
    )
    assert not check_content(tree, today=date(2027, 4, 1)).warnings, "under a year: no warning"

    import flows.content.check as check_module

    class Clock(date):
        @classmethod
        def today(cls) -> date:
            return later

    monkeypatch.setattr(check_module, "date", Clock)
    assert bot.main(["check", str(tree)]) == 0, "warnings alone do not fail"
    assert bot.main(["check", str(tree), "--strict"]) == 1
    assert "warning(s)" in capsys.readouterr().err


def test_a_screen_citing_an_article_needs_law_behind_it(tree):
    en = tree / "en" / "nodes_step5.yaml"
    edit(
        en,
        "You don't have to face the court alone.",
        "Under Civil Code Article 1032 you don't have to face the court alone.",
    )
    problems = found(tree)
    assert any(
        p.startswith(f"{en}:{line_of(en, '  sue_help:')}:") and "cites an article of law but has no 'law:'" in p
        for p in problems
    ), problems


def test_interest_yaml_is_checked_against_the_schema_and_for_sources(tree):
    f = tree / "zh-CN" / "interest.yaml"
    edit(f, "  multiple: 4\n", "  multipel: 4\n")
    edit(f, "    source: 法发〔2017〕22号；金规〔2025〕9号（二者内容只见二手资料，未核对原文）\n", "")
    problems = found(tree)
    assert any(
        p.startswith(f"{f}:{line_of(f, 'multipel')}:3: lpr_cap.multipel: unknown key 'multipel'") for p in problems
    ), problems
    assert any(p.startswith(f"{f}:{line_of(f, 'lpr_cap:')}:1: lpr_cap: 'multiple' is required") for p in problems)
    line_24 = line_of(f, "  line_24:")
    assert any("line_24" in p and "source" in p and p.startswith(f"{f}:{line_24}") for p in problems), problems


def test_a_stale_schema_json_is_a_warning(tree):
    (tree / "schema.json").write_text("{}\n", encoding="utf-8")
    report = check_content(tree, today=TODAY)
    assert [str(w) for w in report.warnings] == [f"{tree / 'schema.json'}:1: warning: schema.json is out of date: "
                                                 "editors complete and underline by an old model"]  # fmt: skip


def test_a_button_to_a_misspelt_node_gets_the_node_it_meant_as_hint(tree, capsys):
    f = tree / "en" / "nodes_step1.yaml"
    edit(f, "go: verify_debt}", "go: verify_dept}")
    assert bot.main(["check", str(tree)]) == 1
    err = capsys.readouterr().err.splitlines()
    at = next(i for i, l in enumerate(err) if "goes to unknown node 'verify_dept'" in l)
    assert err[at].startswith(f"{f}:{line_of(f, 'verify_dept')}:")
    assert err[at + 1].strip() == "hint: did you mean 'verify_debt'? node ids are the keys under nodes: in nodes*.yaml"
