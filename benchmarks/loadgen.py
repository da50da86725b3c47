"""The closed-loop load of benchmarks/load.py: simulated victims talking to a bot process through
the fake Bot API (tests/fakes), on 127.0.0.1 only.

Each victim sends one update, waits until the bot has made every reply call that update
causes (counted once, in a calibration pass, for that bot), then sends the next: N victims keep
at most N updates in flight. Latency runs from the moment the fake hands the update to the
bot's getUpdates to the bot's last reply call. The bot runs as its own process, so its CPU time
and peak RSS are read from /proc and include nothing of the fake or the victims.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.botapi import FakeBotAPI  # noqa: E402

REPLY_METHODS = frozenset({"sendmessage", "editmessagetext", "answercallbackquery", "senddocument"})
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# One victim's conversation, repeated: commands, typed text and step-bar presses.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("send", "/start"),
    ("press", "s|2"),
    ("press", "s|3"),
    ("send", "/status"),
    ("send", "他们一直打电话给我妈，我该怎么办"),
    ("press", "s|4"),
    ("send", "/help"),
    ("send", "/privacy"),
)


class LoadFake(FakeBotAPI):
    """The fake Bot API, noting when each update reached the bot and telling the driver (in
    O(1), not by waking every waiter) about each reply call."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.delivered: dict[int, float] = {}
        self.on_reply: Callable[[int | None, float], None] | None = None

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        ready = super()._deliverable(limit)  # type: ignore[misc]
        t = time.monotonic()
        for update in ready:
            self.delivered.setdefault(update["update_id"], t)
        return ready

    def _call(self, token: str, method: str, call: Any) -> tuple[int, dict[str, Any]]:
        status, payload = super()._call(token, method, call)
        if self.on_reply is not None and method.lower() in REPLY_METHODS:
            self.on_reply(self._chat_of(call), time.monotonic())
        return status, payload

    def last_bot_message(self, chat_id: int) -> int:
        with self._lock:
            return self._chats[chat_id].bot_messages[-1].message_id

    def forget_requests(self) -> None:
        """The request log grows with every call; a long run keeps only what it needs."""
        with self._lock:
            self.requests.clear()


