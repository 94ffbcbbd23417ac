"""True time in state (issue 11 §2): `rfctui.history` against the sandbox.

History is planted through the contents API with back-dated commits (the sandbox's
``dates: {author, committer}`` option, as Gitea's). Costs are request counts from
``client.requests`` (counts, not timings).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from rfctui.attention import EntryFacts, attention_queue
from rfctui.config import Config, Secret
from rfctui.db import Cache, open_cache
from rfctui.db.history_store import exact_slugs, history_tasks, stored_commits
from rfctui.gitea import GiteaClient
from rfctui.history import PHASE, HistoryBackfill, HistoryResult, run_of_state
from rfctui.reconcile import Reconciler
from rfctui.results import Progress, SweepResult
from rfctui.sandbox import Sandbox
from rfctui.session import Session

OWNER, REPO, BOT = "rfcs", "meta", "rfc-bot"
HOST = "http://sandbox.local"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def entry(slug: str, state: str, body: str = "Why.") -> bytes:
    return (
        f"---\nslug: {slug}\ntitle: Title {slug}\nstate: {state}\nproposed_by: ada\n"
        f"owners: [ada]\narbiters: [grace]\ntags: [t]\n---\n{body}\n"
    ).encode()


class Repo:
    """Commits on main through the API, with the dates we choose."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.http = httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                                 headers={"Authorization": "token bot-token"})

    def commit(self, when: str, message: str, files: dict[str, bytes | None]) -> str:
        ops: list[dict[str, Any]] = []
        for path, data in files.items():
            r = self.http.get(f"/repos/{OWNER}/{REPO}/contents/{path}", params={"ref": "main"})
            sha = r.json()["sha"] if r.status_code == 200 else None
            if data is None:
                ops.append({"operation": "delete", "path": path, "sha": sha})
                continue
            op = {"operation": "update" if sha else "create", "path": path,
                  "content": base64.b64encode(data).decode()}
            if sha:
                op["sha"] = sha
            ops.append(op)
        stamp = at(when).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = self.http.post(f"/repos/{OWNER}/{REPO}/contents", json={
            "files": ops, "message": message, "branch": "main",
            "author": {"name": "Ada", "email": "ada@example.com"},
            "dates": {"author": stamp, "committer": stamp},
        })
        assert r.status_code == 201, r.text
        return str(r.json()["commit"]["sha"])

    def states(self, slug: str, *steps: tuple[str, str, str]) -> None:
        """(when, state, body) commits of one entry, oldest first."""
        for when, state, body in steps:
            self.commit(when, f"{slug}: {state}", {f"rfcs/{slug}.md": entry(slug, state, body)})


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(clock=lambda: NOW)


@pytest.fixture
def repo(sb: Sandbox) -> Iterator[Repo]:
    r = Repo(sb)
    yield r
    r.http.close()


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    c = open_cache(tmp_path / "cache.sqlite", clock=lambda: NOW)
    yield c
    c.close()


def sweep(sb: Sandbox, cache: Cache, kind: str = "quick_sweep") -> SweepResult:
    async def go() -> SweepResult:
        async with GiteaClient(HOST, "bot-token", transport=sb.transport, retries=0,
                               backoff=0) as client:
            return await getattr(Reconciler(client, cache, OWNER, REPO, BOT,
                                             clock=lambda: NOW), kind)()

    result = asyncio.run(go())
    assert result.ok, result.error
    return result


def backfill(sb: Sandbox, cache: Cache, transport: Any = None, **kw: Any) -> HistoryResult:
    async def go() -> HistoryResult:
        async with GiteaClient(HOST, "bot-token", transport=transport or sb.transport,
                               retries=0, backoff=0) as client:
            return await HistoryBackfill(client, cache, OWNER, REPO,
                                         clock=lambda: NOW).run(**kw)

    return asyncio.run(go())


def since(cache: Cache) -> dict[str, str | None]:
    """slug -> state_since as `--export json` carries it."""
    return {r["slug"]: r["state_since"] for r in cache.export()["rfcs"]}


PARKED = (("2025-01-10T09:00:00", "idea", "Why."),
          ("2025-06-02T10:30:00", "parked", "Why."),
          ("2026-11-30T08:00:00", "parked", "Why, with a typo fixed."))


