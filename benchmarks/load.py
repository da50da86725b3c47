"""Load, stall, ingestion and scale benchmarks (issue #10, Proof). Not run by ``make test``.

    python benchmarks/load.py                  # everything (~5 minutes), appends to RESULTS.md
    python benchmarks/load.py conversation     # 10, 100, 1,000 victims, then 30 and 100 updates/s: Shouhu beside the PTB floor
    python benchmarks/load.py paced            # only 30 and 100 updates/s (interleaved slices, ~3 minutes)
    python benchmarks/load.py stall 1024       # a 1 GiB case: ingestion vs sha256sum, loop stall in export
    python benchmarks/load.py cases 100 10000 100000

Everything talks to 127.0.0.1 only (the fake Bot API of the tests). Ratios are measured in one
run on one machine; absolute numbers depend on it (and on whoever else uses its CPUs).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import platform
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from loadgen import (  # noqa: E402
    SCRIPT,
    Driver,
    LoadFake,
    LoadResult,
    start_process,
    stop_process,
    write_section,
)

TOKEN = "123456:BENCH-token"
MASTER_KEY = base64.b64encode(b"b" * 32).decode()
MB = 1024 * 1024
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = ("<!-- load.py: begin -->", "<!-- load.py: end -->")


# ----------------------------------------------------------------------------- 1. conversation load


def bot_command(kind: str, fake: LoadFake, data_dir: Path) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake.url)
    if kind == "floor":
        return [sys.executable, str(ROOT / "benchmarks" / "floor_bot.py")], env
    env.update(SHOUHU_DATA_DIR=str(data_dir), SHOUHU_CONTENT_DIR=str(ROOT / "content"), SHOUHU_MASTER_KEY=MASTER_KEY)
    return [sys.executable, str(ROOT / "bot.py")], env


async def wait_polling(fake: LoadFake, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not fake.polling:
        if time.monotonic() > deadline:
            raise RuntimeError("the bot did not start polling")
        await asyncio.sleep(0.05)


def drain(fake: LoadFake) -> None:
    """Confirm whatever the stopped bot left, so the next bot starts with an empty queue."""
    with fake._lock:
        fake._confirm(fake._next_update_id)


PACED = ((30, 1.0), (100, 1.0))  # (victims, seconds between one victim's updates): 30 and 100 updates/s offered
# The paced loads compare CPU per update, and the machine's speed drifts by ±25% from one minute to
# the next (other work shares its cores). So both bots run side by side, each on its own fake
# server, and the load goes to one, then the other, in short slices: SLICES each, alternating
# who goes first. A drift then touches both alike.
SLICES = 8
SLICE_SECONDS = 4.0
SLICE_WARMUP = 1.0  # one period: every victim has sent once before a slice is measured


async def conversation(sizes=(10, 100, 1000), seconds: float = 15.0, warmup: float = 3.0) -> list[dict]:
    """Shouhu and the floor, one after the other for each load, on one fake server: closed loops
    of ``sizes`` victims, each as fast as the bot answers."""
    rows = []
    counts: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp, LoadFake(token=TOKEN) as fake:
        tmp_path = Path(tmp)
        first_chat = {"shouhu": 1_000_000, "floor": 2_000_000}
        for n in sizes:
            for kind in ("shouhu", "floor"):
                argv, env = bot_command(kind, fake, tmp_path / f"data-{kind}")
                proc = start_process(argv, env, tmp_path / f"{kind}.log")
                try:
                    await wait_polling(fake)
                    driver = Driver(fake, first_chat[kind])
                    if kind not in counts:
                        counts[kind] = await driver.calibrate()
                    first_chat[kind] += n + 1
                    result = await driver.run(n, counts[kind], seconds, warmup, proc.pid)
                finally:
                    stop_process(proc)
                    drain(fake)
                rows.append(
                    {"kind": kind, "offered": None, "calls": sum(counts[kind]) / len(SCRIPT), **summary(result)}
                )
                print(json.dumps(rows[-1]), flush=True)
    return rows


async def paced(
    loads=PACED, slices: int = SLICES, seconds: float = SLICE_SECONDS, warmup: float = SLICE_WARMUP
) -> list[dict]:
    """Shouhu and the floor side by side (see ``SLICES``): for each paced load, ``slices`` slices
    of ``seconds`` measured per bot. A row per bot and load sums its slices; Shouhu's row also
    has the ratio of each pair of slices (Shouhu's and the floor's next to it)."""
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        LoadFake(token=TOKEN) as shouhu_fake,
        LoadFake(token=TOKEN) as floor_fake,
    ):
        fakes = {"shouhu": shouhu_fake, "floor": floor_fake}
        procs = {}
        try:
            for kind, fake in fakes.items():
                argv, env = bot_command(kind, fake, Path(tmp) / f"data-{kind}")
                procs[kind] = start_process(argv, env, Path(tmp) / f"{kind}.log")
            drivers = {}
            for kind, fake in fakes.items():
                await wait_polling(fake)
                drivers[kind] = Driver(fake, 1_000_000)
            counts = {kind: await driver.calibrate() for kind, driver in drivers.items()}
            for n, period in loads:
                runs: dict[str, list[LoadResult]] = {"shouhu": [], "floor": []}
                for i in range(slices):
                    for kind in ("shouhu", "floor") if i % 2 == 0 else ("floor", "shouhu"):
                        driver = drivers[kind]
                        driver.first_chat += n + 1  # new victims each slice: each starts the script anew
                        runs[kind].append(await driver.run(n, counts[kind], seconds, warmup, procs[kind].pid, period))
                ratios = [s.cpu_ms_per_update / f.cpu_ms_per_update for s, f in zip(runs["shouhu"], runs["floor"])]
                for kind in ("shouhu", "floor"):
                    row = {
                        "kind": kind,
                        "offered": n / period,
                        "slices": slices,
                        "calls": sum(counts[kind]) / len(SCRIPT),
                        **summary(merged(runs[kind])),
                    }
                    if kind == "shouhu":
                        row["slice_ratios"] = ratios
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        finally:
            for proc in procs.values():
                stop_process(proc)
    return rows


def merged(runs: list[LoadResult]) -> LoadResult:
    """Several slices of one bot and load as one run: their updates, latencies and CPU summed."""
    out = LoadResult(runs[0].victims, sum(r.seconds for r in runs), sum(r.updates for r in runs))
    for r in runs:
        out.latencies += r.latencies
        out.end_to_end += r.end_to_end
        out.bot_cpu += r.bot_cpu
        out.driver_cpu += r.driver_cpu
        out.timeouts += r.timeouts
    out.peak_rss_mb = max(r.peak_rss_mb for r in runs)
    return out


def summary(r: LoadResult) -> dict:
    return {
        "victims": r.victims,
        "updates": r.updates,
        "rate": r.rate,
        "p50": r.pct(0.50),
        "p95": r.pct(0.95),
        "p99": r.pct(0.99),
        "e2e_p50": r.pct(0.50, "end_to_end"),
        "e2e_p99": r.pct(0.99, "end_to_end"),
        "cpu_ms": r.cpu_ms_per_update,
        "bot_cpu_share": r.bot_cpu / r.seconds,
        "driver_cpu_share": r.driver_cpu / r.seconds,
        "rss_mb": r.peak_rss_mb,
        "timeouts": r.timeouts,
    }


# ----------------------------------------------------------------------------- 2. one large case


def self_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def stall_one(size_mb: int) -> dict:
    """One child process: write a file, time sha256sum on it, then through the bot (a local Bot
    API server, as a clinic with big recordings runs it): ingest it, export it, and watch how
    late the event loop wakes up meanwhile."""
    from tests.conftest import TOKEN as TEST_TOKEN
    from tests.conftest import running_bot
    from tests.fakes.botapi import FakeBotAPI

    out: dict = {"size_mb": size_mb}
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
        tmp_path = Path(tmp)
        big = tmp_path / "recording.m4a"
        with open(big, "wb") as f:
            block = os.urandom(MB)
            for i in range(size_mb):
                f.write(block[i % 7 :] + block[: i % 7])  # not one block repeated: no shortcut anywhere
        del block
        os.sync()
        subprocess.run(["cat", str(big)], stdout=subprocess.DEVNULL, check=True)  # both read from the page cache
        timed = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").exists() else []  # its peak RSS, in KiB
        t0 = time.perf_counter()
        r = subprocess.run([*timed, "sha256sum", str(big)], capture_output=True, text=True, check=True)
        out["sha256sum_s"] = time.perf_counter() - t0
        digest = r.stdout.split()[0]
        out["sha256sum_rss_mb"] = int(r.stderr.strip().splitlines()[-1]) / 1024 if timed else float("nan")

        loop = asyncio.get_running_loop()
        lags: list[float] = []
        watching = {"on": False}

        async def ticker() -> None:
            while True:
                t = loop.time()
                await asyncio.sleep(0.005)
                if watching["on"]:
                    lags.append(loop.time() - t - 0.005)

        with FakeBotAPI(token=TEST_TOKEN, local_mode=True) as server:
            async with running_bot(server, tmp_path / "data", local_api=True):
                tick = asyncio.create_task(ticker())
                user = server.user(1001, language_code="zh")
                user.send("/start")
                await user.wait_for_messages(1, timeout=60)
                watching["on"] = True
                await asyncio.sleep(2.0)  # the idle loop: what the timer itself adds
                watching["on"] = False
                out["idle_max_lag_ms"] = max(lags) * 1000
                lags.clear()
                rss0 = self_peak_rss_mb()
                t0 = time.perf_counter()
                user.send_document(big)
                (receipt,) = await user.wait_for_messages(1, timeout=1800)
                out["ingest_s"] = time.perf_counter() - t0
                out["ingest_rss_growth_mb"] = self_peak_rss_mb() - rss0
                assert digest[:16] in (receipt.text or ""), "the receipt carries the file's own hash"
                user.send("/export")
                (confirm,) = await user.wait_for_messages(1, timeout=60)
                watching["on"] = True
                t0 = time.perf_counter()
                user.press(confirm, "确认导出")
                msgs = await user.wait_for_messages(2, timeout=1800)  # the part(s) and the summary
                out["export_s"] = time.perf_counter() - t0
                watching["on"] = False
                out["export_rss_growth_mb"] = self_peak_rss_mb() - rss0
                out["parts"] = sum(1 for m in msgs if m.document)
                tick.cancel()
        ordered = sorted(lags)
        out["export_max_lag_ms"] = ordered[-1] * 1000
        out["export_p99_lag_ms"] = ordered[int(0.99 * (len(ordered) - 1))] * 1000
        out["export_ticks"] = len(ordered)
    return out


def stall(size_mb: int) -> dict:
    r = subprocess.run(
        [sys.executable, __file__, "stall-child", str(size_mb)], capture_output=True, text=True, check=True
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- 3. cost per update vs cases


async def cases(counts=(100, 10_000, 100_000), presses: int = 400) -> list[dict]:
    """One button press through ``handlers.core.apply`` (engine + one SQLite transaction) with N
    cases stored, and how long opening the storage takes with them (it checks every case)."""
    from config import Settings
    from flows.content import load_content
    from flows.engine import Engine
    from flows.model import Press
    from handlers.core import Services, apply
    from storage.base import CaseKey
    from storage.sqlite import SqliteStorage

    content = load_content(ROOT / "content")
    loc = content.locale("zh-CN")
    rows = []
    for n in counts:
        with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
            storage = await SqliteStorage.open(Path(tmp), MASTER_KEY)
            await storage.db.execute("PRAGMA synchronous=OFF")  # filling is setup, not what is measured
            t0 = time.perf_counter()
            for start in range(1, n + 1, 5000):  # rows as tx.case writes them, many to a statement
                rows_ = []
                for chat in range(start, min(start + 5000, n + 1)):
                    case_id = secrets.token_hex(16)
                    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
                    wrapped = storage.keys.new_case_key(case_id, chat)[1]
                    rows_.append((case_id, chat, loc.code, loc.start, wrapped, stamp, stamp))
                await storage.db.executemany(
                    "INSERT INTO cases (id, chat_id, locale, node, wrapped_key, created_at, updated_at) "
                    "VALUES (?,?,?,?,?,?,?)",
                    rows_,
                )
                await storage.db.commit()
            async with storage.transaction() as tx:  # and one the ordinary way, to check the shape
                await tx.case(CaseKey(n + 1), loc.code, loc.start)
            fill_s = time.perf_counter() - t0
            await storage.close()
            t0 = time.perf_counter()
            storage = await SqliteStorage.open(Path(tmp), MASTER_KEY)
            open_s = time.perf_counter() - t0
            await storage.db.execute("PRAGMA synchronous=OFF")  # the work, not the disk's fsync
            services = Services(Settings(), content, Engine(content), storage)
            timings = []
            for i in range(presses):
                target = 1 + (i * 7919) % n  # different cases, spread over the table
                t0 = time.perf_counter()
                await apply(services, target, "zh", Press(f"s|{1 + i % 5}"), update_id=10_000_000 + i)
                timings.append(time.perf_counter() - t0)
            await storage.close()
        timings.sort()
        rows.append(
            {
                "cases": n,
                "mean_ms": statistics.mean(timings) * 1000,
                "p50_ms": timings[len(timings) // 2] * 1000,
                "p95_ms": timings[int(presses * 0.95)] * 1000,
                "open_s": open_s,
                "fill_s": fill_s,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


async def costs(n: int = 300) -> dict:
    """Where an update's CPU goes in Shouhu, storage as deployed (fsynced commits): the sealed
    journal row written before Telegram is told, the update's transaction with the engine, and
    the transaction that remembers the reply's message id. CPU of this whole process (the
    SQLite thread included) and wall time, per call."""
    from config import Settings
    from flows.content import load_content
    from flows.engine import Engine
    from flows.model import Command
    from handlers.core import Services, apply
    from storage.base import CaseKey
    from storage.sqlite import SqliteStorage

    content = load_content(ROOT / "content")
    out: dict = {}
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
        storage = await SqliteStorage.open(Path(tmp), MASTER_KEY)
        services = Services(Settings(), content, Engine(content), storage)
        message = {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 7, "type": "private", "first_name": "Test"},
            "from": {"id": 7, "is_bot": False, "first_name": "Test", "language_code": "zh"},
            "text": "/status",
            "entities": [{"offset": 0, "length": 7, "type": "bot_command"}],
        }

        async def measure(name: str, step) -> None:
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(n):
                await step(i)
            out[name] = ((time.process_time() - cpu) / n * 1000, (time.perf_counter() - wall) / n * 1000)

        await apply(services, 7, "zh", Command("start"))
        await measure("journal", lambda i: storage.journal(10_000 + i, {"update_id": 10_000 + i, "message": message}))
        await measure("apply", lambda i: apply(services, 7, "zh", Command("status"), update_id=10_000 + i))
        await measure("record_sent", lambda i: storage.record_sent(CaseKey(7), [100 + i]))
        await storage.close()
    return out


# ----------------------------------------------------------------------------- the report


def report(conv: list[dict], big: dict | None, scale: list[dict], seconds: float, parts: dict | None = None) -> str:
    lines = [
        SECTION[0],
        "## Load, stall, ingestion and scale (benchmarks/load.py)",
        "",
        f"Command: `python benchmarks/load.py` ({time.strftime('%Y-%m-%d')}; {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other work, Python {platform.python_version()}). "
        "Everything on 127.0.0.1; figures from one run.",
    ]
    if conv:
        lines += [
            "",
            "### Conversation load: closed loop through the fake Bot API",
            "",
            f"Each simulated victim sends an update, waits for every reply it causes, then sends the next "
            f"(the script: {', '.join(a for _, a in SCRIPT)}). {seconds:.0f} s measured after a warm-up. "
            "Latency: from the update handed to the bot's getUpdates to its last reply call (p50/p95/p99), "
            "and from the victim sending it (end to end: includes waiting in Telegram's queue while the bot is "
            "busy, which the first does not). CPU: the bot "
            "process's user+system time per update (all its threads). RSS: the bot process's peak. "
            "The floor is benchmarks/floor_bot.py: python-telegram-bot answering each update with the same "
            "Bot API calls and nothing else, on the same fake server in the same run.",
            "",
            "| bot | victims | offered | updates/s | p50 | p95 | p99 | end to end p50 / p99 | CPU/update | bot CPU "
            "| fake+victims CPU | peak RSS |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in conv:
            offered = f"{r['offered']:.0f}/s" if r["offered"] else "as fast as answered"
            if r.get("slices"):
                offered += f", {r['slices']} slices"
            lines.append(
                f"| {r['kind']} | {r['victims']:,} | {offered} | {r['rate']:.0f} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | "
                f"{r['p99']:.1f} ms | {r['e2e_p50']:.0f} / {r['e2e_p99']:.0f} ms | {r['cpu_ms']:.2f} ms | "
                f"{r['bot_cpu_share']:.0%} | {r['driver_cpu_share']:.0%} | {r['rss_mb']:.0f} MiB |"
                + (f" ({r['timeouts']} timed out)" if r["timeouts"] else "")
            )
        lines.append("")
        by = {(r["kind"], r["victims"], r["offered"]): r for r in conv}
        for n, offered in dict.fromkeys((r["victims"], r["offered"]) for r in conv):
            s, f = by.get(("shouhu", n, offered)), by.get(("floor", n, offered))
            if not (s and f):
                continue
            load = f"{offered:.0f} updates/s offered by {n:,} victims" if offered else f"{n:,} victims, closed loop"
            line = f"- {load}: CPU per update {s['cpu_ms'] / f['cpu_ms']:.2f}x the floor"
            if s.get("slice_ratios"):
                ratios = sorted(s["slice_ratios"])
                line += (
                    f" over {len(ratios)} pairs of slices (each pair: {min(ratios):.2f}x to {max(ratios):.2f}x, "
                    f"median {statistics.median(ratios):.2f}x)"
                )
            else:
                line += f"; throughput {s['rate'] / f['rate']:.2f}x"
            lines.append(f"{line}; p99 {s['p99'] / f['p99']:.2f}x; end-to-end p99 {s['e2e_p99'] / f['e2e_p99']:.2f}x.")
        lines += ["", f"Both bots make {conv[0]['calls']:.3f} reply calls per update of the script."]
    if parts:
        lines += [
            "",
            "Where Shouhu's own work per update goes (in one process, storage as deployed: the WAL fsynced after each "
            "commit that is not light; "
            "300 calls each; CPU of the process with its SQLite thread):",
            "",
            "| step | CPU | wall |",
            "|---|---:|---:|",
            *(
                f"| {label} | {parts[key][0]:.2f} ms | {parts[key][1]:.2f} ms |"
                for key, label in (
                    (
                        "journal",
                        "journal the update (sealed), commit: polling does it only for an update still "
                        "being handled at the next poll",
                    ),
                    ("apply", "the update's transaction: case, engine (/status), mark handled, commit"),
                    ("record_sent", "remember the reply's message id: written inline, fsynced within a second"),
                )
            ),
        ]
    if big:
        lines += [
            "",
            f"### One large case: {big['size_mb']:,} MiB through a local Bot API server",
            "",
            "| | time | throughput | memory |",
            "|---|---:|---:|---:|",
            f"| `sha256sum` (read + hash) | {big['sha256sum_s']:.2f} s | {big['size_mb'] / big['sha256sum_s']:.0f} MiB/s "
            f"| {big['sha256sum_rss_mb']:.0f} MiB peak |",
            f"| ingestion (read, SHA-256, AES-GCM, write, fsync, commit) | {big['ingest_s']:.2f} s | "
            f"{big['size_mb'] / big['ingest_s']:.0f} MiB/s | +{big['ingest_rss_growth_mb']:.0f} MiB peak growth |",
            f"| export ({big['parts']} ZIP part(s): decrypt, check, write, hand over) | {big['export_s']:.2f} s | "
            f"{big['size_mb'] / big['export_s']:.0f} MiB/s | +{big['export_rss_growth_mb']:.0f} MiB peak growth |",
            "",
            f"Ingestion runs at {big['sha256sum_s'] / big['ingest_s']:.2f}x the speed of `sha256sum` on the same "
            "file (the target: at least 0.5x).",
            f"Event-loop lateness while the case exports ({big['export_ticks']:,} wake-ups of a 5 ms timer): max "
            f"{big['export_max_lag_ms']:.1f} ms, p99 {big['export_p99_lag_ms']:.1f} ms (idle loop: max "
            f"{big['idle_max_lag_ms']:.1f} ms). The target: under 50 ms.",
        ]
    if scale:
        lines += [
            "",
            "### Cost of one update vs cases stored",
            "",
            "A step-bar press through `handlers.core.apply` (engine + one SQLite transaction, synchronous=OFF "
            "so the disk's fsync does not hide the work), 400 presses over cases spread across the table. "
            "Opening: `SqliteStorage.open`, which unwraps every case key and checks every item's seal.",
            "",
            "| cases | mean | p50 | p95 | opening the storage |",
            "|---:|---:|---:|---:|---:|",
        ]
        for r in scale:
            lines.append(
                f"| {r['cases']:,} | {r['mean_ms']:.2f} ms | {r['p50_ms']:.2f} ms | {r['p95_ms']:.2f} ms | "
                f"{r['open_s']:.2f} s |"
            )
        lines += [
            "",
            f"{scale[-1]['cases'] // scale[0]['cases']:,}x more cases: cost per update x"
            f"{scale[-1]['p50_ms'] / scale[0]['p50_ms']:.2f} (p50), x{scale[-1]['mean_ms'] / scale[0]['mean_ms']:.2f} "
            "(mean: one slow press in 400 moves it; the machine is shared).",
        ]
    lines.append(SECTION[1])
    return "\n".join(lines)


def write(section: str) -> None:
    write_section(RESULTS, SECTION, section)


def main(argv: list[str]) -> None:
    what = argv[0] if argv else "all"
    if what == "stall-child":
        print(json.dumps(asyncio.run(stall_one(int(argv[1])))))
        return
    conv: list[dict] = []
    big = None
    scale: list[dict] = []
    seconds = float(os.environ.get("LOAD_SECONDS", "10"))
    parts = None
    if what in ("all", "conversation"):
        sizes = tuple(int(a) for a in argv[1:]) if what == "conversation" and len(argv) > 1 else (10, 100, 1000)
        conv = asyncio.run(conversation(sizes, seconds)) + asyncio.run(paced())
        parts = asyncio.run(costs())
        print(json.dumps(parts), flush=True)
    if what == "paced":
        conv = asyncio.run(paced())
    if what in ("all", "stall"):
        big = stall(int(argv[1]) if what == "stall" and len(argv) > 1 else 1024)
        print(json.dumps(big), flush=True)
    if what in ("all", "cases"):
        counts = tuple(int(a) for a in argv[1:]) if what == "cases" and len(argv) > 1 else (100, 10_000, 100_000)
        scale = asyncio.run(cases(counts))
    section = report(conv, big, scale, seconds, parts)
    print(section)
    if what == "all":
        write(section)


if __name__ == "__main__":
    main(sys.argv[1:])
