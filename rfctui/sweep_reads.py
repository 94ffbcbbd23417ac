"""The Gitea reads a sweep's gather half makes (SPEC §4.1, API-NOTES §9), with the
guarantees `rfctui.reconcile` builds on: a listing is complete when it returns (the
reconciler deletes what is missing from it), pages are read concurrently and a failed
read cancels its siblings, and a single PR comes back with its OWN head (``head_sha``,
§4.2), whatever later PR moved its branch. Nothing here touches the cache.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from rfctui.attribution import pr_state
from rfctui.db import parse_dt
from rfctui.entry import InvalidSlug, validate_slug
from rfctui.gitea import GiteaClient, GiteaError, GiteaNotFound, PullPage

__all__ = [
    "EPOCH", "PULL_PAGE", "SLACK", "TREE_PAGE", "SweepReads", "gather_all", "latest",
    "newest_updated_at", "pull_floor", "sealed_below", "wants_clock",
]

TREE_PAGE = 1000
PULL_PAGE = 50
COMMIT_PAGE = 50  # commits with a path: Gitea's page size whatever the limit (notes §4)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# PR updated_at has one-second resolution (API-NOTES §9b); one more second of slack
# covers an update committed just after the timestamp it took, and a proxy's clock.
SLACK = timedelta(seconds=1)


def pull_floor(newest: datetime, complete: datetime | None) -> datetime:
    """The oldest ``updated_at`` a quick sweep's PR listing still reads (§9b).

    `newest` is the watermark (the newest ``updated_at`` seen); `complete` the
    ``updated_at`` below which every PR update is known to be in the cache
    (`sealed_below`). The floor is the watermark less `SLACK` — the newest second is
    re-read, since an update later in that same second carries the same stamp —
    unless `complete` shows that Gitea's clock had left that second before the last
    listing was read: then only newer updates are read, and a burst of updates in one
    second is read once, not on every sweep.
    """
    floor = newest - SLACK
    return max(floor, complete) if complete is not None else floor


def sealed_below(floor: datetime, clock: datetime | None, newest: datetime) -> datetime:
    """What a listing read down to `floor` proves: every update stamped before this is
    in it or older than `floor`. Never past the second after `newest` (the watermark):
    a ``Date`` far ahead of Gitea's own clock (a proxy's) must not hide later updates.

    `clock` is a ``Date`` Gitea sent *before* the listing was requested (the newest one
    of any earlier answer; never the listing's own, which is written after the query
    ran): Gitea's clock was at least that when the listing was read, so an update
    stamped a whole second earlier (less `SLACK`) was already visible to it. ``Date``
    is truncated to the second like ``updated_at``: ``clock`` > second ``s`` means the
    clock had left ``s``.
    """
    if clock is None:
        return floor
    cap = newest.replace(microsecond=0) + SLACK
    return max(floor, min(clock.replace(microsecond=0) - SLACK, cap))


def wants_clock(
    newest: datetime | None, complete: datetime | None, clock: datetime | None
) -> bool:
    """Whether a quick sweep should send its PR listing after another answer (the root
    tree's) instead of with it: only when the watermark's second is not yet known
    complete and the ``Date`` we already have (`clock`) cannot prove it. Then a
    later ``Date`` may, and the next sweep costs 2 requests instead of re-reading that
    second once more. A server without ``Date`` never waits.
    """
    if newest is None or clock is None:
        return False
    sealed = newest.replace(microsecond=0) + SLACK
    if complete is not None and complete >= sealed:
        return False
    return sealed_below(pull_floor(newest, complete), clock, newest) < sealed


def latest(*stamps: datetime | None) -> datetime | None:
    """The newest of `stamps` that are not None (None for none)."""
    return max((s for s in stamps if s is not None), default=None)


def newest_updated_at(items: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The newest ``updated_at`` among listed PRs (None for no PRs)."""
    stamps = [d for d in (parse_dt(p.get("updated_at")) for p in items) if d is not None]
    return max(stamps, default=None)


async def gather_all(coros: Iterable[Awaitable[Any]]) -> list[Any]:
    """gather() that cancels the siblings when one fails (a failed sweep stops quickly)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class SweepReads:
    """Reads of one repository for one sweep; `report(phase, done, total)` is the
    sweep's progress callback."""

    def __init__(
        self, client: GiteaClient, owner: str, repo: str,
        report: Callable[[str, int, int], None],
    ) -> None:
        self.client = client
        self.owner = owner
        self.repo = repo
        self.report = report

    async def tree(self, sha: str, phase: str) -> tuple[str, list[dict[str, Any]]]:
        """(tree sha, every item): page 1, then the other pages concurrently (total_count)."""
        first = await self.client.get_tree(self.owner, self.repo, sha, page=1, per_page=TREE_PAGE)
        items = list(first.get("tree") or [])
        total = int(first.get("total_count") or len(items))
        pages = -(-total // TREE_PAGE)
        self.report(phase, 1, max(pages, 1))
        if pages > 1:
            rest = await gather_all(
                self.client.get_tree(self.owner, self.repo, sha, page=p, per_page=TREE_PAGE)
                for p in range(2, pages + 1)
            )
            for page in rest:
                items.extend(page.get("tree") or [])
            self.report(phase, pages, pages)
        return str(first.get("sha") or ""), items

    async def all_pulls(self, state: str, phase: str) -> tuple[list[dict[str, Any]], int]:
        """Every PR in `state`, oldest first (a stable order while we page), concurrently.

        The listing is always complete when this returns: the pages ``X-Total-Count``
        announces are read concurrently, then further pages one by one while Gitea (or,
        behind a proxy that drops ``Link``/``X-Total-Count``, a non-empty page) says
        there may be more. Callers delete cached PRs missing from it, so it must never
        stop early (a missing header once meant "one page" and lost every other PR).
        """
        first = await self.client.list_pulls(
            self.owner, self.repo, state=state, sort="oldest", page=1, limit=PULL_PAGE
        )
        items = list(first.items)
        total = first.total
        pages = max(1, -(-total // PULL_PAGE)) if total is not None else 1
        self.report(phase, 1, pages)
        rest: list[PullPage] = []
        if pages > 1:
            rest = await gather_all(
                self.client.list_pulls(
                    self.owner, self.repo, state=state, sort="oldest", page=p, limit=PULL_PAGE
                )
                for p in range(2, pages + 1)
            )
            for page in rest:
                items.extend(page.items)
            self.report(phase, pages, pages)
        # PRs opened while we paged land after the last page we asked for; without the
        # headers we page on until an empty page.
        last = rest[-1] if pages > 1 else first
        page_no = pages
        while last.items and (
            last.has_next
            or total is None
            or len({int(p["number"]) for p in items}) < total
        ):
            page_no += 1
            last = await self.client.list_pulls(
                self.owner, self.repo, state=state, sort="oldest", page=page_no,
                limit=PULL_PAGE,
            )
            items.extend(last.items)
        return items, total if total is not None else len({int(p["number"]) for p in items})

    def clock(self, stored: datetime | None) -> datetime | None:
        """The newest Gitea ``Date`` known now: `stored` (a past sweep's) or the newest
        answer this client has had (`GiteaClient.server_date`). Gitea's clock had
        reached it before any request sent from now on (`sealed_below`)."""
        return latest(stored, self.client.server_date)

    async def pulls_since(
        self, floor: datetime
    ) -> tuple[list[dict[str, Any]], int | None, datetime | None]:
        """PRs updated at or after `floor`, newest first (API-NOTES §9b): (those PRs,
        ``X-Total-Count``, the newest ``updated_at`` on page 1). Page 1 of
        ``sort=recentupdate``; page 2… only while a whole page was that new. Cost:
        1 + ⌊changed/50⌋ requests.
        """
        page_no = 1
        page = await self.client.list_pulls(
            self.owner, self.repo, state="all", sort="recentupdate", page=1, limit=PULL_PAGE
        )
        total = page.total
        before = newest_updated_at(page.items)  # read before any full re-list after it
        consumed: list[dict[str, Any]] = []
        while True:
            newer = [p for p in page.items if (parse_dt(p.get("updated_at")) or EPOCH) >= floor]
            consumed.extend(newer)
            more = page.has_next or (page.total is None and len(page.items) >= PULL_PAGE)
            if not page.items or len(newer) < len(page.items) or not more:
                return consumed, total, before
            page_no += 1  # a whole page was newer than the floor: keep going
            page = await self.client.list_pulls(
                self.owner, self.repo, state="all", sort="recentupdate", page=page_no,
                limit=PULL_PAGE,
            )

    async def pulls_proven(
        self, floor: datetime, clock: datetime | None
    ) -> tuple[list[dict[str, Any]], int | None, datetime | None, datetime | None]:
        """`pulls_since` (`floor`), and the ``Date`` the proof of completeness rests on
        (`sealed_below`): `clock` (known before the listing was sent), or a newer one.

        When the listing found updates newer than `clock` can prove complete, and the
        next sweep would re-read more than a page of them (a burst inside one second),
        but an answer since has a ``Date`` that can prove it, that second is read once
        more now, after that ``Date``: the burst costs this sweep twice its pages and
        the next one is 2 requests, instead of the next one paying them too (the
        answer's own ``Date`` is written after its query ran, so it proves nothing
        about that query).
        """
        consumed, total, before = await self.pulls_since(floor)
        newest = newest_updated_at(consumed)
        if newest is None:
            return consumed, total, before, clock
        again = pull_floor(newest, None)
        sealed = newest.replace(microsecond=0) + SLACK
        now = self.clock(clock)
        if (
            sealed_below(floor, clock, newest) >= sealed  # already proven
            or sum((parse_dt(p.get("updated_at")) or EPOCH) >= again for p in consumed)
            < PULL_PAGE  # the next sweep re-reads them on page 1 anyway
            or sealed_below(again, now, newest) < sealed  # no Date proves it yet
        ):
            return consumed, total, before, clock
        more, total, _before = await self.pulls_since(again)
        return consumed + more, total, before, now

    async def newest_update(self) -> datetime | None:
        """The newest PR ``updated_at`` right now (1 request, ``limit=1``).

        Read *before* a full listing: a PR edited while the listing pages has a newer
        ``updated_at`` than this, so it is above the next quick sweep's floor even when
        the listing saw its old version (API-NOTES §9b). Taking the newest value seen
        in the listing instead lost such edits until the next resync.
        """
        page = await self.client.list_pulls(
            self.owner, self.repo, state="all", sort="recentupdate", page=1, limit=1
        )
        return newest_updated_at(page.items)

    async def heads(
        self, pending: Iterable[tuple[int, str, str]], directory: str,
        clock: Callable[[], datetime],
    ) -> list[dict[str, Any]]:
        """head_file rows for `pending` ``(pr_number, head_sha, slug)``: the file
        ``<directory>/<slug>.md`` at each distinct head, 1 request each (`file_at`),
        concurrently within the client's bound. A head is immutable, so it is read once.
        A failed read gives no row (asked again next sweep) and fails nothing; a slug
        that is not valid (§2) is never read.
        """
        wanted: dict[tuple[str, str], list[int]] = {}
        for number, sha, slug in pending:
            try:
                validate_slug(slug)  # before it reaches a path
            except InvalidSlug:
                continue
            wanted.setdefault((sha, f"{directory}/{slug}.md"), []).append(number)
        keys = list(wanted)
        done = 0

        async def one(sha: str, path: str) -> str | None:
            nonlocal done
            try:
                return await self.file_at(sha, path)
            finally:
                done += 1
                self.report("fetching PR heads", done, len(keys))

        if keys:
            self.report("fetching PR heads", 0, len(keys))
        got = await asyncio.gather(*(one(*k) for k in keys), return_exceptions=True)
        for err in got:  # only Gitea's failures are expected: anything else is a bug
            if isinstance(err, BaseException) and not isinstance(err, GiteaError):
                raise err
        now = clock()
        return [
            {"pr_number": n, "head_sha": sha, "path": path, "text": text, "fetched_at": now}
            for (sha, path), text in zip(keys, got, strict=True)
            if not isinstance(text, BaseException)
            for n in wanted[(sha, path)]
        ]

    async def file_at(self, ref: str, path: str) -> str | None:
        """One file's text at `ref` (a full commit sha): 1 request, the batch
        ``file-contents`` read with one path, which answers ``null`` for a file absent at
        that commit (the single-file contents GET would 404 for both an absent file and
        an unknown commit). None = absent. Raises `GiteaError` when it cannot say (the
        caller keeps no row and asks again next sweep), including a file Gitea does not
        serve through its API (too large).
        """
        got = await self.client.get_file_contents(self.owner, self.repo, ref, [path])
        item = got[0] if got else None
        if item is None:
            return None
        content = item.get("content")
        if content is None:
            raise GiteaError(None, "too large", path, method="POST",
                             summary=f"{path} at {ref[:12]} is too large for Gitea's API")
        try:
            data = base64.b64decode(content)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise GiteaError(None, "bad content", path, method="POST",
                             summary=f"{path} at {ref[:12]}: content is not base64") from exc
        return data.decode("utf-8", errors="replace")

    async def blob_text(self, sha: str) -> str:
        """A blob's text (1 request, ``git/blobs``: immutable, so never read twice);
        undecodable bytes become U+FFFD (whoever parses it reports the damage)."""
        return (await self.client.get_blob(self.owner, self.repo, sha)).decode(
            "utf-8", errors="replace"
        )

    async def touched_since(
        self, branch: str, directory: str, mark: str | None, max_pages: int = 4
    ) -> tuple[str | None, dict[str, str] | None]:
        """Commits on `branch` touching `directory` newer than the commit `mark`:
        (newest such commit, {path: newest commit touching it}), newest first, paged
        (50 a page with a path: API-NOTES §4) until `mark`. 1 request when `mark` is on
        the first page (the usual case). The map is None when `mark` is None or was
        not found within `max_pages` (the caller cannot tell what was touched).
        """
        newest: str | None = None
        touched: dict[str, str] = {}
        for page in range(1, max_pages + 1):
            try:
                items = await self.client.list_commits(
                    self.owner, self.repo, sha=branch, path=directory, page=page, files=True
                )
            except GiteaNotFound:  # nothing was ever committed there
                return None, ({} if mark is None else None)
            for c in items:
                sha = str(c.get("sha") or "")
                if newest is None:
                    newest = sha
                if mark is not None and sha == mark:
                    return newest, touched
                for f in c.get("files") or ():
                    name = str((f or {}).get("filename") or "")
                    if name.startswith(directory + "/"):
                        touched.setdefault(name, sha)
            if mark is None or len(items) < COMMIT_PAGE:
                break
        return newest, None

    async def pull_or_none(self, number: int) -> dict[str, Any] | None:
        try:
            return await self.client.get_pull(self.owner, self.repo, number)
        except GiteaNotFound:  # every 404 is a GiteaNotFound
            return None

    async def pull_own_head(
        self, number: int, stored: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        """The single-PR GET, with ``head.sha`` the PR's OWN head, as the list has it.

        ``head_sha`` means the commit ``refs/pull/N/head`` points at (SPEC §4.2, §5): for
        an open PR the head branch's tip (Gitea moves the ref on every push), for a
        merged or closed one its head when it was merged or closed (Gitea moves the ref
        of open PRs only; a merged PR cannot be reopened). The PR *list* reads that ref
        (API-NOTES §3.1) but the single GET reads the live branch while it exists, so
        after a merge a new PR from the same branch (claim #2 on ``claim/<slug>``) made
        a refresh of #1 store #2's commit, and the cache depended on which read came
        last (issue 9 item 8). Cheapest correct fix, in requests:

        - open, or the branch is gone (``head.ref`` is then ``refs/pull/N/head`` and
          ``head.sha`` its commit): the GET's value; no extra request;
        - merged/closed and the cache already has it so, ended at the same time
          (``closed_at``/``merged_at``): the stored value (the ref has not moved since;
          every read path stores the ref's value); no extra request;
        - otherwise ``GET git/refs/pull/N/head``: 1 small request (the PR list cannot
          be asked for one PR; the commits endpoints are heavier). A missing ref gives
          None, which is what the list says then too (an empty ``head.sha``).
        """
        pr = await self.pull_or_none(number)
        if pr is None:
            return None
        head = dict(pr.get("head") or {})
        state = pr_state(pr)
        if state == "open" or str(head.get("ref") or "").startswith("refs/"):
            return pr
        if (
            stored is not None
            and stored.get("head_sha")
            and stored.get("state") == state
            and stored.get("closed_at") == parse_dt(pr.get("closed_at"))
            and stored.get("merged_at") == parse_dt(pr.get("merged_at"))
        ):
            head["sha"] = stored["head_sha"]
        else:
            head["sha"] = await self.pull_ref(number)
        return {**pr, "head": head}

    async def pull_ref(self, number: int) -> str | None:
        """The commit ``refs/pull/N/head`` points at (API-NOTES §7 ``git/refs``; Gitea
        matches ``refs/<filter>`` by prefix and answers a list), None if it is missing."""
        want = f"refs/pull/{number}/head"
        try:
            refs = await self.client.get_git_refs(self.owner, self.repo, want[5:])
        except GiteaNotFound:
            return None
        for ref in refs:
            if isinstance(ref, Mapping) and ref.get("ref") == want:
                return str((ref.get("object") or {}).get("sha") or "") or None
        return None