def test_run_of_state() -> None:
    assert run_of_state(["parked", "parked", "idea"], "parked") == 1
    assert run_of_state(["parked", "parked"], "parked") == 1  # since creation
    assert run_of_state(["parked", None, "idea"], "parked") is None  # must read more
    assert run_of_state(["idea", "parked"], "parked") is None  # not the newest state
    assert run_of_state(["parked", None, "parked", "idea"], "parked") is None


def test_parked_long_ago_with_a_recent_body_edit_is_stale(
    sb: Sandbox, repo: Repo, cache: Cache
) -> None:
    repo.states("old", *PARKED)
    sweep(sb, cache, "resync")
    assert since(cache)["old"] == "2026-11-30T08:00:00Z"  # the estimate: last commit
    assert "old" not in exact_slugs(cache)
    seen: list[Progress] = []

    async def go() -> HistoryResult:
        async with GiteaClient(HOST, "bot-token", transport=sb.transport) as client:
            return await HistoryBackfill(client, cache, OWNER, REPO,
                                         progress=seen.append).run()

    r = asyncio.run(go())
    assert (r.entries_done, r.failed, r.total, r.error) == (1, 0, 1, None)
    # the list, then the file at the parking commit (parked) and at creation (idea)
    assert r.requests == 3
    assert seen[0] == Progress(PHASE, 0, 1) and seen[-1] == Progress(PHASE, 1, 1)
    assert since(cache)["old"] == "2025-06-02T10:30:00Z"
    assert "old" in exact_slugs(cache)
    row = cache.rfc("old")
    assert row is not None and row.state_since is not None
    facts = EntryFacts(slug="old", title=row.title, state=row.state, owners=row.owners,
                       state_since=row.state_since, last_activity=row.last_entry_commit_at)
    items = attention_queue("ada", [facts], [], now=NOW)
    assert [(i.slug, i.reason) for i in items] == [("old", "stale")]
    assert attention_queue("grace", [facts], [], now=NOW) == []


def test_the_commit_list_is_kept_for_the_timeline(
    sb: Sandbox, repo: Repo, cache: Cache
) -> None:
    repo.states("old", *PARKED)
    sweep(sb, cache, "resync")
    backfill(sb, cache)
    commits = stored_commits(cache, ["old"])["old"]
    assert [c.message.strip() for c in commits] == ["old: parked"] * 2 + ["old: idea"]
    assert [c.state_after for c in commits] == ["parked", "parked", "idea"]
    assert all(c.read for c in commits)
    assert commits[0].at == at("2026-11-30T08:00:00")
    assert commits[-1].author_name == "Ada"
    assert commits[0].sha == cache.export()["rfcs"][0]["last_commit_sha"]


def test_the_latest_entry_into_the_state_counts(sb: Sandbox, repo: Repo, cache: Cache) -> None:
    repo.states("twice", ("2025-01-10T09:00:00", "idea", "a"),
                ("2025-03-01T09:00:00", "parked", "a"),
                ("2025-05-01T09:00:00", "idea", "a"),
                ("2025-08-15T09:00:00", "parked", "b"),
                ("2026-10-01T09:00:00", "parked", "c"),
                ("2026-11-01T09:00:00", "parked", "d"))
    repo.states("back", ("2025-02-01T09:00:00", "parked", "a"),
                ("2025-04-01T09:00:00", "idea", "a"),
                ("2026-11-20T09:00:00", "idea", "b"))
    repo.states("fresh", ("2025-02-01T09:00:00", "idea", "a"),
                ("2025-04-01T09:00:00", "idea", "b"))
    sweep(sb, cache, "resync")
    r = backfill(sb, cache)
    assert (r.entries_done, r.failed) == (3, 0)
    got = since(cache)
    assert got["twice"] == "2025-08-15T09:00:00Z"
    assert got["back"] == "2025-04-01T09:00:00Z"
    assert got["fresh"] == "2025-02-01T09:00:00Z"  # in its state since creation
    # twice: 1 list + reads at 10-01, 08-15, 05-01; back: 1 + 04-01, 02-01; fresh: 1 + 1
    assert r.requests == 4 + 3 + 2


