"""The reconciler against the sandbox: request costs, bad input, opened_by (§4.1, §6.3).

Request counts come from ``client.requests`` (a count, not a timing). Faults mid-sweep
are in test_cache_faults.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from rfctui.db import Cache, comparable_export, open_actions, open_cache
from rfctui.gitea import GiteaClient
from rfctui.reconcile import Reconciler
from rfctui.results import Progress, SweepResult
from rfctui.sandbox import Sandbox

OWNER, REPO, BOT = "rfcs", "meta", "rfc-bot"
HOST = "http://sandbox.local"
TOKENS = {"rfc-bot": "bot-token", "ada": "ada-token", "grace": "grace-token"}
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


class Clock:
    """Advances `step` seconds per call (PR timestamps have second resolution)."""

    def __init__(self, step: float = 1.0) -> None:
        self.now = T0
        self.step = step

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=self.step)
        return self.now


def entry(slug: str, title: str | None = None, state: str = "idea", body: str = "Why.",
          extra: str = "") -> bytes:
    grad = ("id: 3\nrepo: rfcs/x\ngraduated_at: 2026-02-01T00:00:00Z\ngraduated_by: grace\n"
            if state == "graduated" else "")
    return (
        f"---\nslug: {slug}\ntitle: {title or 'Title ' + slug}\nstate: {state}\n{grad}"
        f"proposed_by: ada\nproposed_at: 2026-01-01T00:00:00Z\nowners: [ada]\n"
        f"arbiters: [grace]\ntags: [t]\n{extra}---\n{body}\n"
    ).encode()


def api(sb: Sandbox, who: str = "rfc-bot") -> httpx.Client:
    return httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                        headers={"Authorization": f"token {TOKENS[who]}"})


def open_pr(sb: Sandbox, branch: str, body: str = "", who: str = "rfc-bot",
            title: str | None = None) -> int:
    slug = branch.split("/")[1] if "/" in branch else "x"
    sb.commit_files(branch, {f"rfcs/{slug}.md": entry(slug, f"On {branch}")}, f"work on {branch}")
    with api(sb, who) as c:
        r = c.post(f"/repos/{OWNER}/{REPO}/pulls",
                   json={"head": branch, "base": "main", "title": title or branch, "body": body})
        assert r.status_code == 201, r.text
        return int(r.json()["number"])


def edit_pr(sb: Sandbox, number: int, **fields: Any) -> None:
    with api(sb) as c:
        c.patch(f"/repos/{OWNER}/{REPO}/pulls/{number}", json=fields).raise_for_status()


def seed(sb: Sandbox, n: int) -> None:
    sb.commit_files("main", {f"rfcs/e{i:04d}.md": entry(f"e{i:04d}") for i in range(n)}
                    | {"README.md": b"# meta\n"}, "seed", author=("Ada", "ada@x"))


def sweep(sb: Sandbox, cache: Cache, kind: str = "quick_sweep", *, transport: Any = None,
          actions: Any = None, progress: Any = None, clock: Any = None,
          **kwargs: Any) -> SweepResult:
    async def go() -> SweepResult:
        async with GiteaClient(HOST, "bot-token", transport=transport or sb.transport,
                               retries=0, backoff=0) as client:
            rec = Reconciler(client, cache, OWNER, REPO, BOT, actions=actions,
                             progress=progress, clock=clock)
            return await getattr(rec, kind)(**kwargs)

    return asyncio.run(go())


@pytest.fixture
def sb() -> Sandbox:
    s = Sandbox(clock=Clock())
    seed(s, 40)
    return s


@pytest.fixture
def cache(tmp_path: Path):
    c = open_cache(tmp_path / "cache.sqlite")
    yield c
    c.close()


def rows(cache: Cache) -> dict[str, dict[str, Any]]:
    return {r["slug"]: r for r in cache.export()["rfcs"]}


def pulls(cache: Cache) -> dict[int, dict[str, Any]]:
    return {p["pr_number"]: p for p in cache.export()["pulls"]}


# ---------------------------------------------------------------- request costs


def test_quick_sweep_unchanged_costs_two_requests(sb: Sandbox, cache: Cache) -> None:
    open_pr(sb, "claim/e0001")
    first = sweep(sb, cache, "resync")
    assert first.ok and first.entries == 40 and first.pulls == 1
    for _ in range(2):
        r = sweep(sb, cache)
        assert r.ok and r.requests <= 2 and r.rows_changed == 0
    # a commit outside rfcs/ changes main but not the rfcs tree: still 2
    sb.commit_files("main", {"docs/x.md": b"x"}, "docs")
    r = sweep(sb, cache)
    assert r.ok and r.requests == 2 and r.rows_changed == 0


def test_quick_sweep_unchanged_is_two_requests_at_any_size(tmp_path: Path) -> None:
    big = Sandbox(clock=Clock())
    seed(big, 1100)  # two tree pages, 37 file-contents batches on the cold path
    for i in range(55):  # more than one page of PRs
        open_pr(big, f"claim/e{i:04d}")
    with open_cache(tmp_path / "big.sqlite") as c:
        cold = sweep(big, c, "resync")
        assert cold.ok and cold.entries == 1100 and cold.pulls == 55
        # root, tree pages, batches, newest-update probe, PR pages; then the entry file
        # at each open PR's head, once (its head_file row)
        assert cold.requests == 1 + 2 + 37 + 1 + 2 + 55
        r = sweep(big, c)
        assert r.ok and r.requests == 2 and r.rows_changed == 0
        full = sweep(big, c, "full_sweep")
        assert full.ok and full.rows_changed == 0
        # root, tree pages, recentupdate, open pages, rfcs history since the watermark
        assert full.requests == 1 + 2 + 1 + 2 + 1


def test_quick_sweep_fetches_only_what_changed(sb: Sandbox, cache: Cache) -> None:
    a = open_pr(sb, "claim/e0001")
    open_pr(sb, "edit/e0002/1")
    assert sweep(sb, cache, "resync").ok
    sb.commit_files("main", {"rfcs/e0003.md": entry("e0003", "Changed"),
                             "rfcs/new-one.md": entry("new-one")}, "edit")
    edit_pr(sb, a, title="Retitled")
    r = sweep(sb, cache)
    assert r.ok, r.error
    # root tree, rfcs tree, one file-contents batch for 2 entries, one PR page
    assert r.requests == 4
    assert r.entries_fetched == 2 and r.rows_changed == 3
    assert rows(cache)["e0003"]["title"] == "Changed" and "new-one" in rows(cache)
    assert pulls(cache)[a]["title"] == "Retitled"


def test_full_sweep_cost_is_constant_plus_changes(sb: Sandbox, cache: Cache) -> None:
    for i in range(3):
        open_pr(sb, f"claim/e{i:04d}")
    assert sweep(sb, cache, "resync").ok
    r = sweep(sb, cache, "full_sweep")
    assert r.ok and r.rows_changed == 0
    # root tree, rfcs tree, recentupdate page, open page, rfcs history since the watermark
    assert r.requests == 5
    sb.commit_files("main", {f"rfcs/e{i:04d}.md": entry(f"e{i:04d}", "v2") for i in range(35)},
                    "bulk edit")
    r = sweep(sb, cache, "full_sweep")
    assert r.ok and r.entries_fetched == 35
    assert r.requests == 5 + 2  # + ceil(35 / 30) batches


def test_full_sweep_refetches_an_entry_deleted_and_restored(sb: Sandbox, cache: Cache) -> None:
    """Same content back: the rfcs tree sha is unchanged, only the history says the entry
    was committed to. The full sweep reads that history (1 request) and refetches just
    that entry, so its last commit is the restoring one, as a cold read has it."""
    assert sweep(sb, cache, "resync").ok
    old = rows(cache)["e0004"]["last_commit_sha"]
    sb.commit_files("main", {"rfcs/e0004.md": None}, "delete")
    restore = sb.commit_files("main", {"rfcs/e0004.md": entry("e0004")}, "restore")
    q = sweep(sb, cache)
    assert q.ok and q.requests == 2 and rows(cache)["e0004"]["last_commit_sha"] == old
    r = sweep(sb, cache, "full_sweep")
    assert r.ok and r.entries_fetched == 1 and r.requests == 5 + 1
    assert rows(cache)["e0004"]["last_commit_sha"] == restore
    r = sweep(sb, cache, "full_sweep")  # the watermark moved: nothing again
    assert r.ok and r.entries_fetched == 0 and r.requests == 5 and r.rows_changed == 0


def test_full_sweep_gets_prs_that_left_the_open_list(sb: Sandbox, cache: Cache) -> None:
    a = open_pr(sb, "claim/e0001")
    b = open_pr(sb, "metadata/e0002")
    assert sweep(sb, cache, "resync").ok
    edit_pr(sb, a, state="closed")
    with api(sb) as c:
        c.post(f"/repos/{OWNER}/{REPO}/pulls/{b}/merge", json={"Do": "merge"}).raise_for_status()
    r = sweep(sb, cache, "full_sweep")
    assert r.ok
    assert pulls(cache)[a]["state"] == "closed" and pulls(cache)[b]["state"] == "merged"


def test_resync_equals_incremental(sb: Sandbox, tmp_path: Path) -> None:
    warm = open_cache(tmp_path / "warm.sqlite")
    assert sweep(sb, warm, "quick_sweep").ok  # a first quick sweep builds from nothing
    n1 = open_pr(sb, "propose/brand-new", body="Idea.\n\nOn-behalf-of: Grace Hopper <grace>")
    n2 = open_pr(sb, "edit/e0005/1")
    open_pr(sb, "feature/not-ours")
    assert sweep(sb, warm).ok
    sb.commit_files("main", {"rfcs/e0001.md": entry("e0001", state="parked"),
                             "rfcs/e0002.md": None,
                             "rfcs/e0009.md": entry("e0009", body="New body")}, "edits")
    edit_pr(sb, n1, title="Brand new idea")
    edit_pr(sb, n2, state="closed")
    assert sweep(sb, warm).ok
    assert sweep(sb, warm, "full_sweep").ok
    cold = open_cache(tmp_path / "cold.sqlite")
    assert sweep(sb, cold, "resync").ok
    assert comparable_export(warm.export()) == comparable_export(cold.export())
    assert rows(warm)["e0002"]["removed"] and "e0002" not in rows(cold)
    warm.close()
    cold.close()


def test_resync_replaces_everything_in_one_go(sb: Sandbox, cache: Cache) -> None:
    assert sweep(sb, cache, "resync").ok
    sb.commit_files("main", {"rfcs/e0001.md": None}, "delete")
    r = sweep(sb, cache, "resync")
    assert r.ok and r.entries == 39 and "e0001" not in rows(cache)


def test_progress_is_reported(sb: Sandbox, cache: Cache) -> None:
    seen: list[Progress] = []
    assert sweep(sb, cache, "resync", progress=seen.append).ok
    phases = {p.phase for p in seen}
    assert {"fetching entries", "listing pull requests", "writing"} <= phases
    fetch = [p for p in seen if p.phase == "fetching entries"]
    assert fetch[-1].done == fetch[-1].total == 40


# ---------------------------------------------------------------- bad input


def test_malformed_entries_are_skipped_and_reported(sb: Sandbox, cache: Cache) -> None:
    big_body = "x" * (5 * 1024 * 1024)
    sb.commit_files("main", {
        "rfcs/bad-yaml.md": b"---\ntitle: [unclosed\n---\nbody\n",
        "rfcs/no-slug.md": b"---\ntitle: No slug\nstate: idea\n---\nbody\n",
        "rfcs/mismatch.md": entry("other-slug"),
        "rfcs/latin1.md": b"---\nslug: latin1\ntitle: caf\xe9\nstate: idea\n---\n",
        "rfcs/Bad_Name.md": entry("bad-name"),
        "rfcs/notes.txt": b"not an entry",
        "rfcs/sub/deep.md": entry("deep"),
        "rfcs/huge.md": entry("huge", body=big_body),
        "rfcs/extra-keys.md": entry("extra-keys", extra="waiting_on: budget\nx_custom: [1, 2]\n"),
    }, "odd files")
    r = sweep(sb, cache, "resync")
    assert r.ok, r.error
    skipped = dict(r.skipped)
    assert set(skipped) == {"rfcs/bad-yaml.md", "rfcs/no-slug.md", "rfcs/mismatch.md",
                            "rfcs/latin1.md", "rfcs/Bad_Name.md"}
    assert "YAML" in skipped["rfcs/bad-yaml.md"]
    assert "slug" in skipped["rfcs/no-slug.md"] and "missing" in skipped["rfcs/no-slug.md"]
    assert "does not match" in skipped["rfcs/mismatch.md"]
    assert "UTF-8" in skipped["rfcs/latin1.md"]
    assert "not a valid slug" in skipped["rfcs/Bad_Name.md"]
    got = rows(cache)
    assert len(got["huge"]["body"]) == len(big_body)
    assert got["extra-keys"]["extra"] == {"waiting_on": "budget", "x_custom": [1, 2]}
    assert not {"deep", "notes", "bad-yaml", "other-slug", "bad-name"} & set(got)
    assert r.entries == 42
    # unchanged quick sweep: still reported, nothing re-fetched
    again = sweep(sb, cache)
    assert again.requests == 2 and dict(again.skipped) == skipped


def test_entry_that_becomes_malformed_keeps_its_previous_row(sb: Sandbox, cache: Cache) -> None:
    assert sweep(sb, cache, "resync").ok
    before = rows(cache)["e0004"]
    sb.commit_files("main", {"rfcs/e0004.md": b"---\nslug: e0004\ntitle: [x\n---\n"}, "break")
    r = sweep(sb, cache)
    assert r.ok and [p for p, _ in r.skipped] == ["rfcs/e0004.md"]
    assert rows(cache)["e0004"] == before
    r = sweep(sb, cache, "full_sweep")  # the broken blob is remembered: not fetched again
    assert r.entries_fetched == 0 and [p for p, _ in r.skipped] == ["rfcs/e0004.md"]
    sb.commit_files("main", {"rfcs/e0004.md": entry("e0004", "Fixed")}, "fix")
    r = sweep(sb, cache)
    assert r.skipped == [] and rows(cache)["e0004"]["title"] == "Fixed"


def test_foreign_and_invalid_branches_are_ignored(sb: Sandbox, cache: Cache) -> None:
    ours = open_pr(sb, "claim/e0001")
    for branch in ("feature/x", "propose/Bad_Slug", "claim/e0001/extra", "edit/e0001/01",
                   "edit/e0001", "proposeX/e0001"):
        sb.commit_files(branch, {"docs/y.md": branch.encode()}, "foreign")
        with api(sb) as c:
            r = c.post(f"/repos/{OWNER}/{REPO}/pulls",
                       json={"head": branch, "base": "main", "title": branch})
            assert r.status_code == 201, r.text
    r = sweep(sb, cache, "resync")
    assert r.ok and list(pulls(cache)) == [ours]
    # the foreign PRs are known: an unchanged quick sweep does not fall back to a re-list
    assert sweep(sb, cache).requests == 2


# ---------------------------------------------------------------- removed, deleted, refresh


def test_removed_entries_are_flagged_and_come_back(sb: Sandbox, cache: Cache) -> None:
    assert sweep(sb, cache, "resync").ok
    sb.commit_files("main", {"rfcs/e0007.md": None}, "remove")
    r = sweep(sb, cache)
    assert r.ok and r.entries == 39
    assert rows(cache)["e0007"]["removed"] is True
    items = {i.slug: i for i in cache.list_items()}
    assert items["e0007"].removed
    sb.commit_files("main", {"rfcs/e0007.md": entry("e0007", "Back")}, "restore")
    assert sweep(sb, cache, "full_sweep").ok
    assert rows(cache)["e0007"]["removed"] is False and rows(cache)["e0007"]["title"] == "Back"


def test_deleted_pr_is_noticed_by_the_count(sb: Sandbox, cache: Cache) -> None:
    a = open_pr(sb, "claim/e0001")
    b = open_pr(sb, "claim/e0002")
    assert sweep(sb, cache, "resync").ok
    with sb.lock:
        del sb.pulls[a]  # out of band: Gitea admins can delete issues/PRs
    r = sweep(sb, cache)
    assert r.ok and set(pulls(cache)) == {b}


def test_same_second_updates_are_not_missed(tmp_path: Path) -> None:
    frozen = Sandbox(clock=lambda: T0)  # every timestamp is the same second
    seed(frozen, 3)
    n = open_pr(frozen, "claim/e0001")
    with open_cache(tmp_path / "c.sqlite") as c:
        assert sweep(frozen, c, "resync").ok
        edit_pr(frozen, n, title="Edited in the same second")
        assert sweep(frozen, c).ok
        assert pulls(c)[n]["title"] == "Edited in the same second"
        m = open_pr(frozen, "claim/e0002")
        assert sweep(frozen, c).ok and m in pulls(c)


def test_refresh_touches_one_pr_and_one_entry(sb: Sandbox, cache: Cache) -> None:
    assert sweep(sb, cache, "resync").ok
    n = open_pr(sb, "claim/e0003", body="Mine.\n\nOn-behalf-of: Ada Lovelace <ada>")
    sb.commit_files("main", {"rfcs/e0003.md": entry("e0003", "Refreshed")}, "edit")
    r = sweep(sb, cache, "refresh", slug="e0003", pr_number=n)
    assert r.ok and r.requests == 2  # the PR's head file: the next sweep reads it
    assert pulls(cache)[n]["opened_by"] == "ada"
    assert rows(cache)["e0003"]["title"] == "Refreshed"
    # the next quick sweep sees consistent counts: no full re-list
    q = sweep(sb, cache)
    assert q.ok and q.requests <= 4 and q.rows_changed == 0
    assert cache.head_texts()[n][1] is not None  # that sweep read the new PR's head
    sb.commit_files("main", {"rfcs/e0003.md": None}, "delete")
    r = sweep(sb, cache, "refresh", slug="e0003")
    assert r.ok and r.requests == 1 and rows(cache)["e0003"]["removed"]


def test_an_ended_pr_keeps_its_own_head_whichever_read_stored_it(
    sb: Sandbox, cache: Cache
) -> None:
    """``head_sha`` is refs/pull/N/head (issue 9 item 8): after #1 is merged, a new claim
    #2 moves ``claim/e0001``; the single GET of #1 then reads the live branch (#2's
    commit), the list reads #1's ref. A refresh and a full sweep's GET of a PR that left
    the open list store #1's own head, at the cost the module docstring states."""
    a = open_pr(sb, "claim/e0001")
    assert sweep(sb, cache, "resync").ok
    with api(sb) as c:
        c.post(f"/repos/{OWNER}/{REPO}/pulls/{a}/merge", json={"Do": "merge"}).raise_for_status()
    own = sb.pull_refs[a]
    b = open_pr(sb, "claim/e0001")  # a new commit on the same branch
    assert sb.git.branches["claim/e0001"] != own
    r = sweep(sb, cache, "refresh", pr_number=a)  # cached as open: + git/refs
    assert r.ok and r.requests == 2
    assert pulls(cache)[a]["state"] == "merged" and pulls(cache)[a]["head_sha"] == own
    r = sweep(sb, cache, "refresh", pr_number=a)  # cached as merged: the stored value
    assert r.ok and r.requests == 1 and r.rows_changed == 0
    # The full sweep's GET of a PR it has as open that is no longer open: the same.
    with api(sb) as c:
        c.post(f"/repos/{OWNER}/{REPO}/pulls/{b}/merge", json={"Do": "merge"}).raise_for_status()
    own_b = sb.pull_refs[b]
    open_pr(sb, "claim/e0001")
    assert sweep(sb, cache, "resync").ok
    with cache.write():  # the incremental listing must not see #b: force the GET path
        cache.set_state({"pulls_updated_at": "2099-01-01T00:00:00Z"})
    edit_pr(sb, b + 1, state="closed")
    sb.commit_files("claim/e0001", {"rfcs/e0001.md": entry("e0001", "Later")}, "later")
    r = sweep(sb, cache, "full_sweep")
    assert r.ok and pulls(cache)[b + 1]["state"] == "closed"
    assert pulls(cache)[b + 1]["head_sha"] == sb.pull_refs[b + 1] != sb.git.branches[
        "claim/e0001"]
    assert pulls(cache)[b]["head_sha"] == own_b
    # Branch gone: head.ref is refs/pull/N/head and head.sha its commit; no extra request.
    sb.delete_branch("claim/e0001")
    r = sweep(sb, cache, "refresh", pr_number=a)
    assert r.ok and r.requests == 1 and pulls(cache)[a]["head_sha"] == own


