"""The per-user SQLite cache and the actions log (SPEC §4.2, §6.4).

Two files, two lifetimes:

* the **cache** (`open_cache`) mirrors Gitea (§4.0) and can be thrown away at any time;
  the reconciler (`rfctui.cache`) is its only writer (§4.1), the UI only reads it;
* the **actions log** (`open_actions`) is the audit trail and outbox of user actions
  (§6.4); it cannot be rebuilt from Gitea, so it lives in its own file and `--resync`
  never touches it.

Concurrency model. Each `Cache`/`ActionsLog` owns its own `peewee.SqliteDatabase` and its
own model classes bound to it (per-instance subclasses of the module-level models), so
several caches can be open in one process (tests compare two) and a model is never
re-bound under another thread's feet. peewee opens one connection per thread; the UI's
worker threads read while the reconciler writes from another thread or process. WAL
gives readers a consistent snapshot (before or after a sweep, never half of one, §4.1);
writers take the write lock up front with ``BEGIN IMMEDIATE`` and wait up to
``busy_timeout`` for it, so two processes (a UI and a ``--resync``) queue instead of
failing with "database is locked" (§4.2).

Datetimes are stored as RFC 3339 UTC text (``2026-10-02T14:03:00Z``) and read back as
aware UTC datetimes. Lists and unknown front-matter keys are stored as JSON text.
No token ever reaches either file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import peewee as pw

from rfctui.private import FILE_MODE, private_dir, private_file
from rfctui.rows import (
    CACHE_APP_ID,
    SCHEMA_VERSION,
    STALE_STATES,
    ListHead,
    ListItem,
    PRRow,
    Reader,
    RFCDetail,
    SyncStatus,
    format_dt,
    parse_dt,
    search_text,
)
from rfctui.text import one_line

__all__ = [
    "ACTION_KINDS",
    "ACTION_STATUSES",
    "SCHEMA_VERSION",
    "Action",
    "ActionRow",
    "ActionsLog",
    "Cache",
    "ActionStateError",
    "CacheError",
    "CachedPR",
    "CachedRFC",
    "ListHead",
    "ListItem",
    "PRRow",
    "RFCDetail",
    "STALE_STATES",
    "SyncState",
    "SyncStatus",
    "comparable_export",
    "format_dt",
    "open_actions",
    "open_cache",
    "parse_dt",
    "search_text",
]

ACTIONS_SCHEMA_VERSION = 1
# PRAGMA application_id of the actions log ("rfca"; the cache's is rows.CACHE_APP_ID).
_ACTIONS_APP_ID = 0x72666361
EXPORT_SCHEMA = 1

BUSY_TIMEOUT_MS = 10_000

ACTION_KINDS = ("propose_rfc", "open_body_edit_pr", "open_claim_pr", "open_metadata_pr")
ACTION_STATUSES = ("pending", "done", "failed", "discarded")


class CacheError(RuntimeError):
    """The cache (or actions log) cannot be opened even after moving it aside; one line."""


class ActionStateError(CacheError):
    """An actions-log operation that the row's status does not allow (one line)."""


