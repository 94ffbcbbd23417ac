"""The filter box (SPEC §7.2): narrows the list as you type; see rfctui.filtering."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

__all__ = ["FILTER_PLACEHOLDER", "FilterInput"]

FILTER_PLACEHOLDER = "/ filter: words  state:  tag:  owner:  arbiter:  mine"


class FilterInput(Input):
    """An Input whose ``escape`` hands focus back to the list (a second one clears)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back to list", id="filter-leave"),
        Binding("down,enter", "leave", "Back to list", show=False, id="filter-down"),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(placeholder=FILTER_PLACEHOLDER, **kwargs)  # type: ignore[arg-type]

    def action_leave(self) -> None:
        """Keep the query, move focus to the list (the screen's ``escape`` clears)."""
        self.screen.set_focus(self.screen.query_one("#rfc-list"))
