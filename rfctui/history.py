"""True time in state: when an entry entered its current state, from ``main``'s history
(issue 11 §2; SPEC §9 measures staleness from it). Textual-free; the session runs it.

A cold ``--resync`` can only see each entry's *last* commit, so an entry parked in June
2025 with a typo fix last week would look parked "since last week". This module walks
the history instead, per entry whose state can go stale (`rfctui.rows.TERMINAL_STATES`
are where entries rest; every other state, unknown ones included, can go stale):

1. ``GET /repos/{o}/{r}/commits?sha=<last commit>&path=rfcs/<slug>.md`` (newest first,
   50 per page: Gitea ignores ``limit`` with ``path``; API-NOTES §4), every page — the
   list is kept (`rfctui.db.history_store`, table ``entry_commit``) for the timeline;
2. the file at older commits (``contents/<path>?ref=<sha>``), newest first, only until
   one is not in the current state (absent or malformed counts as "not this state");
3. ``state_since`` = committer time of the oldest commit of that newest run.

Cost per entry: 1 request for the list (+1 per further 50 commits) + k reads, where k
is the length of the newest run in the current state (the run's own commits after the
newest one, plus the commit before it). Nothing is asked again for an entry whose last
commit did not move: an entry is finished when its walk is done for its current last
commit, so a re-run after a kill continues with the rest and a finished entry costs 0
requests; a moved entry reuses the states it read before (commits are immutable).
A failed request keeps the previous ``state_since`` (counted in `HistoryResult.failed`
and said in `HistoryResult.error`) and that entry is walked again next run.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rfctui.db import Cache, parse_dt
from rfctui.db.history_store import (
    HistoryTask,
    HistoryWrite,
    StoredCommit,
    history_tasks,
    stored_commits,
    write_history,
)
from rfctui.entry import EntryError, InvalidSlug, parse_entry
from rfctui.gitea import GiteaClient, GiteaError, GiteaNotFound
from rfctui.results import Progress
from rfctui.text import one_line

__all__ = ["COMMITS_PAGE", "PHASE", "HistoryBackfill", "HistoryResult", "run_of_state"]

MAIN = "main"
COMMITS_PAGE = 50  # Gitea's fixed page size for commits with `path` (API-NOTES §4)
_MAX_PAGES = 400  # 20,000 commits on one entry: a runaway guard, not a real limit
PHASE = "reading history"  # the `Progress.phase` the status line shows
WRITE_BATCH = 50  # entries per cache transaction


@dataclass(frozen=True, slots=True)
class HistoryResult:
    """What one backfill did. `error`: the first failure in one line (None if none);
    failed entries keep their previous ``state_since`` and are retried next run."""

    entries_done: int
    requests: int
    failed: int
    seconds: float
    total: int = 0  # entries that needed the walk at the start
    error: str | None = None


class _Failed(Exception):
    """A request of one entry's walk failed: keep what was read, retry next run."""

    def __init__(self, message: str, commits: list[StoredCommit] | None) -> None:
        super().__init__(message)
        self.commits = commits


def run_of_state(states: Sequence[str | None], state: str) -> int | None:
    """Index (newest first) of the oldest commit of the newest run in `state`.

    `states[0]` is the newest commit's; None where it is not known yet (the walk
    reads it), "" where the file was absent or malformed. Returns None while an
    unknown state decides the answer, or when the newest commit is not in `state`.
    """
    last = None
    for i, s in enumerate(states):
        if s is None:
            return None
        if s != state:
            return last
        last = i
    return last


def _commit(item: Mapping[str, Any]) -> StoredCommit:
    """One item of ``GET /commits`` (API-NOTES §4) -> a stored commit, state unread."""
    inner = item.get("commit") if isinstance(item.get("commit"), Mapping) else {}
    assert isinstance(inner, Mapping)
    committer = inner.get("committer") if isinstance(inner.get("committer"), Mapping) else {}
    author = inner.get("author") if isinstance(inner.get("author"), Mapping) else {}
    assert isinstance(committer, Mapping) and isinstance(author, Mapping)

    def login(user: object) -> str | None:
        if isinstance(user, Mapping) and user.get("login"):
            return str(user["login"])
        return None

    return StoredCommit(
        sha=str(item.get("sha") or ""),
        at=parse_dt(str(committer.get("date") or "")) or parse_dt(str(author.get("date") or "")),
        author_login=login(item.get("author")),
        author_name=str(author["name"]) if author.get("name") else None,
        committer_login=login(item.get("committer")),
        message=str(inner.get("message") or ""),
    )


def _state_in(path: str, item: object) -> str | None:
    """The entry's state in a contents answer; None when absent, too large or malformed
    (any of which is "not this state")."""
    if not isinstance(item, Mapping) or item.get("content") is None:
        return None
    try:
        data = base64.b64decode(str(item["content"]))
        return parse_entry(path, data).state
    except (ValueError, TypeError, EntryError, InvalidSlug):
        return None


