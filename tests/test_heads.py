"""Entry files at PR heads and the team file, read by the reconciler (issue 11 §1, §3;
issue 12 §1) against the sandbox.

Costs are counted on the wire: a recording transport in front of the sandbox logs every
request, so "fetched once" and "nothing extra" are request counts, not timings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from rfctui.db import MISSING, SCHEMA_VERSION, Cache, open_cache
from rfctui.gitea import GiteaClient
from rfctui.reconcile import Reconciler
from rfctui.results import SweepResult
from rfctui.rows import Reader
from rfctui.sandbox import Sandbox
from rfctui.teamfile import parse_team_file

OWNER, REPO, BOT = "rfcs", "meta", "rfc-bot"
HOST = "http://sandbox.local"
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
TEAM = ".rfctui.toml"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class Recorder(httpx.AsyncBaseTransport):
    """The sandbox's transport, logging each request; `fail_heads` makes the sandbox
    itself answer 500 to reads at a PR head (its fault switch, flipped per request)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.log: list[tuple[str, str, str]] = []  # (method, path tail, ref)
        self.fail_heads = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        tail = request.url.path.split(f"/repos/{OWNER}/{REPO}", 1)[-1]
        ref = request.url.params.get("ref", "")
        self.log.append((request.method, tail, ref))
        head_read = tail == "/file-contents" and ref not in ("", "main")
        if head_read and self.fail_heads:
            self.sb.faults.error_rate = 1.0
            try:
                return await self.sb.transport.handle_async_request(request)
            finally:
                self.sb.faults.error_rate = 0.0
        return await self.sb.transport.handle_async_request(request)

    def take(self) -> list[tuple[str, str, str]]:
        out, self.log = self.log, []
        return out


def head_reads(log: list[tuple[str, str, str]]) -> list[str]:
    """The refs of the requests that read a file at a PR head."""
    return [ref for _m, tail, ref in log if tail == "/file-contents" and ref != "main"]


def blob_reads(log: list[tuple[str, str, str]]) -> list[str]:
    return [tail for _m, tail, _ref in log if tail.startswith("/git/blobs/")]


def entry(slug: str, title: str = "T", arbiters: str = "[grace]") -> bytes:
    return (
        f"---\nslug: {slug}\ntitle: {title}\nstate: idea\nproposed_by: ada\n"
        f"proposed_at: 2026-01-01T00:00:00Z\nowners: [ada]\narbiters: {arbiters}\n"
        f"tags: [t]\n---\nWhy.\n"
    ).encode()


def open_pr(sb: Sandbox, branch: str, files: dict[str, bytes | None]) -> int:
    sb.commit_files(branch, files, f"work on {branch}")
    with api(sb) as c:
        r = c.post(f"/repos/{OWNER}/{REPO}/pulls",
                   json={"head": branch, "base": "main", "title": branch, "body": ""})
        assert r.status_code == 201, r.text
        return int(r.json()["number"])


def api(sb: Sandbox) -> httpx.Client:
    return httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                        headers={"Authorization": "token bot-token"})


def sweep(rec: Recorder, cache: Cache, kind: str = "quick_sweep") -> SweepResult:
    async def go() -> SweepResult:
        async with GiteaClient(HOST, "bot-token", transport=rec, retries=0,
                               backoff=0) as client:
            return await getattr(Reconciler(client, cache, OWNER, REPO, BOT), kind)()

    result = asyncio.run(go())
    assert result.ok, result.error
    return result


def head_rows(cache: Cache) -> dict[tuple[int, str], str | None]:
    m = cache.HeadFile
    return {(r.pr_number, r.head_sha): r.text for r in m.select()}


def pr_head(cache: Cache, number: int) -> str:
    sha = cache.pr_rows([number])[number]["head_sha"]
    assert isinstance(sha, str) and sha
    return sha


@pytest.fixture
def sb() -> Sandbox:
    s = Sandbox(clock=Clock())
    s.commit_files("main", {f"rfcs/e{i}.md": entry(f"e{i}") for i in range(5)}
                   | {"README.md": b"# meta\n"}, "seed")
    return s


@pytest.fixture
def rec(sb: Sandbox) -> Recorder:
    return Recorder(sb)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    c = open_cache(tmp_path / "cache.sqlite")
    yield c
    c.close()


# ---------------------------------------------------------------- PR heads


def test_schema_version_has_head_files(cache: Cache) -> None:
    # 3 added head_file; 4 dropped cached_rfc.search_text (issue 13).
    assert SCHEMA_VERSION >= 3 and cache.get_state("schema_version") == str(SCHEMA_VERSION)


