"""Pilot tests: navigation, filtering, folding, sync messages, offline, links (issue 4).

The data is real: a cache built by the Reconciler from the sample sandbox
(tests/ui_fixtures.py); syncing tests talk to that sandbox through its httpx transport.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.message import Message
from ui_fixtures import (
    BASE_URL,
    HOSTILE_SLUG,
    OTHER_SLUG,
    REMOVED_SLUG,
    big_body_cache,
    fixed_clock,
    make_app,
    make_sandbox,
    quiet_environment,
    settle,
)

from rfctui.app import BindingsProvider, RfcApp
from rfctui.config import Config
from rfctui.messages import CacheNotice, ItemsLoaded, SyncFinished, SyncStarted
from rfctui.screens.help import HelpScreen
from rfctui.screens.main import ConfirmOpen, MainScreen
from rfctui.session import Session
from rfctui.widgets.detail import DetailPane
from rfctui.widgets.filter_input import FilterInput
from rfctui.widgets.rfc_list import RfcList
from rfctui.widgets.status import StatusLine

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


def rfc_list(app: Any) -> RfcList:
    return app.screen.query_one(RfcList)


def status(app: Any) -> StatusLine:
    return app.screen.query_one(StatusLine)


def shown_slugs(app: Any) -> list[str]:
    return [r.item.slug for r in rfc_list(app).rows if r.item is not None]


async def test_first_paint_from_cache_then_navigation(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        # The whole cache is shown (read at start-up, so no ItemsLoaded round trip).
        cached = app.session.cache().list_items(now=fixed_clock())
        assert len(app.screen.items) == len(cached) and app.screen._loaded_once
        assert lst.has_focus
        first = lst.highlighted_item
        assert first is not None and first.kind == "pending"  # the triage queue first
        assert app.screen.query_one(DetailPane).item == first
        await pilot.press("j")
        await settle(pilot)
        second = lst.highlighted_item
        assert second is not None and second != first
        assert app.screen.query_one(DetailPane).item == second
        await pilot.press("enter")  # read it: focus moves to the detail
        assert isinstance(app.focused, DetailPane)
        await pilot.press("escape")
        assert lst.has_focus and lst.highlighted_item == second
        await pilot.press("k", "k")  # onto the "Pending ideas" header
        assert lst.highlighted_row is not None and lst.highlighted_row.is_header
        await pilot.press("G")
        assert lst.cursor == len(lst.rows) - 1
        await pilot.press("g")
        assert lst.cursor == 0
        await pilot.press("end", "home", "pagedown")
        assert lst.cursor > 0
        await pilot.press("pageup", "down", "up")
        assert lst.cursor == 0
        highlighted = [m for m in messages if isinstance(m, RfcList.Highlighted)]
        assert highlighted and highlighted[-1].item is None  # on the header again


async def test_click_selects_a_row(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        await pilot.click(RfcList, offset=(10, 3))
        assert lst.cursor == 3
        await settle(pilot)
        assert app.screen.query_one(DetailPane).item == lst.highlighted_item


async def test_filter_narrows_and_escape_twice_clears(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        everything = shown_slugs(app)
        await pilot.press("slash")
        assert isinstance(app.focused, FilterInput)
        await pilot.press(*"state:graduated")
        graduated = shown_slugs(app)
        assert graduated and len(graduated) < len(everything)
        assert all(r.group == "graduated" for r in rfc_list(app).rows)
        assert status(app).shown == len(graduated)
        await pilot.press(*" -owner:barbara")
        assert "api-versioning" not in shown_slugs(app)
        await pilot.press("escape")  # back to the list, filter kept
        assert isinstance(app.focused, RfcList)
        assert app.screen.query_one(FilterInput).value
        assert len(shown_slugs(app)) < len(everything)
        await pilot.press("escape")  # on the list: clears
        assert app.screen.query_one(FilterInput).value == ""
        assert shown_slugs(app) == everything
        assert status(app).shown is None


async def test_filter_free_text_and_no_match(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzzz-nothing")
        assert shown_slugs(app) == []
        assert "Nothing matches" in rfc_list(app).empty_message
        await pilot.press("escape", "escape")
        await pilot.press("slash", *"postgres-upgrade")
        assert shown_slugs(app) == ["postgres-upgrade-cadence"]


async def test_mine_needs_login_then_works(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"mine")
        assert shown_slugs(app) == []
        assert status(app).hint and "login" in status(app).hint
        screen = app.screen
        assert isinstance(screen, MainScreen)
        from rfctui.messages import UserIdentified

        screen.post_message(UserIdentified("ada", "Ada Lovelace"))
        await settle(pilot)
        mine = shown_slugs(app)
        assert "typed-config" in mine and status(app).hint is None


async def test_pending_ideas_fold_and_unfold(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        pending = [r for r in lst.rows if r.item is not None and r.item.kind == "pending"]
        assert len(pending) == 4
        await pilot.press("g", "enter")
        header = lst.rows[0]
        assert header.is_header and header.collapsed and header.count == 4
        assert not any(r.item is not None and r.item.kind == "pending" for r in lst.rows)
        assert lst.cursor == 0
        await pilot.press("space")
        assert len([r for r in lst.rows if r.item and r.item.kind == "pending"]) == 4
        await pilot.press("j", "h")  # fold from inside the group
        assert lst.rows[0].collapsed and lst.cursor == 0
        await pilot.press("l")
        assert not lst.rows[0].collapsed


async def test_pending_idea_detail_shows_the_proposal(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rfc_list(app).select_slug("secret-rotation", "pending")
        await settle(pilot)
        pane = app.screen.query_one(DetailPane)
        assert pane.item is not None and pane.item.kind == "pending"
        meta = str(pane.query_one("#detail-meta").render())
        assert "pending idea" in meta and "pull request #" in meta
        body = pane.query_one("#detail-body")
        assert "On-behalf-of" in body.source and "\\<" in body.source


async def test_unknown_state_is_listed_under_other(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = rfc_list(app).rows
        headers = [r.group for r in rows if r.is_header]
        assert headers[-1] == "other"
        others = [r.item.slug for r in rows if r.item is not None and r.group == "other"]
        assert others == [OTHER_SLUG]
        await pilot.press("slash", *"state:in-review")
        assert shown_slugs(app) == [OTHER_SLUG]


async def test_removed_entry_is_listed_and_marked(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rfc_list(app).select_slug(REMOVED_SLUG)
        await settle(pilot)
        item = rfc_list(app).highlighted_item
        assert item is not None and item.removed
        meta = str(app.screen.query_one("#detail-meta").render())
        assert "removed from the repository" in meta


async def test_hostile_entry_is_inert(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rfc_list(app).select_slug(HOSTILE_SLUG)
        await settle(pilot)
        title = str(app.screen.query_one("#detail-title").render())
        assert "[@click=app.quit]" in title and "\u202e" not in title
        # Clicking the title (a would-be action link) does nothing.
        await pilot.click("#detail-title", offset=(12, 0))
        await pilot.click(RfcList, offset=(30, rfc_list(app).cursor))
        await settle(pilot)
        assert app.is_running
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x9b" not in svg
        assert "[bold]Boom[/bold]" in svg.replace("&#160;", " ")


async def test_links_in_the_body_open_from_the_keyboard(tmp_path: Path) -> None:
    from rfctui.screens.links import LinksScreen

    app = make_app(tmp_path)
    opened: list[str] = []
    app.open_in_browser = opened.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert rfc_list(app).select_slug(HOSTILE_SLUG)
        await settle(pilot)
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(app.screen, LinksScreen)
        # javascript: is no link at all; escape sequences were cleaned out before.
        assert app.screen.links == [("a web link", "https://example.org/x")]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LinksScreen) and opened == []
        await pilot.press("L")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert opened == ["https://example.org/x"]
        assert not isinstance(app.screen, LinksScreen)
        # An entry without links says so, and opens nothing.
        assert rfc_list(app).select_slug(OTHER_SLUG)
        await settle(pilot)
        await pilot.press("L")
        await pilot.pause()
        assert not isinstance(app.screen, LinksScreen)
        assert any(n.message == "No links in this body." for n in app._notifications)
        assert opened == ["https://example.org/x"]


async def test_a_body_with_raw_html_loses_nothing(tmp_path: Path) -> None:
    """Markdown drops raw HTML blocks; the detail pane shows them as code instead."""
    import re

    from textual.app import App, ComposeResult

    from rfctui.rows import ListItem, RFCDetail

    body = (
        "Before.\n\n<details>\n<summary>Alternatives considered</summary>\n\n"
        "We looked at Bazel.\n</details>\n\n"
        '<div align="center">Centred words</div>\n'
    )
    item = ListItem(kind="rfc", slug="html-body", title="HTML body", state="idea")
    detail = RFCDetail(
        slug="html-body", title="HTML body", state="idea", rfc_id=None, repo=None,
        proposed_by="ada", proposed_at=None, graduated_at=None, graduated_by=None,
        owners=(), arbiters=(), tags=(), body=body, removed=False, state_since=None,
        html_url=None,
    )

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield DetailPane(clock=fixed_clock)

    app = One()
    async with app.run_test(size=(100, 40)) as pilot:
        app.query_one(DetailPane).show(item, detail, [])
        for _ in range(5):
            await pilot.pause(0.05)
        text = re.sub(r"<[^>]+>", "", app.export_screenshot()).replace("&#160;", " ")
        for words in ("Before.", "Alternatives considered", "We looked at Bazel.",
                      "Centred words", "&lt;details&gt;"):
            assert words in text, words


async def test_links_list_never_opens_other_schemes(tmp_path: Path) -> None:
    from rfctui.screens.links import LinksScreen

    app = make_app(tmp_path)
    picked: list[str | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        links = [("mail us", "mailto:rfc@example.org"), ("the spec", "https://e.org/s")]
        app.push_screen(LinksScreen(links, [False, True]), picked.append)
        await pilot.pause()
        await pilot.press("k", "k", "enter")  # the mailto row cannot be chosen
        await pilot.pause()
        assert picked == ["https://e.org/s"]


async def test_sync_messages_and_refresh(tmp_path: Path) -> None:
    sb = make_sandbox()
    app = make_app(tmp_path, sync=True, sandbox=sb)
    messages: list[Message] = []
    rows_at_sync_start: list[int] = []

    def hook(message: Message) -> None:
        messages.append(message)
        if isinstance(message, SyncStarted) and not rows_at_sync_start:
            rows_at_sync_start.append(len(app.screen.query_one(RfcList).rows))

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(pilot)
        kinds = [
            type(m).__name__
            for m in messages
            if isinstance(m, ItemsLoaded | SyncStarted | SyncFinished)
        ]
        # The cache is on screen before the first sweep starts (§7.1).
        assert rows_at_sync_start and rows_at_sync_start[0] > 0
        # The first sweep starts once the cache is shown; its result is shown after it
        # (the post-paint read of the whole list may come before or after it).
        assert "SyncStarted" in kinds and "SyncFinished" in kinds, kinds
        assert kinds.index("SyncStarted") < kinds.index("SyncFinished"), kinds
        assert "ItemsLoaded" in kinds[kinds.index("SyncFinished") :], kinds
        finished = [m for m in messages if isinstance(m, SyncFinished)]
        assert finished[0].result.kind == "full" and finished[0].result.ok
        assert status(app).login == "ada"
        # Out-of-band change, then r: a quick sweep brings it in.
        sb.commit_files(
            "main",
            {"rfcs/brand-new.md": b"---\nslug: brand-new\ntitle: Brand new\nstate: idea\n---\n"},
            "Add brand-new",
        )
        messages.clear()
        await pilot.press("r")
        await settle(pilot)
        started = [m for m in messages if isinstance(m, SyncStarted)]
        done = [m for m in messages if isinstance(m, SyncFinished)]
        assert [m.kind for m in started] == ["quick"]
        assert done and done[-1].result.ok
        assert "brand-new" in shown_slugs(app)
        messages.clear()
        await pilot.press("R")
        await settle(pilot)
        assert [m.kind for m in messages if isinstance(m, SyncStarted)] == ["full"]


async def test_offline_then_back_online(tmp_path: Path) -> None:
    sb = make_sandbox()
    sb.faults.down = True
    app = make_app(tmp_path, sync=True, sandbox=sb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        st = status(app)
        assert st.offline and st.error
        assert shown_slugs(app)  # still fully usable from the cache
        await pilot.press("j", "slash", *"tag:dx", "escape")
        assert shown_slugs(app)
        sb.faults.down = False
        await pilot.press("r")
        await settle(pilot)
        assert not st.offline and st.error is None


async def test_server_error_is_one_line(tmp_path: Path) -> None:
    sb = make_sandbox()
    sb.faults.error_rate = 1.0
    app = make_app(tmp_path, sync=True, sandbox=sb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        st = status(app)
        assert st.error and "\n" not in st.error and not st.offline
        assert "bot-token" not in st.error


async def test_open_in_browser_only_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(tmp_path)
    opened: list[str] = []
    monkeypatch.setattr(RfcApp, "open_in_browser", lambda self, url: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rfc_list(app).select_slug("typed-config")
        await settle(pilot)
        await pilot.press("o")
        assert len(opened) == 1 and opened[0].startswith(BASE_URL)
        assert opened[0].endswith("/rfcs/meta/src/branch/main/rfcs/typed-config.md")
        # A markdown link: javascript never opens, https only after a yes.
        from textual.widgets import Markdown

        md = app.screen.query_one(Markdown)
        md.post_message(Markdown.LinkClicked(md, "javascript:alert(1)"))
        await settle(pilot)
        assert len(opened) == 1 and not isinstance(app.screen, ConfirmOpen)
        md.post_message(Markdown.LinkClicked(md, "https://example.org/x"))
        await settle(pilot)
        assert isinstance(app.screen, ConfirmOpen)
        await pilot.press("n")
        assert len(opened) == 1
        md.post_message(Markdown.LinkClicked(md, "https://example.org/x"))
        await settle(pilot)
        await pilot.press("y")
        assert opened[-1] == "https://example.org/x"


async def test_open_a_pull_request_from_the_detail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path)
    opened: list[str] = []
    monkeypatch.setattr(RfcApp, "open_in_browser", lambda self, url: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rfc_list(app).select_slug("typed-config")
        await settle(pilot)
        pulls = app.screen.query_one("#detail-pulls")
        pulls.focus()
        pulls.highlighted = 0
        await pilot.press("o")
        assert opened and "/pulls/" in opened[0]
        await pilot.press("enter")
        assert len(opened) == 2 and opened[1] == opened[0]


async def test_big_body_is_truncated_with_a_note(tmp_path: Path) -> None:
    cfg = Config(gitea_url=BASE_URL, cache_dir=tmp_path)
    session = Session(cfg, clock=fixed_clock)
    session.adopt_cache(big_body_cache())  # type: ignore[arg-type]
    app = RfcApp(session=session, sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        note = app.screen.query_one("#detail-note")
        assert note.display and "truncated" in str(note.render())
        assert len(app.screen.query_one("#detail-body").source) <= 100_000


async def test_help_palette_and_action_hooks(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for words in ("Filter the list", "fold a group", "Full sync", "✎N", "owner:x", "ctrl+p"):
            assert words in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        provider = BindingsProvider(app.screen)
        names = [name for name, _help, _cb in provider._commands()]
        assert {"Refresh", "Full sync", "Open", "Propose idea", "Help"} <= set(names)
        await pilot.press("n")
        await pilot.pause()
        from rfctui.screens.forms import ProposeForm

        assert isinstance(app.screen, ProposeForm)


async def test_cache_notice_is_shown_once(tmp_path: Path) -> None:
    bad = tmp_path / "c"
    bad.mkdir()
    cfg = Config(gitea_url=BASE_URL, cache_dir=bad, quick_interval=0, full_interval=0)
    cfg.cache_file.write_bytes(b"this is not sqlite" * 100)
    app = RfcApp(cfg, clock=fixed_clock, sync=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        notes = [n for n in app._notifications if n.title == "Cache"]
        assert len(notes) == 1
        assert "cache is empty" in rfc_list(app).empty_message.lower()


async def test_a_cache_that_fails_quick_check_is_replaced_after_the_first_paint(
    tmp_path: Path,
) -> None:
    """Its first screen shows at once (quick_check reads the whole file: seconds on a
    cold disk); the check right after moves it aside, and the screen says so."""
    from test_startup import freelist_lies
    from ui_fixtures import build_cache_dir

    cfg, sb = build_cache_dir(tmp_path)
    freelist_lies(cfg.cache_file)  # before the app starts reading it
    app = RfcApp(cfg, clock=fixed_clock, sync=False, transport=sb.transport)
    rows_when_told: list[int] = []

    def hook(message: Message) -> None:
        if isinstance(message, CacheNotice):
            rows_when_told.append(len(rfc_list(app).rows))

    async with app.run_test(size=SIZE, notifications=True, message_hook=hook) as pilot:
        await settle(pilot)
        assert rows_when_told and rows_when_told[0] > 0  # the damaged file's first screen
        notes = [n for n in app._notifications if n.title == "Cache"]
        assert len(notes) == 1 and "quick_check failed" in notes[0].message
        assert shown_slugs(app) == [] and "cache is empty" in rfc_list(app).empty_message
        assert str(status(app).render()).startswith("never synced")
        assert list(app.config.cache_file.parent.glob("*.corrupt-*"))


async def test_actions_log_moved_aside_is_told_after_the_first_paint(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    log = app.config.actions_file
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"garbage" * 100)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        notes = [n for n in app._notifications if n.title == "Actions log"]
        assert len(notes) == 1, [n.message for n in app._notifications]
        notice = notes[0].message
        assert "\n" not in notice and notice.startswith(f"actions log at {log}")
        assert "moved aside to" in notice
        assert shown_slugs(app)  # the list came first, from the cache


class _FakeBrowser:
    def __init__(self, name: str) -> None:
        self.name = name
        self.opened: list[str] = []

    def open(self, url: str) -> bool:
        self.opened.append(url)
        return True


@pytest.mark.parametrize(("name", "launches"), [("lynx", False), ("firefox", True)])
async def test_console_browsers_are_never_launched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, launches: bool
) -> None:
    import webbrowser

    fake = _FakeBrowser(name)
    monkeypatch.setattr(webbrowser, "get", lambda *a: fake)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("j", "o")
        await settle(pilot)
        assert bool(fake.opened) is launches
        texts = [n.message for n in app._notifications]
        if not launches:
            assert any("No graphical browser" in t and BASE_URL in t for t in texts)


async def test_manual_refresh_says_how_it_went(tmp_path: Path) -> None:
    sb = make_sandbox()
    app = make_app(tmp_path, sync=True, sandbox=sb)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert not any("Synced" in n.message for n in app._notifications)  # timers: quiet
        await pilot.press("r")
        await settle(pilot)
        assert any(n.message == "Synced (quick): no changes." for n in app._notifications)
        sb.faults.down = True
        await pilot.press("r")
        await settle(pilot)
        assert any(n.message.startswith("Sync failed:") for n in app._notifications)


async def test_first_run_with_an_empty_cache_fills_from_gitea(tmp_path: Path) -> None:
    from ui_fixtures import config_for

    sb = make_sandbox()
    cfg = config_for(tmp_path / "fresh")
    app = RfcApp(cfg, clock=fixed_clock, sync=True, transport=sb.transport)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        first = next(m for m in messages if isinstance(m, ItemsLoaded))
        assert first.items == []  # painted from the (empty) cache before any network
        assert "typed-config" in shown_slugs(app)
        assert status(app).error is None and status(app).synced_at is not None


async def test_demo_end_to_end_over_loopback_http() -> None:
    """``rfctui --demo``: sandbox on 127.0.0.1, temp dirs, the UI syncs from it."""
    from rfctui import demo

    cfg = demo.start_demo(quick_interval=0, full_interval=0)
    root = cfg.cache_dir.parent
    try:
        assert cfg.demo and cfg.gitea_url.startswith("http://127.0.0.1:")
        app = RfcApp(cfg, clock=fixed_clock)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert status(app).demo and status(app).error is None
            assert "typed-config" in shown_slugs(app)
            assert status(app).login == "ada"
    finally:
        demo.stop_demo()
    assert not root.exists()  # throw-away directories are gone


async def test_copy_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[str] = []
    monkeypatch.setattr(RfcApp, "copy_to_clipboard", lambda self, text: copied.append(text))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rfc_list(app).select_slug("typed-config")
        await settle(pilot)
        await pilot.press("y")
        assert copied == [f"{BASE_URL}/rfcs/meta/src/branch/main/rfcs/typed-config.md"]


async def test_fast_typing_after_slash_goes_into_the_filter(tmp_path: Path) -> None:
    """Keys queued right behind "/" (a fast typist, a paste) belong in the filter box:
    they must neither be lost nor run the list's n/e/c/m actions."""
    from textual import events

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        # All five keys are queued before the first is handled, as a terminal delivers them.
        app.post_message(events.Key("slash", "/"))
        for ch in "mine":
            app.post_message(events.Key(ch, ch))
        await settle(pilot)
        assert app.screen.query_one(FilterInput).value == "mine"
        assert isinstance(app.screen, MainScreen)  # no action form opened
        await pilot.press("slash")  # in the box, "/" is just a character
        assert app.screen.query_one(FilterInput).value == "mine/"


