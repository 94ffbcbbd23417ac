"""The Textual application: a thin shell around MainScreen (SPEC §7; STYLE §9.1).

It holds the configuration, the lazily opened cache handle (opened in a worker thread:
``open_cache`` may run ``quick_check``), the clock and the command palette provider.
Orchestration lives in ``rfctui.screens.main``.

Start-up (§7.1, issue 4: first paint within 1.5× a bare Textual app): a plain thread
started in ``__init__`` opens and checks the cache and reads only what the first screen
shows (``FirstScreen``: group sizes, the first rows, the status, the first row's
detail) while Textual starts; that is mostly SQLite's C code, which releases the GIL.
The whole list is read after the first paint.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from rfctui.screens.main import MainScreen
from rfctui.text import one_line

__all__ = ["BindingsProvider", "CacheSnapshot", "FirstScreen", "RfcApp", "run_app"]

# Text-mode browsers webbrowser may pick on a machine without a display.
CONSOLE_BROWSERS = frozenset({"www-browser", "lynx", "links", "links2", "elinks", "w3m"})

# GIL switch interval while the first screen is read (seconds; Python's default is 0.005).
PRELOAD_SWITCH_INTERVAL = 0.0002


@dataclass(frozen=True)
class CacheSnapshot:
    """What one read of the cache hands the UI."""

    items: list[Any]
    notice: str | None
    status: Any = None  # not read here: the screen reads it after the first paint


@dataclass(frozen=True)
class FirstScreen:
    """What the first paint needs, read before the whole list (``RfcApp.read_first_screen``).

    ``head`` is a ``db.ListHead`` (the first rows, every group's size, the status);
    ``item`` the first row and ``detail``/``pulls`` its right pane, as ``load_detail``
    reads them.
    """

    head: Any
    notice: str | None
    item: Any = None
    detail: Any = None
    pulls: list[Any] | None = None


class BindingsProvider(Provider):
    """The command palette offers every described binding of the main screen (§7.2)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        out: list[tuple[str, str, Callable[[], Any]]] = []
        from rfctui.screens.help import declared_bindings

        for binding in declared_bindings(type(screen)):
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if binding.action in ("quit",):
                continue  # the palette has its own Quit
            keys = ", ".join(
                self.app.get_key_display(Binding(k.strip(), binding.action))
                for k in binding.key.split(",")
            )
            help_text = f"{binding.tooltip} · key: {keys}" if binding.tooltip else f"key: {keys}"
            out.append((binding.description, help_text, partial(screen.run_action, binding.action)))
        return out

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class RfcApp(App[None]):
    """rfctui. ``sync=False`` (tests, snapshots) reads the cache and never touches Gitea."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "rfctui"
    COMMANDS = App.COMMANDS | {BindingsProvider}
    BINDINGS: list[BindingType] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="ctrl-quit"),
    ]

    def __init__(
        self,
        config: Any,
        *,
        notice: str | None = None,
        clock: Callable[[], datetime] | None = None,
        sync: bool = True,
        cache: Any = None,
        transport: Any = None,
        preload: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.notice = notice
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.sync = sync
        # An httpx transport (tests: the sandbox's in-process one); else the config's.
        self.transport = transport or getattr(config, "transport", None)
        self._cache = cache
        self._cache_lock = threading.Lock()
        self._actions: Any = None
        self.cache_notice_shown = False
        self.theme = "textual-dark"
        # Rows to read for the first screen: its height (or more; an unknown terminal).
        self.head_rows = max(shutil.get_terminal_size((80, 60)).lines, 60)
        # Read the first screen on a plain thread from the start, so the SQL overlaps
        # Textual's own start-up (CSS, compose); the screen's load worker then just
        # collects the result (first paint from the cache, §7.1).
        self._preload: Future[FirstScreen] | None = None
        self._switch_interval = sys.getswitchinterval()
        if preload:
            self._preload = Future()
            # The preload's SQL runs without the GIL, but the thread must win the GIL back
            # after every statement while the UI thread is busy starting Textual: with the
            # default 5 ms switch interval that wait, not the SQL, is most of its time.
            # Shorter until the first screen is read (``_run_preload`` restores it).
            sys.setswitchinterval(min(self._switch_interval, PRELOAD_SWITCH_INTERVAL))
            threading.Thread(
                target=self._run_preload, args=(self._preload,), name="rfctui-preload", daemon=True
            ).start()

    def _run_preload(self, future: Future[FirstScreen]) -> None:
        # ``future``, not ``self._preload``: the load worker takes that field (and clears
        # it) whenever it gets there, possibly before this thread even starts.
        try:
            future.set_result(self._read_first_screen())
        except BaseException as exc:  # noqa: BLE001 - handed to the load worker
            future.set_exception(exc)
        finally:
            if sys.getswitchinterval() == min(self._switch_interval, PRELOAD_SWITCH_INTERVAL):
                sys.setswitchinterval(self._switch_interval)

    def _read_first_screen(self) -> FirstScreen:
        from rfctui.widgets.rfc_list import LIST_STATES

        cache = self.get_cache()  # opened and checked before any row is trusted
        now, stale_days = self.clock(), getattr(self.config, "stale_days", 60)
        if hasattr(cache, "list_head"):
            head = cache.list_head(LIST_STATES, self.head_rows, now=now, stale_days=stale_days)
        else:  # a stand-in with only the list_items read API (tests): all of it at once
            from rfctui.db import ListHead

            items = cache.list_items(now=now, stale_days=stale_days)
            head = ListHead(items, {}, {}, 0, cache.sync_status(), complete=True)
        item = head.items[0] if head.items else None
        detail = pulls = None
        if item is not None:
            detail = cache.rfc(item.slug) if item.kind == "rfc" else None
            pulls = list(cache.pulls_for(item.slug))
        return FirstScreen(head, getattr(cache, "notice", None), item, detail, pulls)

    def read_first_screen(self) -> FirstScreen:
        """The first screen's data (worker threads): the start-up preload, else read now."""
        preload, self._preload = self._preload, None
        if preload is not None:
            return preload.result()
        return self._read_first_screen()

    def _read_snapshot(self) -> CacheSnapshot:
        cache = self.get_cache()
        items = cache.list_items(
            now=self.clock(), stale_days=getattr(self.config, "stale_days", 60)
        )
        return CacheSnapshot(items, getattr(cache, "notice", None))

    def read_snapshot(self) -> CacheSnapshot:
        """Every left-pane item and the cache notice (worker threads)."""
        return self._read_snapshot()

    def get_cache(self) -> Any:
        """The cache handle, opened on first use. Call from a worker thread only."""
        with self._cache_lock:
            if self._cache is None:
                from rfctui.db import open_cache

                self._cache = open_cache(self.config.cache_file, clock=self.clock)
            return self._cache

    def get_actions(self) -> Any:
        """The actions log (§6.4) for who-opened-what (§6.3), or None if unavailable."""
        with self._cache_lock:
            if self._actions is None:
                path = getattr(self.config, "actions_file", None)
                if path is None or not Path(path).exists():
                    return None  # nothing was ever done from this machine
                from rfctui.db import open_actions

                try:
                    self._actions = open_actions(path)
                except Exception:  # noqa: BLE001 - attribution falls back to trailers
                    return None
            return self._actions

    def open_in_browser(self, url: str) -> None:
        """Open an http(s) ``url`` (checked by the caller) without freezing the UI.

        Also copies it to the clipboard (OSC 52), which is all that helps over SSH.
        """
        self.copy_to_clipboard(url)
        if self._driver is not None and self._driver.is_web:
            self.open_url(url)
            return
        self._launch_browser(url)

    @work(thread=True, group="browser", exit_on_error=False, description="Opening browser")
    def _launch_browser(self, url: str) -> None:
        """``webbrowser`` in a thread; a console browser (lynx, w3m…) would take over the
        terminal under the TUI, so then the URL is only shown and copied."""
        import webbrowser

        shown = one_line(url, 160)
        try:
            browser = webbrowser.get()
        except webbrowser.Error:
            browser = None
        name = Path(str(getattr(browser, "name", "") or "")).name
        if browser is None or name in CONSOLE_BROWSERS:
            self.call_from_thread(
                self.notify,
                f"No graphical browser here. Copied to the clipboard: {shown}",
                markup=False,
                timeout=10,
            )
            return
        self.call_from_thread(self.notify, f"Opening {shown}", markup=False)
        try:
            ok = browser.open(url)
        except Exception:  # noqa: BLE001 - one line, never a traceback
            ok = False
        if not ok:
            self.call_from_thread(
                self.notify,
                f"The browser did not start. Copied to the clipboard: {shown}",
                severity="warning",
                markup=False,
            )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette commands that work here: Theme, Quit and a Screenshot that
        saves where it can. "Keys" (a panel escape does not close; ``?`` is the help) and
        "Maximize" (escape clears the filter instead of restoring) are left out."""
        for command in super().get_system_commands(screen):
            if command.title in ("Theme", "Quit"):
                yield command
        yield SystemCommand(
            "Screenshot",
            "Save an SVG screenshot in the current directory (or the temp directory)",
            lambda: self.set_timer(0.1, self._save_screenshot),
        )

    def _save_screenshot(self) -> None:
        """Textual's default target (~/Downloads) often does not exist: use the cwd."""
        cwd = Path.cwd()
        directory = cwd if os.access(cwd, os.W_OK) else Path(tempfile.gettempdir())
        try:
            path = self.save_screenshot(path=str(directory))
        except OSError as exc:
            self.notify(
                f"Screenshot not saved: {one_line(str(exc), 160)}", severity="error", markup=False
            )
            return
        self.notify(f"Screenshot saved to {one_line(path, 200)}", markup=False)

    def get_default_screen(self) -> MainScreen:
        return MainScreen(sync=self.sync, clock=self.clock)

    def on_mount(self) -> None:
        if self.notice:
            self.notify(self.notice, markup=False, timeout=10)


def run_app(
    config: Any,
    *,
    notice: str | None = None,
    clock: Callable[[], datetime] | None = None,
    cache: Any = None,
) -> int:
    """Run the UI until the person quits (called by ``rfctui`` in cli.py).

    ``cache``: an already opened ``rfctui.db.Cache`` for ``config`` (the CLI opens one to
    learn the notice); passing it saves opening and checking the file a second time.
    """
    app = RfcApp(config, notice=notice, clock=clock, cache=cache)
    cache_notice = getattr(cache, "notice", None)
    if cache_notice and notice and cache_notice in notice:
        app.cache_notice_shown = True  # the CLI's notice already says it: not twice
    app.run()
    return 0
