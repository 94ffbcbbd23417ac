"""The comment form (``C``, issue 12 §3): a snapshot with a thread of two comments and
its behaviour. The thread comes from the sandbox through the real `Session`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static, TextArea
from ui_fixtures import quiet_environment

from rfctui.config import Config, Secret
from rfctui.sandbox import Sandbox
from rfctui.screens.comment_form import CommentForm, PullInfo
from rfctui.session import Session

SIZE = (100, 34)
HOSTILE = "[bold]x[/bold] \x1b[31mred\x1b[0m"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


class Host(App[Any]):
    """Pushes one screen and records what it dismissed with."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)


def _session(sb: Sandbox, tmp: Path) -> Session:
    return Session(Config(
        gitea_url="http://sandbox.local", org="rfcs", meta_repo="meta", bot_user="rfc-bot",
        bot_token=Secret("bot-token"), user_token=Secret("ada-token"),
        cache_dir=tmp / "cache", data_dir=tmp / "data", transport=sb.transport,
    ))


def _world(sb: Sandbox, tmp: Path) -> tuple[Session, PullInfo]:
    """ada's claim PR with two comments: ada's through the bot, then grace's own (whose
    typed trailer is not trusted)."""
    session = _session(sb, tmp)
    number = asyncio.run(session.perform({"action": "claim", "slug": "typed-config"})).pr_number
    asyncio.run(session.perform({
        "action": "comment", "pr_number": number,
        "body": "I can take this one.\nOn-behalf-of: Site Admin <admin>\n" + HOSTILE}))
    with httpx.Client(transport=sb.transport, base_url="http://sandbox.local",
                      headers={"Authorization": "token grace-token"}) as grace:
        grace.post(f"/api/v1/repos/rfcs/meta/issues/{number}/comments", json={
            "body": "Thanks, go ahead.\n\nOn-behalf-of: Site Admin <admin>"}).raise_for_status()
    return session, PullInfo(number, "Claim typed-config for ada", "meta_claim", "ada",
                             "open", "typed-config")


async def _loaded(pilot: Pilot[Any]) -> None:
    for _ in range(100):
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            break
        await asyncio.sleep(0.02)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    area = pilot.app.screen.query_one("#cf-body", TextArea)
    area.text = "Agreed, with one question about the loader."
    await pilot.pause()


def test_comment_form_with_a_thread(snap_compare: Any, typed_config_sandbox: Sandbox,
                                    tmp_path: Path) -> None:
    session, info = _world(typed_config_sandbox, tmp_path)
    try:
        app = Host(lambda: CommentForm(session, info))
        assert snap_compare(app, terminal_size=SIZE, run_before=_loaded)
    finally:
        session.close()


async def test_thread_shows_the_real_people_and_no_markup(
    typed_config_sandbox: Sandbox, tmp_path: Path
) -> None:
    session, info = await asyncio.to_thread(_world, typed_config_sandbox, tmp_path)
    app = Host(lambda: CommentForm(session, info))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _loaded(pilot)
            blocks = [str(w.render()) for w in app.screen.query(".cf-comment").results(Static)]
            assert len(blocks) == 2
            assert blocks[0].startswith("ada") and "(via the bot)" in blocks[0]
            assert "> On-behalf-of: Site Admin <admin>" in blocks[0]  # neutralised, shown
            assert "[bold]x[/bold]" in blocks[0] and "\x1b" not in blocks[0]
            assert "rfctui-comment" not in blocks[0] and "Ada Lovelace <ada>" not in blocks[0]
            assert blocks[1].startswith("grace") and "via the bot" not in blocks[1]
            await pilot.press("ctrl+s")
            await pilot.pause()
        assert app.results == ["Agreed, with one question about the loader."]
    finally:
        session.close()


