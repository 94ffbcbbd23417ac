"""``t``: the life of the highlighted entry (issue 12 §2, SPEC §10), newest first.

Each line: date, kind, the real person (`rfctui.timeline` decides who, never the bot
acting for someone), PR number or commit, summary. ``enter``/``o`` on a line with a PR
opens that PR in the browser (http(s) only, `rfctui.screens.links.is_web_url`);
``escape`` goes back.

Threading (DESIGN "The terminal UI"): the cache is read in a thread worker, never on
the UI thread. An entry whose commit list was never fetched shows what the cache has
(its PRs) and "fetching history…"; a second thread worker fetches it once
(`Session.backfill_history` for that slug, every state, as ``rfctui log`` does) and
reads again, on a `rfctui.screens.sync.SweepLoop` so that leaving the view (or quitting)
cancels a fetch stuck on a slow server instead of waiting for its timeouts (the walk's
writes are resumable, as for the main screen's history walk). Workers return their
result; the `Worker.StateChanged` handler below is the only code that changes
widgets. Offline, one line says so and the cached part stays. Every string from Gitea
goes through `rfctui.text.clean`, ``markup=False`` (§7.4).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from rfctui.screens.links import is_web_url
from rfctui.screens.sync import SweepLoop
from rfctui.text import clean, one_line

if TYPE_CHECKING:
    from rfctui.rows import PRRow
    from rfctui.screens.review import ReviewMixin
    from rfctui.session import Session
    from rfctui.timeline import Event, Timeline

__all__ = ["TimelineScreen", "event_prompt", "head_line", "open_from"]

FETCHING = "fetching history…"
KIND_LABELS = {
    "created": "created", "state_change": "state", "body_edit": "body edit",
    "metadata_edit": "metadata", "edited": "edited", "pr_opened": "PR opened",
    "pr_merged": "PR merged", "pr_closed": "PR closed",
}
_KIND_WIDTH = max(len(v) for v in KIND_LABELS.values())


@dataclass(frozen=True, slots=True)
class _Read:
    """What a worker hands back: the timeline, the entry's PR pages, and (after a
    fetch) the fetch's one-line error, if any."""

    timeline: Timeline
    urls: dict[int, str]
    exists: bool
    fetched: bool = False
    error: str | None = None


def open_from(screen: ReviewMixin) -> None:
    """``t`` on the main screen: the highlighted entry's timeline (a pending idea has
    none yet: one line says so)."""
    from rfctui.widgets.rfc_list import RfcList

    item = screen.query_one(RfcList).highlighted_item
    if item is None:
        screen.notify("Select an entry first.", markup=False)
        return
    if item.kind != "rfc":
        screen.notify(
            "A pending idea has no timeline yet: it is not on main (o opens its PR).",
            markup=False,
        )
        return
    screen.app.push_screen(TimelineScreen(screen.session, item.slug, item.title))


