"""Sweep benchmark: the old design against rfctui's reconciler (issue 3, SPEC §4.1).

For each size it builds a sandbox meta repository with that many valid entries — by
default real-sized ones (``bench/realsize.py``: file sizes like the 640 real RFC texts of
BASELINES §9, mean 14.5 KB; ``--small`` for the old ~0.6 KB synthetic entries) — and
about half as many pull requests (every §5 kind; ~70 % closed or merged), serves it over
real HTTP on 127.0.0.1 with 20 ms of latency per request, and measures, each with its own
fresh client and request counter:

- ``baseline``: the old sweep (``bench/baseline.py``): N + 1 + PR pages, in series;
- ``resync``: a cold rebuild (``Reconciler.resync``) into a fresh, empty cache;
- ``full``: a full sweep on the warm cache, nothing changed;
- ``quick``: a quick sweep, nothing changed;
- ``quick+10``: a quick sweep after 5 entries and 5 pull requests changed out of band;
- ``quick after burst``: five quick sweeps, a minute apart, after up to 300 PR titles
  were edited inside one second (a bot's mass edit; issue 13): the first reads the
  burst, every later one must be 2 requests again.

It prints a markdown table and checks the targets: quick-unchanged ≤ 2 requests at
every size, cold resync of 1,000 entries ≥ 25× faster than the baseline (goal 50×;
issue 13, on real-sized entries), the 2nd–5th quick sweep after a burst 2 requests.
``--write`` also writes it to ``bench/results-sweep.md`` (never otherwise). Progress
goes to stderr. Usage::

    python bench/sweep.py                 # 100, 1000 and 5000 real-sized entries
    python bench/sweep.py --quick         # 100 only
    python bench/sweep.py --sizes 1000 --baseline-max 1000
    python bench/sweep.py --small         # the old small synthetic entries
    python bench/sweep.py --write         # also write bench/results-sweep.md

A 10,000-entry cold resync with the child's own peak RSS and the cache file's size is
``bench/resync.py``'s (a separate process; ``--sizes 10000`` here works but spends most
of its time in the sandbox's per-file last-commit lookups).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import api_root, baseline_sweep  # noqa: E402
from realsize import (  # noqa: E402
    RealEntry,
    claim_entry,
    draw_sizes,
    edit_entry,
    make_entry,
    metadata_entry,
)

from rfctui.db import open_cache  # noqa: E402
from rfctui.gitea import GiteaClient  # noqa: E402
from rfctui.reconcile import Reconciler  # noqa: E402
from rfctui.sandbox import Sandbox  # noqa: E402
from rfctui.sandbox.git import MODE_FILE, MODE_TREE, Signature, TreeEntry  # noqa: E402

OWNER, REPO, BOT, BOT_TOKEN = "rfcs", "meta", "rfc-bot", "bot-token"
LATENCY_MS = 20
RESULTS = Path(__file__).with_name("results-sweep.md")
KINDS = ("propose", "edit", "claim", "metadata")
PEOPLE = (("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- fixture


class StepClock:
    """A sandbox clock that moves one second per call (updated_at has 1 s resolution)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def entry_text(slug: str, i: int, *, title: str | None = None, body: str | None = None,
               owners: tuple[str, ...] = ("ada",), tags: tuple[str, ...] = ("bench",)) -> bytes:
    """A valid §2 entry; ``i`` picks the state so every §3 state is represented."""
    states = ("idea", "parked", "declined", "superseded", "withdrawn", "idea", "idea")
    state = states[i % len(states)]
    extra = ""
    if state == "superseded":
        extra = "superseded_by: other\n"
    text = (
        "---\n"
        f"slug: {slug}\n"
        f"title: {title or f'Benchmark entry number {i}'}\n"
        f"state: {state}\n"
        "id: null\nrepo: null\n"
        f"proposed_by: {PEOPLE[i % 2][0]}\n"
        "proposed_at: 2025-06-01T12:00:00Z\n"
        "graduated_at: null\ngraduated_by: null\n"
        f"owners: [{', '.join(owners)}]\n"
        "arbiters: [grace]\n"
        f"tags: [{', '.join(tags)}]\n"
        f"{extra}"
        "---\n"
        f"{body or f'Why entry {i} matters.' + chr(10) * 2 + 'Some detail. ' * 20}\n"
    )
    return text.encode()


