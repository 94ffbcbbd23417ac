"""The UI's start-up: the first screen is read while Textual is imported (SPEC §7.1).

``rfctui`` knows its configuration before it imports Textual, which takes most of the
start-up time. `start_first_screen` uses that time: a thread checks the cache and reads
what the first screen shows (`FirstScreen`: the first rows, every group's size, the
status line and the first row's detail), and the app collects it when its screen mounts.
The whole list is read after the first paint.

The thread needs only ``sqlite3`` and `rfctui.rows` (SQLite's C code runs without the
GIL; peewee is not imported yet). It checks what tells a cache from anything else —
application id, schema version, the tables its queries need — and reads in one read
transaction, through an index, a few pages of the file. The full integrity check
(``PRAGMA quick_check``) is not on this path: it reads the whole file, which with
10,000 entries is 80 MB and on a cold disk (the first start of the day) seconds, not
milliseconds. The session's `Session.cache` (``rfctui.db.open_cache``) runs it right
after the first paint, before the whole list is read; a file that fails it is moved
aside there, and the screen then shows the rebuilt (empty) cache and says why. Anything
unusual up front (no file yet, a foreign or other-version file, a read that fails, a
lock) goes that long way at once, through the same session.

No Textual here (the core never imports it; a test checks).
"""

from __future__ import annotations

import gc
import shutil
import sqlite3
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfctui.rows import (
    CACHE_APP_ID,
    LIFECYCLE_STATES,
    SCHEMA_VERSION,
    ListHead,
    ListItem,
    PRRow,
    Reader,
    RFCDetail,
    read_detail,
)
from rfctui.session import Session

if TYPE_CHECKING:
    from rfctui.config import Config
    from rfctui.db import Cache

__all__ = [
    "FirstScreen",
    "begin",
    "end",
    "first_screen_rows",
    "read_first_screen",
    "start_first_screen",
]

# GIL switch interval while the first screen is read (seconds; Python's default is 0.005).
# SQLite releases the GIL around each step; with the UI thread busy importing, the reader
# would wait up to a whole interval for it after every statement.
PRELOAD_SWITCH_INTERVAL = 0.0002
_BUSY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class FirstScreen:
    """What the first paint needs, read before the whole list.

    ``item`` is the first row, ``detail``/``pulls`` its right pane; ``notice`` the
    cache's one-line notice (moved aside and rebuilt); ``cache`` the `rfctui.db.Cache`
    opened on the long way round (None on the fast path), for the app to keep (its
    session holds it already when the read was given one).
    """

    head: ListHead
    notice: str | None = None
    item: ListItem | None = None
    detail: RFCDetail | None = None
    pulls: list[PRRow] | None = None
    cache: Cache | None = None


_gc_paused = False


def begin(source: Config | Session) -> Future[FirstScreen]:
    """What ``rfctui`` does before it imports Textual: start reading the first screen,
    and hold the cyclic garbage collector until start-up is over (`end`: the whole
    list is in, a few hundred milliseconds after the first paint).

    Start-up allocates hundreds of thousands of long-lived objects (modules, classes,
    styles, widgets, then the list's items and filter index) and few cycles; the
    collector would rescan them again and again (~50 ms before the first paint here,
    bench/startup.py) and free nearly nothing.
    """
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True
    return start_first_screen(source)


def end() -> None:
    """Start-up is over: the collector runs again (idempotent).

    What start-up allocated is moved to the permanent generation (``gc.freeze``), so
    later collections do not rescan it either: typing in the filter is not paused by
    collections that walk 10,000 items. (Frozen objects are still freed when their
    last reference goes; only cycles among them would be kept.)
    """
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


def first_screen_rows() -> int:
    """Rows to read for the first screen: the terminal's height, at least 60."""
    return max(shutil.get_terminal_size((80, 60)).lines, 60)


def start_first_screen(
    source: Config | Session,
    *,
    clock: Callable[[], datetime] | None = None,
    cache: Cache | None = None,
    rows: int | None = None,
) -> Future[FirstScreen]:
    """Read the first screen on a new thread; the future holds it (or the error)."""
    future: Future[FirstScreen] = Future()
    before = sys.getswitchinterval()
    shorter = min(before, PRELOAD_SWITCH_INTERVAL)
    sys.setswitchinterval(shorter)

    def run() -> None:
        try:
            future.set_result(
                read_first_screen(source, clock=clock, cache=cache, rows=rows)
            )
        except BaseException as exc:  # noqa: BLE001 - handed to whoever collects it
            future.set_exception(exc)
        finally:
            if sys.getswitchinterval() == shorter:
                sys.setswitchinterval(before)

    threading.Thread(target=run, name="rfctui-first-screen", daemon=True).start()
    return future


def read_first_screen(
    source: Config | Session,
    *,
    clock: Callable[[], datetime] | None = None,
    cache: Cache | None = None,
    rows: int | None = None,
) -> FirstScreen:
    """The first screen from ``cache`` (an open cache), else from the configuration's
    cache file; the long way opens the cache through the session (a `Config` gets a
    session of its own, whose cache the app adopts).
    """
    config = source.config if isinstance(source, Session) else source
    if clock is None:
        clock = source.clock if isinstance(source, Session) else _utc_now
    limit = rows or first_screen_rows()
    stale_days = config.stale_days
    opened: Cache | None = None
    if cache is None:
        first = _read_checked(Path(config.cache_file), clock, limit, stale_days)
        if first is not None:
            return first
        # The long way: create or repair the file (peewee is imported here).
        session = source if isinstance(source, Session) else Session(config, clock=clock)
        cache = opened = session.cache()
    now = clock()
    if hasattr(cache, "list_head"):
        head = cache.list_head(LIFECYCLE_STATES, limit, now=now, stale_days=stale_days)
    else:  # a stand-in with only list_items and sync_status (UI tests): all of it at once
        items = cache.list_items(now=now, stale_days=stale_days)
        head = ListHead(items, {}, {}, 0, cache.sync_status(), complete=True)
    item, detail, pulls = _first_detail(cache, head)
    return FirstScreen(head, getattr(cache, "notice", None), item, detail, pulls, opened)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _first_detail(reader: Any, head: ListHead) -> tuple[Any, Any, list[PRRow] | None]:
    """The first row and its right pane, as the screen's detail worker reads them."""
    item = head.items[0] if head.items else None
    if item is None:
        return None, None, None
    return (item, *read_detail(reader, item))


def _read_checked(
    path: Path, clock: Callable[[], datetime], limit: int, stale_days: float
) -> FirstScreen | None:
    """The first screen straight from a cache file, or None (take the long way)."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        # mode=rw: this path only reads; it never creates a file (with the umask's mode)
        # if the cache vanished since the check above (§11).
        conn = sqlite3.connect(
            path.absolute().as_uri() + "?mode=rw", timeout=_BUSY_TIMEOUT_S,
            isolation_level=None, uri=True,
        )
    except (OSError, sqlite3.Error):
        return None
    try:
        conn.execute("BEGIN")  # one snapshot for the checks and all the reads
        if conn.execute("PRAGMA application_id").fetchone()[0] != CACHE_APP_ID:
            return None
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return None
        reader = Reader(conn, clock)
        head = reader.list_head(LIFECYCLE_STATES, limit, now=clock(), stale_days=stale_days)
        item, detail, pulls = _first_detail(reader, head)
        return FirstScreen(head, None, item, detail, pulls)
    except sqlite3.Error:  # a missing table, a lock, a bad page: the long way says which
        return None
    finally:
        conn.close()
