"""Fixtures for the UI tests and snapshots: fixed clock, a real cache, app factories.

The cache the UI reads is built the way the product builds it: the real ``Reconciler``
resyncs from an in-process sample ``Sandbox`` (its httpx transport) under a fixed clock.
One entry is hostile (§7.4) and one is deleted after the first sync (so it shows as
removed). ``MemoryCache`` is a plain stand-in with the read API, for the few tests that
need data the sandbox cannot produce (e.g. a 300 kB body).
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rfctui.config import Config, Secret
from rfctui.db import ListItem, PRRow, RFCDetail, SyncStatus

FIXED_NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
# The sandbox lives three days in the past, so PR ages read "3 d ago", not "just now".
SANDBOX_NOW = FIXED_NOW - timedelta(days=3)
BASE_URL = "http://gitea.test"
SIZES = {"small": (80, 24), "large": (160, 50)}

HOSTILE_SLUG = "hostile-title"
HOSTILE_TITLE = "[bold]Boom[/bold] [@click=app.quit]quit[/] \x1b[31mred\x1b[0m \u202eevil"
HOSTILE_ENTRY = (
    "---\n"
    f"slug: {HOSTILE_SLUG}\n"
    'title: "[bold]Boom[/bold] [@click=app.quit]quit[/] \\e[31mred\\e[0m \\u202Eevil"\n'
    "state: idea\n"
    "proposed_by: grace\n"
    "proposed_at: 2026-11-01T10:00:00Z\n"
    "owners: [grace]\n"
    "arbiters: [ada]\n"
    'tags: ["[red]x[/red]"]\n'
    "---\n"
    "Body with \x1b]52;c;ZXZpbA==\x07 an OSC 52 write, \x1b[2J a clear screen,\n"
    "[@click=app.quit]a fake action[/] and [bold]markup[/bold].\n\n"
    "[a javascript link](javascript:alert(1)) and [a web link](https://example.org/x).\n"
)
REMOVED_SLUG = "yaml-config-v1"
OTHER_SLUG = "review-bot"
OTHER_ENTRY = (
    "---\n"
    f"slug: {OTHER_SLUG}\n"
    "title: A review bot for the meta repository\n"
    "state: in-review\n"
    "proposed_by: ada\n"
    "proposed_at: 2026-11-20T09:00:00Z\n"
    "owners: [ada]\n"
    "---\n"
    "A state rfctui does not know: listed under Other, never dropped (§3).\n"
)


def fixed_clock() -> datetime:
    return FIXED_NOW


def sandbox_clock() -> datetime:
    return SANDBOX_NOW


def make_sandbox() -> Any:
    """The bundled sample plus the hostile entry, on a fixed clock."""
    from rfctui.sandbox.sample import build_sample_sandbox

    sb = build_sample_sandbox(clock=sandbox_clock)
    sb.commit_files(
        "main",
        {
            f"rfcs/{HOSTILE_SLUG}.md": HOSTILE_ENTRY.encode(),
            f"rfcs/{OTHER_SLUG}.md": OTHER_ENTRY.encode(),
        },
        "Add a hostile entry and one in a state rfctui does not know",
        author=("Grace Hopper", "grace@sandbox.localhost"),
    )
    return sb


def config_for(cache_dir: Path, *, sync_intervals: float = 0) -> Config:
    return Config(
        gitea_url=BASE_URL,
        bot_token=Secret("bot-token"),
        user_token=Secret("ada-token"),
        cache_dir=cache_dir,
        data_dir=cache_dir / "data",
        state_dir=cache_dir / "state",
        quick_interval=sync_intervals,
        full_interval=sync_intervals,
    )


async def _resync(sb: Any, cfg: Config) -> None:
    from rfctui.db import open_cache
    from rfctui.gitea import GiteaClient
    from rfctui.reconcile import Reconciler

    cache = open_cache(cfg.cache_file, clock=fixed_clock)
    try:
        async with GiteaClient(cfg.gitea_url, cfg.bot_token, transport=sb.transport) as client:
            rec = Reconciler(client, cache, cfg.org, cfg.meta_repo, cfg.bot_user, clock=fixed_clock)
            result = await rec.resync()
            assert result.ok, result.error
            # Deleted out of band after the first sync: the full sweep keeps the row,
            # flagged removed (§4.1).
            sb.commit_files("main", {f"rfcs/{REMOVED_SLUG}.md": None}, "Remove an entry")
            result = await rec.full_sweep()
            assert result.ok, result.error
    finally:
        cache.close()


_TEMPLATE: Path | None = None


def build_cache_dir(target: Path) -> tuple[Config, Any]:
    """A cache directory synced from the sample sandbox; returns (config, sandbox).

    The first call runs the reconciler; later calls copy that file (fast, identical).
    """
    global _TEMPLATE
    sb = make_sandbox()
    if _TEMPLATE is None:
        tmpl = Path(tempfile.mkdtemp(prefix="rfctui-ui-cache-"))
        atexit.register(shutil.rmtree, tmpl, True)
        # On a thread of its own: callers may already run an event loop (async tests).
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _resync(sb, config_for(tmpl))).result()
        _TEMPLATE = tmpl
    else:
        sb.commit_files("main", {f"rfcs/{REMOVED_SLUG}.md": None}, "Remove an entry")
    target.mkdir(parents=True, exist_ok=True)
    for f in _TEMPLATE.iterdir():
        if f.is_file():
            shutil.copy2(f, target / f.name)
    return config_for(target), sb


def make_app(
    cache_dir: Path,
    *,
    sync: bool = False,
    sandbox: Any = None,
    known_login: str | None = None,
    **kw: Any,
) -> Any:
    """An RfcApp over a synced cache: fixed clock, no timers; network only if ``sync``.

    ``known_login``: the identity last verified with the user token on this machine (as
    a sweep leaves it), so the "Needs you" queue shows without the network.
    """
    from rfctui.app import RfcApp

    cfg, sb = build_cache_dir(cache_dir)
    if known_login is not None:
        from rfctui.bot import Actor, IdentityFile

        assert cfg.user_token is not None
        IdentityFile(cfg, cfg.user_token).save(Actor(known_login, known_login.title()))
    sb = sandbox or sb
    app = RfcApp(cfg, clock=fixed_clock, sync=sync, transport=sb.transport, **kw)
    app.animation_level = "none"
    app.sandbox = sb  # type: ignore[attr-defined]
    return app


async def settle(pilot: Any) -> None:
    """Wait until the cache is shown, workers are done and the detail is drawn."""
    app = pilot.app
    for _ in range(200):
        await pilot.pause()
        screen = app.screen
        items_ready = getattr(screen, "_loaded_once", True)
        if items_ready and not any(w.is_running for w in app.workers):
            break
        await asyncio.sleep(0.02)
    await app.workers.wait_for_complete()
    for _ in range(3):
        await pilot.pause()
        await asyncio.sleep(0.05)
    await app.workers.wait_for_complete()
    await pilot.pause()


@dataclass
class MemoryCache:
    """The UI's read API over plain lists (for data the sandbox cannot produce)."""

    items: list[ListItem]
    details: dict[str, RFCDetail] = field(default_factory=dict)
    pulls: dict[str, list[PRRow]] = field(default_factory=dict)
    status: SyncStatus = field(
        default_factory=lambda: SyncStatus(FIXED_NOW, "full", True, None, 0, 0)
    )
    notice: str | None = None

    def list_items(self, now: datetime | None = None, stale_days: float = 60) -> list[ListItem]:
        return list(self.items)

    def rfc(self, slug: str) -> RFCDetail | None:
        return self.details.get(slug)

    def pulls_for(self, slug: str) -> list[PRRow]:
        return list(self.pulls.get(slug, []))

    def sync_status(self) -> SyncStatus:
        return self.status


def big_body_cache(size: int = 300_000) -> MemoryCache:
    item = ListItem(kind="rfc", slug="huge", title="A huge body", state="idea")
    detail = RFCDetail(
        slug="huge",
        title="A huge body",
        state="idea",
        rfc_id=None,
        repo=None,
        proposed_by="ada",
        proposed_at=FIXED_NOW,
        graduated_at=None,
        graduated_by=None,
        owners=("ada",),
        arbiters=(),
        tags=(),
        body="word " * (size // 5),
        removed=False,
        state_since=FIXED_NOW,
        html_url=None,
    )
    return MemoryCache(
        [item], {"huge": detail}, {}, replace(SyncStatus(FIXED_NOW, "full", True, None, 1, 0))
    )


def quiet_environment(monkeypatch: Any) -> None:
    """No env var, cursor blink or animation may change a snapshot (STYLE §6.2)."""
    from textual.widgets import Input

    for var in (
        "NO_COLOR",
        "TEXTUAL_THEME",
        "TEXTUAL_ANIMATIONS",
        "TEXTUAL_FILTERS",
        "TEXTUAL_DIM_FACTOR",
        "COLUMNS",
        "LINES",
        "FORCE_COLOR",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
