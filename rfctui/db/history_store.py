"""The cache side of an entry's history (issue 11 §2, issue 12 §2): what `rfctui.history`
reads before it asks Gitea and writes after, and what a sweep notes when it sees a state
change. Plain functions over an open `Cache` (its ``EntryCommit`` / ``EntryHistory``
models); each write is its own small transaction, apart from the sweep's.

*Exact* time in state: an entry's ``state_since`` is exact when its `EntryHistory` row
says the entry entered that same state at that same time — written by the history walk
or by a sweep that observed the change. Anything else (a cold resync's last-commit
time) is an estimate the walk replaces.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import peewee as pw

from rfctui.db.schema import dict_rows, tuple_rows
from rfctui.rows import K_GEN, TERMINAL_STATES, format_dt, parse_dt

if TYPE_CHECKING:
    from rfctui.db.cache import Cache

__all__ = [
    "HistoryTask",
    "HistoryWrite",
    "StoredCommit",
    "exact_slugs",
    "history_tasks",
    "note_state_changes",
    "stored_commits",
    "write_history",
]

_CHUNK = 400  # slugs per IN (...) (SQLite's variable limit)


@dataclass(frozen=True, slots=True)
class StoredCommit:
    """One `EntryCommit` row (newest first in every list here)."""

    sha: str
    at: datetime | None
    author_login: str | None = None
    author_name: str | None = None
    committer_login: str | None = None
    message: str = ""
    state_after: str | None = None  # the entry's state in the file at this commit
    read: bool = False  # the file was read at this commit (state_after None: absent/bad)

    def row(self, slug: str, pos: int) -> dict[str, Any]:
        return {
            "slug": slug, "pos": pos, "sha": self.sha, "at": self.at,
            "author_login": self.author_login, "author_name": self.author_name,
            "committer_login": self.committer_login, "message": self.message,
            "state_after": self.state_after, "read": self.read,
        }


@dataclass(frozen=True, slots=True)
class HistoryTask:
    """An entry whose time in state is not exact yet, or whose commit list is stale."""

    slug: str
    path: str
    state: str
    state_since: datetime | None
    last_commit_sha: str | None
    head_sha: str | None  # newest commit of the stored list (None: none stored)


@dataclass(frozen=True, slots=True)
class HistoryWrite:
    """What one entry's walk found. `commits` None: the stored list is unchanged.

    `done`: the walk finished for `head_sha` (`state` entered at `since`); not done
    (a request failed) keeps the previous ``state_since`` and is retried next run.
    """

    slug: str
    head_sha: str | None
    commits: Sequence[StoredCommit] | None
    done: bool
    state: str | None = None
    since: datetime | None = None
    expect_commit: str | None = None  # the cached row's last_commit_sha it was built for


def history_tasks(
    cache: Cache,
    slugs: Collection[str] | None = None,
    *,
    all_states: bool = False,
) -> list[HistoryTask]:
    """Entries that need the history walk, by slug (one query, no network).

    An entry needs it when it is live, in a state that can go stale (not one of
    `rows.TERMINAL_STATES`; every state with `all_states`), and its history is not
    finished for its current last commit, or its ``state_since`` is not the exact one
    found then (a resync rebuilt the row: re-applied without a request). `slugs`
    limits the candidates.
    """
    r, h = cache.CachedRFC, cache.EntryHistory
    query = (
        r.select(r.slug, r.path, r.state, r.state_since, r.last_commit_sha,
                 h.head_sha, h.done_sha, h.state.alias("h_state"), h.since)
        .join(h, on=(h.slug == r.slug), join_type=pw.JOIN.LEFT_OUTER)
        .where(r.removed == False)  # noqa: E712
        .order_by(r.slug)
    )
    if not all_states:
        query = query.where(r.state.not_in(sorted(TERMINAL_STATES)))
    wanted = set(slugs) if slugs is not None else None
    out: list[HistoryTask] = []
    for slug, path, state, since, last, head, done, h_state, h_since in tuple_rows(query):
        if wanted is not None and slug not in wanted:
            continue
        since_dt = parse_dt(since) if isinstance(since, str) else since
        h_since_dt = parse_dt(h_since) if isinstance(h_since, str) else h_since
        finished = done is not None and (last is None or done == last)
        if finished and h_state == state and h_since_dt == since_dt:
            continue
        out.append(HistoryTask(slug, str(path), str(state), since_dt, last, head))
    return out


def stored_commits(cache: Cache, slugs: Iterable[str]) -> dict[str, list[StoredCommit]]:
    """The stored commit list of each slug, newest first (entries without one: absent).

    This is the list the timeline (issue 12 §2) reads too: fetched once, offline after.
    """
    m = cache.EntryCommit
    out: dict[str, list[StoredCommit]] = {}
    wanted = list(dict.fromkeys(slugs))
    for i in range(0, len(wanted), _CHUNK):
        query = (
            m.select().where(m.slug.in_(wanted[i : i + _CHUNK])).order_by(m.slug, m.pos)
        )
        for row in dict_rows(query):
            out.setdefault(row["slug"], []).append(StoredCommit(
                sha=row["sha"], at=row["at"], author_login=row["author_login"],
                author_name=row["author_name"], committer_login=row["committer_login"],
                message=row["message"] or "", state_after=row["state_after"],
                read=bool(row["read"]),
            ))
    return out


def write_history(
    cache: Cache, writes: Sequence[HistoryWrite], now: datetime
) -> int:
    """Store a batch of walks in ONE small transaction; returns the rows whose
    ``state_since`` changed.

    ``state_since`` is set only where the cached row is still the one the walk was for
    (same state and last commit): a sweep that wrote in between wins, and the next run
    walks again. A changed row bumps the cache generation, so a sweep gathered before
    this write gathers again instead of writing the old estimate back.
    """
    if not writes:
        return 0
    r, h, c = cache.CachedRFC, cache.EntryHistory, cache.EntryCommit
    changed = 0
    with cache.write():
        for w in writes:
            if w.commits is not None:
                c.delete().where(c.slug == w.slug).execute()
                rows = [commit.row(w.slug, pos) for pos, commit in enumerate(w.commits)]
                for i in range(0, len(rows), 80):
                    c.insert_many(rows[i : i + 80]).execute()
            values: dict[str, Any] = {"slug": w.slug, "fetched_at": now}
            if w.commits is not None:
                values["head_sha"] = w.head_sha
            if w.done:
                values.update(done_sha=w.head_sha, state=w.state, since=w.since)
            update = {k: v for k, v in values.items() if k != "slug"}
            (h.insert(**values)
             .on_conflict(conflict_target=[h.slug], update=update)
             .execute())
            if w.done and w.since is not None and w.state is not None:
                cond = (r.slug == w.slug) & (r.state == w.state) & (r.removed == False)  # noqa: E712
                if w.expect_commit is not None:
                    cond &= r.last_commit_sha == w.expect_commit
                cond &= r.state_since.is_null() | (r.state_since != format_dt(w.since))
                changed += int(r.update(state_since=w.since).where(cond).execute())
        if changed:
            stored = cache.get_state(K_GEN)
            gen = int(stored) + 1 if stored is not None and stored.isdigit() else 1
            cache.set_state({K_GEN: str(gen)})
    return changed


def note_state_changes(cache: Cache, rows: Iterable[Mapping[str, Any]]) -> int:
    """A sweep saw these entry rows; where the stored state differs, the row's
    ``state_since`` is the observed change: remember it as exact. Call inside the
    sweep's write transaction, BEFORE its upsert (it compares with the stored rows).

    The stored commit list (if any) is kept: it is refreshed later because the
    entry's last commit moved.
    """
    by_slug = {str(row["slug"]): row for row in rows if row.get("state_since") is not None}
    if not by_slug:
        return 0
    r, h = cache.CachedRFC, cache.EntryHistory
    slugs = list(by_slug)
    old: dict[str, str] = {}
    for i in range(0, len(slugs), _CHUNK):
        query = r.select(r.slug, r.state).where(r.slug.in_(slugs[i : i + _CHUNK]))
        old.update({slug: state for slug, state in tuple_rows(query)})
    n = 0
    for slug, row in by_slug.items():
        if slug not in old or old[slug] == row.get("state"):
            continue
        values = {"state": row.get("state"), "since": row.get("state_since")}
        (h.insert(slug=slug, **values)
         .on_conflict(conflict_target=[h.slug], update=values)
         .execute())
        n += 1
    return n


def exact_slugs(cache: Cache) -> set[str]:
    """Slugs whose cached ``state_since`` is exact (the module docstring)."""
    r, h = cache.CachedRFC, cache.EntryHistory
    query = (
        r.select(r.slug)
        .join(h, on=((h.slug == r.slug) & (h.state == r.state) & (h.since == r.state_since)))
    )
    return {slug for (slug,) in tuple_rows(query)}

