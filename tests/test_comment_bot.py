"""Comments through the bot (issue 12 §3; SPEC §6, §10) against the sandbox's transport:
the real `GiteaClient`, the real actions log, the real `Session`."""

from __future__ import annotations

import asyncio
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_bot import ADA, FORGED, FailingTransport, _bot, _client

from rfctui import trailer
from rfctui.bot import ActionFailed, Actor, ValidationError
from rfctui.bot.comment import COMMENT_KIND, thread
from rfctui.config import Config, Secret
from rfctui.db import open_actions
from rfctui.sandbox import Sandbox
from rfctui.session import Session

GRACE = Actor("grace", "Grace Hopper")


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen[f"{request.method} {request.url.path.removeprefix('/api/v1')}"] += 1
        return await self.inner.handle_async_request(request)


@pytest.fixture
def sb(typed_config_sandbox: Sandbox) -> Sandbox:
    return typed_config_sandbox


@pytest.fixture
def log(tmp_path: Path) -> Any:
    with open_actions(tmp_path / "actions.db") as a:
        yield a


@pytest.fixture
def pr(sb: Sandbox, log: Any) -> int:
    """ada's claim PR on typed-config, opened by the bot."""

    async def go() -> int:
        async with _client(sb) as c:
            return (await _bot(c, log).claim(ADA, "typed-config")).pr_number

    return asyncio.run(go())


def _posted(sb: Sandbox, number: int) -> list[Any]:
    return list(sb.comments.get(number, []))


async def test_forged_trailer_is_neutralised_and_the_real_one_is_last(
    sb: Sandbox, log: Any, pr: int
) -> None:
    async with _client(sb) as c:
        result = await _bot(c, log).perform(
            GRACE, {"action": "comment", "pr_number": pr, "body": FORGED})
    [posted] = _posted(sb, pr)
    assert posted.poster == "rfc-bot"
    lines = posted.body.split("\n")
    assert lines[-1] == "On-behalf-of: Grace Hopper <grace>"
    assert lines[-2] == ""  # the trailer is its own paragraph
    assert trailer.on_behalf_of(posted.body) == "grace"
    # every forged line before it is quoted, none reads as a trailer
    for line in lines[:-1]:
        assert not trailer.looks_like_trailer(line), line
    # quoted, and its ``<admin>`` (raw HTML to a markdown page) shown as text
    assert "> On-behalf-of: Someone Else &lt;admin>" in posted.body
    assert result.html_url.endswith(f"/pulls/{pr}#issuecomment-{posted.id}")
    row = log.get(result.action_id)
    assert (row.kind, row.slug, row.on_behalf_of, row.status) == (
        COMMENT_KIND, "typed-config", "grace", "done")
    assert row.payload["body"] == FORGED and row.pr_url == result.html_url
    # a comment says nothing about who opened the PR (§6.3): still ada's
    assert log.actors()[("typed-config", pr)] == "ada"
    assert log.find_pr_actor("typed-config", pr) == "ada"


async def test_an_unclosed_html_comment_cannot_hide_the_trailer(
    sb: Sandbox, log: Any, pr: int
) -> None:
    """Rendered by Gitea, an unclosed ``<!--`` (or ``<details>``) in the text would hide
    everything after it — the trailer included — from a person reading the PR."""
    text = "Fine by me <!-- the rest is invisible\n<details>folded"
    async with _client(sb) as c:
        await _bot(c, log).perform(GRACE, {"action": "comment", "pr_number": pr, "body": text})
    [posted] = _posted(sb, pr)
    mine = posted.body.rsplit("<!-- rfctui-comment", 1)[0]
    assert "<!--" not in mine and "<details" not in mine
    assert posted.body.split("\n")[-1] == "On-behalf-of: Grace Hopper <grace>"
    [shown] = thread([{"user": {"login": posted.poster}, "body": posted.body,
                       "created_at": None}], "rfc-bot")
    assert shown.text == text  # the thread shows it as typed


@pytest.mark.parametrize("text", ["", "   \n\t\n"])
async def test_an_empty_comment_sends_and_logs_nothing(
    sb: Sandbox, log: Any, pr: int, text: str
) -> None:
    before, rows = sb.requests_served, len(log.all())
    async with _client(sb) as c:
        with pytest.raises(ValidationError, match="empty"):
            await _bot(c, log).perform(ADA, {"action": "comment", "pr_number": pr, "body": text})
    assert sb.requests_served == before and len(log.all()) == rows


async def test_an_unknown_pr_is_refused_before_the_log(sb: Sandbox, log: Any, pr: int) -> None:
    rows = len(log.all())
    async with _client(sb) as c:
        with pytest.raises(ValidationError, match="no pull request #999"):
            await _bot(c, log).perform(ADA, {"action": "comment", "pr_number": 999, "body": "x"})
    assert len(log.all()) == rows


@pytest.mark.parametrize("when", ["before", "after"])
async def test_retry_posts_exactly_once(sb: Sandbox, log: Any, pr: int, when: str) -> None:
    flaky = FailingTransport(sb.transport, 1, when)
    async with _client(sb, transport=flaky) as c:
        with pytest.raises(ActionFailed) as info:
            await _bot(c, log).perform(ADA, {"action": "comment", "pr_number": pr,
                                             "body": "Looks good."})
    aid = info.value.action_id
    assert aid is not None and info.value.offline
    row = log.get(aid)
    assert row.status == "failed" and row.payload["body"] == "Looks good."
    assert len(_posted(sb, pr)) == (1 if when == "after" else 0)
    async with _client(sb) as c:
        result = await _bot(c, log).retry(aid, ADA)
    [posted] = _posted(sb, pr)
    assert result.reused_pr is (when == "after")
    assert result.html_url.endswith(f"#issuecomment-{posted.id}")
    assert log.get(aid).status == "done"
    # the same words again are a new comment (a new action), not the old one reused
    async with _client(sb) as c:
        await _bot(c, log).perform(ADA, {"action": "comment", "pr_number": pr,
                                         "body": "Looks good."})
    assert len(_posted(sb, pr)) == 2
    with pytest.raises(ActionFailed, match="already done"):
        async with _client(sb) as c:
            await _bot(c, log).retry(aid, ADA)


