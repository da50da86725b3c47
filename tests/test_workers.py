"""Two ``python bot.py webhook`` workers on one PostgreSQL database (issue #13).

The test plays Telegram and the reverse proxy in front of the workers (tests/cluster.py): it
POSTs each update, with the secret header, to one worker or the other, alternately, so that
consecutive updates of one chat land on different workers. Like Telegram's own webhook sender it
posts a chat's next update only once the previous one was acknowledged (200), and keeps many
chats in flight at once. The fake Bot API receives the replies.

What a person in any of those chats must see: every update answered once, in the order sent,
whichever worker took it; and when a worker is killed (-9) with acknowledged updates it had not
finished, the other worker finishes them, still in order, still once.

Each command used here has its own first line of reply, so a chat's transcript shows the order
its updates were handled in; /evidence says how many items are stored, so a receipt handled after
it (or twice) shows too. A reference chat, walked one update at a time first, gives the expected
transcript.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Sequence
from typing import Any

import pytest

from tests.cluster import Hook, Worker, start_worker, take_over_delivery, wait_ready, write_key_file
from tests.conftest import MASTER_KEY, TOKEN

COMMANDS = ("/help", "/privacy", "/status", "/evidence", "/filings", "/reminders", "/facts", "/drafts")
AFTER_UPLOAD = ("/evidence", "/help", "/privacy", "/status", "/filings", "/drafts")
FIRST_CHAT = 700_000
TAKE_OVER = 30.0  # seconds the survivor gets to finish a dead worker's chats (about 3 are expected)


@pytest.fixture
def cluster(fake, pg_url, tmp_path):
    """Start workers on one database and one key file; stops (or kills) them all at the end."""
    key_file = tmp_path / "keys" / "master.key"  # outside every worker's data dir
    write_key_file(key_file, base64.b64decode(MASTER_KEY))
    started: list[Worker] = []

    async def start(n: int) -> list[Worker]:
        workers = [
            start_worker(
                chr(ord("a") + len(started) + i),
                api_url=fake.url,
                token=TOKEN,
                root=tmp_path,
                key_file=key_file,
                database_url=pg_url,
            )
            for i in range(n)
        ]
        started.extend(workers)
        await wait_ready(fake, workers)
        take_over_delivery(fake, TOKEN)
        return workers

    yield start
    for w in started:
        w.stop()
    for w in started:
        text = w.log.read_text(errors="replace")
        assert TOKEN not in text and MASTER_KEY not in text, f"worker {w.name}'s log holds a secret"
    assert not fake.unexpected, fake.unexpected


def first_lines(user) -> list[str]:
    return [(m.raw_text or m.caption or "").split("\n")[0] for m in user.history]


def make_update(fake, user, action: str) -> dict[str, Any]:
    """The update Telegram would post for ``action``: a command, or ``upload`` (a document).
    The test delivers it itself, so the fake's own queue forgets it (a worker starting later
    and calling setWebhook must not get it from there too)."""
    with fake._lock:
        update = (
            user.send_document(os.urandom(2000), "call.m4a", "audio/mp4") if action == "upload" else user.send(action)
        )
        fake._confirm(update["update_id"] + 1)
    return update


async def walk_reference(fake, workers: Sequence[Worker], chat_id: int, script: Sequence[str]) -> list[str]:
    """One chat, one update at a time (each answered before the next), alternating workers: the
    transcript every chat of the burst must end up with."""
    user = fake.user(chat_id, language_code="zh")
    hooks = [Hook(w.port) for w in workers]
    try:
        for i, action in enumerate(script):
            assert await hooks[i % len(hooks)].post(make_update(fake, user, action)) == 200
            await user.wait_for_messages(1, timeout=30)
    finally:
        for hook in hooks:
            await hook.close()
    lines = first_lines(user)
    assert len(lines) == len(script) and len(set(lines)) == len(script), (
        "each step of the script must have a reply of its own, or order cannot be seen: " + user.transcript()
    )
    return lines


def differences(users: dict[int, Any], expected: list[str]) -> list[str]:
    """Chats whose transcript is not the expected one: what a person would have seen instead."""
    wrong = []
    for chat_id, user in users.items():
        got = first_lines(user)
        if got != expected:
            missing = [line for line in expected if line not in got]
            twice = sorted({line for line in got if got.count(line) > 1})
            what = ", ".join(f"{label} {lines}" for label, lines in (("missing", missing), ("twice", twice)) if lines)
            wrong.append(f"chat {chat_id}: {what or 'out of order'}; got {got}")
    return wrong


async def all_answered(fake, users: dict[int, Any], n: int, timeout: float) -> bool:
    """Wait (event-driven, with a deadline) until every chat has at least ``n`` replies."""
    try:
        await fake.wait_until(lambda: all(len(u.history) >= n for u in users.values()), timeout)
    except AssertionError:
        return False
    return True


def verdict(users: dict[int, Any], expected: list[str], answered_in_time: bool) -> None:
    """Called once every worker has exited: nothing more can arrive, so 'none twice' is final."""
    wrong = differences(users, expected)
    if wrong:
        counts = {"complete": sum(first_lines(u) == expected for u in users.values()), "chats": len(users)}
        raise AssertionError(
            f"{len(wrong)} of {counts['chats']} chats saw their replies out of order, twice or not at all "
            f"(all replies within the deadline: {answered_in_time}):\n  " + "\n  ".join(wrong[:8])
        )
    assert answered_in_time


async def test_a_burst_over_two_workers_is_answered_once_and_in_order_in_every_chat(fake, cluster):
    workers = await cluster(2)
    expected = await walk_reference(fake, workers, FIRST_CHAT, COMMANDS)

    users = {FIRST_CHAT + 1 + c: fake.user(FIRST_CHAT + 1 + c, language_code="zh") for c in range(20)}
    updates = {chat: [make_update(fake, u, cmd) for cmd in COMMANDS] for chat, u in users.items()}

    async def one_chat(index: int, chat: int) -> list[int]:
        own = [Hook(w.port) for w in workers]  # a connection per chat and worker, as Telegram opens many
        try:
            return [await own[(index + k) % 2].post(update) for k, update in enumerate(updates[chat])]
        finally:
            for hook in own:
                await hook.close()

    statuses = await asyncio.gather(*(one_chat(i, chat) for i, chat in enumerate(users)))
    assert all(s == 200 for chat in statuses for s in chat), statuses
    answered = await all_answered(fake, users, len(COMMANDS), 60)
    for w in workers:
        assert w.alive(), f"worker {w.name} died:\n{w.log.read_text()[-2000:]}"
        w.stop()
    verdict(users, expected, answered)


async def test_a_worker_killed_mid_burst_hands_its_chats_to_the_other(fake, cluster):
    """Worker a is stuck in four chats' uploads (the downloads stall) and holds more of those
    chats' updates, acknowledged with 200 but waiting their turn, when it is killed with -9
    (b starts once a is inside the uploads, so a is the one holding them).
    Worker b finishes all of them: each upload stored once and answered once, before the
    commands that followed it in the chat; then the rest of the burst, which the proxy now
    sends to b alone (a POST to the dead worker gets no answer and goes to b, as nginx's
    proxy_next_upstream does)."""
    (a,) = await cluster(1)
    script = ("upload", *AFTER_UPLOAD)
    stalled = {FIRST_CHAT + 1 + c: fake.user(FIRST_CHAT + 1 + c, language_code="zh") for c in range(4)}
    others = {FIRST_CHAT + 10 + c: fake.user(FIRST_CHAT + 10 + c, language_code="zh") for c in range(8)}
    users = stalled | others
    gates = []
    for user in stalled.values():
        with fake._lock:  # the worker cannot fetch the file before the stall is in place
            upload = make_update(fake, user, "upload")
            gates.append(fake.delay_file(upload["message"]["document"]["file_id"]))
        hook = Hook(a.port)
        assert await hook.post(upload) == 200
        await hook.close()
    await fake.wait_until(lambda: stalled_downloads(fake) >= len(stalled), 30)
    (b,) = await cluster(1)  # started now, so that a is sure to be the one inside those uploads
    expected = await walk_reference(fake, [a, b], FIRST_CHAT, script)

    updates = {chat: [make_update(fake, u, cmd) for cmd in AFTER_UPLOAD] for chat, u in stalled.items()}
    updates |= {chat: [make_update(fake, u, action) for action in script] for chat, u in others.items()}
    half = 3
    dead: set[int] = set()

    async def one_chat(index: int, chat: int, part: slice) -> None:
        own = [Hook(a.port), Hook(b.port)]
        try:
            for k, update in enumerate(updates[chat][part], start=part.start or 0):
                target = (index + k) % 2
                if target in dead or (status := await own[target].post(update)) == 0:
                    status = await own[1].post(update)  # the proxy tries the next worker
                assert status == 200, f"update {update['update_id']}: {status}"
        finally:
            for hook in own:
                await hook.close()

    await asyncio.gather(*(one_chat(i, chat, slice(0, half)) for i, chat in enumerate(users)))
    assert a.alive()
    a.kill9()  # it answered 200 for updates it had not finished: the stalled uploads and those behind them
    dead.add(0)
    for gate in gates:
        gate.set()
    await asyncio.gather(*(one_chat(i, chat, slice(half, None)) for i, chat in enumerate(users)))

    answered = await all_answered(fake, users, len(script), TAKE_OVER)
    assert b.alive(), f"worker b died:\n{b.log.read_text()[-2000:]}"
    b.stop()
    verdict(users, expected, answered)


def stalled_downloads(fake) -> int:
    """Downloads stalled right now: a worker is inside each of those updates."""
    with fake._lock:
        return sum(1 for d in fake.downloads if d.status == "stalled")
