"""content/schema.json, generated from shapes.py, and a small checker for the schema it makes.

One schema serves every content file: each YAML file's first line points to it
(``# yaml-language-server: $schema=../schema.json``), and the file's top key (``nodes:``,
``law:``, ``lpr_1y:``...) picks which part applies, so an editor completes keys and underlines
a mistake while the operator types. Regenerate after changing shapes.py:

    python -m flows.content.schema_json --write      # writes content/schema.json

``validate`` checks a document against the generated subset of JSON Schema (draft-07:
type, properties, required, additionalProperties, propertyNames, items, minItems, maxItems,
enum, pattern, maxLength, minimum, maximum, anyOf, allOf, if/then, not, $ref). It exists because
the ``jsonschema`` package is not installed here; a keyword it does not know is an error, so
the generator cannot emit something this checker silently ignores. ``check`` uses it for the
files the loader does not read itself (interest.yaml).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flows.content.shapes import FILES, Date, Either, File, Flag, ListOf, MapOf, Number, Obj, Shape, Text
from flows.content.tables import FIXED_LABELS

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "content" / "schema.json"
MODELINE = "# yaml-language-server: $schema=../schema.json"


def _def_name(f: File) -> str:
    return "file_" + f.glob.split("*")[0].split(".")[0]


def to_schema(shape: Shape, defs: dict[str, Any]) -> dict[str, Any]:
    """One shape as JSON Schema; named objects go to ``defs`` once and are referred to."""
    if isinstance(shape, Text):
        out: dict[str, Any] = {"type": ["string", "number"] if shape.numbers else "string"}
        if shape.pattern:
            out["pattern"] = shape.pattern
        if shape.enum:
            out["enum"] = list(shape.enum)
        if shape.max_width:
            out["maxLength"] = shape.max_width  # characters; check measures phone cells
        return _doc(out, shape.doc)
    if isinstance(shape, Date):
        return _doc({"type": "string", "pattern": r"^\d{4}-\d{2}(-\d{2})?$"}, shape.doc)
    if isinstance(shape, Number):
        out = {"type": "integer" if shape.integer else "number"}
        if shape.minimum is not None:
            out["minimum"] = shape.minimum
        if shape.maximum is not None:
            out["maximum"] = shape.maximum
        return _doc(out, shape.doc)
    if isinstance(shape, Flag):
        return _doc({"type": "boolean"}, shape.doc)
    if isinstance(shape, ListOf):
        out = {"type": "array", "items": to_schema(shape.item, defs)}
        if shape.min_items:
            out["minItems"] = shape.min_items
        if shape.max_items is not None:
            out["maxItems"] = shape.max_items
        return _doc(out, shape.doc)
    if isinstance(shape, MapOf):
        out = {
            "type": "object",
            "propertyNames": {"pattern": shape.key_pattern},
            "additionalProperties": to_schema(shape.value, defs),
        }
        return _doc(out, shape.doc)
    if isinstance(shape, Either):
        return _doc({"anyOf": [to_schema(s, defs) for s in shape.options]}, shape.doc)
    if isinstance(shape, Obj):
        body = _doc(
            {
                "type": "object",
                "properties": {k: to_schema(f.shape, defs) for k, f in shape.fields.items()},
                "required": [k for k, f in shape.fields.items() if f.required],
                "additionalProperties": False,
            },
            shape.doc,
        )
        if not body["required"]:
            del body["required"]
        if shape.exactly_one:
            body["oneOf"] = [{"required": [k]} for k in shape.exactly_one]
        if not shape.name:
            return body
        defs.setdefault(shape.name, body)
        return {"$ref": f"#/definitions/{shape.name}"}
    raise TypeError(f"unknown shape {shape!r}")


def _message(text: dict[str, Any], key: str, names: frozenset[str]) -> dict[str, Any]:
    out = dict(text)
    shown = ", ".join(f"{{{n}}}" for n in sorted(names)) or "none"
    out["description"] = f"placeholders: {shown}" + ("; a button label" if key.startswith("btn_") else "")
    if key in FIXED_LABELS:
        out["enum"] = [FIXED_LABELS[key]]
    return out


def _doc(out: dict[str, Any], doc: str) -> dict[str, Any]:
    return {"description": doc, **out} if doc else out


def content_schema(
    actions: frozenset[str] | None = None, messages: Mapping[str, frozenset[str]] | None = None
) -> dict[str, Any]:
    """The schema for any content file: its top key decides which file's shape applies.

    ``actions`` and ``messages`` are what the code asks of content (``flows.engine.code_tables``,
    the tables the loader checks against): a button's action must be one of them, and a message
    key one the code shows, each described with its placeholders so an editor can say them."""
    if actions is None or messages is None:
        from flows.engine import code_tables

        known_actions, known_messages, _ = code_tables()
        actions = known_actions if actions is None else actions
        messages = known_messages if messages is None else messages
    defs: dict[str, Any] = {}
    tops: dict[str, Any] = {}
    rules = []
    claimed = [k for f in FILES for k in f.identified_by]
    for f in FILES:
        defs[_def_name(f)] = to_schema(f.top, defs)
        for key, fld in f.top.fields.items():
            tops.setdefault(key, {"description": fld.shape.doc or f.top.doc})
        condition: dict[str, Any] = {"required": list(f.identified_by)}
        # interest.yaml also holds messages: a file with lpr_1y is interest.yaml, not messages*.yaml
        shadowing = [
            k for g in FILES if g is not f and set(f.identified_by) <= set(g.top.fields) for k in g.identified_by
        ]
        if shadowing:
            condition["not"] = {"anyOf": [{"required": [k]} for k in shadowing]}
        rules.append({"if": condition, "then": {"$ref": f"#/definitions/{_def_name(f)}"}})
    defs["button"]["properties"]["action"]["enum"] = sorted(actions)
    text = defs["file_messages"]["properties"]["messages"]["additionalProperties"]
    defs["file_messages"]["properties"]["messages"] = {
        "description": "key -> text; the keys are the code's (check names a missing one)",
        "type": "object",
        "properties": {key: _message(text, key, messages[key]) for key in sorted(messages)},
        "additionalProperties": False,
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://shouhu.invalid/content/schema.json",
        "title": "Shouhu (守护) content file",
        "description": "Generated from flows/content/shapes.py by `python -m flows.content.schema_json --write`; "
        "do not edit by hand. `python bot.py check` checks more than a schema can (references, reachability, widths).",
        "type": "object",
        "properties": tops,
        "additionalProperties": False,
        "anyOf": [{"required": [k]} for k in dict.fromkeys(claimed)],
        "allOf": rules,
        "definitions": dict(sorted(defs.items())),
    }


def render(actions: frozenset[str] | None = None, messages: Mapping[str, frozenset[str]] | None = None) -> str:
    """content/schema.json's text."""
    return json.dumps(content_schema(actions, messages), ensure_ascii=False, indent=2) + "\n"