def test_head_file_read_once_per_head(sb: Sandbox, rec: Recorder, cache: Cache) -> None:
    idea = open_pr(sb, "propose/new-idea", {"rfcs/new-idea.md": entry("new-idea", "New",
                                                                      "[grace, linus]")})
    claim = open_pr(sb, "claim/e1", {"rfcs/e1.md": entry("e1", "Claimed")})
    sweep(rec, cache, "resync")
    got = head_reads(rec.take())
    assert sorted(got) == sorted([pr_head(cache, idea), pr_head(cache, claim)])  # once each
    texts = cache.head_texts()
    assert texts[idea] == (pr_head(cache, idea), entry("new-idea", "New", "[grace, linus]")
                           .decode())
    assert texts[claim][1] is not None and "title: Claimed" in texts[claim][1]
    assert cache.head_text(idea, pr_head(cache, idea)) == texts[idea][1]
    assert cache.head_text(idea, "0" * 40) is MISSING
    # the UI's peewee-free reader agrees with the cache's
    reader = Reader(cache.db.sqlite_connection(), cache.clock)
    assert reader.head_texts() == texts

    # nothing changed: the quick sweep pays its two requests, no head is read again
    r = sweep(rec, cache)
    assert r.requests == 2 and head_reads(rec.take()) == []
    # a full sweep and a resync do not read them again either (a head is immutable)
    sweep(rec, cache, "full_sweep")
    sweep(rec, cache, "resync")
    assert head_reads(rec.take()) == []
    assert cache.pending_heads() == []


def test_head_read_again_when_the_head_moves(sb: Sandbox, rec: Recorder, cache: Cache) -> None:
    n = open_pr(sb, "edit/e2/1", {"rfcs/e2.md": entry("e2", "First")})
    other = open_pr(sb, "claim/e3", {"rfcs/e3.md": entry("e3", "Other")})
    sweep(rec, cache, "resync")
    old = pr_head(cache, n)
    rec.take()
    sb.commit_files("edit/e2/1", {"rfcs/e2.md": entry("e2", "Second")}, "push")
    sweep(rec, cache)
    new = pr_head(cache, n)
    assert new != old and head_reads(rec.take()) == [new]  # only the moved head
    assert cache.head_texts()[n][0] == new
    assert "title: Second" in (cache.head_texts()[n][1] or "")
    assert cache.head_texts()[other][1] is not None
    # the old head's row is dropped: one row per PR, its current head's
    assert set(head_rows(cache)) == {(n, new), (other, pr_head(cache, other))}


def test_file_absent_at_head_is_a_null_row(sb: Sandbox, rec: Recorder, cache: Cache) -> None:
    n = open_pr(sb, "edit/e4/1", {"rfcs/e4.md": None, "notes.txt": b"gone\n"})
    sweep(rec, cache, "resync")
    assert len(head_reads(rec.take())) == 1
    assert cache.head_texts()[n] == (pr_head(cache, n), None)
    assert cache.head_text(n, pr_head(cache, n)) is None  # absent, not MISSING
    sweep(rec, cache)
    assert head_reads(rec.take()) == []  # absent is an answer: not asked again


def test_closed_prs_are_never_fetched_but_merged_rows_stay(
    sb: Sandbox, rec: Recorder, cache: Cache
) -> None:
    closed = open_pr(sb, "claim/e0", {"rfcs/e0.md": entry("e0", "Closed")})
    merged = open_pr(sb, "metadata/e1", {"rfcs/e1.md": entry("e1", "Merged")})
    with api(sb) as c:
        c.patch(f"/repos/{OWNER}/{REPO}/pulls/{closed}", json={"state": "closed"}
                ).raise_for_status()
    sweep(rec, cache, "resync")
    assert head_reads(rec.take()) == [pr_head(cache, merged)]  # the closed one: never
    with api(sb) as c:
        c.post(f"/repos/{OWNER}/{REPO}/pulls/{merged}/merge", json={"Do": "merge"}
               ).raise_for_status()
    sweep(rec, cache)
    assert head_reads(rec.take()) == []
    assert cache.pull(merged).state == "merged"  # type: ignore[union-attr]
    # what a change view of the merged PR shows, offline
    assert "title: Merged" in (cache.head_texts()[merged][1] or "")
    assert closed not in cache.head_texts()


def test_failed_head_read_keeps_no_row_and_is_retried(
    sb: Sandbox, rec: Recorder, cache: Cache
) -> None:
    before = cache.export(volatile=False)
    n = open_pr(sb, "propose/fresh", {"rfcs/fresh.md": entry("fresh")})
    rec.fail_heads = True
    r = sweep(rec, cache)  # the sweep itself succeeds: its rows are written
    assert r.ok and cache.pull(n) is not None and cache.export(volatile=False) != before
    assert len(head_reads(rec.take())) == 1
    assert cache.head_text(n, pr_head(cache, n)) is MISSING and n not in cache.head_texts()
    assert cache.pending_heads() == [(n, pr_head(cache, n), "fresh")]
    rec.fail_heads = False
    r = sweep(rec, cache)  # nothing else changed: 2 + the retried head
    assert r.requests == 3 and head_reads(rec.take()) == [pr_head(cache, n)]
    assert "slug: fresh" in (cache.head_texts()[n][1] or "")


