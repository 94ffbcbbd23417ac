"""Pre-flight refusals and stacked changes (issue 9 items 2 and 3; SPEC §5, §6).

Against the sandbox through its httpx transport, with the real reconciler filling a
real cache, the real actions log and the real `GiteaClient`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from rfctui import trailer
from rfctui.bot import Actor, Bot, Refused, preflight
from rfctui.db import open_actions, open_cache
from rfctui.gitea import GiteaClient
from rfctui.reconcile import Reconciler
from rfctui.sandbox import Sandbox

BASE_URL = "http://gitea.test"
FIXED = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
ADA = Actor("ada", "Ada Lovelace")
GRACE = Actor("grace", "Grace Hopper")
ADA_TRAILER = "On-behalf-of: Ada Lovelace <ada>"


class Counting(httpx.AsyncBaseTransport):
    """The sandbox transport, recording each request's method and path."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)


@pytest.fixture
def sb(typed_config_sandbox: Sandbox) -> Sandbox:
    return typed_config_sandbox


@pytest.fixture
def log(tmp_path: Path) -> Any:
    with open_actions(tmp_path / "actions.db") as a:
        yield a


def _client(sb: Sandbox, transport: Any = None) -> GiteaClient:
    return GiteaClient(BASE_URL, "bot-token", transport=transport or sb.transport, retries=0)


async def _synced(sb: Sandbox, tmp_path: Path, log: Any) -> Any:
    cache = open_cache(tmp_path / "cache.db")
    async with _client(sb) as c:
        await Reconciler(c, cache, "rfcs", "meta", "rfc-bot", actions=log).full_sweep()
    return cache


def _bot(c: GiteaClient, log: Any, cache: Any = None, **kw: Any) -> Bot:
    return Bot(c, "rfcs", "meta", "rfc-bot", log, clock=lambda: FIXED, existing=cache, **kw)


def _pulls(sb: Sandbox, head: str) -> list[Any]:
    return [p for p in sb.pulls.values() if p.head == head]


# ---------------------------------------------------------------- refused from the cache


@pytest.mark.parametrize("action", ["claim", "metadata"])
async def test_someone_elses_open_pr_in_the_cache_is_refused_before_any_request(
    sb: Sandbox, log: Any, tmp_path: Path, action: str
) -> None:
    async with _client(sb) as c:
        theirs = await (_bot(c, log).claim(GRACE, "typed-config") if action == "claim" else
                        _bot(c, log).edit_metadata(GRACE, "typed-config", {"state": "parked"}))
    cache = await _synced(sb, tmp_path, log)
    rows_before = len(log.all())
    before = sb.requests_served
    async with _client(sb) as c:
        with pytest.raises(Refused) as info:
            if action == "claim":
                await _bot(c, log, cache).claim(ADA, "typed-config")
            else:
                await _bot(c, log, cache).edit_metadata(ADA, "typed-config", {"tags": ["x"]})
    assert sb.requests_served == before
    assert str(info.value) == (f"{action}/typed-config already has open PR "
                               f"#{theirs.pr_number} by grace; review or comment there")
    assert info.value.errors == {"form": str(info.value)}
    assert len(log.all()) == rows_before and log.failed() == []
    assert len(_pulls(sb, f"{action}/typed-config")) == 1


async def test_a_pending_idea_cannot_be_claimed_edited_or_changed(
    sb: Sandbox, log: Any, tmp_path: Path
) -> None:
    async with _client(sb) as c:
        idea = await _bot(c, log).propose(GRACE, "fresh-idea", "A fresh idea", "Body.")
    cache = await _synced(sb, tmp_path, log)
    before = sb.requests_served
    async with _client(sb) as c:
        bot = _bot(c, log, cache)
        for run in (bot.claim(ADA, "fresh-idea"), bot.edit_body(ADA, "fresh-idea", "New."),
                    bot.edit_metadata(ADA, "fresh-idea", {"state": "parked"})):
            with pytest.raises(Refused, match=rf"only a pending idea \(open PR "
                                              rf"#{idea.pr_number} by grace\)"):
                await run
    assert sb.requests_served == before
    assert [r.slug for r in log.all()] == ["fresh-idea"]  # grace's proposal only


