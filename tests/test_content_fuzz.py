"""Whatever an operator writes, loading content ends in a Content or a located ContentError.

Hypothesis takes the shipped zh-CN files, replaces one value anywhere in one file with something
of another shape (nothing, a number, true, text, a list, a mapping, a date), and loads the
result. The hand-written variants in test_content_broken.py check the messages; this checks that
no shape anyone thought of or not makes the loader raise anything else.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.content import load_content
from flows.errors import ContentError
from tests.conftest import CONTENT_DIR

READ = (
    "bot.yaml",
    "law.yaml",
    "checklists.yaml",
    "categories.yaml",
    "crisis.yaml",
    "steps.yaml",
    "phrases.yaml",
    "messages*.yaml",
    "nodes*.yaml",
    "interest.yaml",
)  # what flows.content reads
FILES = sorted({p.name for pattern in READ for p in (CONTENT_DIR / "zh-CN").glob(pattern)})
ID_MAPS = ("nodes", "law", "checklists", "messages")  # top keys whose children are ids
ORIGINAL = {name: yaml.safe_load((CONTENT_DIR / "zh-CN" / name).read_text(encoding="utf-8")) for name in FILES}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10),
    st.sampled_from(["", "x", "welcome", "{", "<b>", "+08:00"]),
    st.just(datetime.date(2026, 1, 1)),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "text", "go", "label", "title", "x", "items", "n"]), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in ``tree`` a value could be replaced (the root included)."""
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += paths(v, (*prefix, i))
    return out


def shapes(tree: Any) -> list[list[tuple]]:
    """``paths`` grouped by shape (every node's 'title' is one shape, every list item's too), so
    a few dozen examples reach every kind of place instead of mostly message texts."""
    groups: dict[tuple, list[tuple]] = {}
    for path in paths(tree):
        key = tuple(
            "[]" if isinstance(p, int) else "*" if i == 1 and path[0] in ID_MAPS else p for i, p in enumerate(path)
        )
        groups.setdefault(key, []).append(path)
    return list(groups.values())


def replaced(tree: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(tree, dict):
        return {k: replaced(v, rest, value) if k == head else v for k, v in tree.items()}
    return [replaced(v, rest, value) if i == head else v for i, v in enumerate(tree)]


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_shape_in_any_file_is_reported_not_raised(tmp_path: Path, data: st.DataObject):
    root = tmp_path / "content"
    if not root.exists():
        shutil.copytree(CONTENT_DIR / "zh-CN", root / "zh-CN")
    trees = dict(ORIGINAL)
    for _ in range(data.draw(st.integers(1, 4), label="changes")):  # several per load: loading is the slow part
        name = data.draw(st.sampled_from(FILES), label="file")
        group = data.draw(st.sampled_from(shapes(trees[name])), label="shape")
        path = data.draw(st.sampled_from(group), label="path")
        trees[name] = replaced(trees[name], path, data.draw(values, label="value"))
    changed = [name for name in FILES if trees[name] is not ORIGINAL[name]]
    for name in changed:
        (root / "zh-CN" / name).write_text(yaml.safe_dump(trees[name], allow_unicode=True), encoding="utf-8")
    try:
        load_content(root)
    except ContentError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.file.startswith(str(root)) and p.line >= 1 and p.message, p
    finally:
        for name in changed:
            shutil.copy(CONTENT_DIR / "zh-CN" / name, root / "zh-CN" / name)
