"""Review benchmark: change views for 200 open PRs, timelines for 1,000 entries (issue 12).

Builds a sandbox with real-sized entries (`bench/realsize.py`: BASELINES §9 sizes, with
two back-dated history rounds) and open pull requests of every §5 kind in rotation
(``edit`` PRs rewrite paragraphs of a real-sized body, ``metadata`` retitles/retags,
``claim`` adds an owner, ``propose`` adds a new real-sized idea). It serves it over real
HTTP on 127.0.0.1 with ``--latency-ms`` added per request (``Faults.latency_ms``) and
drives one `rfctui.session.Session` as the CLI and the UI do, counting every HTTP
request with a transport wrapper (head-file reads apart: ``POST file-contents`` at a
PR head's sha). Side by side, in one run:

- sweeps that make the change views readable (the reconciler fetches the entry file at
  each open PR's head once per head sha, `Cache.pending_heads`): a cold resync, a quick
  sweep with nothing changed (must fetch no head), a quick sweep after 10 PR heads moved
  (must fetch exactly those 10);
- ``Session.change`` for every open PR, from the cache: requests (must be 0), SQL
  statements per view, wall time total and per view (median, p90, max);
- ``Session.backfill_history()`` as the UI runs it after a sweep (walkable entries),
  then with ``all_states=True`` for the rest (what ``rfctui log`` fetches on first use),
  and ``Session.timeline(slug)`` for every entry: requests (must be 0) and wall time.

Prints a markdown table; ``--write`` also writes ``bench/results-review.md`` (never
otherwise). Figures, not a test: nothing asserts a time. Usage::

    python bench/review.py                          # 1,000 entries, 200 open PRs, 20 ms
    python bench/review.py --entries 300 --prs 60   # smaller
    python bench/review.py --latency-ms 50 --write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realsize import (  # noqa: E402
    BOT,
    BOT_TOKEN,
    OWNER,
    REPO,
    RealWorld,
    build_sandbox,
    move_head,
    percentiles,
    warm_mergeable,
)

from rfctui.config import Config, Secret  # noqa: E402
from rfctui.session import Session  # noqa: E402

RESULTS = Path(__file__).with_name("results-review.md")
USER_TOKEN = "ada-token"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Counting(httpx.AsyncBaseTransport):
    """Counts every request, then sends it over real HTTP.

    The session opens a client per operation, each on its own event loop
    (``asyncio.run``), and closes it after; so the real transport is made afresh for
    each loop instead of sharing one pool across loops. ``heads`` is the set of PR head
    shas: a ``POST file-contents?ref=<one of them>`` is counted as a head-file read.
    """

    def __init__(self, heads: Callable[[], set[str]]) -> None:
        self.heads = heads
        self.total = 0
        self.head_reads = 0
        self.by_route: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._inner: dict[int, httpx.AsyncHTTPTransport] = {}

    def _transport(self) -> httpx.AsyncHTTPTransport:
        key = id(asyncio.get_running_loop())
        with self._lock:
            if key not in self._inner:
                self._inner[key] = httpx.AsyncHTTPTransport(
                    limits=httpx.Limits(max_connections=16))
            return self._inner[key]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        ref = request.url.params.get("ref", "")
        tail = path.split("/", 4)[-1] if path.startswith("/repos/") else path
        route = f"{request.method} {'/'.join(tail.split('/')[:2])}"  # e.g. GET contents/rfcs
        with self._lock:
            self.total += 1
            self.by_route[route] += 1
            if path.endswith("/file-contents") and ref in self.heads():
                self.head_reads += 1
        return await self._transport().handle_async_request(request)

    async def aclose(self) -> None:
        key = id(asyncio.get_running_loop())
        with self._lock:
            inner = self._inner.pop(key, None)
        if inner is not None:
            await inner.aclose()

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.total, self.head_reads


@dataclass
class Row:
    """One table row."""

    step: str
    requests: int
    head_reads: int | None
    seconds: float
    note: str = ""


@contextmanager
def counted(counter: Counting, rows: list[Row], step: str) -> Iterator[dict[str, Any]]:
    """Time a step and count its requests; the body fills ``note`` (and more) in ``out``."""
    out: dict[str, Any] = {"note": ""}
    req0, head0 = counter.snapshot()
    t0 = time.perf_counter()
    yield out
    seconds = out.get("seconds", time.perf_counter() - t0)
    req1, head1 = counter.snapshot()
    rows.append(Row(step, req1 - req0, head1 - head0, seconds, out["note"]))
    log(f"{step}: {req1 - req0} requests ({head1 - head0} head files), {seconds:.2f} s")


def _ms(values: list[float]) -> str:
    p = percentiles([round(v * 1e6) for v in values])  # µs, integer
    return (f"median {p['median'] / 1000:.2f} ms, p90 {p['p90'] / 1000:.2f} ms, "
            f"max {p['max'] / 1000:.2f} ms")


class SqlCounter:
    """Counts SQL statements on this thread's cache connection (sqlite3 trace hook)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.n = 0

    def __enter__(self) -> SqlCounter:
        def trace(_sql: str) -> None:
            self.n += 1
        self.conn.set_trace_callback(trace)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.set_trace_callback(None)


