"""The queue from a real cache: 10,000 entries and 20,000 PRs (issue 11, SPEC §9).

`bench/attention_queue.py` times the pure `attention_queue` on ready-made records; this times
what ``rfctui queue`` and the UI pay on top: `rfctui.triage.read_facts` (one SQL
statement for both tables, then the records) cold, after a sweep changed 1% of the
entries (the memo rebuilds only those), and with nothing changed (no rows read); and
`Session.queue` end to end (facts, team file, marks, the queue). The cache is filled
through `rfctui.db.Cache` writes with `bench/attention_queue.py`'s deterministic repository.
Figures, not a test.

Usage::

    python bench/triage.py               # print the table
    python bench/triage.py --write       # also write bench/results-triage.md
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rfctui.config import Config
from rfctui.db import open_cache
from rfctui.session import Session
from rfctui.triage import FactsMemo, read_facts

# bench/attention_queue.py's generator (bench/ is a folder of scripts, not a package)
_spec = importlib.util.spec_from_file_location(
    "bench_queue", Path(__file__).with_name("attention_queue.py")
)
assert _spec is not None and _spec.loader is not None
_bench_queue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench_queue)
NOW, generate = _bench_queue.NOW, _bench_queue.generate

RESULTS = Path(__file__).with_name("results-triage.md")


def fill(path: Path, n_entries: int, n_pulls: int) -> None:
    entries, pulls = generate(n_entries, n_pulls)
    cache = open_cache(path)
    with cache.write():
        cache.upsert_rfcs(
            {
                "slug": e.slug, "title": e.title, "state": e.state, "owners": list(e.owners),
                "arbiters": list(e.arbiters), "proposed_by": e.proposed_by,
                "state_since": e.state_since, "last_entry_commit_at": e.last_activity,
                "path": f"rfcs/{e.slug}.md", "body_sha": f"{i:040x}", "removed": e.removed,
            }
            for i, e in enumerate(entries)
        )
        cache.upsert_prs(
            {
                "repo": "rfcs/meta", "pr_number": p.number, "rfc_slug": p.slug,
                "pr_kind": p.kind, "state": p.state, "opened_by": p.opened_by,
                "opened_at": p.opened_at, "updated_at": p.updated_at,
                "head_branch": f"x/{p.slug}", "head_sha": p.head_sha or f"{p.number:040x}",
                "title": p.title,
            }
            for p in pulls
        )
    cache.close()


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--pulls", type=int, default=20_000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = Config(gitea_url="https://bench.example", cache_dir=root / "c",
                     data_dir=root / "d")
        fill(cfg.cache_file, args.entries, args.pulls)
        session = Session(cfg, clock=lambda: NOW)
        cache = session.cache()
        memo = FactsMemo()
        read_facts(cache, memo)
        slugs = [e.slug for e in read_facts(cache).entries][:: 100]
        tick = [0]

        def after_a_sweep() -> object:
            tick[0] += 1
            with cache.write():  # what a sweep does: a few rows change
                m = cache.CachedRFC
                m.update(body_sha=f"{tick[0]:040x}").where(m.slug.in_(slugs)).execute()
            return read_facts(cache, memo)

        rows = [
            ("read_facts cold (one statement + records)",
             *timed(lambda: read_facts(cache), args.runs), len(read_facts(cache).entries)),
            (f"read_facts after {len(slugs)} entries changed (memo)",
             *timed(after_a_sweep, args.runs), len(slugs)),
            ("read_facts, nothing changed (memo)",
             *timed(lambda: read_facts(cache, memo), args.runs), 0),
            ("Session.queue('ada') end to end",
             *timed(lambda: session.queue("ada"), args.runs), len(session.queue("ada").items)),
            ("Session.queue('nobody') end to end",
             *timed(lambda: session.queue("nobody"), args.runs),
             len(session.queue("nobody").items)),
        ]
        session.close()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    head = (
        f"Queue-from-cache benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{args.entries:,} entries, {args.pulls:,} PRs, {args.runs} runs, Python "
        f"{platform.python_version()}, {platform.machine()}, load average {load:.1f} on "
        f"{os.cpu_count()} CPUs."
    )
    lines = [head, "", "| case | median ms | min ms | rows |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {med:.1f} | {low:.1f} | {n} |" for name, med, low, n in rows]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.write:
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
