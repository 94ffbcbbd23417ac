"""The reconciler: the cache's only writer, keeping it in step with Gitea (SPEC §4.1).

Every sweep has the same two halves:

1. **gather** — read the cache's current index, then ask Gitea only what the cheapest
   request sequence of API-NOTES §9 needs, concurrently where it can;
2. **apply** — write everything in ONE ``BEGIN IMMEDIATE`` transaction (in a worker
   thread, so an event loop is never blocked by SQLite).

Nothing is written before the network half is complete, so a Gitea failure anywhere
(500s, down, timeout) leaves the cache exactly as it was; only the outcome (last
error, time) is recorded, in its own small transaction. If another writer (a second
process) committed between our read and our write, the sweep is gathered again, so a
diff is never applied to a cache it was not computed against.

Request costs (``SweepResult.requests``):

- **quick sweep**, nothing changed: 2 — ``git/trees/main`` (is the ``rfcs`` tree sha
  the one we mirror?) and ``pulls?state=all&sort=recentupdate&limit=50`` (newest
  ``updated_at`` and ``X-Total-Count`` against the watermark). When something changed:
  + the ``rfcs`` tree pages (1 per 1000 entries) + ⌈changed/30⌉ ``file-contents``
  batches + ⌊changed PRs/50⌋ pages. A PR count that does not add up (a deleted PR)
  costs one full PR re-list. PRs updated in the watermark's second count as changed
  until a Gitea ``Date`` proves that second over (`rfctui.sweep_reads.pull_floor`): a
  burst of n in one second is read at most twice (⌈n/50⌉ pages each), then 2 again.
- **full sweep**: 3 + tree pages + open-PR pages + changed entries + one ``GET`` per
  PR the cache has as open that is no longer open: O(1) + what changed. The third is
  the ``rfcs/`` history since the last full sweep (`Reconciler._touched_unchanged`):
  entries committed to without a blob change (deleted and restored) are refetched.
- **resync**: tree pages + ⌈entries/30⌉ batches + 1 (the newest PR ``updated_at``,
  read before the listing: the next watermark) + ⌈PRs/50⌉ pages.
- **refresh**: 1 (the PR) + 1 (the entry); + 1 (``git/refs/pull/N/head``) for a PR
  first seen merged or closed while its head branch still exists (``head_sha``: see
  `rfctui.sweep_reads.SweepReads.pull_own_head`). The full sweep's GET of a PR that left
  the open list costs the same.
- **after every sweep but a refresh** (which an action waits for): + 1 per open PR of
  ours whose head has no ``head_file`` row yet (`SweepReads.heads`; once per head).
- **team file** ``.rfctui.toml``: its blob sha is in the root tree every sweep but a
  refresh reads anyway: + 1 (``git/blobs``) only when that sha changed.

Decisions (documented here because SPEC leaves them open):

- *Malformed entries* (`EntryError`, too large, file stem not a slug) are skipped and
  reported in ``SweepResult.skipped`` on every sweep while they stay broken; an entry
  that *becomes* malformed keeps its previous good row (the UI keeps something useful
  and the status line says what is broken). Its blob sha is remembered so it is not
  fetched again until it changes.
- *head_sha* (§4.2): the PR's own head, the commit ``refs/pull/N/head`` points at
  (for a merged or closed PR: its head then), from every read path — what the PR list
  and a cold resync read; never the live branch a later PR from the same branch moved
  (`rfctui.sweep_reads.SweepReads.pull_own_head`).
- *opened_by* (§6.3), *which PRs count* (§5) and *time in state*: what one PR or
  entry says is decided in `rfctui.attribution` (its docstring has those rules).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import peewee as pw

from rfctui import db as dbm
from rfctui.attribution import (
    MAIN,
    ActorsLog,
    CachedRfc,
    LoggedActors,
    entry_row,
    newest_commit,
    pr_row,
)
from rfctui.db import Cache, format_dt, parse_dt
from rfctui.entry import InvalidSlug
from rfctui.entry import validate_slug as _validate_slug
from rfctui.gitea import (
    GiteaClient,
    GiteaError,
    GiteaNotFound,
    GiteaTimeout,
    GiteaUnreachable,
)
from rfctui.results import Progress, SweepResult
from rfctui.resync_stream import EntryStream, take_batch
from rfctui.rows import K_GEN, K_PULLS_TOTAL, K_SKIPPED, K_TEAM_SHA, K_TEAM_TEXT
from rfctui.sweep_apply import Plan, Retry, apply_plan
from rfctui.sweep_reads import EPOCH, SweepReads, gather_all, pull_floor, sealed_below, wants_clock
from rfctui.text import one_line

__all__ = ["Reconciler"]

BATCH = 30
RFCS_DIR = "rfcs"
TEAM_FILE = ".rfctui.toml"  # the team file at the meta repo's root (issue 11 §3)
_ATTEMPTS = 4  # gathers before a sweep that keeps meeting another writer gives up

# SyncState keys (the watermarks and the sweep bookkeeping).
K_TREE = "rfcs_tree_sha"  # the rfcs/ tree the entry rows mirror ("" = re-list next time)
K_PULLS_AT = "pulls_updated_at"  # newest PR updated_at seen
K_PULLS_DONE = "pulls_sealed_below"  # every PR update stamped before it is cached
K_PULLS_CLOCK = "pulls_server_date"  # newest Gitea Date seen (sweep_reads.sealed_below)
K_FOREIGN = "foreign_pulls"  # numbers of PRs whose head branch is not ours (JSON list)
K_RFCS_COMMIT = "rfcs_commit_sha"  # newest commit under rfcs/ a full sweep has checked
# K_SKIPPED ({path: [blob sha, reason]}, JSON), K_GEN (bumped by every write; detects a
# concurrent writer) and K_PULLS_TOTAL (X-Total-Count of state=all at the last listing)
# live in rfctui.rows: the UI and the bot read them without this module.


# ---------------------------------------------------------------- internal plan


@dataclass(slots=True)
class _Snapshot:
    rfcs: dict[str, CachedRfc]
    prs: dict[int, tuple[datetime | None, str, str, str]]
    state: dict[str, str | None]

    @property
    def generation(self) -> str | None:
        return self.state.get(K_GEN)

    def json_state(self, key: str, default: Any) -> Any:
        raw = self.state.get(key)
        if not raw:
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return default


_Plan = Plan  # the names this module has always used
_Retry = Retry


async def _halves(*coros: Awaitable[Any]) -> None:
    """Run a sweep's entries half and PR half concurrently; when both fail, report the
    first one's error (deterministic, whichever finished first): each half already
    stops its own requests on its first failure."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r


