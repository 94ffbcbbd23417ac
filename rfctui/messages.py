"""Every message a worker posts to the UI, in one place (STYLE §1.3, §10).

Thread workers never touch widgets: they post one of these, and an ``@on`` handler on
the screen updates the widgets on the UI thread. They are dataclasses (toolong's and
posting's ``messages.py``): Textual's ``Message.__post_init__`` initialises the base, so
none needs a hand-written ``__init__``. ``eq=False``: a message is itself, not its
fields (as Textual's own are). ``bubble=False``: each is meant for the screen that
posted it, never for the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textual.message import Message

from rfctui.attention import QueueItem
from rfctui.results import ActionResult, SweepResult
from rfctui.rows import ListHead, ListItem, PRRow, RFCDetail, SyncStatus

__all__ = [
    "ActionRowsLoaded",
    "BotActionDone",
    "BotActionFailed",
    "BotChecked",
    "BotReselect",
    "CacheChecked",
    "CacheFailed",
    "CacheNotice",
    "ChangeLoaded",
    "DetailLoaded",
    "FilterIndexReady",
    "HeadLoaded",
    "ItemsLoaded",
    "OrderRestored",
    "QueueLoaded",
    "RetryFinished",
    "StatusLoaded",
    "SyncFinished",
    "SyncProgress",
    "SyncStarted",
    "UserIdentified",
]

# -- the list and the detail (rfctui.screens.main)


@dataclass(eq=False)
class HeadLoaded(Message, bubble=False):
    """The first screen of the list; the whole list follows (start-up, §7.1)."""

    head: ListHead


@dataclass(eq=False)
class ItemsLoaded(Message, bubble=False):
    """The cache was read: every left-pane item plus the sync status."""

    items: list[ListItem]
    status: SyncStatus | None
    texts: list[str] | None = None  # the filter index (rfctui.filtering), if built


@dataclass(eq=False)
class StatusLoaded(Message, bubble=False):
    """The cache's sync status, read right after the items (not needed to paint)."""

    status: SyncStatus


@dataclass(eq=False)
class FilterIndexReady(Message, bubble=False):
    """The filter's search index for ``items`` (built in the worker after the paint)."""

    items: list[ListItem]
    texts: list[str]


@dataclass(eq=False)
class CacheFailed(Message, bubble=False):
    """The cache could not be opened or read; ``error`` is one actionable line."""

    error: str


@dataclass(eq=False)
class CacheNotice(Message, bubble=False):
    """A local file had to be moved aside or cannot be opened: say so once.

    The cache by default (it then starts empty); ``actions_log`` for the actions log.
    """

    notice: str
    actions_log: bool = False

    @property
    def title(self) -> str:
        return "Actions log" if self.actions_log else "Cache"


@dataclass(eq=False)
class DetailLoaded(Message, bubble=False):
    """The detail of one item, read from the cache in a worker."""

    item: ListItem
    detail: RFCDetail | None
    pulls: list[PRRow]


@dataclass(eq=False)
class CacheChecked(Message, bubble=False):
    """The cache's write generation and skipped entries, read in a worker.

    Another process (``rfctui --resync``, ``rfctui propose``) may write the shared cache;
    a generation other than the one the list was read at means the list is out of date.
    ``reload`` asks for a re-read whatever the generation (after a sweep that changed
    rows). ``skipped`` is the reconciler's malformed entries as (path, reason).
    """

    generation: str | None
    skipped: list[tuple[str, str]]
    reload: bool = False


# -- what needs you (rfctui.screens.queue, issue 11)


@dataclass(eq=False)
class QueueLoaded(Message, bubble=False):
    """The queue and the since-last-seen marks, computed in a worker.

    ``items`` None: no queue to show (``note`` says why, or the section is hidden).
    ``new_slugs``: entries with activity since last seen; ``activity``: each entry's
    latest activity (entry or PR); ``seen``/``baseline``: the marks it was computed
    with; ``entry_activity``: the entry file's own latest change.
    """

    items: list[QueueItem] | None
    note: str | None
    views: tuple[Any, ...]
    new_slugs: set[str]
    activity: dict[str, datetime]
    seen: dict[str, datetime]
    baseline: datetime
    entry_activity: dict[str, datetime]
    notes: list[str] = field(default_factory=list)  # QueueResult.notes, one line each
    snoozed: int = 0  # rows a snooze hides


