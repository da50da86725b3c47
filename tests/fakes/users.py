"""The people in the fake chats: users who write, press buttons and read what the bot sent.

``server.user(...)`` gives a :class:`FakeUser` (a private chat), ``server.group(...)`` a
:class:`FakeGroup`.  What they send becomes an update the bot receives by getUpdates;
what they read are :class:`~tests.fakes.views.BotMessage` snapshots.  Waiting is
event-driven (see :mod:`tests.fakes.state`): a wait wakes when the bot's request is
answered, never after a fixed sleep.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.html_parse import utf16_len
from tests.fakes.observe import callback_id_of
from tests.fakes.records import CallbackQueryState, ChatState, FileRecord, StoredMessage
from tests.fakes.views import BotMessage, CallbackAnswer, RecordedRequest

if TYPE_CHECKING:
    from tests.fakes.server import FakeBotAPI

FileInput = bytes | str | os.PathLike[str]


class FakeChat:
    """A chat as seen by the user(s) in it: what the bot sent, and ways to interact."""

    def __init__(self, server: FakeBotAPI, chat_id: int):
        self.server = server
        self.chat_id = chat_id
        self._cursor = 0

    # -- internals
    @property
    def _chat(self) -> ChatState:
        return self.server._chats[self.chat_id]

    def _sender(self, from_user: FakeUser | None) -> FakeUser:
        raise NotImplementedError

    def _send_message(self, sender: FakeUser, fill: Callable[[StoredMessage], None]) -> dict[str, Any]:
        server = self.server
        with server._lock:
            chat = self._chat
            message = server._new_message(chat, sender=sender.user_dict, from_bot=False)
            fill(message)
            server._seen_users.add(sender.user_id)
            return server._enqueue("message", message.to_dict(), chat.id)

    def _register(self, kind: str, data: FileInput, **meta: Any) -> FileRecord:
        if isinstance(data, (bytes, bytearray)):
            return self.server._new_file(kind, data=bytes(data), **meta)
        return self.server._new_file(kind, path=os.fspath(data), **meta)

    def _media(
        self, kind: str, payload: Any, caption: str | None, from_user: FakeUser | None, record: FileRecord
    ) -> dict[str, Any]:
        def fill(message: StoredMessage) -> None:
            message.attach(kind, record, payload)
            if caption:
                message.caption = caption

        return self._send_message(self._sender(from_user), fill)

    def _resolve(self, message: BotMessage | int) -> StoredMessage:
        message_id = message if isinstance(message, int) else message.message_id
        stored = self._chat.messages.get(message_id)
        if stored is None or not stored.from_bot:
            raise AssertionError(f"no bot message #{message_id} in chat {self.chat_id}")
        if stored.deleted:
            raise AssertionError(f"bot message #{message_id} was deleted; the user can't press its buttons")
        return stored

    # -- sending
    def send_sticker(self, emoji: str = "😢", *, from_user: FakeUser | None = None) -> dict[str, Any]:
        """The user sends a sticker (not evidence, not text: the bot should still answer)."""

        def fill(message: StoredMessage) -> None:
            n = len(self.server.all_updates)
            message.media = {
                "sticker": {
                    "file_id": f"CAACAgIAAx{n:05d}",
                    "file_unique_id": f"AgADst{n:05d}",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": emoji,
                }
            }

        return self._send_message(self._sender(from_user), fill)

    def edit_sent(self, update: dict[str, Any], text: str) -> dict[str, Any]:
        """The user edits a text message they sent earlier: Telegram sends an ``edited_message``."""
        server = self.server
        with server._lock:
            stored = self._chat.messages[update["message"]["message_id"]]
            stored.text = text
            stored.entities = []
            stored.edit_date = server._now()
            return server._enqueue("edited_message", stored.to_dict(), self.chat_id)

    def send(
        self, text: str, *, from_user: FakeUser | None = None, reply_to: BotMessage | int | None = None
    ) -> dict[str, Any]:
        """The user sends a text message.  A leading ``/command`` gets a ``bot_command`` entity
        at offset 0, as Telegram adds.  Returns the update."""
        if not text:
            raise ValueError("Telegram clients can't send empty messages")

        def fill(message: StoredMessage) -> None:
            message.text = text
            match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
            if match:
                message.entities = [{"offset": 0, "length": utf16_len(match.group(0)), "type": "bot_command"}]
            if reply_to is not None:
                message.reply_to = self._chat.messages[reply_to if isinstance(reply_to, int) else reply_to.message_id]

        return self._send_message(self._sender(from_user), fill)

    def send_document(
        self,
        data: FileInput,
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        *,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        """The user sends a file as a document.  ``data`` is bytes or a path (big files are
        streamed from disk, never loaded)."""
        if file_name is None:
            file_name = "file" if isinstance(data, (bytes, bytearray)) else os.path.basename(os.fspath(data))
        mime_type = mime_type or mimetypes.guess_type(file_name, strict=False)[0] or "application/octet-stream"
        record = self._register("document", data, file_name=file_name, mime_type=mime_type)
        return self._media("document", record.document(), caption, from_user, record)

    def send_photo(
        self,
        data: FileInput,
        caption: str | None = None,
        *,
        width: int = 1280,
        height: int = 960,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        """The user sends a photo.  Like Telegram, ``photo`` is an array of sizes, smallest
        first; only the LAST (largest) one is the original — the smaller ones are distinct
        thumbnail files with different, tiny content."""
        record = self._register("photo", data, mime_type="image/jpeg")
        sizes = []
        for scale in (90, 320, 800):
            if scale >= max(width, height):
                continue
            w, h = max(1, width * scale // max(width, height)), max(1, height * scale // max(width, height))
            thumb = self.server._new_file(
                "photo", data=f"THUMBNAIL {w}x{h} of {record.file_unique_id}".encode(), mime_type="image/jpeg"
            )
            sizes.append(thumb.fields(width=w, height=h))
        sizes.append(record.fields(width=width, height=height))
        return self._media("photo", sizes, caption, from_user, record)

    def send_voice(
        self,
        data: FileInput,
        *,
        duration: int = 3,
        mime_type: str = "audio/ogg",
        caption: str | None = None,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        record = self._register("voice", data, mime_type=mime_type)
        payload = record.fields(duration=duration, mime_type=mime_type)
        return self._media("voice", payload, caption, from_user, record)

    def send_audio(
        self,
        data: FileInput,
        file_name: str = "audio.mp3",
        mime_type: str = "audio/mpeg",
        *,
        duration: int = 30,
        title: str | None = None,
        performer: str | None = None,
        caption: str | None = None,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        record = self._register("audio", data, file_name=file_name, mime_type=mime_type)
        payload = record.fields(duration=duration, file_name=file_name, mime_type=mime_type)
        if title:
            payload["title"] = title
        if performer:
            payload["performer"] = performer
        return self._media("audio", payload, caption, from_user, record)

    def send_video(
        self,
        data: FileInput,
        file_name: str = "video.mp4",
        mime_type: str = "video/mp4",
        *,
        duration: int = 10,
        width: int = 640,
        height: int = 360,
        caption: str | None = None,
        from_user: FakeUser | None = None,
    ) -> dict[str, Any]:
        record = self._register("video", data, file_name=file_name, mime_type=mime_type)
        payload = record.fields(width=width, height=height, duration=duration, file_name=file_name, mime_type=mime_type)
        return self._media("video", payload, caption, from_user, record)

    def send_video_note(
        self, data: FileInput, *, duration: int = 5, length: int = 240, from_user: FakeUser | None = None
    ) -> dict[str, Any]:
        record = self._register("video_note", data, mime_type="video/mp4")
        payload = record.fields(length=length, duration=duration)
        return self._media("video_note", payload, None, from_user, record)

    # -- buttons
    def press(self, message: BotMessage | int, button: str, *, from_user: FakeUser | None = None) -> dict[str, Any]:
        """Press an inline button of a (still visible) bot message, as it looks NOW.

        ``button`` is matched against the exact label, then the exact callback_data,
        then as a unique label substring.  Raises AssertionError listing the labels
        if nothing (or more than one different button) matches.  Returns the
        callback_query update.
        """
        with self.server._lock:
            stored = self._resolve(message)
            rows = stored.reply_markup["inline_keyboard"] if stored.reply_markup else []
            buttons = [b for row in rows for b in row]
            labels = [b["text"] for b in buttons]
            matches = (
                [b for b in buttons if b["text"] == button]
                or [b for b in buttons if b.get("callback_data") == button]
                or [b for b in buttons if button in b["text"]]
            )
            if not matches:
                raise AssertionError(
                    f"no button {button!r} on bot message #{stored.message_id} ({stored.text or stored.caption!r}); "
                    f"buttons: {labels}"
                )
            if len({b.get("callback_data") for b in matches}) > 1:
                raise AssertionError(f"{button!r} matches several buttons: {[b['text'] for b in matches]}")
            chosen = matches[0]
            if "callback_data" not in chosen:
                raise AssertionError(f"button {chosen['text']!r} is not a callback button: {chosen}")
            return self.press_data(stored.message_id, chosen["callback_data"], from_user=from_user)

    def press_data(self, message: BotMessage | int, data: str, *, from_user: FakeUser | None = None) -> dict[str, Any]:
        """Send a callback query with arbitrary (possibly forged or stale) callback_data for a
        visible bot message.  Returns the callback_query update."""
        sender = self._sender(from_user)
        server = self.server
        with server._lock:
            stored = self._resolve(message)
            server._callback_counter += 1
            qid = str(4_300_000_000_000_000_000 + server._callback_counter)
            server._callbacks[qid] = CallbackQueryState(
                id=qid,
                chat_id=self.chat_id,
                message_id=stored.message_id,
                data=data,
                from_user_id=sender.user_id,
                created=server._clock(),
            )
            server._seen_users.add(sender.user_id)
            payload = {
                "id": qid,
                "from": dict(sender.user_dict),
                "message": stored.to_dict(),
                "chat_instance": str(-(abs(self.chat_id) * 7919 + 13)),
                "data": data,
            }
            return server._enqueue("callback_query", payload, self.chat_id)

    # -- reading
    @property
    def history(self) -> list[BotMessage]:
        """Every bot message currently visible in the chat (edits applied, deletions removed)."""
        with self.server._lock:
            return [BotMessage.of(m) for m in self._chat.bot_messages if not m.deleted]

    @property
    def last_message(self) -> BotMessage | None:
        history = self.history
        return history[-1] if history else None

    def message(self, message_id: int) -> BotMessage:
        """Current state of one bot message (may be deleted)."""
        with self.server._lock:
            stored = self._chat.messages.get(message_id)
            if stored is None or not stored.from_bot:
                raise KeyError(f"no bot message #{message_id} in chat {self.chat_id}")
            return BotMessage.of(stored)

    @property
    def chat_actions(self) -> list[str]:
        """Every sendChatAction action the bot sent to this chat."""
        with self.server._lock:
            return list(self._chat.actions)

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of the reply keyboard the bot currently shows (None if none)."""
        with self.server._lock:
            kb = self._chat.reply_keyboard
            return [list(r) for r in kb] if kb else None

    def take_new_messages(self) -> list[BotMessage]:
        """All bot messages sent since the last wait/take (no waiting)."""
        with self.server._lock:
            new = self._chat.bot_messages[self._cursor :]
            self._cursor += len(new)
            return [BotMessage.of(m) for m in new]

    async def wait_for_messages(self, n: int = 1, timeout: float = 10.0) -> list[BotMessage]:
        """Wait until at least ``n`` new bot messages arrived since the last wait, and return
        exactly the ``n`` oldest of them (deterministic even if the bot sends bursts; later
        ones are returned by the next wait).  Messages deleted meanwhile are included with
        ``deleted=True``.  Never blocks the event loop."""
        if n <= 0:
            return []

        def taken() -> list[BotMessage] | None:
            with self.server._lock:
                new = self._chat.bot_messages[self._cursor :]
                if len(new) < n:
                    return None
                self._cursor += n
                return [BotMessage.of(m) for m in new[:n]]

        def describe() -> str:
            with self.server._lock:
                got = len(self._chat.bot_messages) - self._cursor
            return (
                f"chat {self.chat_id}: expected {n} new bot message(s) within {timeout} s, got {got}\n"
                f"chat transcript:\n{self.server._transcript(self.chat_id)}\n{self.server._debug_tail()}"
            )

        result: list[BotMessage] = await self.server._wait(taken, timeout, describe)
        return result

    async def wait_for_edit(self, message: BotMessage, timeout: float = 10.0) -> BotMessage:
        """Wait until the bot edited (or deleted) ``message`` after this snapshot was taken."""

        def changed() -> BotMessage | None:
            current = self.message(message.message_id)
            return current if current.version > message.version or current.deleted != message.deleted else None

        edited: BotMessage = await self.server._wait(
            changed, timeout, lambda: f"bot message #{message.message_id} in chat {self.chat_id} was not edited"
        )
        return edited

    async def wait_for_answer(self, update: dict[str, Any] | str, timeout: float = 10.0) -> CallbackAnswer:
        """Wait until the bot answered the callback query of ``update`` (from ``press``)."""
        answer: CallbackAnswer = await self.server._wait(
            lambda: self.server.callback_answer(update),
            timeout,
            lambda: f"callback query {callback_id_of(update)} not answered",
        )
        return answer

    async def wait_confirmed(self, timeout: float = 10.0) -> None:
        """Wait until the bot confirmed the newest update this chat caused (a message, a press,
        a block, ...): its getUpdates offset moved past it.  See :mod:`tests.fakes.observe`
        for what that does and does not prove."""
        with self.server._lock:
            update_id = self._chat.last_update_id
        if update_id is None:
            raise AssertionError(f"chat {self.chat_id} has not sent the bot anything to confirm")
        await self.server.wait_confirmed(update_id, timeout)

    def requests_since(self, mark: int) -> list[RecordedRequest]:
        """Every Bot API call about this chat after ``mark`` (from ``server.mark()``)."""
        return self.server.requests_since(mark, chat_id=self.chat_id)

    def transcript(self) -> str:
        """Human-readable recent conversation (for assertion messages)."""
        return self.server._transcript(self.chat_id)


