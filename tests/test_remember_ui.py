"""The UI remembers (issue 14 §3): theme, folded groups, the last filter, sort, group-by.

Pilot tests over the cache the real reconciler built from the sample sandbox (fixed
clock, tests/ui_fixtures.py). The remembered state lives in the config's state
directory (``<cache dir>/state`` here), so a second app on the same directory is a
restart that keeps it.
"""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ui_fixtures import build_cache_dir, fixed_clock, make_app, quiet_environment, settle

import rfctui.screens.remember as remember
from rfctui.app import RfcApp
from rfctui.config import load_config
from rfctui.screens.remember import DEFAULT_THEME
from rfctui.widgets.filter_input import FilterInput
from rfctui.widgets.rfc_list import RfcList
from rfctui.widgets.status import StatusLine

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def rfc_list(app: Any) -> RfcList:
    return app.screen.query_one(RfcList)


def toasts(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


def target_ui(app: Any) -> Path:
    return app.session.marks.ui_directory / "ui.json"


def user_ui(app: Any) -> Path:
    return Path(app.config.state_dir) / "ui.json"


async def pick_theme(pilot: Any, name: str) -> None:
    """What a person does: ctrl+p, "Theme", then the theme's name."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*"theme")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause(0.3)
    await pilot.press(*name)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)


async def test_theme_folds_filter_sort_and_group_come_back_after_a_restart(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == DEFAULT_THEME
        await pick_theme(pilot, "solarized-light")
        assert app.theme == "solarized-light"
        lst = rfc_list(app)
        await pilot.press("s", "b", "b")  # a sort key; group by tag, then by owner
        await settle(pilot)
        sort, group_by = lst.sort, lst.group_by
        assert (sort, group_by) != ("default", "state")
        await pilot.press("g")  # the first group's header
        header = lst.highlighted_row
        assert header is not None and header.is_header
        await pilot.press("space")
        await settle(pilot)
        assert lst.folded_groups == {header.group}
        await pilot.press("slash", *"tag:dx")
        # Quit at once: within the filter's settle time, so the way out writes it.
        await pilot.press("ctrl+q")
    for f in (user_ui(app), target_ui(app)):
        assert mode(f) == 0o600 and mode(f.parent) == 0o700
    assert json.loads(user_ui(app).read_text())["ui"] == {"theme": "solarized-light"}
    kept = json.loads(target_ui(app).read_text())["ui"]
    assert kept["folded"] == [header.group] and kept["filter"] == "tag:dx"
    assert (kept["sort"], kept["group_by"]) == (sort, group_by)

    again = make_app(tmp_path)
    assert again.theme == "solarized-light"  # before the first paint
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(again)
        assert (lst.sort, lst.group_by) == (sort, group_by)
        assert again.screen.query_one(FilterInput).value == "tag:dx"
        assert again.screen.query_text == "tag:dx"
        status = again.screen.query_one(StatusLine)
        assert status.shown is not None and 0 < status.shown < status.rfc_count
        assert all("dx" in (i.tags or ()) for i in lst._items)
        assert lst.folded_groups == {header.group}  # kept aside while the filter is on
        await pilot.press("escape")  # clears the filter: the fold is back
        await settle(pilot)
        assert lst.collapsed == {header.group}
        assert not toasts(again)


async def test_the_filter_is_written_once_typing_pauses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a write per keystroke: one timer, restarted by each key, writes once."""
    monkeypatch.setattr(remember, "FILTER_SETTLE_SECONDS", 3600.0)  # fired by hand below
    writes: list[dict[str, Any]] = []
    app = make_app(tmp_path)
    marks = app.session.marks
    real = marks.save_ui_state

    def counting(changes: Any) -> None:
        writes.append(dict(changes))
        real(changes)

    monkeypatch.setattr(marks, "save_ui_state", counting)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"owner:ada")
        await settle(pilot)
        screen = app.screen
        assert not [w for w in writes if "filter" in w]  # nine keys, no write yet
        assert screen._filter_timer is not None
        screen._filter_timer.stop()
        screen._save_filter()  # the timer fires: typing paused
        await settle(pilot)
        assert [w for w in writes if "filter" in w] == [{"filter": "owner:ada"}]
        await pilot.press("escape", "escape")  # leave the box, clear the filter
        await settle(pilot)
        screen._filter_timer.stop()
        screen._save_filter()
        await settle(pilot)
        assert [w for w in writes if "filter" in w][-1] == {"filter": None}
    assert "filter" not in json.loads(target_ui(app).read_text())["ui"]


async def test_a_damaged_ui_state_file_is_told_once_and_replaced_by_the_next_change(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    path = target_ui(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{oops")
    user_ui(app).write_text('{"schema": 1, "ui": ["not", "an", "object"]}')
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        told = toasts(app)
        assert len([t for t in told if "ui.json" in t]) == 2, told
        assert all("\n" not in t for t in told)
        assert app.theme == DEFAULT_THEME
        lst = rfc_list(app)
        assert lst.collapsed == set() and lst.sort == "default"
        await pilot.press("g", "space")
        await settle(pilot)
        folded = set(lst.folded_groups)
        assert folded
    data = json.loads(path.read_text())
    assert data["schema"] == 1 and set(data["ui"]["folded"]) == folded
    assert mode(path) == 0o600


async def test_the_theme_config_key_sets_the_default(tmp_path: Path) -> None:
    cfg, sb = build_cache_dir(tmp_path)
    app = RfcApp(replace(cfg, theme="textual-light"), clock=fixed_clock, sync=False,
                 transport=sb.transport)
    assert app.theme == "textual-light"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert not toasts(app)
    # Not picked, so not remembered: a later change of the config key still applies.
    assert not user_ui(app).exists()
    # A theme the person picked wins over the config's default.
    user_ui(app).parent.mkdir(parents=True, exist_ok=True)
    user_ui(app).write_text('{"schema": 1, "ui": {"theme": "nord"}}')
    app = RfcApp(replace(cfg, theme="textual-light"), clock=fixed_clock, sync=False,
                 transport=sb.transport)
    assert app.theme == "nord"


@pytest.mark.parametrize("where", ["config", "remembered"])
async def test_an_unknown_theme_is_told_and_the_default_used(
    tmp_path: Path, where: str
) -> None:
    cfg, sb = build_cache_dir(tmp_path)
    if where == "config":
        cfg = replace(cfg, theme="no-such-theme")
    else:
        Path(cfg.state_dir).mkdir(parents=True)
        (Path(cfg.state_dir) / "ui.json").write_text(
            '{"schema": 1, "ui": {"theme": "no-such-theme"}}'
        )
    app = RfcApp(cfg, clock=fixed_clock, sync=False, transport=sb.transport)
    assert app.theme == DEFAULT_THEME
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        told = [t for t in toasts(app) if "no-such-theme" in t]
        assert len(told) == 1 and "\n" not in told[0] and DEFAULT_THEME in told[0]
        assert app.theme == DEFAULT_THEME


def test_theme_and_state_dir_come_from_the_config_file_and_environment(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('gitea_url = "https://g.example"\ntheme = "nord"\n'
                    f'state_dir = "{tmp_path / "st"}"\n')
    cfg = load_config({"config": str(conf)}, environ={})
    assert cfg.theme == "nord" and cfg.state_dir == tmp_path / "st"
    cfg = load_config({"config": str(conf)}, environ={"RFCTUI_STATE_DIR": str(tmp_path / "e")})
    assert cfg.state_dir == tmp_path / "e"
    plain = tmp_path / "plain.toml"
    plain.write_text('gitea_url = "https://g.example"\n')
    cfg = load_config({"config": str(plain)}, environ={})
    assert cfg.theme is None and cfg.state_dir.name == "rfctui"
