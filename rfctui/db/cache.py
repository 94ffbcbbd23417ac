"""The per-user SQLite cache (SPEC §4.2): a mirror of Gitea (§4.0), thrown away at will.

The reconciler (`rfctui.reconcile`) is its only writer (§4.1); the UI only reads it,
through the peewee-free queries of `rfctui.rows`. Each `Cache` owns its own
`peewee.SqliteDatabase` and its own model classes bound to it (`schema.BoundModels`),
so several caches can be open in one process (tests compare two). How the file is
opened, checked and repaired: `rfctui.db.files`. No token ever reaches the file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import peewee as pw

from rfctui.db.bulk import replace_rows
from rfctui.db.files import TrackingSqlite, open_or_replace, utcnow
from rfctui.db.schema import (
    CACHE_MODELS,
    Base,
    BoundModels,
    CachedPR,
    CachedRFC,
    EntryCommit,
    EntryHistory,
    HeadFile,
    SyncState,
    dict_rows,
    dumps,
    tuple_rows,
)
from rfctui.rows import (
    CACHE_APP_ID,
    SCHEMA_VERSION,
    ListHead,
    ListItem,
    PRRow,
    Reader,
    RFCDetail,
    SyncStatus,
    _Missing,
    format_dt,
    parse_dt,
)

__all__ = ["EXPORT_SCHEMA", "Cache", "comparable_export", "migrate_cache", "open_cache"]

EXPORT_SCHEMA = 1


def open_cache(
    path: str | os.PathLike[str], *, clock: Callable[[], datetime] | None = None
) -> Cache:
    """Open (or create) the cache at `path` (§4.2).

    A file that is not SQLite, fails ``PRAGMA quick_check``, is not ours, has another
    schema version or cannot be opened is moved aside to ``<name>.corrupt-<timestamp>``
    (kept, never deleted) and a fresh cache is created; ``cache.notice`` then holds one
    line saying so, for the UI's status line or the CLI's stderr.
    """
    clock = clock or utcnow

    def init_state(bound: BoundModels) -> None:
        bound[SyncState].insert(key="schema_version", value=str(SCHEMA_VERSION)).execute()

    created = not Path(path).expanduser().exists()
    p, db, bound, notice = open_or_replace(
        path, "cache", CACHE_MODELS, CACHE_APP_ID, SCHEMA_VERSION,
        "started an empty cache (the next sync rebuilds it from Gitea)", clock, init_state,
        migrate=migrate_cache,
    )
    cache = Cache(p, db, bound, notice, clock)
    cache.created = created
    return cache


def migrate_cache(db: TrackingSqlite, found: int) -> bool:
    """Upgrade a cache of schema version 3 in place (False: no migration from `found`).

    3 -> 4 drops ``cached_rfc.search_text`` (issue 13), keeping every row, the time in
    state and the fetched histories that a rebuild would have to read from Gitea again.
    The freed pages are reused by later writes (no VACUUM: it would rewrite the file).
    One transaction, re-checked under the write lock (another process may have done it).
    """
    if found != 3:
        return False
    with db.atomic("IMMEDIATE"):
        if db.int_pragma("user_version") == 3:
            columns = {str(r[1]) for r in db.run("PRAGMA table_info(cached_rfc)").fetchall()}
            if "search_text" in columns:
                db.run("ALTER TABLE cached_rfc DROP COLUMN search_text")
            db.run(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")
            db.execute_sql(  # type: ignore[no-untyped-call]
                "UPDATE sync_state SET value = ? WHERE key = 'schema_version'",
                (str(SCHEMA_VERSION),),
            )
    return True


class Cache:
    """An open cache file: the read API for the UI and the write API for the reconciler.

    Methods are safe to call from any thread (one connection per thread). Writes are
    only made by `rfctui.reconcile.Reconciler` inside `write()`.
    """

    def __init__(
        self,
        path: Path,
        db: TrackingSqlite,
        models: BoundModels,
        notice: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.path = path
        self.db = db
        self.CachedRFC = models[CachedRFC]
        self.CachedPR = models[CachedPR]
        self.SyncState = models[SyncState]
        self.HeadFile = models[HeadFile]
        self.EntryCommit = models[EntryCommit]  # rfctui.db.history_store
        self.EntryHistory = models[EntryHistory]
        self.notice = notice
        self.clock = clock
        self._json_memo: dict[str, tuple[str, ...]] = {}
        # This open created the file (`close_or_discard` may remove it again).
        self.created = False

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r})"

    def close(self) -> None:
        """Close every thread's connection (call when no worker is using the cache)."""
        self.db.close_all()

    def never_filled(self) -> bool:
        """No sweep ever succeeded here and no entry or PR was ever written."""
        return (self.get_state("synced_at") is None
                and not self.CachedRFC.select().exists()
                and not self.CachedPR.select().exists())

    def close_or_discard(self) -> bool:
        """Close; and when this open created the file and nothing was ever written to it
        (a first sweep against a target that never answered), remove it with its
        ``-wal``/``-shm`` so no empty cache is left behind (issue 14 §3). A cache that
        holds anything, or that existed before, is only closed. True if removed."""
        try:
            discard = self.created and self.never_filled()
        except Exception:  # noqa: BLE001 - unsure: keep the file
            discard = False
        self.close()
        if not discard:
            return False
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()
        return True

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
            {"key": k, "value": None if v is None else (v if isinstance(v, str) else dumps(v))}
            for k, v in values.items()
        ]
        if rows:
            self.SyncState.insert_many(rows).on_conflict_replace().execute()

    def rfc_index(self) -> dict[str, tuple[str, bool, str, datetime | None]]:
        """slug -> (body_sha, removed, state, state_since): what a sweep diffs against."""
        m = self.CachedRFC
        return {
            slug: (sha, bool(removed), state, since)
            for slug, sha, removed, state, since in tuple_rows(
                m.select(m.slug, m.body_sha, m.removed, m.state, m.state_since)
            )
        }

    def pr_index(self) -> dict[int, tuple[datetime | None, str, str, str]]:
        """pr_number -> (updated_at, state, rfc_slug, opened_by) for this cache's PRs."""
        m = self.CachedPR
        return {
            n: (upd, state, slug, by)
            for n, upd, state, slug, by in tuple_rows(
                m.select(m.pr_number, m.updated_at, m.state, m.rfc_slug, m.opened_by)
            )
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
        return {row["pr_number"]: row for row in dict_rows(query)}

    def upsert_rfcs(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Insert or replace entry rows (keyed by slug). Use inside write()."""
        return self._upsert(self.CachedRFC, rows)

    def upsert_prs(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Insert or replace PR rows (keyed by (repo, pr_number)). Use inside write()."""
        return self._upsert(self.CachedPR, rows)

    def _upsert(self, model: type[Base], rows: Iterable[Mapping[str, object]]) -> int:
        """Insert-or-replace (the unique index is the key) with one ``executemany`` on
        this thread's connection (`rfctui.db.bulk`: no per-row ORM work, issue 13)."""
        return replace_rows(self.db.sqlite_connection(), model, rows)

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

    def pending_heads(self) -> list[tuple[int, str, str]]:
        """(pr_number, head_sha, rfc_slug) of every OPEN PR whose head has no head_file
        row yet: what the reconciler fetches after a sweep (one SQL query, no network).
        Closed and merged PRs are never fetched for (their rows, if any, are kept)."""
        pr, hf = self.CachedPR, self.HeadFile
        query = (
            pr.select(pr.pr_number, pr.head_sha, pr.rfc_slug)
            .join(hf, pw.JOIN.LEFT_OUTER,
                  on=(hf.pr_number == pr.pr_number) & (hf.head_sha == pr.head_sha))
            .where((pr.state == "open") & pr.head_sha.is_null(False) & (pr.head_sha != "")
                   & hf.pr_number.is_null())
            .order_by(pr.pr_number)
        )
        return [(int(n), str(sha), str(slug)) for n, sha, slug in tuple_rows(query)]

    def put_heads(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Insert or replace head_file rows (pr_number, head_sha, path, text, fetched_at).
        Use inside write()."""
        return self._upsert(self.HeadFile, rows)

    def prune_heads(self) -> int:
        """Drop head_file rows no cached PR points at any more (a head that moved, a
        deleted PR): one row per PR stays, its current head's. Use inside write()."""
        hf, pr = self.HeadFile, self.CachedPR
        current = pr.select(pr.pr_number).where(
            (pr.pr_number == hf.pr_number) & (pr.head_sha == hf.head_sha)
        )
        return int(hf.delete().where(~pw.fn.EXISTS(current)).execute())

    def head_text(
        self, pr_number: int, head_sha: str
    ) -> str | None | Literal[_Missing.MISSING]:
        """The entry file at one PR head (`Reader.head_text`; `MISSING`: not fetched)."""
        return self.reader().head_text(pr_number, head_sha)

    def head_texts(self) -> dict[int, tuple[str, str | None]]:
        """pr_number -> (head_sha, text|None) at every PR's current head (`Reader.head_texts`)."""
        return self.reader().head_texts()

    def team_file(self) -> str | None:
        """The team file's text (`Reader.team_file`); parse with `rfctui.teamfile`."""
        return self.reader().team_file()

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
        return Reader(self.db.sqlite_connection(), self.clock, self._json_memo)

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
        for row in dict_rows(m.select().order_by(m.slug)):
            row.pop("id", None)
            rfcs.append({k: _jsonable(v) for k, v in row.items()})
        pulls = []
        pr = self.CachedPR
        for row in dict_rows(pr.select().order_by(pr.repo, pr.pr_number)):
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


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return format_dt(value)
    return value
