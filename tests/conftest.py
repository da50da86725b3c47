"""Shared fixtures: the real content, a fresh data dir, storage and the engine.

Storage-dependent tests run against both backends: a test that asks for ``storage`` (or
``bot``, or ``database_url``) runs once with SQLite and once with PostgreSQL (a real server
started once per session from the installed binaries: tests/pg_server.py; each test in a schema
of its own). ``@pytest.mark.backends("sqlite")`` keeps a test to the backends it names (it
looks at SQLite's files or pragmas). Without the server binaries the PostgreSQL runs are
skipped with that reason; with SHOUHU_REQUIRE_SYSTEM_TESTS=1 (CI) they fail instead.
"""

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


BACKENDS = ("sqlite", "postgresql")
REQUIRE_ENV = "SHOUHU_REQUIRE_SYSTEM_TESTS"


def require_or_skip(reason: str) -> None:
    """Skip a test that needs something this machine lacks; on CI (SHOUHU_REQUIRE_SYSTEM_TESTS=1)
    fail instead, so a missing install step can never pass as green."""
    if os.environ.get(REQUIRE_ENV, "").strip() == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires this test to run", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config):
    config.addinivalue_line("markers", "backends(*names): run only with these storage backends")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        metafunc.parametrize("backend", marker.args if marker else BACKENDS)


@pytest.fixture(scope="session")
def pg_server():
    from tests.pg_server import start_server

    server = start_server()
    if isinstance(server, str):
        yield server  # the reason: each test that needs it skips (or fails on CI) with it
        return
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server):
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    if isinstance(pg_server, str):
        require_or_skip(pg_server)
    schema = pg_server.new_schema()
    yield pg_server.url(search_path=schema)
    pg_server.drop_schema(schema)


@pytest.fixture
def database_url(backend, request) -> str | None:
    """None for SQLite, else a fresh PostgreSQL URL: what SHOUHU_DATABASE_URL would say."""
    return None if backend == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
async def storage(data_dir, database_url):
    from tests.backends import open_backend

    s = await open_backend(data_dir, database_url)
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
async def bot(fake, data_dir, database_url):
    async with running_bot(fake, data_dir, database_url=database_url) as app:
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