def test_refresh_rejects_a_bad_slug_without_a_request(sb: Sandbox, cache: Cache) -> None:
    r = sweep(sb, cache, "refresh", slug="../../etc/passwd")
    assert not r.ok and r.requests == 0 and "invalid slug" in (r.error or "")


# ---------------------------------------------------------------- opened_by (§6.3)


def test_opened_by_resolution(sb: Sandbox, cache: Cache, tmp_path: Path) -> None:
    direct = open_pr(sb, "claim/e0001", who="ada",
                     body="x\n\nOn-behalf-of: Grace Hopper <grace>")  # Gitea's author wins
    logged = open_pr(sb, "claim/e0002", body="x\n\nOn-behalf-of: Ada Lovelace <ada>")
    trailer = open_pr(sb, "claim/e0003", body="Why.\n\nOn-behalf-of: Grace Hopper <grace>")
    buried = open_pr(sb, "claim/e0004",
                     body="On-behalf-of: Grace Hopper <grace>\n\nJust text at the end.")
    plain = open_pr(sb, "claim/e0005", body="")
    log = open_actions(tmp_path / "actions.sqlite")
    action = log.add("open_claim_pr", "e0002", "grace", {"note": "claim"})
    log.mark_done(action, logged)
    r = sweep(sb, cache, "resync", actions=log)
    assert r.ok
    got = {n: p["opened_by"] for n, p in pulls(cache).items()}
    assert got == {direct: "ada", logged: "grace", trailer: "grace", buried: BOT, plain: BOT}
    assert pulls(cache)[direct]["user_login"] == "ada"
    log.close()


