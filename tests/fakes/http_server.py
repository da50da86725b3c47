"""The HTTP side of the fake: a threading HTTP server that speaks the Bot API's wire format.

It accepts what python-telegram-bot (or any client) sends -- query string, form,
JSON or multipart bodies, chunked or not -- limits the body size like Telegram's
front end, turns the request into a :class:`~tests.fakes.call.Call` for
``FakeBotAPI._call``, and streams file downloads (stalling them on request, so a test
can kill a bot mid-download).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import socket
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.fakes.call import Call, RequestContext, Upload
from tests.fakes.protocol import MAX_UPLOAD_SIZE, MAX_UPLOAD_SIZE_LOCAL, MB, ApiError
from tests.fakes.views import DownloadRecord

if TYPE_CHECKING:
    from tests.fakes.server import FakeBotAPI

_CHUNK = 64 * 1024


class _BodyTooLarge(Exception):
    pass


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: FakeBotAPI):
        self.api = api
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Connection resets from clients that die (e.g. killed bot processes) are normal.
        pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.18.0"
    sys_version = ""
    server: FakeHTTPServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle's algorithm meets the
        # client's delayed ACK and every answer waits ~40 ms (Telegram's servers do not)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.api._lock:
            self.server.api._connections[threading.current_thread()] = self.connection

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.server.api._lock:
                self.server.api._connections.pop(threading.current_thread(), None)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _dispatch(self) -> None:
        api = self.server.api
        with api._cond:
            api._inflight += 1
        try:
            self._answer()
        finally:
            with api._cond:
                api._inflight -= 1
                api._cond.notify_all()

    def _answer(self) -> None:
        api = self.server.api
        try:
            split = urlsplit(self.path)
            path = unquote(split.path)
            # Like Telegram's front end, the whole body is limited (plus a little room for the
            # multipart framing and the other fields); bigger bodies are drained and refused
            # before parsing.  A file part over the limit is refused again in _input_file.
            limit = (MAX_UPLOAD_SIZE_LOCAL if api.local_mode else MAX_UPLOAD_SIZE) + 64 * 1024
            try:
                body = self._read_body(limit)
            except _BodyTooLarge:
                self.send_json(413, {"ok": False, "error_code": 413, "description": "Request Entity Too Large"})
                return
            except ValueError as exc:
                self.close_connection = True
                self.send_json(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
                return

            file_match = re.fullmatch(r"/file/bot([^/]*)/(.+)", path)
            if file_match:
                self._download(file_match.group(1), file_match.group(2))
                return
            api_match = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
            if not api_match:
                api._unexpected(f"{self.command} of unknown path {self.path!r}")
                self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            try:
                params, files = self._parse_params(split.query, body)
            except ValueError as exc:
                self.send_json(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
                return
            token, method = api_match.groups()
            status, payload = api._call(token, method, Call(params, files, RequestContext(self.connection)))
            self.send_json(status, payload)
        except OSError:  # the client went away (killed bot process, cancelled request, ...)
            self.close_connection = True
        except Exception:  # noqa: BLE001 - a bug in the fake's HTTP layer: make it loud
            api._unexpected(f"fake Bot API crashed answering {self.command} {self.path}: {traceback.format_exc()}")
            self.close_connection = True
            try:
                self.send_json(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
            except OSError:
                pass

    def _download(self, token: str, file_path: str) -> None:
        """Stream a file; with ``delay_file``, stall after the headers and part of the body."""
        api = self.server.api
        try:
            record, download, event = api._open_download(token, file_path)
        except ApiError as error:
            self.send_json(error.code, error.payload())
            return
        if api._take_reset(record.file_id):
            self._reset_download(record, download)
            return
        try:
            with record.open() as f:
                tiny = record.size < 2  # nothing to split: the stall comes before the headers instead
                if tiny and event is not None and not event.is_set() and not api._await_release(event, download):
                    self._abort_download(download)
                    return
                self.send_response(200)
                self.send_header("Content-Type", record.mime_type or "application/octet-stream")
                self.send_header("Content-Length", str(record.size))
                self.end_headers()
                if event is not None and not event.is_set():
                    self.wfile.write(f.read(min(record.size // 2, _CHUNK)))
                    self.wfile.flush()
                    if not api._await_release(event, download):
                        self._abort_download(download)
                        return
                while chunk := f.read(_CHUNK):
                    self.wfile.write(chunk)
                self.wfile.flush()
            api._set_download_status(download, "completed")
        except OSError:
            api._set_download_status(download, "aborted")
            raise

    def _reset_download(self, record: Any, download: DownloadRecord) -> None:
        """Promise the whole file, send half, drop the connection (``reset_download``)."""
        with record.open() as f:
            self.send_response(200)
            self.send_header("Content-Type", record.mime_type or "application/octet-stream")
            self.send_header("Content-Length", str(record.size))
            self.end_headers()
            self.wfile.write(f.read(max(record.size // 2, 1)))
            self.wfile.flush()
        self.server.api._set_download_status(download, "reset")
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _abort_download(self, download: DownloadRecord) -> None:
        self.server.api._set_download_status(download, "aborted")
        self.close_connection = True

    def _read_body(self, limit: int) -> bytes:
        if self.command != "POST":
            return b""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            total = 0
            too_large = False
            while True:
                size_line = self.rfile.readline(65537)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ValueError("malformed chunked body") from None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunk = self.rfile.read(size)
                self.rfile.readline(65537)
                total += size
                if total > limit:
                    too_large = True
                if not too_large:
                    parts.append(chunk)
            if too_large:
                raise _BodyTooLarge
            return b"".join(parts)
        try:
            length = int(self.headers.get("Content-Length", "0") or 0)
        except ValueError:
            raise ValueError("invalid Content-Length") from None
        if length > limit:
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, MB))
                if not chunk:
                    break
                remaining -= len(chunk)
            raise _BodyTooLarge
        return self.rfile.read(length) if length else b""

    def _parse_params(self, query: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
        params: dict[str, str] = dict(parse_qsl(query, keep_blank_values=True))
        files: dict[str, Upload] = {}
        if not body:
            return params, files
        content_type = self.headers.get("Content-Type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type == "application/x-www-form-urlencoded":
            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
            except UnicodeDecodeError:
                raise ValueError("request body is not valid UTF-8") from None
        elif media_type == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                raise ValueError("can't parse JSON request body") from None
            if not isinstance(data, dict):
                raise ValueError("JSON request body must be an object")
            for key, value in data.items():
                if value is not None:
                    params[key] = value if isinstance(value, str) else json.dumps(value)
        elif media_type == "multipart/form-data":
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
            )
            if not message.is_multipart():
                raise ValueError("can't parse multipart/form-data body")
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not name:
                    continue
                decoded = part.get_payload(decode=True)  # None for a nested multipart part
                payload = decoded if isinstance(decoded, bytes) else b""
                filename = part.get_filename()
                if filename is not None:
                    files[str(name)] = Upload(filename=filename, content_type=part.get_content_type(), data=payload)
                else:
                    try:
                        params[str(name)] = payload.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ValueError(f"parameter {name!r} is not valid UTF-8") from None
        else:
            raise ValueError(f"unsupported Content-Type {content_type!r}")
        return params, files