class FakeUser(FakeChat):
    """A Telegram user in their private chat with the bot."""

    def __init__(self, server: FakeBotAPI, user_id: int, user_dict: dict[str, Any]):
        super().__init__(server, user_id)
        self.user_id = user_id
        self.user_dict = user_dict

    @property
    def first_name(self) -> str:
        return str(self.user_dict["first_name"])

    def _sender(self, from_user: FakeUser | None) -> FakeUser:
        if from_user is not None and from_user is not self:
            raise ValueError("only the user can write in their private chat")
        return self

    def block(self) -> dict[str, Any]:
        """The user blocks the bot: sends now fail with 403 "bot was blocked by the user";
        Telegram delivers a my_chat_member update (member -> kicked)."""
        with self.server._lock:
            self._chat.blocked = True
            return self.server._enqueue_my_chat_member(self._chat, self.user_dict, "member", "kicked")

    def unblock(self) -> dict[str, Any]:
        with self.server._lock:
            self._chat.blocked = False
            return self.server._enqueue_my_chat_member(self._chat, self.user_dict, "kicked", "member")


class FakeGroup(FakeChat):
    """A (super)group containing the bot; ``from_user`` is the default sender."""

    def __init__(self, server: FakeBotAPI, chat_id: int, from_user: FakeUser):
        super().__init__(server, chat_id)
        self.from_user = from_user

    def _sender(self, from_user: FakeUser | None) -> FakeUser:
        return from_user or self.from_user

    def add_bot(self, by: FakeUser | None = None) -> dict[str, Any]:
        """Someone adds the bot to the group (my_chat_member left -> member)."""
        with self.server._lock:
            old = self._chat.bot_status if self._chat.known else "left"
            self._chat.bot_status = "member"
            self.server.left_chats.discard(self.chat_id)
            return self.server._enqueue_my_chat_member(self._chat, self._sender(by).user_dict, old, "member")

    def kick_bot(self, by: FakeUser | None = None) -> dict[str, Any]:
        """An admin removes the bot: sends fail with 403 "bot was kicked from the group chat"."""
        with self.server._lock:
            old = self._chat.bot_status
            self._chat.bot_status = "kicked"
            return self.server._enqueue_my_chat_member(self._chat, self._sender(by).user_dict, old, "kicked")
