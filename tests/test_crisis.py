"""Crisis words: every way a person in despair might put it brings the crisis message first, and
the everyday hyperbole of Chinese (累死了, 笑死我了) does not."""

from __future__ import annotations

import pytest

from flows.content import load_content
from flows.listen import Crisis, is_crisis, load_crisis_exceptions
from tests.conftest import CONTENT_DIR

WORDS = load_content(CONTENT_DIR).locale("zh-CN").crisis_words
EXCEPTIONS = load_crisis_exceptions(CONTENT_DIR / "zh-CN" / "crisis.yaml")

IN_CRISIS = [
    "我真的不想活了",
    "活着没意思",
    "我撑不住了",
    "真的撑不住了，对不起",
    "这样下去我没法活了",
    "欠了这么多，我活不了了",
    "有时候真想寻短见",
    "被他们这样搞，还不如死了算了",
    "还不如死了干净",
    "我想去死",
    "好想死啊",
    "我想死",
    "活着好累",
    "活着真的好累",
    "活得好累，不想再撑了",
    "我不想再活了",
    "不 想 活 了",
    "不想活。。。",
    "家里还有一瓶安眠药",
    "我囤了好多安眠药",
    "我站在楼顶，想跳下去",
    "从桥上跳下去就结束了",
    "我想自杀",
    "想过轻生",
    "我在写遗书",
    "想一了百了",
    "我想结束这一切",
    "我想离开这个世界",
    "不想醒来了",
    "我准备割腕",
    "活着还有什么意思",
    "活着干嘛呢",
    "我已经活够了",
    "真的熬不下去了",
    "我扛不住了",
    "实在坚持不下去了",
    "一死了之算了",
    "我想自我了断",
    "輕生的念頭一直有",
    "我想自殺",
    "活着真没意思",
    "生无可恋",
    "我有伤害自己的念头",
    "想zisha",
    "我妈要是知道了，我只能去跳河",
]

NOT_CRISIS = [
    "累死了",
    "笑死我了",
    "饿死了",
    "手机死机了",
    "烦死了",
    "吓死我了",
    "气死我了",
    "急死了，怎么办",
    "热死了",
    "困死了",
    "忙死了",
    "他们骂我去死",
    "催收说要弄死我",
    "今天好累",
    "上班好累",
    "我压力好大",
    "我睡不着",
    "妈，想死你了",
    "好久不见，想死我了",
    "跳楼价大甩卖",
    "我要报警",
    "我不想还钱了",
    "他们天天打电话，我快疯了",
    "活动是什么时候",
    "生活费都没了",
    "死活不接电话",
    "我想去派出所",
    "他们说不还就死定了",
]


@pytest.mark.parametrize("text", IN_CRISIS)
def test_a_person_in_crisis_is_heard(text):
    assert is_crisis(text, WORDS, EXCEPTIONS), text


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_everyday_hyperbole_is_not_a_crisis(text):
    assert not is_crisis(text, WORDS, EXCEPTIONS), text


def test_the_list_is_long_enough_and_holds_the_words_the_issue_names():
    assert len(IN_CRISIS) + len(NOT_CRISIS) >= 60
    for w in [
        "撑不住了",
        "没法活了",
        "活不了了",
        "寻短见",
        "还不如死",
        "想去死",
        "活着好累",
        "不想再活了",
        "安眠药",
        "跳下去",
    ]:
        assert is_crisis(w, WORDS, EXCEPTIONS), w


def test_every_listed_word_triggers_on_its_own_and_spaced_out():
    for w in WORDS:
        assert is_crisis(w, WORDS, EXCEPTIONS), w
        assert is_crisis(" ".join(w) + "。", WORDS, EXCEPTIONS), w


def test_plain_substring_matching_misses_what_this_catches():
    """Why is_crisis exists: today's Locale.is_crisis is a substring test."""
    missed = [t for t in IN_CRISIS if not any(w in t for w in WORDS)]
    assert "不 想 活 了" in missed and "活着真的好累" in missed
    assert all(is_crisis(t, WORDS, EXCEPTIONS) for t in missed)


def test_an_exception_does_not_hide_a_real_crisis_next_to_it():
    assert is_crisis("想死你了，可是我真的想死", WORDS, EXCEPTIONS)
    assert not Crisis([], [])("我想死")
    assert Crisis(["想死"])("想死你了")  # without its exceptions the word alone would fire
