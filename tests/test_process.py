"""The real entry point as a process: kill -9 at the worst moments, the terminal chat, no token."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import CONTENT_DIR, MASTER_KEY, ROOT, TOKEN

USER = 424242
DATA = os.urandom(300_000)


def start_bot(server, data_dir: Path, log: Path) -> subprocess.Popen:
    env = dict(
        os.environ,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=server.url,
        SHOUHU_DATA_DIR=str(data_dir),
        SHOUHU_CONTENT_DIR=str(CONTENT_DIR),
        SHOUHU_MASTER_KEY=MASTER_KEY,
    )
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        kill9(proc)


def send_stalled_document(server, user):
    """Send a document whose download will stall until the returned gate is opened."""
    with server._lock:  # the bot cannot fetch the update before the stall is in place
        upd = user.send_document(DATA, "call.m4a", "audio/mp4")
        gate = server.delay_file(upd["message"]["document"]["file_id"])
    return upd, gate


async def upload_stalls(fake, user, proc_holder: list, data_dir: Path, log: Path):
    """Start the bot, let it greet, then send a document whose download stalls mid-way."""
    proc_holder.append(start_bot(fake, data_dir, log))
    user.send("/start")
    await user.wait_for_messages(1, timeout=30)
    upd, gate = send_stalled_document(fake, user)
    await fake.wait_until(lambda: fake.download_started(upd["message"]["document"]["file_id"]), 20)
    return upd, gate


async def receipts(user, n=1):
    msgs = await user.wait_for_messages(n, timeout=30)
    return [m for m in msgs if "E-0" in (m.text or "")]


async def test_update_confirmed_but_unhandled_when_killed_is_handled_after_restart(fake, data_dir, tmp_path, zh):
    user = fake.user(USER, language_code="zh")
    log = tmp_path / "bot.log"
    procs: list = []
    try:
        upd, gate = await upload_stalls(fake, user, procs, data_dir, log)
        await fake.wait_until(lambda: fake.is_confirmed(upd["update_id"]), 20)
        kill9(procs[-1])  # Telegram will never send this update again
        gate.set()
        procs.append(start_bot(fake, data_dir, log))
        (receipt,) = await receipts(user)
        assert "E-001" in receipt.text
    finally:
        stop(procs[-1])
    assert TOKEN not in log.read_text(errors="replace")


async def test_kill_between_file_write_and_commit_leaves_no_half_item(fake, data_dir, tmp_path, zh):
    user = fake.user(USER, language_code="zh")
    log = tmp_path / "bot.log"
    procs: list = []
    try:
        upd, gate = await upload_stalls(fake, user, procs, data_dir, log)
        blocker = sqlite3.connect(data_dir / "shouhu.db", timeout=10)
        blocker.execute("BEGIN IMMEDIATE")  # the bot's commit must wait: its file is written, its row is not
        gate.set()
        vault = data_dir / "vault"
        await fake.wait_until(lambda: list(vault.rglob("*.bin")), 20)
        kill9(procs[-1])
        blocker.rollback()
        blocker.close()
        assert len(list(vault.rglob("*.bin"))) == 1, "the orphan exists before the restart"

        procs.append(start_bot(fake, data_dir, log))
        (receipt,) = await receipts(user)
        assert "E-001" in receipt.text
        user.send("/evidence")
        (listing,) = await user.wait_for_messages(1, timeout=20)
        assert "E-001" in listing.text and "E-002" not in listing.text
        assert len(list(vault.rglob("*.bin"))) == 1, "the orphan was swept, the item stored once"
        assert not list(vault.rglob(".tmp-*"))
    finally:
        stop(procs[-1])


def test_no_token_explains_and_points_to_chat(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["SHOUHU_DATA_DIR"] = str(tmp_path / "data")
    r = subprocess.run([sys.executable, "bot.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "@BotFather" in r.stderr and "python bot.py chat" in r.stderr


def test_terminal_chat_walks_the_five_steps(tmp_path, zh):
    env = dict(
        os.environ,
        SHOUHU_DATA_DIR=str(tmp_path / "data"),
        SHOUHU_CONTENT_DIR=str(CONTENT_DIR),
        SHOUHU_KEY_FILE=str(tmp_path / "config" / "master.key"),
    )
    evidence = tmp_path / "shot.png"
    evidence.write_bytes(b"\x89PNG fake screenshot")
    welcome_buttons = [b for row in zh.nodes[zh.start].buttons for b in row]
    menu_index = next(i for i, b in enumerate(welcome_buttons, 1) if b.go == "menu")
    lines = [str(menu_index)]
    for step in zh.steps:
        lines += ["/start", str(menu_index), str(step.n)]  # the menu lists the five steps first
    lines += [f":file {evidence} 截图", "1", "/status", "/evidence", ":q"]
    r = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "chat"],
        cwd=tmp_path,
        env=env,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for step in zh.steps:
        first_line = zh.nodes[step.node].text.strip().splitlines()[0]
        assert first_line.replace("<b>", "").replace("</b>", "")[:10] in out, step.title
    assert "E-001" in out and "[1]" in out
    assert "Traceback" not in r.stderr


def test_wrong_master_key_is_a_sentence_not_a_traceback(fake, data_dir, tmp_path):
    import base64

    env = dict(
        os.environ,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=fake.url,
        SHOUHU_DATA_DIR=str(data_dir),
        SHOUHU_MASTER_KEY="not base64!",
        SHOUHU_CONTENT_DIR=str(CONTENT_DIR),
    )
    r = subprocess.run([sys.executable, "bot.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "SHOUHU_MASTER_KEY" in r.stderr and "Traceback" not in r.stderr
    env["SHOUHU_MASTER_KEY"] = base64.b64encode(b"x" * 32).decode()
    env["SHOUHU_DATA_DIR"] = str(tmp_path / "fresh")
    r = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "chat"],
        cwd=tmp_path,
        env=env,
        input="/status\n:q\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0
    env["SHOUHU_MASTER_KEY"] = base64.b64encode(b"y" * 32).decode()  # ... opened with another
    r = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "chat"],
        cwd=tmp_path,
        env=env,
        input=":q\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "does not open the cases" in r.stderr and "Traceback" not in r.stderr
