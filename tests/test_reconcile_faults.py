"""Faults during sweeps leave the cache exactly as it was (SPEC §4.1, §4.2; issue 3).

- Gitea answering 500s, going down, or timing out *mid-sweep* (after k requests): the
  export is byte-identical before and after, and the result says why in one line
  without the token.
- A process killed with SIGKILL at random points while it sweeps: the cache still opens
  without a notice, passes ``PRAGMA quick_check`` and holds a consistent snapshot (its
  entry rows are exactly the entries of the ``rfcs/`` tree it says it synced).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import idea_entry as entry

from rfctui.db import open_cache
from rfctui.entry import EntryError, parse_entry
from rfctui.gitea import GiteaClient
from rfctui.reconcile import Reconciler
from rfctui.sandbox import Sandbox

OWNER, REPO, BOT, BOT_TOKEN = "rfcs", "meta", "rfc-bot", "bot-token"
HOST = "http://sandbox.local"
ROOT = Path(__file__).resolve().parent.parent


def seed(sb: Sandbox, n_entries: int, n_prs: int) -> None:
    """Entries straight into git; PRs of every kind through the API with the bot token."""
    sb.commit_files("main", {f"rfcs/e{i:04d}.md": entry(f"e{i:04d}", f"Entry {i}")
                             for i in range(n_entries)}, "seed", author=("Ada", "ada@x"))
    kinds = ("propose/n{i:04d}", "edit/e{i:04d}/1", "claim/e{i:04d}", "metadata/e{i:04d}")
    with httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                      headers={"Authorization": f"token {BOT_TOKEN}"}) as api:
        for i in range(n_prs):
            branch = kinds[i % 4].format(i=i)
            slug = branch.split("/")[1]
            sb.commit_files(branch, {f"rfcs/{slug}.md": entry(slug, f"PR {i}")}, f"pr {i}")
            r = api.post(f"/repos/{OWNER}/{REPO}/pulls", json={
                "head": branch, "base": "main", "title": f"PR {i}",
                "body": "Do it.\n\nOn-behalf-of: Ada Lovelace <ada>"})
            assert r.status_code == 201, r.text
            if i % 3 == 0:
                api.patch(f"/repos/{OWNER}/{REPO}/pulls/{r.json()['number']}",
                          json={"state": "closed"}).raise_for_status()


def change_things(sb: Sandbox, round_: int) -> None:
    """Entry edits, a deletion, a new entry and PR edits: a sweep has work to do."""
    files: dict[str, bytes | None] = {
        f"rfcs/e{i:04d}.md": entry(f"e{i:04d}", f"Changed {round_}/{i}") for i in range(5)
    }
    files[f"rfcs/e{10 + round_:04d}.md"] = None
    files[f"rfcs/new-{round_}.md"] = entry(f"new-{round_}", "New one")
    sb.commit_files("main", files, f"change {round_}", author=("Grace", "grace@x"))
    with httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                      headers={"Authorization": f"token {BOT_TOKEN}"}) as api:
        for number in (1, 2):
            api.patch(f"/repos/{OWNER}/{REPO}/pulls/{number}",
                      json={"title": f"Retitled {round_}"}).raise_for_status()


async def sweep(base_url: str, cache: Any, kind: str, *, transport: Any = None,
                timeout: float = 15.0) -> Any:
    async with GiteaClient(base_url, BOT_TOKEN, transport=transport, timeout=timeout) as c:
        return await getattr(Reconciler(c, cache, OWNER, REPO, BOT), kind)()


def dump(cache: Any) -> str:
    return json.dumps(cache.export(), sort_keys=True, default=str)


class Trip(httpx.AsyncBaseTransport):
    """Passes requests to ``inner``; just before request ``after + 1`` it calls ``fault``.

    Why: the sandbox's ``Faults`` are switches; this turns a switch on *mid-sweep*, at a
    chosen request, so each test case fails a different step of the sweep.
    """

    def __init__(self, inner: Any, after: int, fault: Callable[[], None]) -> None:
        self.inner, self.after, self.fault, self.count = inner, after, fault, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count == self.after + 1:
            self.fault()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def sandbox() -> Sandbox:
    sb = Sandbox()
    seed(sb, 40, 12)
    return sb


FAULTS: dict[str, tuple[Callable[[Sandbox], None], tuple[str, ...]]] = {
    "500": (lambda sb: setattr(sb.faults, "error_rate", 1.0), ("500", "502", "503", "server")),
    "down": (lambda sb: setattr(sb.faults, "down", True), ("unreachable", "connect", "down")),
}


@pytest.mark.parametrize("kind", ["quick_sweep", "full_sweep", "resync"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("after", [0, 1, 3])
def test_fault_mid_sweep_leaves_cache_untouched(
    tmp_path: Path, sandbox: Sandbox, kind: str, fault: str, after: int
) -> None:
    cache = open_cache(tmp_path / "c.sqlite3")
    try:
        assert asyncio.run(sweep(HOST, cache, "resync", transport=sandbox.transport)).ok
        change_things(sandbox, 1)
        before = dump(cache)
        apply, words = FAULTS[fault]
        trip = Trip(sandbox.transport, after, lambda: apply(sandbox))
        result = asyncio.run(sweep(HOST, cache, kind, transport=trip))
        assert trip.count > after, "the fault never fired: the sweep made too few requests"
        assert not result.ok
        assert result.error and "\n" not in result.error and BOT_TOKEN not in result.error
        assert any(w in result.error.lower() for w in words), result.error
        assert dump(cache) == before
        status = cache.sync_status()
        assert status.last_ok is False and status.last_error == result.error, status
        assert result.offline == (fault == "down") and status.offline == result.offline
        assert status.last_kind == kind.split("_")[0]
        # The same sweep without the fault does change the cache: the test can fail.
        sandbox.faults.error_rate, sandbox.faults.down = 0.0, False
        assert asyncio.run(sweep(HOST, cache, kind, transport=sandbox.transport)).ok
        assert dump(cache) != before
    finally:
        cache.close()


HTTP_FAULTS: dict[str, tuple[Callable[[Sandbox], None], tuple[str, ...]]] = {
    # Latency above the client's timeout: every attempt (retries too) times out.
    "timeout": (lambda sb: setattr(sb.faults, "latency_ms", 800), ("did not answer", "time")),
    # The server drops every connection.
    "down": (lambda sb: setattr(sb.faults, "down", True), ("cannot reach", "unreachable")),
}


@pytest.mark.parametrize("fault", sorted(HTTP_FAULTS))
@pytest.mark.parametrize("after", [0, 2])
def test_http_fault_mid_sweep_leaves_cache_untouched(
    tmp_path: Path, sandbox: Sandbox, fault: str, after: int
) -> None:
    """The same over real HTTP on loopback: timeouts and dropped connections."""
    cache = open_cache(tmp_path / "c.sqlite3")
    try:
        with sandbox.serve() as base_url:
            assert asyncio.run(sweep(base_url, cache, "resync")).ok
            change_things(sandbox, 1)
            before = dump(cache)
            apply, words = HTTP_FAULTS[fault]
            trip = Trip(httpx.AsyncHTTPTransport(), after, lambda: apply(sandbox))
            result = asyncio.run(sweep(base_url, cache, "full_sweep", transport=trip,
                                       timeout=0.15))
            sandbox.faults.latency_ms, sandbox.faults.down = 0, False
            assert trip.count > after
            assert not result.ok and result.offline
            assert result.error and "\n" not in result.error and BOT_TOKEN not in result.error
            assert any(w in result.error.lower() for w in words), result.error
            assert dump(cache) == before
    finally:
        cache.close()


# ------------------------------------------------------------------ SIGKILL


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from rfctui.reconcile import Reconciler
    from rfctui.db import open_cache
    from rfctui.gitea import GiteaClient

    base_url, path = sys.argv[1], sys.argv[2]

    async def main():
        cache = open_cache(path)
        print("started", flush=True)
        n = 0
        while True:
            kind = ("resync", "full_sweep", "quick_sweep")[n % 3]
            async with GiteaClient(base_url, "bot-token") as client:
                r = await getattr(Reconciler(client, cache, "rfcs", "meta", "rfc-bot"), kind)()
            print(kind, r.ok, r.error, flush=True)
            n += 1

    asyncio.run(main())
    """
)


