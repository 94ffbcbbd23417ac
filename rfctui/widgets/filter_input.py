"""The filter box (SPEC §7.2): narrows the list as you type; see rfctui.filtering."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.widget import Widget
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

    def _watch_value(self, value: str) -> None:
        """Input's own watcher sets ``virtual_size``, a layout reactive: a layout pass of
        the whole screen on every keystroke (issue 13). The box is one line of a fixed
        width (app.tcss), so its size never changes the layout: set the same size
        quietly first, so Input's assignment finds nothing to change."""
        size = Size(self.content_width, 1)
        if self.virtual_size != size:
            self.set_reactive(Widget.virtual_size, size)
        super()._watch_value(value)

    def action_leave(self) -> None:
        """Keep the query, move focus to the list (the screen's ``escape`` clears)."""
        self.screen.set_focus(self.screen.query_one("#rfc-list"))