# ---------------------------------------------------------------- state_since


def test_state_since(sb: Sandbox, cache: Cache) -> None:
    sb.commit_files("main", {"rfcs/grad.md": entry("grad", state="graduated"),
                             "rfcs/parked.md": entry("parked", state="parked")}, "more")
    assert sweep(sb, cache, "resync").ok
    got = rows(cache)
    assert got["e0001"]["state_since"] == "2026-01-01T00:00:00Z"  # idea: proposed_at
    assert got["grad"]["state_since"] == "2026-02-01T00:00:00Z"  # graduated_at
    assert got["parked"]["state_since"] == got["parked"]["last_entry_commit_at"]
    sb.commit_files("main", {"rfcs/e0001.md": entry("e0001", state="declined")}, "decline")
    sb.commit_files("main", {"rfcs/e0002.md": entry("e0002", body="only the body")}, "body")
    assert sweep(sb, cache).ok
    got = rows(cache)
    assert got["e0001"]["state_since"] == got["e0001"]["last_entry_commit_at"]
    assert got["e0001"]["state_since"] > "2026-05"
    assert got["e0002"]["state_since"] == "2026-01-01T00:00:00Z"  # same state: kept


# ---------------------------------------------------------------- faults
# Faults mid-sweep (500s, down, timeouts) leaving the cache untouched: test_cache_faults.py.