def _date(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "-" * 16


def head_line(actor_width: int = 12) -> Content:
    """The column names, aligned with `event_prompt`."""
    return Content(
        f"{'date':<16}  {'what':<{_KIND_WIDTH}}  {'person':<{actor_width}}  "
        f"{'PR / commit':<14}  summary"
    )


def event_prompt(event: Event, actor_width: int = 12) -> Content:
    """One line for `event` (cleaned: commit messages and logins are other people's)."""
    ref = f"#{event.pr_number}" if event.pr_number is not None else ""
    if event.commit:
        ref = f"{ref} {clean(event.commit)[:7]}".strip()
    actor = one_line(event.actor, 40)
    return Content.assemble(
        (_date(event.at), "$text-muted"),
        "  ",
        (f"{KIND_LABELS.get(event.kind, one_line(event.kind, 20)):<{_KIND_WIDTH}}", "bold"),
        "  ",
        (f"{actor:<{actor_width}}", "$accent"),
        "  ",
        (f"{ref:<14}", "$text-muted"),
        "  ",
        one_line(event.summary, 200),
    )


class TimelineScreen(Screen[None]):
    """The events of one entry, newest first (module docstring)."""

    CSS_PATH = Path(__file__).with_name("timeline_view.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,t", "close", "Back", id="timeline-close"),
        Binding("o", "open_pr", "Open PR", id="timeline-open",
                tooltip="Open the pull request of the highlighted event in the browser"),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
    ]

    def __init__(self, session: Session, slug: str, title: str = "") -> None:
        super().__init__()
        self.session = session
        self.slug = slug
        self.entry_title = title
        self.timeline: Timeline | None = None
        self.urls: dict[int, str] = {}
        self.note = ""
        self._loop = SweepLoop()  # the fetch's event loop: unmounting cancels it

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble(
                ("Timeline ", "bold"), (clean(self.slug), "bold $accent"),
                "  ",
                one_line(self.entry_title, 120),
            ),
            id="timeline-title",
            markup=False,
        )
        yield Static(head_line(), id="timeline-head", markup=False)
        yield OptionList(id="timeline-events", markup=False)
        yield Static("", id="timeline-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._set_note("reading the cache…")
        self.run_worker(self._read, thread=True, group="timeline", name="timeline-read",
                        exit_on_error=False, description="Reading the timeline")

    def on_unmount(self) -> None:
        self._loop.cancel()

    # -- workers (no widgets here) --------------------------------------------------

    def _urls(self, pulls: list[PRRow]) -> dict[int, str]:
        return {p.number: p.html_url for p in pulls}

    def _read(self) -> _Read:
        cache = self.session.cache()
        exists = cache.rfc(self.slug) is not None
        return _Read(self.session.timeline(self.slug), self._urls(cache.pulls_for(self.slug)),
                     exists)

    def _fetch(self) -> _Read:
        try:
            result = self._loop.run(
                self.session.backfill_history(slugs=[self.slug], all_states=True)
            )
            error = result.error
        except asyncio.CancelledError:  # the view closed
            error = "cancelled"
        read = self._read()
        if error is None and not read.timeline.history_known:
            error = "Gitea listed no commit for it"
        return _Read(read.timeline, read.urls, read.exists, fetched=True, error=error)

    # -- UI thread ----------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "timeline":
            return
        event.stop()
        if event.state == WorkerState.ERROR:
            self._set_note(f"Cannot read the timeline: {one_line(str(worker.error), 160)}")
            return
        if event.state != WorkerState.SUCCESS or not isinstance(worker.result, _Read):
            return
        read = worker.result
        self.show(read)
        if read.fetched:
            if read.error:
                self._set_note(
                    f"History not fetched (offline?): {one_line(read.error, 140)} — "
                    "showing what the cache has; t again retries."
                )
            else:
                self._set_note("")
        elif not read.timeline.history_known and read.exists:
            self._set_note(FETCHING)
            self.run_worker(self._fetch, thread=True, group="timeline",
                            name="timeline-fetch", exit_on_error=False,
                            description="Fetching the entry's history")
        else:
            self._set_note("" if read.timeline.events else "Nothing recorded for it yet.")

    def show(self, read: _Read) -> None:
        """Draw the events (keeps the cursor on the same line when it can)."""
        self.timeline = read.timeline
        self.urls = read.urls
        options = self.query_one("#timeline-events", OptionList)
        keep = options.highlighted
        events = read.timeline.events
        width = min(20, max((len(one_line(e.actor, 40)) for e in events), default=0))
        width = max(width, len("person"))
        self.query_one("#timeline-head", Static).update(head_line(width))
        options.clear_options()
        options.add_options(
            [Option(event_prompt(e, width), id=str(i)) for i, e in enumerate(events)]
        )
        if events:
            options.highlighted = min(keep or 0, len(events) - 1)

    def _set_note(self, text: str) -> None:
        self.note = text
        note = self.query_one("#timeline-note", Static)
        note.update(Content(text))
        note.display = bool(text)

    # -- actions -------------------------------------------------------------------

    @property
    def highlighted_event(self) -> Event | None:
        if self.timeline is None:
            return None
        index = self.query_one("#timeline-events", OptionList).highlighted
        if index is None or not 0 <= index < len(self.timeline.events):
            return None
        return self.timeline.events[index]

    def action_close(self) -> None:
        self.dismiss(None)

    def action_cursor(self, direction: str) -> None:
        options = self.query_one("#timeline-events", OptionList)
        if direction == "down":
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_open_pr(self) -> None:
        event = self.highlighted_event
        if event is None or event.pr_number is None:
            self.notify("No pull request on this line.", markup=False)
            return
        url = self.urls.get(event.pr_number)
        if not is_web_url(url):
            self.notify(f"No web page known for #{event.pr_number}.", markup=False)
            return
        assert url is not None
        opener = getattr(self.app, "open_in_browser", None)
        if opener is None:  # a plain App (tests of this screen alone)
            self.app.open_url(url)
        else:
            opener(url)

    @on(OptionList.OptionSelected, "#timeline-events")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_pr()
