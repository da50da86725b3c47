"""What a phone screen and the Telegram Bot API accept: widths, lengths, the HTML subset.

The loader rejects content that breaks these, because Telegram would refuse the message (or cut
a button label) in front of a frightened user, long after the operator edited the file.
"""

from __future__ import annotations

import re
import string
import unicodedata
from html.parser import HTMLParser

MAX_TEXT = 4096  # Telegram's limit for one message, counted after HTML parsing
MAX_LABEL_WIDTH = 30  # a CJK character counts 2: fifteen characters fit a phone's button
MAX_TITLE_WIDTH = 24  # node and step titles: shown in /status lines
MAX_ROW = 3  # buttons in one row of a node
MAX_STEPS = 8
# The step bar is one row of buttons under a node. Telegram gives every button in a row the same
# width, so the widest label decides: with n steps each label may be STEP_BAR_WIDTH // n cells.
# 40 cells keeps the old rule for five steps (8 cells each) and fits a phone held upright.
STEP_BAR_WIDTH = 40
ALLOWED_TAGS: dict[str, set[str]] = {"b": set(), "i": set(), "u": set(), "s": set(), "code": set(), "a": {"href"}}
_PLACEHOLDER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def label_width(text: str) -> int:
    """How wide a label is on a phone: East Asian characters take two cells."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def step_label_width(steps: int) -> int:
    """The widest ``short`` label that fits when ``steps`` labels share the step bar."""
    return STEP_BAR_WIDTH // max(steps, 1)


class _HtmlCheck(HTMLParser):
    """Telegram's HTML subset: known tags only, properly nested, entities valid."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> is not allowed (use {', '.join(ALLOWED_TAGS)})")
            return
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                self.errors.append(f"attribute {name!r} is not allowed on <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close the open tag")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def visible_text(text: str) -> str:
    """What a person sees of a Telegram HTML text: tags dropped, entities decoded."""
    parser = _HtmlCheck()
    parser.feed(text)
    parser.close()
    return "".join(parser.visible)


def html_problems(text: str) -> tuple[list[str], int]:
    """Problems Telegram would reject, and the visible length it would count."""
    errors = []
    if re.search(r"<(?![a-zA-Z/])", text):
        errors.append("a bare '<' must be written &lt;")
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        errors.append("a bare '&' must be written &amp;")
    parser = _HtmlCheck()
    parser.feed(text)
    parser.close()
    errors.extend(parser.errors)
    if parser.stack:
        errors.append(f"<{parser.stack[-1]}> is never closed")
    return errors, len("".join(parser.visible))


def placeholders(template: str) -> tuple[set[str], list[str]]:
    """The ``{names}`` a template uses, and what is wrong with any field that is not a plain
    ``{name}`` (a lone brace, ``{0}``, ``{a.b}``, ``{a!r}``...): ``str.format`` would fail on
    them at the moment the code shows the message, so they are errors in content."""
    names: set[str] = set()
    errors: list[str] = []
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        return names, [f"{exc}; write a literal brace as {{{{ or }}}}"]
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if not _PLACEHOLDER_RE.match(name) or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            errors.append(f"{shown} is not a placeholder the code can fill; write {{name}}, or {{{{ }}}} for a brace")
            continue
        names.add(name)
    return names, errors