def test_concurrent_writer_makes_the_sweep_gather_again(sb: Sandbox, tmp_path: Path) -> None:
    """Another process writing between our read and our write: we redo, never mix."""
    path = tmp_path / "c.sqlite"
    mine, other = open_cache(path), open_cache(path)
    assert sweep(sb, mine, "resync").ok
    sb.commit_files("main", {"rfcs/e0001.md": entry("e0001", "v2")}, "edit")
    fired: list[bool] = []

    def meddle(p: Progress) -> None:
        if p.phase == "writing" and p.done == 0 and not fired:
            fired.append(True)
            done: list[SweepResult] = []  # a complete sweep by "another process"
            t = threading.Thread(target=lambda: done.append(sweep(sb, other, "resync")))
            t.start()
            t.join(30)
            assert done and done[0].ok

    out: list[SweepResult] = []
    t = threading.Thread(target=lambda: out.append(sweep(sb, mine, progress=meddle)))
    t.start()
    t.join(30)
    assert fired and out and out[0].ok
    # gathered twice: 4 requests (root, rfcs tree, 1 batch, PR page), then 2 (nothing new)
    assert out[0].requests == 6
    assert rows(mine)["e0001"]["title"] == "v2"
    assert comparable_export(mine.export()) == comparable_export(other.export())
    mine.close()
    other.close()