# ----------------------------------------------------------------------------- the bot process


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime, all threads


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def start_process(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop_process(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# ----------------------------------------------------------------------------- the victims


@dataclass
class Victim:
    chat_id: int
    step: int = 0
    expected: int = 0
    got: int = 0
    last_reply: float = 0.0
    done: asyncio.Future | None = None


@dataclass
class LoadResult:
    victims: int
    seconds: float
    updates: int
    latencies: list[float] = field(default_factory=list)  # handed to the bot -> last reply
    end_to_end: list[float] = field(default_factory=list)  # sent by the victim -> last reply
    bot_cpu: float = 0.0
    driver_cpu: float = 0.0
    peak_rss_mb: float = 0.0
    timeouts: int = 0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def pct(self, q: float, which: str = "latencies") -> float:
        values = getattr(self, which)
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def cpu_ms_per_update(self) -> float:
        return self.bot_cpu / self.updates * 1000 if self.updates else float("nan")

    @property
    def mean_ms(self) -> float:
        return statistics.mean(self.latencies) * 1000 if self.latencies else float("nan")


class Replies:
    """Counts, per victim, the replies the fake sees (from its server threads onto the loop); a
    victim's ``done`` resolves once it has all it expects."""

    def __init__(self, fake: LoadFake):
        self.victims: dict[int, Any] = {}
        self.loop = asyncio.get_running_loop()
        fake.on_reply = self._reply_from_server_thread

    def _reply_from_server_thread(self, chat_id: int | None, t: float) -> None:
        if chat_id in self.victims:
            self.loop.call_soon_threadsafe(self._reply, chat_id, t)

    def _reply(self, chat_id: int, t: float) -> None:
        v = self.victims[chat_id]
        v.got += 1
        v.last_reply = t
        if v.done is not None and not v.done.done() and v.got >= v.expected:
            v.done.set_result(None)

    async def count_replies(self, v: Any, send: Callable[[str, str], Awaitable[None]], quiet: float) -> list[int]:
        """Reply calls per step of the script: ``v`` walks it through ``send``; a step is over
        when no reply came for ``quiet`` seconds."""
        counts = []
        for action, arg in SCRIPT:
            v.expected, v.got, v.done = 10**9, 0, None
            await send(action, arg)
            while True:
                before = v.got
                await asyncio.sleep(quiet)
                if v.got and v.got == before:
                    break
            counts.append(v.got)
        return counts


def write_section(path: Path, markers: tuple[str, str], section: str) -> None:
    """Put ``section`` (which starts and ends with ``markers``) in place of the old one in
    ``path``, or at its end."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if markers[0] in text and markers[1] in text:
        head, rest = text.split(markers[0], 1)
        text = head + section + rest.split(markers[1], 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


class Driver(Replies):
    """Runs victims against one bot process through ``fake``."""

    def __init__(self, fake: LoadFake, first_chat: int):
        super().__init__(fake)
        self.fake = fake
        self.first_chat = first_chat

    def _send(self, v: Victim, action: str, arg: str) -> int:
        user = self.fake.user(v.chat_id, language_code="zh")  # the same FakeUser each time
        if action == "send":
            update = user.send(arg)
        else:
            update = user.press_data(self.fake.last_bot_message(v.chat_id), arg)
        return int(update["update_id"])

    async def one(
        self, v: Victim, action: str, arg: str, expected: int, timeout: float = 120.0
    ) -> tuple[float, float] | None:
        """Send one update and wait for ``expected`` reply calls: (from delivery, from sending)
        to the last reply, or None after ``timeout``."""
        v.expected, v.got, v.done = expected, 0, self.loop.create_future()
        sent = time.monotonic()
        update_id = self._send(v, action, arg)
        try:
            await asyncio.wait_for(v.done, timeout)
        except TimeoutError:
            return None
        return v.last_reply - self.fake.delivered.get(update_id, v.last_reply), v.last_reply - sent

    async def calibrate(self, quiet: float = 0.5) -> list[int]:
        """How many reply calls each step of the script causes for this bot: one victim walks
        the script once; a step is over when no reply came for ``quiet`` seconds."""
        v = self.victims.setdefault(self.first_chat, Victim(self.first_chat))

        async def send(action: str, arg: str) -> None:
            self._send(v, action, arg)

        return await self.count_replies(v, send, quiet)

    async def run(
        self, n: int, counts: list[int], seconds: float, warmup: float, pid: int, period: float | None = None
    ) -> LoadResult:
        """N victims in a closed loop for ``warmup`` + ``seconds``; only the last ``seconds``
        are measured (updates completed, their latencies, CPU). With ``period`` each victim sends
        at most one update per ``period`` seconds (a person reading before answering): N / period
        updates a second are offered, as long as the bot keeps up."""
        victims = [Victim(self.first_chat + 1 + i) for i in range(n)]
        self.victims.update({v.chat_id: v for v in victims})
        result = LoadResult(n, seconds, 0)
        window: dict[str, float] = {}
        stop = asyncio.Event()

        async def victim(v: Victim) -> None:
            slot = time.monotonic() + (period * (v.chat_id % n) / n if period else 0.0)  # spread evenly
            while not stop.is_set():
                if period:
                    await asyncio.sleep(max(0.0, slot - time.monotonic()))
                    slot += period
                action, arg = SCRIPT[v.step % len(SCRIPT)]
                latency = await self.one(v, action, arg, counts[v.step % len(SCRIPT)])
                v.step += 1
                if "start" in window and "end" not in window:
                    if latency is None:
                        result.timeouts += 1
                    else:
                        result.updates += 1
                        result.latencies.append(latency[0])
                        result.end_to_end.append(latency[1])

        tasks = [asyncio.create_task(victim(v)) for v in victims]
        await asyncio.sleep(warmup)
        self.fake.forget_requests()
        window["start"] = time.monotonic()
        cpu0, me0 = proc_cpu_seconds(pid), self_cpu_seconds()
        await asyncio.sleep(seconds)
        window["end"] = time.monotonic()
        result.bot_cpu = proc_cpu_seconds(pid) - cpu0
        result.driver_cpu = self_cpu_seconds() - me0
        result.peak_rss_mb = proc_peak_rss_mb(pid)
        result.seconds = window["end"] - window["start"]
        stop.set()
        await asyncio.gather(*tasks)
        for v in victims:
            self.victims.pop(v.chat_id)
        self.fake.forget_requests()
        return result