def run(entries: int, prs: int, latency_ms: float, seed: int) -> tuple[list[Row], list[str]]:
    """Every step, in order, against one served sandbox and one session."""
    log(f"building {entries} real-sized entries and {prs} open PRs")
    world: RealWorld = build_sandbox(entries, prs=prs, seed=seed, progress=log)
    sb = world.sb
    facts = [f"{len(world.entries):,} entries on main, {sum(world.sizes) / 1e6:.1f} MB "
             f"(file size {_sizes(world.sizes)}); {len(world.pulls)} open PRs "
             f"({', '.join(f'{k} {v}' for k, v in Counter(p.kind for p in world.pulls).items())})"]
    rows: list[Row] = []

    def heads() -> set[str]:
        return set(sb.pull_refs.values())

    counter = Counting(heads)
    with tempfile.TemporaryDirectory() as tmp, sb.serve(port=0) as url:
        config = Config(
            gitea_url=url, org=OWNER, meta_repo=REPO, bot_user=BOT,
            bot_token=Secret(BOT_TOKEN), user_token=Secret(USER_TOKEN),
            cache_dir=Path(tmp) / "cache", data_dir=Path(tmp) / "data", transport=counter,
        )
        session = Session(config, repair_actions=False)
        sb.faults.latency_ms = latency_ms

        def sweep(step: str, kind: str) -> None:
            heads_at: list[float] = []

            def progress(p: Any) -> None:  # when the head-file phase starts
                if p.phase == "fetching PR heads" and not heads_at:
                    heads_at.append(time.perf_counter())

            with counted(counter, rows, step) as out:
                t0 = time.perf_counter()
                result = asyncio.run(session.sweep(kind, progress=progress))  # type: ignore[arg-type]
                end = time.perf_counter()
                if not result.ok:
                    raise SystemExit(f"{step} failed: {result.error}")
                out["note"] = (f"{result.entries} entries, {result.pulls} PRs, "
                               f"{result.rows_changed} rows changed")
                if heads_at:
                    out["note"] += (f"; sweep {heads_at[0] - t0:.2f} s, then head files "
                                    f"{end - heads_at[0]:.2f} s")

        sweep("cold resync (`rfctui --resync`), incl. head files", "resync")
        pending = len(session.cache().pending_heads())
        rows[-1].note += f"; heads still pending: {pending}"
        sweep("quick sweep, nothing changed", "quick")

        sb.faults.latency_ms = 0
        rng = random.Random(f"review-move:{seed}")
        moved = world.pulls[: min(10, len(world.pulls))]
        for p in moved:
            p.head = move_head(sb, p.branch, p.head, rng)
        warm_mergeable(sb)
        sb.faults.latency_ms = latency_ms
        sweep(f"quick sweep after {len(moved)} PR heads moved", "quick")

        # ---- change views, from the cache only
        cache = session.cache()
        conn = cache.db.sqlite_connection()
        numbers = [p.number for p in world.pulls]
        per: list[float] = []
        cpu: list[float] = []
        sqls: list[int] = []
        diff_lines = 0
        missing = 0
        with counted(counter, rows, f"{len(numbers)} change views (`Session.change`)") as out:
            t0 = time.perf_counter()
            for n in numbers:
                with SqlCounter(conn) as sql:
                    s, c = time.perf_counter(), time.thread_time()
                    view = session.change(n)
                    per.append(time.perf_counter() - s)
                    cpu.append(time.thread_time() - c)
                sqls.append(sql.n)
                if view.change is None:
                    missing += 1
                else:
                    diff_lines += view.change.body_diff.count("\n")
            out["seconds"] = time.perf_counter() - t0
            out["note"] = (f"per view wall {_ms(per)}; CPU {_ms(cpu)}, {sum(cpu):.2f} s in all; "
                           f"SQL statements "
                           f"per view median "
                           f"{statistics.median(sqls):.0f}, max {max(sqls)}; "
                           f"{missing} without a head file; {diff_lines:,} body-diff lines")
        facts.append(breakdown(cache, numbers))

        # ---- timelines
        def backfill(step: str, **kw: Any) -> None:
            with counted(counter, rows, step) as out:
                r = asyncio.run(session.backfill_history(**kw))
                if r.error:
                    raise SystemExit(f"{step} failed: {r.error}")
                out["note"] = (f"{r.entries_done} of {r.total} entries walked, "
                               f"{r.failed} failed")

        backfill("history backfill (`Session.backfill_history()`, as the UI runs it)")
        backfill("history backfill, `all_states=True` (resting states too)",
                 all_states=True)
        slugs = sorted(world.entries)
        tper: list[float] = []
        tcpu: list[float] = []
        events = 0
        unknown = 0
        with counted(counter, rows, f"{len(slugs):,} timelines (`Session.timeline`)") as out:
            t0 = time.perf_counter()
            for slug in slugs:
                s, c = time.perf_counter(), time.thread_time()
                tl = session.timeline(slug)
                tper.append(time.perf_counter() - s)
                tcpu.append(time.thread_time() - c)
                events += len(tl.events)
                unknown += not tl.history_known
            out["seconds"] = time.perf_counter() - t0
            out["note"] = (f"per timeline wall {_ms(tper)}; CPU {_ms(tcpu)}, "
                           f"{sum(tcpu):.2f} s in all; "
                           f"{events:,} events; "
                           f"{unknown} without stored history")
        session.close()
    routes = ", ".join(f"{k} {v}" for k, v in counter.by_route.most_common(8))
    facts.append(f"Requests by route over the whole run: {routes}.")
    return rows, facts


