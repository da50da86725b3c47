"""What a test reads from the fake server: confirmations, requests, answers, faults to inject.

Negative tests ("the bot sent nothing") wait on Telegram's own confirmation instead of
a sleep::

    mark = fake.mark()                      # a point in the request log
    update = user.send("hello again")
    await user.wait_confirmed()             # the bot polled past this update
    # ... and, once the bot exposes it, wait until the bot is idle ...
    assert user.requests_since(mark) == []  # no call about this chat since the mark

Confirmation means the bot has *received* the update (its next getUpdates carried an
offset past it); it does not mean the bot's handler has finished.  So it is the first
half of the signal: python-telegram-bot confirms a batch as soon as it asks for the
next one and handles updates asynchronously.  Until the bot side reports "idle", a test
may fence the chat instead: after the confirmed update, send one more update that the
bot always answers and ``wait_for_messages`` for that answer; a bot that handles one
chat's updates in order has then finished the first one too.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from tests.fakes.protocol import DEFAULT_FAULT_DESCRIPTIONS
from tests.fakes.records import Fault
from tests.fakes.state import ServerState
from tests.fakes.views import CallbackAnswer, PendingCallback, RecordedRequest


def update_id_of(update_or_id: dict[str, Any] | int) -> int:
    return update_or_id if isinstance(update_or_id, int) else int(update_or_id["update_id"])


def callback_id_of(update_or_id: dict[str, Any] | str) -> str:
    if isinstance(update_or_id, str):
        return update_or_id
    return str(update_or_id["callback_query"]["id"])


class Observations(ServerState):
    # ----------------------------------------------------------------------------- updates

    def is_confirmed(self, update_id: int) -> bool:
        """True once getUpdates was called with an offset > update_id, or the bot's webhook
        answered its POST with a 2xx (Telegram's confirmation either way)."""
        with self._lock:
            return update_id < self._confirmed_below

    def was_dropped(self, update_id: int) -> bool:
        """True if the update was discarded without delivery (deleteWebhook(drop_pending_updates)
        or filtered out by allowed_updates)."""
        with self._lock:
            return update_id in self._dropped

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not confirmed yet (delivered or not)."""
        with self._lock:
            return copy.deepcopy(list(self._updates))

    @property
    def polling(self) -> bool:
        """True while a getUpdates long poll is waiting for an update (the bot is listening)."""
        with self._lock:
            return self._polls_waiting > 0

    async def wait_confirmed(self, update: dict[str, Any] | int | None = None, timeout: float = 10.0) -> None:
        """Wait until the bot confirmed ``update`` (an update dict or id; default: every update
        enqueued so far), i.e. called getUpdates with an offset past it.

        Event-driven (no polling); fails at once if the update was dropped undelivered, and
        with the recent request log after ``timeout`` seconds.
        """
        with self._lock:
            update_id = self._next_update_id - 1 if update is None else update_id_of(update)

        def confirmed() -> bool:
            if self.was_dropped(update_id):
                raise AssertionError(f"update {update_id} was dropped, the bot never received it")
            return self.is_confirmed(update_id)

        await self._wait(
            confirmed,
            timeout,
            lambda: (
                f"update {update_id} not confirmed within {timeout} s (the bot did not poll past it)\n"
                + self._debug_tail()
            ),
        )

    # ----------------------------------------------------------------------------- requests

    def mark(self) -> int:
        """A point in the request log: :meth:`requests_since` returns what arrived after it."""
        with self._lock:
            return self._request_seq

    def requests_since(self, mark: int, *, chat_id: int | None = None) -> list[RecordedRequest]:
        """Every request (successful or not) that arrived after ``mark``, in order of their
        answers; with ``chat_id`` only those about that chat (``chat_id`` parameter, or the
        chat of the pressed message for answerCallbackQuery)."""
        with self._lock:
            return [r for r in self.requests if r.seq > mark and (chat_id is None or r.chat_id == chat_id)]

    def calls(self, method: str) -> list[dict[str, str]]:
        """Parameters of every successful and failed call of ``method`` (case-insensitive)."""
        key = method.lower()
        with self._lock:
            return [dict(r.params) for r in self.requests if r.method.lower() == key]

    @property
    def errors(self) -> list[RecordedRequest]:
        """Every request that got an error answer (fault-injected ones included)."""
        with self._lock:
            return [r for r in self.requests if not r.ok]

    # ----------------------------------------------------------------------------- callbacks and files

    def unanswered_callbacks(self) -> list[PendingCallback]:
        """Callback queries the bot never answered (Telegram clients then show a spinner)."""
        with self._lock:
            return [
                PendingCallback(q.id, q.chat_id, q.message_id, q.data, q.from_user_id)
                for q in self._callbacks.values()
                if q.answer is None
            ]

    def callback_answer(self, update_or_id: dict[str, Any] | str) -> CallbackAnswer | None:
        """The answer to a callback query (pass the update returned by ``press``), or None."""
        qid = callback_id_of(update_or_id)
        with self._lock:
            q = self._callbacks.get(qid)
            if q is None:
                raise KeyError(f"no callback query with id {qid!r}")
            return q.answer

    def download_started(self, file_id: str) -> bool:
        with self._lock:
            return any(d.file_id == file_id for d in self.downloads)

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a file known to the fake (uploaded by the bot or a user)."""
        with self._lock:
            record = self._files.get(file_id)
        if record is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        return record.read()

    # ----------------------------------------------------------------------------- verdicts

    def assert_clean(self, *, allow_unanswered_callbacks: bool = False) -> None:
        """Fail if the bot did anything the fake did not expect or left callbacks unanswered."""
        problems: list[str] = []
        with self._lock:
            problems.extend(f"unexpected: {u}" for u in self.unexpected)
        if not allow_unanswered_callbacks:
            problems.extend(f"unanswered callback query: {q}" for q in self.unanswered_callbacks())
        if problems:
            raise AssertionError("FakeBotAPI:\n  " + "\n  ".join(problems))

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0, message: str | None = None) -> Any:
        """Wait until ``predicate()`` is truthy and return its value; AssertionError after ``timeout``.

        Re-checked after every change the fake sees, and every 20 ms for predicates over
        things it cannot see (files on disk, a database).  Never blocks the event loop.
        """
        return await self._wait(
            predicate,
            timeout,
            lambda: (message or f"condition not met within {timeout} s") + "\n" + self._debug_tail(),
            recheck_every=0.02,
        )

    # ----------------------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error.

        ``status`` 429 gets ``parameters.retry_after`` (default 1 s) and Telegram's
        "Too Many Requests: retry after N" description; other statuses get a
        standard description ("Bad Gateway" for 502, ...) unless ``description`` is
        given.  Use ``method="download"`` for file downloads (GET /file/...).
        """
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or DEFAULT_FAULT_DESCRIPTIONS.get(status, "Error")
        with self._lock:
            for _ in range(times):
                self._faults[method.lower()].append(Fault(status, description, retry_after))

    def delay_file(self, file_id: str, event: threading.Event | None = None) -> threading.Event:
        """Make downloads of ``file_id`` stall until ``event`` is set.

        The fake sends the response headers and the first part of the body, then
        waits — so a bot process killed meanwhile dies *mid-download*.
        Returns the event (a new one if none is given).
        """
        event = event or threading.Event()
        with self._lock:
            self._delays[file_id] = event
        return event
