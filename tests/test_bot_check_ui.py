"""The UI checks the bot's token once at start (issue 14 §1), against the sample sandbox
through its httpx transport: a refused token is said in the status line, and the
actions (n/e/c/m/C) say the same reason instead of opening a form that would fail."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ui_fixtures import build_cache_dir, fixed_clock, quiet_environment, settle

from rfctui.app import RfcApp
from rfctui.config import Secret
from rfctui.screens.main import MainScreen
from rfctui.widgets.status import StatusLine

SIZE = (140, 40)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


def _app(tmp_path: Path, bot_token: str) -> Any:
    cfg, sb = build_cache_dir(tmp_path)
    cfg = replace(cfg, bot_token=Secret(bot_token))
    app = RfcApp(cfg, clock=fixed_clock, sync=True, transport=sb.transport)
    app.animation_level = "none"
    app.sandbox = sb  # type: ignore[attr-defined]
    return app


def _line(app: Any) -> str:
    return str(app.screen.query_one(StatusLine).render())


async def test_a_refused_bot_token_is_said_at_start_and_by_every_action(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path, "not-a-real-token")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        assert status.warning == (
            "actions would fail: RFCTUI_BOT_TOKEN is refused by Gitea (401/403)")
        assert "⚠ actions would fail: RFCTUI_BOT_TOKEN is refused" in _line(app)
        assert "not-a-real-token" not in _line(app)
        assert app.screen.query_one(StatusLine).error is None  # reading still works
        for key in ("n", "e", "c", "m", "C"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, MainScreen), key  # no form opened
            said = [n.message for n in app._notifications]
            assert any("actions would fail: RFCTUI_BOT_TOKEN is refused" in m
                       and "set RFCTUI_BOT_TOKEN" in m for m in said), (key, said)
        assert all("not-a-real-token" not in n.message for n in app._notifications)


async def test_a_person_token_as_the_bot_token_is_said(tmp_path: Path) -> None:
    app = _app(tmp_path, "grace-token")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        warning = app.screen.query_one(StatusLine).warning
        assert warning == "actions would fail: RFCTUI_BOT_TOKEN belongs to 'grace', " \
            "not the bot 'rfc-bot'"


async def test_the_right_bot_token_shows_nothing_and_actions_open(tmp_path: Path) -> None:
    app = _app(tmp_path, "bot-token")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        assert status.warning is None and "⚠" not in _line(app)
        assert app.screen.bot_problem is None
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, MainScreen)  # the propose form opened


async def test_checked_once_not_on_every_sweep(tmp_path: Path) -> None:
    app = _app(tmp_path, "bot-token")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        sb = app.sandbox
        runs = [w for w in app.workers if w.group == "bot-check"]
        assert len(runs) <= 1
        before = sb.requests_served
        await pilot.press("r")  # a sweep the person asks for
        await settle(pilot)
        assert sb.requests_served > before
        assert not [w for w in app.workers if w.group == "bot-check" and w.is_running]
        assert app.screen._bot_checks == 1  # type: ignore[attr-defined]