class Texts:
    """The fixture's file bytes: real-sized entries (`realsize.make_entry`, sizes drawn
    for ``n`` entries, deterministic) or, with ``small``, the old `entry_text` ones.
    Entry ``i`` keeps the slug ``entry-<i>`` either way, so the PR and out-of-band-change
    logic below is the same for both."""

    def __init__(self, n: int, *, small: bool) -> None:
        self.small = small
        self.sizes = [] if small else draw_sizes(n)
        self._made: dict[int, RealEntry] = {}

    def real(self, i: int) -> RealEntry:
        if i not in self._made:
            self._made[i] = make_entry(i, self.sizes[i], slug=_slug(i))
        return self._made[i]

    def entry(self, i: int, *, title: str | None = None) -> bytes:
        if self.small:
            return entry_text(_slug(i), i, title=title)
        e = self.real(i)
        return (e.replaced(title=title) if title else e).data

    def head(self, kind: str, i: int, n_entries: int) -> tuple[str, bytes]:
        """(slug, file bytes) of PR ``i``'s head (see `open_pr`)."""
        if kind == "propose":
            slug = f"idea-{i:05d}"
            if self.small:
                return slug, entry_text(slug, 0, title=f"Proposed idea {i}")
            size = draw_sizes(1, 100_000 + i)[0]
            return slug, make_entry(200_000 + i, size, slug=slug, state="idea").data
        j = i % n_entries
        slug = _slug(j)
        if self.small:
            if kind == "edit":
                return slug, entry_text(slug, j, body=f"Edited body for {i}.")
            if kind == "claim":
                return slug, entry_text(slug, j, owners=("ada", "grace"))
            return slug, entry_text(slug, j, tags=("bench", "meta"))
        rng = random.Random(f"sweep-pr:{i}")
        e = self.real(j)
        if kind == "edit":
            return slug, edit_entry(e, rng).data
        if kind == "claim":
            return slug, claim_entry(e, "grace").data
        return slug, metadata_entry(e, rng).data


def _slug(i: int) -> str:
    return f"entry-{i:05d}"


def _trailer(text: str, who: int) -> str:
    login, name = PEOPLE[who % 2]
    return f"{text}\n\nOn-behalf-of: {name} <{login}>"


def branch_commit(sb: Sandbox, branch: str, name: str, data: bytes, message: str) -> None:
    """Commit ``rfcs/<name>`` on a new ``branch`` off main, straight into the git model.

    Why not ``commit_files``: it flattens and rebuilds the whole repository tree per
    commit; replacing one entry of the ``rfcs`` subtree is the same commit for a
    fraction of the setup time at 5,000 entries.
    """
    git = sb.git
    base = git.branches["main"]
    root = git.tree(git.commit(base).tree)
    rfcs = next(e for e in root if e.name == "rfcs")
    entries = [e for e in git.tree(rfcs.sha) if e.name != name]
    entries.append(TreeEntry(MODE_FILE, name, git.put_blob(data)))
    new_rfcs = git.write_tree(entries)
    new_root = git.write_tree([e for e in root if e.name != "rfcs"]
                              + [TreeEntry(MODE_TREE, "rfcs", new_rfcs)])
    sig = Signature("RFC Bot", "rfc-bot@example.org", sb.now())
    sb.set_branch(branch, git.write_commit(new_root, [base], sig, sig, message + "\n"))


def open_pr(sb: Sandbox, api: httpx.Client, kind: str, i: int, n_entries: int,
            texts: Texts) -> int:
    """Branch + commit, then the PR through the API with the bot token (§6.1).

    PR ``i`` touches its own entry so that merges never conflict.
    """
    who = i % 2
    slug, data = texts.head(kind, i, n_entries)
    branch = {"propose": f"propose/{slug}", "edit": f"edit/{slug}/1",
              "claim": f"claim/{slug}", "metadata": f"metadata/{slug}"}[kind]
    branch_commit(sb, branch, f"{slug}.md", data, _trailer(f"{kind} {slug}", who))
    r = api.post(f"/repos/{OWNER}/{REPO}/pulls", json={
        "head": branch, "base": "main", "title": f"{kind}: {slug}",
        "body": _trailer(f"Please {kind} {slug}.", who),
    })
    r.raise_for_status()
    return int(r.json()["number"])


@dataclass
class Fixture:
    """A built sandbox and the PRs left open (``change_ten`` edits, closes and merges them)."""

    sb: Sandbox
    open_prs: list[int]
    n_prs: int
    texts: Texts