# ---------------------------------------------------------------- PR watermark and listing


class EditDuringListing(httpx.AsyncBaseTransport):
    """After the first page of a full PR listing, edits PR `a` and then PR `b` (later)."""

    def __init__(self, sb: Sandbox, now: list[datetime], a: int, b: int) -> None:
        self.sb, self.now, self.a, self.b, self.done = sb, now, a, b, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.sb.transport.handle_async_request(request)
        q = dict(request.url.params)
        if (request.url.path.endswith("/pulls") and q.get("sort") == "oldest"
                and q.get("page") == "1" and not self.done):
            self.done = True
            self.now[0] += timedelta(seconds=10)
            edit_pr(self.sb, self.a, title="A edited during the listing")
            self.now[0] += timedelta(seconds=2)
            edit_pr(self.sb, self.b, title="B edited later")
        return response


def test_pr_edited_during_a_full_listing_is_not_lost(tmp_path: Path) -> None:
    """The watermark comes from before the listing (API-NOTES §9b), not from inside it."""
    now = [datetime(2026, 11, 1, 12, 0, tzinfo=UTC)]
    sb = Sandbox(clock=lambda: now[0])
    seed(sb, 3)
    nums = [open_pr(sb, f"metadata/x{i}") for i in range(60)]  # two pages
    a, b = nums[0], nums[55]
    edit_pr(sb, a, state="closed")  # closed: a full sweep never re-reads it
    with open_cache(tmp_path / "c.sqlite") as c:
        assert sweep(sb, c, "resync", transport=EditDuringListing(sb, now, a, b)).ok
        assert pulls(c)[b]["title"] == "B edited later"
        now[0] += timedelta(seconds=5)
        assert sweep(sb, c).ok
        assert pulls(c)[a]["title"] == "A edited during the listing"


