"""Batches of entries turned into cache rows, and the resync's streamed write (issue 13).

`take_batch` is what every sweep does with one ``file-contents`` answer (base64, front
matter, a row or a skip reason; `rfctui.attribution.entry_row`). A resync (SPEC §4.1)
no longer keeps every answer until the last one has arrived: `EntryStream` parses and
writes each batch on the writer thread of one open transaction (`rfctui.db.stream`)
while the other requests are in flight, so memory holds a bounded number of answers
(the reconciler's semaphore) instead of all of them, and the parse overlaps the
network. The transaction commits with the PR rows and the sync state at the end of the
sweep, or rolls back: a failed or killed resync leaves the previous cache intact, as
when everything was written at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from rfctui.attribution import CachedRfc, entry_row
from rfctui.db import Cache
from rfctui.db.stream import TxnStream
from rfctui.rows import K_GEN

__all__ = ["EntryStream", "take_batch"]

T = TypeVar("T")


def take_batch(
    batch: Sequence[str],
    items: Sequence[Mapping[str, Any] | None],
    tree: Mapping[str, str],
    cached: Mapping[str, CachedRfc],
    skipped: dict[str, list[str]],
    now: datetime,
) -> tuple[list[dict[str, Any]], int, bool]:
    """One batch answer -> (entry rows, entries fetched, dirty).

    Malformed entries go to `skipped` ({path: [blob sha, reason]}) and a good one
    leaves it; `dirty`: a file was deleted or changed since the tree was listed, so the
    rows do not mirror that tree (the caller re-lists next time).
    """
    rows: list[dict[str, Any]] = []
    fetched = 0
    dirty = False
    for path, item in zip(batch, items, strict=False):
        fetched += 1
        if item is None:
            dirty = True  # deleted since the tree was listed: re-list next time
            continue
        sha = str(item.get("sha") or "")
        if sha != tree.get(path):
            dirty = True  # changed since the tree was listed: rows != that tree
        row, reason = entry_row(path, item, cached, now)
        if row is None:
            skipped[path] = [sha, reason or "unreadable"]
            continue
        skipped.pop(path, None)
        rows.append(row)
    return rows, fetched, dirty


class EntryStream:
    """A resync's entry rows, written batch by batch into one open transaction that
    starts by emptying the cache (`rfctui.db.Cache.clear`).

    Counters (read by the reconciler once every batch was awaited): ``fetched``,
    ``written``, ``dirty`` and ``newest_commit`` (the newest ``last_commit_sha`` among
    the rows: the cold read's ``rfcs/`` history watermark). ``generation`` is the
    generation stored before the clear (the next one is that + 1).
    """

    def __init__(self, cache: Cache, txn: TxnStream) -> None:
        self.cache = cache
        self.txn = txn
        self.generation: str | None = None
        self.fetched = 0
        self.written = 0
        self.dirty = False
        self._newest: tuple[datetime, str] | None = None

    @classmethod
    async def open(cls, cache: Cache) -> EntryStream:
        """Take the write lock, remember the generation, empty the cache (uncommitted)."""
        stream = cls(cache, TxnStream(cache))
        try:
            await stream.txn.run(stream._start)
        except BaseException:
            await stream.txn.abort()
            raise
        return stream

    @property
    def newest_commit(self) -> str | None:
        return self._newest[1] if self._newest else None

    def _start(self) -> None:
        self.generation = self.cache.get_state(K_GEN)
        self.cache.clear()

    async def write_batch(
        self, batch: Sequence[str], items: Sequence[Mapping[str, Any] | None],
        tree: Mapping[str, str], skipped: dict[str, list[str]], now: datetime,
    ) -> None:
        """Parse and write one batch on the writer thread; returns once it is written
        (so the caller holds at most its own answers)."""
        await self.txn.run(partial(self._take, batch, items, tree, skipped, now))

    def _take(
        self, batch: Sequence[str], items: Sequence[Mapping[str, Any] | None],
        tree: Mapping[str, str], skipped: dict[str, list[str]], now: datetime,
    ) -> None:
        rows, fetched, dirty = take_batch(batch, items, tree, {}, skipped, now)
        self.fetched += fetched
        self.dirty = self.dirty or dirty
        for row in rows:
            at, sha = row.get("last_entry_commit_at"), row.get("last_commit_sha")
            if isinstance(at, datetime) and sha and (self._newest is None or at > self._newest[0]):
                self._newest = (at, str(sha))
        self.written += self.cache.upsert_rfcs(rows)

    async def finish(self, fn: Callable[[], T]) -> T:
        """Run the sweep's last writes (``fn``, on the writer thread) and commit."""
        return await self.txn.finish(fn)

    async def abort(self) -> None:
        """Roll everything back (safe to call twice and after `finish`)."""
        await self.txn.abort()
