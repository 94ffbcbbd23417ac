"""What the UI remembers between runs (issue 14 §3): theme, folded groups, filter, order.

Two small private JSON files in the platform's state directory (`Config.state_dir`,
``RFCTUI_STATE_DIR``; ``0600`` in ``0700`` directories, `rfctui.private`), never in the
cache, so ``--resync`` keeps them (SPEC §9, §11):

- ``<state dir>/ui.json`` — yours whatever the server: the theme;
- ``<state dir>/<target key>/ui.json`` — per target (`rfctui.marks.Marks.ui_state`):
  the folded groups, the last filter, the sort key and the group-by.

Both are read once, in `RfcApp.__init__`, before the first paint: two JSON files of a
few hundred bytes (a stat and a read each, well under a millisecond), so the first frame
already has the theme, the folds, the order and the filter — no repaint a moment later.
A file that is not ours (bad JSON, wrong shape) is ignored with a one-line notice and
replaced by the next change. A theme name that is not a theme here (the ``theme`` config
key, or a remembered one that is gone) gets a notice and the default theme.

Writes run in thread workers: the theme when it changes (the palette's Theme command),
folds when a group is folded or unfolded, sort and group-by when ``s``/``b`` change them
(`rfctui.screens.queue`), the filter a moment after the last keystroke (never a write
per key) and at the latest when the screen goes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from textual import on
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

from rfctui.marks import Marks
from rfctui.text import one_line
from rfctui.widgets.filter_input import FilterInput
from rfctui.widgets.list_order import GROUP_BY, SORT_KEYS
from rfctui.widgets.rfc_list import RfcList

if TYPE_CHECKING:
    from textual.app import App

    from rfctui.session import Session

__all__ = ["DEFAULT_THEME", "FILTER_SETTLE_SECONDS", "Memory", "RememberMixin"]

DEFAULT_THEME: Final = "textual-dark"
# The filter is written this long after the last keystroke (and when the screen goes).
FILTER_SETTLE_SECONDS: Final = 1.0
_MAX_FILTER: Final = 500  # a filter longer than this is not a query anyone typed


@dataclass
class Memory:
    """The remembered UI of one session, read at start (module docstring).

    ``notices`` are the one-line notices the app shows once it is mounted.
    """

    session: Session
    theme: str | None = None
    folds: frozenset[str] = frozenset()
    filter: str = ""
    sort: str | None = None
    group_by: str | None = None
    notices: list[str] = field(default_factory=list)
    _user: Marks | None = None
    _saved_theme: str | None = None

    @classmethod
    def read(cls, session: Session) -> Memory:
        """Both files, now (UI thread, before the first paint: two tiny JSON reads)."""
        memory = cls(session)
        memory._user = Marks(session.config.state_dir)
        user = memory._read(memory._user)
        target = memory._read(session.marks)
        theme = user.get("theme")
        memory.theme = theme if isinstance(theme, str) and theme else None
        folds = target.get("folded")
        if isinstance(folds, list):
            memory.folds = frozenset(g for g in folds if isinstance(g, str))
        text = target.get("filter")
        if isinstance(text, str) and len(text) <= _MAX_FILTER and "\n" not in text:
            memory.filter = text
        sort, group_by = target.get("sort"), target.get("group_by")
        memory.sort = sort if sort in SORT_KEYS else None
        memory.group_by = group_by if group_by in GROUP_BY else None
        return memory

    def _read(self, marks: Marks) -> dict[str, Any]:
        try:
            state = marks.ui_state()
        except OSError as exc:  # e.g. a directory we may not enter: remembered nothing
            self.notices.append(f"UI state not read: {one_line(str(exc), 160)}")
            state = {}
        self.notices.extend(one_line(n, 300) for n in marks.take_notices())
        return state

    def initial_theme(self, available: Mapping[str, object]) -> str:
        """The remembered theme, else the ``theme`` config key, else the default; a name
        that is not a theme here is told (once) and skipped."""
        choices = (
            (self.theme, "remembered theme"),
            (self.session.config.theme, "theme in the config file"),
        )
        chosen = DEFAULT_THEME
        for name, where in choices:
            if not name:
                continue
            if name in available:
                chosen = name
                break
            self.notices.append(
                f"Unknown {where} {one_line(name, 40)!r}; using {DEFAULT_THEME} "
                "(ctrl+p, Theme lists the themes)."
            )
        self._saved_theme = chosen if chosen == self.theme else None
        return chosen

    def theme_changed(self, app: App[Any], theme: str) -> None:
        """The person picked ``theme``: remember it (a thread worker) unless kept already."""
        if theme == self._saved_theme or self._user is None or not app.is_running:
            return
        self._saved_theme = theme
        app.run_worker(
            partial(_save, app, self._user, {"theme": theme}),
            thread=True, group="remember", exit_on_error=False, description="Saving theme",
        )

    def save(self, app: App[Any], changes: Mapping[str, Any]) -> None:
        """Merge ``changes`` into this target's UI state (a thread worker)."""
        app.run_worker(
            partial(_save, app, self.session.marks, dict(changes)),
            thread=True, group="remember", exit_on_error=False, description="Saving UI state",
        )


