"""`rfctui.session.Session`: the one home of the wiring (issue 10), against the sandbox.

Everything goes through the sandbox's httpx transport (the same code as over HTTP);
a counting transport wraps it where a test needs to know which requests were sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from rfctui.bot import BOT_TOKEN_AS_USER, ActionFailed, ActionsDisabled, Actor
from rfctui.config import Config, Secret
from rfctui.db import ActionStateError, open_actions
from rfctui.sandbox import Sandbox
from rfctui.session import Notice, Session, describe_error


class Counting(httpx.AsyncBaseTransport):
    """Counts ``METHOD /path`` of every request, then forwards it to the sandbox."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.seen[f"{request.method} {request.url.path.removeprefix('/api/v1')}"] += 1
        return await self.inner.handle_async_request(request)

    @property
    def who_am_i(self) -> int:
        return self.seen["GET /user"]


def config_for(tmp: Path, transport: Any, *, user: str | None = "ada-token",
               bot: str = "bot-token") -> Config:
    return Config(
        gitea_url="http://sandbox.local", org="rfcs", meta_repo="meta", bot_user="rfc-bot",
        bot_token=Secret(bot), user_token=Secret(user) if user else None,
        cache_dir=tmp / "cache", data_dir=tmp / "data", transport=transport,
    )


@pytest.fixture
def sb(typed_config_sandbox: Sandbox) -> Sandbox:
    return typed_config_sandbox


@pytest.fixture
def counting(sb: Sandbox) -> Counting:
    return Counting(sb.transport)


# ---------------------------------------------------------------- local files


def test_the_cache_is_opened_once_across_threads(tmp_path: Path, sb: Sandbox) -> None:
    session = Session(config_for(tmp_path, sb.transport))
    assert session.cache_if_open is None
    start = threading.Barrier(8)
    handles: list[Any] = []

    def grab() -> None:
        start.wait()
        handles.append(session.cache())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(handles) == 8 and all(h is handles[0] for h in handles)
        assert session.cache_if_open is handles[0]
        assert session.take_notices() == []  # a new cache is nothing to tell
    finally:
        session.close()
    assert session.cache_if_open is None


def test_an_adopted_cache_is_the_one_used_and_a_second_is_closed(
    tmp_path: Path, sb: Sandbox
) -> None:
    from rfctui.db import open_cache

    config = config_for(tmp_path, sb.transport)
    session = Session(config)
    first, second = open_cache(config.cache_file), open_cache(config.cache_file)
    session.adopt_cache(first)
    session.adopt_cache(second)
    assert session.cache() is first
    assert second.db.is_closed() and not first.db.is_closed()
    session.close()


def test_notices_are_handed_out_once(tmp_path: Path, sb: Sandbox) -> None:
    config = config_for(tmp_path, sb.transport)
    config.cache_file.parent.mkdir(parents=True)
    config.cache_file.write_bytes(b"garbage" * 100)
    session = Session(config)
    session.cache()
    session.cache()
    [notice] = session.take_notices()
    assert not notice.actions_log
    assert "moved aside" in notice.text and "\n" not in notice.text
    assert session.take_notices() == []
    session.close()


def test_the_actions_log_is_none_until_created(tmp_path: Path, sb: Sandbox) -> None:
    config = config_for(tmp_path, sb.transport)
    session = Session(config)
    assert session.actions_log() is None
    assert not config.actions_file.exists()  # asking creates nothing
    log = session.actions_log(create=True)
    assert log is not None and config.actions_file.exists()
    assert session.actions_log() is log and session.actions_log(create=True) is log
    assert session.take_notices() == []
    session.close()


def test_a_damaged_actions_log_is_told_and_tried_again(tmp_path: Path, sb: Sandbox) -> None:
    config = config_for(tmp_path, sb.transport)
    path = config.actions_file
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 100)
    session = Session(config, repair_actions=False)  # as a headless sweep
    assert session.actions_log() is None
    [notice] = session.take_notices()
    assert notice.actions_log and "left as it is" in notice.text
    assert path.read_bytes() == b"garbage" * 100  # not moved aside
    path.unlink()
    open_actions(path).close()  # someone repaired it meanwhile
    log = session.actions_log()
    assert log is not None and session.take_notices() == []
    session.close()


