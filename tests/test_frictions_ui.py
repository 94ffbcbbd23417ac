"""Issue 14 §4 "Small frictions", the UI part: context keys in the footer, a sweep's
progress in the status line, where toasts go and how long they stay, the cursor after
a filter and a fold, and slugs that stay distinct at 80 columns.

Pilot tests over the cache the real Reconciler builds from the sample sandbox
(tests/ui_fixtures.py), plus snapshots at 80×24.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast
from ui_fixtures import (
    SIZES,
    build_cache_dir,
    fixed_clock,
    make_app,
    quiet_environment,
    settle,
)

from rfctui.config import Config
from rfctui.messages import SyncProgress
from rfctui.widgets.detail import DetailPane
from rfctui.widgets.footer import LateFooter
from rfctui.widgets.rfc_list import RfcList, elide_middle
from rfctui.widgets.status import StatusLine


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


V2_SLUG = "typed-config-v2"
V2_ENTRY = (
    "---\n"
    f"slug: {V2_SLUG}\n"
    "title: Typed configuration, second take with schema versions\n"
    "state: idea\n"
    "proposed_by: ada\n"
    "proposed_at: 2026-11-20T09:00:00Z\n"
    "owners: [ada]\n"
    "---\n"
    "The successor of typed-config.\n"
)


async def _sweep(cfg: Config, sb: Any) -> None:
    from rfctui.db import open_cache
    from rfctui.gitea import GiteaClient
    from rfctui.reconcile import Reconciler

    cache = open_cache(cfg.cache_file, clock=fixed_clock)
    try:
        async with GiteaClient(cfg.gitea_url, cfg.bot_token, transport=sb.transport) as client:
            rec = Reconciler(client, cache, cfg.org, cfg.meta_repo, cfg.bot_user, clock=fixed_clock)
            result = await rec.full_sweep()
            assert result.ok, result.error
    finally:
        cache.close()


def v2_app(tmp_path: Path) -> Any:
    """The sample cache plus ``typed-config-v2`` beside ``typed-config`` (this test's
    fixture only: the shared sample stays as it is), synced by the real Reconciler."""
    from rfctui.app import RfcApp

    cfg, sb = build_cache_dir(tmp_path)
    sb.commit_files("main", {f"rfcs/{V2_SLUG}.md": V2_ENTRY.encode()}, "Add typed-config-v2",
                    author=("Ada Lovelace", "ada@sandbox.localhost"))
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _sweep(cfg, sb)).result()
    app = RfcApp(cfg, clock=fixed_clock, sync=False, transport=sb.transport)
    app.animation_level = "none"
    return app


def footer_actions(app: Any) -> list[str]:
    return [k.action for k in app.screen.query_one(LateFooter).query(FooterKey)]


async def footer_settled(pilot: Any) -> None:
    await settle(pilot)
    await pilot.pause()
    await pilot.pause()


# -- the footer's context keys -----------------------------------------------------------


async def test_footer_shows_action_keys_for_an_rfc_row(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(RfcList).select_slug("typed-config")
        await footer_settled(pilot)
        shown = footer_actions(app)
        for action in ("propose", "edit", "claim", "metadata", "actions_view", "timeline",
                       "change_view"):  # typed-config has an open body-edit PR
            assert action in shown, (action, shown)


async def test_footer_hides_entry_keys_on_a_pending_idea(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(RfcList).select_slug("dependency-update-bot", "pending")
        await footer_settled(pilot)
        shown = footer_actions(app)
        assert {"propose", "actions_view", "change_view"} <= set(shown), shown
        assert not {"edit", "claim", "metadata", "timeline"} & set(shown), shown
        # The hidden keys still work and say why they cannot act here.
        await pilot.press("e")
        await pilot.pause()
        assert any("Select an RFC entry" in n.message for n in app._notifications)


async def test_footer_hides_action_keys_without_tokens(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    cfg = app.session.config
    object.__setattr__(cfg, "bot_token", None)  # a read-only setup
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(RfcList).select_slug("typed-config")
        await footer_settled(pilot)
        shown = set(footer_actions(app))
        assert not {"propose", "edit", "claim", "metadata", "actions_view"} & shown, shown
        assert "timeline" in shown  # reading works without the bot


async def test_footer_fits_80_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZES["small"]) as pilot:
        await settle(pilot)
        assert app.screen.query_one(RfcList).select_slug("typed-config")
        await footer_settled(pilot)
        keys = list(app.screen.query_one(LateFooter).query(FooterKey))
        assert len(keys) >= 6
        assert all(k.region.right <= 80 and k.region.width > 0 for k in keys)
        shown = [k.action for k in keys]
        for action in ("focus_filter", "help", "edit", "claim", "metadata"):
            assert action in shown, shown


async def test_footer_in_the_filter_box_lists_no_letter_actions(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await footer_settled(pilot)
        assert not {"propose", "edit", "claim"} & set(footer_actions(app))


# -- a sweep's progress ------------------------------------------------------------------


async def test_status_line_counts_a_sweep(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        status = screen.query_one(StatusLine)
        status.syncing = "full"
        screen.post_message(SyncProgress("fetching entries", 120, 355))
        await pilot.pause()
        assert "syncing 120/355" in str(status.render())
        screen.post_message(SyncProgress("checking pull requests", 0, 1))
        await pilot.pause()
        assert "syncing (full)" in str(status.render())


async def test_a_real_sweep_posts_its_progress(tmp_path: Path) -> None:
    seen: list[SyncProgress] = []

    def hook(message: Any) -> None:
        if isinstance(message, SyncProgress):
            seen.append(message)

    app = make_app(tmp_path, sync=True)
    async with app.run_test(size=(160, 50), message_hook=hook) as pilot:
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        assert status.syncing is None and status.sweep_progress is None
    assert seen, "the sweep posted no progress"
    # The end of every phase is posted (the throttle never drops the last one).
    phases = {m.phase for m in seen}
    for phase in phases:
        assert any(m.phase == phase and m.done >= m.total for m in seen), phase


# -- toasts --------------------------------------------------------------------------------


async def test_toasts_go_sooner_errors_stay_longer(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZES["small"]) as pilot:
        await settle(pilot)
        app.notify("plain")
        app.screen.notify("broken", severity="error")
        app.notify("chosen", timeout=12)
        await pilot.pause()
        timeouts = {n.message: n.timeout for n in app._notifications}
        assert timeouts["plain"] == 3.0
        assert timeouts["broken"] == 8.0
        assert timeouts["chosen"] == 12


async def test_toasts_cover_neither_status_line_nor_form_buttons(tmp_path: Path) -> None:
    from textual.widgets import Button

    app = make_app(tmp_path)
    async with app.run_test(size=SIZES["small"], notifications=True) as pilot:
        await settle(pilot)
        status = app.screen.query_one(StatusLine).region
        for n in range(3):
            app.notify(f"A fairly long toast number {n} that wraps over a few lines",
                       title="Note", timeout=30)
        await pilot.pause()
        await pilot.pause()
        toasts = list(app.screen.query(Toast))
        assert toasts
        for toast in toasts:
            assert not toast.region.overlaps(status), (toast.region, status)
        await pilot.press("n")  # the propose form
        await settle(pilot)
        app.notify("Another toast, over the form", title="Note", timeout=30)
        await pilot.pause()
        await pilot.pause()
        buttons = [b.region for b in app.screen.query(Button) if b.display]
        assert buttons
        toasts = list(app.screen.query(Toast))
        assert toasts
        for toast in toasts:
            for button in buttons:
                assert not toast.region.overlaps(button), (toast.region, button)


# -- the cursor after a filter and a fold --------------------------------------------------


async def test_filter_puts_cursor_on_first_match(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"tag:dx")
        await settle(pilot)
        rfc_list = app.screen.query_one(RfcList)
        row = rfc_list.highlighted_row
        assert row is not None and not row.is_header
        first = next(r for r in rfc_list.rows if not r.is_header)
        assert row.key == first.key
        # The detail shows that match, not a header's summary.
        pane = app.screen.query_one(DetailPane)
        assert pane.item is not None and pane.item.slug == first.key[1]


async def test_folding_moves_the_detail_off_the_hidden_row(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        rfc_list = app.screen.query_one(RfcList)
        assert rfc_list.select_slug("typed-config")
        await settle(pilot)
        pane = app.screen.query_one(DetailPane)
        assert pane.item is not None and pane.item.slug == "typed-config"
        await pilot.press("h")  # fold its group from the item row
        await settle(pilot)
        row = rfc_list.highlighted_row
        assert row is not None and row.is_header and row.collapsed
        assert pane.item is None  # no detail of a row that is hidden now
        assert "Folded" in str(app.screen.query_one("#detail-meta").render())


# -- slugs at 80 columns --------------------------------------------------------------------


def test_elide_middle_keeps_both_ends() -> None:
    assert elide_middle("typed-config", 20) == "typed-config"
    a, b = elide_middle("typed-config", 10), elide_middle("typed-config-v2", 10)
    assert a != b and len(a) == len(b) == 10
    assert b.endswith("v2") and "…" in b
    assert elide_middle("typed-config-v2", 12) == "typed-c…g-v2"
    assert elide_middle("abc", 0) == ""


async def test_distinct_slugs_stay_distinct_at_80_columns(tmp_path: Path) -> None:
    app = v2_app(tmp_path)
    async with app.run_test(size=SIZES["small"]) as pilot:
        await settle(pilot)
        rfc_list = app.screen.query_one(RfcList)
        width = rfc_list.scrollable_content_region.width
        lines = {}
        for row in rfc_list.rows:
            if row.item is not None and row.item.slug in ("typed-config", V2_SLUG):
                text = "".join(s.text for s in rfc_list._render_row(row, width))
                lines[row.item.slug] = text.split()[0]
        assert set(lines) == {"typed-config", V2_SLUG}
        assert lines["typed-config"] != lines[V2_SLUG]
        assert lines[V2_SLUG].endswith("v2")


def test_distinct_slugs_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        assert pilot.app.screen.query_one(RfcList).select_slug(V2_SLUG)
        await footer_settled(pilot)

    assert snap_compare(v2_app(tmp_path), terminal_size=SIZES["small"], run_before=run_before)


def test_sync_progress_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await footer_settled(pilot)
        screen = pilot.app.screen
        screen.query_one(StatusLine).syncing = "full"
        screen.post_message(SyncProgress("fetching entries", 120, 355))
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=SIZES["small"], run_before=run_before)


def test_toast_over_a_form_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    """A toast while the propose form is open: top right, the buttons and the status
    line stay visible (issue 14 §4)."""

    async def run_before(pilot: Any) -> None:
        await footer_settled(pilot)
        await pilot.press("n")
        await settle(pilot)
        pilot.app.notify("Sending to Gitea through the bot…", markup=False, timeout=60)
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=SIZES["small"], run_before=run_before)


async def test_footer_offers_snooze_on_a_needs_you_row(tmp_path: Path) -> None:
    app = make_app(tmp_path, known_login="ada")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        rfc_list = app.screen.query_one(RfcList)
        index = next(i for i, r in enumerate(rfc_list.rows) if r.queue is not None)
        rfc_list.cursor = index
        await footer_settled(pilot)
        assert "snooze" in footer_actions(app)
        assert rfc_list.select_slug("typed-config")
        await footer_settled(pilot)
        assert "snooze" not in footer_actions(app)
