"""Several webhook workers on one PostgreSQL database (issue #13): updates/s, latency, CPU.

    python benchmarks/workers.py              # 1, 2, 4 workers on PostgreSQL + SQLite, one process (~4 min)
    python benchmarks/workers.py --seconds 5  # a quicker look

The setup of tests/test_workers.py (tests/cluster.py): ``python bot.py webhook`` processes with
one key file and, for PostgreSQL, one database on a server started from the installed binaries
(tests/pg_server.py: a unix socket, fsync=off, synchronous_commit=off). This script plays
Telegram and the reverse proxy: simulated victims walk the conversation of benchmarks/load.py,
each victim's consecutive updates POSTed to different workers, round robin (with the secret
header, on kept-alive connections); the fake Bot API (tests/fakes) takes the replies.

Two loads per setup: a closed loop (each victim sends its next update once every reply to the
last one came: as fast as the workers answer), and a fixed offered rate near Telegram's own cap
of about 30 messages a second per bot. Latency runs from the start of the POST to the last
reply call the update causes (the journal write, the 200, the wait for the chat's turn, the
handling, the replies). CPU is read from /proc (no psutil): the workers' user+system time, and
the PostgreSQL server's (the postmaster and its backends, those that ended included).
Everything runs on 127.0.0.1, on the same cores: the figures say what shares them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from loadgen import SCRIPT, LoadFake, Replies, self_cpu_seconds, write_section  # noqa: E402
from loadgen import Victim as LoopVictim  # noqa: E402

from tests.cluster import CLOCK_TICKS, Hook, Worker, start_worker, take_over_delivery, wait_ready  # noqa: E402
from tests.cluster import write_key_file as _write_key_file  # noqa: E402

TOKEN = "123456:BENCH-workers-token"
MASTER_KEY = b"w" * 32
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = ("<!-- workers.py: begin -->", "<!-- workers.py: end -->")
SETUPS = (("postgresql", 1), ("postgresql", 2), ("postgresql", 4), ("sqlite", 1))


# ----------------------------------------------------------------------------- CPU of the database server


def _proc_stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu_seconds(postmaster: int) -> float:
    """The postmaster's own time, its ended children's (cutime+cstime) and its live children's."""
    fields = _proc_stat(postmaster)
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _proc_stat(int(entry.name))
        except (OSError, IndexError):
            continue
        if int(child[1]) == postmaster:  # field 4 of stat: the parent
            total += int(child[11]) + int(child[12])
    return total / CLOCK_TICKS


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine, every process of every user (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


# ----------------------------------------------------------------------------- the victims


@dataclass
class Victim(LoopVictim):
    hooks: list[Hook] = field(default_factory=list)  # one per worker: its updates go round robin


@dataclass
class Result:
    backend: str
    workers: int
    load: str
    seconds: float = 0.0
    updates: int = 0
    latencies: list[float] = field(default_factory=list)  # POST -> last reply
    acks: list[float] = field(default_factory=list)  # POST -> 200
    worker_cpu: float = 0.0
    server_cpu: float = 0.0
    driver_cpu: float = 0.0
    machine_busy: float = 0.0  # share of all cores busy, whoever used them
    errors: int = 0

    def pct(self, q: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.latencies if values is None else values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    def row(self) -> dict[str, Any]:
        n = self.updates or 1
        return {
            "backend": self.backend,
            "workers": self.workers,
            "load": self.load,
            "updates": self.updates,
            "rate": self.updates / self.seconds if self.seconds else 0.0,
            "p50": self.pct(0.5),
            "p99": self.pct(0.99),
            "ack_p50": self.pct(0.5, self.acks),
            "ack_p99": self.pct(0.99, self.acks),
            "worker_cpu_ms": self.worker_cpu / n * 1000,
            "server_cpu_ms": self.server_cpu / n * 1000,
            "busy": (self.worker_cpu + self.server_cpu + self.driver_cpu) / self.seconds / (os.cpu_count() or 1),
            "driver_share": self.driver_cpu / self.seconds,
            "machine_busy": self.machine_busy,
            "errors": self.errors,
        }


class Driver(Replies):
    """Victims talking to a set of workers; replies counted as the fake sees them."""

    def __init__(self, fake: LoadFake, workers: list[Worker], first_chat: int):
        super().__init__(fake)
        self.fake = fake
        self.workers = workers
        self.next_chat = first_chat
        self.postmaster: int | None = None  # PostgreSQL's server process, for its CPU time

    def victim(self) -> Victim:
        v = Victim(self.next_chat, hooks=[Hook(w.port) for w in self.workers])
        self.next_chat += 1
        self.victims[v.chat_id] = v
        return v

    def _update(self, v: Victim, action: str, arg: str) -> dict[str, Any]:
        user = self.fake.user(v.chat_id, language_code="zh")
        with self.fake._lock:
            update = user.send(arg) if action == "send" else user.press_data(self.fake.last_bot_message(v.chat_id), arg)
            self.fake._confirm(update["update_id"] + 1)  # delivered by us: the fake's queue stays empty
        return update

    async def one(self, v: Victim, expected: int, timeout: float = 60.0) -> tuple[float, float] | None:
        """POST the victim's next update to the next worker; (to the last reply, to the 200)."""
        action, arg = SCRIPT[v.step % len(SCRIPT)]
        hook = v.hooks[(v.chat_id + v.step) % len(v.hooks)]  # consecutive updates: different workers
        v.step += 1
        v.expected, v.got, v.done = expected, 0, self.loop.create_future()
        update = self._update(v, action, arg)
        sent = time.monotonic()
        status = await hook.post(update)
        acked = time.monotonic()
        if status != 200:
            return None
        try:
            await asyncio.wait_for(v.done, timeout)
        except TimeoutError:
            return None
        return v.last_reply - sent, acked - sent

    async def calibrate(self, quiet: float = 0.5) -> list[int]:
        """Reply calls per step of the script: one victim walks it, a step ends after ``quiet``
        seconds without a reply."""
        v = self.victim()

        async def send(action: str, arg: str) -> None:
            assert await v.hooks[0].post(self._update(v, action, arg)) == 200

        return await self.count_replies(v, send, quiet)

    async def run(self, result: Result, n: int, counts: list[int], seconds: float, warmup: float, period: float | None):
        victims = [self.victim() for _ in range(n)]
        window: dict[str, float] = {}
        stop = asyncio.Event()

        async def walk(v: Victim, i: int) -> None:
            slot = time.monotonic() + (period * i / n if period else 0.0)
            while not stop.is_set():
                if period:
                    await asyncio.sleep(max(0.0, slot - time.monotonic()))
                    slot += period
                measured = "start" in window and "end" not in window
                latency = await self.one(v, counts[v.step % len(SCRIPT)])
                if measured and "end" not in window:
                    if latency is None:
                        result.errors += 1
                    else:
                        result.updates += 1
                        result.latencies.append(latency[0])
                        result.acks.append(latency[1])

        tasks = [asyncio.create_task(walk(v, i)) for i, v in enumerate(victims)]
        await asyncio.sleep(warmup)
        self.fake.forget_requests()
        window["start"] = time.monotonic()
        cpu0, machine0 = self.cpu(), machine_busy_seconds()
        await asyncio.sleep(seconds)
        window["end"] = time.monotonic()
        cpu1, machine1 = self.cpu(), machine_busy_seconds()
        result.machine_busy = (machine1[0] - machine0[0]) / max(1e-9, machine1[1] - machine0[1])
        result.seconds = window["end"] - window["start"]
        result.worker_cpu, result.server_cpu, result.driver_cpu = (b - a for a, b in zip(cpu0, cpu1, strict=True))
        stop.set()
        await asyncio.gather(*tasks)
        for v in victims:
            for hook in v.hooks:
                await hook.close()
            self.victims.pop(v.chat_id)
        self.fake.forget_requests()

    def cpu(self) -> tuple[float, float, float]:
        workers = sum(w.cpu_seconds() for w in self.workers if w.alive())
        server = server_cpu_seconds(self.postmaster) if self.postmaster else 0.0
        return workers, server, self_cpu_seconds()


# ----------------------------------------------------------------------------- one setup


async def measure(
    backend: str, n_workers: int, pg: Any, fake: LoadFake, root: Path, args: argparse.Namespace, first_chat: int
) -> list[Result]:
    url = pg.url(database=pg.new_database()) if backend == "postgresql" else None
    key_file = root / f"keys-{backend}-{n_workers}" / "master.key"
    _write_key_file(key_file, MASTER_KEY)
    workers = [
        start_worker(
            f"{backend}-{n_workers}-{i}", api_url=fake.url, token=TOKEN, root=root, key_file=key_file, database_url=url
        )
        for i in range(n_workers)
    ]
    results = []
    try:
        await wait_ready(fake, workers, timeout=120)
        take_over_delivery(fake, TOKEN)
        driver = Driver(fake, workers, first_chat)
        if backend == "postgresql":
            driver.postmaster = int((pg.root / "data" / "postmaster.pid").read_text().split()[0])
        counts = await driver.calibrate()
        loads = [
            (f"closed loop, {args.victims} victims", args.victims, None),
            (f"{args.rate}/s offered", args.rate, 1.0),
        ]
        for label, n, period in loads:
            result = Result(backend, n_workers, label)
            await driver.run(result, n, counts, args.seconds, args.warmup, period)
            results.append(result)
            print(json.dumps(result.row()), flush=True)
    finally:
        for w in workers:
            w.stop()
    return results


async def main_async(args: argparse.Namespace) -> list[Result]:
    from tests.pg_server import start_server

    pg = start_server()
    if isinstance(pg, str):
        print(f"no PostgreSQL: {pg}", file=sys.stderr)
        raise SystemExit(2)
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="shouhu-workers-") as tmp, LoadFake(token=TOKEN) as fake:
            for i, (backend, n) in enumerate(SETUPS):
                results += await measure(backend, n, pg, fake, Path(tmp), args, 1_000_000 * (i + 1))
    finally:
        pg.stop()
    return results


# ----------------------------------------------------------------------------- the report


def report(results: list[Result], args: argparse.Namespace, took: float) -> str:
    rows = [r.row() for r in results]
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    command = "python benchmarks/workers.py" + (f" --seconds {args.seconds:g}" if args.seconds != 15 else "")
    lines = [
        SECTION[0],
        "## Several webhook workers on one database (benchmarks/workers.py)",
        "",
        f"Command: `{command}` ({when}, code at {commit.strip() or 'unknown'}; {platform.machine()}, {os.cpu_count()} cores shared with other work, "
        f"Python {platform.python_version()}; {took:.0f} s). Everything on 127.0.0.1: the workers, PostgreSQL "
        "(the tests' server: unix socket, fsync=off, synchronous_commit=off), the fake Bot API and the "
        "victims share the same cores.",
        "",
        "Victims walk the conversation of benchmarks/load.py (/start, s|2, s|3, /status, a typed question, s|4, "
        "/help, /privacy); each one's consecutive updates are POSTed to different workers, round robin, as a "
        "reverse proxy spreads Telegram's connections. Latency: from the start of the POST to the last reply "
        "call the update causes; ack: from the start of the POST to the 200 (the update is journaled). "
        f"{args.seconds:g} s measured after {args.warmup:g} s of warm-up. CPU per update: the workers' "
        "user+system time, and PostgreSQL's (postmaster and backends). Busy: workers + PostgreSQL + this "
        "driver with the fake Bot API, as a share of all cores; all: every process on the machine (other "
        "work shares it).",
        "",
        "| backend | workers | load | updates/s | p50 | p99 | ack p50 / p99 | workers CPU/update | "
        "PostgreSQL CPU/update | busy: ours / all | errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        server = f"{r['server_cpu_ms']:.2f} ms" if r["backend"] == "postgresql" else "—"
        lines.append(
            f"| {r['backend']} | {r['workers']} | {r['load']} | {r['rate']:.0f} | {r['p50']:.1f} ms | "
            f"{r['p99']:.1f} ms | {r['ack_p50']:.1f} / {r['ack_p99']:.1f} ms | {r['worker_cpu_ms']:.2f} ms | "
            f"{server} | {r['busy']:.0%} / {r['machine_busy']:.0%} | {r['errors']} |"
        )
    lines += ["", *limits(rows), "", *READING, SECTION[1]]
    return "\n".join(lines) + "\n"


READING = (
    "What limits each figure on 2 cores:",
    "",
    "- **updates/s, closed loop**: CPU. A worker is one Python process (one event loop) and uses at most "
    "about one core; with 1 worker its CPU per update times the rate is most of a core. A second worker "
    "uses the second core (the rate rises until both cores are busy with the workers, PostgreSQL, the fake "
    "Bot API and the victims); more workers than cores add only processes, connections and chat-lock "
    "hand-overs (CPU per update rises), so the rate stays flat or falls. The 'all' column shows how much of "
    "the machine other work took meanwhile: the figures are shares of a busy machine, not of an idle one.",
    "- **p50/p99, closed loop**: queueing. With N victims each waiting for its answer, latency is about N "
    "divided by the rate (Little's law): it follows the rate, not the work of one update.",
    "- **p50/p99 at 30/s offered**: the work of one update (journal, transaction, replies through the fake "
    "Bot API over HTTP) plus waiting for a core; p99 is the moments another process held the CPU. SQLite "
    "here fsyncs the journal's commits on the machine's disk (as deployed) while this PostgreSQL "
    "runs with fsync=off: SQLite's tail includes disk flushes that PostgreSQL's does not.",
    "- **ack** (POST to 200): one journal insert and commit, plus waiting for the worker's event loop; in a "
    "closed loop the loop is busy with handling, which the ack waits behind.",
    "- **CPU per update**: the workers' own Python (python-telegram-bot, the engine, sealing, HTTP) is most of "
    "it; PostgreSQL's share grows with the number of workers (more backends and lock connections, more "
    "context switches on 2 cores).",
    "",
    "What a larger machine changes: the closed-loop rate grows with cores until PostgreSQL's share is the "
    "limit, about one core per worker (each worker alone gives roughly the 1-worker row's rate), and "
    "PostgreSQL's CPU per update means one of its cores serves several workers. Latency at a given offered "
    "rate barely changes: it is the work of one update, which is single-threaded. A real server with "
    "fsync=on adds one WAL flush per commit (about three commits per update; well under a millisecond each on "
    "an SSD, shared by commits arriving together), and PostgreSQL on another machine adds a network round "
    "trip to every statement. None of this moves the real limit of a Telegram bot: Telegram lets it send "
    "about 30 messages a second, which one worker exceeds; more workers buy availability, and room for "
    "exports (the heaviest work) without slowing other chats.",
)


def limits(rows: list[dict]) -> list[str]:
    """What the figures say about what limits them, computed from this run."""
    closed = {(r["backend"], r["workers"]): r for r in rows if r["load"].startswith("closed")}
    out = []
    one, sqlite = closed.get(("postgresql", 1)), closed.get(("sqlite", 1))
    if one and sqlite:
        total_pg = one["worker_cpu_ms"] + one["server_cpu_ms"]
        out.append(
            f"- CPU per update, one process: PostgreSQL {total_pg:.2f} ms (worker {one['worker_cpu_ms']:.2f} + "
            f"server {one['server_cpu_ms']:.2f}) against SQLite {sqlite['worker_cpu_ms']:.2f} ms: "
            f"{total_pg / sqlite['worker_cpu_ms']:.2f}x."
        )
    for n in (2, 4):
        r = closed.get(("postgresql", n))
        if one and r:
            out.append(
                f"- {n} workers against 1, closed loop: throughput x{r['rate'] / one['rate']:.2f}, "
                f"p99 x{r['p99'] / one['p99']:.2f}, CPU per update x"
                f"{(r['worker_cpu_ms'] + r['server_cpu_ms']) / (one['worker_cpu_ms'] + one['server_cpu_ms']):.2f}; "
                f"the cores were {r['busy']:.0%} busy with this run, {r['machine_busy']:.0%} in all."
            )
    return out


def write(section: str) -> None:
    write_section(RESULTS, SECTION, section)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per load")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--victims", type=int, default=40, help="victims in the closed loop")
    parser.add_argument("--rate", type=int, default=30, help="updates a second offered (one per victim per second)")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    results = asyncio.run(main_async(args))
    section = report(results, args, time.monotonic() - t0)
    print(section)
    if not args.no_write:
        write(section)


if __name__ == "__main__":
    main(sys.argv[1:])
