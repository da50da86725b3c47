"""``FakeBotAPI``: lifecycle, users and groups, and the dispatch of calls to API methods.

The API methods live in their families (``methods_*.py``), each a mixin over
:class:`~tests.fakes.state.ServerState`; :class:`FakeBotAPI` only puts them together,
routes each call through one place (token, fault injection, recording, wake-up) and
runs the HTTP server.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, Self

from tests.fakes.call import Call, method_table
from tests.fakes.http_server import FakeHTTPServer, Handler
from tests.fakes.methods_bot import BotMethods
from tests.fakes.methods_chats import ChatMethods
from tests.fakes.methods_messages import MessageMethods
from tests.fakes.methods_updates import UpdateMethods
from tests.fakes.methods_webhook import WebhookMethods
from tests.fakes.observe import Observations
from tests.fakes.protocol import ApiError, NotImplementedByFake
from tests.fakes.records import ChatState, FileRecord
from tests.fakes.users import FakeChat, FakeGroup, FakeUser
from tests.fakes.views import DownloadRecord, RecordedRequest, UploadedFile


class FakeBotAPI(Observations, WebhookMethods, UpdateMethods, BotMethods, MessageMethods, ChatMethods):
    """A fake Telegram Bot API server (cloud or ``--local`` flavour) on 127.0.0.1.

    Parameters:
        token: the bot token.  Requests with any other token get ``401
            Unauthorized`` (well-formed token) or ``404 Not Found`` (malformed), like
            Telegram, and are recorded in :attr:`unexpected`.
        local_mode: imitate a ``telegram-bot-api --local`` server: no 20 MB getFile
            limit, ``file_path`` is the absolute path of the file on disk, ``file://``
            URIs are accepted for uploads and the upload limit is 2000 MB.
        clock: time source for message dates and the 48 h deletion window.
        strict_html_entities: see :func:`~tests.fakes.html_parse.parse_html`.
        callback_query_ttl: if set, answering a callback query more than this many
            seconds (by ``clock``) after the press fails with "query is too old"
            (Telegram's window is roughly 15 s; ``None`` disables the check).
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        local_mode: bool = False,
        clock: Callable[[], float] = time.time,
        bot_username: str = "shouhu_test_bot",
        bot_first_name: str = "守护 Test",
        strict_html_entities: bool = True,
        callback_query_ttl: float | None = None,
        first_update_id: int = 1,
    ):
        super().__init__(
            token,
            local_mode=local_mode,
            clock=clock,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            strict_html_entities=strict_html_entities,
            callback_query_ttl=callback_query_ttl,
            first_update_id=first_update_id,
        )
        self._fakes: dict[int, FakeChat] = {}
        self._inflight = 0  # HTTP requests being answered right now
        self._httpd: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._methods = method_table(self)

    # ----------------------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Start serving on 127.0.0.1 (free port) in a daemon thread.  Returns self."""
        if self._httpd is not None:
            raise RuntimeError("FakeBotAPI already started")
        self._closing = False
        self._httpd = FakeHTTPServer(("127.0.0.1", 0), Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="FakeBotAPI", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server: end long polls (they answer ``[]``) and delayed downloads, let
        in-flight answers go out, then close all connections."""
        httpd = self._httpd
        if httpd is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._inflight == 0, timeout=2)
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections.items())
        for _thread, sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread, _sock in connections:
            thread.join(timeout=5)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        webhook = self._webhook_thread
        if webhook is not None:
            webhook.join(timeout=5)
        self._httpd = None
        self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the server must be started)."""
        if self._httpd is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://127.0.0.1:{self._httpd.server_port}"

    @property
    def base_url(self) -> str:
        """Value for ``telegram.Bot(base_url=...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``telegram.Bot(base_file_url=...)``."""
        return f"{self.url}/file/bot"

    def bot_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``telegram.Bot(**server.bot_kwargs())``."""
        return {
            "token": self.token,
            "base_url": self.base_url,
            "base_file_url": self.base_file_url,
            "local_mode": self.local_mode,
        }

    # ----------------------------------------------------------------------------- users & chats

    def user(
        self,
        chat_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        """A Telegram user and their private chat with the bot (chat id == user id).

        Calling it again with the same id returns the same :class:`FakeUser`.
        """
        if chat_id <= 0:
            raise ValueError("user ids (and private chat ids) are positive")
        with self._lock:
            existing = self._fakes.get(chat_id)
            if existing is not None:
                assert isinstance(existing, FakeUser)
                return existing
            user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": first_name}
            chat_data: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
            if last_name:
                user["last_name"] = chat_data["last_name"] = last_name
            if username:
                user["username"] = chat_data["username"] = username
            if language_code:
                user["language_code"] = language_code
            self._chats[chat_id] = ChatState(id=chat_id, type="private", data=chat_data, username=username)
            fake = FakeUser(self, chat_id, user)
            self._fakes[chat_id] = fake
            return fake

    def group(
        self, chat_id: int, from_user: FakeUser, *, title: str = "Test group", username: str | None = None
    ) -> FakeGroup:
        """A group the bot is a member of; ``from_user`` is the default sender.

        Ids starting with -100 are supergroups, other negative ids basic groups.
        """
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        with self._lock:
            existing = self._fakes.get(chat_id)
            if existing is not None:
                assert isinstance(existing, FakeGroup)
                return existing
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            data: dict[str, Any] = {"id": chat_id, "type": kind, "title": title}
            if username:
                data["username"] = username
            self._chats[chat_id] = ChatState(id=chat_id, type=kind, data=data, username=username)
            fake = FakeGroup(self, chat_id, from_user)
            self._fakes[chat_id] = fake
            return fake

    # ----------------------------------------------------------------------------- dispatch

    def _check_token(self, token: str) -> ApiError | None:
        if token == self.token:
            return None
        self._unexpected(f"request with wrong bot token {token!r}")
        if re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            return ApiError(401, "Unauthorized")
        return ApiError(404, "Not Found")

    def _take_fault(self, key: str) -> ApiError | None:
        with self._lock:
            queue = self._faults.get(key)
            if not queue:
                return None
            fault = queue.popleft()
        return ApiError(fault.status, fault.description, fault.retry_after)

    def _call(self, token: str, method: str, call: Call) -> tuple[int, dict[str, Any]]:
        """Answer one API call: ``(HTTP status, JSON payload)``, recorded in :attr:`requests`."""
        with self._lock:
            self._request_seq += 1
            seq = self._request_seq
            chat_id = self._chat_of(call)
        name = method
        try:
            error = self._check_token(token)
            if error is not None:
                raise error
            entry = self._methods.get(method.lower())
            if entry is None:
                self._unexpected(f"call of unimplemented/unknown Bot API method {method!r} with {call.params!r}")
                raise ApiError(404, "Not Found: method not found")
            name, handler = entry
            fault = self._take_fault(name.lower())
            if fault is not None:
                raise fault
            status, payload = 200, {"ok": True, "result": handler(call)}
        except NotImplementedByFake as exc:
            self._unexpected(exc.what)
            status, payload = exc.code, exc.payload()
        except ApiError as exc:
            status, payload = exc.code, exc.payload()
        except Exception:  # noqa: BLE001 - a bug in the fake: make it loud
            self._unexpected(f"fake Bot API crashed in {method}: {traceback.format_exc()}")
            status, payload = 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        files = {k: UploadedFile(v.filename, v.content_type, len(v.data)) for k, v in call.files.items()}
        recorded = RecordedRequest(
            method=name,
            params=dict(call.params),
            files=files,
            status=status,
            description=None if status == 200 else payload.get("description"),
            at=time.monotonic(),
            seq=seq,
            chat_id=chat_id,
        )
        with self._lock:
            self.requests.append(recorded)
            self._notify()
        return status, payload

    def _chat_of(self, call: Call) -> int | None:
        """The chat a call is about, for the request log (a callback answer: the pressed message's)."""
        query = self._callbacks.get(call.get("callback_query_id").strip())
        return query.chat_id if query is not None else call.chat_id()

    def _open_download(self, token: str, file_path: str) -> tuple[FileRecord, DownloadRecord, threading.Event | None]:
        """Start a download of ``/file/bot<token>/<file_path>`` (raises ApiError to refuse it)."""
        error = self._check_token(token) or self._take_fault("download")
        if error is not None:
            raise error
        with self._lock:
            record = self._paths.get(file_path)
            if record is None:
                self._unexpected(f"download of unknown file_path {file_path!r} (call getFile first)")
                raise ApiError(404, "Not Found")
            download = DownloadRecord(record.file_id, file_path, "started")
            self.downloads.append(download)
            self._notify()
            return record, download, self._delays.get(record.file_id)

    def _set_download_status(self, download: DownloadRecord, status: str) -> None:
        with self._lock:
            download.status = status
            self._notify()

    def _await_release(self, event: threading.Event, download: DownloadRecord) -> bool:
        """Block a delayed download (status "stalled") until the test releases it; False if the
        server stops first.  The 50 ms only bound how late a stop is noticed."""
        self._set_download_status(download, "stalled")
        while not event.wait(0.05):
            if self._closing:
                return False
        self._set_download_status(download, "started")
        return True
