"""The one-line status bar (SPEC §7.1): last sync, counts, a sweep in progress, the last
failure and an offline marker. Built from ``Content`` (errors may quote server text)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from textual.content import Content
from textual.widgets import Static

from rfctui.text import humanize_age, one_line

__all__ = ["StatusLine"]


class StatusLine(Static):
    """Shows the sync state; the screen sets the fields and calls ``render_status``."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None, **kwargs: object) -> None:
        super().__init__(Content(""), markup=False, **kwargs)  # type: ignore[arg-type]
        self._clock = clock or (lambda: datetime.now(UTC))
        self.synced_at: datetime | None = None
        self.rfc_count = 0
        self.pending_count = 0
        self.shown: int | None = None  # items shown by the filter, None = no filter
        self.syncing: str | None = None  # the kind of sweep in progress
        self.sweep_progress: tuple[int, int] | None = None  # its done, total (issue 14)
        self.history: tuple[int, int] | None = None  # time in state being read: done, total
        self.error: str | None = None
        self.offline = False
        self.loaded = False
        self.login: str | None = None
        self.demo = False
        self.hint: str | None = None  # e.g. a filter problem
        self.warning: str | None = None  # e.g. actions would fail: the bot token is refused
        self.skipped = 0  # malformed entries the last sweep skipped (listed in help)
        self.queue_count: int | None = None  # "Needs you" rows (None: no queue known)
        self.queue_snoozed = 0  # rows hidden by a snooze
        self.queue_notes: list[str] = []  # e.g. a malformed team file (one line each)
        self.order: str | None = None  # e.g. "by tag · sort: name" (None: the default)

    def render_status(self) -> None:
        """Rebuild the line from the fields (cheap; called on every change)."""
        now = self._clock()
        parts: list[Content] = []
        # Short facts first, the (long) error text last: an 80-column terminal cuts the
        # end of the line (with "…", see app.tcss), and the counts and age must survive.
        if self.demo:
            parts.append(Content.styled("DEMO", "bold $warning"))
        if self.offline:
            parts.append(Content.styled("● offline", "bold $error"))
        if self.syncing and self.sweep_progress is not None:
            done, total = self.sweep_progress
            parts.append(Content.styled(f"⟳ syncing {done}/{total}", "$accent"))
        elif self.syncing:
            parts.append(Content.styled(f"⟳ syncing ({self.syncing})…", "$accent"))
        if self.history is not None:
            done, total = self.history
            parts.append(Content.styled(f"⟳ reading history {done}/{total}", "$accent"))
        if not self.loaded:
            parts.append(Content("loading cache…"))
        elif self.synced_at is not None:
            parts.append(Content(f"synced {humanize_age(self.synced_at, now)}"))
        else:
            parts.append(Content("never synced"))
        if self.queue_count is not None:
            # What waits on you comes before the totals: the morning question (issue 11).
            style = "bold $text-warning" if self.queue_count else "$text-muted"
            snoozed = f" ({self.queue_snoozed} snoozed)" if self.queue_snoozed else ""
            parts.append(Content.styled(f"needs you: {self.queue_count}{snoozed}", style))
        if self.loaded:
            parts.append(Content(f"{self.rfc_count} RFCs"))
            parts.append(Content(f"{self.pending_count} pending"))
        if self.order:
            parts.append(Content.styled(one_line(self.order, 60), "$text-accent"))
        if self.skipped:
            parts.append(Content.styled(f"{self.skipped} skipped", "$text-warning"))
        if self.shown is not None:
            parts.append(Content.styled(f"filter: {self.shown} shown", "$text-accent"))
        if self.queue_notes:
            more = f" (+{len(self.queue_notes) - 1} more)" if len(self.queue_notes) > 1 else ""
            note = one_line(self.queue_notes[0], 100) + more
            parts.append(Content.styled(note, "$text-warning"))
        if self.hint:
            parts.append(Content.styled(one_line(self.hint, 120), "$warning"))
        if self.warning:
            parts.append(Content.styled(f"⚠ {one_line(self.warning, 100)}", "bold $warning"))
        if self.login:
            parts.append(Content.styled(f"you: {one_line(self.login, 40)}", "$text-muted"))
        if self.error:
            parts.append(Content.styled(f"sync failed: {one_line(self.error, 160)}", "$error"))
        # One line, always (app.tcss): a new text never changes its size, so no layout
        # pass (issue 13: that would lay out the whole screen on every filter keystroke).
        self.update(Content(" · ").join(parts), layout=False)