def build_sandbox(n_entries: int, pr_ratio: float = 0.5, *, small: bool = False) -> Fixture:
    """A sandbox with ``n_entries`` valid entries and PRs in proportion, built fast.

    Entries go straight into git (``commit_files``, in chunks of 1,000); PRs through
    the in-process transport with no latency: ~30 % stay open, ~50 % are closed, ~20 %
    merged; kinds rotate through propose/edit/claim/metadata. The PRs are made while
    ``main`` holds the first 1,000 entries and the rest are imported afterwards: the
    sandbox's per-PR work (mergeability, diff stats) grows with the tree, and this keeps
    setup at 5,000 entries in about a minute. Finally every open PR's mergeability is
    computed once, as Gitea does in the background, so no timed request pays for it.
    """
    t0 = time.perf_counter()
    texts = Texts(n_entries, small=small)
    sb = Sandbox(clock=StepClock())
    chunk = 1000
    starts = list(range(0, n_entries, chunk))

    def import_chunk(start: int) -> None:
        files: dict[str, bytes | None] = {
            f"rfcs/{_slug(i)}.md": texts.entry(i)
            for i in range(start, min(n_entries, start + chunk))
        }
        sb.commit_files("main", files, f"Import entries {start}..", author=("RFC Bot", "bot@x"))

    import_chunk(starts[0])
    n_prs = int(n_entries * pr_ratio)
    open_prs: list[int] = []
    with api_client(sb) as api:
        for i in range(n_prs):
            kind = KINDS[i % len(KINDS)]
            number = open_pr(sb, api, kind, i, n_entries, texts)
            fate = i % 10
            if fate < 5:
                api.patch(f"/repos/{OWNER}/{REPO}/pulls/{number}",
                          json={"state": "closed"}).raise_for_status()
            elif fate < 7:
                api.post(f"/repos/{OWNER}/{REPO}/pulls/{number}/merge",
                         json={"Do": "merge"}).raise_for_status()
            else:
                open_prs.append(number)
            if (i + 1) % 500 == 0:
                log(f"  setup: {i + 1}/{n_prs} PRs")
    for start in starts[1:]:
        import_chunk(start)
    warm_mergeable(sb)
    log(f"  setup: {n_entries} entries, {n_prs} PRs in {time.perf_counter() - t0:.1f} s")
    return Fixture(sb, open_prs, n_prs, texts)


def warm_mergeable(sb: Sandbox) -> None:
    """List every open PR once in-process: the sandbox computes mergeability on first
    listing after ``main`` moves; real Gitea does it in a background queue."""
    with api_client(sb) as api:
        page = 1
        while True:
            r = api.get(f"/repos/{OWNER}/{REPO}/pulls",
                        params={"state": "open", "page": page, "limit": 50})
            r.raise_for_status()
            if 'rel="next"' not in r.headers.get("link", ""):
                break
            page += 1


@contextlib.contextmanager
def api_client(sb: Sandbox) -> Iterator[httpx.Client]:
    """An in-process bot client for setup and out-of-band changes (no network)."""
    with httpx.Client(transport=sb.transport, base_url=api_root("http://sandbox.local"),
                      headers={"Authorization": f"token {BOT_TOKEN}"}, timeout=60) as c:
        yield c


def change_ten(fx: Fixture, n_entries: int, round_: int) -> None:
    """5 entries changed out of band (one commit) and 5 PRs touched (3 edits, close, merge)."""
    files: dict[str, bytes | None] = {
        f"rfcs/{_slug(i)}.md": fx.texts.entry(i, title=f"Changed {round_} entry {i}")
        for i in range(5)
    }
    fx.sb.commit_files("main", files, f"Out-of-band edit {round_}", author=("Ada", "ada@x"))
    with api_client(fx.sb) as api:
        for number in fx.open_prs[:3]:
            api.patch(f"/repos/{OWNER}/{REPO}/pulls/{number}",
                      json={"title": f"Retitled {round_} #{number}"}).raise_for_status()
        close, merge = fx.open_prs[3], fx.open_prs[4]
        api.patch(f"/repos/{OWNER}/{REPO}/pulls/{close}",
                  json={"state": "closed"}).raise_for_status()
        api.post(f"/repos/{OWNER}/{REPO}/pulls/{merge}/merge",
                 json={"Do": "merge"}).raise_for_status()
        del fx.open_prs[3:5]
    warm_mergeable(fx.sb)


def burst(fx: Fixture, n: int) -> int:
    """Up to `n` PR titles edited inside one second (the sandbox clock held still), then
    the clock a minute on; returns how many PRs were edited."""
    step = fx.sb.clock
    held = step()
    fx.sb.clock = lambda: held
    count = min(n, fx.n_prs)
    try:
        with api_client(fx.sb) as api:
            for number in range(1, count + 1):  # the sandbox numbers PRs from 1
                api.patch(f"/repos/{OWNER}/{REPO}/pulls/{number}",
                          json={"title": f"Burst #{number}"}).raise_for_status()
    finally:
        fx.sb.clock = step
    minute_on(fx)
    return count


