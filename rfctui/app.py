"""The Textual application: a thin shell around MainScreen (SPEC §7; STYLE §9.1).

It holds the configuration, the lazily opened cache handle (opened in a worker thread:
``open_cache`` may run ``quick_check``), the clock and the command palette provider.
Orchestration lives in ``rfctui.screens.main``.

Start-up (§7.1, issue 4: first paint within 1.5× a bare Textual app): the first screen
(``FirstScreen``: group sizes, the first rows, the status, the first row's detail) is
read on a thread by ``rfctui.startup``, which ``rfctui`` starts before it even imports
Textual; the app only collects it. The whole list is read after the first paint.
"""

from __future__ import annotations

import os
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
from rfctui.startup import FirstScreen, read_first_screen, start_first_screen
from rfctui.text import one_line

__all__ = ["BindingsProvider", "CacheSnapshot", "FirstScreen", "RfcApp", "run_app"]

# Text-mode browsers webbrowser may pick on a machine without a display.
CONSOLE_BROWSERS = frozenset({"www-browser", "lynx", "links", "links2", "elinks", "w3m"})


@dataclass(frozen=True)
class CacheSnapshot:
    """What one read of the whole cache hands the UI."""

    items: list[Any]
    notice: str | None
    status: Any = None  # not read here: the screen reads it after the first paint


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
        first_screen: Future[FirstScreen] | None = None,
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
        self._actions_notice: str | None = None  # to be told once (check_actions_log)
        self.cache_notice_shown = False
        self.theme = "textual-dark"
        # The first screen is read on a thread from the start (``rfctui.startup``), so
        # the SQL overlaps Textual's own start-up; the screen's load worker collects it.
        # ``rfctui`` starts that thread even before Textual is imported (first_screen).
        self._preload: Future[FirstScreen] | None = first_screen
        if first_screen is None and preload:
            self._preload = start_first_screen(config, clock=self.clock, cache=cache)

    def first_screen_if_ready(self) -> FirstScreen | None:
        """The start-up read if it is done already (UI thread: never waits for it).

        None if it is still running, failed, or took the long way (the worker reports
        those and keeps the opened cache).
        """
        preload = self._preload
        if preload is None or not preload.done() or preload.exception() is not None:
            return None
        first = preload.result()
        if first.cache is not None:
            return None
        self._preload = None
        return first

    def read_first_screen(self) -> FirstScreen:
        """The first screen's data (worker threads): the start-up read, else read now."""
        preload, self._preload = self._preload, None
        if preload is not None:
            first = preload.result()
        else:
            first = read_first_screen(self.config, clock=self.clock, cache=self._cache)
        if first.cache is not None:  # opened (created or repaired) on the way: keep it
            with self._cache_lock:
                if self._cache is None:
                    self._cache = first.cache
                elif self._cache is not first.cache:
                    first.cache.close()
        return first

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

    def check_actions_log(self) -> str | None:
        """Open the actions log (§6.4) if there is one: its one-line notice if it had to
        be moved aside, or why it cannot be opened; once (worker threads, after the
        paint), whoever opened it first."""
        with self._cache_lock:
            self._open_actions_locked()
            notice, self._actions_notice = self._actions_notice, None
            return notice

    def get_actions(self) -> Any:
        """The actions log (§6.4) for who-opened-what (§6.3), or None if unavailable."""
        with self._cache_lock:
            self._open_actions_locked()
            return self._actions

    def _open_actions_locked(self) -> None:
        if self._actions is not None:
            return
        path = getattr(self.config, "actions_file", None)
        if path is None or not Path(path).exists():
            return  # nothing was ever done from this machine (yet: try again later)
        from rfctui.db import open_actions

        try:
            self._actions = open_actions(path)
        except Exception as exc:  # noqa: BLE001 - attribution falls back to trailers
            self._actions_notice = one_line(str(exc), 500)
            return
        self._actions_notice = self._actions.notice

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
    first_screen: Future[FirstScreen] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Run the UI until the person quits (called by ``rfctui`` in cli.py).

    ``first_screen``: the read ``rfctui.startup.start_first_screen`` began before
    Textual was imported.
    """
    RfcApp(config, clock=clock, first_screen=first_screen).run()
    return 0
