"""What needs you, on the main screen (issue 11): the queue, since-last-seen, order, views.

A mixin of `rfctui.screens.main.MainScreen` (which stays under 800 lines). Same threading
model: every cache read and every marks file write runs in a thread worker that only
posts a message (`rfctui.messages`); the ``@on`` handlers here update the widgets.

- "Needs you (N)": `Session.queue` for the verified (or last verified) login, after the
  cache is read and after each sweep. No user token: the section says how to sign in
  (a person who never set one would not know the feature exists). A token whose owner
  is not verified yet: hidden until the first sweep says who it is.
- ``z`` on a queue row snoozes it until new activity; ``enter`` selects its entry.
- Since you last looked: entries with activity newer than when you last opened them (or,
  never opened, than the day marks began) carry a marker; opening a detail (``enter``, or
  staying on it a moment) records it; the detail says what is new.
- Sort (``s``) and group-by (``b``) are remembered in the UI state (restored before the
  first paint with the folds and the filter: `rfctui.screens.remember`).
- Team views: ``1``…``9`` put that view's query in the filter box.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.screen import Screen
from textual.worker import get_current_worker

from rfctui.attention import QueueItem
from rfctui.messages import (
    DetailLoaded,
    HistoryProgress,
    ItemsLoaded,
    QueueLoaded,
    SyncFinished,
    UserIdentified,
)
from rfctui.rows import ListItem, PRRow, RFCDetail
from rfctui.text import clean, one_line
from rfctui.widgets.detail import DetailPane, PullList
from rfctui.widgets.filter_input import FilterInput
from rfctui.widgets.list_order import GROUP_BY, SORT_KEYS, SORT_LABELS, group_title
from rfctui.widgets.rfc_list import RfcList
from rfctui.widgets.status import StatusLine

if TYPE_CHECKING:
    from rfctui.session import Session

__all__ = ["SIGN_IN_NOTE", "QueueMixin", "order_label", "what_is_new"]

SIGN_IN_NOTE = "sign-in needed: set RFCTUI_USER_TOKEN"
# Staying this long on an entry's detail counts as having looked at it.
SEEN_AFTER_SECONDS = 1.5
_BASELINE = "seen_baseline"  # ui state: when marks began (never-opened entries)


def order_label(sort: str, group_by: str) -> str | None:
    """The status line's words for a non-default order ("by tag · sort: name")."""
    parts = []
    if group_by != "state":
        parts.append(f"by {group_by}")
    if sort != "default":
        parts.append(f"sort: {SORT_LABELS.get(sort, sort)}")
    return " · ".join(parts) or None


def what_is_new(
    seen: datetime | None,
    detail: RFCDetail | None,
    pulls: Sequence[PRRow],
    activity: datetime | None,
) -> str | None:
    """What changed on an entry since ``seen``, in words ("PR #12 updated, state
    changed"); None when nothing (or ``seen`` is None: nothing to compare with)."""
    if seen is None:
        return None
    parts: list[str] = []
    for pr in sorted(pulls, key=lambda p: p.number):
        if pr.merged_at is not None and pr.merged_at > seen:
            parts.append(f"PR #{pr.number} merged")
        elif pr.closed_at is not None and pr.closed_at > seen:
            parts.append(f"PR #{pr.number} closed")
        elif pr.opened_at is not None and pr.opened_at > seen:
            parts.append(f"PR #{pr.number} opened")
        elif pr.updated_at is not None and pr.updated_at > seen:
            parts.append(f"PR #{pr.number} updated")
    state_changed = bool(detail and detail.state_since and detail.state_since > seen)
    if state_changed and detail is not None:
        parts.append(f"state changed (now {clean(detail.state)})")
    elif activity is not None and activity > seen and detail is not None:
        parts.append("entry edited")
    return ", ".join(parts) or None


