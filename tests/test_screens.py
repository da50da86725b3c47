"""Screens a phone can hold: every screen the content can produce, rendered as a person sees it,
is short (at most 600 characters as Telegram counts them) and has at most 8 buttons."""

from __future__ import annotations

import pytest

from flows.model import Case
from flows.screens import checklist_screen, law_screen, render, steps_screen
from tests.fakes.html_parse import parse_html, utf16_len

MAX_CHARS = 600
MAX_BUTTONS = 8


def screens(loc):
    """(name, message) for every node, its checklist and its law screen, and the steps list,
    with every checklist item ticked (the longest labels) and with none."""
    everything = {f"{c.id}:{i.id}" for c in loc.checklists.values() for i in c.items}
    for ticks in (set(), everything):
        for node in loc.nodes.values():
            case = Case("c", 1, loc.code, node.id, set(ticks))
            yield f"node {node.id}", render(case, loc)
            if node.checklist:
                yield f"checklist of {node.id}", checklist_screen(case, loc, node)
            if node.law:
                yield f"law of {node.id}", law_screen(loc, node)
    yield "steps", steps_screen(loc)


def test_every_screen_fits_a_phone(zh):
    too_long, too_many = [], []
    for name, msg in screens(zh):
        text, _ = parse_html(msg.text)
        if utf16_len(text) > MAX_CHARS:
            too_long.append(f"{name}: {utf16_len(text)}")
        count = sum(len(row) for row in msg.buttons)
        if count > MAX_BUTTONS:
            too_many.append(f"{name}: {count}")
    assert not too_long, f"over {MAX_CHARS} characters: {too_long}"
    assert not too_many, f"over {MAX_BUTTONS} buttons: {too_many}"


def test_no_node_body_ends_in_a_statute_block(zh):
    for node in zh.nodes.values():
        tail = node.text.strip().splitlines()[-1]
        assert "第" not in tail or "条" not in tail, f"{node.id} ends in a statute: {tail}"


@pytest.mark.parametrize("node_id", ["save_evidence", "police"])
def test_the_law_is_behind_a_button_in_plain_words_first(zh, node_id):
    node = zh.nodes[node_id]
    msg = render(Case("c", 1, zh.code, node_id), zh)
    assert any(b.data == f"w|{node_id}" for row in msg.buttons for b in row)
    law = law_screen(zh, node)
    first = zh.law[node.law[0]]
    assert first.plain and law.text.index(first.plain) < law.text.index(first.text[:10])