# ---------------------------------------------------------------- value helpers


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return format_dt(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


class UTCDateTimeField(pw.TextField):
    """An aware UTC datetime stored as RFC 3339 text (sorts chronologically per second)."""

    def db_value(self, value: Any) -> str | None:
        return format_dt(value)

    def python_value(self, value: Any) -> datetime | None:
        return parse_dt(value) if value is not None else None


class JSONField(pw.TextField):
    """Any JSON-able value as compact JSON text."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else _dumps(value)

    def python_value(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


# ---------------------------------------------------------------- models (§4.2)


class _Base(pw.Model):
    class Meta:
        database = None
        legacy_table_names = False


class CachedRFC(_Base):
    """One entry of ``rfcs/`` as last seen on ``main`` (§2, §4.2)."""

    # Column order matters: the left-pane columns come first and the big text last, so
    # list_items() never walks a body's overflow pages to reach a small column.
    slug = pw.TextField(unique=True)
    title = pw.TextField()
    state = pw.TextField()
    rfc_id = pw.IntegerField(null=True)
    owners = JSONField(default=list)
    arbiters = JSONField(default=list)
    tags = JSONField(default=list)
    proposed_by = pw.TextField(null=True)
    proposed_at = UTCDateTimeField(null=True)
    removed = pw.BooleanField(default=False)  # deleted from main out of band (§4.1)
    state_since = UTCDateTimeField(null=True)  # see rfctui.cache: time in state
    html_url = pw.TextField(null=True)
    path = pw.TextField()
    repo = pw.TextField(null=True)
    graduated_at = UTCDateTimeField(null=True)
    graduated_by = pw.TextField(null=True)
    extra = JSONField(default=dict)  # unknown front-matter keys, in file order
    body_sha = pw.TextField()  # git blob sha of the file the row was parsed from
    last_entry_commit_at = UTCDateTimeField(null=True)
    last_commit_sha = pw.TextField(null=True)
    updated_at = UTCDateTimeField(null=True)  # when this row last changed locally
    search_text = pw.TextField(default="")  # lower-cased slug, title, body[:20k]
    body = pw.TextField(default="")

    class Meta:
        table_name = "cached_rfc"
        # The first screen (rows.Reader.list_head): group sizes from this index alone,
        # and each group's first rows by slug, without reading the table's pages.
        indexes = ((("state", "slug", "removed", "rfc_id"), False),)


class CachedPR(_Base):
    """One of *our* pull requests on the meta repo (§5); foreign branches are not stored."""

    repo = pw.TextField()  # "owner/name"
    pr_number = pw.IntegerField()
    rfc_slug = pw.TextField()
    pr_kind = pw.TextField()
    title = pw.TextField(default="")
    description = pw.TextField(default="")
    state = pw.TextField()  # open | closed | merged (§5)
    opened_by = pw.TextField()  # the real actor (§6.3)
    user_login = pw.TextField(null=True)  # who Gitea says opened it (often the bot)
    opened_at = UTCDateTimeField(null=True)
    merged_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)
    updated_at = UTCDateTimeField(null=True)  # Gitea's updated_at (the PR watermark)
    head_branch = pw.TextField()
    base_branch = pw.TextField(default="main")
    head_sha = pw.TextField(null=True)
    html_url = pw.TextField(default="")

    class Meta:
        table_name = "cached_pr"
        indexes = (
            (("repo", "pr_number"), True),
            (("rfc_slug", "state"), False),
        )


class SyncState(_Base):
    """Key/value: schema version, per-kind sweep start/end/outcome/error, watermarks."""

    key = pw.TextField(primary_key=True)
    value = pw.TextField(null=True)

    class Meta:
        table_name = "sync_state"


class Action(_Base):
    """One row of the §6.4 actions log (in its own file, never in the cache)."""

    kind = pw.TextField()
    slug = pw.TextField()
    on_behalf_of = pw.TextField()
    payload = JSONField(default=dict)
    status = pw.TextField(default="pending")
    error = pw.TextField(null=True)
    pr_number = pw.IntegerField(null=True)
    pr_url = pw.TextField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "action"
        indexes = ((("slug", "pr_number"), False), (("status",), False))


_CACHE_MODELS: tuple[type[_Base], ...] = (CachedRFC, CachedPR, SyncState)
RFC_COLUMNS: tuple[str, ...] = tuple(CachedRFC._meta.sorted_field_names)
PR_COLUMNS: tuple[str, ...] = tuple(CachedPR._meta.sorted_field_names)


def _bound_models(db: pw.Database, models: Iterable[type[_Base]]) -> dict[str, Any]:
    """Per-instance subclasses of `models` bound to `db` (thread-safe, unlike bind_ctx)."""
    out: dict[str, Any] = {}
    for model in models:
        meta = type("Meta", (), {"database": db, "table_name": model._meta.table_name})
        out[model.__name__] = type(
            model.__name__, (model,), {"Meta": meta, "__module__": __name__}
        )
    return out


# ---------------------------------------------------------------- opening files safely


class _Conn(sqlite3.Connection):
    """A connection that can be weakly referenced (the C type cannot)."""


class _TrackingSqlite(pw.SqliteDatabase):
    """SqliteDatabase that can close every per-thread connection at once.

    peewee keeps one connection per thread; the UI reads from short-lived worker
    threads. Connections are tracked weakly: when a worker thread ends, its
    thread-local connection is freed (and closed) as usual; `close_all` closes the ones
    still alive, from any thread (hence ``check_same_thread=False``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._all_conns: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._conns_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        with self._conns_lock:
            self._all_conns.add(conn)
        return conn

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


def _make_db(path: Path, new_file: bool) -> _TrackingSqlite:
    pragmas: list[tuple[str, object]] = [("busy_timeout", BUSY_TIMEOUT_MS)]
    if new_file:
        pragmas.append(("page_size", 8192))  # 12% faster bulk load, 1/3 smaller (BASELINES d)
    pragmas += [("journal_mode", "wal"), ("synchronous", 1), ("foreign_keys", 1)]
    return _TrackingSqlite(
        str(path),
        pragmas=pragmas,
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        factory=_Conn,
    )


def _one_line(text: object) -> str:
    return one_line(str(text), limit=500) or type(text).__name__


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
            raise _Trouble(_one_line(exc), busy=False) from None
        _tighten(path)


def _open_checked(
    path: Path,
    models: Iterable[type[_Base]],
    app_id: int,
    version: int,
    on_create: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[_TrackingSqlite, dict[str, Any]]:
    """Open `path`, run quick_check, verify it is ours and of `version`; create if new.

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
        found_app = db.execute_sql("PRAGMA application_id").fetchone()[0]
        found_version = db.execute_sql("PRAGMA user_version").fetchone()[0]
        tables = db.get_tables()
        bound = _bound_models(db, models)
        if not tables and found_app == 0:
            with db.atomic("IMMEDIATE"):
                # Re-check under the write lock: another process may have created it.
                if not db.get_tables():
                    db.create_tables(list(bound.values()))
                    db.execute_sql(f"PRAGMA application_id = {int(app_id)}")
                    db.execute_sql(f"PRAGMA user_version = {int(version)}")
                    if on_create is not None:
                        on_create(bound)
            found_app = db.execute_sql("PRAGMA application_id").fetchone()[0]
            found_version = db.execute_sql("PRAGMA user_version").fetchone()[0]
        if found_app != app_id:
            raise _Unusable("not an rfctui file")
        if found_version > version:
            raise _Newer(found_version, version)
        if found_version != version:
            raise _Unusable(f"schema version {found_version}, expected {version}")
        missing = {m._meta.table_name for m in bound.values()} - set(db.get_tables())
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


class _Unusable(Exception):
    """Internal: the file must be moved aside (the message is the one-line reason)."""


class _Newer(_Unusable):
    """Internal: the file is ours but from a newer rfctui (a higher schema version)."""

    def __init__(self, found: int, ours: int) -> None:
        super().__init__(f"schema version {found}, expected {ours}")
        self.found, self.ours = found, ours


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
    reason = _one_line(exc)
    low = reason.lower()
    if any(m in low for m in _BAD_CONTENT):
        return _Unusable(reason)
    return _Trouble(reason, busy="locked" in low or "busy" in low)


def _open_or_replace(
    path: str | os.PathLike[str],
    what: str,
    models: Iterable[type[_Base]],
    app_id: int,
    version: int,
    rebuilt: str,
    clock: Callable[[], datetime],
    on_create: Callable[[dict[str, Any]], None] | None = None,
    *,
    keep_on_trouble: bool = False,
    repair: bool = True,
    keep_newer: bool = False,
) -> tuple[Path, _TrackingSqlite, dict[str, Any], str | None]:
    """Open, or move a bad file aside and create a new one (the notice says so).

    Busy/locked is never a reason to move a file aside (another process holds it).
    `keep_on_trouble`: permission and I/O errors raise `CacheError` too, leaving the
    file where it is (the actions log: it cannot be rebuilt). `repair=False`: a bad
    file raises `CacheError` instead of being moved aside (read-only users).
    `keep_newer`: a file from a newer rfctui raises `CacheError` and is left in place
    (this version cannot read it, and moving it aside would hide it from the newer one).
    Files are ``0600`` in a ``0700`` directory (§11).
    """
    p = Path(path).expanduser()
    try:
        private_dir(p.parent)
    except OSError as exc:
        raise CacheError(f"cannot create {p.parent}: {_one_line(exc)}") from None
    models = tuple(models)
    try:
        _make_private(p)
        db, bound = _open_checked(p, models, app_id, version, on_create)
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
    if not repair:
        raise CacheError(f"the {what} at {p} is unreadable ({reason}); it was left as it is")
    try:
        aside = _move_aside(p, clock())
    except OSError as exc:
        raise CacheError(
            f"{what} at {p} is unusable ({reason}) and cannot be moved aside: {_one_line(exc)}"
        ) from None
    try:
        _make_private(p)
        db, bound = _open_checked(p, models, app_id, version, on_create)
    except (_Unusable, _Trouble) as exc:
        raise CacheError(f"cannot create a new {what} at {p}: {exc}") from None
    notice = f"{what} at {p} was unreadable ({reason}); moved aside to {aside} and {rebuilt}"
    return p, db, bound, _one_line(notice)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- the cache


def open_cache(
    path: str | os.PathLike[str], *, clock: Callable[[], datetime] | None = None
) -> Cache:
    """Open (or create) the cache at `path` (§4.2).

    A file that is not SQLite, fails ``PRAGMA quick_check``, is not ours, has another
    schema version or cannot be opened is moved aside to ``<name>.corrupt-<timestamp>``
    (kept, never deleted) and a fresh cache is created; ``cache.notice`` then holds one
    line saying so, for the UI's status line or the CLI's stderr.
    """
    clock = clock or _utcnow

    def init_state(bound: dict[str, Any]) -> None:
        bound["SyncState"].insert(key="schema_version", value=str(SCHEMA_VERSION)).execute()

    p, db, bound, notice = _open_or_replace(
        path, "cache", _CACHE_MODELS, CACHE_APP_ID, SCHEMA_VERSION,
        "started an empty cache (the next sync rebuilds it from Gitea)", clock, init_state,
    )
    return Cache(p, db, bound, notice, clock)


class Cache:
    """An open cache file: the read API for the UI and the write API for the reconciler.

    Methods are safe to call from any thread (one connection per thread). Writes are
    only made by `rfctui.cache.Reconciler` inside `write()`.
    """

    def __init__(
        self,
        path: Path,
        db: _TrackingSqlite,
        models: dict[str, Any],
        notice: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.path = path
        self.db = db
        self.CachedRFC = models["CachedRFC"]
        self.CachedPR = models["CachedPR"]
        self.SyncState = models["SyncState"]
        self.notice = notice
        self.clock = clock
        self._json_memo: dict[str, tuple[str, ...]] = {}

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r})"

    def close(self) -> None:
        """Close every thread's connection (call when no worker is using the cache)."""
        self.db.close_all()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writing (reconciler)

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction, lock taken up front (``BEGIN IMMEDIATE``).

        Everything inside commits together or not at all: readers see the cache before
        or after, never in between (§4.1). Waits up to the busy timeout for another
        process's writer instead of failing with "database is locked".
        """
        with self.db.atomic("IMMEDIATE"):
            yield

    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = (
            self.SyncState.select(self.SyncState.value)
            .where(self.SyncState.key == key)
            .tuples()
            .first()
        )
        return default if row is None or row[0] is None else row[0]

    def state(self) -> dict[str, str | None]:
        """All sync-state keys at once (one query; `Reader.state`)."""
        return self.reader().state()

    def set_state(self, values: Mapping[str, object]) -> None:
        """Upsert sync-state keys; None deletes nothing, it stores NULL. Use inside write()."""
        rows = [
            {"key": k, "value": None if v is None else (v if isinstance(v, str) else _dumps(v))}
            for k, v in values.items()
        ]
        if rows:
            self.SyncState.insert_many(rows).on_conflict_replace().execute()

    def rfc_index(self) -> dict[str, tuple[str, bool, str, datetime | None]]:
        """slug -> (body_sha, removed, state, state_since): what a sweep diffs against."""
        m = self.CachedRFC
        return {
            slug: (sha, bool(removed), state, since)
            for slug, sha, removed, state, since in m.select(
                m.slug, m.body_sha, m.removed, m.state, m.state_since
            ).tuples()
        }

    def pr_index(self) -> dict[int, tuple[datetime | None, str, str, str]]:
        """pr_number -> (updated_at, state, rfc_slug, opened_by) for this cache's PRs."""
        m = self.CachedPR
        return {
            n: (upd, state, slug, by)
            for n, upd, state, slug, by in m.select(
                m.pr_number, m.updated_at, m.state, m.rfc_slug, m.opened_by
            ).tuples()
        }

    def pr_rows(self, numbers: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
        """Full stored PR rows (as column dicts) by number; all of them when numbers=None."""
        m = self.CachedPR
        query = m.select()
        if numbers is not None:
            nums = list(numbers)
            if not nums:
                return {}
            query = query.where(m.pr_number.in_(nums))
        return {row["pr_number"]: row for row in query.dicts()}

    def upsert_rfcs(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace entry rows (keyed by slug). Use inside write()."""
        return self._upsert(self.CachedRFC, rows, self.CachedRFC.slug)

    def upsert_prs(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace PR rows (keyed by (repo, pr_number)). Use inside write()."""
        return self._upsert(self.CachedPR, rows, None)

    def _upsert(self, model: Any, rows: Iterable[Mapping[str, Any]], _key: Any) -> int:
        batch: list[dict[str, Any]] = []
        n = 0
        for row in rows:
            clean = {k: v for k, v in row.items() if k != "id"}
            batch.append(clean)
            if len(batch) >= 200:
                model.insert_many(batch).on_conflict_replace().execute()
                n += len(batch)
                batch = []
        if batch:
            model.insert_many(batch).on_conflict_replace().execute()
            n += len(batch)
        return n

    def set_removed(self, slugs: Iterable[str], removed: bool = True) -> int:
        """Flag entries deleted from main (kept, §4.1). Use inside write()."""
        m = self.CachedRFC
        wanted = list(slugs)
        n = 0
        for i in range(0, len(wanted), 500):
            n += (
                m.update(removed=removed, updated_at=self.clock())
                .where(m.slug.in_(wanted[i : i + 500]))
                .execute()
            )
        return n

    def delete_prs(self, numbers: Iterable[int]) -> int:
        """Drop PR rows that no longer exist in Gitea (a deleted PR). Use inside write()."""
        m = self.CachedPR
        wanted = list(numbers)
        n = 0
        for i in range(0, len(wanted), 500):
            n += m.delete().where(m.pr_number.in_(wanted[i : i + 500])).execute()
        return n

    def clear(self) -> None:
        """Empty entries, PRs and watermarks (keeps schema_version). Use inside write()."""
        self.CachedRFC.delete().execute()
        self.CachedPR.delete().execute()
        self.SyncState.delete().where(self.SyncState.key != "schema_version").execute()

    # ------------------------------------------------------------ reading (UI)
    # The queries live in `rfctui.rows` (peewee-free, so the UI's start-up can use them
    # before this module is imported); here they run on this thread's connection.

    def reader(self) -> Reader:
        """The read API (`rfctui.rows.Reader`) on this thread's connection."""
        return Reader(self.db.connection(), self.clock, self._json_memo)

    def list_items(
        self, now: datetime | None = None, stale_days: int | float = 60
    ) -> list[ListItem]:
        """Every left-pane item (`Reader.list_items`)."""
        return self.reader().list_items(now, stale_days)

    def list_head(
        self,
        state_order: Iterable[str],
        limit: int,
        now: datetime | None = None,
        stale_days: int | float = 60,
    ) -> ListHead:
        """The left pane's first screen (`Reader.list_head`)."""
        return self.reader().list_head(state_order, limit, now, stale_days)

    def pulls_for(self, slug: str) -> list[PRRow]:
        """Every cached PR for `slug` (`Reader.pulls_for`)."""
        return self.reader().pulls_for(slug)

    def rfc(self, slug: str) -> RFCDetail | None:
        """One entry's right pane (`Reader.rfc`)."""
        return self.reader().rfc(slug)

    def pull(self, number: int) -> PRRow | None:
        """One cached PR by number (`Reader.pull`)."""
        return self.reader().pull(number)

    def sync_status(self) -> SyncStatus:
        """What the status line shows (`Reader.sync_status`)."""
        return self.reader().sync_status()

    def export(self, volatile: bool = True) -> dict[str, Any]:
        """The whole cache as JSON-able data (``rfctui --export json``); no network.

        ``{"schema": 1, "synced_at": ..., "rfcs": [...], "pulls": [...]}`` with every
        column (datetimes as RFC 3339 UTC text, lists/extra as JSON values), entries by
        slug and PRs by number. `volatile=False` drops what depends on *when* this cache
        observed Gitea rather than on Gitea itself: see `comparable_export`.
        """
        rfcs = []
        m = self.CachedRFC
        for row in m.select().order_by(m.slug).dicts():
            row.pop("id", None)
            row.pop("search_text", None)  # derived from slug/title/body
            rfcs.append({k: _jsonable(v) for k, v in row.items()})
        pulls = []
        pr = self.CachedPR
        for row in pr.select().order_by(pr.repo, pr.pr_number).dicts():
            row.pop("id", None)
            pulls.append({k: _jsonable(v) for k, v in row.items()})
        data = {
            "schema": EXPORT_SCHEMA,
            "synced_at": format_dt(parse_dt(self.get_state("synced_at"))),
            "rfcs": rfcs,
            "pulls": pulls,
        }
        return data if volatile else comparable_export(data)

def comparable_export(data: Mapping[str, Any]) -> dict[str, Any]:
    """An export reduced to what any correct cache of the same Gitea state must agree on.

    Dropped: `synced_at`; per entry `updated_at` (local write time) and `state_since`
    (observed by sweeps, so a cold rebuild cannot reproduce a state change it never
    saw); entries flagged `removed` (a cold rebuild never sees deleted files). Compare
    ``comparable_export(a.export()) == comparable_export(b.export())`` to check that
    an incremental history and a ``--resync`` agree.
    """
    rfcs = [
        {k: v for k, v in row.items() if k not in ("updated_at", "state_since")}
        for row in data.get("rfcs", [])
        if not row.get("removed")
    ]
    return {"schema": data.get("schema"), "rfcs": rfcs, "pulls": list(data.get("pulls", []))}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_dt(value)
    return value


# ---------------------------------------------------------------- the actions log (§6.4)


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One §6.4 action as stored: the full payload the user typed, and its outcome."""

    id: int
    kind: str
    slug: str
    on_behalf_of: str
    payload: dict[str, Any]
    status: str  # pending | done | failed | discarded
    error: str | None
    pr_number: int | None
    pr_url: str | None
    created_at: datetime | None
    updated_at: datetime | None


_SECRET_KEYS = ("token", "password", "secret", "authorization")


def _check_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse anything that looks like a credential: the log must never hold tokens."""

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if any(s in str(k).lower() for s in _SECRET_KEYS):
                    raise ValueError(f"actions log payload must not hold credentials ({k!r})")
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif type(value).__name__ == "Secret":
            raise ValueError("actions log payload must not hold a Secret")

    walk(payload)
    return dict(payload)


def open_actions(
    path: str | os.PathLike[str],
    *,
    clock: Callable[[], datetime] | None = None,
    repair: bool = True,
) -> ActionsLog:
    """Open (or create) the actions log at `path` (WAL, busy timeout, like the cache).

    The log is the outbox (§6.4) and cannot be rebuilt from Gitea. Only a file that is
    provably bad (fails quick_check, is not SQLite, is another program's file, or has
    an older schema version) is moved aside — kept for manual recovery, never deleted —
    and then `ActionsLog.notice` says so in one line: show it. A log from a newer
    rfctui (a higher schema version) raises `CacheError` and stays where it is. A busy, locked,
    unreadable-for-permissions or I/O-failing file raises `CacheError` and is left as
    it is. `repair=False` (readers such as ``--sync``, which only use the log to
    attribute PRs) never moves it aside: a bad file raises `CacheError`.
    """
    clock = clock or _utcnow
    p, db, bound, notice = _open_or_replace(
        path, "actions log", (Action,), _ACTIONS_APP_ID, ACTIONS_SCHEMA_VERSION,
        "started a new, empty log (the old one is kept there)", clock,
        keep_on_trouble=True, repair=repair, keep_newer=True,
    )
    return ActionsLog(p, db, bound["Action"], notice, clock)


class ActionsLog:
    """The §6.4 audit trail and outbox. Rows are written before the first Gitea call."""

    def __init__(
        self,
        path: Path,
        db: _TrackingSqlite,
        model: Any,
        notice: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.path = path
        self.db = db
        self.Action = model
        self.notice = notice
        self.clock = clock

    def __repr__(self) -> str:
        return f"ActionsLog({str(self.path)!r})"

    def close(self) -> None:
        self.db.close_all()

    def __enter__(self) -> ActionsLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self, kind: str, slug: str, on_behalf_of: str, payload: Mapping[str, Any]
    ) -> int:
        """Record an action as `pending` and return its id (before any Gitea call)."""
        from rfctui.entry import validate_slug

        if kind not in ACTION_KINDS:
            raise ValueError(f"unknown action kind {kind!r}; expected one of {ACTION_KINDS}")
        validate_slug(slug)
        now = self.clock()
        with self.db.atomic("IMMEDIATE"):
            return int(
                self.Action.insert(
                    kind=kind,
                    slug=slug,
                    on_behalf_of=on_behalf_of,
                    payload=_check_payload(payload),
                    status="pending",
                    created_at=now,
                    updated_at=now,
                ).execute()
            )

    def _update(self, action_id: int, **values: Any) -> None:
        with self.db.atomic("IMMEDIATE"):
            n = (
                self.Action.update(updated_at=self.clock(), **values)
                .where(self.Action.id == action_id)
                .execute()
            )
        if not n:
            raise KeyError(f"no action {action_id}")

    def mark_done(self, action_id: int, pr_number: int, pr_url: str | None = None) -> None:
        """The PR exists: remember its number (the §6.3 opened_by lookup uses it)."""
        self._update(action_id, status="done", pr_number=pr_number, pr_url=pr_url, error=None)

    def mark_failed(self, action_id: int, error: str) -> None:
        """Keep the payload for a retry; `error` is stored as one line."""
        self._update(action_id, status="failed", error=_one_line(error))

    def mark_pending(self, action_id: int) -> None:
        """Back to pending (a retry is starting)."""
        self._update(action_id, status="pending", error=None)

    def set_actor(self, action_id: int, login: str, full_name: str) -> None:
        """Name the person of an action saved before anyone could be verified (Gitea
        was unreachable): its retry verified them. Only a row with nobody in it."""
        a = self.Action
        with self.db.atomic("IMMEDIATE"):
            row = a.get_or_none(a.id == action_id)
            if row is None:
                raise KeyError(f"no action {action_id}")
            if row.on_behalf_of:
                raise ActionStateError(
                    f"action #{action_id} is already on behalf of {row.on_behalf_of}"
                )
            payload = {**dict(row.payload or {}), "actor": {"login": login, "full_name": full_name}}
            a.update(on_behalf_of=login, payload=payload, updated_at=self.clock()).where(
                a.id == action_id
            ).execute()

    def discard(self, action_id: int) -> None:
        """The user gave up on a pending or failed action: kept for audit, not offered.

        A done action is refused (`ActionStateError`): its row is what attributes the
        PR to the real person (§6.3). Discarding a discarded action does nothing.
        """
        a = self.Action
        with self.db.atomic("IMMEDIATE"):
            row = a.select(a.status, a.pr_number).where(a.id == action_id).tuples().first()
            if row is None:
                raise KeyError(f"no action {action_id}")
            status, pr_number = row
            if status == "discarded":
                return
            if status not in ("pending", "failed"):
                pr = f" (PR #{pr_number})" if pr_number is not None else ""
                raise ActionStateError(
                    f"action #{action_id} is {status}{pr}: only pending or failed actions "
                    "can be discarded"
                )
            a.update(status="discarded", updated_at=self.clock()).where(
                a.id == action_id
            ).execute()

    def get(self, action_id: int) -> ActionRow | None:
        row = self.Action.get_or_none(self.Action.id == action_id)
        return _action_row(row) if row is not None else None

    def _by_status(self, status: str | None) -> list[ActionRow]:
        q = self.Action.select().order_by(self.Action.id)
        if status is not None:
            q = q.where(self.Action.status == status)
        return [_action_row(r) for r in q]

    def pending(self) -> list[ActionRow]:
        return self._by_status("pending")

    def failed(self) -> list[ActionRow]:
        return self._by_status("failed")

    def all(self) -> list[ActionRow]:
        return self._by_status(None)

    def find_pr_actor(self, slug: str, pr_number: int) -> str | None:
        """Who the bot opened PR `pr_number` for `slug` on behalf of (§6.3), if we did."""
        a = self.Action
        row = (
            a.select(a.on_behalf_of)
            .where((a.slug == slug) & (a.pr_number == pr_number) & (a.status == "done"))
            .order_by(a.id.desc())
            .tuples()
            .first()
        )
        return row[0] if row else None

    def actors(self) -> dict[tuple[str, int], str]:
        """(slug, pr_number) -> on_behalf_of for every done action (one query per sweep)."""
        a = self.Action
        out: dict[tuple[str, int], str] = {}
        for slug, number, who in (
            a.select(a.slug, a.pr_number, a.on_behalf_of)
            .where((a.status == "done") & a.pr_number.is_null(False))
            .order_by(a.id)
            .tuples()
        ):
            out[(slug, number)] = who
        return out


def _action_row(r: Any) -> ActionRow:
    return ActionRow(
        id=r.id,
        kind=r.kind,
        slug=r.slug,
        on_behalf_of=r.on_behalf_of,
        payload=dict(r.payload or {}),
        status=r.status,
        error=r.error,
        pr_number=r.pr_number,
        pr_url=r.pr_url,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