def minute_on(fx: Fixture) -> None:
    """The sandbox clock a minute on (the time between two ``rfctui --sync`` runs)."""
    clock = fx.sb.clock
    if isinstance(clock, StepClock):
        clock.now += timedelta(seconds=60)


# --------------------------------------------------------------------------- measuring


@dataclass
class Row:
    """One table row; ``requests``/``seconds`` are None when the mode was skipped."""

    size: int
    mode: str
    requests: int | None
    seconds: float | None
    note: str = ""


def round_trips(spans: list[tuple[float, float]]) -> int:
    """The longest chain of requests each sent after the previous one's answer: how
    many latencies a sweep waits for in a row (requests in flight together count once)."""
    depth: list[int] = []
    for i, (start, _end) in enumerate(spans):
        depth.append(1 + max((depth[j] for j, (_s, e) in enumerate(spans[:i]) if e <= start),
                             default=0))
    return max(depth, default=0)


async def run_sweep(base_url: str, cache_path: Path,
                    kind: str) -> tuple[int, float, Any, int]:
    """One sweep with a fresh client: (requests sent, wall seconds, SweepResult, round
    trips (see `round_trips`))."""
    cache = open_cache(cache_path)
    spans: list[tuple[float, float]] = []
    try:
        t0 = time.perf_counter()
        async with GiteaClient(base_url, BOT_TOKEN, timeout=60.0) as client:
            http = client._http  # the bench times each request it sends
            send = http.request

            async def timed(*args: Any, **kwargs: Any) -> httpx.Response:
                start = time.perf_counter()
                try:
                    return await send(*args, **kwargs)
                finally:
                    spans.append((start, time.perf_counter()))

            http.request = timed  # type: ignore[method-assign]
            rec = Reconciler(client, cache, OWNER, REPO, BOT)
            result = await getattr(rec, kind)()
            seconds = time.perf_counter() - t0
            requests = client.requests
    finally:
        with contextlib.suppress(Exception):
            cache.close()
    if not result.ok:
        raise RuntimeError(f"{kind} failed: {result.error}")
    spans.sort()
    return requests, seconds, result, round_trips(spans)


def measure(size: int, baseline_max: int, *, small: bool = False) -> list[Row]:
    """Every mode at one size, in order, against one served sandbox and one cache file."""
    log(f"size {size}: building sandbox ({'small' if small else 'real-sized'} entries)")
    fx = build_sandbox(size, small=small)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, fx.sb.serve(port=0) as base_url:
        fx.sb.faults.latency_ms = LATENCY_MS
        if size <= baseline_max:
            log(f"size {size}: baseline sweep (~{size * (LATENCY_MS + 3) / 1000:.0f} s)")
            res = baseline_sweep(base_url, OWNER, REPO, BOT_TOKEN, timeout=60, progress=log)
            rows.append(Row(size, "baseline", res.requests, res.seconds,
                            f"{len(res.entries)} entries, {len(res.pulls)} PRs"))
        else:
            rows.append(Row(size, "baseline", None, None,
                            f"skipped: above --baseline-max {baseline_max}"))
        cache_path = Path(tmp) / "cache.sqlite3"
        for mode, kind in (("resync", "resync"), ("full", "full_sweep"),
                           ("quick", "quick_sweep")):
            log(f"size {size}: {mode}")
            n, secs, result, rt = asyncio.run(run_sweep(base_url, cache_path, kind))
            rows.append(Row(size, mode, n, secs,
                            f"{result.entries} entries, {result.pulls} PRs, "
                            f"{result.rows_changed} rows changed, {rt} round trips"))
        fx.sb.faults.latency_ms = 0
        change_ten(fx, size, 1)
        fx.sb.faults.latency_ms = LATENCY_MS
        log(f"size {size}: quick after 5 entries + 5 PRs changed")
        n, secs, result, rt = asyncio.run(run_sweep(base_url, cache_path, "quick_sweep"))
        rows.append(Row(size, "quick, 5+5 changed", n, secs,
                        f"{result.rows_changed} rows changed, {rt} round trips"))
        fx.sb.faults.latency_ms = 0
        edited = burst(fx, 300)
        fx.sb.faults.latency_ms = LATENCY_MS
        log(f"size {size}: 5 quick sweeps after a burst of {edited} PR updates in 1 s")
        costs: list[int] = []
        trips: list[int] = []
        for i in range(5):
            n, secs_i, result, rt = asyncio.run(run_sweep(base_url, cache_path, "quick_sweep"))
            costs.append(n)
            trips.append(rt)
            if i == 0:
                secs, changed = secs_i, result.rows_changed
            minute_on(fx)
        rows.append(Row(size, "quick after burst", costs[0], secs,
                        f"burst of {edited} in 1 s, {changed} rows changed, {trips[0]} "
                        f"round trips; the next 4 sweeps: {', '.join(map(str, costs[1:]))} "
                        f"requests"))
        rows.append(Row(size, "quick after burst, 2nd–5th", max(costs[1:]), None,
                        f"the most requests of any later no-change sweep; round trips "
                        f"{', '.join(map(str, trips[1:]))}"))
    return rows