def test_a_failed_sweep_fetches_no_head(sb: Sandbox, rec: Recorder, cache: Cache) -> None:
    sweep(rec, cache, "resync")
    open_pr(sb, "propose/late", {"rfcs/late.md": entry("late")})
    sb.faults.error_rate = 1.0
    try:
        async def go() -> SweepResult:
            async with GiteaClient(HOST, "bot-token", transport=rec, retries=0,
                                   backoff=0) as client:
                return await Reconciler(client, cache, OWNER, REPO, BOT).quick_sweep()

        r = asyncio.run(go())
    finally:
        sb.faults.error_rate = 0.0
    assert not r.ok and head_rows(cache) == {}


# ---------------------------------------------------------------- the team file


def test_team_file_read_once_and_again_on_change(
    sb: Sandbox, rec: Recorder, cache: Cache
) -> None:
    sweep(rec, cache, "resync")
    assert cache.team_file() is None and blob_reads(rec.take()) == []  # absent: free
    v1 = '[stale]\nidea = "30d"\n'
    sb.commit_files("main", {TEAM: v1.encode()}, "team file")
    r = sweep(rec, cache)
    log = rec.take()
    assert len(blob_reads(log)) == 1 and r.requests == 2 + 1
    assert cache.team_file() == v1
    assert parse_team_file(cache.team_file()).thresholds["idea"] == timedelta(days=30)
    # main did not move: nothing extra; main moved elsewhere: the root tree says the
    # team file's blob is the same, so it is not read again
    r = sweep(rec, cache)
    assert r.requests == 2 and blob_reads(rec.take()) == []
    sb.commit_files("main", {"README.md": b"# meta v2\n", "rfcs/e0.md": entry("e0", "E")},
                    "other")
    sweep(rec, cache)
    assert blob_reads(rec.take()) == [] and cache.team_file() == v1
    sweep(rec, cache, "full_sweep")
    assert blob_reads(rec.take()) == []
    v2 = '[stale]\nidea = "10d"\n'
    sb.commit_files("main", {TEAM: v2.encode()}, "team file v2")
    sweep(rec, cache)
    assert len(blob_reads(rec.take())) == 1 and cache.team_file() == v2
    sb.commit_files("main", {TEAM: None}, "no team file")
    r = sweep(rec, cache)
    assert blob_reads(rec.take()) == [] and cache.team_file() is None and r.rows_changed >= 1
    # a resync reads it cold: absent stays absent at no cost
    sweep(rec, cache, "resync")
    assert cache.team_file() is None and blob_reads(rec.take()) == []


def test_malformed_team_file_is_stored_as_text(sb: Sandbox, rec: Recorder,
                                               cache: Cache) -> None:
    bad = b'[stale\nidea = "soon"\n\xff\n'
    sb.commit_files("main", {TEAM: bad}, "broken team file")
    r = sweep(rec, cache, "resync")
    assert r.ok and len(blob_reads(rec.take())) == 1
    text = cache.team_file()
    assert text is not None and text.startswith('[stale\nidea = "soon"')
    assert parse_team_file(text).error is not None  # reported there, never here
    state = json.loads(json.dumps(cache.state()))
    assert state["team_file_sha"] and state["last_ok"] == "1"


def test_team_file_and_heads_survive_reopen_offline(
    sb: Sandbox, rec: Recorder, tmp_path: Path
) -> None:
    sb.commit_files("main", {TEAM: b'[queue]\nidle_pr = "7d"\n'}, "team")
    n = open_pr(sb, "propose/kept", {"rfcs/kept.md": entry("kept")})
    path = tmp_path / "c.sqlite"
    with open_cache(path) as c:
        sweep(rec, c, "resync")
    with open_cache(path) as c:  # no network: only the file
        assert c.notice is None
        assert c.team_file() == '[queue]\nidle_pr = "7d"\n'
        text = c.head_text(n, pr_head(c, n))
        assert isinstance(text, str) and "slug: kept" in text


def test_refresh_leaves_the_head_to_the_next_sweep(sb: Sandbox, rec: Recorder,
                                                   cache: Cache) -> None:
    """An action waits for its targeted refresh: that one reads no head (1 round trip
    less per action); the next quick sweep does, once."""
    sweep(rec, cache, "resync")
    n = open_pr(sb, "propose/acted", {"rfcs/acted.md": entry("acted")})

    async def refresh() -> SweepResult:
        async with GiteaClient(HOST, "bot-token", transport=rec, retries=0,
                               backoff=0) as client:
            return await Reconciler(client, cache, OWNER, REPO, BOT).refresh(pr_number=n)

    rec.take()
    assert asyncio.run(refresh()).ok and head_reads(rec.take()) == []
    assert cache.pending_heads() == [(n, pr_head(cache, n), "acted")]
    sweep(rec, cache)
    assert head_reads(rec.take()) == [pr_head(cache, n)]
    assert cache.pending_heads() == []
