"""`python bot.py check` on broken content: every mistake an operator can make in a YAML file is
reported as `file:line: problem`, with exit code 1, and never as a traceback.

Each variant starts from the shipped content/zh-CN, breaks one thing, and names the line the
operator must look at (by a piece of text on it) and words the message must contain.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import bot
from tests.conftest import CONTENT_DIR

Edit = Callable[[str], str]


def sub(old: str, new: str) -> Edit:
    """Replace the first ``old``; fail loudly if the shipped file no longer contains it."""

    def edit(text: str) -> str:
        assert old in text, f"the shipped file changed: {old!r} is gone; update this variant"
        return text.replace(old, new, 1)

    return edit


def both(first: Edit, second: Edit) -> Edit:
    return lambda text: second(first(text))


def put(new: str) -> Edit:
    return lambda _text: new


def add(more: str) -> Edit:
    return lambda text: text + more


@dataclass(frozen=True)
class Variant:
    id: str
    file: str  # inside zh-CN/
    edit: Edit | bytes  # bytes: write these bytes instead of the file
    expect: str  # words the message must contain
    at: str | int  # text on the reported line, or the line number itself (line 1 is the schema modeline)


NODE = "  verify_debt:\n    title: 核对欠款\n"  # a node in nodes_step1.yaml, to break in place
BTN = "      - {label: ↩ 回到第一步, go: stop_paying}\n"
ITEM = "      - {id: no_new_loans, text: 不再借新钱还催收}\n"
STEP2 = "  - n: 2\n    title: 保存证据\n"
LAW = "  civil_1033:\n    plain: "
CAT = "  - {id: sms, label: 短信截图}\n"
MSG = '  evidence_duplicate: "这份文件之前已经保存过了，编号 {no}。'

VARIANTS = [
    # ---- whole files
    Variant("bot_is_a_list", "bot.yaml", put("- locale\n- zh-CN\n"), "expected a mapping with the key 'locale:'", 1),
    Variant("bot_is_empty", "bot.yaml", put(""), "the file is empty", 1),
    Variant("nodes_file_is_a_list", "nodes_step5.yaml", put("- sue\n- sue_claims\n"), "found a list", 1),
    Variant("nodes_file_is_empty", "nodes_step5.yaml", put("# nothing yet\n"), "the file is empty", 1),
    Variant("yaml_syntax_error", "steps.yaml", sub("  - n: 2\n", "  - n: [2\n"), "not valid YAML", "title: 保存证据"),
    Variant(
        "tab_indentation", "categories.yaml", sub(CAT, "\t- {id: sms, label: 短信截图}\n"), "not valid YAML", "\t-"
    ),
    Variant("not_utf8", "crisis.yaml", "crisis:\n  words: [不想活]\n  text: 你好\n".encode("gbk"), "not UTF-8", 2),
    Variant(
        "duplicate_yaml_key",
        "law.yaml",
        sub(LAW, "  civil_1032:\n    text: x\n" + LAW),
        "duplicate key 'civil_1032'",
        "  civil_1032:\n    text: x",
    ),
    Variant("key_is_a_list", "categories.yaml", add("? [a, b]\n: c\n"), "a key must be a plain word", "? [a, b]"),
    Variant("top_key_misspelt", "law.yaml", sub("law:\n", "laws:\n"), "'law:' is missing", "laws:"),
    Variant("top_unknown_key", "nodes.yaml", add("extra: 1\n"), "unknown key 'extra' (allowed: nodes)", "extra: 1"),
    # ---- bot.yaml
    Variant(
        "bot_unknown_key", "bot.yaml", add("colour: red\n"), "unknown key 'colour' (allowed: locale, name", "colour"
    ),
    Variant("bot_start_missing", "bot.yaml", sub("start: welcome", "#"), "'start' is missing", 3),
    Variant(
        "bot_start_unknown",
        "bot.yaml",
        sub("start: welcome", "start: welcom"),
        "start node 'welcom' is not defined",
        "start: welcom",
    ),
    Variant(
        "bot_language_codes_text", "bot.yaml", sub("[zh]", "zh"), "'language_codes' must be a list", "language_codes"
    ),
    Variant("bot_timezone_missing", "bot.yaml", sub('timezone: "+08:00"', "#"), "'timezone' is missing", 3),
    Variant(
        "bot_timezone_name",
        "bot.yaml",
        sub('"+08:00"', "Asia/Shanghai"),
        "'timezone' must be a UTC offset",
        "timezone:",
    ),
    Variant(
        "bot_timezone_unquoted", "bot.yaml", sub('"+08:00"', "+10:00"), "YAML reads it as the number 600", "timezone:"
    ),
    Variant(
        "bot_timezone_out_of_range", "bot.yaml", sub('"+08:00"', '"+15:00"'), "between -14:00 and +14:00", "timezone:"
    ),
    Variant(
        "bot_timezone_label_list",
        "bot.yaml",
        sub("timezone_label: 北京时间", "timezone_label: [北京]"),
        "'timezone_label' must be text, not a list",
        "timezone_label",
    ),
    # ---- nodes
    Variant("nodes_is_a_list", "nodes_step5.yaml", put("nodes:\n  - sue\n"), "'nodes' must be a mapping", "nodes:"),
    Variant(
        "node_is_text",
        "nodes_step1.yaml",
        sub(NODE, "  verify_debt: 核对欠款\n  unused:\n    title: 核对欠款\n"),
        "node 'verify_debt' must be a mapping",
        "verify_debt: 核对欠款",
    ),
    Variant(
        "node_unknown_key", "nodes_step1.yaml", sub(NODE, NODE + "    titel: x\n"), "did you mean 'title'?", "titel"
    ),
    Variant(
        "node_bad_id",
        "nodes_step1.yaml",
        sub(NODE, NODE.replace("verify_debt:", "Verify-Debt:")),
        "node id 'Verify-Debt' must start with a-z",
        "Verify-Debt",
    ),
    Variant(
        "node_title_list",
        "nodes_step1.yaml",
        sub("    title: 核对欠款\n", "    title: [核对, 欠款]\n"),
        "'title' must be text, not a list",
        "title: [核对",
    ),
    Variant(
        "node_text_missing", "nodes_step4.yaml", sub("    text: |", "    txt: |"), "'text' is missing", "  police:"
    ),
    Variant(
        "node_step_text",
        "nodes_step1.yaml",
        sub("    step: 1\n", "    step: one\n"),
        "'step' must be a step number from 1 to 5",
        "step: one",
    ),
    Variant(
        "node_step_too_big",
        "nodes_step1.yaml",
        sub("    step: 1\n", "    step: 6\n"),
        "from 1 to 5, not the number 6",
        "step: 6",
    ),
    Variant(
        "node_law_text",
        "nodes_step1.yaml",
        sub("law: [civil_1033]", "law: civil_1033"),
        "'law' must be a list",
        "law: civil_1033",
    ),
    Variant(
        "node_law_unknown",
        "nodes_step1.yaml",
        sub("law: [civil_1033]", "law: [civil_9999]"),
        "law 'civil_9999' is not in law.yaml",
        "civil_9999",
    ),
    Variant(
        "node_checklist_unknown",
        "nodes_step1.yaml",
        sub("checklist: stop_paying_kit", "checklist: stop_kit"),
        "checklist 'stop_kit' is not in checklists.yaml",
        "stop_kit",
    ),
    Variant(
        "node_nav_text",
        "nodes.yaml",
        sub("    nav: false\n", "    nav: nope\n"),
        "'nav' must be true or false",
        "nav: nope",
    ),
    Variant(
        "node_buttons_mapping",
        "nodes_step1.yaml",
        sub("    buttons:\n", "    buttons: {a: b}\n    x_buttons:\n"),
        "'buttons' must be a list of rows",
        "buttons: {a: b}",
    ),
    Variant(
        "node_phrases_text",
        "nodes_step1.yaml",
        sub(NODE, NODE + "    phrases: 要不要还钱\n"),
        "'phrases' must be a list",
        "phrases:",
    ),
    Variant(
        "node_phrases_list",
        "nodes_step1.yaml",
        sub(NODE, NODE + "    phrases:\n      - 欠多少\n      - [1, 2]\n"),
        "item 2 must be text, not a list",
        "- [1, 2]",
    ),
    Variant(
        "phrase_in_two_nodes",
        "nodes_step1.yaml",
        both(
            sub(NODE, NODE + "    phrases: [欠多少]\n"),
            sub("  interest_caps:\n", "  interest_caps:\n    phrases: [欠多少]\n"),
        ),
        "phrase '欠多少' also leads to node 'verify_debt'",
        "    phrases: [欠多少]\n    title: 利息",
    ),
    Variant(
        "phrases_yaml_unknown_node",
        "phrases.yaml",
        sub("  verify_debt:\n", "  verify_dept:\n"),
        "phrases for node 'verify_dept', which is not in any nodes*.yaml",
        "verify_dept:",
    ),
    Variant(
        "phrases_yaml_in_two_nodes",
        "phrases.yaml",
        sub("  verify_debt:\n", "  verify_debt:\n    - 要不要先还\n"),
        "phrase '要不要先还' also leads to node 'stop_paying'",
        "  verify_debt:",
    ),
    Variant(
        "phrases_yaml_same_of_one",
        "phrases.yaml",
        sub("  - [什么, 啥, 神马]\n", "  - [什么]\n"),
        "'same': group 2 must list two or more words",
        "[什么]",
    ),
    Variant(
        "phrases_yaml_greeting_text",
        "phrases.yaml",
        sub("greeting:\n", "greeting: 你好\nx_greeting:\n"),
        "'greeting' must be a list of words",
        "greeting: 你好",
    ),
    Variant(
        "duplicate_node_id",
        "nodes_step2.yaml",
        add("\n  stop_paying:\n    title: x\n    text: y\n"),
        "used twice (first at",
        "  stop_paying:\n    title: x",
    ),
    Variant(
        "unreachable_node",
        "nodes_step1.yaml",
        add("\n  lonely:\n    title: 孤单\n    text: 没有人来\n"),
        "cannot be reached from the start node",
        "lonely:",
    ),
    Variant(
        "dead_end",
        "nodes.yaml",
        both(
            sub(
                "      - [{label: 我是被打扰的亲友, go: relatives}, {label: 五步目录, go: menu}]\n",
                "      - [{label: 我是被打扰的亲友, go: relatives}, {label: 五步目录, go: menu}]\n      - {label: 算了, go: the_end}\n",
            ),
            add("\n  the_end:\n    title: 结束\n    nav: false\n    text: 再见\n"),
        ),
        "is a dead end",
        "  the_end:",
    ),
    # ---- buttons
    Variant(
        "button_is_text", "nodes_step1.yaml", sub(BTN, "      - 怎样核对欠款\n"), "a button must be", "- 怎样核对欠款"
    ),
    Variant(
        "button_unknown_key",
        "nodes_step1.yaml",
        sub(BTN, "      - {label: 怎样核对欠款, goto: verify_debt}\n"),
        "unknown key 'goto' (did you mean 'go'?",
        "goto",
    ),
    Variant(
        "button_go_and_action",
        "nodes_step1.yaml",
        sub(BTN, "      - {label: 怎样核对欠款, go: verify_debt, action: help}\n"),
        "exactly one of 'go' or 'action'",
        "action: help}",
    ),
    Variant(
        "button_go_unknown",
        "nodes_step1.yaml",
        sub("go: verify_debt}", "go: verify_dept}"),
        "goes to unknown node 'verify_dept'",
        "verify_dept",
    ),
    Variant(
        "button_go_number", "nodes_step1.yaml", sub("go: verify_debt}", "go: 7}"), "'go' must be a node id", "go: 7"
    ),
    Variant(
        "button_action_unknown",
        "nodes_step2.yaml",
        sub("action: evidence}", "action: privcy}"),
        "unknown action 'privcy'",
        "privcy",
    ),
    Variant(
        "button_label_too_long",
        "nodes_step1.yaml",
        sub("{label: 怎样核对欠款,", "{label: " + "怎样核对欠款" * 3 + ","),
        "too long for a phone button",
        "怎样核对欠款怎样核对欠款",
    ),
    Variant(
        "button_row_too_long",
        "nodes_step1.yaml",
        sub(
            "      - [{label: 怎样核对欠款, go: verify_debt}, {label: ↩ 回到第一步, go: stop_paying}]\n",
            "      - [{label: a, go: menu}, {label: b, go: menu}, {label: c, go: menu}, {label: d, go: menu}]\n",
        ),
        "a row holds at most 3 buttons",
        "{label: d",
    ),
    # ---- checklists
    Variant(
        "checklists_is_a_list",
        "checklists.yaml",
        put("checklists:\n  - a\n  - b\n"),
        "'checklists' must be a mapping",
        "checklists:",
    ),
    Variant(
        "checklist_is_text",
        "checklists.yaml",
        sub(
            "  stop_paying_kit:\n    title: 停还清单\n    items:\n",
            "  stop_paying_kit: 停还清单\n  x:\n    title: 停还清单\n    items:\n",
        ),
        "checklist 'stop_paying_kit' must be a mapping",
        "stop_paying_kit: 停还清单",
    ),
    Variant(
        "checklist_items_mapping",
        "checklists.yaml",
        sub("    items:\n", "    items: {a: b}\n    x_items:\n"),
        "'items' must be a non-empty list",
        "items: {a: b}",
    ),
    Variant(
        "checklist_item_text_list",
        "checklists.yaml",
        sub(ITEM, "      - {id: contract, text: [找到, 合同]}\n"),
        "'text' must be text, not a list",
        "[找到, 合同]",
    ),
    Variant(
        "checklist_item_unknown_key",
        "checklists.yaml",
        sub(ITEM, "      - {id: contract, txt: 找到借款合同}\n"),
        "unknown key 'txt'",
        "txt:",
    ),
    Variant("checklist_item_duplicate_id", "checklists.yaml", sub(ITEM, ITEM + ITEM), "appears twice", 13),
    Variant(
        "checklist_item_bad_id",
        "checklists.yaml",
        sub("{id: contract,", "{id: Contract,"),
        "item id 'Contract' must start with a-z",
        "Contract",
    ),
    # ---- steps
    Variant(
        "steps_is_a_mapping", "steps.yaml", put("steps:\n  one: stop_paying\n"), "'steps' must be a list", "steps:"
    ),
    Variant("steps_empty", "steps.yaml", put("steps: []\n"), "lists 0 steps; a flow has 1 to 8", "steps:"),
    Variant(
        "step_is_text",
        "steps.yaml",
        sub(STEP2 + "    short: ②存证\n    node: save_evidence\n", "  - 保存证据\n"),
        "step 2 must be a mapping",
        "- 保存证据",
    ),
    Variant("step_wrong_n", "steps.yaml", sub("  - n: 2\n", "  - n: 3\n"), "'n' must be 2", "n: 3"),
    Variant("step_unknown_key", "steps.yaml", sub(STEP2, STEP2 + "    icon: x\n"), "unknown key 'icon'", "icon"),
    Variant(
        "step_node_unknown",
        "steps.yaml",
        sub("node: complain", "node: complian"),
        "step 3 starts at unknown node 'complian'",
        "steps:",
    ),
    Variant(
        "step_bar_too_wide",
        "steps.yaml",
        sub("short: ③投诉", "short: ③向监管投诉"),
        "the step bar does not fit one phone row",
        "③向监管投诉",
    ),
    # ---- law
    Variant("law_is_a_list", "law.yaml", put("law:\n  - civil_1033\n"), "'law' must be a mapping", "law:"),
    Variant(
        "law_entry_is_text",
        "law.yaml",
        sub(LAW, "  civil_1033: 隐私\n  x_1033:\n    plain: "),
        "law 'civil_1033' must be a mapping",
        "civil_1033: 隐私",
    ),
    Variant(
        "law_source_missing",
        "law.yaml",
        sub("    source: 《中华人民共和国民法典》第一千零三十三条第一项\n", ""),
        "'source' is missing",
        "  civil_1033:",
    ),
    Variant(
        "law_bad_date", "law.yaml", sub("as_of: 2026-11-01", "as_of: soon"), "'as_of' must be a date", "as_of: soon"
    ),
    Variant(
        "law_bad_certainty",
        "law.yaml",
        sub("    certainty: verified\n", "    certainty: sure\n"),
        "'certainty' must be 'verified' or 'reported'",
        "certainty: sure",
    ),
    Variant(
        "law_unknown_key", "law.yaml", sub(LAW, "  civil_1033:\n    url: x\n    plain: "), "unknown key 'url'", "url: x"
    ),
    # ---- categories
    Variant(
        "categories_is_a_mapping",
        "categories.yaml",
        put("categories:\n  sms: 短信\n"),
        "'categories' must be a non-empty list",
        "categories:",
    ),
    Variant(
        "category_is_text", "categories.yaml", sub(CAT, "  - 短信截图\n"), "category 2 must be a mapping", "- 短信截图"
    ),
    Variant("category_duplicate_id", "categories.yaml", sub(CAT, CAT + CAT), "category id 'sms' appears twice", 8),
    Variant(
        "category_unknown_key",
        "categories.yaml",
        sub(CAT, "  - {id: sms, lable: 短信截图}\n"),
        "unknown key 'lable' (did you mean 'label'?",
        "lable",
    ),
    # ---- crisis
    Variant("crisis_is_a_list", "crisis.yaml", put("crisis:\n  - 想死\n"), "'crisis' must be a mapping", "crisis:"),
    Variant(
        "crisis_words_text",
        "crisis.yaml",
        sub("  words:\n", "  words: 想死\n  x_words:\n"),
        "'words' must be a non-empty list",
        "words: 想死",
    ),
    Variant("crisis_text_missing", "crisis.yaml", sub("  text: |", "  txt: |"), "'text' is missing", "crisis:"),
    Variant("crisis_unknown_key", "crisis.yaml", add("  hotline: 12356\n"), "unknown key 'hotline'", "hotline"),
    # ---- messages
    Variant(
        "messages_is_a_list", "messages.yaml", put("messages:\n  - help\n"), "'messages' must be a mapping", "messages:"
    ),
    Variant(
        "message_unknown_key",
        "messages.yaml",
        add("  evidence_duplicat: x\n"),
        "unknown message key 'evidence_duplicat'",
        "evidence_duplicat:",
    ),
    Variant(
        "message_missing",
        "messages.yaml",
        lambda t: re.sub(r"\n  stale_button: .*\n", "\n", t, count=1),
        "message 'stale_button' is missing",
        1,
    ),
    Variant(
        "message_unknown_placeholder",
        "messages.yaml",
        sub(MSG, MSG.replace("{no}", "{number}")),
        "uses {number}; allowed: {no}",
        "{number}",
    ),
    Variant(
        "message_lone_brace",
        "messages.yaml",
        sub(MSG, MSG.replace("{no}", "{no")),
        "literal brace",
        "evidence_duplicate",
    ),
    Variant(
        "message_positional_field",
        "messages.yaml",
        sub(MSG, MSG.replace("{no}", "{}")),
        "not a placeholder the code can fill",
        "evidence_duplicate",
    ),
    Variant(
        "message_is_a_list",
        "messages.yaml",
        sub("  btn_cancel: 取消", "  btn_cancel: [取消]"),
        "'btn_cancel' must be text, not a list",
        "btn_cancel",
    ),
    Variant("message_key_number", "messages.yaml", add("  404: 找不到\n"), "message key 404", "404:"),
    Variant(
        "message_in_two_files",
        "messages_extra.yaml",
        put("messages:\n  btn_cancel: 算了\n"),
        "message 'btn_cancel' is defined twice (first at",
        "btn_cancel",
    ),
    Variant(
        "message_fixed_label_changed",
        "messages.yaml",
        sub("btn_confirm_export: 确认导出", "btn_confirm_export: 导出"),
        "must be exactly '确认导出'",
        "btn_confirm_export",
    ),
]


def locate(path: Path, at: str | int) -> int:
    if isinstance(at, int):
        return at
    text = path.read_bytes().decode("utf-8", "replace")
    i = text.find(at)
    assert i >= 0, f"{at!r} is not in {path.name}"
    return text[:i].count("\n") + 1 + (1 if at.startswith("\n") else 0)


@pytest.mark.parametrize("v", VARIANTS, ids=lambda v: v.id)
def test_broken_content_is_named_by_file_and_line(v: Variant, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR / "zh-CN", root / "zh-CN")
    path = root / "zh-CN" / v.file
    if isinstance(v.edit, bytes):
        path.write_bytes(v.edit)
    else:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        new = v.edit(old)
        assert new != old, "the edit changed nothing"
        path.write_text(new, encoding="utf-8")

    code = bot.main(["check", str(root)])

    out = capsys.readouterr()
    assert code == 1, out.out
    assert "Traceback" not in out.err
    line = locate(path, v.at)
    located = [p.strip() for p in out.err.splitlines() if p.strip().startswith(f"{path}:{line}:")]
    assert any(v.expect in p for p in located), f"wanted {path.name}:{line}: …{v.expect}…, got:\n{out.err}"