HOSTILE_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from ui_fixtures import HOSTILE_SLUG, make_app

app = make_app(Path(sys.argv[2]))

def select() -> None:
    app.screen.query_one("RfcList").select_slug(HOSTILE_SLUG)
    app.set_timer(1.0, app.exit)

app.call_later(lambda: app.set_timer(1.0, select))
app.run()
"""


def test_hostile_text_never_reaches_a_real_terminal(tmp_path: Path) -> None:
    """The whole byte stream the app writes to a real (pseudo) terminal, with the
    hostile entry listed and open in the detail: its text is there, its escape
    sequences and bidi override are not (§7.4)."""
    import fcntl
    import os
    import select
    import struct
    import subprocess
    import sys
    import termios
    import time

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TEXTUAL_THEME")}
    env.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOSTILE_CHILD, str(Path(__file__).parent), str(tmp_path)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(master)
    assert proc.returncode == 0, bytes(out[-2000:])
    assert b"Boom" in out and b"[@click=app.quit]" in out  # shown, as text
    for needle in (b"ZXZpbA==", b"\x1b]52", b"\x1b[31mred", "\u202e".encode(), b"\x1b[2J a"):
        assert needle not in out, needle


class RecordingTransport(httpx.AsyncBaseTransport):
    """The sandbox's own transport, noting which token each request carried."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.auth: list[str] = []
        self.bot_reads: list[str] = []  # (method path) of requests with the bot's token

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        self.auth.append(auth)
        if "bot-token" in auth:
            self.bot_reads.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


