"""The Textual application: a thin shell around MainScreen (SPEC §7; STYLE §9.1).

It holds one `rfctui.session.Session` (the cache, the actions log, the clients, the
identity: built from the configuration, or handed in), the start-up read, the browser
and the command palette provider. Orchestration lives in ``rfctui.screens.main``.

Start-up (§7.1, issue 4: first paint within 1.5× a bare Textual app): the first screen
(``FirstScreen``: group sizes, the first rows, the status, the first row's detail) is
read on a thread by ``rfctui.startup``, which ``rfctui`` starts before it even imports
Textual; the app only collects it. The whole list is read after the first paint.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from rfctui.config import Config
from rfctui.screens.main import MainScreen
from rfctui.screens.remember import Memory
from rfctui.session import Session
from rfctui.startup import FirstScreen, start_first_screen
from rfctui.text import one_line

__all__ = ["BindingsProvider", "FirstScreen", "RfcApp", "run_app"]

# Text-mode browsers webbrowser may pick on a machine without a display.
CONSOLE_BROWSERS = frozenset({"www-browser", "lynx", "links", "links2", "elinks", "w3m"})


class BindingsProvider(Provider):
    """The command palette offers what the main screen lists (every described key, §7.2)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        screen = self.screen
        if not isinstance(screen, MainScreen) and not hasattr(screen, "palette_entries"):
            return []  # a review screen (change view) offers its own keys the same way
        return [
            (c.name, c.help, partial(screen.run_action, c.action))
            for c in screen.palette_entries()
        ]

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
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="ctrl-quit"),
    ]
    # Issue 14 §4: a toast goes after 3 s (Textual's default is 5); an error stays 8 s
    # unless its caller says otherwise. Where toasts sit: app.tcss (ToastRack).
    NOTIFICATION_TIMEOUT: ClassVar[float] = 3.0
    ERROR_TIMEOUT: ClassVar[float] = 8.0

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        if timeout is None and severity == "error":
            timeout = self.ERROR_TIMEOUT
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def __init__(
        self,
        config: Config | None = None,
        *,
        session: Session | None = None,
        clock: Callable[[], datetime] | None = None,
        transport: Any = None,
        sync: bool = True,
        notice: str | None = None,
        preload: bool = True,
        first_screen: Future[FirstScreen] | None = None,
    ) -> None:
        """Either ``config`` (with ``clock`` and ``transport``: an httpx transport, e.g.
        the sandbox's in-process one) or a ready ``session``.

        ``first_screen``: the start-up read ``rfctui`` began before Textual was imported
        (``rfctui.startup``); else it starts here (unless ``preload`` is False), so the
        SQL overlaps Textual's own start-up.
        """
        super().__init__()
        if session is None:
            if config is None:
                raise TypeError("RfcApp needs a config or a session")
            session = Session(config, clock=clock, transport=transport)
        elif config is not None or clock is not None or transport is not None:
            raise TypeError("RfcApp takes a session or (config, clock, transport), not both")
        self.session = session
        self.notice = notice
        self.sync = sync
        # What the UI remembers (theme, folds, filter, order; issue 14 §3): two tiny
        # JSON reads, so the first frame already looks as the person left it.
        self.memory = Memory.read(session)
        self.theme = self.memory.initial_theme(self.available_themes)
        if first_screen is None and preload:
            first_screen = start_first_screen(session, cache=session.cache_if_open)
        self._first_screen = first_screen

    @property
    def config(self) -> Config:
        return self.session.config

    @property
    def clock(self) -> Callable[[], datetime]:
        """The clock every age and "synced" label uses (tests fix it)."""
        return self.session.clock

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
        first, self._first_screen = self._first_screen, None
        return MainScreen(self.session, sync=self.sync, first_screen=first)

    def on_mount(self) -> None:
        if self.notice:
            self.notify(self.notice, markup=False, timeout=10)
        for line in self.memory.notices:  # a damaged UI state file, an unknown theme
            self.notify(line, severity="warning", markup=False, timeout=10)
        self.memory.notices.clear()

    def watch_theme(self, theme: str) -> None:
        """The person picked a theme (ctrl+p, Theme): remembered for next time."""
        self.memory.theme_changed(self, theme)


def run_app(
    config: Config | Session,
    *,
    first_screen: Future[FirstScreen] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Run the UI until the person quits (called by ``rfctui`` in cli.py).

    ``config``: the configuration, or the session ``rfctui`` already built for it.
    ``first_screen``: the read ``rfctui.startup.start_first_screen`` began before
    Textual was imported.
    """
    if isinstance(config, Session):
        app = RfcApp(session=config, first_screen=first_screen)
    else:
        app = RfcApp(config, clock=clock, first_screen=first_screen)
    app.run()
    return 0