# ----------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class SchemaError:
    path: tuple[str | int, ...]  # where in the document (keys and list indexes)
    message: str


_KNOWN = {
    "$schema", "$id", "title", "description", "definitions", "$ref", "type", "properties", "required",
    "additionalProperties", "propertyNames", "items", "minItems", "maxItems", "enum", "pattern",
    "maxLength", "minimum", "maximum", "anyOf", "oneOf", "allOf", "if", "then", "not",
}  # fmt: skip


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is(value: Any, t: str) -> bool:
    actual = _json_type(value)
    return actual == t or (t == "number" and actual == "integer")


def as_json(value: Any) -> Any:
    """A YAML document as JSON would hold it (a date becomes its text, as an editor reads it)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def validate(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> list[SchemaError]:
    """Every way ``instance`` breaks ``schema`` (an empty list: it conforms)."""
    return _check(as_json(instance), schema, root or schema, ())


def _check(v: Any, s: dict[str, Any], root: dict[str, Any], path: tuple) -> list[SchemaError]:
    unknown = set(s) - _KNOWN
    if unknown:
        raise ValueError(f"schema keyword(s) this checker does not know: {sorted(unknown)}")
    if "$ref" in s:
        target: Any = root
        for part in s["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _check(v, target, root, path)
    errs: list[SchemaError] = []
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(_is(v, t) for t in types):
            return [SchemaError(path, f"expected {' or '.join(types)}, found {_json_type(v)}")]
    if "enum" in s and v not in s["enum"]:
        errs.append(SchemaError(path, f"{v!r} is not one of {', '.join(map(str, s['enum']))}"))
    if isinstance(v, str):
        if "pattern" in s and not re.search(s["pattern"], v):
            errs.append(SchemaError(path, f"{v!r} does not match {s['pattern']}"))
        if "maxLength" in s and len(v) > s["maxLength"]:
            errs.append(SchemaError(path, f"longer than {s['maxLength']} characters"))
    if _is(v, "number"):
        if "minimum" in s and v < s["minimum"]:
            errs.append(SchemaError(path, f"{v} is less than {s['minimum']}"))
        if "maximum" in s and v > s["maximum"]:
            errs.append(SchemaError(path, f"{v} is more than {s['maximum']}"))
    if isinstance(v, dict):
        props = s.get("properties", {})
        for k in s.get("required", []):
            if k not in v:
                errs.append(SchemaError(path, f"'{k}' is required"))
        for k, item in v.items():
            if "propertyNames" in s:
                errs += [SchemaError((*path, k), f"key {e.message}") for e in _check(k, s["propertyNames"], root, ())]
            if k in props:
                errs += _check(item, props[k], root, (*path, k))
            elif s.get("additionalProperties") is False:
                errs.append(SchemaError((*path, k), f"unknown key '{k}' (allowed: {', '.join(props)})"))
            elif isinstance(s.get("additionalProperties"), dict):
                errs += _check(item, s["additionalProperties"], root, (*path, k))
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            errs.append(SchemaError(path, f"needs at least {s['minItems']} item(s)"))
        if "maxItems" in s and len(v) > s["maxItems"]:
            errs.append(SchemaError(path, f"holds at most {s['maxItems']} items, not {len(v)}"))
        if "items" in s:
            for i, item in enumerate(v):
                errs += _check(item, s["items"], root, (*path, i))
    if "anyOf" in s:
        tries: list[list[SchemaError]] = [_check(v, sub, root, path) for sub in s["anyOf"]]
        if all(tries):
            best = sorted(tries, key=len)[0]
            errs.extend(best)
    if "oneOf" in s:
        passing = sum(not _check(v, sub, root, path) for sub in s["oneOf"])
        if passing != 1:
            listed = " or ".join(str(sub.get("required", sub)) for sub in s["oneOf"])
            errs.append(SchemaError(path, f"needs exactly one of {listed}, found {passing}"))
    for sub in s.get("allOf", []):
        errs += _check(v, sub, root, path)
    if "if" in s and not _check(v, s["if"], root, path) and "then" in s:
        errs += _check(v, s["then"], root, path)
    if "not" in s and not _check(v, s["not"], root, path):
        errs.append(SchemaError(path, "matches a shape it must not"))
    return errs


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--write" in args:
        SCHEMA_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_PATH}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
