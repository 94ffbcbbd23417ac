"""The key bar: Textual's ``Footer``, filled in once the first screen of data is up.

Textual's ``Footer`` is empty in the first frame anyway and composes its keys (one
widget each) after it; on the main screen that work competed with the first paint of
the cached list (issue 4: first paint within 1.5× a bare Textual app). The bar keeps
its place from the first frame; only its keys wait until ``release()``.

Issue 14 §4: the bar is compact and asks its screen (widgets never import screens):
``footer_shows(action)`` leaves out the keys that cannot act on what is highlighted,
``FOOTER_LABELS`` gives short labels, and when the terminal is too narrow for every
key the ones earliest in ``FOOTER_ORDER`` stay (`rfctui.screens.keys` has both tables)
— it never runs off the edge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["LateFooter", "fit_keys"]


def _key_width(key: FooterKey) -> int:
    """Cells a compact key takes: "k Label" and a margin (the palette's: its border)."""
    return cell_len(key.key_display) + 1 + cell_len(key.description) + 1


def fit_keys(keys: list[FooterKey], width: int, order: Sequence[str] = ()) -> list[FooterKey]:
    """The keys that fit in ``width`` cells, in their order; those in ``order`` first
    (earliest first), then the others, the command palette's key last."""
    rank = {action: i for i, action in enumerate(order)}
    last = len(order)

    def wanted(pair: tuple[int, FooterKey]) -> tuple[int, int, int]:
        index, key = pair
        palette = key.has_class("-command-palette")
        return (int(palette), rank.get(key.action, last), index)

    kept: set[int] = set()
    used = 0
    for index, key in sorted(enumerate(keys), key=wanted):
        cells = _key_width(key)
        if used + cells <= width:
            kept.add(index)
            used += cells
    return [key for index, key in enumerate(keys) if index in kept]


class LateFooter(Footer):
    """A ``Footer`` that ignores binding changes until ``release()`` (then catches up)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.held = True
        self._width = 0

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self.held:
            return
        super().bindings_changed(screen)

    def release(self) -> None:
        """Show the keys from now on (idempotent)."""
        if self.held and self.is_attached:
            self.held = False
            # From the footer's own queue, as the screen's signal would call it.
            self.call_later(self.bindings_changed, self.screen)

    def compose(self) -> ComposeResult:
        screen = self.screen
        shows: Callable[[str], bool] | None = getattr(screen, "footer_shows", None)
        labels: Mapping[str, str] = getattr(screen, "FOOTER_LABELS", {})
        order: Sequence[str] = getattr(screen, "FOOTER_ORDER", ())
        keys: list[FooterKey] = []
        others: list[Widget] = []
        for widget in super().compose():
            if not isinstance(widget, FooterKey):
                others.append(widget)  # binding groups: rfctui declares none
                continue
            if shows is not None and not shows(widget.action):
                continue
            widget.description = labels.get(widget.action, widget.description)
            keys.append(widget)
        width = self.size.width or self.app.size.width
        self._width = width
        shown: Iterable[Widget] = fit_keys(keys, width - 1, order) if width else keys
        yield from others
        yield from shown

    def on_resize(self, event: events.Resize) -> None:
        """A wider or narrower terminal fits other keys."""
        if not self.held and self._bindings_ready and event.size.width != self._width:
            self._width = event.size.width
            self.call_after_refresh(self.recompose)
