"""English: a person whose Telegram speaks English walks all five steps in English, through the
real Application against the fake Bot API; /language switches and is remembered; the law stays
China's and says so; crisis words and free text work in English; check keeps the locales in step."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from benchmarks.listen import evaluate, load_rows
from flows.content import label_width
from flows.content.check import check_content
from flows.content.limits import visible_text
from flows.features.listening import build
from flows.model import Case
from flows.screens import checklist_screen, law_screen, render
from tests.conftest import CONTENT_DIR, settled

USER = 555000111
UTTERANCES_EN = Path(__file__).parent / "data" / "utterances_en.tsv"


@pytest.fixture(scope="module")
def en(content):
    return content.locale("en")


def go_label(loc, node_id: str, target: str) -> str:
    return next(b.label for row in loc.nodes[node_id].buttons for b in row if b.go == target)


async def test_an_english_speaker_walks_the_five_steps_in_english(bot, fake, en, zh):
    user = fake.user(USER, "Alex", language_code="en-GB")
    user.send("/start")
    (welcome,) = await user.wait_for_messages(1)
    assert welcome.raw_text.startswith(en.nodes[en.start].text.strip()[:60])
    assert "law of mainland China" in welcome.text, "the law stays China's, and the first screen says so"
    user.press(welcome, go_label(en, en.start, "menu"))
    (menu,) = await user.wait_for_messages(1)
    last = menu
    for step in en.steps:
        data = next(b.data for row in last.buttons for b in row if b.data in (f"s|{step.n}", f"g|menu|{step.node}"))
        user.press_data(last, data)
        (msg,) = await user.wait_for_messages(1)
        node = en.nodes[step.node]
        assert msg.raw_text.startswith(node.text.strip())
        checklist_button = next(label for label in msg.button_labels if label.startswith("📋"))
        assert checklist_button.startswith("📋 Checklist")
        user.press(msg, checklist_button)
        (checklist,) = await user.wait_for_messages(1)
        item = en.checklists[node.checklist].items[0]
        user.press(checklist, f"☐ {item.text}")
        edited = await user.wait_for_edit(checklist)
        assert f"☑ {item.text}" in edited.button_labels
        law = next(label for label in msg.button_labels if label.startswith("📖"))
        user.press(msg, law)
        (page,) = await user.wait_for_messages(1)
        fact = en.law[node.law[0]]
        assert fact.plain in page.text and "(mainland China)" in page.text
        assert fact.source == zh.law[node.law[0]].source, "sources stay in the original Chinese"
        last = msg
    user.send("/status")
    (status,) = await user.wait_for_messages(1)
    for step in en.steps:
        line = next(l for l in status.text.splitlines() if step.title in l)
        assert "checklist 1/" in line
    assert en.msg("status_here").strip() in status.text
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in status.text), "no Chinese left in an English screen"
    assert not fake.unanswered_callbacks()


async def test_english_testimony_crisis_and_free_text(bot, fake, en):
    user = fake.user(USER, language_code="en")
    user.send("/testimony")
    (prompt,) = await user.wait_for_messages(1)
    assert prompt.text.startswith("In one message, write in your own words")
    user.send("Since March they call my mother every night and said they would post my photo.")
    *_, saved = await user.wait_for_messages(2)
    assert saved.text.startswith("✅ Saved as E-001") and "Kind: written account" in saved.text

    user.send("i want to diet")  # not a crisis: English crisis phrases match whole words
    (answer,) = await user.wait_for_messages(1)
    assert not answer.raw_text.startswith(en.crisis_text.strip()[:40])

    user.send("the collectors are calling my mom right now")
    (understood,) = await user.wait_for_messages(1)
    assert understood.raw_text.startswith(en.msg("listen_understood", title=en.nodes["right_now"].title))

    crisis = user.send("I can't go on, I want to die")
    (care,) = await user.wait_for_messages(1)
    assert care.raw_text.startswith(en.crisis_text.strip()[:40])
    assert "12356" in care.text and "It answers in Chinese" in care.text
    await settled(bot, crisis)


async def test_language_switch_is_remembered_over_telegrams_language(bot, fake, en, zh):
    user = fake.user(USER, language_code="en-US")
    user.send("/language")
    (menu,) = await user.wait_for_messages(1)
    assert f"✓ {en.msg('language_name')}" in menu.button_labels
    assert menu.text == en.msg("language_choose")
    user.press(menu, zh.msg("language_name"))
    switched, node = await user.wait_for_messages(2)
    assert switched.raw_text == zh.msg("language_switched", name=zh.msg("language_name"))
    user.send("/status")  # Telegram still says English: the choice wins
    (status,) = await user.wait_for_messages(1)
    assert status.text.startswith("你的五步进度")
    user.send("/language")
    (menu,) = await user.wait_for_messages(1)
    user.press(menu, en.msg("language_name"))
    await user.wait_for_messages(2)
    user.send("/help")
    (help_,) = await user.wait_for_messages(1)
    assert help_.text.startswith("What Shouhu (守护) does")


async def test_a_chinese_speaker_still_gets_chinese_and_the_menu_is_in_both(bot, fake, zh, en):
    user = fake.user(USER + 1, language_code="zh-hans")
    user.send("/help")
    (help_,) = await user.wait_for_messages(1)
    assert help_.text.startswith("守护能做什么")
    english_menu = next(m for (_scope, lang), m in fake.commands.items() if lang == "en")
    assert {c["description"] for c in english_menu} >= {en.msg("command_delete"), en.msg("command_language")}


def test_every_english_screen_fits_a_phone(en):
    ticks = {f"{c.id}:{i.id}" for c in en.checklists.values() for i in c.items}
    widest_law = 0
    for node in en.nodes.values():
        case = Case("c", 1, "en", node.id, set(ticks))
        shown = render(case, en)
        assert label_width(visible_text(shown.text)) <= 1200, node.id  # 600 Chinese characters' room
        assert sum(len(r) for r in shown.buttons) <= 8, node.id
        if node.checklist:
            assert sum(len(r) for r in checklist_screen(case, en, node).buttons) <= 8
        if node.law:
            widest_law = max(widest_law, len(visible_text(law_screen(en, node).text)))
    assert widest_law <= 2500, f"a law page of {widest_law} characters is more than two screens"


def test_english_free_text_finds_its_screen(en):
    rows = load_rows(UTTERANCES_EN)
    assert len(rows) >= 120
    scores, misses = evaluate(build(en), rows)
    s = scores["all"]
    shown = "\n".join(f"{r.expected}: {r.text} -> {m.nodes}" for r, m in misses)
    assert s.top1 / s.n >= 0.85, f"top-1 {s.top1}/{s.n}; misses:\n{shown}"
    assert s.top3 / s.n >= 0.90, f"top-3 {s.top3}/{s.n}; misses:\n{shown}"
    assert s.confident_wrong <= 0.05 * s.confident


def test_check_keeps_english_in_step_with_chinese(tmp_path, zh, en):
    assert set(en.nodes) == set(zh.nodes) and set(en.law) == set(zh.law)
    assert {c: [i.id for i in cl.items] for c, cl in en.checklists.items()} == {
        c: [i.id for i in cl.items] for c, cl in zh.checklists.items()
    }
    assert [c.id for c in en.categories] == [c.id for c in zh.categories]
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    nodes = root / "en" / "nodes_step4.yaml"
    text = nodes.read_text(encoding="utf-8")
    nodes.write_text(text.replace("  police_law:", "  police_crimes:", 1), encoding="utf-8")
    problems = [str(p) for p in check_content(root, today=date(2026, 11, 29)).problems]
    assert any(p.startswith(f"{nodes}:1: node 'police_law' is in zh-CN") for p in problems), problems
    assert any("node 'police_crimes' is in en but not in zh-CN" in p for p in problems), problems