@dataclass(eq=False)
class OrderRestored(Message, bubble=False):
    """The sort key and group-by remembered in the marks' UI state."""

    sort: str
    group_by: str


# -- sweeps and identity (rfctui.screens.main, rfctui.screens.sync)


@dataclass(eq=False)
class SyncStarted(Message, bubble=False):
    """A sweep began (``kind`` is quick | full)."""

    kind: str


@dataclass(eq=False)
class SyncFinished(Message, bubble=False):
    """A sweep ended, or could not run (``SweepResult.failed``)."""

    result: SweepResult


@dataclass(eq=False)
class UserIdentified(Message, bubble=False):
    """The user's own token said who is at the keyboard (for ``mine``)."""

    login: str | None
    full_name: str | None = None


# -- actions through the bot (rfctui.screens.bot_actions)


@dataclass(eq=False)
class BotActionDone(Message, bubble=False):
    """An action reached Gitea; the cache was refreshed (unless `result.refresh_error`).

    ``items``/``status``: the list read again after that refresh (None: read it anew).
    """

    result: ActionResult
    slug: str
    kind: str
    items: list[ListItem] | None
    status: SyncStatus | None = None


@dataclass(eq=False)
class BotActionFailed(Message, bubble=False):
    """Nothing (validation) or not everything (Gitea) was done; ``text`` is one line.

    ``errors`` (by field) reopen the form with what was typed; ``action_id`` is the
    actions log's row kept for a retry.
    """

    request: dict[str, Any]
    text: str
    errors: dict[str, str] | None
    action_id: int | None


@dataclass(eq=False)
class BotReselect(Message, bubble=False):
    """After an action: select ``slug`` once the refreshed items are shown."""

    slug: str
    kind: str


# -- the Actions view (rfctui.screens.actions)


@dataclass(eq=False)
class ActionRowsLoaded(Message, bubble=False):
    """The actions log's pending and failed rows, and the unsent drafts."""

    rows: list[Any]
    error: str | None = None
    drafts: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class RetryFinished(Message, bubble=False):
    """A retry from the Actions view ended: ``text`` is the PR's URL or the error."""

    action_id: int
    text: str
    ok: bool


@dataclass(eq=False)
class DraftWriteFailed(Message, bubble=False):
    """The drafts' writer thread could not save a draft (disk full, read-only): said at
    once, not at the next keystroke."""


@dataclass(eq=False)
class HistoryProgress(Message, bubble=False):
    """Time in state being read from history after a sweep, in the background:
    ``done`` of ``total`` entries; ``finished`` at the end, with ``error`` the first
    failure in one line (those entries keep their previous time and are retried)."""

    done: int
    total: int
    finished: bool = False
    error: str | None = None


@dataclass(eq=False)
class ChangeLoaded(Message, bubble=False):
    """PR ``pr``'s change view read from the cache (issue 12 §1; `Session.change`):
    ``view`` a `rfctui.changes.ChangeView`, ``rows`` its body diff as
    `rfctui.worddiff.DiffLine`s (parsed in the worker), ``warnings`` the propose form's
    own checks for a proposal, ``error`` one line when it could not be read."""

    pr: int
    view: Any = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    rows: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class SyncProgress(Message, bubble=False):
    """A sweep's progress, ``done`` of ``total`` in ``phase`` (at most ~10 a second;
    issue 14 §4: the status line counts like ``--resync`` does)."""

    phase: str
    done: int
    total: int


@dataclass(eq=False)
class BotChecked(Message, bubble=False):
    """The bot-token part of ``rfctui doctor``, run once at start (issue 14 §1):
    ``problem`` is why actions would fail (one line with the fix), None when they can."""

    problem: str | None