class NoPagingHeaders(httpx.AsyncBaseTransport):
    """A proxy that drops ``X-Total-Count`` and ``Link``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        headers = [(k, v) for k, v in response.headers.items()
                   if k.lower() not in ("x-total-count", "link", "content-length",
                                        "content-encoding", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=response.content,
                              request=request)


def test_listing_without_paging_headers_is_complete_and_incremental(tmp_path: Path) -> None:
    sb = Sandbox(clock=Clock())
    seed(sb, 3)
    nums = [open_pr(sb, f"metadata/x{i}") for i in range(120)]  # three pages
    proxy = NoPagingHeaders(sb.transport)
    with open_cache(tmp_path / "c.sqlite") as c:
        r = sweep(sb, c, "resync", transport=proxy)
        assert r.ok and r.pulls == 120 and set(pulls(c)) == set(nums)
        r = sweep(sb, c, transport=proxy)
        assert r.ok and r.requests == 2 and r.pulls == 120  # no full re-list
        edit_pr(sb, nums[3], title="Edited")
        r = sweep(sb, c, transport=proxy)
        assert r.ok and r.pulls == 120 and pulls(c)[nums[3]]["title"] == "Edited"
        r = sweep(sb, c, "full_sweep", transport=proxy)
        assert r.ok and r.pulls == 120


# ---------------------------------------------------------------- concurrent writers, status


def test_resync_is_not_restarted_by_other_writers(sb: Sandbox, tmp_path: Path) -> None:
    """A resync replaces everything: another process's commits do not make it gather again."""
    path = tmp_path / "c.sqlite"
    mine, other = open_cache(path), open_cache(path)
    open_pr(sb, "claim/e0001")
    sweep(sb, mine, "resync")  # the PR's head file is read once, then kept
    cost = sweep(sb, mine, "resync").requests
    fired: list[bool] = []

    def meddle(p: Progress) -> None:
        if p.phase == "writing" and p.done == 0 and not fired:
            fired.append(True)
            sb.commit_files("main", {"rfcs/e0002.md": entry("e0002", "v2")}, "edit")
            t = threading.Thread(target=lambda: sweep(sb, other))
            t.start()
            t.join(30)

    r = sweep(sb, mine, "resync", progress=meddle)
    assert fired and r.ok and r.requests == cost
    mine.close()
    other.close()


