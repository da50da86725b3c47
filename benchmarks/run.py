"""Benchmarks: memory while ingesting and exporting big evidence files, and the cost of an update
as the number of cases grows. Ratios measured in one run, never absolute timings in tests.

    python benchmarks/run.py            # both, writes benchmarks/RESULTS.md
    python benchmarks/run.py memory 64  # one memory measurement (a child process per size)

Everything talks to 127.0.0.1 only (the fake Bot API server of the tests).
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

MB = 1024 * 1024


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def memory_one(size_mb: int) -> dict:
    """Upload one file of size_mb through a local-mode Bot API server, then export it."""
    from tests.conftest import TOKEN, running_bot
    from tests.fakes.botapi import FakeBotAPI

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = tmp / "recording.m4a"
        block = os.urandom(MB)
        with open(big, "wb") as f:
            for _ in range(size_mb):
                f.write(block)
        del block
        with FakeBotAPI(token=TOKEN, local_mode=True) as server:
            async with running_bot(server, tmp / "data", local_api=True):
                user = server.user(1001, language_code="zh")
                user.send("/start")
                await user.wait_for_messages(1, timeout=60)
                before = rss_mb()
                t0 = time.perf_counter()
                user.send_document(big)
                await user.wait_for_messages(1, timeout=600)
                t_ingest = time.perf_counter() - t0
                after_ingest = rss_mb()
                user.send("/export")
                (confirm,) = await user.wait_for_messages(1, timeout=60)
                t0 = time.perf_counter()
                user.press(confirm, "确认导出")
                await user.wait_for_messages(
                    2, timeout=600
                )  # the part and the summary (the confirmation became "preparing")
                t_export = time.perf_counter() - t0
                after_export = rss_mb()
    return {
        "size_mb": size_mb,
        "rss_before": before,
        "rss_after_ingest": after_ingest,
        "rss_after_export": after_export,
        "ingest_s": t_ingest,
        "export_s": t_export,
    }


def memory(sizes=(16, 256)) -> list[dict]:
    rows = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "memory", str(size)], capture_output=True, text=True, check=True
        )
        rows.append(eval(out.stdout.strip().splitlines()[-1]))  # noqa: S307 - our own child's dict literal
    return rows


async def per_update(case_counts=(100, 10_000), presses=400) -> list[dict]:
    """Mean time of one button press (engine + one SQLite transaction) with N cases stored."""
    from config import Settings
    from flows.content import load_content
    from flows.engine import Engine
    from flows.model import Press
    from handlers.core import Services, apply
    from storage.base import CaseKey
    from storage.sqlite import SqliteStorage as Storage

    content = load_content(ROOT / "content")
    loc = content.locale("zh-CN")
    rows = []
    for n in case_counts:
        with tempfile.TemporaryDirectory() as tmp:
            storage = await Storage.open(Path(tmp), "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2s=")
            await storage.db.execute("PRAGMA synchronous=OFF")  # measure the work, not the disk's fsync
            services = Services(Settings(), content, Engine(content), storage)
            for chat in range(1, n + 1):
                async with storage.transaction() as tx:
                    await tx.case(CaseKey(chat), loc.code, loc.start)
            target = n // 2
            timings = []
            for i in range(presses):
                step = loc.steps[i % 5]
                t0 = time.perf_counter()
                await apply(services, target, "zh", Press(f"s|{step.n}"), update_id=10_000_000 + i)
                timings.append(time.perf_counter() - t0)
            await storage.close()
        rows.append(
            {
                "cases": n,
                "mean_ms": statistics.mean(timings) * 1000,
                "p95_ms": sorted(timings)[int(presses * 0.95)] * 1000,
            }
        )
    return rows


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "memory":
        print(asyncio.run(memory_one(int(sys.argv[2]))))
        return
    mem = memory()
    upd = asyncio.run(per_update())
    lines = [
        SECTION[0],
        f"Command: `python benchmarks/run.py` (or `make bench`). Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Date: {time.strftime('%Y-%m-%d')}.",
        "",
        "## Memory while ingesting and exporting one evidence file (local Bot API server)",
        "",
        "Peak RSS of the whole process (bot + in-process fake server), one child process per size.",
        "Flat memory means the peak does not grow with the file.",
        "",
        "| file | RSS before | peak after ingest | peak after export | ingest | export |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in mem:
        lines.append(
            f"| {r['size_mb']} MiB | {r['rss_before']:.0f} MiB | {r['rss_after_ingest']:.0f} MiB | "
            f"{r['rss_after_export']:.0f} MiB | {r['ingest_s']:.2f} s | {r['export_s']:.2f} s |"
        )
    small, large = mem[0], mem[-1]
    lines += [
        "",
        f"File {large['size_mb'] / small['size_mb']:.0f}x larger: peak RSS x{large['rss_after_export'] / small['rss_after_export']:.2f}.",
        "",
        "## Cost of one update as the number of cases grows",
        "",
        "A step-bar button press through `handlers.core.apply` (engine + one SQLite transaction,",
        "synchronous=OFF so the disk's fsync does not dominate), 400 presses per row.",
        "",
        "| cases stored | mean | p95 |",
        "|---:|---:|---:|",
    ]
    for r in upd:
        lines.append(f"| {r['cases']:,} | {r['mean_ms']:.2f} ms | {r['p95_ms']:.2f} ms |")
    lines += [
        "",
        f"{upd[-1]['cases'] // upd[0]['cases']}x more cases: mean cost x{upd[-1]['mean_ms'] / upd[0]['mean_ms']:.2f}.",
        SECTION[1],
    ]
    write("\n".join(lines))
    print("\n".join(lines))


SECTION = ("<!-- run.py: begin -->", "<!-- run.py: end -->")


def write(section: str) -> None:
    """Replace this script's section of RESULTS.md; the other scripts' sections stay."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from loadgen import write_section

    write_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, section)


if __name__ == "__main__":
    main()