def tree_entries(sb: Sandbox, tree_sha: str) -> dict[str, str]:
    """Valid entries (slug -> blob sha) of an ``rfcs/`` tree in the sandbox's git."""
    out: dict[str, str] = {}
    for item in sb.git.tree(tree_sha):
        if item.type != "blob" or not item.name.endswith(".md"):
            continue
        try:
            e = parse_entry(f"rfcs/{item.name}", sb.git.blob(item.sha))
        except EntryError:
            continue
        out[e.slug] = item.sha
    return out


@pytest.fixture
def editor() -> Iterator[Callable[[Sandbox], None]]:
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(sb: Sandbox) -> None:
        def run() -> None:
            n = 0
            while not stop.wait(0.05):
                n += 1
                change_things(sb, n % 7)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        threads.append(t)

    yield start
    stop.set()
    for t in threads:
        t.join(5)


def test_sigkill_during_sweeps_leaves_a_consistent_cache(
    tmp_path: Path, editor: Callable[[Sandbox], None]
) -> None:
    rng = random.Random(int(os.environ.get("RFCTUI_KILL_SEED", "20261129")))  # re-run other seeds
    sb = Sandbox()
    seed(sb, 300, 40)
    path = tmp_path / "cache.sqlite3"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    kills = 0
    seen: list[str] = []
    points: list[int] = []
    with sb.serve() as base_url:
        editor(sb)
        for _ in range(8):
            child = subprocess.Popen([sys.executable, "-c", CHILD, base_url, str(path)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            # Kill after a random number of finished sweeps (the child says each one),
            # then a random moment into the next: the same spread of kill points however
            # slow a loaded machine starts the interpreter or runs a sweep.
            assert child.stdout is not None
            finished = -1  # sweeps the child said it finished (after its "started")
            for _ in range(1 + rng.randint(0, 3)):  # "started", then that many sweeps
                if not child.stdout.readline():
                    break  # it died: reported below
                finished += 1
            points.append(finished)
            time.sleep(rng.uniform(0.0, 0.5))
            alive = child.poll() is None
            if alive:
                os.kill(child.pid, signal.SIGKILL)
                kills += 1
            out, err = child.communicate(timeout=10)
            assert alive, f"child died on its own: {err.decode()[-2000:]}"
            assert b"database is locked" not in out + err
            seen.append(check_consistent(sb, path))
    assert kills == 8
    # the kills landed after different numbers of finished sweeps (whatever the snapshot
    # kinds: with main moving under every sweep, most are "dirty")
    assert len(set(points)) > 1, (points, seen)


def check_consistent(sb: Sandbox, path: Path) -> str:
    """The cache opens cleanly and its rows are exactly the tree its watermark names.

    Returns which kind of snapshot it was, so the test can see the kills landed at
    different points.
    """
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    cache = open_cache(path)
    try:
        assert cache.notice is None, cache.notice
        export = cache.export()
        state = cache.state()
        if export["synced_at"] is None:
            assert not export["rfcs"] and not export["pulls"]
            return "empty"  # killed before the first sweep committed
        live = {r["slug"]: r["body_sha"] for r in export["rfcs"] if not r["removed"]}
        tree = state.get("rfcs_tree_sha")
        assert tree is not None, sorted(state)
        if tree == "":
            # The sweep saw main move while it fetched and asked for a re-list next time:
            # its rows are still real blobs of rfcs/ entries.
            for slug, sha in live.items():
                assert sb.git.kind(sha) == "blob", slug
            return "dirty"
        assert live == tree_entries(sb, tree), "cache rows do not match its watermark"
        # PR rows: every one is a real PR of ours, in a state it has been in.
        for pr in export["pulls"]:
            assert pr["pr_number"] in sb.pulls
        return state.get("last_kind") or "?"
    finally:
        cache.close()
