"""Which placeholders a template uses that the drafts do not supply, by the name the operator typed.

Jinja only complains about an unknown name when a render reaches it (inside an ``{% if %}``
that the sample does not take, never). So the template's syntax tree is walked instead, against
the shape of a sample context: a dict's keys, a list's items. ``{{ facts.apq }}`` is reported as
``facts.apq`` (with "did you mean facts.app?"), ``{{ e.sha }}`` inside ``{% for e in
evidence.items %}`` as ``e.sha``. Names a template defines itself (loop variables, ``set``,
macros) and Jinja's own (``loop``, ``range``...) are known.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, nodes

ANY = object()  # a value whose shape is not known (a filter's result, a template's own variable)


@dataclass(frozen=True)
class Unknown:
    placeholder: str  # as typed: "facts.apq", "e.sha"
    suggestion: str | None = None


def shape_of(value: Any) -> Any:
    """The shape to check against: dict -> {key: shape}, list -> [item shape], else a leaf."""
    if isinstance(value, Mapping):
        return {k: shape_of(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [shape_of(value[0])] if value else [ANY]
    return None  # a leaf: str, int, bool


def _expr_text(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_expr_text(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_expr_text(node.node)}[{node.arg.value!r}]"
    return "…"


class _Walker:
    def __init__(self, root: Mapping[str, Any], env: Environment):
        self.root = root
        self.builtins = set(env.globals) | {"loop", "true", "false", "none", "True", "False", "None"}
        self.found: list[Unknown] = []

    def report(self, text: str, options: Any) -> None:
        choices = list(options) if isinstance(options, dict) else []
        base, _, last = text.rpartition(".")
        close = difflib.get_close_matches(last or text, choices, n=1)
        hint = (f"{base}.{close[0]}" if base else close[0]) if close else None
        if all(u.placeholder != text for u in self.found):
            self.found.append(Unknown(text, hint))

    def shape(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        """The shape of an expression, reporting unknown names and keys on the way."""
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            if node.name in self.root:
                return self.root[node.name]
            if node.name not in self.builtins:
                self.report(node.name, self.root)
            return ANY
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
                self.visit(node.arg, scope)
                self.shape(node.node, scope)
                return ANY
            parent = self.shape(node.node, scope)
            if isinstance(parent, dict):
                if key in parent:
                    return parent[key]
                self.report(_expr_text(node), parent)
            return ANY
        self.visit(node, scope)
        return ANY

    def visit(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
            if not (isinstance(node, nodes.Name) and node.ctx == "store"):
                self.shape(node, scope)
            return
        if isinstance(node, nodes.For):
            items = self.shape(node.iter, scope)
            inner = dict(scope)
            item = items[0] if isinstance(items, list) else ANY
            for name in _names(node.target):
                inner[name] = item if isinstance(node.target, nodes.Name) else ANY
            if node.test is not None:
                self.visit(node.test, inner)
            for child in node.body:
                self.visit(child, inner)
            for child in node.else_:
                self.visit(child, scope)
            return
        if isinstance(node, nodes.Assign):
            self.visit(node.node, scope)
            for name in _names(node.target):
                scope[name] = ANY
            return
        if isinstance(node, (nodes.Macro, nodes.CallBlock)):
            inner = dict(scope)
            for arg in getattr(node, "args", []):
                inner[arg.name] = ANY
            if isinstance(node, nodes.Macro):
                scope[node.name] = ANY
            for child in node.iter_child_nodes():
                self.visit(child, inner)
            return
        if isinstance(node, nodes.With):
            inner = dict(scope)
            for target, value in zip(node.targets, node.values):
                self.visit(value, scope)
                for name in _names(target):
                    inner[name] = ANY
            for child in node.body:
                self.visit(child, inner)
            return
        for child in node.iter_child_nodes():
            self.visit(child, scope)


def _names(target: nodes.Node) -> Iterator[str]:
    if isinstance(target, nodes.Name):
        yield target.name
    else:
        for child in target.iter_child_nodes():
            yield from _names(child)


def unknown_placeholders(source: str, env: Environment, sample: Mapping[str, Any]) -> list[Unknown]:
    """Every name or key ``source`` uses that ``sample``'s shape does not have. Raises
    ``jinja2.TemplateSyntaxError`` if the source does not parse."""
    walker = _Walker(shape_of(sample), env)
    walker.visit(env.parse(source), {})
    return walker.found
