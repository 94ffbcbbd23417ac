"""The UI side of issue 9 items 2 and 3: a refused action reopens its form with the
reason (nothing sent, nothing logged); a change stacked onto your open PR says so.

The real app over a synced cache and the sample sandbox (tests/ui_fixtures.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from rfctui import trailer
from rfctui.bot import Actor, Bot
from rfctui.gitea import GiteaClient
from rfctui.screens.forms import ClaimConfirm, MetadataForm

SIZE = (120, 40)


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from ui_fixtures import make_app, quiet_environment

    quiet_environment(monkeypatch)
    return make_app(tmp_path / "ui")


def _target(app: Any) -> Any:
    """An entry on main that nobody has an open claim or metadata PR for."""
    from rfctui.widgets.rfc_list import RfcList

    cache = app.session.cache()
    for row in app.screen.query_one(RfcList).rows:
        item = row.item
        if item is None or item.kind != "rfc" or item.removed or "ada" in item.owners:
            continue
        heads = {p.head_branch for p in cache.pulls_for(item.slug) if p.state == "open"}
        if not heads & {f"claim/{item.slug}", f"metadata/{item.slug}"}:
            return item
    raise AssertionError("no entry to act on in the sample")


async def _select(app: Any, pilot: Any, item: Any) -> None:
    from ui_fixtures import settle

    from rfctui.widgets.rfc_list import RfcList

    app.screen.query_one(RfcList).select_slug(item.slug, "rfc")
    await settle(pilot)


async def test_a_claim_refused_by_the_fresh_read_reopens_the_form_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_fixtures import BASE_URL, settle

    app = _app(tmp_path, monkeypatch)
    sb = app.sandbox
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        item = _target(app)
        await _select(app, pilot, item)
        # grace's claim, opened after the cache was synced (the cache does not know it)
        async with GiteaClient(BASE_URL, "bot-token", transport=sb.transport) as c:
            await c.create_branch(app.config.org, app.config.meta_repo,
                                  f"claim/{item.slug}", "main")
            pr = await c.create_pull(app.config.org, app.config.meta_repo,
                                     head=f"claim/{item.slug}", base="main", title="Claim",
                                     body=trailer.compose("Mine.", "Grace Hopper", "grace"))
        pulls = set(sb.pulls)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ClaimConfirm)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ClaimConfirm)  # back, with the reason
        shown = str(app.screen.query_one("#err-form", Static).render())
        assert f"claim/{item.slug} already has open PR #{pr['number']} by grace" in shown
        assert set(sb.pulls) == pulls
    from rfctui.db import open_actions

    with open_actions(app.config.actions_file) as log:
        assert log.all() == []


async def test_a_metadata_change_added_to_your_open_pr_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_fixtures import BASE_URL, settle

    app = _app(tmp_path, monkeypatch)
    sb = app.sandbox
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        item = _target(app)
        await _select(app, pilot, item)
        async with GiteaClient(BASE_URL, "bot-token", transport=sb.transport) as c:
            bot = Bot(c, app.config.org, app.config.meta_repo, "rfc-bot", _NoLog())
            first = await bot.edit_metadata(Actor("ada", "Ada Lovelace"), item.slug,
                                            {"waiting_on": "grace"})
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, MetadataForm)
        app.screen.query_one("#f-tags", Input).value = "stacked-tag"
        await pilot.press("ctrl+s")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert f"Added to your open PR #{first.pr_number}: {first.html_url}" in messages
        body = sb.pulls[first.pr_number].body
        assert "`waiting_on`" in body and "`tags`" in body


class _NoLog:
    """An actions log that keeps nothing (the first PR is made as if elsewhere)."""

    def add(self, *a: Any) -> int:
        return 1

    def mark_failed(self, *a: Any) -> None: ...

    def mark_done(self, *a: Any) -> None: ...

    def get(self, *a: Any) -> Any:
        return None
