"""How well typed messages find their screen: top-1 / top-3 accuracy on the labelled set, the cost
of one message, and the cost of building the index once per loaded content.

    python benchmarks/listen.py            # print the report
    python benchmarks/listen.py --dev      # list only the dev split's misses (while tuning phrases)
    python benchmarks/listen.py --write    # append the report to benchmarks/RESULTS.md

The set is ``tests/data/utterances.tsv`` (see its header for the format). ``dev`` rows may be read
while tuning phrases; ``test`` rows are held out. tests/test_listen.py holds the same bar.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.content import load_content  # noqa: E402 - after the path is set
from flows.listen import Level, Listener, Match, load_phrases, normalise  # noqa: E402

DATA = ROOT / "tests" / "data" / "utterances.tsv"
SOCIAL = {"greeting", "thanks"}
TOP1_TARGET, TOP3_TARGET = 0.85, 0.95


@dataclass(frozen=True)
class Row:
    split: str
    expected: str
    text: str

    @property
    def wanted(self) -> tuple[str, ...]:
        return tuple(self.expected.replace("|", "+").split("+"))

    @property
    def all_of(self) -> bool:
        return "+" in self.expected


def load_rows(path: Path = DATA) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            split, expected, text = line.split("\t")
            rows.append(Row(split, expected, text))
    return rows


def build(content_dir: Path = ROOT / "content", locale: str = "zh-CN") -> Listener:
    loc = load_content(content_dir).locale(locale)
    ph = load_phrases(content_dir / locale / "phrases.yaml")
    return Listener.from_phrases(loc.nodes, ph)


def judge(row: Row, m: Match) -> tuple[bool, bool]:
    """(top-1 right, top-3 right) for one message."""
    if row.expected in SOCIAL:
        ok = m.social is not None and m.social.value == row.expected and m.level is Level.NONE
        return ok, ok
    if row.expected == "none":
        ok = m.level is Level.NONE and m.social is None
        return ok, ok
    if m.level is Level.NONE:
        return False, False
    top3 = m.nodes[:3]
    top1 = m.nodes[0] in row.wanted
    if row.all_of:
        return top1, all(w in top3 for w in row.wanted)
    return top1, any(w in top3 for w in row.wanted)


@dataclass
class Score:
    n: int = 0
    top1: int = 0
    top3: int = 0
    confident: int = 0
    confident_wrong: int = 0

    def line(self, name: str) -> str:
        p = f"{self.confident_wrong}/{self.confident}" if self.confident else "0/0"
        return f"| {name} | {self.n} | {self.top1 / self.n:.1%} | {self.top3 / self.n:.1%} | {p} |"


def evaluate(listener: Listener, rows: list[Row]) -> tuple[dict[str, Score], list[tuple[Row, Match]]]:
    scores = {"all": Score(), "dev": Score(), "test": Score()}
    misses = []
    for row in rows:
        m = listener.match(row.text)
        t1, t3 = judge(row, m)
        for key in ("all", row.split):
            s = scores[key]
            s.n += 1
            s.top1 += t1
            s.top3 += t3
            if m.level is Level.CONFIDENT:
                s.confident += 1
                s.confident_wrong += not t1
        if not (t1 and t3):
            misses.append((row, m))
    return scores, misses


def overlap(rows: list[Row], content_dir: Path = ROOT / "content") -> tuple[list[str], list[str]]:
    """Held-out messages equal (after normalising) to a node phrase, and to a greeting or thanks
    word, in phrases.yaml: they would flatter the score if they were sentences copied across."""
    ph = load_phrases(content_dir / "zh-CN" / "phrases.yaml")
    nodes = {normalise(p) for ps in ph.by_node.values() for p in ps}
    social = {normalise(p) for p in ph.greeting + ph.thanks}
    held = [r.text for r in rows if r.split == "test"]
    return [t for t in held if normalise(t) in nodes], [t for t in held if normalise(t) in social]


def report(show: tuple[str, ...] = ("dev", "test")) -> str:
    t0 = time.perf_counter()
    listener = build()
    build_s = time.perf_counter() - t0
    builds = []
    loc = load_content(ROOT / "content").locale("zh-CN")
    ph = load_phrases(ROOT / "content" / "zh-CN" / "phrases.yaml")
    for _ in range(20):
        t0 = time.perf_counter()
        Listener.from_phrases(loc.nodes, ph)
        builds.append(time.perf_counter() - t0)
    rows = load_rows()
    scores, misses = evaluate(listener, rows)
    times = []
    for _ in range(5):
        for row in rows:
            t0 = time.perf_counter()
            listener.match(row.text)
            times.append(time.perf_counter() - t0)
    times.sort()
    long_rows = sorted(rows, key=lambda r: -len(r.text))[:10]
    long_times = []
    for row in long_rows * 5:
        t0 = time.perf_counter()
        listener.match(row.text)
        long_times.append(time.perf_counter() - t0)
    same_nodes, same_social = overlap(rows)
    out = [
        f"## Free text -> screen (flows/listen.py), {date.today().isoformat()}",
        "",
        (
            f"Command: `python benchmarks/listen.py`. Machine: {platform.machine()}, Python "
            f"{platform.python_version()}. Set: `tests/data/utterances.tsv`, {len(rows)} messages "
            f"({scores['dev'].n} dev, {scores['test'].n} held-out test); index: {listener.size} phrases."
        ),
        "",
        "| split | messages | top-1 | top-3 | confident but wrong |",
        "|---|---:|---:|---:|---:|",
        scores["dev"].line("dev"),
        scores["test"].line("test (held out)"),
        scores["all"].line("all"),
        "",
        (
            f"Targets: top-1 ≥ {TOP1_TARGET:.0%}, top-3 ≥ {TOP3_TARGET:.0%}. Held-out messages equal to a "
            f"phrase in phrases.yaml: {len(same_nodes)} node phrases ({', '.join(same_nodes) or '-'}) and "
            f"{len(same_social)} greeting/thanks words ({', '.join(same_social) or '-'})."
        ),
        "",
        (
            f"Per message: mean {statistics.mean(times) * 1000:.2f} ms, p95 "
            f"{times[int(len(times) * 0.95)] * 1000:.2f} ms, max {times[-1] * 1000:.2f} ms; the ten longest "
            f"messages: mean {statistics.mean(long_times) * 1000:.2f} ms. Index build (once per loaded "
            f"content): {statistics.median(builds) * 1000:.1f} ms (the first build, with loading the YAML: "
            f"{build_s * 1000:.0f} ms)."
        ),
    ]
    shown = [(row, m) for row, m in misses if row.split in show]
    if shown:
        out += ["", f"Misses ({len(shown)}): split, expected -> got (level, top three with scores)", ""]
        for row, m in shown:
            got = ", ".join(f"{h.node} {h.score:.0f}" for h in m.hits) or "-"
            soc = f" social={m.social.value}" if m.social else ""
            out.append(f"- {row.split} `{row.expected}` {row.text} -> {m.level.value}{soc}: {got}")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> None:
    text = report(("dev",) if "--dev" in argv else ("dev", "test"))
    print(text)
    if "--write" in argv:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main(sys.argv[1:])
