"""The fake server's memory and the few operations every API method family shares.

:class:`ServerState` is the base of :class:`~tests.fakes.server.FakeBotAPI`; the method
families (``methods_*.py``) are mixins on top of it.  Everything here runs under
``_lock`` (an ``RLock``: the HTTP threads and the test's event loop both touch it).

Waiting without sleeping: every change of state calls :meth:`ServerState._notify`,
which wakes the coroutines parked in :meth:`ServerState._wait` (through
``loop.call_soon_threadsafe``, since changes happen on the HTTP threads).  A wait
therefore re-checks its condition exactly when something happened, and decides
nothing by the passing of time; the timeout only turns a hang into a clear failure.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from tests.fakes.call import Call
from tests.fakes.protocol import bad, forbidden
from tests.fakes.records import CallbackQueryState, ChatState, Fault, FileRecord, StoredMessage
from tests.fakes.views import DownloadRecord, RecordedRequest


class ServerState:
    """State of one fake Bot API server (see ``FakeBotAPI`` for the parameters)."""

    def __init__(
        self,
        token: str,
        *,
        local_mode: bool,
        clock: Callable[[], float],
        bot_username: str,
        bot_first_name: str,
        strict_html_entities: bool,
        callback_query_ttl: float | None,
        first_update_id: int,
    ):
        self.token = token
        self.local_mode = local_mode
        self.strict_html_entities = strict_html_entities
        self.callback_query_ttl = callback_query_ttl
        self._clock = clock
        try:
            bot_id = int(token.split(":", 1)[0])
        except ValueError:
            bot_id = 1
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._closing = False
        self._tmpdir: str | None = None
        self._watchers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

        # updates
        self._updates: deque[dict[str, Any]] = deque()
        self._next_update_id = first_update_id
        self._confirmed_below = first_update_id  # every update_id < this is confirmed
        self._dropped: set[int] = set()
        self._allowed_updates: frozenset[str] | None = None
        self._polls_waiting = 0  # getUpdates calls waiting for an update right now
        #: every update ever enqueued, in order
        self.all_updates: list[dict[str, Any]] = []
        #: number of getUpdates calls terminated by a newer concurrent getUpdates (409)
        self.conflicts = 0

        # chats, users, files
        self._chats: dict[int, ChatState] = {}
        self._seen_users: set[int] = set()
        self._files: dict[str, FileRecord] = {}
        self._paths: dict[str, FileRecord] = {}
        self._file_counter = 0
        self._callbacks: dict[str, CallbackQueryState] = {}
        self._callback_counter = 0
        self._delays: dict[str, threading.Event] = {}
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)

        #: every request, in the order of their answers (``RecordedRequest.seq`` is the arrival order)
        self.requests: list[RecordedRequest] = []
        self._request_seq = 0
        #: human-readable descriptions of everything the fake did not expect:
        #: unknown methods, wrong tokens, unknown paths, unsupported features, fake bugs.
        self.unexpected: list[str] = []
        #: chat ids the bot left with leaveChat
        self.left_chats: set[int] = set()
        #: commands set with setMyCommands, keyed by (scope JSON, language_code)
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.downloads: list[DownloadRecord] = []
        self.webhook_deletions = 0
        self._webhook: Any = None  # methods_webhook.Webhook while one is set
        self._webhook_thread: threading.Thread | None = None
        #: every POST of an update to the bot's webhook (methods_webhook.WebhookPost)
        self.webhook_posts: list[Any] = []

    # ----------------------------------------------------------------------------- change and wait

    def _notify(self) -> None:
        """Something changed: wake every coroutine waiting in :meth:`_wait`."""
        with self._lock:
            self._cond.notify_all()
            for loop, event in list(self._watchers):
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # that loop is closed; its waiter is gone
                    self._watchers.discard((loop, event))

    async def _wait(
        self,
        predicate: Callable[[], Any],
        timeout: float,
        describe: Callable[[], str],
        *,
        recheck_every: float | None = None,
    ) -> Any:
        """Return ``predicate()`` as soon as it is truthy, re-checking it after each change.

        ``recheck_every`` is only for predicates over things the fake cannot see change
        (files on disk, a database); without it the wait is purely event-driven.  After
        ``timeout`` seconds: AssertionError with ``describe()``.
        """
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()
        watcher = (loop, changed)
        with self._lock:
            self._watchers.add(watcher)
        deadline = loop.time() + timeout
        try:
            while True:
                changed.clear()
                value = predicate()
                if value:
                    return value
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(describe())
                try:
                    await asyncio.wait_for(changed.wait(), min(remaining, recheck_every or remaining))
                except TimeoutError:
                    pass
        finally:
            with self._lock:
                self._watchers.discard(watcher)

    # ----------------------------------------------------------------------------- updates

    def _now(self) -> int:
        return int(self._clock())

    def _enqueue(self, kind: str, payload: dict[str, Any], chat_id: int | None) -> dict[str, Any]:
        with self._lock:
            update = {"update_id": self._next_update_id, kind: payload}
            if chat_id is not None:
                chat = self._chats[chat_id]
                chat.known = True
                chat.last_update_id = self._next_update_id
            self._next_update_id += 1
            self._updates.append(update)
            self.all_updates.append(update)
            self._notify()
            return copy.deepcopy(update)

    def _confirm(self, offset: int) -> None:
        """getUpdates ``offset``: forget every update below it (negative: keep the last -offset)."""
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
            self._confirmed_below = max(self._confirmed_below, offset)
        elif offset < 0:
            keep = -offset
            while len(self._updates) > keep:
                forgotten = self._updates.popleft()
                self._confirmed_below = max(self._confirmed_below, forgotten["update_id"] + 1)
        self._notify()

    def _enqueue_my_chat_member(self, chat: ChatState, actor: dict[str, Any], old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": dict(self.bot_user), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        payload = {
            "chat": dict(chat.data),
            "from": dict(actor),
            "date": self._now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._enqueue("my_chat_member", payload, chat.id)

    # ----------------------------------------------------------------------------- chats and messages

    def _get_chat(self, call: Call, *, write: bool) -> ChatState:
        """The chat of ``chat_id`` as Telegram resolves it for the bot.

        Unknown ids and chats that never wrote to the bot are "chat not found"; a user the
        bot saw only in a group gets 403 "bot can't initiate conversation with a user".
        ``write``: also refuse chats that blocked, kicked or lost the bot (403).
        """
        raw = call.get("chat_id").strip()
        if not raw:
            raise bad("chat_id is empty")
        chat: ChatState | None = None
        try:
            chat_id = int(raw)
        except ValueError:
            if raw.startswith("@"):
                chat = next((c for c in self._chats.values() if c.username == raw[1:] and c.type != "private"), None)
        else:
            chat = self._chats.get(chat_id)
            if chat is not None and not chat.known:
                if chat.type == "private" and chat_id in self._seen_users:
                    raise forbidden("bot can't initiate conversation with a user")
                chat = None
            elif chat is None and chat_id in self._seen_users:
                raise forbidden("bot can't initiate conversation with a user")
        if chat is None:
            raise bad("chat not found")
        if write:
            self._check_can_write(chat)
        return chat

    @staticmethod
    def _check_can_write(chat: ChatState) -> None:
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            return
        kind = "group" if chat.type == "group" else "supergroup"
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {kind} chat")

    def _new_message(self, chat: ChatState, *, sender: dict[str, Any], from_bot: bool) -> StoredMessage:
        message = StoredMessage(
            chat=chat, message_id=chat.next_message_id, sender=sender, from_bot=from_bot, date=self._now()
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if from_bot:
            message.seq = len(chat.bot_messages)
            chat.bot_messages.append(message)
        return message

    def _unexpected(self, what: str) -> None:
        with self._lock:
            self.unexpected.append(what)

    def _debug_tail(self) -> str:
        """Recent error answers and surprises, for assertion messages."""
        with self._lock:
            lines = []
            failed = [r for r in self.requests if not r.ok][-5:]
            if failed:
                lines.append("recent error answers of the fake:")
                lines.extend(f"  {r.method} {r.params} -> {r.status} {r.description}" for r in failed)
            if self.unexpected:
                lines.append("unexpected:")
                lines.extend(f"  {u}" for u in self.unexpected[-5:])
            return "\n".join(lines)

    def _transcript(self, chat_id: int) -> str:
        """The recent conversation of a chat, for assertion messages."""
        with self._lock:
            chat = self._chats[chat_id]
            lines = []
            for message in chat.messages.values():
                who = "bot" if message.from_bot else message.sender.get("first_name", "user")
                body = message.text if message.text is not None else (message.caption or "")
                kinds = list(message.media)
                extra = f" [{', '.join(kinds)}]" if kinds else ""
                if message.reply_markup:
                    labels = [b["text"] for row in message.reply_markup["inline_keyboard"] for b in row]
                    extra += " " + " ".join(f"[{label}]" for label in labels)
                if message.deleted:
                    extra += " (deleted)"
                if message.edit_date is not None:
                    extra += " (edited)"
                lines.append(f"  #{message.message_id} {who}: {body}{extra}")
            return "\n".join(lines[-15:]) or "  (empty)"