def test_a_deleted_and_recreated_entry_counts_from_its_return(
    sb: Sandbox, repo: Repo, cache: Cache
) -> None:
    repo.states("gone", ("2025-01-10T09:00:00", "parked", "a"))
    repo.commit("2025-03-01T09:00:00", "drop", {"rfcs/gone.md": None})
    repo.states("gone", ("2025-09-01T09:00:00", "parked", "a"),
                ("2026-11-01T09:00:00", "parked", "b"))
    repo.commit("2025-04-01T09:00:00", "other", {"README.md": b"x\n"})
    sweep(sb, cache, "resync")
    backfill(sb, cache)
    assert since(cache)["gone"] == "2025-09-01T09:00:00Z"


def test_resumable_a_finished_entry_costs_nothing(
    sb: Sandbox, repo: Repo, cache: Cache
) -> None:
    repo.states("old", *PARKED)
    repo.states("other", ("2025-02-01T09:00:00", "parked", "a"),
                ("2026-11-01T09:00:00", "parked", "b"))
    repo.states("done", ("2025-02-01T09:00:00", "graduated", "a"))  # rests: never walked
    sweep(sb, cache, "resync")
    assert [t.slug for t in history_tasks(cache)] == ["old", "other"]
    first = backfill(sb, cache, slugs=["old"])  # as if killed after the first entry
    assert (first.entries_done, first.requests) == (1, 3)
    rest = backfill(sb, cache)
    assert (rest.entries_done, rest.total, rest.requests) == (1, 1, 2)  # only "other"
    again = backfill(sb, cache)
    assert (again.entries_done, again.total, again.requests, again.failed) == (0, 0, 0, 0)
    # A quick sweep with nothing changed adds nothing either.
    assert sweep(sb, cache).rows_changed == 0
    assert backfill(sb, cache).requests == 0


def test_a_resync_gets_the_exact_time_back_without_a_request(
    sb: Sandbox, repo: Repo, cache: Cache
) -> None:
    repo.states("old", *PARKED)
    sweep(sb, cache, "resync")
    backfill(sb, cache)
    sweep(sb, cache, "resync")
    assert since(cache)["old"] == "2026-11-30T08:00:00Z"  # the cold estimate again
    r = backfill(sb, cache)
    assert (r.entries_done, r.requests) == (1, 0)
    assert since(cache)["old"] == "2025-06-02T10:30:00Z"


def test_a_failed_request_keeps_the_previous_value(
    sb: Sandbox, repo: Repo, cache: Cache
) -> None:
    repo.states("old", *PARKED)
    sweep(sb, cache, "resync")
    sb.faults.down = True
    r = backfill(sb, cache)
    assert (r.entries_done, r.failed, r.total) == (0, 1, 1)
    assert r.error is not None and "\n" not in r.error and r.error.startswith("old: ")
    assert "bot-token" not in r.error
    assert since(cache)["old"] == "2026-11-30T08:00:00Z"
    sb.faults.down = False
    r = backfill(sb, cache)
    assert (r.entries_done, r.failed, r.requests) == (1, 0, 3)
    assert since(cache)["old"] == "2025-06-02T10:30:00Z"


