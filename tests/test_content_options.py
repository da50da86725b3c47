"""What a clinic may shape in content: how many steps, several message files, its clock, the
phrases people type; and what the code may tell the loader (its actions and message keys)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.content import Content, Locale, load_content
from flows.engine import code_tables
from flows.errors import ContentError
from flows.model import Case
from flows.screens import render, steps_screen
from tests.conftest import CONTENT_DIR

ACTIONS, MESSAGES, PLAIN_TEXT_MESSAGES = code_tables()


@pytest.fixture
def zh_dir(tmp_path) -> Path:
    shutil.copytree(CONTENT_DIR / "zh-CN", tmp_path / "content" / "zh-CN")
    return tmp_path / "content" / "zh-CN"


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} is not in {path.name} {count} times"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def problems(root: Path, **kwargs) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_content(root, **kwargs)
    return [str(p) for p in info.value.problems]


def steps_list(content: Content) -> list[tuple[str, str]]:
    """The steps screen (/menu's list of steps) as (label, callback data), without its back row."""
    shown = steps_screen(content.locale("zh-CN"))
    return [(row[0].label, row[0].data) for row in shown.buttons[:-1]]


def step_moves(content: Content, node: str) -> list[str]:
    """Where the step navigation under ``node`` leads: the callback data of its step buttons."""
    loc = content.locale("zh-CN")
    shown = render(Case("c", 1, loc.code, node), loc)
    return [b.data for row in shown.buttons for b in row if b.data.startswith("s|")]


def load(root: Path, **kwargs) -> Locale:
    return load_content(root, **kwargs).locale("zh-CN")


# ----------------------------------------------------------------------------- steps


def four_steps(zh_dir: Path) -> None:
    """Step 5 (sue) folded into step 4: a clinic that does not litigate."""
    steps = zh_dir / "steps.yaml"
    text = steps.read_text(encoding="utf-8")
    steps.write_text(text[: text.index("  - n: 5")], encoding="utf-8")
    nodes = zh_dir / "nodes_step5.yaml"
    edit(nodes, "    step: 5\n", "    step: 4\n", count=nodes.read_text(encoding="utf-8").count("    step: 5\n"))


def seven_steps(zh_dir: Path, sixth_short: str = "⑥回访") -> None:
    """Two more steps (a follow-up call and closing the case), each with its own node."""
    (zh_dir / "steps.yaml").write_text(
        (zh_dir / "steps.yaml").read_text(encoding="utf-8")
        + f"  - n: 6\n    title: 回访\n    short: {sixth_short}\n    node: follow_up\n"
        + "  - n: 7\n    title: 结案\n    short: ⑦结案\n    node: close\n",
        encoding="utf-8",
    )
    (zh_dir / "nodes_step6.yaml").write_text(
        "nodes:\n"
        "  follow_up:\n    title: 回访\n    step: 6\n    text: 过一周，我们再看看情况。\n"
        "    buttons:\n      - {label: 结案, go: close}\n"
        "  close:\n    title: 结案\n    step: 7\n    text: 这件事告一段落了。\n"
        "    buttons:\n      - {label: 回到开头, go: welcome}\n",
        encoding="utf-8",
    )


def test_four_steps_are_listed_and_the_last_has_no_next_step(zh_dir):
    four_steps(zh_dir)
    content = load_content(zh_dir.parent)
    assert steps_list(content) == [
        ("1. 停止恐慌还款", "s|1"),
        ("2. 保存证据", "s|2"),
        ("3. 向监管投诉", "s|3"),
        ("4. 报警", "s|4"),
    ]
    assert step_moves(content, "sue") == ["s|3"], "step 4 is the last: back to 3, no next"
    assert content.locale("zh-CN").nodes["sue"].step == 4


def test_seven_steps_are_listed_and_walked_in_order(zh_dir):
    seven_steps(zh_dir)
    content = load_content(zh_dir.parent)
    loc = content.locale("zh-CN")
    assert [s.short for s in loc.steps][-2:] == ["⑥回访", "⑦结案"]
    assert steps_list(content)[-2:] == [("6. 回访", "s|6"), ("7. 结案", "s|7")] and len(steps_list(content)) == 7
    assert step_moves(content, "follow_up") == ["s|5", "s|7"]
    assert step_moves(content, "close") == ["s|6"]


def test_the_step_bar_must_fit_one_row_whatever_the_number_of_steps(zh_dir, tmp_path):
    # "⑤找律师" is 7 cells: five steps share 40 cells (8 each), so it fits ...
    edit(zh_dir / "steps.yaml", "short: ⑤起诉", "short: ⑤找律师")
    assert load(zh_dir.parent).steps[4].short == "⑤找律师"
    # ... but seven steps leave 5 cells each, and then the same width is refused, at its line.
    seven_steps(zh_dir, sixth_short="⑥找律师")
    found = problems(zh_dir.parent)
    steps_file = zh_dir / "steps.yaml"
    lines = steps_file.read_text(encoding="utf-8").splitlines()
    for label in ("⑤找律师", "⑥找律师"):
        line = next(i for i, text in enumerate(lines, 1) if label in text)
        assert any(
            p.startswith(f"{steps_file}:{line}:")
            and "step bar does not fit one phone row" in p
            and "7 steps share 40 cells" in p
            and "5 cells wide" in p
            for p in found
        ), found
    assert len(found) == 2, found


def test_more_than_eight_steps_or_none_are_refused(zh_dir):
    steps = zh_dir / "steps.yaml"
    text = steps.read_text(encoding="utf-8")
    more = "".join(f"  - n: {n}\n    title: 步骤{n}\n    short: 步{n}\n    node: menu\n" for n in range(6, 10))
    steps.write_text(text + more, encoding="utf-8")
    assert any("'steps' lists 9 steps; a flow has 1 to 8" in p for p in problems(zh_dir.parent))
    steps.write_text("steps: []\n", encoding="utf-8")
    assert any("'steps' lists 0 steps" in p for p in problems(zh_dir.parent))


def test_a_node_may_not_belong_to_a_step_that_does_not_exist(zh_dir):
    four_steps(zh_dir)
    edit(zh_dir / "nodes_step5.yaml", "    step: 4\n", "    step: 5\n")
    f = zh_dir / "nodes_step5.yaml"
    assert any(
        p.startswith(f"{f}:") and "'step' must be a step number from 1 to 4, not the number 5" in p
        for p in problems(zh_dir.parent)
    )


# ----------------------------------------------------------------------------- messages


def test_messages_may_be_split_over_several_files(zh_dir):
    main = zh_dir / "messages.yaml"
    text = main.read_text(encoding="utf-8")
    moved = re.search(r"^  evidence_duplicate: .*\n", text, re.MULTILINE)
    assert moved
    main.write_text(text.replace(moved.group(0), ""), encoding="utf-8")
    (zh_dir / "messages_evidence.yaml").write_text("messages:\n" + moved.group(0), encoding="utf-8")
    loc = load(zh_dir.parent)
    assert loc.msg("evidence_duplicate", no="E-7").startswith("这份文件之前已经保存过了，编号 E-7")


def test_the_code_says_which_messages_and_actions_exist(zh_dir):
    required = {**MESSAGES, "language_chosen": frozenset({"name"})}
    messages = zh_dir / "messages.yaml"
    assert any(
        p.startswith(f"{messages}:1:") and "message 'language_chosen' is missing" in p
        for p in problems(zh_dir.parent, required_messages=required)
    )

    (zh_dir / "messages_language.yaml").write_text(
        "messages:\n  language_chosen: 好的，现在用{name}。\n", encoding="utf-8"
    )
    edit(zh_dir / "nodes_step2.yaml", "{label: 我的证据, action: evidence}", "{label: 案卷, action: case_file}")
    assert any("unknown action 'case_file'" in p for p in problems(zh_dir.parent, required_messages=required))

    loc = load(zh_dir.parent, required_messages=required, actions=ACTIONS | {"case_file"})
    assert loc.msg("language_chosen", name="<中文>") == "好的，现在用&lt;中文&gt;。"
    assert any(b.action == "case_file" for row in loc.nodes["save_evidence"].buttons for b in row)
    plain = load(
        zh_dir.parent,
        required_messages=required,
        actions=ACTIONS | {"case_file"},
        plain_text_messages=frozenset({"language_chosen"}),
    )
    assert plain.msg("language_chosen", name="<中文>") == "好的，现在用<中文>。"


# ----------------------------------------------------------------------------- clock and phrases


def test_the_locale_carries_its_clock(content, zh_dir):
    zh = content.locale("zh-CN")
    assert zh.tz.utcoffset(None) == timedelta(hours=8) and zh.tz_label == "北京时间"
    assert datetime(2026, 1, 1, 20, 30, tzinfo=UTC).astimezone(zh.tz).strftime("%m-%d %H:%M") == "01-02 04:30"

    edit(zh_dir / "bot.yaml", '"+08:00"', '"-03:30"')
    edit(zh_dir / "bot.yaml", "北京时间", "Newfoundland")
    loc = load(zh_dir.parent)
    assert loc.tz.utcoffset(None) == -timedelta(hours=3, minutes=30) and loc.tz_label == "Newfoundland"


def test_nodes_carry_the_phrases_people_type_from_the_node_and_from_phrases_yaml(zh_dir):
    edit(zh_dir / "nodes_step1.yaml", "  verify_debt:\n", "  verify_debt:\n    phrases: [欠多少钱, 核对欠款]\n")
    loc = load(zh_dir.parent)
    said = loc.nodes["verify_debt"].phrases
    assert said[:2] == ("欠多少钱", "核对欠款") and "到底欠多少" in said, "the node's own first, then phrases.yaml's"
    assert said.count("核对欠款") == 1, "written in both places, kept once"

    (zh_dir / "phrases.yaml").unlink()
    loc = load(zh_dir.parent)
    assert loc.nodes["verify_debt"].phrases == ("欠多少钱", "核对欠款")
    assert loc.nodes["stop_paying"].phrases == (), "no phrases anywhere: an empty tuple"