async def test_claiming_what_you_already_own_is_refused_in_any_case(
    sb: Sandbox, log: Any, tmp_path: Path
) -> None:
    sb.commit_files("main", {"rfcs/typed-config.md": sb.git.blob(sb.git.flatten(
        sb.git.commit(sb.git.branches["main"]).tree)["rfcs/typed-config.md"]).replace(
        b"owners: []", b"owners: [Ada]")}, "Ada owns it")
    cache = await _synced(sb, tmp_path, log)
    before = sb.requests_served
    async with _client(sb) as c:
        with pytest.raises(Refused, match=r"you \(ada\) already own typed-config"):
            await _bot(c, log, cache).claim(ADA, "typed-config")
    assert sb.requests_served == before and log.all() == []


def test_preflight_is_pure_over_cache_rows() -> None:
    """The function the UI and CLI share, over plain rows (no cache file, no Gitea)."""

    class Row:
        def __init__(self, **kw: Any) -> None:
            self.__dict__.update({"kind": "rfc", "owners": (), "removed": False} | kw)

    class Cache:
        def list_items(self) -> list[Any]:
            return [Row(slug="a", owners=("GRACE",)), Row(slug="p", kind="pending",
                                                          pr_number=3, proposed_by="ada")]

        def pulls_for(self, slug: str) -> list[Any]:
            return [Row(head_branch="metadata/a", state="open", opened_by="ada", number=9)]

    cache = Cache()
    assert preflight("grace", {"action": "claim", "slug": "a"}, cache) == (
        "you (grace) already own a")
    assert preflight("Ada", {"action": "metadata", "slug": "a"}, cache) is None  # her own
    assert preflight("grace", {"action": "metadata", "slug": "a"}, cache) == (
        "metadata/a already has open PR #9 by ada; review or comment there")
    assert preflight("grace", {"action": "edit", "slug": "a"}, cache) is None
    assert "pending idea" in (preflight("grace", {"action": "edit", "slug": "p"}, cache) or "")
    assert preflight("grace", {"action": "propose", "slug": "p"}, cache) is None
    assert preflight("grace", {"action": "claim", "slug": "a"}, None) is None


# ---------------------------------------------------------------- the fresh read


@pytest.mark.parametrize("action", ["claim", "metadata"])
async def test_a_pr_opened_after_the_sweep_is_found_by_one_fresh_read(
    sb: Sandbox, log: Any, tmp_path: Path, action: str
) -> None:
    """The cache is a sweep old: grace's PR on the branch was opened out of band since.
    One read of the branch and its PR refuses ada's action before the log row: nothing
    to retry, nothing written."""
    cache = await _synced(sb, tmp_path, log)
    head = f"{action}/typed-config"
    async with _client(sb) as c:
        await c.create_branch("rfcs", "meta", head, "main")
    async with GiteaClient(BASE_URL, "grace-token", transport=sb.transport) as g:
        pr = await g.create_pull("rfcs", "meta", head=head, base="main", title="Mine",
                                 body=trailer.compose("Mine.", "Grace Hopper", "grace"))
    counting = Counting(sb.transport)
    async with _client(sb, counting) as c:
        bot = _bot(c, log, cache)
        with pytest.raises(Refused, match=f"{head} already has open PR #{pr['number']} by grace"):
            if action == "claim":
                await bot.claim(ADA, "typed-config")
            else:
                await bot.edit_metadata(ADA, "typed-config", {"state": "parked"})
    assert all(method == "GET" for method, _ in counting.seen)
    assert len(counting.seen) <= 3  # the branch, the PR for its head (and its list)
    assert log.all() == []
    assert len(_pulls(sb, head)) == 1


# ---------------------------------------------------------------- stacked changes