class FailOldReads(httpx.AsyncBaseTransport):
    """Reads of a file at a commit fail (500); everything else is the sandbox's."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ref = request.url.params.get("ref") or ""
        if "/contents/" in request.url.path and len(ref) == 40:
            return httpx.Response(500, json={"message": "boom"})
        return await self.inner.handle_async_request(request)


def test_a_walk_cut_short_keeps_the_list_and_resumes(
    sb: Sandbox, repo: Repo, cache: Cache
) -> None:
    repo.states("old", *PARKED)
    sweep(sb, cache, "resync")
    r = backfill(sb, cache, transport=FailOldReads(sb.transport))
    assert (r.entries_done, r.failed, r.requests) == (0, 1, 2)  # the list, one read
    assert since(cache)["old"] == "2026-11-30T08:00:00Z"
    assert len(stored_commits(cache, ["old"])["old"]) == 3
    r = backfill(sb, cache)
    assert (r.entries_done, r.requests) == (1, 2)  # the two reads, not the list again
    assert since(cache)["old"] == "2025-06-02T10:30:00Z"


def test_an_observed_state_change_is_exact_at_once(
    sb: Sandbox, repo: Repo, cache: Cache
) -> None:
    repo.states("old", *PARKED)
    sweep(sb, cache, "resync")
    backfill(sb, cache)
    repo.states("old", ("2026-12-01T15:00:00", "idea", "Revived."))
    sweep(sb, cache)
    assert since(cache)["old"] == "2026-12-01T15:00:00Z"
    assert "old" in exact_slugs(cache)  # before any history request
    r = backfill(sb, cache)  # the list moved: 1 request, no read (all states known)
    assert (r.entries_done, r.requests) == (1, 1)
    assert since(cache)["old"] == "2026-12-01T15:00:00Z"
    assert [c.state_after for c in stored_commits(cache, ["old"])["old"]] == [
        "idea", "parked", "parked", "idea"]


def test_a_body_edit_keeps_the_exact_time(sb: Sandbox, repo: Repo, cache: Cache) -> None:
    repo.states("old", *PARKED)
    sweep(sb, cache, "resync")
    backfill(sb, cache)
    repo.states("old", ("2026-12-05T15:00:00", "parked", "Another typo."))
    sweep(sb, cache)
    assert since(cache)["old"] == "2025-06-02T10:30:00Z"
    assert "old" in exact_slugs(cache)
    r = backfill(sb, cache)  # refresh the list for the timeline: 1 request
    assert (r.entries_done, r.requests) == (1, 1)
    assert since(cache)["old"] == "2025-06-02T10:30:00Z"


def test_the_session_runs_it_and_never_raises(
    sb: Sandbox, repo: Repo, tmp_path: Path
) -> None:
    repo.states("old", *PARKED)
    config = Config(
        gitea_url=HOST, org=OWNER, meta_repo=REPO, bot_user=BOT,
        bot_token=Secret("bot-token"), user_token=Secret("ada-token"),
        cache_dir=tmp_path / "cache", data_dir=tmp_path / "data", transport=sb.transport,
    )
    session = Session(config, clock=lambda: NOW)
    try:
        assert asyncio.run(session.sweep("resync")).ok
        assert session.history_pending() == 1
        r = asyncio.run(session.backfill_history())
        assert (r.entries_done, r.failed, r.error) == (1, 0, None)
        assert session.history_pending() == 0
        assert since(session.cache())["old"] == "2025-06-02T10:30:00Z"
        sb.faults.down = True
        repo_moved = session.cache()
        with repo_moved.write():  # make it need work again, then fail to reach Gitea
            repo_moved.EntryHistory.delete().execute()
        r = asyncio.run(session.backfill_history())
        assert r.failed == 1 and r.error and "\n" not in r.error
        assert since(session.cache())["old"] == "2025-06-02T10:30:00Z"
    finally:
        sb.faults.down = False
        session.close()


class FailHistory(httpx.AsyncBaseTransport):
    """The commit lists fail (500); everything else is the sandbox's."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.fail = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.fail and request.url.path.endswith("/commits"):
            return httpx.Response(500, json={"message": "boom"})
        return await self.inner.handle_async_request(request)


def test_headless_resync_walks_the_history_too(
    sb: Sandbox, repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import json

    from rfctui.cli import main

    repo.states("old", *PARKED)
    config = tmp_path / "config.toml"
    config.write_text("")
    config.chmod(0o600)
    for key, value in {
        "RFCTUI_GITEA_URL": HOST, "RFCTUI_ORG": OWNER, "RFCTUI_META_REPO": REPO,
        "RFCTUI_BOT_USER": BOT, "RFCTUI_BOT_TOKEN": "bot-token",
        "RFCTUI_CONFIG": str(config), "RFCTUI_CACHE_DIR": str(tmp_path / "cache"),
        "RFCTUI_DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RFCTUI_USER_TOKEN", raising=False)
    failing = FailHistory(sb.transport)

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        rc = main(list(argv), stdout=out, stderr=err, config_flags={"transport": failing})
        return rc, out.getvalue(), err.getvalue()

    rc, out, err = run("--resync")  # the sweep works; the history cannot be read
    assert rc == 0 and out.startswith("resynced: 1 entries")
    last = err.splitlines()[-1]
    assert last.startswith("rfctui: time in state not read for 1 entries (old: ")
    assert last.endswith("read again next time") and "bot-token" not in err
    rc, out, _ = run("--export", "json")
    assert json.loads(out)["rfcs"][0]["state_since"] == "2026-11-30T08:00:00Z"
    failing.fail = False
    rc, out, err = run("--sync")  # nothing changed: the walk still owed is done now
    assert rc == 0 and "reading history 1/1" in err and "not read" not in err
    rc, out, _ = run("--export", "json")
    assert json.loads(out)["rfcs"][0]["state_since"] == "2025-06-02T10:30:00Z"
