"""Logins ignore case, as Gitea's do (SPEC §6.3, §9; issue 9 item 5).

The sandbox's bot is ``rfc-bot``; these tests configure it as ``RFC-Bot`` (as a person
might type it) and check that nothing is attributed to, or refused because of, a
difference in case. Everything runs against `rfctui.sandbox` with the real client,
bot, actions log and reconciler.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from rfctui import trailer
from rfctui.bot import ActionFailed, ActionsDisabled, Actor, Bot
from rfctui.db import open_actions, open_cache
from rfctui.filtering import parse_query
from rfctui.gitea import GiteaClient
from rfctui.logins import login_key, same_login
from rfctui.reconcile import Reconciler
from rfctui.rows import ListItem
from rfctui.sandbox import Sandbox

BASE_URL = "http://gitea.test"
FIXED = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
ADA = Actor("ada", "Ada Lovelace")
BOT_AS_TYPED = "RFC-Bot"


@pytest.fixture
def sb(typed_config_sandbox: Sandbox) -> Sandbox:
    return typed_config_sandbox


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Any]:
    with open_actions(tmp_path / "actions.db") as a:
        yield a


def _client(sb: Sandbox, transport: Any = None) -> GiteaClient:
    return GiteaClient(BASE_URL, "bot-token", transport=transport or sb.transport, retries=0)


def _bot(client: GiteaClient, log: Any, bot_login: str = BOT_AS_TYPED) -> Bot:
    return Bot(client, "rfcs", "meta", bot_login, log, clock=lambda: FIXED)


class _FirstWriteRefused(httpx.AsyncBaseTransport):
    """The sandbox transport whose first write never reaches Gitea."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.writes = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" and not request.url.path.endswith("/file-contents"):
            self.writes += 1
            if self.writes == 1:
                raise httpx.ConnectError("injected: refused", request=request)
        return await self.inner.handle_async_request(request)


def test_helpers() -> None:
    assert login_key("RFC-Bot") == "rfc-bot" and login_key(None) == ""
    assert same_login("ADA", "ada") and same_login("Ada", "aDA")
    assert not same_login("ada", "grace")
    assert not same_login("", "") and not same_login(None, "ada")


async def test_reconciler_attributes_bot_prs_to_the_person_whatever_the_bots_case(
    sb: Sandbox, tmp_path: Path
) -> None:
    """§6.3: Gitea says ``rfc-bot`` opened it; configured as ``RFC-Bot`` that is still
    the bot, so the trailer's person is the actor (no actions log here)."""
    async with _client(sb) as c:
        result = await _bot(c, open_actions(tmp_path / "other.db")).edit_body(
            ADA, "typed-config", "Better body.")
        assert sb.pulls[result.pr_number].poster == "rfc-bot"
        cache = open_cache(tmp_path / "cache.db")
        await Reconciler(c, cache, "rfcs", "meta", BOT_AS_TYPED).full_sweep()
    pulls = {p.number: p for p in cache.pulls_for("typed-config")}
    assert pulls[result.pr_number].opened_by == "ada"


@pytest.mark.parametrize("action", ["edit", "claim"])
async def test_the_persons_own_open_pr_is_reused_not_refused(
    sb: Sandbox, log: Any, action: str
) -> None:
    """With the bot configured as ``RFC-Bot``, ada's second identical action finds her
    own open PR (opened by ``rfc-bot`` on her behalf) and reuses it."""
    async with _client(sb) as c:
        bot = _bot(c, log)
        if action == "edit":
            first = await bot.edit_body(ADA, "typed-config", "Same text.")
            again = await bot.edit_body(ADA, "typed-config", "Same text.")
        else:
            first = await bot.claim(ADA, "typed-config")
            again = await bot.claim(ADA, "typed-config")
    assert (again.pr_number, again.reused_pr) == (first.pr_number, True)
    assert len(sb.pulls) == 1


async def test_actions_log_actor_compares_ignoring_case(sb: Sandbox, log: Any) -> None:
    """The log says the PR was opened for ``ADA`` (the case Gitea returned then); the
    same account verified as ``ada`` owns it and reuses it."""
    async with _client(sb) as c:
        first = await _bot(c, log, "rfc-bot").claim(Actor("ADA", "Ada Lovelace"), "typed-config")
        assert trailer.on_behalf_of(sb.pulls[first.pr_number].body) == "ADA"
        again = await _bot(c, log, "rfc-bot").claim(ADA, "typed-config")
    assert (again.pr_number, again.reused_pr) == (first.pr_number, True)


async def test_retry_ownership_ignores_case(sb: Sandbox, log: Any) -> None:
    async with _client(sb, _FirstWriteRefused(sb.transport)) as c:
        with pytest.raises(ActionFailed) as info:
            await _bot(c, log).claim(Actor("Ada", "Ada Lovelace"), "typed-config")
    action_id = info.value.action_id
    assert action_id is not None
    async with _client(sb) as c:
        with pytest.raises(ActionFailed, match="on behalf of Ada"):
            await _bot(c, log).retry(action_id, Actor("grace", "Grace Hopper"))
        result = await _bot(c, log).retry(action_id, ADA)
    assert log.get(action_id).status == "done"
    assert sb.pulls[result.pr_number].state == "open"


async def test_the_bot_in_another_case_is_still_the_bot(
    sb: Sandbox, log: Any, tmp_path: Path
) -> None:
    """§6.2: the bot acting on behalf of itself is refused, however its login is cased."""
    from rfctui.config import Config, Secret
    from rfctui.session import Session

    config = Config(gitea_url=BASE_URL, bot_user=BOT_AS_TYPED, bot_token=Secret("bot-token"),
                    user_token=Secret("ada-token"), cache_dir=tmp_path / "cache",
                    data_dir=tmp_path / "data", transport=sb.transport)
    # The user token verifies as ``rfc-bot`` (not the configured bot token, so only the
    # login comparison can refuse it).
    as_bot = replace(config, user_token=Secret("bot-token"), bot_token=Secret("other"))
    with pytest.raises(ActionsDisabled):
        async with Session(as_bot).bot():
            pass
    session = Session(config)
    async with session.bot() as (bot, actor):
        assert actor.login == "ada"
        result = await bot.claim(actor, "typed-config")
    session.close()
    assert trailer.on_behalf_of(sb.pulls[result.pr_number].body) == "ada"


def _item(**kw: Any) -> ListItem:
    return ListItem(kind="rfc", slug="x", title="X", state="idea", **kw)


@pytest.mark.parametrize(
    ("item", "query"),
    [
        (_item(owners=("ada",)), "mine"),
        (_item(arbiters=("Ada",)), "mine"),
        (_item(proposed_by="ada"), "mine"),
        (_item(owners=("Ada",)), "owner:ADA"),
        (_item(arbiters=("grace",)), "arbiter:GRA*"),
    ],
)
def test_filters_ignore_login_case(item: ListItem, query: str) -> None:
    assert parse_query(query, login="ADA").matches(item)
    assert not parse_query(query, login="ADA").matches(_item(owners=("grace-x",)))
