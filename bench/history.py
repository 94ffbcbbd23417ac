"""History backfill benchmark: true time in state for 1,000 entries (issue 11 §2).

Builds a sandbox meta repository whose entries have varied histories, committed in
rounds with back-dated times (each round one commit touching many entries):

- every entry created as an idea (2025-01); a fraction parked, some of those revived,
  some parked again; some declined (a resting state: never walked);
- body-only edits on half of the entries (recent), and a few entries with 60 extra
  edits (more than one page of commits: 50 per page with ``path``).

Then, served over real HTTP on 127.0.0.1 with 20 ms of latency per request
(``Faults.latency_ms``), it measures with a fresh client each time:

- ``cold``: the backfill right after a cold resync (every walkable entry);
- ``again``: a second run (finished entries cost nothing);
- ``quick+10``: after 10 entries changed and a quick sweep (the lists of those 10 move).

Prints a markdown table; ``--write`` also writes it to ``bench/results-history.md``.
Usage::

    python bench/history.py               # 1,000 entries
    python bench/history.py --entries 200 # smaller
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rfctui.db import open_cache
from rfctui.db.history_store import exact_slugs
from rfctui.gitea import GiteaClient
from rfctui.history import HistoryBackfill, HistoryResult
from rfctui.reconcile import Reconciler
from rfctui.sandbox import Sandbox

OWNER, REPO, BOT, TOKEN = "rfcs", "meta", "rfc-bot", "bot-token"
LATENCY_MS = 20
RESULTS = Path(__file__).with_name("results-history.md")


class SetClock:
    """The sandbox's clock: commit times are whatever the round says."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def text(slug: str, state: str, body: str) -> bytes:
    return (
        f"---\nslug: {slug}\ntitle: Entry {slug}\nstate: {state}\nproposed_by: ada\n"
        f"owners: [ada]\narbiters: [grace]\ntags: [bench]\n---\n{body}\n"
    ).encode()


def build(n: int) -> tuple[Sandbox, Counter[str]]:
    """The repository, and how many entries end in each history shape."""
    clock = SetClock()
    sb = Sandbox(clock=clock)
    slugs = [f"entry-{i:05d}" for i in range(n)]
    state = {s: "idea" for s in slugs}
    body = {s: "Why." for s in slugs}
    shape: Counter[str] = Counter()

    def commit(when: datetime, picked: list[str], message: str) -> None:
        clock.now = when
        sb.commit_files("main", {f"rfcs/{s}.md": text(s, state[s], body[s]) for s in picked},
                        message)

    commit(datetime(2025, 1, 10, tzinfo=UTC), slugs, "create")
    parked = [s for i, s in enumerate(slugs) if i % 10 < 6]
    for s in parked:
        state[s] = "parked"
    commit(datetime(2025, 3, 1, tzinfo=UTC), parked, "park")
    revived = parked[::3]
    for s in revived:
        state[s] = "idea"
    commit(datetime(2025, 5, 1, tzinfo=UTC), revived, "revive")
    again = revived[::2]
    for s in again:
        state[s] = "parked"
    commit(datetime(2025, 8, 1, tzinfo=UTC), again, "park again")
    declined = [s for i, s in enumerate(slugs) if i % 10 == 9]
    for s in declined:
        state[s] = "declined"
    commit(datetime(2025, 9, 1, tzinfo=UTC), declined, "decline")
    edited = slugs[::2]
    for s in edited:
        body[s] = "Why, with a typo fixed."
    commit(datetime(2026, 11, 1, tzinfo=UTC), edited, "typos")
    busy = slugs[1:40:4]  # 10 entries with 60 more edits: two pages of commits
    for k in range(60):
        for s in busy:
            body[s] = f"Edit {k}."
        commit(datetime(2026, 11, 2, tzinfo=UTC) + timedelta(hours=k), busy, f"edit {k}")
    for s in slugs:
        if state[s] == "declined":
            shape["resting (not walked)"] += 1
        elif s in busy:
            shape["60+ commits"] += 1
        elif s in again:
            shape["parked, revived, parked again"] += 1
        elif s in revived:
            shape["parked then revived"] += 1
        elif s in parked:
            shape["parked"] += 1
        else:
            shape["idea since creation"] += 1
    return sb, shape


async def sweep(url: str, cache_path: Path, kind: str) -> None:
    cache = open_cache(cache_path)
    try:
        async with GiteaClient(url, TOKEN) as client:
            r = await getattr(Reconciler(client, cache, OWNER, REPO, BOT), kind)()
            assert r.ok, r.error
    finally:
        cache.close()


async def backfill(url: str, cache_path: Path) -> tuple[HistoryResult, int]:
    cache = open_cache(cache_path)
    try:
        async with GiteaClient(url, TOKEN) as client:
            r = await HistoryBackfill(client, cache, OWNER, REPO).run()
        return r, len(exact_slugs(cache))
    finally:
        cache.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    args = ap.parse_args()
    t0 = time.monotonic()
    sb, shape = build(args.entries)
    print(f"built {args.entries} entries in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, sb.serve(port=0) as url:
        path = Path(tmp) / "cache.sqlite"
        asyncio.run(sweep(url, path, "resync"))
        sb.faults.latency_ms = LATENCY_MS

        def run(label: str) -> None:
            r, exact = asyncio.run(backfill(url, path))
            per = r.requests / r.entries_done if r.entries_done else 0.0
            rows.append(f"| {label} | {r.total} | {r.entries_done} | {r.failed} | "
                        f"{r.requests} | {per:.2f} | {r.seconds:.2f} | {exact} |")
            print(rows[-1], file=sys.stderr)

        run("cold (after --resync)")
        run("again (nothing changed)")
        sb.faults.latency_ms = 0
        sb.commit_files("main", {f"rfcs/entry-{i:05d}.md": text(f"entry-{i:05d}", "idea",
                                                                "Edited again.")
                                 for i in range(0, 10 * 10, 10)}, "ten edits")
        asyncio.run(sweep(url, path, "quick_sweep"))
        sb.faults.latency_ms = LATENCY_MS
        run("after 10 entries changed (state or body) + quick sweep")
    table = "\n".join([
        f"History backfill, {args.entries} entries, {LATENCY_MS} ms latency per request, "
        f"default client concurrency (8); {platform.python_implementation()} "
        f"{platform.python_version()} on {platform.system()}.",
        "",
        "History shapes: " + ", ".join(f"{k}: {v}" for k, v in sorted(shape.items())) + ".",
        "",
        "| run | needed | walked | failed | requests | requests/entry | wall s | exact |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ])
    print(table)
    if args.write:
        RESULTS.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