async def test_sweeps_read_with_the_users_token(tmp_path: Path) -> None:
    """Issue 5: background reads use the user's token; the bot's is for writes only."""
    from ui_fixtures import build_cache_dir

    cfg, sb = build_cache_dir(tmp_path)
    rec = RecordingTransport(sb.transport)
    app = RfcApp(cfg, clock=fixed_clock, sync=True, transport=rec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
    assert rec.auth, "the sweeps sent no request"
    # The one use of the bot's token: the start-up check that actions would work
    # (issue 14 §1: who the token is, may it write), once, not per sweep.
    assert rec.bot_reads == ["GET /api/v1/user", "GET /api/v1/repos/rfcs/meta"]
    assert all("ada-token" in a for a in rec.auth if "bot-token" not in a), rec.auth


async def _other_process_sweeps(cfg: Config, sb: Any) -> None:
    """Another rfctui process (its own cache handle and client) syncs the same file."""
    from rfctui.db import open_cache
    from rfctui.gitea import GiteaClient
    from rfctui.reconcile import Reconciler

    cache = open_cache(cfg.cache_file, clock=fixed_clock)
    try:
        async with GiteaClient(cfg.gitea_url, cfg.read_token, transport=sb.transport) as client:
            rec = Reconciler(client, cache, cfg.org, cfg.meta_repo, cfg.bot_user, clock=fixed_clock)
            result = await rec.quick_sweep()
            assert result.ok and result.rows_changed, result
    finally:
        cache.close()


async def test_changes_written_by_another_process_show_up(tmp_path: Path) -> None:
    """QA: a sweep that finds nothing new still notices the cache changed underneath."""
    sb = make_sandbox()
    app = make_app(tmp_path, sync=True, sandbox=sb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        await pilot.press("j", "j", "j")
        await settle(pilot)
        before = lst.highlighted_item
        assert before is not None
        sb.commit_files(
            "main",
            {"rfcs/from-elsewhere.md": b"---\nslug: from-elsewhere\ntitle: X\nstate: idea\n---\n"},
            "Add from-elsewhere",
        )
        await _other_process_sweeps(app.config, sb)
        assert "from-elsewhere" not in shown_slugs(app)
        await pilot.press("r")  # our sweep: nothing left to change, yet the list is re-read
        await settle(pilot)
        assert "from-elsewhere" in shown_slugs(app)
        after = lst.highlighted_item
        assert after is not None and (after.kind, after.slug) == (before.kind, before.slug)
        # And without any sweep of ours: the periodic check alone.
        sb.commit_files(
            "main",
            {"rfcs/second-one.md": b"---\nslug: second-one\ntitle: Y\nstate: idea\n---\n"},
            "Add second-one",
        )
        await _other_process_sweeps(app.config, sb)
        app.screen.check_cache()
        await settle(pilot)
        assert "second-one" in shown_slugs(app)


async def test_skipped_entries_are_counted_and_listed(tmp_path: Path) -> None:
    sb = make_sandbox()
    app = make_app(tmp_path, sync=True, sandbox=sb)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert status(app).skipped == 0
        sb.commit_files(
            "main",
            {"rfcs/broken-one.md": b"---\nslug: broken-one\ntitle: [unclosed\n---\n"},
            "Add a malformed entry",
        )
        await pilot.press("r")
        await settle(pilot)
        assert status(app).skipped == 1
        assert "1 skipped" in str(status(app).render())
        notes = [n for n in app._notifications if "malformed" in (n.title or "")]
        assert notes and "rfcs/broken-one.md" in notes[-1].message
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        assert "Skipped entries (1)" in text and "rfcs/broken-one.md" in text


def detail_title(app: Any) -> str:
    return str(app.screen.query_one("#detail-title").render())


async def test_detail_follows_a_header_after_the_filter_is_cleared(tmp_path: Path) -> None:
    """QA: the header under the cursor shows its new count once the filter is gone."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        await pilot.press("slash", *"tag:api", "enter")
        await settle(pilot)
        if isinstance(app.focused, FilterInput):
            await pilot.press("escape")
        await pilot.press("g")
        target = next(i for i, r in enumerate(lst.rows) if r.key == ("group", "graduated"))
        await pilot.press(*["j"] * target)
        await settle(pilot)
        row = lst.highlighted_row
        assert row is not None and row.key == ("group", "graduated")
        filtered = row.count
        assert detail_title(app) == f"Graduated ({filtered})"
        await pilot.press("escape")  # on the list: clears the filter
        await settle(pilot)
        row = lst.highlighted_row
        assert row is not None and row.key == ("group", "graduated")
        assert row.count > filtered
        assert detail_title(app) == f"Graduated ({row.count})"


async def test_filter_unfolds_groups_and_restores_folds(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        pending = [r.item.slug for r in lst.rows if r.item is not None and r.item.kind == "pending"]
        await pilot.press("g", "enter")  # fold "Pending ideas"
        assert lst.rows[0].collapsed
        await pilot.press("slash", *"state:pending")
        assert [s for s in shown_slugs(app)] == pending  # the folded group shows its matches
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert lst.rows[0].is_header and lst.rows[0].collapsed  # the fold is back
        assert lst.cursor == 0


async def test_unknown_filter_key_is_explained(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"foo:bar")
        await settle(pilot)
        expected = "unknown filter key 'foo:' (state, tag, owner, arbiter, mine)"
        assert status(app).hint == expected
        assert expected in rfc_list(app).empty_message and not shown_slugs(app)


async def test_narrow_terminal_shows_one_pane_at_a_time(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(50, 16)) as pilot:
        await settle(pilot)
        screen = app.screen
        left, detail = screen.query_one("#left"), screen.query_one(DetailPane)
        assert screen.has_class("-narrow")
        assert left.display and not detail.display and left.size.width == 50
        await pilot.press("enter")  # read the entry: the detail takes the screen
        await pilot.pause()
        assert detail.display and not left.display and detail.outer_size.width == 50
        await pilot.press("escape")
        await pilot.pause()
        assert left.display and not detail.display and rfc_list(app).has_focus
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert left.display and detail.display and not screen.has_class("-narrow")


async def test_status_line_puts_counts_before_the_error(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        st = status(app)
        st.offline, st.error = True, "cannot reach http://gitea.test: " + "x" * 200
        st.render_status()
        text = str(st.render())
        assert text.index("RFCs") < text.index("pending") < text.index("sync failed")


async def test_palette_system_commands_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only Textual's commands that work here; Screenshot saves in the cwd."""
    app = make_app(tmp_path / "cache")
    shots = tmp_path / "shots"
    shots.mkdir()
    monkeypatch.chdir(shots)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert set(commands) == {"Theme", "Quit", "Screenshot"}
        commands["Screenshot"].callback()
        await pilot.pause(0.3)
        saved = list(shots.glob("*.svg"))
        assert len(saved) == 1
        assert any("Screenshot saved" in n.message for n in app._notifications)


async def test_no_match_detail_is_not_overwritten_by_a_stale_header(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g", "enter")  # on the folded "Pending ideas" header
        await pilot.press("slash", *"foo:bar")
        await settle(pilot)
        assert not shown_slugs(app)
        assert detail_title(app) == "Nothing matches the filter."
        # A Highlighted queued before the last keystroke (fast typing) arrives late.
        lst = rfc_list(app)
        lst.post_message(RfcList.Highlighted(lst, None, "pending"))
        await settle(pilot)
        assert detail_title(app) == "Nothing matches the filter."
