"""What the main screen tells the person as things move (issue 14 §4 "Small frictions").

A mixin of `rfctui.screens.main.MainScreen` (which stays under 800 lines), a `Screen`
so its ``@on`` handlers register:

- the footer's action keys (``n e c m a d t``, ``z`` on a "Needs you" row) show only
  while they can act on the highlighted row (`footer_shows`, read by
  `rfctui.widgets.footer.LateFooter`); the keys themselves always work and say why
  not, so nothing is hidden *and* silent;
- a sweep's progress (`SyncProgress`, posted by `rfctui.screens.sync.Sweeps` at most
  ten times a second) shows in the status line as ``⟳ syncing 120/355``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.css.query import NoMatches
from textual.screen import Screen

from rfctui.messages import DetailLoaded, SyncFinished, SyncProgress, SyncStarted, UserIdentified
from rfctui.screens.keys import CONTEXT_KEYS, FOOTER_LABELS, FOOTER_ORDER
from rfctui.widgets.detail import PullList
from rfctui.widgets.filter_input import FilterInput
from rfctui.widgets.rfc_list import RfcList
from rfctui.widgets.status import StatusLine

if TYPE_CHECKING:
    from rfctui.session import Session

__all__ = ["FeedbackMixin"]


class FeedbackMixin(Screen[None]):
    """The footer's context keys and the sweep's progress (module docstring)."""

    session: Session
    login: str | None

    _context_shown: frozenset[str] | None = None
    # Read by the footer (rfctui.widgets.footer.LateFooter): its words and priorities.
    FOOTER_LABELS: ClassVar[dict[str, str]] = FOOTER_LABELS
    FOOTER_ORDER: ClassVar[tuple[str, ...]] = FOOTER_ORDER

    # -- the footer's action keys ------------------------------------------------------

    if TYPE_CHECKING:  # BotActionsScreen's, later in the main screen's MRO

        def _actions_disabled_reason(self) -> str | None: ...

    def context_keys(self) -> frozenset[str]:
        """The `CONTEXT_KEYS` actions that can act on what is highlighted now."""
        if isinstance(self.focused, FilterInput):
            return frozenset()  # letters type into the box there
        can_act = self._actions_disabled_reason() is None
        shown: set[str] = {"propose", "actions_view"} if can_act else set()
        focused = self.focused
        if isinstance(focused, PullList) and focused.highlighted_pull is not None:
            shown.add("change_view")
        try:
            row = self.query_one(RfcList).highlighted_row
        except NoMatches:  # not composed yet
            row = None
        if row is not None and row.queue is not None:
            shown.add("snooze")
            if row.queue.pr_number is not None:
                shown.add("change_view")
        item = row.item if row is not None else None
        if item is not None and item.kind == "pending" and item.pr_number is not None:
            shown.add("change_view")
        if item is not None and item.kind == "rfc":
            shown.add("timeline")
            if any(item.open_prs.values()):
                shown.add("change_view")
            if can_act and not item.removed:
                shown.update({"edit", "metadata"})
                if not (self.login and self.login in item.owners):
                    shown.add("claim")  # an owner has nothing to claim
        return frozenset(shown)

    def footer_shows(self, action: str) -> bool:
        """Whether the footer lists ``action`` now (`rfctui.widgets.footer`)."""
        if action not in CONTEXT_KEYS:
            return True
        shown = self._context_shown
        if shown is None:
            shown = self._context_shown = self.context_keys()
        return action in shown

    def refresh_context_keys(self) -> None:
        """Recompose the footer only when the set of context keys changed (holding j
        over a group of like rows costs nothing)."""
        shown = self.context_keys()
        if shown != self._context_shown:
            self._context_shown = shown
            self.refresh_bindings()

    @on(RfcList.Highlighted)
    @on(DetailLoaded)
    @on(UserIdentified)
    def _context_moved(self) -> None:
        self.refresh_context_keys()

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _context_focus(self) -> None:
        self.call_after_refresh(self.refresh_context_keys)

    # -- a sweep's progress ------------------------------------------------------------

    @on(SyncProgress)
    def _sync_progress(self, message: SyncProgress) -> None:
        status = self.query_one(StatusLine)
        # "checking entries 0/1" says nothing a count would: the kind shows instead.
        status.sweep_progress = (message.done, message.total) if message.total > 1 else None
        status.render_status()

    @on(SyncStarted)
    @on(SyncFinished)
    def _sync_bounds(self) -> None:
        status = self.query_one(StatusLine)
        status.sweep_progress = None
        status.render_status()