class QueueMixin(Screen[None]):
    """The issue 11 half of the main screen (module docstring)."""

    session: Session
    login: str | None

    _views: tuple[Any, ...] = ()
    _seen: dict[str, datetime] | None = None
    _baseline: datetime | None = None
    _entry_activity: dict[str, datetime] | None = None
    _seen_timer: Any = None
    _told_notes: set[str] = set()  # replaced per screen in on_mount

    # -- when the queue is computed ------------------------------------------------------

    def on_mount(self) -> None:
        self._told_notes = set()
        self.call_after_refresh(self.refresh_queue)

    @on(ItemsLoaded)
    def _queue_after_items(self, message: ItemsLoaded) -> None:
        self.refresh_queue()

    @on(SyncFinished)
    def _queue_after_sweep(self, message: SyncFinished) -> None:
        self.refresh_queue()

    @on(HistoryProgress)
    def _history_progress(self, message: HistoryProgress) -> None:
        """Time in state read from history (after a sweep): progress in the status line;
        at the end the list picks the new times up by the cache's generation, and the
        queue is computed again (an entry may have turned stale)."""
        status = self.query_one(StatusLine)
        status.history = None if message.finished else (message.done, message.total)
        status.render_status()
        if not message.finished:
            return
        if message.error:
            why = one_line(message.error, 160)
            self.notify(f"Time in state not read for some entries ({why}); tried again "
                        "after the next sync.", severity="warning", markup=False)
        if message.done:
            self.refresh_queue()

    @on(UserIdentified)
    def _queue_after_identity(self, message: UserIdentified) -> None:
        self.refresh_queue()

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False, description="Queue")
    def refresh_queue(self) -> None:
        """The queue, the views and the since-last-seen marks, from the cache (a thread).

        A cache that cannot be read is the list's to report (it says so already): the
        section just stays as it was.
        """
        try:
            self._compute_queue()
        except Exception:  # noqa: BLE001 - the list reports the cache; never a crash
            return

    def _compute_queue(self) -> None:
        session = self.session
        now = session.clock()
        marks = session.marks
        ui = marks.ui_state()
        baseline = _parse(ui.get(_BASELINE))
        if baseline is None:
            baseline = now
            marks.save_ui_state({_BASELINE: now.isoformat()})
        seen = marks.seen()
        from rfctui.triage import read_facts

        facts = read_facts(session.cache())
        activity: dict[str, datetime] = {}
        entry_activity: dict[str, datetime] = {}
        for e in facts.entries:
            at = e.last_activity or e.state_since
            if at is not None:
                activity[e.slug] = entry_activity[e.slug] = at
        for p in facts.pulls:
            at = p.activity
            if at is not None and (p.slug not in activity or at > activity[p.slug]):
                activity[p.slug] = at
        new = {s for s, at in activity.items() if at > seen.get(s, baseline)}
        login = self.login
        if not login:
            actor = session.known_actor()
            login = actor.login if actor is not None and actor.login else None
        items: list[QueueItem] | None = None
        note: str | None = None
        views: tuple[Any, ...] = ()
        notes: list[str] = []
        snoozed = 0
        if login:
            result = session.queue(login)
            items, views = list(result.items), tuple(result.views)
            notes, snoozed = list(result.notes), result.snoozed_hidden
            if not items and not result.has_roles:
                note = f"nothing here: {one_line(login, 40)} owns or arbitrates nothing"
        elif not session.config.user_token:
            note = SIGN_IN_NOTE
        if get_current_worker().is_cancelled:
            return  # a newer computation (a sweep since) replaces this one
        self.post_message(
            QueueLoaded(
                items, note, views, new, activity, seen, baseline, entry_activity,
                notes, snoozed,
            )
        )

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        rfc_list = self.query_one(RfcList)
        self._views = message.views
        self._seen, self._baseline = message.seen, message.baseline
        self._entry_activity = message.entry_activity
        rfc_list.set_queue(message.items, message.note)
        rfc_list.set_marks(message.new_slugs, message.activity)
        self._show_news()  # the detail shown may have been read before these marks
        status = self.query_one(StatusLine)
        status.queue_count = len(message.items) if message.items is not None else None
        status.queue_snoozed = message.snoozed
        status.queue_notes = [one_line(n, 300) for n in message.notes]
        status.render_status()
        fresh = [n for n in status.queue_notes if n not in self._told_notes]
        if fresh:
            # Each once (a malformed team file, arbiters not fetched yet); the status
            # line keeps the first.
            self._told_notes.update(fresh)
            self.notify("\n".join(fresh[:3]), title="Needs you", severity="warning",
                        markup=False, timeout=8)

    # -- queue rows: z and enter ------------------------------------------------------------

    def action_snooze(self) -> None:
        """``z``: hide the highlighted "Needs you" row until there is new activity."""
        rfc_list = self.query_one(RfcList)
        row = rfc_list.highlighted_row
        if row is None or row.queue is None:
            self.notify("z snoozes a row of the Needs you section.", markup=False)
            return
        item = row.queue
        rfc_list.set_queue([q for q in rfc_list.queue_items if q.key != item.key])
        status = self.query_one(StatusLine)
        status.queue_count = len(rfc_list.queue_items)
        status.queue_snoozed += 1
        status.render_status()
        self.notify("Snoozed until new activity", markup=False)
        self._save_snooze(item)

    @work(thread=True, group="marks", exit_on_error=False, description="Snoozing")
    def _save_snooze(self, item: QueueItem) -> None:
        try:
            self.session.marks.snooze(item, now=self.session.clock())
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, f"Snooze not saved: {one_line(str(exc), 120)}",
                severity="warning", markup=False,
            )

    @on(RfcList.QueueSelected)
    def _queue_selected(self, event: RfcList.QueueSelected) -> None:
        """``enter`` on a queue row: select its pending idea or entry in the list."""
        rfc_list = self.query_one(RfcList)
        q = event.queue
        if self.query_one(FilterInput).value:
            self.query_one(FilterInput).value = ""
        pending = next(
            (
                i for i in getattr(self, "items", [])
                if i.kind == "pending" and i.pr_number is not None and i.pr_number == q.pr_number
            ),
            None,
        )
        found = rfc_list.select_slug(pending.slug, "pending") if pending else False
        if not found and not rfc_list.select_slug(q.slug, "rfc"):
            self.notify(f"{clean(q.slug)} is not in the list.", markup=False)

    @on(RfcList.Highlighted)
    def _queue_highlighted(self, event: RfcList.Highlighted) -> None:
        """A queue row or the queue's header: say what it is and what the keys do."""
        pane = self.query_one(DetailPane)
        if event.queue is not None:
            pane.show_queue_item(event.queue)
            return
        row = event.rfc_list.highlighted_row
        if row is not None and row.group == "queue" and row.item is None:
            if row.is_header:
                count = f" ({row.count})" if row.count >= 0 else ""
                pane.show_message(
                    f"Needs you{count}", "enter or space folds and unfolds this group."
                )
            else:
                pane.show_message("Needs you", row.note or "")
        elif row is not None and row.is_header and row.group not in ("pending",):
            pane.show_message(
                f"{group_title(row.group)} ({row.count})",
                "Folded: enter or space unfolds it." if row.collapsed
                else "enter or space folds and unfolds this group.",
            )

    # -- since you last looked -----------------------------------------------------------

    def _show_news(self) -> None:
        """What is new on the entry the detail shows, from the marks known now."""
        pane = self.query_one(DetailPane)
        item = pane.item
        if item is None or self._seen is None or self._baseline is None:
            return
        seen = self._seen.get(item.slug, self._baseline)
        activity = (self._entry_activity or {}).get(item.slug)
        pulls = pane.query_one(PullList).pulls
        pane.show_news(item, what_is_new(seen, pane.detail, pulls, activity))

    @on(DetailLoaded)
    def _detail_news(self, message: DetailLoaded) -> None:
        item = message.item
        self._show_news()
        if self._seen_timer is not None:
            self._seen_timer.stop()
        self._seen_timer = self.set_timer(SEEN_AFTER_SECONDS, lambda: self._looked_at(item))

    @on(RfcList.Selected)
    def _opened(self, event: RfcList.Selected) -> None:
        self._looked_at(event.item)

    def _looked_at(self, item: ListItem) -> None:
        """The person read ``item``'s detail: its marker goes, last-seen is recorded."""
        current = self.query_one(RfcList).highlighted_item
        if current is None or (current.kind, current.slug) != (item.kind, item.slug):
            return
        rfc_list = self.query_one(RfcList)
        if item.slug in rfc_list.new_slugs:
            rfc_list.set_marks(rfc_list.new_slugs - {item.slug}, rfc_list.activity)
        if self._seen is not None:
            self._seen[item.slug] = self.session.clock()
        self._save_seen(item.slug)

    @work(thread=True, group="marks", exit_on_error=False, description="Last seen")
    def _save_seen(self, slug: str) -> None:
        with contextlib.suppress(OSError):  # a marker comes back next time, no more
            self.session.marks.mark_seen(slug, self.session.clock())

    # -- sort, group-by and views ------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        """``s``: the next sort key within groups (the status line shows it)."""
        rfc_list = self.query_one(RfcList)
        keys = list(SORT_KEYS)
        nxt = keys[(keys.index(rfc_list.sort) + 1) % len(keys)]
        self._apply_order(nxt, rfc_list.group_by)

    def action_cycle_group(self) -> None:
        """``b``: group by state, tag, owner, arbiter."""
        rfc_list = self.query_one(RfcList)
        keys = list(GROUP_BY)
        nxt = keys[(keys.index(rfc_list.group_by) + 1) % len(keys)]
        self._apply_order(rfc_list.sort, nxt)

    def _apply_order(self, sort: str, group_by: str, *, save: bool = True) -> None:
        rfc_list = self.query_one(RfcList)
        rfc_list.set_order(sort, group_by)
        status = self.query_one(StatusLine)
        status.order = order_label(rfc_list.sort, rfc_list.group_by)
        status.render_status()
        if save:
            self._save_order(rfc_list.sort, rfc_list.group_by)

    @work(thread=True, group="marks", exit_on_error=False, description="Saving order")
    def _save_order(self, sort: str, group_by: str) -> None:
        with contextlib.suppress(OSError):  # remembered next time it can be written
            self.session.marks.save_ui_state({"sort": sort, "group_by": group_by})

    def action_view(self, number: int) -> None:
        """``1``…``9``: the team's (or your) saved view: its query into the filter box."""
        views = self._views
        if not 1 <= number <= len(views):
            have = f"{len(views)} views" if views else "no views"
            self.notify(
                f"No view {number}: there are {have} (.rfctui.toml [[views]]).", markup=False
            )
            return
        view = views[number - 1]
        box = self.query_one(FilterInput)
        box.value = view.query
        self.set_focus(self.query_one(RfcList))
        self.notify(f"View {number}: {one_line(view.name, 60)}", markup=False, timeout=3)


def _parse(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value