class HistoryBackfill:
    """Walks the history of the entries that need it (`history_tasks`) and stores the
    result; the session's ``backfill_history`` builds one per run.

    Entries are walked `client.max_concurrency` at a time (each walk is sequential:
    it stops as soon as it knows); results are written every `WRITE_BATCH` entries,
    each batch its own transaction, so a kill loses at most one batch of work.
    """

    def __init__(
        self,
        client: GiteaClient,
        cache: Cache,
        owner: str,
        repo: str,
        *,
        progress: Callable[[Progress], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.cache = cache
        self.owner = owner
        self.repo = repo
        self.progress = progress
        self.clock = clock or (lambda: datetime.now(UTC))

    async def run(
        self, slugs: Collection[str] | None = None, *, all_states: bool = False
    ) -> HistoryResult:
        """Walk every entry that needs it (or those of `slugs`); never raises for a
        Gitea or cache failure: the result says what went wrong, in one line."""
        t0 = time.monotonic()
        req0 = self.client.requests
        done = failed = total = 0
        first_error: str | None = None
        try:
            tasks = await asyncio.to_thread(
                history_tasks, self.cache, slugs, all_states=all_states
            )
            total = len(tasks)
            self._report(0, total)
            if tasks:
                known = await asyncio.to_thread(
                    stored_commits, self.cache, [t.slug for t in tasks if t.head_sha]
                )
                pending: list[HistoryWrite] = []
                lock = asyncio.Lock()
                queue = list(reversed(tasks))

                async def flush() -> None:
                    async with lock:
                        batch = pending[:]
                        del pending[: len(batch)]
                        if batch:
                            await asyncio.to_thread(
                                write_history, self.cache, batch, self.clock()
                            )

                async def worker() -> None:
                    nonlocal done, failed, first_error
                    while queue:
                        task = queue.pop()
                        try:
                            pending.append(await self._walk(task, known.get(task.slug, [])))
                            done += 1
                        except _Failed as exc:
                            failed += 1
                            first_error = first_error or f"{task.slug}: {exc}"
                            if exc.commits is not None:  # keep what was read
                                pending.append(HistoryWrite(
                                    task.slug, exc.commits[0].sha if exc.commits else None,
                                    exc.commits, done=False,
                                ))
                        self._report(done + failed, total)
                        if len(pending) >= WRITE_BATCH:
                            await flush()

                workers = min(self.client.max_concurrency, len(tasks))
                await asyncio.gather(*(worker() for _ in range(workers)))
                await flush()
        except Exception as exc:  # noqa: BLE001 - a background job never takes the UI down
            first_error = first_error or one_line(str(exc), 300) or type(exc).__name__
        return HistoryResult(
            entries_done=done, requests=self.client.requests - req0, failed=failed,
            seconds=time.monotonic() - t0, total=total,
            error=one_line(first_error, 300) if first_error else None,
        )

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            try:
                self.progress(Progress(PHASE, done, total))
            except Exception:  # noqa: BLE001 - a broken progress bar must not stop the walk
                pass

    async def _list(self, task: HistoryTask) -> list[StoredCommit]:
        """Every commit touching the entry, newest first, from its last cached commit."""
        ref = task.last_commit_sha or MAIN
        out: list[StoredCommit] = []
        for page in range(1, _MAX_PAGES + 1):
            items = await self.client.list_commits(
                self.owner, self.repo, sha=ref, path=task.path, page=page,
                limit=COMMITS_PAGE,
            )
            out.extend(_commit(i) for i in items if isinstance(i, Mapping) and i.get("sha"))
            if len(items) < COMMITS_PAGE:
                break
        return out

    async def _walk(self, task: HistoryTask, stored: list[StoredCommit]) -> HistoryWrite:
        fresh = not (stored and task.head_sha and stored[0].sha == task.head_sha
                     and (task.last_commit_sha is None or task.head_sha == task.last_commit_sha))
        commits: list[StoredCommit] | None = None
        try:
            if fresh:
                read_before = {c.sha: c for c in stored if c.read}
                listed = await self._list(task)
                commits = [
                    _with_state(c, read_before[c.sha]) if c.sha in read_before else c
                    for c in listed
                ]
            else:
                commits = list(stored)
            if not commits:
                raise _Failed("Gitea lists no commit for the entry", None)
            if commits[0].sha == task.last_commit_sha and not commits[0].read:
                # The newest commit's file is the cached row: its state is known.
                commits[0] = _with_state(commits[0], state=task.state)
            changed = fresh
            while True:
                # "" = read, but absent or malformed there (not this state)
                states = [(c.state_after or "") if c.read else None for c in commits]
                j = run_of_state(states, task.state)
                if j is not None or all(s is not None for s in states):
                    break
                i = states.index(None)
                commits[i] = _with_state(commits[i], state=await self._state_at(task, commits[i]))
                changed = True
        except GiteaError as exc:
            raise _Failed(one_line(str(exc), 300), commits) from None
        if j is None:  # the newest commit is not in the cached state: the cache is behind
            raise _Failed("main moved since the last sweep; walked again after the next one",
                          commits if changed else None)
        return HistoryWrite(
            task.slug, commits[0].sha, commits if changed else None, done=True,
            state=task.state, since=commits[j].at, expect_commit=task.last_commit_sha,
        )

    async def _state_at(self, task: HistoryTask, commit: StoredCommit) -> str | None:
        try:
            item = await self.client.get_contents(self.owner, self.repo, task.path,
                                                  ref=commit.sha)
        except GiteaNotFound:
            return None  # absent at that commit (deleted, or not yet created)
        return _state_in(task.path, item)


def _with_state(
    commit: StoredCommit, known: StoredCommit | None = None, *, state: str | None = None
) -> StoredCommit:
    """`commit` with its file read: `known`'s reading, else `state`."""
    return StoredCommit(
        sha=commit.sha, at=commit.at, author_login=commit.author_login,
        author_name=commit.author_name, committer_login=commit.committer_login,
        message=commit.message,
        state_after=known.state_after if known is not None else state, read=True,
    )
