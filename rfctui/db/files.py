"""Opening the cache and the actions log safely (SPEC §4.2, §6.4, §11).

Both files are opened the same way: created ``0600`` in a ``0700`` directory before
SQLite touches them, looked at read-only first (``PRAGMA quick_check``, application id,
schema version), and a provably bad file is moved aside — kept, never deleted — while a
good file that merely cannot be opened right now (busy, locked, permissions, I/O) is
left where it is. What each file does on trouble is the caller's choice
(`open_or_replace`).

Concurrency. peewee opens one connection per thread; the UI's worker threads read
while the reconciler writes from another thread or process. WAL gives readers a
consistent snapshot (before or after a sweep, never half of one, §4.1); writers take
the write lock up front with ``BEGIN IMMEDIATE`` and wait up to ``busy_timeout`` for
it, so two processes (a UI and a ``--resync``) queue instead of failing with
"database is locked" (§4.2).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import peewee as pw

from rfctui.db.errors import CacheError
from rfctui.db.schema import Base, BoundModels
from rfctui.private import FILE_MODE, private_dir, private_file
from rfctui.text import one_line

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CacheError",
    "TrackingSqlite",
    "open_or_replace",
    "utcnow",
]

BUSY_TIMEOUT_MS = 10_000


def utcnow() -> datetime:
    """The default clock: now, aware UTC."""
    return datetime.now(UTC)


def _why(exc: BaseException) -> str:
    """An error as one line (its class name when it has no message)."""
    return one_line(str(exc), limit=500) or type(exc).__name__


# ---------------------------------------------------------------- connections


class _Conn(sqlite3.Connection):
    """A connection that can be weakly referenced (the C type cannot)."""


class TrackingSqlite(pw.SqliteDatabase):
    """SqliteDatabase that can close every per-thread connection at once.

    peewee keeps one connection per thread; the UI reads from short-lived worker
    threads. Connections are tracked weakly: when a worker thread ends, its
    thread-local connection is freed (and closed) as usual; `close_all` closes the ones
    still alive, from any thread (hence ``check_same_thread=False``).
    """

    def __init__(
        self, path: str, *, pragmas: list[tuple[str, object]], timeout: float
    ) -> None:
        self._all_conns: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._conns_lock = threading.Lock()
        super().__init__(
            path, pragmas=pragmas, timeout=timeout, check_same_thread=False, factory=_Conn
        )

    def _connect(self) -> sqlite3.Connection:
        # peewee's hook for each new per-thread connection (not in its stubs).
        conn: sqlite3.Connection = super()._connect()  # type: ignore[misc]
        with self._conns_lock:
            self._all_conns.add(conn)
        return conn

    def sqlite_connection(self) -> sqlite3.Connection:
        """This thread's connection (``connection()``, which peewee's stubs leave untyped)."""
        conn: sqlite3.Connection = self.connection()  # type: ignore[no-untyped-call]
        return conn

    def run(self, sql: str) -> sqlite3.Cursor:
        """``execute_sql(sql)``, typed (peewee's stubs leave it untyped)."""
        cursor: sqlite3.Cursor = self.execute_sql(sql)  # type: ignore[no-untyped-call]
        return cursor

    def int_pragma(self, name: str) -> int:
        """An integer pragma (application_id, user_version) of this file."""
        return int(self.run(f"PRAGMA {name}").fetchone()[0])

    def close_all(self) -> None:
        """Close the connections of every thread (call when no query is running)."""
        with self._conns_lock:
            conns = list(self._all_conns)
            self._all_conns = weakref.WeakSet()
        try:
            self.close()
        except pw.OperationalError:
            pass
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass


def _make_db(path: Path, new_file: bool) -> TrackingSqlite:
    pragmas: list[tuple[str, object]] = [("busy_timeout", BUSY_TIMEOUT_MS)]
    if new_file:
        pragmas.append(("page_size", 8192))  # 12% faster bulk load, 1/3 smaller (BASELINES d)
    pragmas += [("journal_mode", "wal"), ("synchronous", 1), ("foreign_keys", 1)]
    return TrackingSqlite(str(path), pragmas=pragmas, timeout=BUSY_TIMEOUT_MS / 1000)


# ---------------------------------------------------------------- keeping files private


def _aside_name(path: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    return candidate


def _move_aside(path: Path, now: datetime) -> Path:
    """Rename a bad file (and its -wal/-shm companions) out of the way; never delete it.

    What is kept stays private (§11): an old file may have been made ``0644``.
    """
    target = _aside_name(path, now)
    os.replace(path, target)
    _tighten(target)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            try:
                os.replace(companion, target.with_name(target.name + suffix))
                _tighten(target.with_name(target.name + suffix))
            except OSError:
                pass
    return target


def _tighten(path: Path) -> None:
    try:
        os.chmod(path, FILE_MODE)
    except OSError:
        pass


def _make_private(path: Path) -> None:
    """Create the database file ``0600`` before SQLite opens it, so its -wal/-shm files
    (created with the database's mode) are private too whatever the umask (§11), and
    tighten an existing file of ours. Something that is not a file is left for
    `_open_checked` to report; an existing file we cannot open for writing is left as
    it is (the open that follows says what is wrong)."""
    if path.exists() and not path.is_file():
        return
    try:
        private_file(path, sqlite=True)
    except OSError as exc:
        if not path.exists():
            raise _Trouble(_why(exc), busy=False) from None
        _tighten(path)


# ---------------------------------------------------------------- checking a file


class _Unusable(Exception):
    """Internal: the file must be moved aside (the message is the one-line reason)."""


class _Newer(_Unusable):
    """Internal: the file is ours but from a newer rfctui (a higher schema version)."""

    def __init__(self, found: int, ours: int) -> None:
        super().__init__(f"schema version {found}, expected {ours}")
        self.found, self.ours = found, ours


class _Older(_Unusable):
    """Internal: the file is ours but from an older rfctui with no in-place migration."""


class _Trouble(Exception):
    """Internal: the file may be fine but cannot be opened right now (busy, locked,
    permissions, I/O): moving it aside would lose a good file."""

    def __init__(self, reason: str, busy: bool) -> None:
        super().__init__(reason)
        self.busy = busy


# SQLite messages that mean "this file's content is bad" (SQLITE_NOTADB, _CORRUPT).
_BAD_CONTENT = ("not a database", "malformed", "file is encrypted")


def _classify(exc: BaseException) -> _Unusable | _Trouble:
    """A bad file (move it aside) or trouble opening a good one (leave it alone)."""
    reason = _why(exc)
    low = reason.lower()
    if any(m in low for m in _BAD_CONTENT):
        return _Unusable(reason)
    return _Trouble(reason, busy="locked" in low or "busy" in low)


def _open_checked(
    path: Path,
    models: tuple[type[Base], ...],
    app_id: int,
    version: int,
    on_create: Callable[[BoundModels], None] | None = None,
    migrate: Callable[[TrackingSqlite, int], bool] | None = None,
) -> tuple[TrackingSqlite, BoundModels]:
    """Open `path`, run quick_check, verify it is ours and of `version`; create if new.

    An older version is first offered to `migrate(db, found)`, which upgrades it in
    place and returns True, or returns False (no migration from there).
    Raises `_Unusable(reason)` for anything that means "move it aside and start again".
    """
    if path.exists() and not path.is_file():
        raise _Unusable("not a regular file")
    new_file = not path.exists() or path.stat().st_size == 0
    if not new_file:
        # quick_check (once: it reads the whole file) before any pragma that would
        # rewrite a foreign file.
        _precheck(path, app_id)
    db = _make_db(path, new_file)
    try:
        db.connect()
        found_app = db.int_pragma("application_id")
        found_version = db.int_pragma("user_version")
        tables = db.get_tables()
        bound = BoundModels(db, models)
        if not tables and found_app == 0:
            with db.atomic("IMMEDIATE"):
                # Re-check under the write lock: another process may have created it.
                if not db.get_tables():
                    db.create_tables(bound.all())
                    db.run(f"PRAGMA application_id = {int(app_id)}")
                    db.run(f"PRAGMA user_version = {int(version)}")
                    if on_create is not None:
                        on_create(bound)
            found_app = db.int_pragma("application_id")
            found_version = db.int_pragma("user_version")
        if found_app != app_id:
            raise _Unusable("not an rfctui file")
        if found_version > version:
            raise _Newer(found_version, version)
        if found_version < version and migrate is not None and migrate(db, found_version):
            found_version = db.int_pragma("user_version")
        if found_version < version:
            raise _Older(f"schema version {found_version}, expected {version}")
        if found_version != version:
            raise _Unusable(f"schema version {found_version}, expected {version}")
        missing = bound.tables() - set(db.get_tables())
        if missing:
            raise _Unusable(f"missing tables: {', '.join(sorted(missing))}")
        return db, bound
    except _Unusable:
        db.close_all()
        raise
    except (pw.DatabaseError, sqlite3.Error, OSError) as exc:
        db.close_all()
        raise _classify(exc) from None


def _precheck(path: Path, app_id: int) -> None:
    """Read-only look at an existing file: is it SQLite, intact, and ours (or empty)?

    Runs on a plain connection with no pragmas, so a foreign or broken file is left
    byte-for-byte as it was when it is moved aside.
    """
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    except (sqlite3.Error, OSError) as exc:
        raise _classify(exc) from None
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            raise _Unusable("quick_check failed: " + "; ".join(str(r[0]) for r in rows[:2]))
        found_app = conn.execute("PRAGMA application_id").fetchone()[0]
        has_tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
        if found_app != app_id and (found_app != 0 or has_tables):
            raise _Unusable("not an rfctui file")
    except sqlite3.Error as exc:
        raise _classify(exc) from None
    finally:
        conn.close()


# ---------------------------------------------------------------- open, or move aside


def open_or_replace(
    path: str | os.PathLike[str],
    what: str,
    models: Iterable[type[Base]],
    app_id: int,
    version: int,
    rebuilt: str,
    clock: Callable[[], datetime],
    on_create: Callable[[BoundModels], None] | None = None,
    *,
    keep_on_trouble: bool = False,
    repair: bool = True,
    keep_newer: bool = False,
    migrate: Callable[[TrackingSqlite, int], bool] | None = None,
) -> tuple[Path, TrackingSqlite, BoundModels, str | None]:
    """Open, or move a bad file aside and create a new one (the notice says so).

    Returns the path, the database, its bound `models` and the one-line notice (None
    when the file opened as it was). Busy/locked is never a reason to move a file
    aside (another process holds it).
    `keep_on_trouble`: permission and I/O errors raise `CacheError` too, leaving the
    file where it is (the actions log: it cannot be rebuilt). `repair=False`: a bad
    file raises `CacheError` instead of being moved aside (read-only users).
    `keep_newer`: a file from a newer rfctui raises `CacheError` and is left in place
    (this version cannot read it, and moving it aside would hide it from the newer one).
    `migrate`: upgrades a file of an older version in place (see `_open_checked`).
    Files are ``0600`` in a ``0700`` directory (§11).
    """
    p = Path(path).expanduser()
    try:
        private_dir(p.parent)
    except OSError as exc:
        raise CacheError(f"cannot create {p.parent}: {_why(exc)}") from None
    models = tuple(models)
    older = False
    try:
        _make_private(p)
        db, bound = _open_checked(p, models, app_id, version, on_create, migrate)
        return p, db, bound, None
    except _Newer as exc:
        if keep_newer:
            raise CacheError(
                f"the {what} at {p} is from a newer rfctui (schema version {exc.found}; "
                f"this one reads {exc.ours}): upgrade rfctui; the file was left as it is"
            ) from None
        reason = str(exc)
    except _Trouble as exc:
        if exc.busy or keep_on_trouble:
            raise CacheError(
                f"cannot open the {what} at {p}: {exc}; it was left as it is "
                "(another program using it? check permissions and the disk)"
            ) from None
        reason = str(exc)
    except _Unusable as exc:
        reason = str(exc)
        older = isinstance(exc, _Older)
    if not repair:
        raise CacheError(f"the {what} at {p} is unreadable ({reason}); it was left as it is")
    try:
        aside = _move_aside(p, clock())
    except OSError as exc:
        raise CacheError(
            f"{what} at {p} is unusable ({reason}) and cannot be moved aside: {_why(exc)}"
        ) from None
    try:
        _make_private(p)
        db, bound = _open_checked(p, models, app_id, version, on_create)
    except (_Unusable, _Trouble) as exc:
        raise CacheError(f"cannot create a new {what} at {p}: {exc}") from None
    why = "is from an older rfctui" if older else "was unreadable"
    notice = f"{what} at {p} {why} ({reason}); moved aside to {aside} and {rebuilt}"
    return p, db, bound, one_line(notice, limit=500)