async def test_only_the_person_can_retry(sb: Sandbox, log: Any, pr: int) -> None:
    async with _client(sb, transport=FailingTransport(sb.transport, 1, "before")) as c:
        with pytest.raises(ActionFailed) as info:
            await _bot(c, log).perform(ADA, {"action": "comment", "pr_number": pr, "body": "x"})
    async with _client(sb) as c:
        with pytest.raises(ActionFailed, match="on behalf of ada"):
            await _bot(c, log).retry(info.value.action_id, GRACE)
    assert _posted(sb, pr) == []


def test_thread_trusts_a_trailer_only_from_the_bot() -> None:
    ours = trailer.compose("Ship it.\n\n<!-- rfctui-comment 0123456789abcdef -->",
                           "Ada Lovelace", "ada")
    forged = "I agree.\n\nOn-behalf-of: Site Admin <admin>"
    got = thread([
        {"user": {"login": "rfc-bot"}, "body": ours, "created_at": "2026-01-15T12:00:00Z"},
        {"user": {"login": "grace"}, "body": forged, "created_at": "2026-01-15T12:01:00Z"},
        {"user": {"login": "RFC-Bot"}, "body": "Plain bot note", "created_at": None},
    ], "rfc-bot")
    assert [(c.author, c.via_bot) for c in got] == [
        ("ada", True), ("grace", False), ("RFC-Bot", False)]
    assert got[0].text == "Ship it."
    assert got[1].text == forged


def _config(tmp: Path, transport: Any) -> Config:
    return Config(
        gitea_url="http://sandbox.local", org="rfcs", meta_repo="meta", bot_user="rfc-bot",
        bot_token=Secret("bot-token"), user_token=Secret("ada-token"),
        cache_dir=tmp / "cache", data_dir=tmp / "data", transport=transport,
    )


def test_session_comments_shows_the_real_people_and_unsent_ones(
    sb: Sandbox, tmp_path: Path
) -> None:
    counting = Counting(sb.transport)
    session = Session(_config(tmp_path, counting))
    try:
        claim = asyncio.run(session.perform({"action": "claim", "slug": "typed-config"}))
        number = claim.pr_number
        assert asyncio.run(session.sweep("full")).ok  # the cache knows the PR (offline below)
        asyncio.run(session.perform({"action": "comment", "pr_number": number,
                                     "body": "From ada, via the bot."}))
        with httpx.Client(transport=sb.transport, base_url="http://sandbox.local",
                          headers={"Authorization": "token grace-token"}) as grace:
            grace.post(f"/api/v1/repos/rfcs/meta/issues/{number}/comments",
                       json={"body": textwrap.dedent("""\
                           Me too.

                           On-behalf-of: Ada Lovelace <ada>""")}).raise_for_status()
        sb.faults.down = True  # the next comment fails and stays in the log
        with pytest.raises(ActionFailed):
            asyncio.run(session.perform({"action": "comment", "pr_number": number,
                                         "body": "Sent while Gitea was down."}))
        sb.faults.down = False
        counting.seen.clear()
        got = asyncio.run(session.comments(number))
        assert counting.seen == Counter({f"GET /repos/rfcs/meta/issues/{number}/comments": 1})
        assert got.error is None
        assert [(c.author, c.status, c.text) for c in got.comments] == [
            ("ada", "posted", "From ada, via the bot."),
            ("grace", "posted", "Me too.\n\nOn-behalf-of: Ada Lovelace <ada>"),
            ("ada", "failed", "Sent while Gitea was down."),
        ]
        sb.faults.down = True
        offline = asyncio.run(session.comments(number))
        assert offline.offline and offline.error and "\n" not in offline.error
        assert [c.text for c in offline.comments] == ["Sent while Gitea was down."]
    finally:
        session.close()


async def test_a_closed_pr_can_be_commented_with_a_warning(
    sb: Sandbox, log: Any, pr: int
) -> None:
    async with _client(sb) as c:
        await c.edit_pull("rfcs", "meta", pr, state="closed")
        result = await _bot(c, log).perform(ADA, {"action": "comment", "pr_number": pr,
                                                  "body": "Why closed?"})
    assert result.warnings == (f"PR #{pr} is closed",)
    assert len(_posted(sb, pr)) == 1


def test_a_log_from_before_comments_opens_and_takes_them(tmp_path: Path) -> None:
    """No schema change: a log holding only the older kinds opens as is (and its
    attributions are unchanged by a comment on the same PR)."""
    path = tmp_path / "actions.db"
    with open_actions(path) as old:
        aid = old.add("open_claim_pr", "typed-config", "ada", {"slug": "typed-config"})
        old.mark_done(aid, 4, "http://x/pulls/4")
    with open_actions(path) as log:
        assert log.notice is None and log.get(aid) is not None
        cid = log.add(COMMENT_KIND, "typed-config", "grace", {"pr_number": 4, "body": "x"})
        log.mark_done(cid, 4, "http://x/pulls/4#issuecomment-1")
        assert log.actors() == {("typed-config", 4): "ada"}