def test_a_repairing_session_moves_a_bad_log_aside_and_says_so(
    tmp_path: Path, sb: Sandbox
) -> None:
    config = config_for(tmp_path, sb.transport)
    config.actions_file.parent.mkdir(parents=True)
    config.actions_file.write_bytes(b"garbage" * 100)
    session = Session(config)
    assert session.actions_log() is not None
    notices = session.take_notices()
    assert [n.actions_log for n in notices] == [True]
    assert "moved aside" in notices[0].text
    session.close()


# ---------------------------------------------------------------- sweeps


def test_sweeps_run_through_the_one_reconciler(tmp_path: Path, sb: Sandbox) -> None:
    session = Session(config_for(tmp_path, sb.transport))
    seen: list[str] = []
    result = asyncio.run(session.sweep("resync", progress=lambda p: seen.append(p.phase)))
    assert result.ok and result.entries >= 1 and seen
    assert session.cache().rfc("typed-config") is not None
    quick = asyncio.run(session.sweep("quick"))
    full = asyncio.run(session.sweep("full"))
    assert quick.ok and full.ok and quick.rows_changed == 0
    session.close()


def test_a_sweep_never_raises(tmp_path: Path, sb: Sandbox) -> None:
    session = Session(config_for(tmp_path, sb.transport))
    sb.faults.down = True
    try:
        for kind in ("quick", "full", "resync"):
            result = asyncio.run(session.sweep(kind))  # type: ignore[arg-type]
            assert not result.ok and result.offline, result
            assert result.error and "\n" not in result.error
            assert "cannot reach Gitea" in result.error and "token" not in result.error
    finally:
        sb.faults.down = False
    session.close()
    # A cache that cannot even be opened is a failed sweep too, not a traceback.
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be")
    config = config_for(tmp_path, sb.transport)
    session = Session(dataclasses.replace(config, cache_dir=blocked))
    result = asyncio.run(session.sweep("quick"))
    assert not result.ok and not result.offline and result.error
    session.close()


def test_describe_error_says_whether_gitea_is_unreachable() -> None:
    from rfctui.gitea import GiteaUnreachable

    text, offline = describe_error(GiteaUnreachable(None, "cannot reach Gitea at x", "u"))
    assert offline and text == "cannot reach Gitea at x"
    text, offline = describe_error(RuntimeError("two\nlines"))
    assert not offline and text == "two lines"
    assert describe_error(RuntimeError()) == ("RuntimeError", False)


