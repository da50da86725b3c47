"""Webhook mode: Telegram (the fake) posts updates to the bot's own server; the secret is checked
on every request; updates pass through the same journal as polling, so kill -9 after the 200
loses nothing."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from telegram.error import Conflict

from flows.content import load_content
from tests.conftest import CONTENT_DIR, MASTER_KEY, ROOT, TOKEN, bot_settings, running_bot, settled
from tests.test_process import DATA, kill9, send_stalled_document

USER = 515151
SECRET = "s3cret-Token_for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def webhook_bot(server, data_dir: Path, **overrides):
    """The real Application in webhook mode, started the way ``handlers.webhook.serve`` starts it."""
    from handlers.app import build_application
    from handlers.webhook import start_webhook

    port = free_port()
    settings = bot_settings(
        server,
        data_dir,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_port=port,
        webhook_secret=SECRET,
        **overrides,
    )
    app = build_application(settings, load_content(CONTENT_DIR), backoff=0.05, mode="webhook")
    await app.initialize()
    await app.post_init(app)
    hook = await start_webhook(app, settings, SECRET)
    await app.start()
    try:
        yield app, hook
    finally:
        await hook.stop()
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()


def post(port: int, body: bytes, headers: dict[str, str], path: str = "/telegram", method: str = "POST") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


# ----------------------------------------------------------------------------- the fake's side of webhooks


async def test_fake_refuses_polling_while_a_webhook_is_set_and_posts_nowhere_but_loopback(fake):
    from telegram import Bot
    from telegram.error import BadRequest

    async with Bot(**fake.bot_kwargs()) as bot:
        with pytest.raises(BadRequest, match="(?i)bad webhook"):
            await bot.set_webhook("https://example.org/hook")
        assert fake.unexpected
        fake.unexpected.clear()
        with pytest.raises(BadRequest, match="(?i)unallowed characters"):
            await bot.set_webhook(f"http://127.0.0.1:{free_port()}/x", secret_token="no spaces")
        assert await bot.set_webhook(f"http://127.0.0.1:{free_port()}/x", secret_token="ok")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        assert (await bot.get_webhook_info()).url.endswith("/x")
        assert await bot.delete_webhook()
        assert await bot.get_updates() == ()


async def test_fake_keeps_an_update_the_bot_did_not_accept_and_posts_it_again(fake):
    """Nobody listens at the URL: the update stays pending (not confirmed) and the error is
    reported by getWebhookInfo, as Telegram does."""
    from telegram import Bot

    user = fake.user(USER, language_code="zh")
    sent = user.send("你好")
    async with Bot(**fake.bot_kwargs()) as bot:
        await bot.set_webhook(f"http://127.0.0.1:{free_port()}/nobody", secret_token=SECRET)
        await fake.wait_until(lambda: len(fake.webhook_posts) >= 2, 10)
        info = await bot.get_webhook_info()
        await bot.delete_webhook()
    assert {p.update_id for p in fake.webhook_posts} == {sent["update_id"]}
    assert not fake.is_confirmed(sent["update_id"])
    assert info.pending_update_count == 1 and info.last_error_message


# ----------------------------------------------------------------------------- the bot in webhook mode


async def test_webhook_is_set_with_the_secret_and_updates_are_answered(fake, data_dir, zh):
    user = fake.user(USER, language_code="zh")
    async with webhook_bot(fake, data_dir) as (app, hook):
        (call,) = fake.calls("setWebhook")
        assert call["secret_token"] == SECRET and call["url"] == f"http://127.0.0.1:{hook.port}/telegram"
        user.send("/start")
        (welcome,) = await user.wait_for_messages(1)
        assert "/privacy" in welcome.text
        user.press(welcome, next(b.label for row in zh.nodes[zh.start].buttons for b in row if b.go == "menu"))
        (menu,) = await user.wait_for_messages(1)
        assert menu.buttons
    assert fake.webhook_posts and all(p.status == 200 and p.secret_sent for p in fake.webhook_posts)
    assert not fake.calls("getUpdates"), "webhook mode never polls"
    assert not fake.unexpected


async def test_a_request_without_the_right_secret_gets_403_and_nothing_is_processed(fake, data_dir, zh):
    user = fake.user(USER, language_code="zh")
    async with webhook_bot(fake, data_dir) as (app, hook):
        user.send("/help")
        await user.wait_for_messages(1)
        forged = dict(fake.all_updates[-1], update_id=10_000)
        forged["message"] = dict(forged["message"], text="/start", message_id=999)
        body = json.dumps(forged).encode()
        assert await asyncio.to_thread(post, hook.port, body, {}) == 403
        assert await asyncio.to_thread(post, hook.port, body, {"X-Telegram-Bot-Api-Secret-Token": "guess"}) == 403
        assert (
            await asyncio.to_thread(post, hook.port, body, {"X-Telegram-Bot-Api-Secret-Token": SECRET}, "/other") == 404
        )
        assert (
            await asyncio.to_thread(post, hook.port, b"", {"X-Telegram-Bot-Api-Secret-Token": SECRET}, method="GET")
            == 405
        )
        assert hook.refused == 4 and hook.accepted == 1

        fence = user.send("/privacy")  # the same chat, handled in order: had the forged one got in, it came first
        (answer,) = await user.wait_for_messages(1)
        assert answer.raw_text.startswith(zh.msg("privacy").strip()[:20])
        await settled(app, fence)
        storage = app.services.storage
        assert not await storage.is_handled(10_000)
        assert 10_000 not in [u["update_id"] for u in await storage.pending_updates()]
    assert len(user.history) == 2, "the bot answered /help and /privacy, and nothing else: " + user.transcript()


async def test_the_webhook_server_speaks_little_http_and_refuses_the_rest(fake, data_dir, zh):
    user = fake.user(USER, language_code="zh")
    ok = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with webhook_bot(fake, data_dir) as (app, hook):
        user.send("/help")
        await user.wait_for_messages(1)
        template = fake.all_updates[-1]

        def exchange() -> list[int]:
            statuses = []
            connection = http.client.HTTPConnection("127.0.0.1", hook.port, timeout=10)
            try:
                for update_id in (20_000, 20_001):  # two updates over one kept-alive connection
                    body = json.dumps(dict(template, update_id=update_id)).encode()
                    connection.request("POST", "/telegram", body=body, headers=ok)
                    response = connection.getresponse()
                    response.read()
                    statuses.append(response.status)
                connection.request("POST", "/telegram", body=b"not json", headers=ok)
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
            finally:
                connection.close()
            chunked = http.client.HTTPConnection("127.0.0.1", hook.port, timeout=10)
            try:
                chunked.request("POST", "/telegram", body=iter([b"{}"]), headers=ok, encode_chunked=True)
                statuses.append(chunked.getresponse().status)
            finally:
                chunked.close()
            huge = http.client.HTTPConnection("127.0.0.1", hook.port, timeout=10)
            try:
                huge.putrequest("POST", "/telegram")
                huge.putheader("Content-Length", str(2 * 1024 * 1024))
                huge.putheader("X-Telegram-Bot-Api-Secret-Token", SECRET)
                huge.endheaders()
                statuses.append(huge.getresponse().status)
            finally:
                huge.close()
            return statuses

        assert await asyncio.to_thread(exchange) == [200, 200, 400, 411, 413]
        await user.wait_for_messages(2)  # the two accepted /help updates, answered
        assert hook.accepted == 3 and hook.refused == 2


async def test_an_accepted_update_is_in_the_journal_before_its_200(fake, data_dir):
    """The bot's handler is held up, so only the journal can hold the update when the 200 is sent."""
    user = fake.user(USER, language_code="zh")
    async with webhook_bot(fake, data_dir) as (app, hook):
        with fake._lock:  # the bot cannot fetch the update before the stall is in place
            upd = user.send_document(DATA, "call.m4a", "audio/mp4")
            gate = fake.delay_file(upd["message"]["document"]["file_id"])
        await fake.wait_until(lambda: fake.is_confirmed(upd["update_id"]), 10)
        pending = await app.services.storage.pending_updates()
        assert upd in pending, "the journal holds the update exactly as Telegram sent it"
        gate.set()
        (receipt,) = await user.wait_for_messages(1, timeout=20)
        assert "E-001" in receipt.text


