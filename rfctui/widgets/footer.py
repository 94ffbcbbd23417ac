"""The key bar: Textual's ``Footer``, filled in once the first screen of data is up.

Textual's ``Footer`` is empty in the first frame anyway and composes its keys (one
widget each) after it; on the main screen that work competed with the first paint of
the cached list (issue 4: first paint within 1.5× a bare Textual app). The bar keeps
its place from the first frame; only its keys wait until ``release()``.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

__all__ = ["LateFooter"]


class LateFooter(Footer):
    """A ``Footer`` that ignores binding changes until ``release()`` (then catches up)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.held = True

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
