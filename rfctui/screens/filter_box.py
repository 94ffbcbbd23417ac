"""The main screen's filter: the one filter index, and keystrokes coalesced (issue 13).

The list's items carry no text (`Reader.list_items(texts=False)`): the index is the UI's
one copy of it, built after the first paint in a thread worker from
`Reader.filter_texts`, a row at a time. Until it is in, words match slug and title (and
the filter runs again when it arrives).

Typing runs the filter at most once per frame, for the latest text only: each
``Input.Changed`` records the text, and one queued callback (`_flush_filter`) filters
whatever is latest when it runs, no sooner than a frame after the previous run. A
narrowing query filters the previous matches only (`rfctui.filtering.narrows`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import on, work
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import get_current_worker

from rfctui.filtering import Query, filter_with_texts, index_from, index_texts, narrows, parse_query
from rfctui.messages import FilterIndexReady
from rfctui.rows import ListItem
from rfctui.text import clean
from rfctui.widgets.detail import DetailPane
from rfctui.widgets.rfc_list import RfcList
from rfctui.widgets.status import StatusLine

if TYPE_CHECKING:
    from rfctui.session import Session

__all__ = ["FRAME", "FilterMixin", "read_index"]

FRAME = 1 / 60  # the filter runs at most once per frame while typing


def read_index(session: Session, items: list[ListItem]) -> list[str]:
    """The filter index of ``items`` (worker threads): from the cache's bodies in one
    streaming read, or from the items' own text (a stand-in cache without a reader)."""
    reader = getattr(session.cache(), "reader", None)
    if reader is None:
        return index_texts(items)
    return index_from(items, reader().filter_texts())


class FilterMixin(Screen[None]):
    """What the main screen provides: ``session``, ``items``, ``login``, ``sync_enabled``,
    ``_partial`` and ``_head_groups``."""

    session: Session
    items: list[ListItem]
    login: str | None
    sync_enabled: bool
    _partial: bool
    _head_groups: tuple[dict[str, int], dict[str, int]] | None

    def _init_filter(self) -> None:
        self.query_text = ""
        self._texts: list[str] | None = None
        # The last filter: (items it ran on, its query, its matches, their texts).
        self._last_filter: (
            tuple[list[ListItem], Query, list[ListItem], list[str] | None] | None
        ) = None
        self._filter_due = False  # a _flush_filter is queued
        self._filter_ran = 0.0  # when the last keystroke's filter ran (perf_counter)
        self._filter_cost = 0.0  # and how long it took
        self._index_for: list[ListItem] | None = None  # load_items builds this one's

    # -- the index ----------------------------------------------------------------------

    def _items_texts(self, items: list[ListItem], texts: list[str] | None) -> None:
        """New items (ItemsLoaded): their index, unless load_items is building it."""
        self._texts = texts
        self._last_filter = None
        if texts is None and items is not self._index_for:
            self.build_index(items)

    @work(thread=True, exclusive=True, group="index", exit_on_error=False,
          description="Indexing")
    def build_index(self, items: list[ListItem]) -> None:
        """The filter index of ``items`` read again (after an action's refresh)."""
        texts = read_index(self.session, items)
        if not get_current_worker().is_cancelled:
            self.post_message(FilterIndexReady(items, texts))

    def _filter_index_ready(self, message: FilterIndexReady) -> None:
        if message.items is not self.items:
            return
        self._texts = message.texts
        self._last_filter = None  # what ran before searched titles only
        if self.query_text:
            self._apply_filter()

    # -- typing -------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        if not self._filter_due:
            self._filter_due = True
            self.call_later(self._flush_filter)

    def _flush_filter(self) -> None:
        """Filter for the latest text; when filtering is costly (over half a frame), a
        frame after the last run at the earliest."""
        wait = self._filter_ran + FRAME - time.perf_counter()
        if wait > 0.001 and self._filter_cost > FRAME / 2:
            self.set_timer(wait, self._flush_filter)
            return
        self._filter_due = False
        self._filter_ran = time.perf_counter()
        self._apply_filter(first_match=True)  # typed: the cursor on the first match
        self._filter_cost = time.perf_counter() - self._filter_ran

    def _apply_filter(self, *, announce: bool = False, first_match: bool = False) -> None:
        query: Query = parse_query(self.query_text, login=self.login)
        last = self._last_filter
        if (
            last is not None
            and last[0] is self.items
            and last[3] is not None
            and narrows(query, last[1])
        ):
            # Typing on: only the last matches can match (a keystroke at 10,000 items).
            shown, texts = filter_with_texts(last[2], query, last[3])
        else:
            index = self._texts
            if index is None and not query.empty:  # before the index: slug, title, people
                index = index_texts(self.items)
            shown, texts = filter_with_texts(self.items, query, index)
        self._last_filter = (self.items, query, shown, texts)
        rfc_list = self.query_one(RfcList)
        if not self.items:
            empty = (
                "Nothing cached yet: the first sync fills this list (r syncs now)."
                if self.sync_enabled
                else "The cache is empty."
            )
        elif query.problems:
            empty = f"Nothing matches: {'; '.join(query.problems)} — escape clears it."
        else:
            empty = "Nothing matches the filter — escape clears it."
        head = self._head_groups if query.empty else None
        rfc_list.set_filtering(not query.empty)
        rfc_list.set_items(
            shown,
            empty_message=empty,
            announce=announce,
            universe=self.items if announce and head is None else None,
            totals=head[0] if head else None,
            widths=head[1] if head else None,
            first_match=first_match and not query.empty,
        )
        status = self.query_one(StatusLine)
        status.shown = None if query.empty else len(shown)
        problems = list(query.problems)
        if self._partial and not query.empty:
            problems.append("still reading the whole list")
        status.hint = "; ".join(problems) or None
        status.render_status()
        if not shown:
            note = "; ".join([f"filter: {clean(self.query_text)}", *query.problems])
            self.query_one(DetailPane).show_message(
                "No entries." if not self.items else "Nothing matches the filter.",
                "" if not self.items else note,
            )