async def test_back_to_polling_removes_the_webhook(fake, data_dir):
    user = fake.user(USER, language_code="zh")
    async with webhook_bot(fake, data_dir):
        pass
    async with running_bot(fake, data_dir):
        user.send("/start")
        await user.wait_for_messages(1)
    assert fake.webhook_deletions >= 1 and fake.calls("getUpdates")


# ----------------------------------------------------------------------------- the real process


def start_webhook_process(server, data_dir: Path, log: Path, port: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=server.url,
        SHOUHU_DATA_DIR=str(data_dir),
        SHOUHU_CONTENT_DIR=str(CONTENT_DIR),
        SHOUHU_MASTER_KEY=MASTER_KEY,
        SHOUHU_WEBHOOK_URL=f"http://127.0.0.1:{port}/tg",
        SHOUHU_WEBHOOK_PORT=str(port),
        SHOUHU_WEBHOOK_SECRET=SECRET,
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "bot.py", "webhook"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def stop_gently(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        kill9(proc)
        return -9


async def test_kill_9_after_the_200_loses_nothing(fake, data_dir, tmp_path):
    user = fake.user(USER, language_code="zh")
    log = tmp_path / "bot.log"
    port = free_port()
    procs = [start_webhook_process(fake, data_dir, log, port)]
    try:
        user.send("/start")
        await user.wait_for_messages(1, timeout=30)
        upd, gate = send_stalled_document(fake, user)
        await fake.wait_until(lambda: fake.download_started(upd["message"]["document"]["file_id"]), 20)
        await fake.wait_until(lambda: fake.is_confirmed(upd["update_id"]), 20)  # the 200 came back
        kill9(procs[-1])  # Telegram will never post this update again
        gate.set()
        procs.append(start_webhook_process(fake, data_dir, log, port))
        msgs = await user.wait_for_messages(1, timeout=30)
        assert "E-001" in msgs[0].text
        user.send("/evidence")
        (listing,) = await user.wait_for_messages(1, timeout=20)
        assert "E-001" in listing.text and "E-002" not in listing.text
    finally:
        assert stop_gently(procs[-1]) == 0
    text = log.read_text(errors="replace")
    assert "mode webhook" in text and TOKEN not in text and SECRET not in text and MASTER_KEY not in text


def test_webhook_without_a_url_explains(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUHU_WEBHOOK")}
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, SHOUHU_DATA_DIR=str(tmp_path / "data"), SHOUHU_CONTENT_DIR=str(CONTENT_DIR))
    r = subprocess.run(
        [sys.executable, "bot.py", "webhook"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 2 and "SHOUHU_WEBHOOK_URL" in r.stderr and "Traceback" not in r.stderr


def test_a_shared_database_without_a_webhook_secret_is_refused_at_start(tmp_path):
    """Several workers would each register their own random secret; all but the last would
    refuse every update. So with SHOUHU_DATABASE_URL the secret must be set, before anything runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUHU_")}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        SHOUHU_DATA_DIR=str(tmp_path / "data"),
        SHOUHU_CONTENT_DIR=str(CONTENT_DIR),
        SHOUHU_WEBHOOK_URL="https://bot.example.org/telegram",
        SHOUHU_DATABASE_URL="postgresql://shouhu@127.0.0.1:9/none",
        TELEGRAM_API_URL="http://127.0.0.1:9",
    )
    r = subprocess.run(
        [sys.executable, "bot.py", "webhook"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 2 and "SHOUHU_WEBHOOK_SECRET" in r.stderr and "Traceback" not in r.stderr


async def test_healthz_says_whether_the_worker_can_take_updates(fake, data_dir):
    def probe(port: int) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    async with webhook_bot(fake, data_dir) as (app, hook):
        assert await asyncio.to_thread(probe, hook.port) == (200, b"OK")
        assert hook.accepted == 0 and hook.refused == 0, "a probe is neither an update nor a refusal"
        await app.stop()  # stopping: a proxy must send the updates elsewhere
        assert (await asyncio.to_thread(probe, hook.port))[0] == 503
        await app.start()
