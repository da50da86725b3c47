"""API methods that write messages: send, edit, delete.

Every send goes through :meth:`MessageMethods._send` and every edit through
:meth:`MessageMethods._edit`, so the chat lookup, the text/caption checks, the keyboard
checks and the storing are the same for all of them, as on Telegram.  A new send
method (sendPhoto, sendVoice, ...) is a few lines: read its file, call ``_send``.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.call import Call, api_method
from tests.fakes.message_content import CAPTION, TEXT, FieldRule, Markup, read_formatted, read_markup
from tests.fakes.methods_files import FileMethods, image_size
from tests.fakes.protocol import DELETE_WINDOW_SECONDS, MAX_DELETE_IDS, NOT_MODIFIED, bad
from tests.fakes.records import ChatState, FileRecord, Formatted, StoredMessage


class MessageMethods(FileMethods):
    # ----------------------------------------------------------------------------- send

    @api_method("sendMessage")
    def _api_send_message(self, call: Call) -> dict[str, Any]:
        """Text 1..4096 characters after entity parsing (whitespace trimmed), HTML parsed like
        Telegram, keyboard validated, chat must be known and writable."""
        return self._send(call, text=self._formatted(call, TEXT))

    @api_method("sendDocument")
    def _api_send_document(self, call: Call) -> dict[str, Any]:
        """Upload (multipart, <= 50 MB; 2000 MB in local mode), re-send by file_id, or in local
        mode a ``file://`` URI.  Caption <= 1024 characters after entity parsing."""
        caption = self._formatted(call, CAPTION)
        record = self._input_file(call, "document")
        return self._send(call, caption=caption, media=("document", record, record.document()))

    @api_method("sendPhoto")
    def _api_send_photo(self, call: Call) -> dict[str, Any]:
        """Like sendDocument, but Telegram must be able to read the bytes as a picture: an
        unreadable one is IMAGE_PROCESS_FAILED; width + height over 10000, or one side over 20
        times the other, PHOTO_INVALID_DIMENSIONS."""
        caption = self._formatted(call, CAPTION)
        record = self._input_file(call, "photo")
        size = image_size(record.read())
        if size is None:
            raise bad("IMAGE_PROCESS_FAILED")
        w, h = size
        if w + h > 10000 or max(w, h) > 20 * min(w, h):
            raise bad("PHOTO_INVALID_DIMENSIONS")
        return self._send(call, caption=caption, media=("photo", record, [record.fields(width=w, height=h)]))

    def _formatted(self, call: Call, rule: FieldRule) -> Formatted:
        return read_formatted(call, rule, strict_entities=self.strict_html_entities)

    def _send(
        self,
        call: Call,
        *,
        text: Formatted | None = None,
        caption: Formatted | None = None,
        media: tuple[str, FileRecord, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a new bot message in ``chat_id`` and return its JSON (the send methods' result)."""
        markup = read_markup(call, inline_only=False)
        with self._lock:
            chat = self._get_chat(call, write=True)
            reply_to = self._reply_target(chat, call)
            message = self._new_message(chat, sender=self.bot_user, from_bot=True)
            message.reply_to = reply_to
            if text is not None:
                message.set_text(text)
            if media is not None:
                message.attach(*media)
            if caption is not None:
                message.set_caption(caption)
            self._apply_markup(chat, message, markup)
            return message.to_dict()

    def _reply_target(self, chat: ChatState, call: Call) -> StoredMessage | None:
        target_id: int | None = None
        allow_without = call.get_bool("allow_sending_without_reply")
        if call.has("reply_parameters"):
            reply = call.get_json("reply_parameters", "can't parse reply parameters JSON object")
            if not isinstance(reply, dict) or "message_id" not in reply:
                raise bad("can't parse reply parameters JSON object")
            target_id = int(reply["message_id"])
            allow_without = bool(reply.get("allow_sending_without_reply", allow_without))
        elif call.has("reply_to_message_id"):
            target_id = call.get_int("reply_to_message_id", 0)
        if target_id is None:
            return None
        target = chat.messages.get(target_id)
        if target is None or target.deleted:
            if allow_without:
                return None
            raise bad("message to be replied not found")
        return target

    @staticmethod
    def _apply_markup(chat: ChatState, message: StoredMessage, markup: Markup) -> None:
        """An inline keyboard belongs to the message; a reply keyboard to the chat."""
        if markup.kind == "inline":
            message.reply_markup = markup.value
        elif markup.kind == "keyboard":
            chat.reply_keyboard = markup.value
        elif markup.kind == "remove":
            chat.reply_keyboard = None

    # ----------------------------------------------------------------------------- edit

    @api_method("editMessageText")
    def _api_edit_message_text(self, call: Call) -> dict[str, Any]:
        """Same checks as sendMessage; the message must be a visible text message of the bot in
        that chat.  Omitting reply_markup removes the inline keyboard (as on Telegram); an edit
        that changes neither text, entities nor keyboard is "message is not modified"."""
        return self._edit(call, text=self._formatted(call, TEXT))

    @api_method("editMessageReplyMarkup")
    def _api_edit_message_reply_markup(self, call: Call) -> dict[str, Any]:
        """Replace (or, without reply_markup, remove) the inline keyboard of a bot message."""
        return self._edit(call, text=None)

    def _edit(self, call: Call, *, text: Formatted | None) -> dict[str, Any]:
        """Change a bot message's text (if given) and inline keyboard (always: none removes it)."""
        markup = read_markup(call, inline_only=True)
        with self._lock:
            message = self._editable_message(call)
            if text is not None and message.text is None:
                raise bad("there is no text in the message to edit")
            before = (message.text, message.entities, message.reply_markup)
            after = (text.visible, text.entities) if text is not None else (message.text, message.entities)
            if before == (*after, markup.inline):
                raise bad(NOT_MODIFIED)
            if text is not None:
                message.set_text(text)
            message.reply_markup = markup.inline
            message.edit_date = self._now()
            message.version += 1
            return message.to_dict()

    def _editable_message(self, call: Call) -> StoredMessage:
        if call.has("inline_message_id"):
            self._unexpected("inline_message_id edits are not implemented by the fake")
            raise bad("MESSAGE_ID_INVALID")
        if not call.has("chat_id"):
            raise bad("message identifier is not specified")
        chat = self._get_chat(call, write=True)
        message = chat.messages.get(call.message_id())
        if message is None or message.deleted:
            raise bad("message to edit not found")
        if not message.from_bot:
            raise bad("message can't be edited")
        return message

    # ----------------------------------------------------------------------------- delete

    @api_method("deleteMessage")
    def _api_delete_message(self, call: Call) -> bool:
        with self._lock:
            chat = self._get_chat(call, write=False)
            message = chat.messages.get(call.message_id())
            if message is None or message.deleted:
                raise bad("message to delete not found")
            self._check_deletable(chat, message)
            message.deleted = True
        return True

    @api_method("deleteMessages")
    def _api_delete_messages(self, call: Call) -> bool:
        """1..100 ids; ids that don't exist are skipped (as documented by Telegram), but one
        message that can't be deleted refuses the whole call (tdlib checks all first)."""
        if not call.has("message_ids"):
            raise bad("message identifiers are not specified")
        ids = call.get_json("message_ids", "can't parse message_ids JSON object")
        if not isinstance(ids, list):
            raise bad("expected an Array of message identifiers")
        if len(ids) > MAX_DELETE_IDS:
            raise bad("too many message identifiers specified")
        if not ids:
            raise bad("message identifiers are not specified")
        message_ids = []
        for value in ids:
            try:
                message_id = int(value)
            except (TypeError, ValueError):
                raise bad("message identifier must be a Number") from None
            if message_id <= 0:
                raise bad("invalid message identifier specified")
            message_ids.append(message_id)
        with self._lock:
            chat = self._get_chat(call, write=False)
            targets = [chat.messages[m] for m in message_ids if m in chat.messages and not chat.messages[m].deleted]
            for message in targets:
                self._check_deletable(chat, message)
            for message in targets:
                message.deleted = True
        return True

    def _check_deletable(self, chat: ChatState, message: StoredMessage) -> None:
        """Bots may delete any message in a private chat and their own messages in groups,
        only if it was sent less than 48 hours ago."""
        if not message.from_bot and chat.type != "private":
            raise bad("message can't be deleted")
        if self._clock() - message.date >= DELETE_WINDOW_SECONDS:
            raise bad("message can't be deleted for everyone")
