"""Webhook mode: Telegram POSTs each update to the bot's own small HTTP server.

``python bot.py webhook`` runs it. The server listens on ``SHOUHU_WEBHOOK_LISTEN`` (default
127.0.0.1, behind a reverse proxy that holds the TLS certificate) and answers only
``POST <the path of SHOUHU_WEBHOOK_URL>`` carrying the ``X-Telegram-Bot-Api-Secret-Token``
header that ``setWebhook`` registered; anything else is refused (403 for a wrong or missing
secret, 404 for another path, 405 for another method) and nothing of it reaches the bot. One
exception: ``GET /healthz`` answers 200 while the worker runs and its database answers (503
otherwise), for a proxy that probes its upstreams.

An accepted update goes into ``application.update_queue``, which is the ``JournalingQueue``:
it is written (sealed) to the journal *before* the 200 goes back, the same way polling only
confirms an offset after the journal write. Telegram forgets an update once it has the 200,
so a crash (kill -9) right after it loses nothing: ``replay`` finishes it at the next start.
If the journal cannot be written, no 200 is sent and Telegram keeps the update.

Why not python-telegram-bot's ``run_webhook``: it needs tornado (the ``webhooks`` extra). This
is PTB's documented "custom webhook" pattern instead (any server that puts ``Update`` objects
into ``update_queue``), on the standard library's asyncio streams: no extra dependency, and the
journal-before-200 rule is visible here rather than inside a framework. The HTTP it speaks is
deliberately small: HTTP/1.1 with ``Content-Length`` bodies up to 1 MiB (Telegram sends nothing
else; a chunked body gets 411), keep-alive, and idle connections closed after a minute.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import signal
from dataclasses import dataclass
from http import HTTPStatus

from telegram import Update

from config import Settings
from handlers.context import ShouhuApplication
from handlers.journal import JournalingQueue

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_BODY = 1024 * 1024  # an update is a few KB; Telegram's own limit on a message is 4096 characters
MAX_HEADERS = 16 * 1024
IDLE_TIMEOUT = 60.0  # seconds a kept-alive connection may sit without a request
LINGER = 2.0  # seconds a refused connection is read and dropped before closing
HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT = 2.0


class WebhookError(Exception):
    """The webhook cannot be run; the message is a sentence for the operator."""


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: dict[str, str]


class _Refuse(Exception):
    def __init__(self, status: int):
        self.status = status


class WebhookServer:
    """The HTTP side: accept a request, check it, journal its update, answer."""

    def __init__(self, app: ShouhuApplication, *, path: str, secret: str, listen: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.path = path
        self.secret = secret.encode()
        self.listen = listen
        self.port = port
        self.accepted = 0  # updates journaled and answered 200 (for tests and the log)
        self.refused = 0
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, self.listen, self.port, limit=MAX_HEADERS)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("webhook server listening on %s:%d, path %s", self.listen, self.port, self.path)

    async def stop(self) -> None:
        """Stop accepting; a request still being journaled is cut off before its 200, so
        Telegram sends it again (and the journal and the transaction make that harmless)."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            while True:
                try:
                    request = await asyncio.wait_for(_read_head(reader), IDLE_TIMEOUT)
                    if request is None:
                        return
                    status = await self._answer(request, reader)
                except _Refuse as refused:
                    self.refused += 1
                    writer.write(_response(refused.status, close=True))
                    await writer.drain()
                    await _linger(reader, writer)
                    return
                writer.write(_response(status, close=False))
                await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            return  # an idle, dropped or malformed connection: nothing was accepted on it
        finally:
            self._clients.discard(task)
            writer.close()

    async def _health(self) -> int:
        """``GET /healthz``: 200 when this worker is running and its database answers, else 503;
        for a proxy or load balancer that probes its upstreams. It says nothing else."""
        if not self.app.running:
            return 503
        try:
            await asyncio.wait_for(self.app.services.storage.is_handled(0), HEALTH_TIMEOUT)  # one round trip
        except Exception as exc:  # noqa: BLE001 - any failure means "do not send me updates now"
            log.warning("health check: the database did not answer (%s)", type(exc).__name__)
            return 503
        return 200

    async def _answer(self, request: _Request, reader: asyncio.StreamReader) -> int:
        # The body (at most 1 MiB) is read before a refusal is sent: closing a socket with unread
        # data makes the kernel reset the connection, and the client might never see the answer.
        if "transfer-encoding" in request.headers:
            raise _Refuse(411)
        try:
            length = int(request.headers.get("content-length", "0"))
        except ValueError:
            raise _Refuse(400) from None
        if not 0 <= length <= MAX_BODY:
            raise _Refuse(413)
        body = await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT)
        if request.path == HEALTH_PATH and request.method == "GET":
            return await self._health()
        if request.path != self.path:
            raise _Refuse(404)
        if request.method != "POST":
            raise _Refuse(405)
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), self.secret):
            log.warning("webhook: a request without the right secret token was refused")
            raise _Refuse(403)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.app.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("webhook: a request whose body is not an update was refused")  # never the body
            return 400
        queue = self.app.update_queue
        if isinstance(queue, JournalingQueue):
            queue.remember(data)  # journaled as Telegram sent it
        await queue.put(update)  # the JournalingQueue: sealed in the journal first
        self.accepted += 1
        return 200


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close the way web servers do after a refusal: say we are done writing, then read and drop
    what the client still sends (a chunked body we refused unread) until it closes, briefly.
    Closing with unread bytes in the socket makes the kernel reset the connection, and the client
    may lose the answer it was about to read."""
    if writer.can_write_eof():
        writer.write_eof()
    try:
        async with asyncio.timeout(LINGER):
            while await reader.read(64 * 1024):
                pass
    except (TimeoutError, ConnectionError):
        pass


async def _read_head(reader: asyncio.StreamReader) -> _Request | None:
    """The request line and headers; None when the client closed the connection."""
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _Refuse(400)
    headers: dict[str, str] = {}
    size = 0
    while True:
        raw = await reader.readline()
        size += len(raw)
        if not raw:
            raise asyncio.IncompleteReadError(b"", None)
        if size > MAX_HEADERS:
            raise _Refuse(431)
        if raw in (b"\r\n", b"\n"):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise _Refuse(400)
        headers[name.strip().lower()] = value.strip()
    return _Request(parts[0], parts[1].split("?", 1)[0], headers)


def _response(status: int, *, close: bool) -> bytes:
    reason = HTTPStatus(status).phrase
    body = reason.encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    return head.encode() + body


# ----------------------------------------------------------------------------- running it


def webhook_secret(settings: Settings) -> str:
    """SHOUHU_WEBHOOK_SECRET, or a fresh random one for this run (setWebhook registers it at
    every start, so nothing else needs to know it). Not with a shared database: there several
    workers may run, each would register its own secret, and all but the last to start would
    refuse every update."""
    if settings.webhook_secret:
        return settings.webhook_secret
    if settings.database_url:
        raise WebhookError(
            "SHOUHU_DATABASE_URL is set, so several workers may share this bot: set SHOUHU_WEBHOOK_SECRET "
            "(the same random string for every worker, e.g. from `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`; docs/DEPLOY.md, section 7)."
        )
    log.info("SHOUHU_WEBHOOK_SECRET is not set: this run uses a fresh random secret token")
    return secrets.token_urlsafe(32)


async def start_webhook(app: ShouhuApplication, settings: Settings, secret: str) -> WebhookServer:
    """Listen first, then tell Telegram where to post (so its first POST finds the server)."""
    from telegram.error import TelegramError

    assert settings.webhook_url
    server = WebhookServer(
        app, path=settings.webhook_path, secret=secret, listen=settings.webhook_listen, port=settings.webhook_port
    )
    try:
        await server.start()
    except OSError as exc:
        raise WebhookError(
            f"Cannot listen on {settings.webhook_listen}:{settings.webhook_port} ({exc.strerror or exc}). "
            "Set SHOUHU_WEBHOOK_LISTEN and SHOUHU_WEBHOOK_PORT to a free address (docs/DEPLOY.md)."
        ) from None
    try:
        await app.bot.set_webhook(settings.webhook_url, secret_token=secret)
    except TelegramError as exc:
        await server.stop()
        raise WebhookError(
            f"Telegram refused the webhook URL {settings.webhook_url}: {exc.message}. It must be a public "
            "https:// address on port 443, 80, 88 or 8443 that your reverse proxy forwards to this bot."
        ) from None
    return server


async def serve(app: ShouhuApplication, settings: Settings) -> None:
    """The whole life of a webhook process, in python-telegram-bot's order (initialize,
    post_init, start ... stop, shutdown, post_shutdown); SIGINT or SIGTERM ends it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    secret = webhook_secret(settings)
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        server = await start_webhook(app, settings, secret)
        try:
            await app.start()
            await stop.wait()
            log.info("stopping: no new updates are accepted")
        finally:
            await server.stop()
            if app.running:
                await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


def run_webhook(app: ShouhuApplication, settings: Settings) -> None:
    asyncio.run(serve(app, settings))