def render(rows: list[Row]) -> tuple[str, list[str]]:
    """The markdown table and the target-check lines."""
    base = {r.size: r.seconds for r in rows if r.mode == "baseline"}
    out = ["| size | mode | requests | wall s | ratio vs baseline (time) | notes |",
           "| ---: | --- | ---: | ---: | ---: | --- |"]
    for r in rows:
        b = base.get(r.size)
        if r.seconds is None:
            ratio = "–"
        elif r.mode == "baseline":
            ratio = "1.0×"
        elif b:
            ratio = f"{b / r.seconds:.1f}× faster"
        else:
            ratio = "n/a (no baseline)"
        req = "–" if r.requests is None else str(r.requests)
        secs = "–" if r.seconds is None else f"{r.seconds:.2f}"
        out.append(f"| {r.size:,} | {r.mode} | {req} | {secs} | {ratio} | {r.note} |")
    checks = []
    quick = [r for r in rows if r.mode == "quick"]
    ok = all(r.requests is not None and r.requests <= 2 for r in quick)
    checks.append(
        f"- quick sweep, nothing changed, ≤ 2 requests at every size: "
        f"{'PASS' if ok else 'FAIL'} ({', '.join(f'{r.size:,}: {r.requests}' for r in quick)})"
    )
    later = [r for r in rows if r.mode == "quick after burst, 2nd–5th"]
    ok = all(r.requests == 2 for r in later)
    one_trip = all(r.note.endswith("round trips 1, 1, 1, 1") for r in later)
    checks.append(
        f"- quick sweep after a burst of PR updates in 1 s, 2nd to 5th sweep = 2 requests "
        f"(goal: and 1 round trip): {'PASS' if ok else 'FAIL'}"
        f"{', goal met' if ok and one_trip else ''} "
        f"({', '.join(f'{r.size:,}: {r.requests}' for r in later)})"
    )
    res = next((r for r in rows if r.size == 1000 and r.mode == "resync"), None)
    base_1k = base.get(1000)
    if res is None or not base_1k or res.seconds is None:
        checks.append("- cold resync of 1,000 ≥ 25× faster than baseline (goal 50×): "
                      "not measured")
    else:
        speed = base_1k / res.seconds
        verdict = "PASS, goal met" if speed >= 50 else "PASS" if speed >= 25 else "FAIL"
        checks.append(f"- cold resync of 1,000 ≥ 25× faster than baseline (goal 50×): "
                      f"{verdict} ({speed:.1f}×)")
    return "\n".join(out), checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000",
                        help="comma-separated entry counts (default 100,1000,5000)")
    parser.add_argument("--quick", action="store_true", help="100 entries only")
    parser.add_argument("--small", action="store_true",
                        help="the old small synthetic entries (~0.6 KB) instead of "
                             "real-sized ones (bench/realsize.py)")
    parser.add_argument("--baseline-max", type=int, default=10**9,
                        help="skip the (slow, serial) baseline above this many entries")
    parser.add_argument("--write", action="store_true",
                        help=f"also write {RESULTS.name} (never written otherwise)")
    args = parser.parse_args(argv)
    sizes = [100] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",")]
    rows: list[Row] = []
    t0 = time.perf_counter()
    load0 = os.getloadavg()
    for size in sizes:
        rows.extend(measure(size, args.baseline_max, small=args.small))
    table, checks = render(rows)
    load1 = os.getloadavg()
    data = ("small synthetic entries (~0.6 KB, `--small`)" if args.small else
            "real-sized entries (bench/realsize.py: BASELINES §9 sizes, mean 14.5 KB)")
    header = (f"Sweep benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {data}, "
              f"{LATENCY_MS} ms latency per request on 127.0.0.1, "
              f"Python {platform.python_version()}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs, load average {load0[0]:.1f} at the start and "
              f"{load1[0]:.1f} at the end, total {time.perf_counter() - t0:.0f} s.")
    text = f"{header}\n\n{table}\n\nTargets:\n\n" + "\n".join(checks) + "\n"
    print(text)
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")
        log(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
