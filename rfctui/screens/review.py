"""The review keys of the main screen (issue 12, SPEC §10): ``d`` what a PR changes,
``t`` the life of an entry, ``C`` comment on a PR.

A mixin of `rfctui.screens.main.MainScreen` (which stays under 800 lines). Each action
opens its own screen, imported when first used so the first paint never pays for it:
`rfctui.screens.change_view`, `rfctui.screens.timeline_view`,
`rfctui.screens.comment_form`. Those modules read the cache in thread workers only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from rfctui.session import Session

__all__ = ["ReviewMixin"]


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
