"""Telegram-flavoured HTML, parsed the way Telegram parses it.

A line-by-line port of tdlib's ``parse_html`` (``td/telegram/MessageEntity.cpp``), which
is what the Bot API server runs for ``parse_mode=HTML``: the fake turns what the bot
sent into the text and entities a user would see, and refuses what Telegram refuses
with tdlib's own error messages.  Entity offsets and lengths are in UTF-16 code units.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HtmlParseError", "parse_html", "trim_text", "utf16_len"]


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html`; Telegram reports it as ``can't parse entities: <msg>``."""


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SPACES = " \t\r\n\v\0"  # tdlib's is_space (NUL counts: it is the C string terminator)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets and lengths."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_html_entity(src: str, pos: int) -> tuple[int, int, bool]:
    """Port of tdlib ``decode_html_entity``: returns (code point or 0, end position, had ';')."""
    n = len(src)

    def at(k: int) -> str:
        return src[k] if k < n else "\0"

    end = pos + 1
    res = 0
    if at(pos + 1) == "#":
        end += 1
        if at(pos + 2) == "x":
            end += 1
            while at(end) in "0123456789abcdefABCDEF" and at(end) != "\0":
                res = res * 16 + int(at(end), 16)
                end += 1
        else:
            while at(end) in "0123456789" and at(end) != "\0":
                res = res * 10 + int(at(end))
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos, False
    else:
        while at(end).isascii() and at(end).isalpha():
            end += 1
        name = src[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return 0, pos, False
        res = ord(_NAMED_ENTITIES[name])
    if at(end) == ";":
        return res, end + 1, True
    return res, end, False


def parse_html(src: str, *, strict_entities: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)`` like Telegram does.

    This is a line-by-line port of tdlib's ``parse_html`` (what the Bot API server
    runs for ``parse_mode=HTML``): only the tags ``b strong i em u ins s strike del
    span(class="tg-spoiler") tg-spoiler a(href) code pre blockquote(expandable)
    tg-emoji tg-time`` are accepted; an unknown tag, an unclosed / mismatched tag
    or a bare ``<`` (``"a < b"`` is parsed as the start of a tag with an empty
    name) is an error whose message is copied from tdlib.  Entity offsets and
    lengths are in UTF-16 code units.

    ``strict_entities`` (default): a ``&`` in text that does not start one of the
    supported character references ``&lt; &gt; &amp; &quot; &#NN; &#xHH;``
    (terminated by ``;``) is an error.  Telegram itself keeps such an ``&``
    literally, but the Bot API documentation requires it to be escaped, and an
    unescaped ``&`` almost always means user input was not passed through
    ``html.escape`` (which would then turn "a &lt; b" typed by a user into "a < b").
    """
    n = len(src)

    def at(k: int) -> str:
        return src[k] if k < n else "\0"

    def boff(k: int) -> int:
        return len(src[:k].encode("utf-8", "surrogatepass"))

    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    # stack entries: [tag, argument, utf16 offset, index into out]
    stack: list[list[Any]] = []
    i = 0
    while i < n:
        c = src[i]
        if c == "&":
            code, end, had_semicolon = _decode_html_entity(src, i)
            if code and (had_semicolon or not strict_entities):
                ch = chr(code)
                out.append(ch)
                utf16 += 2 if code > 0xFFFF else 1
                i = end
                continue
            if strict_entities:
                raise HtmlParseError(
                    f"Unescaped character '&' at byte offset {boff(i)}: write it as &amp; "
                    "(Telegram would show it literally, but the Bot API docs require escaping; "
                    "the fake is strict here)"
                )
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # start tag
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
            tag = src[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {boff(begin)}')
            argument = ""
            while at(i) != ">":
                while i < n and src[i] in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) not in _SPACES and at(i) not in "=>/\"'":
                    i += 1
                attr = src[attr_begin:i]
                if not attr:
                    raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {boff(begin)}')
                while i < n and src[i] in _SPACES:
                    i += 1
                if at(i) != "=":
                    if i >= n:
                        raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                    continue
                i += 1
                while i < n and src[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
                if src[i] not in "'\"":
                    token_begin = i
                    while (at(i).isascii() and at(i).isalnum()) or at(i) in ".-":
                        if at(i) == "\0":
                            break
                        i += 1
                    value = src[token_begin:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        raise HtmlParseError(f"Unexpected end of name token at byte offset {boff(token_begin)}")
                else:
                    quote = src[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and src[i] != quote:
                        if src[i] == "&":
                            code, end, _ = _decode_html_entity(src, i)
                            if code:
                                chars.append(chr(code))
                                i = end
                                continue
                        chars.append(src[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {boff(begin)}')
            stack.append([tag, argument, utf16, len(out)])
            i += 1  # skip '>'
            continue

        # end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {boff(begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_tag = src[begin + 2 : i].lower()
        while i < n and src[i] in _SPACES:
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {boff(begin)}")
        tag, argument, offset, out_index = stack[-1]
        if end_tag and end_tag != tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {boff(begin)}, expected "</{tag}>", found "</{end_tag}>"'
            )
        if utf16 > offset:
            length = utf16 - offset
            entity: dict[str, Any] | None = None
            if tag in ("i", "em"):
                entity = {"type": "italic"}
            elif tag in ("b", "strong"):
                entity = {"type": "bold"}
            elif tag in ("s", "strike", "del"):
                entity = {"type": "strikethrough"}
            elif tag in ("u", "ins"):
                entity = {"type": "underline"}
            elif tag in ("tg-spoiler", "span"):
                entity = {"type": "spoiler"}
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise HtmlParseError("Invalid custom emoji identifier specified")
                entity = {"type": "custom_emoji", "custom_emoji_id": argument}
            elif tag == "tg-time":
                entity = None  # accepted by Telegram; no Bot API entity needed for the fake
            elif tag == "a":
                url = argument or "".join(out[out_index:])
                entity = {"type": "text_link", "url": url} if url else None
            elif tag == "pre":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "code"
                    and last["offset"] == offset
                    and last["length"] == length
                    and last.get("_language")
                ):
                    last["type"] = "pre"
                    last["language"] = last.pop("_language")
                else:
                    entity = {"type": "pre"}
            elif tag == "code":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "pre"
                    and last["offset"] == offset
                    and last["length"] == length
                    and argument
                ):
                    last["language"] = argument
                else:
                    entity = {"type": "code"}
                    if argument:
                        entity["_language"] = argument
            elif tag == "blockquote":
                entity = {"type": "expandable_blockquote" if argument else "blockquote"}
            if entity is not None:
                entity["offset"] = offset
                entity["length"] = length
                entities.append(entity)
        stack.pop()
        i += 1  # skip '>'
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    ordered = [{"offset": e["offset"], "length": e["length"], "type": e["type"], **_entity_extras(e)} for e in entities]
    return "".join(out), ordered


def _entity_extras(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if k not in ("offset", "length", "type")}


def trim_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading and trailing whitespace of message texts and captions."""
    stripped_left = text.lstrip(" \t\r\n")
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(" \t\r\n")
    total = utf16_len(result)
    fixed = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] - shift + entity["length"])
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed
