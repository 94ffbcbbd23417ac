"""SVG snapshots of issue 11's UI at 80×24 and 160×50: the "Needs you" section, a
snoozed row (the count drops), the since-last-seen marker and the detail's news, the
sort and group-by toggles.

Deterministic as tests/test_snapshots.py: the cache from the real reconciler over the
sample sandbox, a fixed clock, no network, no blink, no animation; ada's identity is the
one last verified on this machine (no network needed), marks are planted before start.
Update with ``--snapshot-update`` and look at each SVG before committing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from ui_fixtures import FIXED_NOW, SIZES, make_app, quiet_environment, settle

import rfctui.screens.queue as queue_screen
from rfctui.marks import Marks
from rfctui.widgets.rfc_list import RfcList

SIZE_PARAMS = pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)
    # Reading a detail marks it seen after a moment: not while the snapshot is taken.
    monkeypatch.setattr(queue_screen, "SEEN_AFTER_SECONDS", 3600.0)


def on_first_queue_row(extra_keys: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        lst = pilot.app.screen.query_one(RfcList)
        lst.cursor = next(i for i, r in enumerate(lst.rows) if r.queue is not None)
        if extra_keys:
            await pilot.press(*extra_keys)
        await settle(pilot)

    return run_before


@SIZE_PARAMS
def test_queue_section(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path, known_login="ada")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=on_first_queue_row())


@SIZE_PARAMS
def test_queue_with_a_snoozed_row(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path, known_login="ada")
    first = app.session.queue("ada").items[0]
    Marks(app.session.config).snooze(first, now=FIXED_NOW)  # hidden: the count says 16
    assert snap_compare(app, terminal_size=SIZES[size], run_before=on_first_queue_row())


@SIZE_PARAMS
def test_since_last_seen_marker(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path, known_login="ada")
    Marks(app.session.config).mark_seen("typed-config", FIXED_NOW - timedelta(days=10))

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        lst = pilot.app.screen.query_one(RfcList)
        lst.collapsed.add("queue")
        assert lst.select_slug("typed-config")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@SIZE_PARAMS
def test_sort_toggle(snap_compare: Any, tmp_path: Path, size: str) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.screen.query_one(RfcList).collapsed.update({"queue", "pending"})
        await pilot.press("s")  # by name
        await settle(pilot)

    app = make_app(tmp_path, known_login="ada")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@SIZE_PARAMS
def test_group_by_toggle(snap_compare: Any, tmp_path: Path, size: str) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.screen.query_one(RfcList).collapsed.update({"queue", "pending"})
        await pilot.press("b")  # by tag
        await settle(pilot)

    app = make_app(tmp_path, known_login="ada")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_no_token_or_escape_in_these_snapshots() -> None:
    """Tokens never reach a rendered screen (§8); nor does an escape sequence (§7.4)."""
    svgs = list((Path(__file__).parent / "__snapshots__" / "test_queue_snapshots").glob("*.svg"))
    assert len(svgs) == 10
    for svg in svgs:
        text = svg.read_text(encoding="utf-8")
        for token in ("bot-token", "ada-token", "grace-token", "admin-token"):
            assert token not in text, svg.name
        assert "\x1b" not in text, svg.name
