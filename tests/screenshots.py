"""The README's screenshots, from the demo's data: ``python tests/screenshots.py``.

The same sample repository `rfctui --demo` shows, back-dated the same way (ages, time in
state and stale markers show), synced by the real reconciler and history walk, then
drawn by the real app at 120×36 under a fixed clock — so the pictures are what a new
user sees, and the same on every run. Writes ``screenshots/*.svg`` (or the directory
given as the first argument) and prints each path.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from ui_fixtures import config_for, settle  # noqa: E402

from rfctui.config import Config  # noqa: E402

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SIZE = (120, 36)
NAMES = ("main", "detail", "filter", "help", "queue", "change-view", "timeline")


def _clock() -> datetime:
    return NOW


def _sandbox() -> Any:
    from rfctui.demo import DEMO_HISTORY_DAYS
    from rfctui.sandbox.sample import build_sample_sandbox

    return build_sample_sandbox(clock=lambda: NOW - timedelta(hours=1),
                                backdate_days=DEMO_HISTORY_DAYS)


async def _sync(cfg: Config, sb: Any) -> None:
    """A resync, the history walk (true time in state) and the login, as the UI's start."""
    from rfctui.bot import Actor, IdentityFile
    from rfctui.session import Session

    session = Session(cfg, clock=_clock, transport=sb.transport)
    try:
        result = await session.sweep("resync")
        assert result.ok, result.error
        history = await session.backfill_history()
        assert history.error is None, history.error
    finally:
        session.close()
    assert cfg.user_token is not None
    IdentityFile(cfg, cfg.user_token).save(Actor("ada", "Ada Lovelace"))


async def _export(out: Path) -> list[Path]:
    from rfctui.app import RfcApp
    from rfctui.widgets.rfc_list import RfcList

    sb = _sandbox()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template"
        await _sync(config_for(template), sb)

        async def shot(name: str, *keys: str, slug: str | None = None,
                       queue: bool = False) -> Path:
            with tempfile.TemporaryDirectory() as run:
                cfg = config_for(Path(run))
                for f in template.rglob("*"):
                    if f.is_file():
                        dest = Path(run) / f.relative_to(template)
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.write_bytes(f.read_bytes())
                app = RfcApp(cfg, clock=_clock, sync=False, transport=sb.transport)
                app.animation_level = "none"
                async with app.run_test(size=SIZE) as pilot:
                    await settle(pilot)
                    rfc_list = app.screen.query_one(RfcList)
                    if slug is not None:
                        rfc_list.select_slug(slug)
                        await settle(pilot)
                    if queue:
                        rfc_list.cursor = next(
                            i for i, r in enumerate(rfc_list.rows) if r.queue is not None)
                        await settle(pilot)
                    for key in keys:
                        await pilot.press(key)
                        await settle(pilot)
                    path = out / f"{name}.svg"
                    app.save_screenshot(filename=path.name, path=str(out))
                    return path

        out.mkdir(parents=True, exist_ok=True)
        return [
            await shot("main"),
            await shot("detail", slug="error-budget-policy"),
            await shot("filter", "slash", *"tag:reliability -state:withdrawn"),
            await shot("help", "question_mark"),
            await shot("queue", queue=True),
            await shot("change-view", "d", slug="on-call-handoff-notes"),
            await shot("timeline", "t", slug="typed-config"),
        ]


def export(out: Path) -> list[Path]:
    from textual.widgets import Input

    for var in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_ANIMATIONS", "COLUMNS", "LINES"):
        os.environ.pop(var, None)
    Input._toggle_cursor = lambda self: None  # type: ignore[method-assign]  # no blink
    return asyncio.run(_export(out))


if __name__ == "__main__":
    for p in export(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")):
        print(p)
