"""Shared fixtures: the real content, a fresh data dir, storage and the engine."""

from __future__ import annotations

import base64
import os
from pathlib import Path

# python-telegram-bot warns (an error under filterwarnings=error) when it builds RetryAfter the
# old way; opt into the new behaviour it will default to.
os.environ.setdefault("PTB_TIMEDELTA", "true")

import pytest

from flows.content import load_content
from flows.engine import Engine
from storage.sqlite import SqliteStorage as Storage

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "content"
MASTER_KEY = base64.b64encode(b"k" * 32).decode()


@pytest.fixture(scope="session")
def content():
    return load_content(CONTENT_DIR)


@pytest.fixture(scope="session")
def zh(content):
    return content.locale("zh-CN")


@pytest.fixture
def engine(content):
    return Engine(content)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
async def storage(data_dir):
    s = await Storage.open(data_dir, MASTER_KEY)
    yield s
    await s.close()


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle``."""
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            if needle in p.read_bytes():
                found.append(p)
    return found


# ----------------------------------------------------------------------------- Telegram, faked over HTTP

from contextlib import asynccontextmanager  # noqa: E402

from config import Settings  # noqa: E402
from tests.fakes.botapi import FakeBotAPI  # noqa: E402

TOKEN = "123456:TEST-token-never-in-logs"


@pytest.fixture
def fake():
    server = FakeBotAPI(token=TOKEN)
    server.start()
    yield server
    server.stop()


def bot_settings(server: FakeBotAPI, data_dir: Path, **overrides) -> Settings:
    values = dict(token=TOKEN, api_url=server.url, data_dir=data_dir, content_dir=CONTENT_DIR, master_key=MASTER_KEY)
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_bot(server: FakeBotAPI, data_dir: Path, **overrides):
    """The real Application, polling the fake server, started the way run_polling starts it."""
    from handlers.app import build_application

    app = build_application(bot_settings(server, data_dir, **overrides), load_content(CONTENT_DIR), backoff=0.05)
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()


@pytest.fixture
async def bot(fake, data_dir):
    async with running_bot(fake, data_dir) as app:
        yield app
    assert not fake.unexpected, fake.unexpected


async def settled(app, update: dict, timeout: float = 10.0) -> None:
    """Wait until the bot has finished with ``update``: it is marked handled in the journal
    and no update is being processed or waiting. A test may then assert that nothing (more)
    was sent, without sleeping and hoping."""
    import asyncio

    storage = app.services.storage
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await storage.is_handled(update["update_id"]):
        if loop.time() > deadline:
            raise AssertionError(f"update {update['update_id']} was not handled within {timeout}s")
        await asyncio.sleep(0.01)
    await asyncio.wait_for(app.update_processor.idle(), timeout)