class Reconciler:
    """Reads Gitea, writes the cache (§4.1). One instance per (client, cache) pair.

    `progress` (optional) is called with `Progress` from the event loop; `clock`
    returns an aware UTC datetime (tests fix it). `actions` is the §6.4 log, used only
    to resolve ``opened_by`` (§6.3, `rfctui.attribution`); it is never written here.
    """

    def __init__(
        self,
        client: GiteaClient,
        cache: Cache,
        owner: str,
        repo: str,
        bot_login: str,
        actions: ActorsLog | None = None,
        progress: Callable[[Progress], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.cache = cache
        self.owner = owner
        self.repo = repo
        self.bot_login = bot_login
        self.actions = actions
        self.progress = progress
        self.clock = clock or (lambda: datetime.now(UTC))
        self._logged = LoggedActors(actions)
        self._reads = SweepReads(client, owner, repo, self._report)

    # ------------------------------------------------------------ public sweeps

    async def quick_sweep(self) -> SweepResult:
        """Detect change in ≤ 2 requests; fetch only what changed (§4.1, API-NOTES §9)."""

        async def gather(snap: _Snapshot) -> _Plan:
            plan = _Plan()
            entries = self._gather_entries(snap, plan, relist=False, cold=False)
            if wants_clock(parse_dt(snap.state.get(K_PULLS_AT)), *self._pull_clock(snap)):
                await entries  # the root tree's Date may prove a burst's second complete
                await self._gather_pulls_incremental(snap, plan)
            else:  # one round trip for "nothing changed", not two
                await _halves(entries, self._gather_pulls_incremental(snap, plan))
            return plan

        return await self._run("quick", gather)

    async def full_sweep(self) -> SweepResult:
        """Re-list every entry sha and every open PR; fetch only what changed (§4.1)."""

        async def gather(snap: _Snapshot) -> _Plan:
            plan = _Plan()

            async def pulls() -> None:
                relisted = await self._gather_pulls_incremental(snap, plan)
                if not relisted:
                    await self._gather_open_pulls(snap, plan)

            await _halves(self._gather_entries(snap, plan, relist=True, cold=False), pulls())
            return plan

        return await self._run("full", gather)

    async def resync(self) -> SweepResult:
        """Cold rebuild: every entry and every PR, swapped in by one transaction.

        The old rows are deleted and the new ones inserted in the same transaction, so
        a concurrent reader sees the old cache until the commit and an interrupted
        resync (failure, SIGKILL) leaves the old cache intact. Entry batches are parsed
        and written into that transaction as they arrive (`rfctui.resync_stream`,
        issue 13), which holds the write lock from the first batch to the commit.
        """

        async def gather(snap: _Snapshot) -> _Plan:
            plan = _Plan(clear=True)
            cold = _Snapshot(rfcs={}, prs={}, state={K_GEN: snap.generation})
            try:
                await _halves(
                    self._gather_entries(cold, plan, relist=True, cold=True),
                    self._gather_all_pulls(cold, plan),
                )
            except BaseException:
                if plan.stream is not None:
                    await plan.stream.abort()  # roll back what was written
                raise
            return plan

        return await self._run("resync", gather)

    async def refresh(self, slug: str | None = None, pr_number: int | None = None) -> SweepResult:
        """Targeted refresh after a user action: that PR and that entry (2 requests)."""

        async def gather(snap: _Snapshot) -> _Plan:
            if slug is not None:
                _validate_slug(slug)  # before it reaches a path (§2)
            plan = _Plan()
            tasks: list[Awaitable[None]] = []
            if pr_number is not None:
                tasks.append(self._refresh_pull(snap, plan, int(pr_number)))
            if slug is not None:
                tasks.append(self._refresh_entry(snap, plan, slug))
            await gather_all(tasks)
            return plan

        return await self._run("refresh", gather)

    # ------------------------------------------------------------ the sweep frame

    async def _run(self, kind: str, gather: Callable[[_Snapshot], Awaitable[_Plan]]) -> SweepResult:
        t0 = time.monotonic()
        req0 = self.client.requests
        started = self.clock()
        self._logged.reset()
        result = SweepResult(kind=kind, ok=False)
        try:
            for _attempt in range(_ATTEMPTS):
                snap = await asyncio.to_thread(self._snapshot)
                plan = await gather(snap)
                self._report("writing", 0, 1)
                try:
                    if plan.stream is not None:  # the rest, in the streamed transaction
                        counts = await plan.stream.finish(partial(
                            self._apply_rows, kind, plan, snap.generation, started
                        ))
                    else:
                        counts = await asyncio.to_thread(
                            self._apply, kind, plan, snap.generation, started
                        )
                except _Retry:
                    continue
                finally:
                    if plan.stream is not None:
                        await plan.stream.abort()  # no-op once committed
                self._report("writing", 1, 1)
                result.ok = True
                result.entries, result.pulls = counts
                result.rows_changed = plan.rows_changed
                result.skipped = sorted(plan.skipped)
                result.entries_fetched = plan.entries_fetched
                result.pulls_fetched = plan.pulls_fetched
                try:  # not after a refresh: an action waits for that one
                    if kind != "refresh":
                        await self._sync_heads()
                except Exception:  # noqa: BLE001 - the sweep itself succeeded; the
                    pass  # heads are asked for again next sweep (no row was written)
                break
            else:
                # Never write a diff computed against another cache state: give up.
                result.error = (
                    f"cache busy: another rfctui process kept writing {self.cache.path}; "
                    "try again"
                )
        except GiteaError as exc:
            result.error = one_line(str(exc), limit=500) or type(exc).__name__
            if isinstance(exc, GiteaNotFound):  # the repository itself (PR/entry 404s
                # are handled where they happen); Gitea says 404 for "no access" too
                result.not_found = exc.url  # the session tells a wrong URL path apart
                result.error += (
                    f" — check RFCTUI_ORG / RFCTUI_META_REPO ({self.owner}/{self.repo}) "
                    "and that your token can read the repository"
                )
            result.offline = isinstance(exc, GiteaUnreachable | GiteaTimeout)
        except (pw.DatabaseError, sqlite3.Error, OSError) as exc:
            result.error = (
                f"cannot write the cache at {self.cache.path}: {one_line(str(exc), limit=500)}"
            )
        except InvalidSlug as exc:
            result.error = one_line(str(exc), limit=500)
        except Exception as exc:  # a sweep must never take the UI down; say what broke
            result.error = f"sweep failed: {type(exc).__name__}: {one_line(str(exc), limit=500)}"
        result.requests = self.client.requests - req0
        result.seconds = time.monotonic() - t0
        if not result.ok:
            await asyncio.to_thread(self._record_failure, kind, result, started)
        return result

    async def _sync_heads(self) -> None:
        """The entry file at the head of every open PR of ours without a head_file row
        (issue 11 §1, issue 12 §1; `SweepReads.heads`), written in its own small
        transaction after the sweep's; nothing to do costs one SQL query."""
        pending = await asyncio.to_thread(self.cache.pending_heads)
        rows = await self._reads.heads(pending, RFCS_DIR, self.clock)
        if rows:
            await asyncio.to_thread(self._write_heads, rows)

    def _write_heads(self, rows: list[dict[str, Any]]) -> None:
        """Head rows, in their own transaction; a new generation so readers re-read."""
        with self.cache.write():
            self.cache.put_heads(rows)
            stored_gen = self.cache.get_state(K_GEN)
            gen = int(stored_gen) + 1 if stored_gen is not None and stored_gen.isdigit() else 1
            self.cache.set_state({K_GEN: str(gen)})

    def _report(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            try:
                self.progress(Progress(phase, done, total))
            except Exception:  # a broken progress bar must not fail the sweep
                pass

    def _snapshot(self) -> _Snapshot:
        """The cache's index, read in ONE transaction (a consistent view to diff against)."""
        with self.cache.db.atomic():
            return _Snapshot(
                rfcs=self.cache.rfc_index(), prs=self.cache.pr_index(),
                state=self.cache.state(),
            )

    def _apply(
        self, kind: str, plan: _Plan, generation: str | None, started: datetime
    ) -> tuple[int, int]:
        """Write `plan` in one transaction (raises `_Retry` if another writer came first).

        `rfctui.sweep_apply.apply_plan` says how.
        """
        with self.cache.write():
            return self._apply_rows(kind, plan, generation, started)

    def _apply_rows(
        self, kind: str, plan: _Plan, generation: str | None, started: datetime
    ) -> tuple[int, int]:
        """`_apply` inside the caller's transaction (a resync's: `plan.stream`)."""
        outcome = self._outcome(kind, started, self.clock(), ok=True)
        return apply_plan(self.cache, plan, generation, outcome)

    @staticmethod
    def _outcome(
        kind: str, started: datetime, ended: datetime, *, ok: bool,
        error: str | None = None, offline: bool = False,
    ) -> dict[str, object]:
        """Sync-state bookkeeping of one sweep.

        A targeted refresh writes only its own ``refresh_*`` keys: it checks one PR and
        one entry, so it must not make the status line say "synced" (or hide that the
        last sweep found Gitea offline).
        """
        outcome = "ok" if ok else ("offline" if offline else "error")
        state: dict[str, object] = {
            f"{kind}_started_at": format_dt(started),
            f"{kind}_ended_at": format_dt(ended),
            f"{kind}_outcome": outcome,
            f"{kind}_error": error,
        }
        if kind == "refresh":
            return state
        state.update({
            "last_kind": kind,
            "last_ok": "1" if ok else "0",
            "last_error": error,
            "last_offline": "1" if offline else "0",
            "last_attempt_at": format_dt(ended),
        })
        if ok:
            state["schema_version"] = str(dbm.SCHEMA_VERSION)
            state["synced_at"] = format_dt(ended)
        return state

    def _record_failure(self, kind: str, result: SweepResult, started: datetime) -> None:
        """Outcome only, in its own small transaction: the cached rows stay as they were."""
        ended = self.clock()
        try:
            with self.cache.write():
                self.cache.set_state(self._outcome(
                    kind, started, ended, ok=False, error=result.error,
                    offline=result.offline,
                ))
        except (pw.DatabaseError, OSError):
            pass  # the result still carries the error; the cache may be what failed

    # ------------------------------------------------------------ entries

    async def _gather_entries(
        self, snap: _Snapshot, plan: _Plan, *, relist: bool, cold: bool
    ) -> None:
        """§9(a): root tree → (if changed or `relist`) rfcs tree → changed blobs."""
        self._report("checking entries", 0, 1)
        _root_sha, root = await self._reads.tree(MAIN, "checking entries")
        rfcs_sha = team_sha = ""
        for item in root:
            if item.get("path") == RFCS_DIR and item.get("type") == "tree":
                rfcs_sha = str(item.get("sha") or "")
            elif item.get("path") == TEAM_FILE and item.get("type") == "blob":
                team_sha = str(item.get("sha") or "")
        await self._gather_team_file(snap, plan, team_sha)
        stored = snap.state.get(K_TREE) or ""
        skipped_map: dict[str, list[str]] = {} if cold else snap.json_state(K_SKIPPED, {})
        if not relist and rfcs_sha and rfcs_sha == stored:
            plan.skipped.extend((p, r) for p, (_sha, r) in sorted(skipped_map.items()))
            return  # nothing under rfcs/ changed: 1 request
        tree: dict[str, str] = {}  # path -> blob sha, for valid-slug *.md files
        new_skipped: dict[str, list[str]] = {}
        if rfcs_sha:
            _sha, listing = await self._reads.tree(rfcs_sha, "listing entries")
            for item in listing:
                name = str(item.get("path") or "")
                if item.get("type") != "blob" or not name.endswith(".md") or "/" in name:
                    continue  # §2: only rfcs/*.md are entries
                path = f"{RFCS_DIR}/{name}"
                sha = str(item.get("sha") or "")
                try:
                    _validate_slug(name[:-3])
                except InvalidSlug as exc:
                    new_skipped[path] = [sha, f"file name is not a valid slug: {exc}"]
                    continue
                tree[path] = sha
        # Which entries to fetch: new, changed, or reappearing after removal.
        fetch: list[str] = []
        for path, sha in tree.items():
            slug = path[len(RFCS_DIR) + 1 : -3]
            cached = snap.rfcs.get(slug)
            if cached is not None and cached[0] == sha and not cached[1] and (
                path not in skipped_map  # malformed in between: its row's last commit
            ):  # is older than the commit that made it good again (a cold read's)
                continue
            bad = skipped_map.get(path)
            if bad is not None and bad[0] == sha:
                new_skipped[path] = bad  # still the same broken blob: no need to fetch
                continue
            fetch.append(path)
        present = {p[len(RFCS_DIR) + 1 : -3] for p in tree} | {
            p[len(RFCS_DIR) + 1 : -3] for p in new_skipped
        }
        for slug, (_sha, removed, _state, _since) in snap.rfcs.items():
            if not removed and slug not in present:
                plan.removed.append(slug)
        if relist and not cold:
            fetch.extend(await self._touched_unchanged(snap, plan, tree, fetch, new_skipped))
        dirty = False
        if fetch:
            dirty = await self._fetch_entries(snap, plan, fetch, tree, new_skipped)
        if cold:
            plan.state[K_RFCS_COMMIT] = (
                plan.stream.newest_commit if plan.stream else newest_commit(plan.rfc_rows)
            )
        plan.rows_changed += len(plan.removed)
        plan.skipped.extend((p, r) for p, (_sha, r) in sorted(new_skipped.items()))
        plan.state[K_SKIPPED] = json.dumps(new_skipped, sort_keys=True)
        plan.state[K_TREE] = "" if dirty else rfcs_sha

    async def _touched_unchanged(
        self, snap: _Snapshot, plan: _Plan, tree: Mapping[str, str], fetch: list[str],
        skipped: Mapping[str, list[str]],
    ) -> list[str]:
        """Full sweep: entries committed to since the last full sweep whose blob did not
        change (deleted and restored, a change and its revert): git trees are
        content-addressed (API-NOTES §9a), so only the history shows them, and their
        rows would keep an older ``last_commit_sha`` than a cold read's.

        Cost: 1 request (``commits?sha=main&path=rfcs&files=true``, newest first, down to
        the watermark ``K_RFCS_COMMIT``; one more page per 50 commits under ``rfcs/``
        since) + the usual batches for the entries found. Without a watermark, or when
        it is not found within a few pages, the watermark is just moved to the newest
        commit (nothing refetched: the rare case keeps the old divergence).
        """
        mark = snap.state.get(K_RFCS_COMMIT) or None
        newest, touched = await self._reads.touched_since(MAIN, RFCS_DIR, mark)
        plan.state[K_RFCS_COMMIT] = newest or mark
        if not touched:
            return []
        queued = set(fetch)
        last = await asyncio.to_thread(self._last_commits)
        out: list[str] = []
        for path, commit in touched.items():
            if path not in tree or path in queued or path in skipped:
                continue
            if last.get(path[len(RFCS_DIR) + 1 : -3]) != commit:
                out.append(path)
        return out

    def _last_commits(self) -> dict[str, str | None]:
        """slug -> the stored ``last_commit_sha`` of every entry row (one query)."""
        m = self.cache.CachedRFC
        query = m.select(m.slug, m.last_commit_sha)
        return {str(slug): sha for slug, sha in dbm.schema.tuple_rows(query)}

    async def _gather_team_file(self, snap: _Snapshot, plan: _Plan, sha: str) -> None:
        """The team file: re-read only when its blob sha in the root tree (which every
        sweep reads anyway) differs from the stored one: 0 requests when it did not
        change, 1 (``git/blobs``) when it did. Stored as text, malformed or not:
        `rfctui.teamfile.parse_team_file` reports what is wrong with it."""
        if sha == (snap.state.get(K_TEAM_SHA) or "") and K_TEAM_SHA in snap.state:
            return
        text = await self._reads.blob_text(sha) if sha else None
        plan.state[K_TEAM_SHA] = sha
        plan.state[K_TEAM_TEXT] = text
        if text != snap.state.get(K_TEAM_TEXT):
            plan.rows_changed += 1  # a new generation: the UI re-reads thresholds/views

    async def _fetch_entries(
        self,
        snap: _Snapshot,
        plan: _Plan,
        paths: list[str],
        tree: Mapping[str, str],
        skipped: dict[str, list[str]],
    ) -> bool:
        """Fetch `paths` in batches of 30, concurrently; return True if main moved meanwhile.

        A resync (``plan.clear``) hands each batch to its `EntryStream` as it arrives,
        with at most twice the client's concurrency of answers fetched and not yet
        written; other sweeps keep their rows in the plan for `_apply`.
        """
        batches = [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]
        done = 0
        total = len(paths)
        self._report("fetching entries", 0, total)
        now = self.clock()
        if plan.clear and plan.stream is None and batches:
            plan.stream = await EntryStream.open(self.cache)
        stream = plan.stream
        slots = asyncio.Semaphore(2 * self.client.max_concurrency)

        async def one(batch: list[str]) -> list[dict[str, Any] | None]:
            nonlocal done
            async with slots:
                got = await self.client.get_file_contents(self.owner, self.repo, MAIN, batch)
                done += len(batch)
                self._report("fetching entries", done, total)
                if stream is None:
                    return got
                await stream.write_batch(batch, got, tree, skipped, now)
                return []

        results = await gather_all(one(b) for b in batches)
        if stream is not None:
            plan.entries_fetched += stream.fetched
            plan.rows_changed += stream.written
            return stream.dirty
        dirty = False
        for batch, items in zip(batches, results, strict=True):
            rows, fetched, bad = take_batch(batch, items, tree, snap.rfcs, skipped, now)
            plan.rfc_rows.extend(rows)
            plan.entries_fetched += fetched
            plan.rows_changed += len(rows)
            dirty = dirty or bad
        return dirty

    # ------------------------------------------------------------ pull requests

    def _pr_row(self, pr: Mapping[str, Any]) -> dict[str, Any] | None:
        """A Gitea PR -> a CachedPR row, or None when its head branch is not ours (§5)."""
        return pr_row(pr, repo=f"{self.owner}/{self.repo}", bot_login=self.bot_login,
                      logged=self._logged.for_pr)

    def _take_pulls(
        self,
        snap: _Snapshot,
        plan: _Plan,
        items: Iterable[Mapping[str, Any]],
        foreign: set[int],
    ) -> datetime | None:
        """Turn listed PRs into candidate upserts; returns the newest update."""
        newest: datetime | None = None
        latest: dict[int, Mapping[str, Any]] = {}
        for pr in items:
            number = int(pr["number"])
            prev = latest.get(number)
            if prev is None or (parse_dt(pr.get("updated_at")) or EPOCH) >= (
                parse_dt(prev.get("updated_at")) or EPOCH
            ):
                latest[number] = pr
        rows: list[dict[str, Any]] = []
        for number, pr in latest.items():
            plan.pulls_fetched += 1
            upd = parse_dt(pr.get("updated_at"))
            if upd is not None and (newest is None or upd > newest):
                newest = upd
            row = self._pr_row(pr)
            if row is None:
                foreign.add(number)
                continue
            foreign.discard(number)
            rows.append(row)
        # Compared with the stored rows in _apply, under the write lock (only real
        # changes are written and counted), not here on the event loop.
        plan.pr_rows.extend(rows)
        return newest

    async def _gather_all_pulls(
        self, snap: _Snapshot, plan: _Plan, before: datetime | None = None,
        probed: bool = False,
    ) -> None:
        """Every PR in any state (resync, or when the incremental count does not add up).

        `before` is the newest ``updated_at`` read before the listing started
        (`probed` = already read by the caller); the watermark is that, never the
        newest value in the listing itself.
        """
        if not probed:
            before = await self._reads.newest_update()
        items, total = await self._reads.all_pulls("all", "listing pull requests")
        foreign: set[int] = set()
        self._take_pulls(snap, plan, items, foreign)
        seen = {int(pr["number"]) for pr in items}
        gone = sorted(set(snap.prs) - seen)
        plan.pr_deletes.extend(gone)
        plan.rows_changed += len(gone)
        plan.state[K_FOREIGN] = json.dumps(sorted(foreign))
        plan.state[K_PULLS_TOTAL] = str(max(total, len(seen)))
        # No PR before the listing: every PR is newer than the epoch.
        plan.state[K_PULLS_AT] = format_dt(before or EPOCH)
        plan.state[K_PULLS_DONE] = None  # the next quick sweep re-reads `before`'s second
        plan.state[K_PULLS_CLOCK] = format_dt(self.client.server_date)

    def _pull_clock(self, snap: _Snapshot) -> tuple[datetime | None, datetime | None]:
        """(``K_PULLS_DONE``, the newest Gitea ``Date`` known before a listing sent now)."""
        stored = parse_dt(snap.state.get(K_PULLS_CLOCK))
        return parse_dt(snap.state.get(K_PULLS_DONE)), self._reads.clock(stored)

    async def _gather_pulls_incremental(self, snap: _Snapshot, plan: _Plan) -> bool:
        """§9(b): newest-updated page(s) down to the floor (`sweep_reads.pull_floor`). True
        if it fell back to a full re-list (no watermark yet, or a count that does not
        add up).

        Without ``X-Total-Count`` (a proxy dropped it) a deleted PR cannot be told from
        the count: the sweep stays incremental (a full sweep still drops deleted open
        PRs, a resync the rest) instead of re-listing every PR every time.
        """
        wm = parse_dt(snap.state.get(K_PULLS_AT))
        if wm is None or snap.state.get(K_PULLS_TOTAL) is None:
            await self._gather_all_pulls(snap, plan)
            return True
        self._report("checking pull requests", 0, 1)
        complete, clock = self._pull_clock(snap)  # taken before the listing is sent
        floor = pull_floor(wm, complete)
        consumed, total, before, clock = await self._reads.pulls_proven(floor, clock)
        foreign = set(snap.json_state(K_FOREIGN, []))
        known = set(snap.prs) | foreign
        new_numbers = {int(p["number"]) for p in consumed} - known
        if total is not None and total != len(known) + len(new_numbers):
            # A PR was deleted (the count dropped) or the history does not add up.
            plan_all = _Plan()
            await self._gather_all_pulls(snap, plan_all, before, probed=True)
            plan.pr_rows.extend(plan_all.pr_rows)
            plan.pr_deletes.extend(plan_all.pr_deletes)
            plan.state.update(plan_all.state)
            plan.rows_changed += plan_all.rows_changed
            plan.pulls_fetched += plan_all.pulls_fetched
            return True
        newest = self._take_pulls(snap, plan, consumed, foreign)
        plan.state[K_FOREIGN] = json.dumps(sorted(foreign))
        plan.state[K_PULLS_TOTAL] = str(total if total is not None else len(known | new_numbers))
        wm = max(wm, newest or wm)
        plan.state[K_PULLS_AT] = format_dt(wm)
        plan.state[K_PULLS_DONE] = format_dt(sealed_below(floor, clock, wm))
        plan.state[K_PULLS_CLOCK] = format_dt(self._reads.clock(clock))
        return False

    async def _gather_open_pulls(self, snap: _Snapshot, plan: _Plan) -> None:
        """Full sweep: every open PR; PRs we have as open that are not -> GET each."""
        items, _total = await self._reads.all_pulls("open", "listing open pull requests")
        foreign = set(snap.json_state(K_FOREIGN, []))
        if isinstance(plan.state.get(K_FOREIGN), str):
            foreign = set(json.loads(str(plan.state[K_FOREIGN])))
        already = {r["pr_number"] for r in plan.pr_rows}
        self._take_pulls(snap, plan, [p for p in items if int(p["number"]) not in already],
                         foreign)
        open_now = {int(p["number"]) for p in items}
        planned_state = {r["pr_number"]: r["state"] for r in plan.pr_rows}
        vanished = [
            n for n, (_upd, state, _slug, _by) in snap.prs.items()
            if planned_state.get(n, state) == "open" and n not in open_now
        ]
        if vanished:
            self._report("fetching pull requests", 0, len(vanished))
            stored = await asyncio.to_thread(self.cache.pr_rows, vanished)
            got = await gather_all(self._reads.pull_own_head(n, stored.get(n)) for n in vanished)
            found = [pr for pr in got if pr is not None]
            missing = [n for n, pr in zip(vanished, got, strict=True) if pr is None]
            # A later listing of the same PR replaces the earlier planned row.
            gone = set(vanished)
            plan.pr_rows = [r for r in plan.pr_rows if r["pr_number"] not in gone]
            self._take_pulls(snap, plan, found, foreign)
            plan.pr_deletes.extend(missing)
            plan.rows_changed += len(missing)
        plan.state[K_FOREIGN] = json.dumps(sorted(foreign))

    # ------------------------------------------------------------ targeted refresh

    async def _refresh_pull(self, snap: _Snapshot, plan: _Plan, number: int) -> None:
        stored = (await asyncio.to_thread(self.cache.pr_rows, [number])).get(number)
        pr = await self._reads.pull_own_head(number, stored)
        if pr is None:
            if number in snap.prs:
                plan.pr_deletes.append(number)
                plan.rows_changed += 1
            return
        foreign = set(snap.json_state(K_FOREIGN, []))
        before = set(foreign)
        self._take_pulls(snap, plan, [pr], foreign)
        if foreign != before:
            plan.state[K_FOREIGN] = json.dumps(sorted(foreign))

    async def _refresh_entry(self, snap: _Snapshot, plan: _Plan, slug: str) -> None:
        path = f"{RFCS_DIR}/{slug}.md"
        try:
            item = await self.client.get_contents(self.owner, self.repo, path, ref=MAIN)
        except GiteaNotFound:
            item = None
        cached = snap.rfcs.get(slug)
        if not isinstance(item, Mapping) or item.get("type") not in (None, "file"):
            if cached is not None and not cached[1]:
                plan.removed.append(slug)
                plan.rows_changed += 1
                plan.state[K_TREE] = ""  # the rows no longer match the stored tree
            return
        plan.entries_fetched += 1
        skipped_map: dict[str, list[str]] = snap.json_state(K_SKIPPED, {})
        row, reason = entry_row(path, item, snap.rfcs, self.clock())
        sha = str(item.get("sha") or "")
        if row is None:
            plan.skipped.append((path, reason or "unreadable"))
            if skipped_map.get(path) != [sha, reason]:
                skipped_map[path] = [sha, reason or "unreadable"]
                plan.state[K_SKIPPED] = json.dumps(skipped_map, sort_keys=True)
            return
        was_skipped = path in skipped_map  # see _gather_entries: refetch it
        if was_skipped:
            skipped_map.pop(path)
            plan.state[K_SKIPPED] = json.dumps(skipped_map, sort_keys=True)
        if cached is None or cached[0] != sha or cached[1] or was_skipped:
            plan.rfc_rows.append(row)
            plan.rows_changed += 1
            plan.state[K_TREE] = ""  # newer than the tree we mirror: re-list next time