def test_the_reader_client_reads_with_the_users_token(tmp_path: Path, sb: Sandbox) -> None:
    tokens: set[str] = set()

    class Tokens(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            tokens.add(request.headers.get("authorization", ""))
            return await sb.transport.handle_async_request(request)

    session = Session(config_for(tmp_path, sb.transport), transport=Tokens())
    assert asyncio.run(session.sweep("resync")).ok
    assert tokens == {"token ada-token"}
    assert "ada-token" not in repr(session) and "bot-token" not in repr(session)
    session.close()


# ---------------------------------------------------------------- identity


def test_identify_asks_gitea_once_per_session(
    tmp_path: Path, sb: Sandbox, counting: Counting
) -> None:
    session = Session(config_for(tmp_path, counting))
    assert session.actor is None

    async def twice_at_once() -> list[Actor]:
        return list(await asyncio.gather(session.identify(), session.identify()))

    first, second = asyncio.run(twice_at_once())
    assert first == second == Actor("ada", "Ada Lovelace") and not first.offline
    results: list[Actor] = []
    threads = [threading.Thread(target=lambda: results.append(asyncio.run(session.identify())))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [first] * 4 and session.actor == first
    asyncio.run(session.perform({"action": "claim", "slug": "typed-config"}))
    assert counting.who_am_i == 1
    assert Session(config_for(tmp_path, counting)).known_actor() == first  # identity file
    session.close()


def test_offline_identify_falls_back_to_the_identity_file(
    tmp_path: Path, sb: Sandbox, counting: Counting
) -> None:
    config = config_for(tmp_path, counting)
    never = Session(config)
    sb.faults.down = True
    try:
        actor = asyncio.run(never.identify())
        assert actor.offline and actor.login == "" and never.offline_reason
        assert never.known_actor() is None
    finally:
        sb.faults.down = False
    asyncio.run(Session(config).identify())  # verified once on this machine
    session = Session(config)
    sb.faults.down = True
    try:
        actor = asyncio.run(session.identify())
        assert actor.offline and actor.login == "ada" and actor.full_name == "Ada Lovelace"
        assert session.offline_reason and "cannot verify" not in session.offline_reason
        assert session.actor is None  # not remembered: verified again next time
    finally:
        sb.faults.down = False
    before = counting.who_am_i
    again = asyncio.run(session.identify())
    assert not again.offline and session.offline_reason is None
    assert counting.who_am_i == before + 1 and session.actor == again


def test_the_bots_token_as_the_users_token_is_refused(
    tmp_path: Path, sb: Sandbox, counting: Counting
) -> None:
    session = Session(config_for(tmp_path, counting, user="bot-token"))
    with pytest.raises(ActionsDisabled, match=BOT_TOKEN_AS_USER):
        asyncio.run(session.identify())
    assert counting.who_am_i == 0  # refused before anything was sent
    no_token = Session(config_for(tmp_path, counting, user=None))
    with pytest.raises(ActionsDisabled, match="RFCTUI_USER_TOKEN"):
        asyncio.run(no_token.identify())
    assert no_token.known_actor() is None


# ---------------------------------------------------------------- actions


def test_perform_ends_with_the_pr_and_a_targeted_refresh(
    tmp_path: Path, sb: Sandbox, counting: Counting
) -> None:
    session = Session(config_for(tmp_path, counting))
    assert asyncio.run(session.sweep("resync")).ok
    counting.seen.clear()
    result = asyncio.run(session.perform({"action": "claim", "slug": "typed-config"}))
    assert result.pr_number and result.branch == "claim/typed-config"
    [pr] = [p for p in sb.pulls.values() if p.head == "claim/typed-config"]
    assert pr.number == result.pr_number
    row = session.cache().pull(result.pr_number)  # refreshed without a sweep
    assert row is not None and result.refresh_error is None
    log = session.actions_log()
    assert log is not None and log.get(result.action_id).status == "done"  # type: ignore[union-attr]
    assert counting.who_am_i == 1 and not counting.seen["GET /repos/rfcs/meta/pulls"]
    with pytest.raises(ActionStateError):
        session.discard(result.action_id)  # a done action attributes the PR (§6.3)
    session.close()


def test_retry_sends_a_failed_action_again(tmp_path: Path, sb: Sandbox) -> None:
    bad = Session(config_for(tmp_path, sb.transport, bot="not-the-bot-secret"))
    with pytest.raises(ActionFailed) as failed:
        asyncio.run(bad.perform({"action": "claim", "slug": "typed-config"}))
    action_id = failed.value.action_id
    assert action_id and not failed.value.offline
    assert "not-the-bot-secret" not in str(failed.value)
    bad.close()
    session = Session(config_for(tmp_path, sb.transport))
    result = asyncio.run(session.retry(action_id))
    assert result.action_id == action_id
    [pr] = [p for p in sb.pulls.values() if p.head == "claim/typed-config"]
    assert pr.number == result.pr_number
    assert session.cache().pull(pr.number) is not None
    session.close()


def test_discard_forgets_a_failed_action(tmp_path: Path, sb: Sandbox) -> None:
    session = Session(config_for(tmp_path, sb.transport, bot="not-the-bot-secret"))
    with pytest.raises(ActionStateError, match="no action #1 in the log"):
        session.discard(1)  # no log yet
    with pytest.raises(ActionFailed) as failed:
        asyncio.run(session.perform({"action": "claim", "slug": "typed-config"}))
    assert failed.value.action_id is not None
    with pytest.raises(ActionStateError, match="no action #99 in the log"):
        session.discard(99)
    session.discard(failed.value.action_id)
    log = session.actions_log()
    assert log is not None and log.failed() == [] and log.pending() == []
    session.close()


def test_an_unopenable_cache_does_not_stop_an_action(tmp_path: Path, sb: Sandbox) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be")
    config = config_for(tmp_path, sb.transport)
    session = Session(dataclasses.replace(config, cache_dir=blocked))
    result = asyncio.run(session.perform({"action": "claim", "slug": "typed-config"}))
    assert result.pr_number
    notices = session.take_notices()
    assert notices and notices == [Notice(notices[0].text)]  # the cache's, one line
    session.close()
