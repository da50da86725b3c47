"""Several ``python bot.py webhook`` workers on one database, with Telegram's side of the webhook
played by hand: what tests/test_workers.py and benchmarks/workers.py share.

Telegram (the fake Bot API, tests/fakes) still answers the workers' Bot API calls and keeps the
chats; but the updates are not delivered by its webhook thread (which posts one at a time to the
one URL set last). The caller POSTs them itself, to whichever worker it chooses, the way a
reverse proxy spreads Telegram's concurrent POSTs over the workers behind it. ``Hook`` is that
POST: HTTP/1.1 with keep-alive, the secret header, the status of the answer (0 when there was
none: a worker that died or is not listening).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "workers-Secret_token"
HOOK_PATH = "/tg"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Worker:
    """One bot process: its own port, data dir (scratch only, with PostgreSQL) and log."""

    name: str
    port: int
    data_dir: Path
    log: Path
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu_seconds(self) -> float:
        """User + system time of the process, all its threads (from /proc: no psutil)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, as systemd stops it; kill -9 if it does not end in time (returns -9)."""
        if not self.alive():
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return -9


def start_worker(
    name: str,
    *,
    api_url: str,
    token: str,
    root: Path,
    key_file: Path,
    database_url: str | None,
    content_dir: Path = ROOT / "content",
    extra_env: dict[str, str] | None = None,
) -> Worker:
    """``python bot.py webhook`` with its own port and data dir; the master key from
    ``key_file`` (outside every data dir, shared by all workers), the database from
    ``database_url`` (None: SQLite in the data dir, for a single process)."""
    port = free_port()
    data_dir = root / f"data-{name}"
    log = root / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOUHU_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_URL=api_url,
        SHOUHU_DATA_DIR=str(data_dir),
        SHOUHU_CONTENT_DIR=str(content_dir),
        SHOUHU_KEY_FILE=str(key_file),
        SHOUHU_WEBHOOK_URL=f"http://127.0.0.1:{port}{HOOK_PATH}",
        SHOUHU_WEBHOOK_PORT=str(port),
        SHOUHU_WEBHOOK_SECRET=SECRET,
        PTB_TIMEDELTA="true",
    )
    if database_url:
        env["SHOUHU_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), "webhook"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Worker(name, port, data_dir, log, proc)


def write_key_file(path: Path, key: bytes) -> None:
    """The one master key file every worker reads (created before any of them starts)."""
    from storage.masterkey import write_new_key_file

    write_new_key_file(path, key)


async def wait_ready(fake: Any, workers: list[Worker], timeout: float = 60.0) -> None:
    """Each worker has registered its URL with setWebhook (it listens before it does), or died:
    then its log says why."""

    def ready() -> bool:
        if any(not w.alive() for w in workers):
            return True
        urls = {c.get("url") for c in fake.calls("setWebhook")}
        return all(w.url in urls for w in workers)

    await fake.wait_until(ready, timeout, "the workers did not start")
    for w in workers:
        if not w.alive():
            raise AssertionError(f"worker {w.name} exited with {w.proc.returncode}:\n{w.log.read_text()[-3000:]}")


def take_over_delivery(fake: Any, token: str) -> None:
    """Remove the webhook at the fake, as a Bot API call: from here on only the caller posts
    updates (the fake keeps them queued, undelivered)."""
    request = urllib.request.Request(f"{fake.url}/bot{token}/deleteWebhook", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
        assert json.loads(response.read())["ok"]


@dataclass
class Hook:
    """Telegram's connection to one worker: POST an update, get the status (0: no answer)."""

    port: int
    secret: str = SECRET
    path: str = HOOK_PATH
    timeout: float = 30.0
    _conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = field(default=None, repr=False)

    async def post(self, update: dict[str, Any]) -> int:
        body = json.dumps(update, ensure_ascii=False).encode()
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Telegram-Bot-Api-Secret-Token: {self.secret}\r\n\r\n"
        )
        for attempt in (1, 2):  # a kept-alive connection the worker closed meanwhile: once more, fresh
            try:
                if self._conn is None:
                    self._conn = await asyncio.open_connection("127.0.0.1", self.port)
                reader, writer = self._conn
                writer.write(head.encode() + body)
                await writer.drain()
                return await asyncio.wait_for(_read_status(reader), self.timeout)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                await self.close()
                if attempt == 2:
                    return 0
        return 0

    async def close(self) -> None:
        if self._conn is not None:
            writer = self._conn[1]
            self._conn = None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


async def _read_status(reader: asyncio.StreamReader) -> int:
    line = await reader.readline()
    if not line:
        raise asyncio.IncompleteReadError(b"", None)
    status = int(line.split()[1])
    length = 0
    while True:
        header = await reader.readline()
        if not header:
            raise asyncio.IncompleteReadError(b"", None)
        if header in (b"\r\n", b"\n"):
            break
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status
