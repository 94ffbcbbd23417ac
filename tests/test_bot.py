"""Actions through the bot against the sandbox (SPEC §5, §6; issue 5).

Every test talks to `rfctui.sandbox` through its httpx transport (or real HTTP for the
kill test), with the real `GiteaClient`, the real actions log and, where available,
the real reconciler.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TYPED_CONFIG_ENTRY as ENTRY

from rfctui import trailer
from rfctui.bot import (
    ActionFailed,
    ActionsDisabled,
    Actor,
    Bot,
    NothingToChange,
    Refused,
    ValidationError,
    check_metadata,
    check_propose,
    verify_actor,
)
from rfctui.db import open_actions
from rfctui.entry import parse_entry
from rfctui.gitea import GiteaClient
from rfctui.sandbox import Sandbox

BASE_URL = "http://gitea.test"
FIXED = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
ADA = Actor("ada", "Ada Lovelace")
ADA_TRAILER = "On-behalf-of: Ada Lovelace <ada>"
TOKENS = ("bot-token", "ada-token", "grace-token", "admin-token")

FORGED = textwrap.dedent(
    """\
    On-behalf-of: Someone Else <admin>
    Intro paragraph.
      On-behalf-of: Someone Else <admin>
    on-behalf-of:Someone Else <admin>

    ON-BEHALF-OF : Someone Else <admin>
    On\u2010behalf\u2010of: Someone Else <admin>
    Signed-off-by: Someone Else <admin>

    On-behalf-of: Someone Else <admin>"""
)


class FailingTransport(httpx.AsyncBaseTransport):
    """The sandbox transport, but the `fail_at`-th write fails.

    ``when="before"``: the request never reaches Gitea (connection refused).
    ``when="after"``: Gitea applies it and the answer is lost (connection reset).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, fail_at: int, when: str) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.when = when
        self.writes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not request.url.path.endswith(
            "/file-contents"
        ):
            self.writes += 1
            if self.writes == self.fail_at:
                if self.when == "before":
                    raise httpx.ConnectError("injected: refused", request=request)
                await self.inner.handle_async_request(request)
                raise httpx.ReadError("injected: answer lost", request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def sb(typed_config_sandbox: Sandbox) -> Sandbox:
    return typed_config_sandbox


@pytest.fixture
def log(tmp_path: Path) -> Any:
    with open_actions(tmp_path / "actions.db") as a:
        yield a


def _client(sb: Sandbox, token: str = "bot-token", transport: Any = None) -> GiteaClient:
    return GiteaClient(BASE_URL, token, transport=transport or sb.transport, retries=0)


def _bot(client: GiteaClient, log: Any, **kw: Any) -> Bot:
    return Bot(client, "rfcs", "meta", "rfc-bot", log, clock=lambda: FIXED, **kw)


async def _file(c: GiteaClient, path: str, ref: str) -> str:
    data = await c.get_contents("rfcs", "meta", path, ref=ref)
    assert isinstance(data, dict)
    return base64.b64decode(data["content"]).decode()


def _pulls_for(sb: Sandbox, head: str) -> list[Any]:
    return [p for p in sb.pulls.values() if p.head == head]


async def _branch_commits(c: GiteaClient, branch: str) -> list[dict[str, Any]]:
    """Commits on `branch` that are not on main."""
    main = {x["sha"] for x in await c.list_commits("rfcs", "meta", sha="main")}
    return [x for x in await c.list_commits("rfcs", "meta", sha=branch) if x["sha"] not in main]


async def _run(action: str, bot: Bot, actor: Actor = ADA, text: str = "Better body.") -> Any:
    if action == "propose":
        return await bot.propose(actor, "new-idea", "A new idea", text, ["dx"], ["grace"])
    if action == "edit":
        return await bot.edit_body(actor, "typed-config", text)
    if action == "claim":
        return await bot.claim(actor, "typed-config")
    return await bot.edit_metadata(actor, "typed-config", {"state": "parked", "waiting_on": text})


HEADS = {
    "propose": "propose/new-idea",
    "edit": "edit/typed-config/1",
    "claim": "claim/typed-config",
    "metadata": "metadata/typed-config",
}
SUBJECTS = {
    "propose": "Propose RFC idea: A new idea",
    "edit": "Edit body of typed-config",
    "claim": "Claim typed-config for ada",
    "metadata": "Update metadata of typed-config: state, waiting_on",
}
ACTIONS = tuple(HEADS)


# ---------------------------------------------------------------- identity


async def test_verify_actor_uses_the_users_own_token(sb: Sandbox) -> None:
    async with _client(sb, "ada-token") as uc:
        assert await verify_actor(uc) == ADA


async def test_no_token_disables_actions_with_one_line() -> None:
    with pytest.raises(ActionsDisabled) as info:
        await verify_actor(None)
    assert str(info.value) == "actions need your own Gitea token: set RFCTUI_USER_TOKEN"


async def test_bad_token_disables_actions_without_leaking_it(sb: Sandbox) -> None:
    async with _client(sb, "wrong-secret-token") as uc:
        with pytest.raises(ActionsDisabled) as info:
            await verify_actor(uc)
    assert "401" in str(info.value)
    assert "wrong-secret-token" not in str(info.value)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- end to end


@pytest.mark.parametrize("action", ACTIONS)
async def test_action_end_to_end(sb: Sandbox, log: Any, action: str) -> None:
    async with _client(sb) as c:
        result = await _run(action, _bot(c, log))
        head = HEADS[action]
        assert result.branch == head
        # one PR: head, base, title, body with the trailer last
        [pr] = _pulls_for(sb, head)
        assert (pr.base, pr.state, pr.poster) == ("main", "open", "rfc-bot")
        assert result.pr_number == pr.number
        assert result.html_url.endswith(f"/rfcs/meta/pulls/{pr.number}")
        assert pr.title == SUBJECTS[action]
        assert pr.body.splitlines()[-1] == ADA_TRAILER
        assert trailer.on_behalf_of(pr.body) == "ada"
        # one commit on the branch: message (subject, trailer last) and author/committer
        [commit] = await _branch_commits(c, head)
        message = commit["commit"]["message"].rstrip("\n")
        assert message.splitlines()[0] == SUBJECTS[action]
        assert message.splitlines()[-1] == ADA_TRAILER
        assert trailer.on_behalf_of(message) == "ada"
        assert commit["commit"]["author"]["name"] == "Ada Lovelace"
        assert commit["commit"]["author"]["email"] == "ada@users.noreply.gitea.test"
        assert commit["commit"]["committer"]["name"] == "rfc-bot"
        # the file says what the action meant, and nothing else changed
        new = parse_entry(_path(action), (await _file(c, _path(action), head)).encode())
        if action == "propose":
            assert (new.slug, new.title, new.state, new.proposed_by) == (
                "new-idea", "A new idea", "idea", "ada")
            assert new.proposed_at == FIXED
            assert (new.owners, new.arbiters, new.tags) == ([], ["grace"], ["dx"])
            assert new.body == "Better body."
        else:
            old = parse_entry("rfcs/typed-config.md", ENTRY.encode())
            assert new.extra == {"custom_field": "keep me"} | (
                {"waiting_on": "Better body."} if action == "metadata" else {}
            )
            assert new.body == ("Better body." if action == "edit" else old.body)
            assert new.owners == (["ada"] if action == "claim" else [])
            assert new.state == ("parked" if action == "metadata" else "idea")
            assert (new.title, new.proposed_by, new.arbiters) == (
                old.title, old.proposed_by, old.arbiters)
    [row] = log.all()
    assert (row.status, row.pr_number, row.on_behalf_of) == ("done", result.pr_number, "ada")
    assert row.pr_url == result.html_url


def _path(action: str) -> str:
    return "rfcs/new-idea.md" if action == "propose" else "rfcs/typed-config.md"


async def test_edit_takes_the_next_free_n(sb: Sandbox, log: Any) -> None:
    async with _client(sb) as c:
        bot = _bot(c, log)
        first = await bot.edit_body(ADA, "typed-config", "One.")
        second = await bot.edit_body(ADA, "typed-config", "Two.")
        # a merged edit keeps its number taken even after its branch is deleted
        await c.merge_pull("rfcs", "meta", first.pr_number)
        await c.delete_branch("rfcs", "meta", first.branch)
        third = await bot.edit_body(ADA, "typed-config", "Three.")
    assert [first.branch, second.branch, third.branch] == [
        "edit/typed-config/1", "edit/typed-config/2", "edit/typed-config/3"]


async def test_metadata_keeps_unknown_keys_and_refuses_slug_and_bad_state(
    sb: Sandbox, log: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        check_metadata("typed-config", {"slug": "other", "state": "limbo", "body": "x"})
    assert set(info.value.errors) == {"slug", "state", "body"}
    assert "idea, graduated" in info.value.errors["state"]
    async with _client(sb) as c:
        before = sb.requests_served
        with pytest.raises(ValidationError):
            await _bot(c, log).edit_metadata(ADA, "typed-config", {"state": "limbo"})
        assert sb.requests_served == before
        assert log.all() == []


async def test_claim_refuses_someone_elses_open_claim(sb: Sandbox, log: Any) -> None:
    grace = Actor("grace", "Grace Hopper")
    async with _client(sb) as c:
        bot = _bot(c, log)
        first = await bot.claim(grace, "typed-config")
        with pytest.raises(Refused) as info:
            await bot.claim(ADA, "typed-config")
    assert str(info.value) == (f"claim/typed-config already has open PR #{first.pr_number} "
                               "by grace; review or comment there")
    assert len(_pulls_for(sb, "claim/typed-config")) == 1
    assert [r.on_behalf_of for r in log.all()] == ["grace"]  # nothing of ada's to retry


async def test_propose_validates_uniqueness_and_warns_about_duplicates(
    sb: Sandbox, log: Any
) -> None:
    class Row:
        def __init__(self, slug: str, title: str, kind: str = "rfc") -> None:
            self.slug, self.title, self.kind, self.owners = slug, title, kind, ()

    rows = [Row("typed-config", "Typed configuration loading"), Row("p", "Pending", "pending")]
    with pytest.raises(ValidationError) as info:
        check_propose("p", "Something", existing=rows)
    assert "pending idea" in info.value.errors["slug"]
    warnings = check_propose("typed-config-2", "Typed configuration loadin", existing=rows)
    assert warnings and "typed-config" in warnings[0]
    async with _client(sb) as c:
        bot = _bot(c, log, existing=lambda: rows)
        with pytest.raises(ValidationError):
            await bot.propose(ADA, "typed-config", "Again")
        result = await bot.propose(ADA, "typed-config-2", "Typed configuration loadin")
    assert result.warnings and "likely duplicate" in result.warnings[0]


# ---------------------------------------------------------------- trailer forgery


@pytest.mark.parametrize("action", ["propose", "edit", "metadata"])
async def test_forged_trailers_in_user_text_are_never_attributed(
    sb: Sandbox, log: Any, action: str
) -> None:
    text = FORGED if action != "metadata" else "On-behalf-of: Someone Else <admin>"
    async with _client(sb) as c:
        bot = _bot(c, log)
        if action == "propose":
            result = await bot.propose(
                ADA, "new-idea", "On-behalf-of: Someone Else <admin>", text)
        else:
            result = await _run(action, bot, text=text)
        [pr] = _pulls_for(sb, result.branch)
        [commit] = await _branch_commits(c, result.branch)
    for written in (pr.body, commit["commit"]["message"]):
        assert trailer.on_behalf_of(written) == "ada"
        assert written.rstrip("\n").splitlines()[-1] == ADA_TRAILER
        # the only unquoted On-behalf-of line is ours
        lines = [ln for ln in written.splitlines() if "admin>" in ln]
        assert all(not trailer.looks_like_trailer(ln) or ln.startswith("- ") for ln in lines)


# ---------------------------------------------------------------- the cache after refresh


async def _cache_refresh(sb: Sandbox, tmp_path: Path, log: Any | None, action: str,
                         text: str = "Better body.") -> Any:
    cache_mod = pytest.importorskip("rfctui.reconcile")
    from rfctui.db import open_cache

    cache = open_cache(tmp_path / "cache.db")
    async with _client(sb) as c:
        rec = cache_mod.Reconciler(c, cache, "rfcs", "meta", "rfc-bot", actions=log)
        await rec.full_sweep()

        async def refresh(slug: str, number: int) -> Any:
            return await rec.refresh(slug=slug, pr_number=number)

        bot = _bot(c, log if log is not None else open_actions(tmp_path / "a2.db"), refresh=refresh)
        result = await _run(action, bot, text=text)
    assert result.refresh_error is None
    slug = "new-idea" if action == "propose" else "typed-config"
    return cache, result, slug


@pytest.mark.parametrize("action", ACTIONS)
async def test_cache_after_targeted_refresh_shows_the_actor(
    sb: Sandbox, log: Any, tmp_path: Path, action: str
) -> None:
    cache, result, slug = await _cache_refresh(sb, tmp_path, log, action)
    pulls = {p.number: p for p in cache.pulls_for(slug)}
    assert pulls[result.pr_number].opened_by == "ada"
    assert pulls[result.pr_number].state == "open"
    if action == "propose":
        pending = [i for i in cache.list_items() if i.kind == "pending" and i.slug == slug]
        assert pending and pending[0].proposed_by == "ada"


@pytest.mark.parametrize("with_log", [True, False], ids=["log", "trailer-only"])
async def test_cache_never_attributes_forged_trailer(
    sb: Sandbox, log: Any, tmp_path: Path, with_log: bool
) -> None:
    cache, result, slug = await _cache_refresh(
        sb, tmp_path, log if with_log else None, "edit", text=FORGED)
    pulls = {p.number: p for p in cache.pulls_for(slug)}
    assert pulls[result.pr_number].opened_by == "ada"


# ---------------------------------------------------------------- failures and retry


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize(
    "fail_at", [1, 2], ids=["branch-and-commit", "pull-create"]
)
async def test_retry_after_a_failed_write_ends_with_exactly_one_pr(
    sb: Sandbox, log: Any, action: str, when: str, fail_at: int
) -> None:
    flaky = FailingTransport(sb.transport, fail_at, when)
    async with _client(sb, transport=flaky) as c:
        with pytest.raises(ActionFailed) as info:
            await _run(action, _bot(c, log))
        action_id = info.value.action_id
        assert action_id is not None
        row = log.get(action_id)
        assert row.status == "failed" and row.error and "\n" not in row.error
        assert row.payload["slug"] in ("new-idea", "typed-config")
        result = await _bot(c, log).retry(action_id, ADA)
        head = HEADS[action]
        assert len(_pulls_for(sb, head)) == 1
        assert result.pr_number == _pulls_for(sb, head)[0].number
        assert len(await _branch_commits(c, head)) == 1
    assert log.get(action_id).status == "done"
    with pytest.raises(ActionFailed, match="already done"):
        async with _client(sb) as c:
            await _bot(c, log).retry(action_id, ADA)


async def test_retry_is_only_for_the_same_person(sb: Sandbox, log: Any) -> None:
    async with _client(sb, transport=FailingTransport(sb.transport, 1, "before")) as c:
        with pytest.raises(ActionFailed) as info:
            await _run("claim", _bot(c, log))
    async with _client(sb) as c:
        with pytest.raises(ActionFailed, match="on behalf of ada"):
            await _bot(c, log).retry(info.value.action_id, Actor("grace", "Grace Hopper"))


async def test_discarded_actions_are_not_retried(sb: Sandbox, log: Any) -> None:
    async with _client(sb, transport=FailingTransport(sb.transport, 1, "before")) as c:
        with pytest.raises(ActionFailed) as info:
            await _run("propose", _bot(c, log))
    aid = info.value.action_id
    async with _client(sb) as c:
        bot = _bot(c, log)
        bot.discard(aid)
        assert log.failed() == []
        with pytest.raises(ActionFailed, match="discarded"):
            await bot.retry(aid, ADA)
    assert _pulls_for(sb, "propose/new-idea") == []


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing catches it."""


@pytest.mark.parametrize("step", [1, 2])
async def test_crash_between_steps_keeps_the_payload(sb: Sandbox, log: Any, step: int) -> None:
    class CrashingTransport(FailingTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                self.writes += 1
                if self.writes == self.fail_at:
                    raise Crash()
            return await self.inner.handle_async_request(request)

    async with _client(sb, transport=CrashingTransport(sb.transport, step, "before")) as c:
        with pytest.raises(Crash):
            await bot_propose(_bot(c, log))
    [row] = log.pending()
    assert row.payload["title"] == "A new idea" and row.payload["body"] == "Typed text."
    async with _client(sb) as c:
        await _bot(c, log).retry(row.id, ADA)
    assert len(_pulls_for(sb, "propose/new-idea")) == 1


async def bot_propose(bot: Bot) -> Any:
    return await bot.propose(ADA, "new-idea", "A new idea", "Typed text.", ["dx"])


KILL_SCRIPT = """
import sys
from pathlib import Path
from rfctui.config import Config, Secret
from rfctui import actions_cli
data = Path(sys.argv[2])
cfg = Config(gitea_url=sys.argv[1], bot_token=Secret("bot-token"),
             user_token=Secret("ada-token"), cache_dir=data / "cache", data_dir=data)
sys.exit(actions_cli.main(["propose", "--slug", "killed-idea", "--title", "Killed idea",
                           "--body-file", "-"], cfg))
"""


def test_process_killed_between_steps_keeps_the_payload(tmp_path: Path) -> None:
    from rfctui.config import Config

    sb = Sandbox()
    sb.faults.latency_ms = 300  # every answer waits: room to kill between two steps
    data = tmp_path / "data"
    with sb.serve(port=0) as base_url:
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, base_url, str(data)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert proc.stdin is not None
        proc.stdin.write(b"What I typed and must not lose.\n")
        proc.stdin.close()
        deadline = time.monotonic() + 60  # a guard against hanging, not a timing assertion
        while "propose/killed-idea" not in sb.git.branches:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the branch never appeared"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _pulls_for(sb, "propose/killed-idea") == []
        cfg = Config(gitea_url=base_url, cache_dir=data / "cache", data_dir=data)
        with open_actions(cfg.actions_file) as log:
            [row] = log.pending()
            assert row.payload["body"] == "What I typed and must not lose.\n"
            assert row.payload["title"] == "Killed idea"
            sb.faults.latency_ms = 0

            async def retry() -> Any:
                async with GiteaClient(base_url, "bot-token") as c:
                    return await _bot(c, log).retry(row.id, ADA)

            result = asyncio.run(retry())
            assert log.get(row.id).status == "done"
    assert [p.number for p in _pulls_for(sb, "propose/killed-idea")] == [result.pr_number]


# ---------------------------------------------------------------- validation and secrets

BAD_SLUGS = ["../x", "A B", "a" * 70, "-x", "", "x/y", "x\n"]


@pytest.mark.parametrize("slug", BAD_SLUGS)
@pytest.mark.parametrize("action", ACTIONS)
async def test_invalid_slugs_never_reach_a_request(
    sb: Sandbox, log: Any, slug: str, action: str
) -> None:
    async with _client(sb) as c:
        bot = _bot(c, log)
        before = sb.requests_served
        with pytest.raises(ValidationError) as info:
            if action == "propose":
                await bot.propose(ADA, slug, "Title")
            elif action == "edit":
                await bot.edit_body(ADA, slug, "Body")
            elif action == "claim":
                await bot.claim(ADA, slug)
            else:
                await bot.edit_metadata(ADA, slug, {"state": "parked"})
        assert sb.requests_served == before
    assert "slug" in info.value.errors
    assert log.all() == []


@pytest.mark.parametrize("field,value", [("title", ""), ("title", "a\nb"), ("tags", ["a b"]),
                                         ("arbiters", ["not a login"])])
async def test_required_and_shaped_fields_have_a_message_each(
    sb: Sandbox, log: Any, field: str, value: Any
) -> None:
    kw: dict[str, Any] = {"title": "Title", "tags": (), "arbiters": ()}
    kw[field] = value
    async with _client(sb) as c:
        before = sb.requests_served
        with pytest.raises(ValidationError) as info:
            await _bot(c, log).propose(ADA, "fine-slug", kw["title"], "", kw["tags"],
                                       kw["arbiters"])
        assert sb.requests_served == before
    assert list(info.value.errors) == [field]


async def test_no_token_in_log_rows_or_errors(sb: Sandbox, log: Any) -> None:
    errors: list[str] = []
    # a refused bot token, a failure mid-way and a success
    async with _client(sb, token="bot-token-but-wrong") as c:
        with pytest.raises(ActionFailed) as info:
            await _run("claim", _bot(c, log))
        errors.append(str(info.value))
    async with _client(sb, transport=FailingTransport(sb.transport, 2, "before")) as c:
        with pytest.raises(ActionFailed) as info:
            await _run("propose", _bot(c, log))
        errors.append(str(info.value))
        bot = _bot(c, log)
        errors.append(repr(bot))
        await bot.retry(info.value.action_id, ADA)
    dumped = json.dumps([[str(getattr(r, f)) for f in r.__slots__] for r in log.all()])
    for secret in (*TOKENS, "bot-token-but-wrong"):
        assert secret not in dumped
        for e in errors:
            assert secret not in e
    assert all("\n" not in e for e in errors)


async def test_a_missing_entry_fails_cleanly(sb: Sandbox, log: Any) -> None:
    """Gitea says the file is not on main: nothing to retry, so none is offered."""
    async with _client(sb) as c:
        with pytest.raises(NothingToChange, match="does not exist") as info:
            await _bot(c, log).claim(ADA, "no-such-entry")
    assert "retry" not in str(info.value) and info.value.action_id is None
    assert [r.status for r in log.all()] == ["discarded"]
    assert log.failed() == []


@pytest.mark.parametrize("action", ["edit", "claim", "metadata"])
async def test_an_entry_the_synced_cache_lacks_is_refused_before_sending(
    sb: Sandbox, log: Any, action: str
) -> None:
    class Row:
        def __init__(self, slug: str, kind: str = "rfc") -> None:
            self.slug, self.title, self.kind, self.owners = slug, slug, kind, ()

    rows = [Row("typed-config"), Row("pending-one", "pending")]
    async with _client(sb) as c:
        bot = _bot(c, log, existing=lambda: rows)
        before = sb.requests_served
        with pytest.raises(ValidationError) as info:
            if action == "edit":
                await bot.edit_body(ADA, "nonexistent", "Body.")
            elif action == "claim":
                await bot.claim(ADA, "nonexistent")
            else:
                await bot.edit_metadata(ADA, "nonexistent", {"state": "parked"})
        assert sb.requests_served == before
    assert info.value.errors == {
        "slug": "no entry 'nonexistent' in the cache (run rfctui --sync if it is new)"}
    assert log.all() == []


async def test_nothing_to_change_opens_nothing_and_offers_no_retry(sb: Sandbox, log: Any) -> None:
    async with _client(sb) as c:
        bot = _bot(c, log)
        with pytest.raises(NothingToChange, match="grace already owns"):
            sb.commit_files("main", {"rfcs/typed-config.md": ENTRY.replace(
                "owners: []", "owners: [grace]").encode()}, "grace owns it")
            await bot.claim(Actor("grace", "Grace Hopper"), "typed-config")
        with pytest.raises(NothingToChange, match="already says that"):
            await bot.edit_metadata(ADA, "typed-config", {"state": "idea"})
    assert sb.pulls == {} and set(sb.git.branches) == {"main"}
    assert log.failed() == [] and log.pending() == []
    assert [r.status for r in log.all()] == ["discarded", "discarded"]


# ---------------------------------------------------------------- review findings


GRACE = Actor("grace", "Grace Hopper")
ADMIN = Actor("admin", "Site Admin")


async def test_a_merged_claims_kept_branch_never_closes_someone_elses_open_pr(
    sb: Sandbox, log: Any
) -> None:
    """ada's claim merged with its branch kept, grace's claim open on the same head:
    the lookup by head may return the merged PR (API-NOTES §3.7), which must not make
    the bot delete the branch under grace's open PR."""
    async with _client(sb) as c:
        bot = _bot(c, log)
        first = await bot.claim(ADA, "typed-config")
        await c.merge_pull("rfcs", "meta", first.pr_number)  # branch kept
        second = await bot.claim(GRACE, "typed-config")
        assert second.pr_number != first.pr_number
        with pytest.raises(Refused, match=f"#{second.pr_number} by grace"):
            await bot.claim(ADMIN, "typed-config")
    assert sb.pulls[second.pr_number].state == "open"
    assert sb.git.branches["claim/typed-config"] == sb.pull_refs[second.pr_number]


async def test_an_open_pr_by_a_person_is_theirs_whatever_its_trailer_says(
    sb: Sandbox, log: Any
) -> None:
    """§6.3: a non-bot Gitea author is the owner; the trailer is only the last resort."""
    async with _client(sb, "admin-token") as admin:
        await admin.create_branch("rfcs", "meta", "claim/typed-config", "main")
        sb.commit_files("claim/typed-config", {"rfcs/typed-config.md": ENTRY.replace(
            "owners: []", "owners: [ada]").encode()}, "claim")
        pr = await admin.create_pull("rfcs", "meta", head="claim/typed-config", base="main",
                                     title="Claim", body="Mine.\n\n" + ADA_TRAILER)
    async with _client(sb) as c:
        with pytest.raises(Refused, match=f"#{pr['number']} by admin"):
            await _bot(c, log).claim(ADA, "typed-config")


async def test_the_same_body_edit_by_someone_else_gets_its_own_pr(sb: Sandbox, log: Any) -> None:
    async with _client(sb) as c:
        bot = _bot(c, log)
        mine = await bot.edit_body(ADA, "typed-config", "Same text.")
        theirs = await bot.edit_body(GRACE, "typed-config", "Same text.")
        again = await bot.edit_body(ADA, "typed-config", "Same text.")  # ada's own: reused
    assert (theirs.branch, theirs.reused_pr) == ("edit/typed-config/2", False)
    assert theirs.pr_number != mine.pr_number
    assert trailer.on_behalf_of(sb.pulls[theirs.pr_number].body) == "grace"
    assert (again.pr_number, again.reused_pr) == (mine.pr_number, True)


async def test_a_pr_less_branch_from_someone_elses_attempt_is_not_built_on(
    sb: Sandbox, log: Any
) -> None:
    """ada's interrupted claim left claim/<slug> with her commit and no PR: grace's
    claim must not open a PR that also adds ada."""
    async with _client(sb) as c:
        await c.create_branch("rfcs", "meta", "claim/typed-config", "main")
        sb.commit_files("claim/typed-config", {"rfcs/typed-config.md": ENTRY.replace(
            "owners: []", "owners: [ada]").encode()}, "ada's interrupted claim")
        result = await _bot(c, log).claim(GRACE, "typed-config")
        text = await _file(c, "rfcs/typed-config.md", result.branch)
        commits = await _branch_commits(c, result.branch)
    assert parse_entry("rfcs/typed-config.md", text.encode()).owners == ["grace"]
    assert len(commits) == 1


def _config(sb: Sandbox, tmp_path: Path, user_token: str | None = "ada-token",
            transport: Any = None) -> Any:
    from rfctui.config import Config, Secret

    return Config(gitea_url=BASE_URL, bot_token=Secret("bot-token"),
                  user_token=Secret(user_token) if user_token else None,
                  cache_dir=tmp_path / "cache", data_dir=tmp_path / "data",
                  transport=transport or sb.transport)


async def test_the_bots_own_token_as_the_user_token_disables_actions(
    sb: Sandbox, log: Any, tmp_path: Path
) -> None:
    from rfctui.session import Session

    session = Session(_config(sb, tmp_path, "bot-token"))
    with pytest.raises(ActionsDisabled, match="RFCTUI_USER_TOKEN is the bot's token"):
        async with session.bot() as (bot, actor):
            await bot.claim(actor, "typed-config")
    # Refused before the actions log is even created: nothing saved, nothing sent.
    log = session.actions_log() or log
    assert sb.pulls == {} and log.all() == []
    session.close()


# Requests per fresh action, the targeted refresh included (a count, not a time):
# reads of main and the head run together, the branch is created by the commit, and a
# proposal's refresh does not ask main for a file that is only on the branch.
MAX_REQUESTS = {"propose": 5, "edit": 7, "claim": 6, "metadata": 6}


@pytest.mark.parametrize("action", ACTIONS)
async def test_requests_per_action(sb: Sandbox, log: Any, tmp_path: Path, action: str) -> None:
    from rfctui.db import open_cache
    from rfctui.reconcile import Reconciler

    cache = open_cache(tmp_path / "cache.db")
    async with _client(sb) as c:
        rec = Reconciler(c, cache, "rfcs", "meta", "rfc-bot", actions=log)
        await rec.full_sweep()

        async def refresh(slug: str | None, number: int) -> Any:
            return await rec.refresh(slug=slug, pr_number=number)

        bot = _bot(c, log, refresh=refresh, existing=cache)
        before = c.requests
        result = await _run(action, bot)
        used = c.requests - before
    print(f"{action}: {used} requests")
    assert result.refresh_error is None
    assert used <= MAX_REQUESTS[action]
    pulls = {p.number: p for p in cache.pulls_for(_path(action)[5:-3])}
    assert pulls[result.pr_number].opened_by == "ada"


class RacingTransport(httpx.AsyncBaseTransport):
    """The sandbox transport; just before the first request that `matches`, `meanwhile`
    runs to completion (another rfctui process acting at the same moment)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, matches: Any, meanwhile: Any) -> None:
        self.inner = inner
        self.matches = matches
        self.meanwhile = meanwhile
        self.raced = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.raced and self.matches(request):
            self.raced = True
            await self.meanwhile()
        return await self.inner.handle_async_request(request)


def _creates_branch(request: httpx.Request) -> bool:
    return (
        request.method == "POST"
        and request.url.path.endswith("/contents")
        and b'"new_branch"' in request.content
    )


def _creates_pull(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/pulls")


async def test_a_concurrent_run_of_the_same_action_ends_with_one_pr(
    sb: Sandbox, tmp_path: Path
) -> None:
    """Another process makes the branch, its commit and the PR while this one is between
    its checks and its writes: the 422 ("branch already exists") and the 409 on the PR
    (found again by its issue_id) both lead to that one PR, reused."""
    with open_actions(tmp_path / "a.db") as mine, open_actions(tmp_path / "b.db") as theirs:
        other = _bot(_client(sb), theirs)
        first: list[Any] = []

        async def meanwhile() -> None:
            first.append(await other.claim(ADA, "typed-config"))

        racing = RacingTransport(sb.transport, _creates_branch, meanwhile)
        result = await _bot(_client(sb, transport=racing), mine).claim(ADA, "typed-config")
        assert racing.raced
        [pr] = _pulls_for(sb, "claim/typed-config")
        assert (result.pr_number, result.reused_pr) == (pr.number, True)
        assert first[0].pr_number == pr.number and not first[0].reused_pr
        commits = await _branch_commits(_client(sb), "claim/typed-config")
        assert len(commits) == 1  # the content was there already: no second commit
        assert mine.get(result.action_id).status == "done"


async def test_a_pr_opened_meanwhile_for_someone_else_is_never_taken_over(
    sb: Sandbox, log: Any
) -> None:
    """The 409 on creating the PR names an open PR opened for grace: ada's action fails
    with a line that says whose it is, and nothing of grace's is touched."""
    raw = _client(sb)

    async def meanwhile() -> None:
        body = trailer.compose("Claim it.", "Grace Hopper", "grace")
        await raw.create_pull("rfcs", "meta", head="claim/typed-config", base="main",
                              title="Claim typed-config", body=body)

    racing = RacingTransport(sb.transport, _creates_pull, meanwhile)
    with pytest.raises(ActionFailed, match=r"already has open PR #\d+ opened for grace"):
        await _bot(_client(sb, transport=racing), log).claim(ADA, "typed-config")
    assert racing.raced
    [pr] = _pulls_for(sb, "claim/typed-config")
    assert pr.state == "open" and pr.body.endswith("On-behalf-of: Grace Hopper <grace>")
    [row] = log.all()
    assert row.status == "failed" and "opened for grace" in (row.error or "")