def breakdown(cache: Any, numbers: list[int]) -> str:
    """Where a change view's time goes: the same steps `Session.change` takes, timed
    apart (this thread's CPU time, so other processes' load does not count) over the
    same PRs (a second pass, so the cache pages are warm for both)."""
    from rfctui.changes import compute_change, kind_word, main_text
    from rfctui.entry import entry_path, parse_entry

    t: Counter[str] = Counter()
    size = 0
    for n in numbers:
        c0 = time.thread_time()
        row = cache.pull(n)
        detail = cache.rfc(row.slug) if row.slug else None
        sha = str(cache.pr_rows([n]).get(n, {}).get("head_sha") or "")
        text = cache.head_text(n, sha)
        c1 = time.thread_time()
        main = None if kind_word(row.kind) == "propose" else main_text(detail)
        c2 = time.thread_time()
        path = entry_path(row.slug)
        for side in (main, text):
            if isinstance(side, str):
                parse_entry(path, side.encode())
                size += len(side)
        c3 = time.thread_time()
        compute_change(main, text if isinstance(text, str) else None, slug=row.slug,
                       kind=kind_word(row.kind))
        c4 = time.thread_time()
        all_heads = 0.0
        if detail is not None:
            cache.head_texts()
            all_heads = time.thread_time() - c4
        t["reads"] += c1 - c0
        t["dump"] += c2 - c1
        t["parse"] += c3 - c2
        t["change"] += c4 - c3
        t["heads"] += all_heads
    parse_share = t["parse"] / t["change"] if t["change"] else 0.0
    return (
        f"Where {len(numbers)} change views' time goes (CPU, timed apart, second pass): cache "
        f"reads of the PR, entry, head row and head file {t['reads']:.2f} s; rebuilding the "
        f"main side with `dump_entry` (yaml.dump) {t['dump']:.2f} s; `compute_change` "
        f"{t['change']:.2f} s, of which parsing both sides with `parse_entry` "
        f"(~{parse_share:.0%}; pure-Python `yaml.SafeLoader` subclass, {size / 1e6:.1f} MB "
        f"of text) {t['parse']:.2f} s and the rest field compare + difflib; "
        f"`Cache.head_texts()` — every open PR's head file, read again for each view of "
        f"an entry on main to find overlapping PRs — {t['heads']:.2f} s."
    )


def _sizes(sizes: list[int]) -> str:
    p = percentiles(sizes)
    return (f"mean {p['mean'] / 1000:.1f} KB, median {p['median'] / 1000:.1f} KB, "
            f"p90 {p['p90'] / 1000:.1f} KB, max {p['max'] / 1000:.0f} KB")


def render(rows: list[Row]) -> str:
    out = ["| step | requests | of which head files | wall s | notes |",
           "| --- | ---: | ---: | ---: | --- |"]
    for r in rows:
        heads = "–" if r.head_reads is None else str(r.head_reads)
        out.append(f"| {r.step} | {r.requests} | {heads} | {r.seconds:.2f} | {r.note} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--prs", type=int, default=200, help="open pull requests")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS.name}")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows, facts = run(args.entries, args.prs, args.latency_ms, args.seed)
    header = (f"Review benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
              f"{args.latency_ms:g} ms latency per request on 127.0.0.1, default client "
              f"concurrency (8), Python {platform.python_version()}, {platform.machine()}, "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
              f"total {time.perf_counter() - t0:.0f} s incl. setup.")
    text = (f"{header}\n\n" + "\n".join(f"- {f}" for f in facts) + "\n\n" + render(rows)
            + "\n")
    print(text)
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")
        log(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
