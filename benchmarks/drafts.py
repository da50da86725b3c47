"""Benchmark: time and peak memory to render the four drafts of a big case (500 evidence items,
300 incidents) with the shipped zh-CN templates, the way /drafts and /export do.

    python benchmarks/drafts.py            # prints a Markdown section (paste into RESULTS.md)
    python benchmarks/drafts.py one N M    # one measurement in this process (N items, M incidents)

Each size runs in a child process, so its peak RSS (ru_maxrss) is its own; the Python heap's
peak (tracemalloc) is measured in a separate run in the same child, since tracing slows the
render. Times are the median of three renders after one warm-up.
"""

from __future__ import annotations

import hashlib
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = ((6, 8), (100, 60), (500, 300))
RUNS = 3


def case(items: int, incidents: int):
    from documents import DraftData
    from flows.filing import COMPLAINT, POLICE, Filing
    from flows.model import EvidenceItem
    from flows.record import CHANNELS, RELATIONS, Facts, Incident

    made = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    facts = Facts(
        app="闪电借",
        lender="某某小额贷款有限公司",
        collector_company="某某信息咨询有限公司",
        contract_amount=Decimal("5000"),
        received_amount=Decimal("3500"),
        city="成都市",
    )
    log = [
        Incident(
            made - timedelta(hours=7 * n),
            RELATIONS[n % len(RELATIONS)],
            CHANNELS[n % len(CHANNELS)],
            collector=f"171{n % 50:08d}",
            note="对方说要去我单位闹" * (n % 3),
            evidence=(n % max(items, 1) + 1,),
        )
        for n in range(incidents)
    ]
    cats = ("call_recording", "sms", "chat", "witness", "notice", None)
    evidence = [
        EvidenceItem(
            n,
            "photo",
            cats[n % len(cats)],
            100_000 + n,
            hashlib.sha256(str(n).encode()).hexdigest(),
            made - timedelta(minutes=n),
            "image/jpeg",
            note=f"第{n}张截图：催收短信" if n % 2 else "",
        )
        for n in range(1, items + 1)
    ]
    filings = [Filing(COMPLAINT, channel="nfra_12378", complete=True), Filing(POLICE, receipt=False, complete=True)]
    return DraftData(facts, log, evidence, filings, made)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def one(items: int, incidents: int) -> dict:
    from documents import render_drafts
    from flows.content import load_content
    from flows.features.drafts import words

    zh = load_content(ROOT / "content").locale("zh-CN")
    assert zh.drafts is not None
    templates, w, data = dict(zh.drafts.templates), words(zh), case(items, incidents)
    render_drafts(templates, case(6, 8), w)  # warm-up: imports, Jinja's compile cache
    before = rss_mb()
    times, sizes = [], {}
    for _ in range(RUNS):
        t0 = time.perf_counter()
        out = render_drafts(templates, data, w)
        times.append(time.perf_counter() - t0)
        sizes = {k: len(v) for k, v in out.items()}
    peak_rss = rss_mb()
    per_draft = {}
    for name, tpl in templates.items():
        t0 = time.perf_counter()
        render_drafts({name: tpl}, data, w)
        per_draft[name] = time.perf_counter() - t0
    tracemalloc.start()
    render_drafts(templates, data, w)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "items": items,
        "incidents": incidents,
        "median_s": statistics.median(times),
        "per_draft_s": per_draft,
        "rss_before_mb": before,
        "rss_peak_mb": peak_rss,
        "heap_peak_mb": heap_peak / 2**20,
        "sizes_kb": {k: v / 1024 for k, v in sizes.items()},
    }


def main() -> int:
    rows = []
    for items, incidents in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "one", str(items), str(incidents)], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"## Drafts: rendering the four .docx (benchmarks/drafts.py), {datetime.now(UTC):%Y-%m-%d}\n")
    print(
        f"Command: `python benchmarks/drafts.py`. Machine: {platform.machine()}, 2 cores, Python "
        f"{platform.python_version()}. The shipped zh-CN templates; one child process per size; "
        f"median of {RUNS} renders of all four after a warm-up. Peak RSS is the whole process "
        "(content loaded, docxtpl, lxml); the Python heap's peak is tracemalloc's for one render of all four.\n"
    )
    print(
        "| evidence items | incidents | all four | complaint | police | lawsuit | evidence list "
        "| peak RSS (before) | Python heap peak | file sizes (same order) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        d = r["per_draft_s"]
        sizes = ", ".join(f"{r['sizes_kb'][k]:.0f}" for k in ("complaint", "police", "lawsuit", "evidence"))
        print(
            f"| {r['items']} | {r['incidents']} | {r['median_s']:.2f} s | {d['complaint']:.2f} s | {d['police']:.2f} s "
            f"| {d['lawsuit']:.2f} s | {d['evidence']:.2f} s | {r['rss_peak_mb']:.0f} MiB ({r['rss_before_mb']:.0f}) "
            f"| {r['heap_peak_mb']:.0f} MiB | {sizes} KiB |"
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "one":
        print(json.dumps(one(int(sys.argv[2]), int(sys.argv[3]))))
        sys.exit(0)
    sys.exit(main())
