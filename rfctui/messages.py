"""Messages from workers to the UI (SPEC §7; STYLE §1.3: workers post, handlers own state).

Thread workers never touch widgets: they post one of these, and an ``@on`` handler on
the main screen updates the widgets on the UI thread.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

from rfctui.rows import ListItem, PRRow, RFCDetail, SyncStatus


class ItemsLoaded(Message, bubble=False):
    """The cache was read: every left-pane item plus the sync status."""

    def __init__(
        self,
        items: list[ListItem],
        status: SyncStatus | None,
        texts: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.items = items
        self.status = status
        self.texts = texts  # the filter index, built in the worker (rfctui.filtering)


class StatusLoaded(Message, bubble=False):
    """The cache's sync status, read right after the items (not needed to paint)."""

    def __init__(self, status: SyncStatus) -> None:
        super().__init__()
        self.status = status


class FilterIndexReady(Message, bubble=False):
    """The filter's search index for ``items`` (built in the worker after the paint)."""

    def __init__(self, items: list[ListItem], texts: list[str]) -> None:
        super().__init__()
        self.items = items
        self.texts = texts


class CacheFailed(Message, bubble=False):
    """The cache could not be opened or read; ``error`` is one actionable line."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class CacheNotice(Message, bubble=False):
    """A local file had to be moved aside (§4.2, §6.4) or cannot be opened: say so once.

    The cache by default (it then starts empty); ``actions_log`` for the §6.4 log.
    """

    def __init__(self, notice: str, *, actions_log: bool = False) -> None:
        super().__init__()
        self.notice = notice
        self.actions_log = actions_log
        self.title = "Actions log" if actions_log else "Cache"


class SyncStarted(Message, bubble=False):
    """A reconciler sweep began (``kind`` is quick | full | refresh)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind


class SyncFinished(Message, bubble=False):
    """A sweep ended; ``result`` is the reconciler's SweepResult."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class UserIdentified(Message, bubble=False):
    """``GET /user`` with the user's token said who is at the keyboard (§6.2)."""

    def __init__(self, login: str | None, full_name: str | None = None) -> None:
        super().__init__()
        self.login = login
        self.full_name = full_name


class DetailLoaded(Message, bubble=False):
    """The detail of one item, read from the cache in a worker."""

    def __init__(
        self,
        item: ListItem,
        detail: RFCDetail | None,
        pulls: list[PRRow],
    ) -> None:
        super().__init__()
        self.item = item
        self.detail = detail
        self.pulls = pulls


class CacheChecked(Message, bubble=False):
    """The cache's write generation and skipped entries, read in a worker (§4.1).

    Another process (``rfctui --resync``, ``rfctui propose``) may write the shared cache;
    a generation other than the one the list was read at means the list is out of date.
    ``reload`` asks for a re-read whatever the generation (after a sweep that changed
    rows). ``skipped`` is the reconciler's malformed entries as (path, reason).
    """

    def __init__(
        self, generation: str | None, skipped: list[tuple[str, str]], *, reload: bool = False
    ) -> None:
        super().__init__()
        self.generation = generation
        self.skipped = skipped
        self.reload = reload
