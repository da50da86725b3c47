"""Several workers on one PostgreSQL database, in one process: the journal is the queue.

Two real Applications (each with its own connections, so their advisory locks meet as two
processes' would) get the updates of many chats alternately, the way a reverse proxy spreads
Telegram's POSTs. Every chat must be answered once per update, in update order. A worker that
journaled updates and died before handling them (tests/test_workers.py does it with kill -9
on real processes) leaves rows the other worker's sweep takes over.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest
from telegram import Update

from flows.content import load_content
from tests.conftest import CONTENT_DIR, bot_settings

COMMANDS = ("/help", "/privacy", "/status")


@asynccontextmanager
async def worker(fake, data_dir, url: str):
    """A webhook-mode worker without its HTTP server: the test hands it updates directly."""
    from handlers.app import build_application

    settings = bot_settings(fake, data_dir, database_url=url)
    app = build_application(settings, load_content(CONTENT_DIR), backoff=0.05, mode="webhook")
    await app.initialize()
    await app.post_init(app)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()


def which(zh, text: str) -> str:
    for command, key in zip(COMMANDS, ("help", "privacy", "status_header"), strict=True):
        if text.startswith(zh.msg(key).strip()[:12]):
            return command
    return f"? {text[:30]}"


async def answers(user, n: int, zh) -> list[str]:
    return [which(zh, m.raw_text) for m in await user.wait_for_messages(n, timeout=30)]


async def test_two_workers_answer_every_chat_once_and_in_order(fake, tmp_path, pg_url, zh):
    chats, rounds = 12, 6
    users = [fake.user(820_000 + i) for i in range(chats)]
    async with worker(fake, tmp_path / "a", pg_url) as a, worker(fake, tmp_path / "b", pg_url) as b:
        assert a.update_processor.backlog and b.update_processor.backlog, "PostgreSQL: the journal is the queue"
        sent = 0
        for r in range(rounds):
            for user in users:
                update = user.send(COMMANDS[r % len(COMMANDS)])
                app = (a, b)[sent % 2]  # one chat's updates land on both workers, alternately
                await app.update_queue.put(Update.de_json(update, app.bot))  # journaled, as before a 200
                sent += 1
        expected = [COMMANDS[r % len(COMMANDS)] for r in range(rounds)]
        for user in users:
            assert await answers(user, rounds, zh) == expected
        await asyncio.gather(a.update_processor.idle(), b.update_processor.idle())
        for user in users:
            assert user.take_new_messages() == [], "nothing answered twice"
    assert not fake.unexpected, fake.unexpected


async def test_the_worker_that_gets_the_chat_first_answers_the_earlier_update_first(fake, tmp_path, pg_url, zh):
    from storage.pg_isolation import HELD_MAX

    user = fake.user(840_000)
    async with worker(fake, tmp_path / "a", pg_url) as a, worker(fake, tmp_path / "b", pg_url) as b:
        busy = a.update_processor.isolation._held  # a: every connection it may spend on chat locks is in use
        for _ in range(HELD_MAX):
            await busy.acquire()
        try:
            earlier, later = user.send("/help"), user.send("/privacy")
            await a.update_queue.put(Update.de_json(earlier, a.bot))  # journaled, waiting for a connection
            await b.update_queue.put(Update.de_json(later, b.bot))  # b is free and takes the chat
            assert await answers(user, 2, zh) == ["/help", "/privacy"], "b answered a's earlier update first"
        finally:
            for _ in range(HELD_MAX):
                busy.release()
        await asyncio.gather(a.update_processor.idle(), b.update_processor.idle())
        assert user.take_new_messages() == [], "a found its update answered and said nothing"


@pytest.mark.parametrize("sweep_rows", [500, 4], ids=["whole backlog", "in slices"])
async def test_what_a_dead_worker_journaled_is_answered_by_the_other(
    fake, tmp_path, pg_url, zh, monkeypatch, sweep_rows
):
    """b journals (Telegram has its 200) and dies before handling anything; a takes over. After
    an outage the backlog may be large: one sweep opens only the oldest ``SWEEP_ROWS`` rows, the
    next sweeps the rest, and every chat still gets its answers in order, once."""
    from handlers import journal

    monkeypatch.setattr(journal, "SWEEP_ROWS", sweep_rows)
    users = [fake.user(830_000 + i) for i in range(6)]
    async with worker(fake, tmp_path / "a", pg_url) as a:
        async with worker(fake, tmp_path / "b", pg_url) as b:
            for command in COMMANDS:  # the chats' rows interleaved, as a burst leaves them
                for user in users:
                    update = user.send(command)
                    await b.services.storage.journal(update["update_id"], update, user.chat_id)
        for user in users:
            assert await answers(user, len(COMMANDS), zh) == list(COMMANDS)
        await a.update_processor.idle()
        if sweep_rows >= len(users) * len(COMMANDS):
            assert a.update_processor.taken_over == len(users), "one take-over per chat, its earlier rows with it"
        assert await a.services.storage.pending_updates() == []
        for user in users:
            assert user.take_new_messages() == [], "nothing answered twice"


@pytest.mark.backends("sqlite")
async def test_one_process_on_sqlite_keeps_its_own_order_without_the_sweep(bot):
    assert bot.update_processor.backlog is None
    assert [t.get_name() for t in bot.background] == ["maintenance", "interrupted exports"]
