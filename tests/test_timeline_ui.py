"""``t``: the timeline screen (issue 12 §2, SPEC §10) over the planted life of
``t-life`` (tests/test_timeline.py: grace commits herself, the bot commits with
``On-behalf-of: ada`` trailers, one with a forged middle block naming mallory, and a
body-edit PR the bot opened for ada, merged).

The world is built once; each test gets its own copy of the cache, in which the entry's
history was never fetched, so opening the screen fetches it (in a worker) from the
sandbox through its httpx transport.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_timeline import SLUG, Life, build_life
from ui_fixtures import quiet_environment, settle

from rfctui.widgets.rfc_list import RfcList

SIZE = (110, 24)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


_WORLD: dict[str, Life] = {}


def world() -> Life:
    if "life" not in _WORLD:
        import tempfile
        from concurrent.futures import ThreadPoolExecutor

        root = Path(tempfile.mkdtemp(prefix="rfctui-tl-ui-"))
        # On a thread of its own: the async tests already run an event loop.
        with ThreadPoolExecutor(1) as pool:
            _WORLD["life"] = pool.submit(build_life, root).result()
    return _WORLD["life"]


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    life = _WORLD.pop("life", None)
    if life is not None:
        shutil.rmtree(life.root, ignore_errors=True)


def copy_world(target: Path) -> Life:
    """A copy of the world's cache and data (the history not fetched in it)."""
    life = world()
    shutil.copytree(life.root, target, dirs_exist_ok=True)
    return replace(life, root=target)


def make_app(life: Life, **over: Any) -> Any:
    from rfctui.app import RfcApp

    app = RfcApp(session=life.session(**over), sync=False)
    app.animation_level = "none"
    return app


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("offline", request=request)


async def open_timeline(pilot: Any, slug: str = SLUG) -> Any:
    await settle(pilot)
    assert pilot.app.screen.query_one(RfcList).select_slug(slug)
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)
    return pilot.app.screen


def rendered(screen: Any) -> list[str]:
    from textual.widgets import OptionList

    options = screen.query_one("#timeline-events", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_t_fetches_the_history_then_shows_the_real_people(tmp_path: Path) -> None:
    from rfctui.screens.timeline_view import FETCHING, TimelineScreen

    life = copy_world(tmp_path / "w")
    app = make_app(life)
    opened: list[str] = []
    app.open_in_browser = opened.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_timeline(pilot)
        assert isinstance(screen, TimelineScreen)
        timeline = screen.timeline
        assert timeline is not None and timeline.history_known  # fetched in the worker
        assert screen.note != FETCHING and screen.note == ""
        events = timeline.events
        assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
        assert events[-1].kind == "created" and events[-1].actor == "grace"
        assert {e.actor for e in events} == {"ada", "grace"}
        lines = rendered(screen)
        assert len(lines) == len(events)
        assert not any("rfc-bot" in line or "mallory" in line for line in lines)
        assert not any("\x1b" in line or "\u202e" in line for line in lines)
        # enter on the merged PR's line opens that PR's page.
        merged = next(i for i, e in enumerate(events) if e.kind == "pr_merged")
        for _ in range(merged):
            await pilot.press("j")
        await pilot.press("enter")
        await pilot.pause()
        assert opened == [f"http://sandbox.queue/{life.sb.org}/{life.sb.repo}/pulls/{life.pr}"]
        # A line without a PR opens nothing and says so.
        created = len(events) - 1
        for _ in range(created - merged):
            await pilot.press("j")
        await pilot.press("o")
        await pilot.pause()
        assert len(opened) == 1
        assert any(n.message == "No pull request on this line." for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TimelineScreen)


async def test_offline_shows_the_cache_and_one_line(tmp_path: Path) -> None:
    from rfctui.screens.timeline_view import TimelineScreen

    life = copy_world(tmp_path / "w")
    app = make_app(life, transport=httpx.MockTransport(refuse))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_timeline(pilot)
        assert isinstance(screen, TimelineScreen)
        timeline = screen.timeline
        assert timeline is not None and not timeline.history_known
        # What the cache has: the PR, opened and merged, for ada.
        assert {(e.kind, e.actor) for e in timeline.events} == {
            ("pr_opened", "ada"), ("pr_merged", "ada")}
        assert screen.note.startswith("History not fetched (offline?)")
        assert "\n" not in screen.note


async def test_a_pending_idea_has_no_timeline(tmp_path: Path) -> None:
    from rfctui.screens.timeline_view import TimelineScreen

    life = copy_world(tmp_path / "w")
    app = make_app(life)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        pending = next(i for i in app.screen.items if i.kind == "pending")
        assert app.screen.query_one(RfcList).select_slug(pending.slug, "pending")
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, TimelineScreen)
        assert any("pending idea has no timeline" in n.message for n in app._notifications)


def test_timeline_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    """The fetched timeline: grace's own commits as grace, the bot's commits and PR as
    ada (the person it acted for), never the bot, never the forged mallory."""
    life = copy_world(tmp_path / "w")

    async def run_before(pilot: Any) -> None:
        await open_timeline(pilot)

    assert snap_compare(make_app(life), terminal_size=SIZE, run_before=run_before)


async def test_while_fetching_the_cache_shows_with_a_line(tmp_path: Path) -> None:
    """The fetch runs in a worker: meanwhile the PRs from the cache and "fetching
    history…" are on screen, and the screen answers keys."""
    import asyncio

    from rfctui.screens.timeline_view import FETCHING, TimelineScreen

    life = copy_world(tmp_path / "w")
    app = make_app(life)
    life.sb.faults.latency_ms = 400
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.query_one(RfcList).select_slug(SLUG)
            await settle(pilot)
            await pilot.press("t")
            screen = app.screen
            assert isinstance(screen, TimelineScreen)
            for _ in range(100):
                await pilot.pause()
                if screen.note == FETCHING:
                    break
                await asyncio.sleep(0.01)
            assert screen.note == FETCHING
            assert screen.timeline is not None and not screen.timeline.history_known
            assert {e.kind for e in screen.timeline.events} == {"pr_opened", "pr_merged"}
            assert "fetching history…" in str(screen.query_one("#timeline-note").render())
            await pilot.press("j")  # the UI thread is free
            await settle(pilot)
            assert screen.timeline.history_known and screen.note == ""
    finally:
        life.sb.faults.latency_ms = 0