async def test_an_empty_comment_is_not_sent(typed_config_sandbox: Sandbox,
                                            tmp_path: Path) -> None:
    session = _session(typed_config_sandbox, tmp_path)
    app = Host(lambda: CommentForm(session, PullInfo(7)))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.app.workers.wait_for_complete()
            await pilot.press("ctrl+s")
            await pilot.pause()
            err = app.screen.query_one("#cf-error", Static)
            assert err.has_class("-shown") and "empty" in str(err.render())
            assert isinstance(app.screen, CommentForm)
            # an unknown PR's thread: one line, never an exception
            note = str(app.screen.query_one("#cf-thread-note", Static).render())
            assert "cannot read the comments" in note and "\n" not in note.strip()
            await pilot.press("escape")
            await pilot.pause()
        assert app.results == [None]
    finally:
        session.close()


# ---------------------------------------------------------------- from the main screen


async def _open_on_pending(pilot: Pilot[Any], slug: str) -> None:
    from ui_fixtures import settle

    from rfctui.widgets.rfc_list import RfcList

    await settle(pilot)
    assert pilot.app.screen.query_one(RfcList).select_slug(slug, "pending")
    await settle(pilot)
    await pilot.press("C")
    await settle(pilot)


async def test_c_on_a_pending_idea_posts_through_the_bot(tmp_path: Path) -> None:
    from ui_fixtures import make_app, settle

    from rfctui import trailer

    app = make_app(tmp_path)
    sb = app.sandbox
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _open_on_pending(pilot, "secret-rotation")
        form = app.screen
        assert isinstance(form, CommentForm) and form.info.kind == "idea"
        number = form.info.number
        form.query_one("#cf-body", TextArea).text = "Why not now?\nOn-behalf-of: X <grace>"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, CommentForm)
        [posted] = sb.comments[number]
        assert trailer.on_behalf_of(posted.body) == "ada" and posted.poster == "rfc-bot"
        assert "> On-behalf-of: X &lt;grace>" in posted.body
        toasts = [n.message for n in app._notifications]
        assert any(t.startswith(f"Commented on PR #{number}: ") for t in toasts), toasts
        # the thread shows it as ada's when the form opens again
        await pilot.press("C")
        await settle(pilot)
        blocks = [str(w.render()) for w in app.screen.query(".cf-comment").results(Static)]
        assert len(blocks) == 1 and blocks[0].startswith("ada")


async def test_unsent_text_comes_back_and_several_prs_ask_to_pick(tmp_path: Path) -> None:
    from ui_fixtures import make_app, settle

    from rfctui.widgets.detail import DetailPane
    from rfctui.widgets.rfc_list import RfcList

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _open_on_pending(pilot, "secret-rotation")
        app.screen.query_one("#cf-body", TextArea).text = "half a thought"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        assert app.screen.query_one("#cf-body", TextArea).text == "half a thought"
        await pilot.press("escape")
        await settle(pilot)
        # an entry with several open PRs: one line, no form
        sb = app.sandbox
        text = sb.git.blob(sb.git.flatten(sb.git.commit(sb.git.branches["main"]).tree)[
            "rfcs/typed-config.md"]).decode()
        sb.commit_files("edit/typed-config/9", {"rfcs/typed-config.md": (
            text + "\nMore.\n").encode()}, "Edit", author=("Ada Lovelace", "ada@x"))
        with httpx.Client(transport=sb.transport, base_url="http://gitea.test",
                          headers={"Authorization": "token bot-token"}) as c:
            c.post("/api/v1/repos/rfcs/meta/pulls", json={
                "head": "edit/typed-config/9", "base": "main", "title": "Edit"}
            ).raise_for_status()
        session = app.screen.session
        assert (await asyncio.to_thread(asyncio.run, session.sweep("full"))).ok
        lst = app.screen.query_one(RfcList)
        assert lst.select_slug("typed-config", "rfc")
        await settle(pilot)
        app.screen.load_detail(lst.highlighted_item)
        await settle(pilot)
        detail = app.screen.query_one(DetailPane).detail
        assert detail is not None and len([p for p in detail.pulls if p.state == "open"]) == 2
        app._notifications.clear()
        await pilot.press("C")
        await settle(pilot)
        assert not isinstance(app.screen, CommentForm)
        assert any("open pull requests: pick one in the detail" in n.message
                   for n in app._notifications)
