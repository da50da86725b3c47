"""What a send or edit carries, checked the way Telegram checks it: text, caption, keyboard.

Every method that writes a message (sendMessage, sendDocument, editMessageText, ...)
reads its text or caption with :func:`read_formatted` and its ``reply_markup`` with
:func:`read_markup`, so the limits and the error descriptions are the same for all of
them, as they are on Telegram.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from tests.fakes.call import Call
from tests.fakes.html_parse import HtmlParseError, parse_html, trim_text
from tests.fakes.protocol import (
    MAX_BUTTONS_PER_ROW,
    MAX_BUTTONS_TOTAL,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_RAW_TEXT_BYTES,
    MAX_TEXT_LENGTH,
    NotImplementedByFake,
    bad,
)
from tests.fakes.records import Formatted


@dataclasses.dataclass(frozen=True)
class FieldRule:
    """How Telegram checks one formatted field: its entities parameter, limit and error text."""

    name: str
    entities_param: str
    limit: int
    too_long: str
    required: bool


TEXT = FieldRule("text", "entities", MAX_TEXT_LENGTH, "message is too long", required=True)
CAPTION = FieldRule("caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long", required=False)


def read_formatted(call: Call, rule: FieldRule, *, strict_entities: bool) -> Formatted:
    """Text/caption + parse_mode -> what the user sees, with Telegram's checks.

    The limit counts characters (code points) *after* entity parsing and after Telegram
    trimmed leading and trailing whitespace; the raw text may not exceed 32 KiB.
    """
    raw = call.get(rule.name)
    parse_mode = call.get("parse_mode")
    if rule.required and raw == "":
        raise bad("message text is empty")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_RAW_TEXT_BYTES:
        raise bad("text is too long")
    mode = parse_mode.strip().lower()
    if raw == "" or mode in ("", "none"):
        text = raw
        entities: list[dict[str, Any]] = []
        if call.has(rule.entities_param):
            parsed = call.get_json(rule.entities_param, "can't parse entities JSON object")
            if not isinstance(parsed, list):
                raise bad("can't parse entities JSON object")
            entities = parsed
    elif mode == "html":
        try:
            text, entities = parse_html(raw, strict_entities=strict_entities)
        except HtmlParseError as exc:
            raise bad(f"can't parse entities: {exc}") from None
    elif mode in ("markdown", "markdownv2"):
        raise NotImplementedByFake(
            f"parse_mode {parse_mode!r} is not implemented by the fake (only HTML)",
            f"can't parse entities: the fake Bot API implements only parse_mode HTML, not {parse_mode}",
        )
    else:
        raise bad("unsupported parse_mode")
    text, entities = trim_text(text, entities)
    if rule.required and not text:
        raise bad("message text is empty")
    if len(text) > rule.limit:
        raise bad(rule.too_long)
    return Formatted(visible=text, entities=entities, raw=raw, parse_mode=parse_mode or None)


@dataclasses.dataclass(frozen=True)
class Markup:
    """A validated ``reply_markup``.

    ``kind`` is ``none``, ``inline`` (``value`` is the ``{"inline_keyboard": ...}`` the
    message keeps), ``keyboard`` (``value`` is the rows of labels the chat shows),
    ``remove`` or ``force_reply``.
    """

    kind: str
    value: Any = None

    @property
    def inline(self) -> dict[str, Any] | None:
        """What the message itself keeps (only inline keyboards belong to a message)."""
        return self.value if self.kind == "inline" else None


def read_markup(call: Call, *, inline_only: bool) -> Markup:
    """Validate ``reply_markup`` like Telegram; edits accept only inline keyboards."""
    if not call.has("reply_markup"):
        return Markup("none")
    value = call.get_json("reply_markup", "can't parse reply keyboard markup JSON object")
    if not isinstance(value, dict):
        raise bad("object expected as reply markup")
    if "keyboard" in value and not inline_only:
        labels = _reply_keyboard(value["keyboard"])
        if any(labels):
            return Markup("keyboard", labels)
    rows = _inline_keyboard(value)
    if rows:
        return Markup("inline", {"inline_keyboard": rows})
    if inline_only:
        if "keyboard" in value or value.get("remove_keyboard") or value.get("force_reply"):
            raise bad("inline keyboard expected")
        return Markup("none")
    if value.get("remove_keyboard") or value.get("hide_keyboard"):
        return Markup("remove")
    if value.get("force_reply"):
        return Markup("force_reply")
    return Markup("none")


def _reply_keyboard(keyboard: Any) -> list[list[str]]:
    if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
        raise bad('field "keyboard" must be an Array of Arrays')
    labels: list[list[str]] = []
    for row in keyboard:
        new_row = []
        for button in row:
            label = button.get("text") if isinstance(button, dict) else button
            if not isinstance(label, str):
                raise bad("can't parse keyboard button: KeyboardButton must be a String or an Object")
            if not label:
                raise bad("keyboard button text must be non-empty")
            new_row.append(label)
        labels.append(new_row)
    return labels


def _inline_keyboard(value: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The non-empty rows of an ``inline_keyboard``, each button checked like Telegram."""
    inline_keyboard = value.get("inline_keyboard")
    if "inline_keyboard" in value and not isinstance(inline_keyboard, list):
        raise bad('field "inline_keyboard" must be of type Array')
    rows: list[list[dict[str, Any]]] = []
    for row in inline_keyboard or []:
        if not isinstance(row, list):
            raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        try:
            parsed = [_inline_button(button) for button in row]
        except _ButtonError as exc:
            raise bad(f"can't parse inline keyboard button: {exc}") from None
        if parsed:
            rows.append(parsed)
    buttons = [button for row in rows for button in row]
    if any(not button["text"] for button in buttons):
        raise bad("inline keyboard button text must be non-empty")
    for button in buttons:
        data = button.get("callback_data")
        if data is not None and len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not re.match(r"^(https?|tg)://\S+$", url):
            raise bad("BUTTON_URL_INVALID")
    if len(buttons) > MAX_BUTTONS_TOTAL or any(len(r) > MAX_BUTTONS_PER_ROW for r in rows):
        raise bad("reply markup is too long")
    return rows


class _ButtonError(ValueError):
    pass


_OTHER_ACTIONS = (
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
)


def _inline_button(button: Any) -> dict[str, Any]:
    """tdlib's get_inline_keyboard_button: an Object with a String "text" and one action."""
    if not isinstance(button, dict):
        raise _ButtonError("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise _ButtonError('Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise _ButtonError('Field "text" must be of type String')
    result: dict[str, Any] = {"text": button["text"]}
    for field in ("url", "callback_data"):
        value = button.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _ButtonError(f'Field "{field}" must be of type String')
        if str(value):
            result[field] = str(value)
            return result
    for field in _OTHER_ACTIONS:
        if field in button:
            result[field] = button[field]
            return result
    raise _ButtonError("Text buttons are unallowed in the inline keyboard")
