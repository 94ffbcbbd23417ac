"""Attention-queue benchmark: 10,000 entries and 20,000 PRs (issue 11, SPEC §9).

Generates a deterministic meta repository (seeded ``random.Random``): 10,000 entries
in every §3 state, with owners, arbiters and proposers drawn from 200 people of whom
20 are the arbiters, and 20,000 pull requests of every §5 kind (about a quarter open,
pending ideas with and without known arbiters). Then it times
``attention_queue`` N times for:

- ``ada``: one of the 20 arbiters, with a realistic share of every role;
- ``nobody``: a login that holds no role at all (the cost of the passes alone).

Building the `EntryFacts` / `PullFacts` records (which folds each login once) is timed
apart: the cache does it when it reads its rows, not on every queue computation.
Target: ≤ 50 ms per queue (aim ≤ 10 ms). Figures, not a test: nothing asserts a time.
Usage::

    python bench/attention_queue.py                # print the table
    python bench/attention_queue.py --runs 200     # more runs
    python bench/attention_queue.py --write        # also write bench/results-queue.md
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rfctui.attention import EntryFacts, PullFacts, Thresholds, attention_queue

RESULTS = Path(__file__).with_name("results-queue.md")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STATES = ("idea",) * 4 + ("graduated",) * 3 + ("parked", "declined", "superseded", "withdrawn")
KINDS = ("idea", "meta_body_edit", "meta_claim", "meta_metadata")


def generate(
    n_entries: int = 10_000, n_pulls: int = 20_000, seed: int = 11
) -> tuple[list[EntryFacts], list[PullFacts]]:
    """A deterministic repository: the same seed gives the same records."""
    rng = random.Random(seed)
    people = ["ada", "grace"] + [f"user{i:03d}" for i in range(198)]
    arbiters_pool = people[:20]

    def ago(max_days: int) -> datetime:
        return NOW - timedelta(seconds=rng.randrange(max_days * 86_400))

    entries: list[EntryFacts] = []
    for i in range(n_entries):
        state_since = ago(900)
        owners = tuple(rng.sample(people, rng.choice((0, 1, 1, 2))))
        arbiters = tuple(rng.sample(arbiters_pool, rng.choice((0, 1, 1, 2))))
        entries.append(
            EntryFacts(
                slug=f"rfc-{i:05d}",
                title=f"Proposal number {i}",
                state=rng.choice(STATES),
                owners=owners,
                arbiters=arbiters,
                proposed_by=rng.choice(people),
                state_since=state_since,
                last_activity=max(state_since, ago(400)),
            )
        )
    pulls: list[PullFacts] = []
    for n in range(1, n_pulls + 1):
        kind = rng.choice(KINDS)
        opened = ago(600)
        state = "open" if rng.random() < 0.25 else rng.choice(("closed", "merged"))
        arbiters: tuple[str, ...] | None = None
        if kind == "idea":
            slug = f"pending-{n:05d}"
            if rng.random() < 0.9:
                arbiters = tuple(rng.sample(arbiters_pool, rng.choice((0, 1, 2))))
        else:
            slug = f"rfc-{rng.randrange(n_entries):05d}"
        pulls.append(
            PullFacts(
                number=n,
                slug=slug,
                kind=kind,
                state=state,
                opened_by=rng.choice(people),
                opened_at=opened,
                updated_at=opened + timedelta(seconds=rng.randrange(30 * 86_400)),
                head_sha=f"{rng.getrandbits(160):040x}",
                arbiters=arbiters,
                title=f"PR {n}",
            )
        )
    return entries, pulls


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """(median ms, min ms, last result) over ``runs`` calls after one warm-up."""
    result = fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per case")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    args = parser.parse_args(argv)

    build_med, build_min, data = timed(generate, max(args.runs // 10, 3))
    entries, pulls = data  # type: ignore[misc]
    thresholds = Thresholds()
    rows = [
        f"| build 10,000 entries + 20,000 PRs (generate + fold logins) | {build_med:.1f} "
        f"| {build_min:.1f} | n/a |"
    ]
    for who in ("ada", "nobody"):
        med, low, result = timed(
            lambda who=who: attention_queue(  # type: ignore[misc]
                who, entries, pulls, now=NOW, thresholds=thresholds
            ),
            args.runs,
        )
        count = len(result)  # type: ignore[arg-type]
        rows.append(f"| queue for `{who}` | {med:.2f} | {low:.2f} | {count} |")

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            f"Attention-queue benchmark, {stamp}, {len(entries):,} entries, {len(pulls):,} PRs,"
            f" {args.runs} runs, Python {platform.python_version()}, {platform.machine()},"
            f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
            "",
            "| case | median ms | min ms | rows |",
            "| --- | ---: | ---: | ---: |",
            *rows,
            "",
            "Target: ≤ 50 ms per queue (aim ≤ 10 ms). The build row is the one-off cost of",
            "making the records (the cache does it when it reads rows), not part of a queue.",
        ]
    )
    print(text)
    if args.write:
        RESULTS.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