def test_no_op_sweep_keeps_the_generation(sb: Sandbox, cache: Cache) -> None:
    assert sweep(sb, cache, "resync").ok
    gen = cache.get_state("generation")
    assert sweep(sb, cache).ok and sweep(sb, cache, "full_sweep").ok
    assert cache.get_state("generation") == gen
    sb.commit_files("main", {"rfcs/e0001.md": entry("e0001", "v2")}, "edit")
    assert sweep(sb, cache).rows_changed == 1
    assert cache.get_state("generation") != gen


def test_a_sweep_that_keeps_meeting_a_writer_fails_cleanly(sb: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    mine, other = open_cache(path), open_cache(path)
    assert sweep(sb, mine, "resync").ok
    sb.commit_files("main", {"rfcs/e0001.md": entry("e0001", "v2")}, "edit")

    def meddle(p: Progress) -> None:  # a change by "another process" before every write
        if p.phase == "writing" and p.done == 0:
            with other.write():
                gen = int(other.get_state("generation") or 0)
                other.set_state({"generation": str(gen + 1)})

    before = json.dumps(mine.export(), sort_keys=True)
    r = sweep(sb, mine, progress=meddle)
    assert not r.ok and r.error and r.error.startswith("cache busy") and "\n" not in r.error
    assert json.dumps(mine.export(), sort_keys=True) == before
    mine.close()
    other.close()


def test_refresh_does_not_hide_an_offline_sweep(sb: Sandbox, cache: Cache) -> None:
    assert sweep(sb, cache, "resync").ok
    sb.faults.down = True
    assert not sweep(sb, cache).ok
    sb.faults.down = False
    status = cache.sync_status()
    assert status.offline and status.last_ok is False
    n = open_pr(sb, "claim/e0003")
    r = sweep(sb, cache, "refresh", slug="e0003", pr_number=n)
    assert r.ok and n in pulls(cache)
    after = cache.sync_status()
    assert after.offline and after.last_ok is False and after.synced_at == status.synced_at
    assert cache.get_state("refresh_outcome") == "ok"


class Overlap(httpx.AsyncBaseTransport):
    """Yields to the event loop before forwarding; records how many requests overlapped."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.in_flight, self.most = inner, 0, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            for _ in range(5):
                await asyncio.sleep(0)
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


def test_quick_sweep_checks_entries_and_prs_concurrently(sb: Sandbox, cache: Cache) -> None:
    """Detecting "nothing changed" is one round trip: both requests are in flight at once."""
    assert sweep(sb, cache, "resync").ok
    overlap = Overlap(sb.transport)
    r = sweep(sb, cache, transport=overlap)
    assert r.ok and r.requests == 2 and overlap.most == 2


class NoCommitDates(httpx.AsyncBaseTransport):
    """Drops ``last_committer_date`` from contents answers (an older or odd server)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "file-contents" not in request.url.path:
            return response
        await response.aread()
        data = json.loads(response.content)
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict):
                item.pop("last_committer_date", None)
        return httpx.Response(response.status_code, json=data, request=request)