async def test_a_second_metadata_change_is_listed_in_the_open_prs_description(
    sb: Sandbox, log: Any, tmp_path: Path
) -> None:
    cache = await _synced(sb, tmp_path, log)
    async with _client(sb) as c:
        bot = _bot(c, log, cache)
        first = await bot.edit_metadata(ADA, "typed-config", {"state": "parked"})
        assert (first.stacked, first.note) == (False, "")
        second = await bot.edit_metadata(ADA, "typed-config", {"tags": ["config", "dx"]})
    assert second.pr_number == first.pr_number
    assert (second.stacked, second.reused_pr) == (True, True)
    assert second.note == f"added to your open PR #{first.pr_number}"
    [pr] = _pulls(sb, "metadata/typed-config")
    lines = pr.body.splitlines()
    assert "- `state`: idea → parked" in lines
    assert "- `tags`: [config] → [config, dx]" in lines
    assert lines[-1] == ADA_TRAILER and trailer.on_behalf_of(pr.body) == "ada"
    assert pr.title == "Update metadata of typed-config: state, tags"
    # the same change again adds nothing and rewrites nothing
    async with _client(sb) as c:
        again = await _bot(c, log, cache).edit_metadata(ADA, "typed-config", {"state": "parked"})
    assert (again.stacked, again.note) == (False, f"already in your open PR #{first.pr_number}")


async def test_a_title_a_person_changed_is_kept_and_the_body_summarised(
    sb: Sandbox, log: Any
) -> None:
    async with _client(sb) as c:
        bot = _bot(c, log)
        first = await bot.edit_metadata(ADA, "typed-config", {"state": "parked"})
        await c.edit_pull("rfcs", "meta", first.pr_number, title="Park typed config")
        # someone pushed a body change onto the branch meanwhile: it is listed too
        text = sb.git.blob(sb.git.flatten(sb.git.commit(
            sb.git.branches["metadata/typed-config"]).tree)["rfcs/typed-config.md"])
        sb.commit_files("metadata/typed-config", {"rfcs/typed-config.md": text.replace(
            b"Why we need typed configuration.", b"Line one.\nLine two.")}, "body")
        await bot.edit_metadata(ADA, "typed-config", {"waiting_on": "grace"})
    pr = sb.pulls[first.pr_number]
    assert pr.title == "Park typed config"
    assert "- body: +2 \u22121 lines" in pr.body.splitlines()
    assert "- `waiting_on`: null → grace" in pr.body.splitlines()
    assert pr.body.splitlines()[-1] == ADA_TRAILER


async def test_user_text_in_a_stacked_description_cannot_forge_the_trailer(
    sb: Sandbox, log: Any
) -> None:
    async with _client(sb) as c:
        bot = _bot(c, log)
        await bot.edit_metadata(ADA, "typed-config", {"state": "parked"})
        await bot.edit_metadata(ADA, "typed-config",
                                {"waiting_on": "On-behalf-of: Someone Else <admin>"})
    [pr] = _pulls(sb, "metadata/typed-config")
    assert trailer.on_behalf_of(pr.body) == "ada"
    assert pr.body.splitlines()[-1] == ADA_TRAILER
    [listed] = [ln for ln in pr.body.splitlines() if "waiting_on" in ln]
    # its ``<admin>`` would be raw HTML on the PR page: sent as text (trailer.defuse_html)
    assert listed == "- `waiting_on`: null → On-behalf-of: Someone Else &lt;admin>"
    assert not trailer.looks_like_trailer(listed)


# ---------------------------------------------------------------- unknown logins


async def test_an_unknown_login_is_asked_once_and_warned_about(
    sb: Sandbox, log: Any, tmp_path: Path
) -> None:
    cache = await _synced(sb, tmp_path, log)
    counting = Counting(sb.transport)
    users: dict[str, bool] = {}
    async with _client(sb, counting) as c:
        first = await _bot(c, log, cache, users=users).edit_metadata(
            ADA, "typed-config", {"arbiters": ["grace", "nobody-here", "Nobody-Here"],
                                  "owners": ["admin"]})
        second = await _bot(c, log, cache, users=users).edit_metadata(
            ADA, "typed-config", {"owners": ["admin", "nobody-here"]})
    asked = [p for m, p in counting.seen if p.startswith("/api/v1/users/")]
    # grace is in the cache; admin and nobody-here are asked once each, in all
    assert sorted(asked) == ["/api/v1/users/admin", "/api/v1/users/nobody-here"]
    assert first.warnings == ("no Gitea user 'nobody-here'",)
    assert second.warnings == ("no Gitea user 'nobody-here'",)
