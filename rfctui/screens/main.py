"""The main screen: list, detail, filter, status; it owns the workers (SPEC §7, §4.1).

Threading model (STYLE §1.3, harlequin): every cache read and every reconciler sweep
runs in a thread worker; workers only ``post_message``; the ``@on`` handlers below are
the only code that changes widgets. The UI thread never waits on Gitea or on SQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import OptionList
from textual.worker import Worker, WorkerState, get_current_worker

from rfctui import startup
from rfctui.messages import (
    CacheChecked,
    CacheFailed,
    CacheNotice,
    DetailLoaded,
    FilterIndexReady,
    HeadLoaded,
    ItemsLoaded,
    StatusLoaded,
    SyncFinished,
    SyncStarted,
    UserIdentified,
)
from rfctui.results import SweepResult
from rfctui.rows import ListItem, read_detail
from rfctui.screens.bot_actions import BotActionsScreen
from rfctui.screens.feedback import FeedbackMixin
from rfctui.screens.filter_box import FilterMixin, read_index
from rfctui.screens.keys import (
    MAIN_BINDINGS,
    KeySection,
    PaletteCommand,
    declared_bindings,
    palette_commands,
)
from rfctui.screens.links import ConfirmOpen, entry_url, is_web_url, open_links
from rfctui.screens.queue import QueueMixin
from rfctui.screens.remember import RememberMixin
from rfctui.screens.review import ReviewMixin
from rfctui.screens.sync import Sweeps, read_check, sweep_note
from rfctui.session import Notice, SweepKind, describe_error
from rfctui.text import one_line
from rfctui.widgets.detail import DetailPane, PullList
from rfctui.widgets.filter_input import FilterInput
from rfctui.widgets.footer import LateFooter
from rfctui.widgets.rfc_list import GROUP_TITLES, RfcList, group_totals
from rfctui.widgets.status import StatusLine

if TYPE_CHECKING:
    from rfctui.app import RfcApp
    from rfctui.session import Session
    from rfctui.startup import FirstScreen

__all__ = ["ConfirmOpen", "MainScreen", "is_web_url"]

CACHE_CHECK_SECONDS = 5.0  # how often to ask if another process wrote the shared cache


class MainScreen(
    FeedbackMixin, FilterMixin, QueueMixin, RememberMixin, ReviewMixin, BotActionsScreen
):
    """Left: filter + RFC list. Right: detail. Bottom: status line + footer."""

    # Below 60 columns the two panes do not both fit: one at a time (app.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (60, "-wide")]
    # The list has the focus from the first frame (not the filter box first, then the
    # list: a second restyle just after the first paint).
    AUTO_FOCUS = "#rfc-list"

    # The single key table (rfctui.screens.keys): the footer, the help screen and the
    # command palette (app.BindingsProvider) are all generated from it.
    BINDINGS: ClassVar[list[BindingType]] = list(MAIN_BINDINGS)

    def __init__(
        self,
        session: Session,
        *,
        sync: bool = True,
        first_screen: Future[FirstScreen] | None = None,
    ) -> None:
        """``first_screen``: the start-up read (``rfctui.startup.start_first_screen``)."""
        super().__init__(session)
        self.sync_enabled = sync
        self._clock = session.clock
        self._preload = first_screen
        self._init_filter()  # FilterMixin: the index, the last filter, coalescing
        self._manual_sync = False  # say how a sweep the person asked for went
        self._synced_once = False
        self._sweep_reported = False
        self._sweeps = Sweeps(session, self.post_message)  # one at a time; quitting cancels
        self._loaded_once = False
        self._actions_checked = False  # the actions log's notice, once, after the paint
        # The session's notices: the actions log's wait for the first paint; each once.
        self._notice_lock = threading.Lock()
        self._held_notices: list[Notice] = []
        self._told: set[Notice] = set()
        self._first_shown: FirstScreen | None = None  # applied in on_mount, for the worker
        self._started_sync = False
        # Start-up: only the head of the list is shown until the whole list is read.
        self._partial = False
        self._head_groups: tuple[dict[str, int], dict[str, int]] | None = None
        self._detail_shown_for: ListItem | None = None  # skip re-reading this detail once
        self._painted = threading.Event()  # the first screen is on the terminal
        self._first_detail = True
        # The cache generation the list was read at (None: not known yet) and the
        # reconciler's skipped (malformed) entries, for the status line and help.
        self._generation: str | None = None
        self._generation_known = False
        self._watching = False
        self.skipped: list[tuple[str, str]] = []

    @property
    def rfc_app(self) -> RfcApp:
        return self.app  # type: ignore[return-value]

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Start in the breakpoint class of the current width, so the first Resize finds
        # nothing to change instead of restyling every widget just before the first paint.
        breakpoints = self.HORIZONTAL_BREAKPOINTS
        on = self._get_breakpoint_classes(self.app.size.width, breakpoints)
        self.update_classes({name: name in on for _edge, name in breakpoints})
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield FilterInput(id="filter")
                yield RfcList(id="rfc-list", clock=self._clock)
            yield DetailPane(id="detail", clock=self._clock)
        yield StatusLine(id="status", clock=self._clock)
        yield LateFooter()  # its keys appear right after the first screen of data

    def on_mount(self) -> None:
        self.restore_remembered(partial(self._apply_order, save=False))  # issue 14 §3
        status = self.query_one(StatusLine)
        status.demo = self.session.config.demo
        if status.demo:
            url = one_line(self.session.config.gitea_url)
            self.notify(
                f"A sandbox Gitea with sample data runs at {url} for this session only."
                " Press ? for the keys.",
                title="Demo",
                markup=False,
                timeout=8,
            )
        status.render_status()
        self.query_one(DetailPane).show_message("Loading…")
        first = self._first_screen_if_ready()
        if first is not None:
            # Read while Textual was starting: into the very first frame, no round trip
            # through the worker (and no frame of "Loading…" to render first).
            self._first_shown = first
            for message in self._first_screen_messages(first):
                self._handle_now(message)
        self.load_items()
        self.set_timer(1.0, self._first_paint_done)  # the footer's keys in any case
        self.set_timer(10.0, startup.end)  # the collector runs again in any case
        # Ages ("synced 2 min ago") move on by themselves.
        self.set_interval(30, status.render_status, name="status-clock")

    # -- cache reads ----------------------------------------------------------------

    def _first_screen_if_ready(self) -> FirstScreen | None:
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

    def _read_first_screen(self) -> FirstScreen:
        """The first screen's data (worker threads): the start-up read, else read now."""
        preload, self._preload = self._preload, None
        if preload is not None:
            first = preload.result()
        else:
            session = self.session
            first = startup.read_first_screen(session, cache=session.cache_if_open)
        if first.cache is not None:  # opened (created or repaired) on the way: keep it
            self.session.adopt_cache(first.cache)
        return first

    @work(
        thread=True, exclusive=True, group="load", exit_on_error=False, description="Reading cache"
    )
    def load_items(self) -> None:
        """Read every left-pane item from the cache (a thread: SQL never on the UI).

        The first time, the first screen comes first (`_read_first_screen`: the first
        rows, group sizes, status and the first row's detail); once that is painted the
        cache is opened for good — ``open_cache`` runs the integrity check the first
        screen did not wait for, and moves a damaged file aside — and the whole list is
        read and replaces the first screen, the cursor where it was.
        """
        try:
            first, self._first_shown = self._first_shown, None
            if first is None and not self._loaded_once and not self._partial:
                first = self._read_first_screen()
                for message in self._first_screen_messages(first):
                    self.post_message(message)
            whole = first is not None and first.head.complete
            if first is not None:
                # The big read competes for the GIL with the first paint: wait for it.
                self._painted.wait(2.0)
            items = self.read_items()
        except Exception as exc:  # noqa: BLE001 - one line for the person, not a traceback
            self.post_message(CacheFailed(describe_error(exc)[0]))
            return
        notices = self._notice_messages(actions_log=False)
        for notice in notices:
            self.post_message(notice)
        if not notices and whole and items == first.head.items:  # type: ignore[union-attr]
            items = first.head.items  # type: ignore[union-attr]
            self.post_message(FilterIndexReady(items, read_index(self.session, items)))
            self._check_actions_log()  # the first screen was all of it, and it stands
            return
        # Paint first; what the paint does not need follows in later messages: the
        # filter index last (FilterMixin: built here, once, not by the handler).
        self._index_for = items
        self.post_message(ItemsLoaded(items, None))
        try:
            self.post_message(StatusLoaded(self.session.cache().sync_status()))
        except Exception as exc:  # noqa: BLE001
            self.post_message(CacheFailed(describe_error(exc)[0]))
        try:
            self.post_message(FilterIndexReady(items, read_index(self.session, items)))
        except Exception as exc:  # noqa: BLE001
            self.post_message(CacheFailed(describe_error(exc)[0]))
        self._check_actions_log()

    def _notice_messages(self, *, actions_log: bool) -> list[CacheNotice]:
        """The session's notices not told yet (a moved-aside file: §4.2, §6.4).

        The cache's at once; the actions log's only with ``actions_log`` (after the
        first paint), kept until then. Each is told once, whoever opened the file.
        """
        with self._notice_lock:
            waiting = self._held_notices + self.session.take_notices()
            self._held_notices = [n for n in waiting if n.actions_log and not actions_log]
            fresh = [n for n in dict.fromkeys(waiting)
                     if n not in self._held_notices and n not in self._told]
            self._told.update(fresh)
        return [CacheNotice(n.text, actions_log=n.actions_log) for n in fresh]

    def _check_actions_log(self) -> None:
        """Once, after the first paint: say if the actions log was moved aside (§6.4)."""
        if self._actions_checked:
            return
        self._actions_checked = True
        try:
            self.session.actions_log()  # opened now if there is one (never created)
        except Exception as exc:  # noqa: BLE001 - attribution falls back to trailers
            self.post_message(CacheNotice(describe_error(exc)[0], actions_log=True))
        for notice in self._notice_messages(actions_log=True):
            self.post_message(notice)

    def _first_screen_messages(self, first: FirstScreen) -> list[Message]:
        """What paints ``first``, in order: notice, rows (and counts, status), detail."""
        out: list[Message] = [*self._notice_messages(actions_log=False)]
        if first.head.complete:
            self._index_for = first.head.items  # load_items builds its index
            out.append(ItemsLoaded(first.head.items, first.head.status))
        else:
            out.append(HeadLoaded(first.head))
        if first.item is not None:
            out.append(DetailLoaded(first.item, first.detail, first.pulls or []))
        return out

    def _handle_now(self, message: Message) -> None:
        """Handle one of `_first_screen_messages` at once, as its handler would."""
        handlers: dict[type[Message], Callable[[Any], None]] = {
            CacheNotice: self._cache_notice,
            ItemsLoaded: self._items_loaded,
            HeadLoaded: self._head_loaded,
            DetailLoaded: self._detail_loaded,
        }
        handlers[type(message)](message)

    @on(CacheNotice)
    def _cache_notice(self, message: CacheNotice) -> None:
        self.notify(
            one_line(message.notice),
            title=message.title,
            severity="warning",
            markup=False,
            timeout=10,
        )
        if not message.actions_log:
            # The cache was moved aside and started empty: it has never synced (what
            # the first screen read from the old file no longer holds).
            status = self.query_one(StatusLine)
            status.synced_at = None
            status.render_status()

    @on(CacheFailed)
    def _cache_failed(self, message: CacheFailed) -> None:
        startup.end()
        status = self.query_one(StatusLine)
        status.loaded = True
        status.error = f"cache: {message.error}"
        status.render_status()
        self.query_one(RfcList).set_items([], empty_message="The cache could not be read.")
        self.query_one(DetailPane).show_message("The cache could not be read.", message.error)
        self._maybe_start_sync()

    @on(HeadLoaded)
    def _head_loaded(self, message: HeadLoaded) -> None:
        """Paint the first screen: its rows, every group's true size, the status."""
        head = message.head
        self.items = list(head.items)
        self._texts = None
        self._partial = True
        self._head_groups = group_totals(
            head.state_counts, head.ident_lens, head.status.pending_count, head.pending_ident_len
        )
        status = self.query_one(StatusLine)
        status.loaded = True
        self._status_loaded(StatusLoaded(head.status))
        self._apply_filter(announce=True)
        self.call_after_refresh(self._first_paint_done)

    def _first_paint_done(self) -> None:
        """The first screen is painted: the big read may start, the footer fill in."""
        self._painted.set()
        self.query_one(LateFooter).release()

    @on(ItemsLoaded)
    def _items_loaded(self, message: ItemsLoaded) -> None:
        if self._partial:
            # The whole list replaces the first screen: same cursor, and no second read
            # of a detail already shown if its row did not change.
            self._partial = False
            self._head_groups = None
            self._detail_shown_for = self.query_one(DetailPane).item
        self.items = message.items
        self._items_texts(message.items, message.texts)  # FilterMixin: the index
        status = self.query_one(StatusLine)
        status.loaded = True
        status.rfc_count = sum(1 for i in self.items if i.kind == "rfc" and not i.removed)
        status.pending_count = sum(1 for i in self.items if i.kind == "pending")
        if message.status is not None:
            self._status_loaded(StatusLoaded(message.status))
        self._apply_filter(announce=True)
        self._loaded_once = True
        self.call_after_refresh(self._first_paint_done)
        # The network (and the watch on the file) once this is on the screen.
        self.call_after_refresh(self._maybe_start_sync)

    @on(StatusLoaded)
    def _status_loaded(self, message: StatusLoaded) -> None:
        st = message.status
        status = self.query_one(StatusLine)
        if st.synced_at is not None and (
            status.synced_at is None or st.synced_at > status.synced_at
        ):
            status.synced_at = st.synced_at
        status.rfc_count = st.rfc_count
        status.pending_count = st.pending_count
        if not self._sweep_reported and st.last_ok is False and st.last_error:
            # The last run's failure, until this session's first sweep says otherwise.
            status.error = st.last_error
            status.offline = st.offline
        status.render_status()

    @on(FilterIndexReady)
    def _index_ready(self, message: FilterIndexReady) -> None:
        self._filter_index_ready(message)
        # Start-up is over (the whole list and its filter index are in): the garbage
        # collector runs again, without rescanning any of that (rfctui.startup.end).
        startup.end()

    def _maybe_start_sync(self) -> None:
        """After the first paint from the cache: a full sweep, then the timers (§4.1)."""
        self._start_watch()
        if self._started_sync or not self.sync_enabled:
            return
        self._started_sync = True
        cfg = self.session.config
        self.start_sync("full")
        quick = float(cfg.quick_interval or 0)
        full = float(cfg.full_interval or 0)
        if quick > 0:
            self.set_interval(
                quick, lambda: self.start_sync("quick", quiet=True), name="quick-sweep"
            )
        if full > 0:
            self.set_interval(full, lambda: self.start_sync("full", quiet=True), name="full-sweep")

    # -- other writers of the shared cache ------------------------------------------------

    def _start_watch(self) -> None:
        """Notice another process's writes (§4.2: a UI and a ``--resync`` share the file)."""
        if self._watching:
            return
        self._watching = True
        self.check_cache()
        self.set_interval(CACHE_CHECK_SECONDS, self._timed_check, name="cache-check")

    def _timed_check(self) -> None:
        if not self._sweeps.running:  # the sweep's own end checks (no double re-read)
            self.check_cache()

    @work(thread=True, exclusive=True, group="check", exit_on_error=False, description="Checking")
    def check_cache(self, reload: bool = False) -> None:
        """Read the generation and skipped entries (a few SyncState rows; never on the UI).

        Read *before* any re-read of the list, so a write that lands in between shows up
        as a new generation next time instead of being missed.
        """
        try:
            generation, skipped = read_check(self.session.cache())
        except Exception as exc:  # noqa: BLE001
            if reload:
                self.post_message(CacheFailed(describe_error(exc)[0]))
            return
        self.post_message(CacheChecked(generation, skipped, reload=reload))

    @on(CacheChecked)
    def _cache_checked(self, message: CacheChecked) -> None:
        changed = self._generation_known and message.generation != self._generation
        self._generation, self._generation_known = message.generation, True
        self._show_skipped(message.skipped)
        if changed or message.reload:
            self.load_items()  # the cursor stays on its slug (RfcList.set_items)

    def _show_skipped(self, skipped: list[tuple[str, str]]) -> None:
        """The "N skipped" status part; the reasons once per change (all of them in ``?``)."""
        if skipped == self.skipped:
            return
        self.skipped = skipped
        status = self.query_one(StatusLine)
        status.skipped = len(skipped)
        status.render_status()
        if not skipped:
            return
        first = "; ".join(f"{one_line(p, 60)}: {one_line(r, 80)}" for p, r in skipped[:3])
        more = f" (+{len(skipped) - 3} more)" if len(skipped) > 3 else ""
        self.notify(
            f"{first}{more}. ? lists them all.",
            title=f"{len(skipped)} malformed entries skipped",
            severity="warning",
            markup=False,
            timeout=10,
        )

    # -- filtering --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In the filter box "/" is a character, not the Filter key."""
        if action == "focus_filter" and isinstance(self.focused, FilterInput):
            return False
        return True

    def action_focus_filter(self) -> None:
        # set_focus, not focus(): focus() is deferred, and the keys typed right after
        # "/" (already queued) would reach the list and run n/e/c/m instead of filtering.
        self.set_focus(self.query_one(FilterInput))

    def action_clear_filter(self) -> None:
        """escape on the list clears the filter (in the filter box it only leaves it)."""
        box = self.query_one(FilterInput)
        if box.value:
            box.value = ""
        self.set_focus(self.query_one(RfcList))

    # -- detail -----------------------------------------------------------------------

    @on(RfcList.Highlighted)
    def _highlighted(self, event: RfcList.Highlighted) -> None:
        pane = self.query_one(DetailPane)
        if event.item is None:
            # The row under the cursor now, not the event's: a queued event from before a
            # filter keystroke would show a header that is gone (or its old count).
            row = event.rfc_list.highlighted_row
            if row is not None and row.is_header:
                pane.show_message(
                    f"{GROUP_TITLES.get(row.group, row.group)} ({row.count})",
                    "Folded: enter or space unfolds it." if row.collapsed
                    else "enter or space folds and unfolds this group.",
                )
            return
        shown, self._detail_shown_for = self._detail_shown_for, None
        if shown is not None and event.item == shown and pane.item == shown:
            return  # the start-up read already shows exactly this row
        typing = isinstance(self.focused, FilterInput)
        self.load_detail(event.item, 0.12 if typing else 0.02)

    @on(events.DescendantFocus)
    def _focus_moved(self, event: events.DescendantFocus) -> None:
        """On a narrow terminal the detail shows (instead of the list) while focused."""
        detail = self.query_one(DetailPane)
        widget = event.widget
        self.set_class(widget is detail or detail in widget.ancestors, "-reading")

    @on(RfcList.Selected)
    def _selected(self, event: RfcList.Selected) -> None:
        """enter on an item: read it (focus the detail; escape comes back)."""
        self.set_focus(self.query_one(DetailPane))

    @work(
        thread=True,
        exclusive=True,
        group="detail",
        exit_on_error=False,
        description="Reading entry",
    )
    def load_detail(self, item: ListItem, delay: float = 0.02) -> None:
        """Read one item's detail; a quick burst of cursor moves only loads the last."""
        # Debounce: holding j, or typing in the filter, only loads the last item.
        time.sleep(delay)
        if get_current_worker().is_cancelled:
            return
        try:
            detail, pulls = read_detail(self.session.cache(), item)
        except Exception as exc:  # noqa: BLE001
            self.post_message(CacheFailed(describe_error(exc)[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(DetailLoaded(item, detail, pulls))

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        current = self.query_one(RfcList).highlighted_item
        if current is None or (current.kind, current.slug) != (
            message.item.kind,
            message.item.slug,
        ):
            return  # the cursor moved on
        self.query_one(DetailPane).show(current, message.detail, message.pulls)
        if self._first_detail:
            # Read at start-up with the first screen: the cursor's own event, queued
            # behind this message, need not read it again.
            self._first_detail = False
            self._detail_shown_for = current

    # -- links and the browser ----------------------------------------------------------

    def open_url(self, url: str | None) -> None:
        if not is_web_url(url):
            self.notify(
                f"Not opening {one_line(url or 'an empty link', 120)}: only http(s) links open.",
                severity="warning",
                markup=False,
            )
            return
        assert url is not None
        self.rfc_app.open_in_browser(url)

    def action_open_browser(self) -> None:
        """``o``: the highlighted pull request if the PR list has focus, else the item."""
        focused = self.focused
        if isinstance(focused, PullList) and focused.highlighted_pull is not None:
            self.open_url(focused.highlighted_pull.html_url)
            return
        item = self.query_one(RfcList).highlighted_item
        if item is None:
            self.notify("Select an entry first.", markup=False)
            return
        self.open_url(entry_url(item, self.session.config))

    def _selected_url(self) -> str | None:
        focused = self.focused
        if isinstance(focused, PullList) and focused.highlighted_pull is not None:
            return focused.highlighted_pull.html_url
        item = self.query_one(RfcList).highlighted_item
        return entry_url(item, self.session.config) if item is not None else None

    def action_links(self) -> None:
        """``L``: the body's references and links (`rfctui.screens.links.open_links`)."""
        open_links(self)

    def action_copy_link(self) -> None:
        """``y``: the link to the clipboard (OSC 52), for a browser on another machine."""
        url = self._selected_url()
        if not is_web_url(url):
            self.notify("Nothing to copy here.", markup=False)
            return
        assert url is not None
        self.app.copy_to_clipboard(url)
        self.notify(f"Copied {one_line(url, 160)}", markup=False)

    @on(OptionList.OptionSelected, "#detail-pulls")
    def _pull_selected(self, event: OptionList.OptionSelected) -> None:
        """enter (or a click) on a pull request opens it, like ``o``."""
        pulls = self.query_one(PullList).pulls
        if event.option_index < len(pulls):
            self.open_url(pulls[event.option_index].html_url)

    def on_markdown_link_clicked(self, event: Any) -> None:
        """Links in bodies never open by themselves: http(s) only, after a question."""
        event.stop()
        href = event.href
        if not is_web_url(href):
            self.notify(
                f"Not opening {one_line(href, 120)}: only http(s) links open.",
                severity="warning",
                markup=False,
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.open_url(href)

        self.app.push_screen(ConfirmOpen(href), answered)

    # -- sync -------------------------------------------------------------------------

    def action_sync(self, kind: SweepKind) -> None:
        self._manual_sync = True
        self.start_sync(kind)

    def start_sync(self, kind: SweepKind, *, quiet: bool = False) -> None:
        """Start a sweep unless one runs (then queue it: a sweep is never cancelled)."""
        if not self.sync_enabled:
            if not quiet:
                self.notify("Sync is off in this session.", markup=False)
            return
        if not self._sweeps.request(kind):
            return
        status = self.query_one(StatusLine)
        status.syncing = kind
        status.render_status()
        self.run_worker(
            partial(self._sweeps.run, kind),
            thread=True, exclusive=True, group="sync", exit_on_error=False, description="Syncing",
        )

    def on_unmount(self) -> None:
        self._sweeps.cancel()

    @on(UserIdentified)
    def _user_identified(self, message: UserIdentified) -> None:
        self.login = message.login
        status = self.query_one(StatusLine)
        status.login = message.login
        if self.query_text:
            self._apply_filter()
        else:
            status.render_status()

    @on(SyncStarted)
    def _sync_started(self, message: SyncStarted) -> None:
        status = self.query_one(StatusLine)
        status.syncing = message.kind
        status.render_status()

    @on(SyncFinished)
    def _sync_finished(self, message: SyncFinished) -> None:
        result = message.result
        queued = self._sweeps.finished()
        self._sweep_reported = True
        status = self.query_one(StatusLine)
        status.syncing = None
        if result.ok:
            status.error = None
            status.offline = False
        else:
            status.error = str(result.error or "unknown error")
            status.offline = result.offline
        status.render_status()
        if self._manual_sync and not queued:
            self._manual_sync = False
            self.notify(
                sweep_note(result), severity="information" if result.ok else "error", markup=False
            )
        if result.ok:
            status.synced_at = self._clock()
            status.render_status()
        # Re-read the list when the sweep changed rows (or on the first sweep), or when
        # another process wrote the cache (the check compares generations): a quiet
        # quick sweep every 30 s must not re-read 10,000 rows.
        self.check_cache(reload=bool(result.rows_changed) or not self._synced_once)
        self._synced_once = self._synced_once or result.ok
        if queued:
            self.start_sync(queued, quiet=True)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        """A worker that died unexpectedly still ends as one status line, never a crash."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        text = describe_error(error)[0] if error else "unknown error"
        if event.worker.group == "sync":
            self.post_message(SyncFinished(SweepResult.failed("?", text)))
        else:
            self.post_message(CacheFailed(text))

    # -- keys, help and the palette ---------------------------------------------------

    def key_sections(self) -> list[KeySection]:
        """The key table the help screen lists, by where the keys work."""
        return [
            ("Everywhere", declared_bindings(type(self)) + list(self.app.BINDINGS)),
            ("RFC list", list(RfcList.BINDINGS)),
            ("Filter box", list(FilterInput.BINDINGS)),
            ("Detail pane (enter or tab to focus)", list(DetailPane.BINDINGS)),
            ("Pull requests in the detail (tab)", list(PullList.BINDINGS)),
        ]

    def palette_entries(self) -> list[PaletteCommand]:
        """What the command palette offers here: every described key of this screen."""
        return palette_commands(declared_bindings(type(self)), self.app.get_key_display)

    def action_help(self) -> None:
        from rfctui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.key_sections(), skipped=self.skipped))

    def action_quit(self) -> None:
        self.app.exit()

    # n/e/c/m/a (action_propose/edit/claim/metadata/actions_view) come from
    # BotActionsScreen (rfctui/screens/bot_actions.py) — §6.
