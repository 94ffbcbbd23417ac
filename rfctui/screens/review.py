"""The review keys of the main screen (issue 12, SPEC §10): ``d`` what a PR changes,
``t`` the life of an entry, ``C`` comment on a PR.

A mixin of `rfctui.screens.main.MainScreen` (which stays under 800 lines). Each action
opens its own screen, imported when first used so the first paint never pays for it:
`rfctui.screens.change_view`, `rfctui.screens.timeline_view`,
`rfctui.screens.comment_form`. Those modules read the cache in thread workers only.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.screen import Screen

from rfctui.text import clean

if TYPE_CHECKING:
    from rfctui.rows import ListItem, PRRow
    from rfctui.session import Session

__all__ = ["ReviewMixin", "RowTarget", "row_target"]


@dataclass(frozen=True)
class RowTarget:
    """The pull request(s) the highlighted list row points at, for ``d`` and ``C``:
    a queue row's or a pending idea's PR (`pr_number`), or an entry's open PRs
    (`pulls`, by number, never empty)."""

    pr_number: int | None = None
    item: ListItem | None = None  # the pending idea or the entry (None: a queue row)
    pulls: list[PRRow] = field(default_factory=list)


def row_target(screen: Screen[None]) -> RowTarget | None:
    """What the highlighted row of the list points at, or None after telling the person
    why there is nothing (one line). The detail's PR list, when focused, is the
    caller's to ask first."""
    from rfctui.widgets.detail import DetailPane
    from rfctui.widgets.rfc_list import RfcList

    row = screen.query_one(RfcList).highlighted_row
    if row is not None and row.queue is not None:
        if row.queue.pr_number is None:
            screen.notify("This row is not about a pull request: enter shows the entry.",
                          markup=False)
            return None
        return RowTarget(row.queue.pr_number)
    item = row.item if row is not None else None
    if item is None:
        screen.notify("Select an entry or a pending idea first.", markup=False)
        return None
    if item.kind == "pending":
        if item.pr_number is None:
            screen.notify("This idea has no pull request.", markup=False)
            return None
        return RowTarget(item.pr_number, item)
    detail = screen.query_one(DetailPane).detail
    if detail is None or detail.slug != item.slug:
        screen.notify("The entry is still loading; try again in a moment.", markup=False)
        return None
    pulls = sorted((p for p in detail.pulls if p.state == "open"), key=lambda p: p.number)
    if not pulls:
        screen.notify(f"No open pull request on {clean(item.slug)}.", markup=False)
        return None
    return RowTarget(None, item, pulls)


class ReviewMixin(Screen[None]):
    """``d``, ``t`` and ``C`` (module docstring)."""

    session: Session

    def _open(self, module: str) -> None:
        importlib.import_module(f"rfctui.screens.{module}").open_from(self)

    def action_change_view(self) -> None:
        """What the highlighted PR (or the open PRs of the highlighted entry) change."""
        self._open("change_view")

    def action_timeline(self) -> None:
        """The life of the highlighted entry, newest first."""
        self._open("timeline_view")

    def action_comment(self) -> None:
        """Comment on the highlighted PR through the bot (§6, §10)."""
        self._open("comment_form")