def _save(app: App[Any], marks: Marks, changes: Mapping[str, Any]) -> None:
    """A worker's write; a failure is one line, once per run (never a crash)."""
    try:
        marks.save_ui_state(changes)
    except OSError as exc:
        if not getattr(app, "_ui_state_write_told", False):
            app._ui_state_write_told = True  # type: ignore[attr-defined]
            app.call_from_thread(
                app.notify, f"UI state not saved: {one_line(str(exc), 160)}",
                severity="warning", markup=False,
            )


class RememberMixin(Screen[None]):
    """The main screen's half that restores and saves folds and the filter (the order
    is `rfctui.screens.queue`'s; the theme the app's)."""

    query_text: str  # MainScreen's: the query the list is filtered by
    _filter_timer: Timer | None = None
    _filter_typed: str = ""  # the box's text at the last keystroke
    _filter_saved: str = ""
    _folds_saved: frozenset[str] = frozenset()

    @property
    def memory(self) -> Memory | None:
        return getattr(self.app, "memory", None)

    def restore_remembered(self, apply_order: Callable[[str, str], None]) -> None:
        """Folds, order and filter into the widgets, before the first rows arrive
        (MainScreen.on_mount calls it first). ``apply_order`` sets sort and group-by
        without saving them again."""
        memory = self.memory
        if memory is None:
            return
        rfc_list = self.query_one(RfcList)
        if memory.folds:
            rfc_list.restore_folds(memory.folds)
        self._folds_saved = memory.folds
        if memory.sort or memory.group_by:
            apply_order(memory.sort or rfc_list.sort, memory.group_by or rfc_list.group_by)
        self._filter_saved = memory.filter
        if memory.filter:
            box = self.query_one(FilterInput)
            # The query is applied with the first rows (MainScreen._apply_filter reads
            # query_text); the box's own Changed then finds nothing new to do.
            self.query_text = memory.filter
            with box.prevent(Input.Changed):
                box.value = memory.filter
            box.cursor_position = len(memory.filter)

    @on(RfcList.FoldsChanged)
    def _remember_folds(self, event: RfcList.FoldsChanged) -> None:
        memory = self.memory
        if memory is None or event.folded == self._folds_saved:
            return
        self._folds_saved = event.folded
        memory.save(self.app, {"folded": sorted(event.folded)})

    @on(Input.Changed, "#filter")
    def _remember_filter_later(self, event: Input.Changed) -> None:
        """A keystroke in the filter: written once typing pauses, not per key."""
        self._filter_typed = event.value
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_SETTLE_SECONDS, self._save_filter)

    def _filter_to_save(self) -> str | None:
        """The typed filter if it is new and worth keeping (None: nothing to write)."""
        self._filter_timer = None
        text = self._filter_typed
        if self.memory is None or text == self._filter_saved or len(text) > _MAX_FILTER:
            return None
        self._filter_saved = text
        return text

    def _save_filter(self) -> None:
        text = self._filter_to_save()
        if text is not None and self.memory is not None:
            self.memory.save(self.app, {"filter": text or None})

    def on_unmount(self) -> None:
        """Quitting within a second of the last keystroke still keeps the filter:
        written here, at once (a few hundred bytes, on the way out)."""
        if self._filter_timer is None:
            return
        self._filter_timer.stop()
        text = self._filter_to_save()
        if text is not None and self.memory is not None:
            with contextlib.suppress(OSError):
                self.memory.session.marks.save_ui_state({"filter": text or None})
