"""content/schema.json: generated from the loader's own declarations, referenced by every YAML
file, accepting all shipped content and rejecting the broken samples a schema can see.

The ``jsonschema`` package is not installed here, so documents are checked with
``flows.content.schema_json.validate``, which knows exactly the keywords the generator emits and
refuses any other (a schema it cannot fully check is an error, not a silent pass).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.content.schema_json import MODELINE, SCHEMA_PATH, content_schema, render, validate
from flows.content.sections import BOT_KEYS, CHECKLIST_KEYS, ITEM_KEYS, LAW_KEYS
from flows.content.yamlines import YamlProblem, parse
from tests.conftest import CONTENT_DIR
from tests.test_content_broken import VARIANTS, Variant

SCHEMA = content_schema()
SHIPPED = sorted(CONTENT_DIR.glob("*/*.yaml"))

# What a JSON Schema cannot say: references between files, the graph, widths in phone cells,
# placeholders, ids repeated across entries or files. check (the loader) reports these.
BEYOND_A_SCHEMA = {
    "bot_start_unknown", "node_step_too_big", "node_law_unknown", "node_checklist_unknown", "phrase_in_two_nodes",
    "phrases_yaml_unknown_node", "phrases_yaml_in_two_nodes", "duplicate_node_id", "unreachable_node", "dead_end",
    "button_go_unknown", "button_label_too_long", "step_wrong_n", "step_node_unknown", "step_bar_too_wide",
    "category_duplicate_id", "message_missing", "message_unknown_placeholder", "message_lone_brace",
    "message_positional_field", "message_in_two_files",
}  # fmt: skip
NOT_YAML = {"yaml_syntax_error", "tab_indentation", "not_utf8", "duplicate_yaml_key", "key_is_a_list"}


def test_the_committed_schema_is_the_generated_one():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), (
        "content/schema.json is out of date: run `python -m flows.content.schema_json --write`"
    )
    json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_the_schema_names_the_keys_the_loader_allows():
    defs = SCHEMA["definitions"]
    assert tuple(defs["file_bot"]["properties"]) == BOT_KEYS
    assert tuple(defs["law_fact"]["properties"]) == LAW_KEYS
    assert tuple(defs["checklist"]["properties"]) == CHECKLIST_KEYS
    assert tuple(defs["checklist_item"]["properties"]) == ITEM_KEYS


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_file_names_the_schema_and_passes_it(path: Path):
    assert path.read_text(encoding="utf-8").splitlines()[0] == MODELINE
    assert validate(parse(path), SCHEMA) == []


@pytest.mark.parametrize("v", [v for v in VARIANTS if v.id not in NOT_YAML], ids=lambda v: v.id)
def test_the_schema_rejects_the_broken_samples_it_can_see(v: Variant, tmp_path: Path):
    source = CONTENT_DIR / "zh-CN" / v.file
    path = tmp_path / v.file
    if isinstance(v.edit, bytes):
        path.write_bytes(v.edit)
    else:
        path.write_text(v.edit(source.read_text(encoding="utf-8") if source.exists() else ""), encoding="utf-8")
    try:
        doc = parse(path)
    except YamlProblem:
        pytest.fail("every sample outside NOT_YAML is readable YAML")
    errors = validate(doc, SCHEMA)
    if v.id in BEYOND_A_SCHEMA:
        assert errors == [], "a schema cannot see this one; if it now can, move it out of BEYOND_A_SCHEMA"
    else:
        assert errors, f"the schema accepts the broken sample {v.id}"


def test_a_messages_file_is_completed_with_the_codes_keys_and_their_placeholders():
    messages = SCHEMA["definitions"]["file_messages"]["properties"]["messages"]["properties"]
    assert messages["evidence_duplicate"]["description"] == "placeholders: {no}"
    assert messages["btn_confirm_delete"]["enum"] == ["确认删除"]
    actions = SCHEMA["definitions"]["button"]["properties"]["action"]["enum"]
    assert {"testimony", "evidence", "export"} <= set(actions)


def test_the_checker_refuses_a_keyword_it_does_not_know():
    with pytest.raises(ValueError, match="uniqueItems"):
        validate([1, 1], {"type": "array", "uniqueItems": True})
