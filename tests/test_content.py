"""Content: every node reachable and within Telegram's limits; a broken file is named by line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.content import MAX_LABEL_WIDTH, html_problems, label_width, load_content
from flows.engine import code_tables
from flows.errors import ContentError
from flows.features.evidence import receipt
from flows.model import Case, EvidenceItem
from flows.screens import render
from tests.conftest import CONTENT_DIR, ROOT

ACTIONS, MESSAGES, PLAIN_TEXT_MESSAGES = code_tables()


def walk(engine, loc):
    """Render every node a user can reach from /start by pressing buttons; return them by id."""
    case = Case("c", 1, loc.code, loc.start)
    seen, todo = {}, [loc.start]
    while todo:
        nid = todo.pop()
        if nid in seen:
            continue
        case.node = nid
        msg = render(case, loc)
        seen[nid] = msg
        for row in msg.buttons:
            for b in row:
                if b.data.startswith("g|"):
                    todo.append(b.data.split("|")[2])
                elif b.data.startswith("s|"):
                    todo.append(loc.steps[int(b.data[2:]) - 1].node)
    return seen


def assert_fits(text: str, buttons=(), *, what: str):
    errors, visible = html_problems(text)
    assert not errors, f"{what}: Telegram would refuse the HTML: {errors}"
    assert 0 < visible <= 4096, f"{what}: {visible} characters"
    for row in buttons:
        assert len(row) <= 8
        for b in row:
            assert len(b.data.encode()) <= 64, f"{what}: callback data {b.data!r} is over 64 bytes"
            assert label_width(b.label) <= MAX_LABEL_WIDTH + 2, f"{what}: label {b.label!r} too wide for a phone"


def test_every_node_is_reachable_from_start_and_has_a_way_on(engine, zh):
    rendered = walk(engine, zh)
    assert set(rendered) == set(zh.nodes)
    for nid, msg in rendered.items():
        assert msg.buttons, f"node {nid} is a dead end"
    assert {s.node for s in zh.steps} <= set(rendered), "all five steps reachable"


def test_every_node_fits_telegram_ticked_or_not(engine, zh):
    for nid in zh.nodes:
        for ticks in (set(), {f"{c}:{i.id}" for c in zh.checklists for i in zh.checklists[c].items}):
            msg = render(Case("c", 1, zh.code, nid, ticks), zh)
            assert_fits(msg.text, msg.buttons, what=f"node {nid}")


def test_every_message_fits_telegram_with_long_values(engine, zh):
    long = "长" * 300
    for key, names in MESSAGES.items():
        if key in PLAIN_TEXT_MESSAGES:
            continue
        text = zh.msg(key, **{n: long if n in ("note", "items", "title", "category") else "E-999" for n in names})
        assert_fits(text, what=f"message {key}")
    assert_fits(zh.crisis_text, what="crisis text")


def test_evidence_buttons_fit_64_bytes_for_big_numbers(engine, zh):
    item = EvidenceItem(999_999, "document", None, 1, "a" * 64, __import__("datetime").datetime.now(), "x/y")
    shown = receipt(zh, item)
    assert_fits(shown.text, shown.buttons, what="receipt")


def test_legal_claims_carry_source_and_date(zh):
    for fact in zh.law.values():
        assert fact.source and fact.as_of and fact.certainty in ("verified", "reported")
    reported = [f for f in zh.law.values() if f.certainty == "reported"]
    assert reported, "LEGAL_FACTS has unsure facts; they must be marked"


@pytest.fixture
def broken(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root / "zh-CN"


def problems_for(folder: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_content(folder.parent)
    return [str(p) for p in info.value.problems]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in l)


def test_unknown_target_is_reported_with_file_and_line(broken):
    f = broken / "nodes_step1.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("go: verify_debt}", "go: verify_dept}", 1), encoding="utf-8")
    problems = problems_for(broken)
    assert any(p.startswith(f"{f}:") and "verify_dept" in p for p in problems), problems


def test_duplicate_node_id_names_both_places(broken):
    f = broken / "nodes_step2.yaml"
    f.write_text(f.read_text(encoding="utf-8") + "\n  stop_paying:\n    title: x\n    text: y\n", encoding="utf-8")
    problems = problems_for(broken)
    assert any("used twice" in p and "nodes_step1.yaml:" in p for p in problems), problems


def test_long_label_missing_text_and_bad_html_are_reported(broken):
    f = broken / "nodes_step1.yaml"
    text = f.read_text(encoding="utf-8")
    text = text.replace("{label: 怎样核对欠款,", "{label: 怎样核对欠款怎样核对欠款怎样核对欠款,", 1)
    text = text.replace("<b>不慌着还，先核对清楚</b>", "<b>不慌着还，先核对清楚", 1)
    f.write_text(text, encoding="utf-8")
    problems = problems_for(broken)
    label_line = line_of(f, "怎样核对欠款怎样核对欠款")
    assert any(p.startswith(f"{f}:{label_line}:") and "too long" in p for p in problems), problems
    assert any("never closed" in p for p in problems), problems


def test_broken_yaml_syntax_names_the_line(broken):
    f = broken / "steps.yaml"
    lines = f.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "  - n: [unclosed")
    f.write_text("\n".join(lines), encoding="utf-8")
    problems = problems_for(broken)
    assert any(p.startswith(f"{f}:") and "not valid YAML" in p for p in problems), problems


def test_reported_fact_may_not_cite_an_article(broken):
    f = broken / "law.yaml"
    text = f.read_text(encoding="utf-8")
    text = text.replace("certainty: reported", "certainty: reported\n    # edited", 1)
    f.write_text(text, encoding="utf-8")
    loc = load_content(broken.parent).locale("zh-CN")
    fact = next(x for x in loc.law.values() if x.certainty == "reported")
    f.write_text(text.replace(fact.text.splitlines()[0], "第三十条 " + fact.text.splitlines()[0], 1), encoding="utf-8")
    assert any("cite no article number" in p for p in problems_for(broken))


def test_check_command_exits_1_and_prints_file_line(broken):
    f = broken / "nodes.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("go: menu}", "go: nowhere}", 1), encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "bot.py", "check", str(broken.parent)], cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert f"{f}:" in bad.stderr and "nowhere" in bad.stderr
    good = subprocess.run(
        [sys.executable, "bot.py", "check", str(CONTENT_DIR)], cwd=ROOT, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr


def test_telegram_language_code_picks_the_locale(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR / "zh-CN", root / "zh-CN")
    shutil.copytree(CONTENT_DIR / "zh-CN", root / "en")
    bot = root / "en" / "bot.yaml"
    bot.write_text(
        bot.read_text(encoding="utf-8")
        .replace("locale: zh-CN", "locale: en")
        .replace("language_codes: [zh]", "language_codes: [en]"),
        encoding="utf-8",
    )
    content = load_content(root)
    assert content.for_language("en-US").code == "en"
    assert content.for_language("zh-hans").code == "zh-CN"
    assert content.for_language("fr").code == content.for_language(None).code == "zh-CN", "default for the rest"


def test_law_plain_words_and_checklist_ticked_by_load_and_are_checked(broken):
    lists = broken / "checklists.yaml"
    lists.write_text(
        lists.read_text(encoding="utf-8").rstrip()
        + """
  probe_kit:
    title: 试
    items:
      - {id: own_account, text: 我写的经过, ticked_by: testimony}
      - {id: statements, text: 亲友说明, ticked_by: category:witness}
      - {id: plain, text: 手动打勾}
""",
        encoding="utf-8",
    )
    law = broken / "law.yaml"
    law.write_text(
        law.read_text(encoding="utf-8").rstrip()
        + """
  probe_fact:
    text: 《民法典》第1033条：不得侵扰他人的私人生活安宁。
    plain: 没有你的同意，别人不能一再打扰你。
    source: 《中华人民共和国民法典》
    as_of: 2026-11-01
    certainty: verified
""",
        encoding="utf-8",
    )
    zh = load_content(broken.parent).locale("zh-CN")
    assert zh.law["probe_fact"].plain == "没有你的同意，别人不能一再打扰你。"
    assert [i.ticked_by for i in zh.checklists["probe_kit"].items] == ["testimony", "category:witness", None]

    probe = "{id: statements, text: 亲友说明, ticked_by: category:witness}"
    lists.write_text(
        lists.read_text(encoding="utf-8").replace(probe, probe.replace("witness", "wechat")), encoding="utf-8"
    )
    problems = problems_for(broken)
    line = line_of(lists, "category:wechat")
    assert any(p.startswith(f"{lists}:{line}:") and "ticked_by" in p for p in problems), problems
    assert len([p for p in problems if "ticked_by" in p]) == 1, "testimony is a valid value"
