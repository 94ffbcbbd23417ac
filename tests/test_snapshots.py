"""SVG snapshots of the UI (issue 4), at 80×24 and 160×50.

Deterministic: the cache comes from the real Reconciler over the sample sandbox with a
fixed clock (tests/ui_fixtures.py), the app's clock is fixed, timers and network are off
(except the failing-sync cases, which fail the same way every time), no cursor blink,
no animation, a clean environment. Update with ``pytest tests/test_snapshots.py
--snapshot-update`` and *look* at the SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ui_fixtures import (
    HOSTILE_SLUG,
    SIZES,
    make_app,
    make_sandbox,
    quiet_environment,
    settle,
)

from rfctui.widgets.rfc_list import RfcList


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


SIZE_PARAMS = pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))


def select(slug: str, kind: str = "rfc") -> Any:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        assert pilot.app.screen.query_one(RfcList).select_slug(slug, kind)
        await settle(pilot)

    return run_before


async def just_settle(pilot: Any) -> None:
    await settle(pilot)


@SIZE_PARAMS
def test_main_screen(snap_compare: Any, tmp_path: Path, size: str) -> None:
    assert snap_compare(make_app(tmp_path), terminal_size=SIZES[size], run_before=just_settle)


@SIZE_PARAMS
def test_filtered_list(snap_compare: Any, tmp_path: Path, size: str) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("slash", *"tag:dx")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZES[size], run_before=run_before)


@SIZE_PARAMS
def test_graduated_detail(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=select("feature-flags"))


@SIZE_PARAMS
def test_pending_idea(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path)
    run_before = select("dependency-update-bot", "pending")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@SIZE_PARAMS
def test_help_screen(snap_compare: Any, tmp_path: Path, size: str) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZES[size], run_before=run_before)


@SIZE_PARAMS
def test_offline_status(snap_compare: Any, tmp_path: Path, size: str) -> None:
    sb = make_sandbox()
    sb.faults.down = True
    app = make_app(tmp_path, sync=True, sandbox=sb)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=just_settle)


@SIZE_PARAMS
def test_failed_sync_status(snap_compare: Any, tmp_path: Path, size: str) -> None:
    sb = make_sandbox()
    sb.faults.error_rate = 1.0
    # Its first 14 draws are all 502: the message does not depend on which of the
    # sweep's concurrent requests (and their jittered retries) draws first.
    sb.faults.seed = 5317060
    app = make_app(tmp_path, sync=True, sandbox=sb)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=just_settle)


@SIZE_PARAMS
def test_hostile_entry(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=select(HOSTILE_SLUG))


def test_body_links(snap_compare: Any, tmp_path: Path) -> None:
    """``L`` on the hostile entry: its one web link (javascript: is no link), as text."""

    async def run_before(pilot: Any) -> None:
        await select(HOSTILE_SLUG)(pilot)
        await pilot.press("L")
        await settle(pilot)

    app = make_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZES["small"], run_before=run_before)


def test_no_token_in_any_snapshot_or_screenshot() -> None:
    """Tokens never reach a rendered screen (§8; STYLE §6.2)."""
    root = Path(__file__).parent
    svgs = [
        *root.glob("__snapshots__/test_snapshots/*.svg"),
        *root.parent.glob("screenshots/*.svg"),
    ]
    assert svgs
    for svg in svgs:
        text = svg.read_text(encoding="utf-8")
        for token in ("bot-token", "ada-token", "grace-token", "admin-token"):
            assert token not in text, svg.name
        assert "\x1b" not in text, svg.name


@pytest.mark.parametrize("theme", ["solarized-light", "textual-light"])
def test_main_screen_light_theme(snap_compare: Any, tmp_path: Path, theme: str) -> None:
    """Issue 14 §3: every colour comes from the theme — the pending ideas' ages were
    white on cream in solarized-light. Looked at: every text is readable."""
    app = make_app(tmp_path)
    app.theme = theme
    assert snap_compare(app, terminal_size=(100, 30), run_before=just_settle)
