"""SQLite vs PostgreSQL: wall time and CPU per update, with 100 and 10,000 cases stored.

    python benchmarks/storage_backends.py            # writes its section of benchmarks/RESULTS.md
    python benchmarks/storage_backends.py --no-write # prints it only

One "update" is what a button press costs storage in the running bot: the update journaled
(sealed), the chat's lock taken (in-process for SQLite, an advisory lock for PostgreSQL), and
``handlers.core.apply`` (engine + one transaction that also marks the update handled). CPU is
the bot process's (``time.process_time``: event loop and the SQLite connection's thread) plus, for
PostgreSQL, the server processes' (utime + stime from /proc of every child of the postmaster).

The PostgreSQL server is the tests' own (tests/pg_server.py): a cluster in a temporary folder,
unix socket, ``fsync=off`` and ``synchronous_commit=off``; SQLite runs with
``synchronous=OFF``. Both measure the work, not the disk's flush. Nothing leaves this
machine; the server is stopped at the end.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

MASTER_KEY = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2s="
PRESSES = 400
ROUNDS = 5
WARMUP = 20  # presses before measuring (statements prepared, caches filled), on both backends
CASE_COUNTS = (100, 10_000)
TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu(data_dir: Path) -> float:
    """Seconds of CPU used so far by the postmaster's children (backends, checkpointer, ...)."""
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError):
        return 0.0
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster or int(entry) == postmaster:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


async def run_one(backend: str, cases: int, url: str | None, pg_data: Path | None) -> dict:
    from config import Settings
    from flows.content import load_content
    from flows.engine import Engine
    from flows.model import Press
    from handlers.core import Services, apply
    from storage.base import CaseKey

    content = load_content(ROOT / "content")
    loc = content.locale("zh-CN")
    with tempfile.TemporaryDirectory() as tmp:
        if url is None:
            from storage.sqlite import SqliteStorage

            storage = await SqliteStorage.open(Path(tmp), MASTER_KEY)
            await storage.db.execute("PRAGMA synchronous=OFF")  # no fsync: the work, not the disk
        else:
            from storage.postgres import PostgresStorage

            storage = await PostgresStorage.open(url, Path(tmp), MASTER_KEY)
        services = Services(Settings(), content, Engine(content), storage)
        for start in range(1, cases + 1, 500):  # cases created 500 to a transaction
            async with storage.transaction() as tx:
                for chat in range(start, min(start + 500, cases + 1)):
                    await tx.case(CaseKey(chat), loc.code, loc.start)
        if url is not None:  # a database in service has statistics; a freshly filled one gets them now
            async with storage.conns.connection() as db:  # type: ignore[attr-defined]
                await db.conn.execute("ANALYZE")
        target = cases // 2
        isolation = storage.isolation()
        timings = []
        for i in range(-WARMUP, PRESSES):
            if i == 0:
                timings.clear()
                cpu0, server0 = time.process_time(), server_cpu(pg_data) if pg_data else 0.0
            update_id = 10_000_000 + i
            t0 = time.perf_counter()
            await storage.journal(update_id, {"update_id": update_id, "callback_query": {"data": "s|1"}})
            async with isolation.lock(CaseKey(target)):
                await apply(services, target, "zh", Press(f"s|{loc.steps[i % 5].n}"), update_id=update_id)
            timings.append(time.perf_counter() - t0)
        cpu = time.process_time() - cpu0
        server = (server_cpu(pg_data) - server0) if pg_data else 0.0
        await storage.close()
    return {
        "backend": backend,
        "cases": cases,
        "mean_ms": statistics.mean(timings) * 1000,
        "p95_ms": sorted(timings)[int(PRESSES * 0.95)] * 1000,
        "cpu_ms": cpu / PRESSES * 1000,
        "server_ms": server / PRESSES * 1000,
    }


async def run_all(rounds: int = ROUNDS) -> list[dict]:
    """Every row ``rounds`` times, interleaved; each row keeps its median round (by wall mean),
    so a burst of other work on the shared machine moves one round, not the result."""
    from tests.pg_server import start_server

    server = start_server()
    if isinstance(server, str):
        print(f"PostgreSQL skipped: {server}", file=sys.stderr)
    runs: dict[tuple[str, int], list[dict]] = {}
    try:
        for _ in range(rounds):
            for cases in CASE_COUNTS:
                runs.setdefault(("SQLite", cases), []).append(await run_one("SQLite", cases, None, None))
                if isinstance(server, str):
                    continue
                schema = server.new_schema()
                row = await run_one("PostgreSQL", cases, server.url(search_path=schema), server.root / "data")
                runs.setdefault(("PostgreSQL", cases), []).append(row)
                server.drop_schema(schema)
    finally:
        if not isinstance(server, str):
            server.stop()
    return [sorted(r, key=lambda x: x["mean_ms"])[len(r) // 2] for r in runs.values()]


def report(rows: list[dict]) -> str:
    lines = [
        "",
        f"## Storage backends: SQLite vs PostgreSQL, {time.strftime('%Y-%m-%d')}",
        "",
        f"Command: `python benchmarks/storage_backends.py`. Machine: {platform.machine()}, {os.cpu_count()} cores "
        f"(shared with other work), Python {platform.python_version()}. One update = journal (sealed) + the chat's "
        f"lock + `handlers.core.apply` (engine, one transaction, the update marked handled); {PRESSES} button "
        f"presses per row on one chat, after {WARMUP} unmeasured; the median of {ROUNDS} rounds; PostgreSQL ANALYZEd after filling. CPU: the bot process, plus the PostgreSQL server's processes. PostgreSQL 15 "
        "on a unix socket with fsync and synchronous_commit off, SQLite with synchronous=OFF: the work, not the "
        "disk's flush. psycopg, one connection and a lock per worker.",
        "",
        "| backend | cases stored | wall mean | wall p95 | CPU bot | CPU server | CPU total |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['cases']:,} | {r['mean_ms']:.2f} ms | {r['p95_ms']:.2f} ms | {r['cpu_ms']:.2f} ms | "
            f"{r['server_ms']:.2f} ms | {r['cpu_ms'] + r['server_ms']:.2f} ms |"
        )
    by = {(r["backend"], r["cases"]): r for r in rows}
    lo, hi = CASE_COUNTS
    for backend in ("SQLite", "PostgreSQL"):
        if (backend, lo) in by and (backend, hi) in by:
            a, b = by[(backend, lo)], by[(backend, hi)]
            lines.append(
                f"\n{backend}: {hi // lo}x more cases: wall mean x{b['mean_ms'] / a['mean_ms']:.2f}, "
                f"CPU total x{(b['cpu_ms'] + b['server_ms']) / (a['cpu_ms'] + a['server_ms']):.2f}."
            )
    lines.append("")
    return "\n".join(lines)


SECTION = ("<!-- storage_backends.py: begin -->", "<!-- storage_backends.py: end -->")


def main() -> None:
    text = report(asyncio.run(run_all()))
    print(text)
    if "--no-write" not in sys.argv:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from loadgen import write_section

        section = f"{SECTION[0]}\n{text.strip()}\n{SECTION[1]}"
        write_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, section)


if __name__ == "__main__":
    main()