def test_state_since_without_commit_time_is_the_sweep_time(sb: Sandbox, cache: Cache) -> None:
    """A state change with no commit time must not inherit an old date (stale at once)."""
    assert sweep(sb, cache, "resync").ok
    sb.commit_files("main", {"rfcs/e0001.md": entry("e0001", state="parked"),
                             "rfcs/fresh.md": entry("fresh", state="parked")}, "park")
    at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    r = sweep(sb, cache, transport=NoCommitDates(sb.transport), clock=lambda: at)
    assert r.ok, r.error
    got = rows(cache)
    assert got["e0001"]["state_since"] == got["fresh"]["state_since"] == "2026-11-01T12:00:00Z"


def test_missing_repository_says_what_to_check(sb: Sandbox, cache: Cache) -> None:
    async def go() -> SweepResult:
        async with GiteaClient(HOST, "bot-token", transport=sb.transport, retries=0) as client:
            return await Reconciler(client, cache, OWNER, "no-such-repo", BOT).quick_sweep()

    r = asyncio.run(go())
    assert not r.ok and r.error and "404" in r.error and "\n" not in r.error
    assert "check RFCTUI_ORG / RFCTUI_META_REPO (rfcs/no-such-repo)" in r.error
    assert r.error.endswith("that your token can read the repository")
