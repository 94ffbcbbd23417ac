"""Issue 13: a quick sweep after a burst of PR updates inside one second.

PR ``updated_at`` has one-second resolution (API-NOTES §9b), so the quick sweep re-reads
the watermark's second — until a Gitea ``Date`` received *before* a listing was sent
shows the server's clock had left that second (`rfctui.sweep_reads.pull_floor`,
`sealed_below`). Then a no-change quick sweep is 2 requests again (SPEC §4.1), and no
update is lost: an update in the watermark's second that a listing did not include is
still found (the property test, with the sandbox's clock under the test's control and
updates injected between — and inside — a sweep's requests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfctui import sweep_reads
from rfctui.db import Cache, format_dt, open_cache
from rfctui.gitea import GiteaClient
from rfctui.reconcile import Reconciler
from rfctui.results import SweepResult
from rfctui.sandbox import Sandbox

OWNER, REPO, BOT, TOKEN = "rfcs", "meta", "rfc-bot", "bot-token"
HOST = "http://sandbox.local"
T0 = datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC)


class Clock:
    """The sandbox clock: frozen until the test moves it (sub-second steps allowed)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Counting(httpx.AsyncBaseTransport):
    """Counts requests at the transport; `hook(n, request)` runs before request n is
    answered (an update racing the sweep), `late(n, response)` after it (an update
    after the query, before Gitea wrote ``Date``: see `test_*_property`)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.count = 0
        self.hook: Callable[[int, httpx.Request], None] | None = None
        self.late: Callable[[int, httpx.Request], bool] | None = None
        self.slow = ""  # a path fragment answered after a pause (the root tree, say)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        n = self.count
        if self.slow and self.slow in request.url.path:
            await asyncio.sleep(0.05)  # the other request of the sweep is sent meanwhile
        if self.hook is not None:
            self.hook(n, request)
        response = await self.sb.transport.handle_async_request(request)
        if self.late is not None and self.late(n, request):
            # Gitea writes Date when it answers, after the query ran: re-stamp it now.
            date = formatdate(self.sb.clock().timestamp(), usegmt=True)
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "date"]
            response = httpx.Response(response.status_code, headers=[*headers, ("Date", date)],
                                      content=await response.aread(), request=request)
        return response


def api(sb: Sandbox) -> httpx.Client:
    return httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                        headers={"Authorization": f"token {TOKEN}"})


def make_sandbox(n_prs: int) -> tuple[Sandbox, Clock, list[int]]:
    """A sandbox with `n_prs` open PRs of ours (claim branches sharing one head commit)."""
    clock = Clock()
    sb = Sandbox(clock=clock)
    sb.commit_files("main", {"rfcs/.keep": None, "README.md": b"# meta\n"}, "seed")
    head = sb.commit_files("claim/b0000", {"rfcs/b0000.md": b"x\n"}, "work")
    numbers: list[int] = []
    with api(sb) as c:
        for i in range(n_prs):
            branch = f"claim/b{i:04d}"
            sb.set_branch(branch, head)
            r = c.post(f"/repos/{OWNER}/{REPO}/pulls",
                       json={"head": branch, "base": "main", "title": f"claim {i}"})
            assert r.status_code == 201, r.text
            numbers.append(int(r.json()["number"]))
            if i % 7 == 6:
                clock.tick(1)
    clock.tick(5)
    return sb, clock, numbers


def patch(sb: Sandbox, number: int, **fields: Any) -> None:
    with api(sb) as c:
        c.patch(f"/repos/{OWNER}/{REPO}/pulls/{number}", json=fields).raise_for_status()


def sweep(transport: Counting, cache: Cache, kind: str = "quick_sweep") -> tuple[SweepResult, int]:
    """One sweep with a fresh client (as ``rfctui --sync``): (result, requests at the transport)."""
    async def go() -> SweepResult:
        async with GiteaClient(HOST, TOKEN, transport=transport, retries=0, backoff=0) as client:
            result: SweepResult = await getattr(Reconciler(client, cache, OWNER, REPO, BOT), kind)()
            return result

    before = transport.count
    result = asyncio.run(go())
    assert result.ok, result.error
    return result, transport.count - before


def gitea_pulls(sb: Sandbox) -> dict[int, tuple[str, str, str]]:
    """Every PR as Gitea has it: number -> (title, state, updated_at)."""
    out: dict[int, tuple[str, str, str]] = {}
    with api(sb) as c:
        page = 1
        while True:
            r = c.get(f"/repos/{OWNER}/{REPO}/pulls",
                      params={"state": "all", "sort": "oldest", "page": page, "limit": 50})
            r.raise_for_status()
            for p in r.json():
                state = "merged" if p.get("merged") else p["state"]
                out[p["number"]] = (p["title"], state, str(format_dt(p["updated_at"])))
            if not r.json():
                return out
            page += 1


def cached_pulls(cache: Cache) -> dict[int, tuple[str, str, str]]:
    return {
        p["pr_number"]: (p["title"], p["state"], str(format_dt(p["updated_at"])))
        for p in cache.export()["pulls"]
    }


@pytest.fixture
def cache(tmp_path: Path):
    c = open_cache(tmp_path / "cache.sqlite")
    yield c
    c.close()


# ---------------------------------------------------------------- the sandbox's Date


def test_sandbox_sends_date_from_its_clock_over_http_and_in_process() -> None:
    clock = Clock()
    sb = Sandbox(clock=clock)
    clock.tick(0.75)
    want = T0.replace(microsecond=0)
    with api(sb) as c:
        r = c.get(f"/repos/{OWNER}/{REPO}/pulls", params={"state": "all"})
    assert parsedate_to_datetime(r.headers["date"]) == want
    with sb.serve() as base, httpx.Client(base_url=f"{base}/api/v1") as c:
        r = c.get("/version")
    assert len(r.headers.get_list("date")) == 1
    assert parsedate_to_datetime(r.headers["date"]) == want


# ---------------------------------------------------------------- the regression


def test_burst_of_300_in_one_second_then_quick_sweeps_cost_two(cache: Cache) -> None:
    sb, clock, numbers = make_sandbox(300)
    transport = Counting(sb)
    sweep(transport, cache, "resync")
    clock.tick(10)
    _r, n = sweep(transport, cache)
    assert n == 2  # nothing changed yet
    clock.tick(10)
    burst_second = clock.now
    for number in numbers:  # 300 updates, all stamped the same second
        patch(sb, number, title=f"burst {number}")
    assert clock.now == burst_second
    first, n_first = sweep(transport, cache)  # still inside the burst's second
    assert first.rows_changed == 300
    assert cached_pulls(cache) == gitea_pulls(sb)
    assert n_first > 2  # 300 newer PRs are 7 pages
    clock.tick(2.5)  # the server's clock has left the burst's second (with SLACK)
    costs = [sweep(transport, cache)[1] for _ in range(6)]
    # The first sweep after the clock moved on re-reads the burst once more (the
    # first one's listing may have been read before the second ended); then 2, always.
    assert costs[0] <= n_first
    assert costs[1:] == [2, 2, 2, 2, 2], costs
    assert cached_pulls(cache) == gitea_pulls(sb)
    # An update after all that is still found, and costs page 1 only.
    clock.tick(1)
    patch(sb, numbers[7], title="later")
    r, n = sweep(transport, cache)
    assert r.rows_changed == 1 and n == 2
    assert cached_pulls(cache) == gitea_pulls(sb)


@pytest.mark.parametrize("tree_first", [False, True])
def test_burst_then_sweep_after_the_second_costs_more_once(cache: Cache, tree_first: bool) -> None:
    """The usual case (``rfctui --sync`` now and then): the first sweep after the
    burst reads it and makes sure of it, and every later no-change sweep is 2 requests.

    The listing goes with the root tree. When the tree's answer (and its ``Date``)
    came first, that ``Date`` proves the burst's second over and the burst is read
    once; when the tree is answered last (as over a network), the listing found the
    burst with no ``Date`` from before it to prove it, so that second is read once
    more, after the tree's ``Date`` (`SweepReads.pulls_proven`), rather than by the
    next sweep.
    """
    sb, clock, numbers = make_sandbox(120)
    transport = Counting(sb)
    transport.slow = "" if tree_first else "/git/trees/"
    sweep(transport, cache, "resync")
    for _ in range(2):
        clock.tick(60)
        assert sweep(transport, cache)[1] == 2
    clock.tick(60)
    for number in numbers:
        patch(sb, number, title=f"burst {number}")
    clock.tick(60)
    first, n_first = sweep(transport, cache)
    assert first.rows_changed == 120
    assert n_first == (1 + 3 if tree_first else 1 + 3 + 3)  # tree + 3 pages (+ 3 again)
    costs = [sweep(transport, cache)[1] for _ in range(4)]
    assert costs == [2, 2, 2, 2]
    assert cached_pulls(cache) == gitea_pulls(sb)


def test_a_server_without_date_keeps_the_old_floor(cache: Cache) -> None:
    """No ``Date`` header (a proxy dropped it): nothing is proven, the watermark's
    second is re-read every time, as before — never fewer reads than needed."""
    sb, clock, numbers = make_sandbox(60)

    class NoDate(Counting):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "date"]
            return httpx.Response(response.status_code, headers=headers,
                                  content=await response.aread(), request=request)

    transport = NoDate(sb)
    sweep(transport, cache, "resync")
    for number in numbers:
        patch(sb, number, title=f"burst {number}")
    clock.tick(30)
    costs = [sweep(transport, cache)[1] for _ in range(3)]
    assert costs == [3, 3, 3]  # tree + 2 pages: the burst second, every time
    assert cached_pulls(cache) == gitea_pulls(sb)


def test_a_date_far_ahead_of_gitea_hides_no_later_update(cache: Cache) -> None:
    """A ``Date`` from a clock an hour ahead (a proxy's) proves at most the watermark's
    second over: an update a few seconds later is still found."""
    sb, clock, numbers = make_sandbox(20)

    class Ahead(Counting):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            date = formatdate(clock().timestamp() + 3600, usegmt=True)
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "date"]
            return httpx.Response(response.status_code, headers=[*headers, ("Date", date)],
                                  content=await response.aread(), request=request)

    transport = Ahead(sb)
    sweep(transport, cache, "resync")
    for number in numbers[:5]:
        patch(sb, number, title=f"burst {number}")
    for _ in range(3):
        clock.tick(1)
        sweep(transport, cache)
    clock.tick(2)
    patch(sb, numbers[9], title="a few seconds later")
    r, n = sweep(transport, cache)
    assert r.rows_changed == 1 and n == 2
    assert cached_pulls(cache) == gitea_pulls(sb)


# ---------------------------------------------------------------- the property


STEP = st.one_of(
    st.tuples(st.just("update"), st.integers(0, 7), st.sampled_from(["title", "close", "open"])),
    st.tuples(st.just("tick"), st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0, 1.5, 2.0, 3.0])),
    # a sweep; an update of PR i injected before its request n (0 = none); `late`: the
    # update lands after the query of request n, and Date is written after it; `slow`:
    # the root tree is answered after the PR listing
    st.tuples(st.just("sweep"), st.integers(0, 4), st.integers(0, 7), st.booleans(),
              st.sampled_from([0.0, 0.5, 1.0]), st.booleans()),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=25))
def test_no_update_is_lost_whatever_the_interleaving_property(
    steps: list[tuple[Any, ...]], tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sweep_reads, "PULL_PAGE", 3)  # paging with a handful of PRs
    sb, clock, numbers = make_sandbox(8)
    cache = open_cache(tmp_path_factory.mktemp("burst") / "cache.sqlite")
    transport = Counting(sb)
    edits = iter(range(10**6))

    def update(i: int, how: str) -> None:
        number = numbers[i]
        if how == "close":
            patch(sb, number, state="closed")
        elif how == "open":
            patch(sb, number, state="open")
        else:
            patch(sb, number, title=f"edit {next(edits)}")

    try:
        sweep(transport, cache, "resync")
        for step in steps:
            if step[0] == "update":
                update(step[1], step[2])
            elif step[0] == "tick":
                clock.tick(step[1])
            else:
                _kind, at, i, late, tick, slow = step
                transport.slow = "/git/trees/" if slow else ""
                at += transport.count  # the sweep's request `at`, counted from here
                if at > transport.count and not late:
                    transport.hook = lambda n, _r, at=at, i=i: (
                        update(i, "title") if n == at else None)
                elif at > transport.count:
                    def after(n: int, request: httpx.Request, at: int = at, i: int = i,
                              tick: float = tick) -> bool:
                        if n != at:
                            return False
                        update(i, "title")  # same second as the query just answered
                        clock.tick(tick)  # ...and Date written a moment later
                        return True
                    transport.late = after
                sweep(transport, cache)
                transport.hook = transport.late = None
        clock.tick(3)  # then the final quick sweep, as the issue asks
        sweep(transport, cache)
        assert cached_pulls(cache) == gitea_pulls(sb)
    finally:
        cache.close()
