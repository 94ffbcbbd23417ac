"""The streamed resync, the bulk writer and the cache without search_text (issue 13).

- a resync writes batches while others are still in flight, holding a bounded number
  of answers, and the result equals what Gitea has;
- a resync that fails after batches were written leaves the cache exactly as it was,
  and a reader during it sees the old cache;
- the generation keeps rising across resyncs (the UI re-reads on a new one);
- `rfctui.db.bulk` stores the same values as peewee did;
- no ``search_text`` column; `Reader.filter_texts` derives it; a version-3 cache is
  migrated in place, an older one is moved aside with an "older rfctui" notice.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import idea_entry as entry

from rfctui import db
from rfctui.db import open_cache
from rfctui.db.bulk import RowWriter
from rfctui.gitea import GiteaClient
from rfctui.reconcile import Reconciler
from rfctui.resync_stream import EntryStream
from rfctui.rows import SEARCH_BODY_CAP, search_text
from rfctui.sandbox import Sandbox

OWNER, REPO, BOT, BOT_TOKEN = "rfcs", "meta", "rfc-bot", "bot-token"
HOST = "http://sandbox.local"
N = 300  # 10 batches of 30


def seed(sb: Sandbox, n: int = N) -> None:
    sb.commit_files("main", {f"rfcs/s{i:04d}.md": entry(f"s{i:04d}", f"Entry {i}")
                             for i in range(n)}, "seed", author=("Ada", "ada@x"))
    with httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                      headers={"Authorization": f"token {BOT_TOKEN}"}) as api:
        for i in range(3):
            branch = f"claim/s{i:04d}"
            sb.commit_files(branch, {f"rfcs/s{i:04d}.md": entry(f"s{i:04d}", f"C {i}")}, "c")
            api.post(f"/repos/{OWNER}/{REPO}/pulls", json={
                "head": branch, "base": "main", "title": f"Claim {i}",
                "body": "Mine.\n\nOn-behalf-of: Ada Lovelace <ada>"}).raise_for_status()


class Watch(httpx.AsyncBaseTransport):
    """Counts ``file-contents`` answers; can hold them (``gate``) or fail one (``fail_at``)."""

    def __init__(self, inner: Any, fail_at: int | None = None) -> None:
        self.inner, self.fail_at = inner, fail_at
        self.answered = 0
        self.gate: asyncio.Event | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        batch = request.url.path.endswith("/file-contents")
        if batch and self.gate is not None:
            await self.gate.wait()
        if batch and self.fail_at is not None and self.answered >= self.fail_at:
            return httpx.Response(500, json={"message": "boom"})
        response = await self.inner.handle_async_request(request)
        if batch:
            self.answered += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def resync(cache: db.Cache, transport: Any, concurrency: int = 8) -> Any:
    async with GiteaClient(HOST, BOT_TOKEN, transport=transport,
                           max_concurrency=concurrency) as client:
        return await Reconciler(client, cache, OWNER, REPO, BOT).resync()


def dump(cache: db.Cache) -> str:
    return json.dumps(cache.export(), sort_keys=True, default=str)


@pytest.fixture
def sb() -> Sandbox:
    s = Sandbox()
    seed(s)
    return s


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[db.Cache]:
    c = open_cache(tmp_path / "c.sqlite3")
    yield c
    c.close()


def test_batches_are_written_while_others_are_in_flight(
    sb: Sandbox, cache: db.Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = Watch(sb.transport)
    written_at: list[int] = []  # answers received when each batch had been written
    held: list[int] = []  # answers received and not yet written, at each write
    real = EntryStream.write_batch

    async def spy(self: EntryStream, *args: Any) -> None:
        await real(self, *args)
        written_at.append(watch.answered)
        held.append(watch.answered - len(written_at))

    monkeypatch.setattr(EntryStream, "write_batch", spy)
    result = asyncio.run(resync(cache, watch, concurrency=2))
    assert result.ok, result.error
    assert result.entries == N and result.entries_fetched == N
    assert len(written_at) == N // 30
    assert written_at[0] < N // 30, "nothing was written before the last answer arrived"
    assert max(held) <= 2 * 2, held  # twice the client's concurrency at most
    # What was streamed is what Gitea has: a second resync (same data) agrees.
    other = open_cache(Path(cache.path).with_name("other.sqlite3"))
    try:
        monkeypatch.setattr(EntryStream, "write_batch", real)
        assert asyncio.run(resync(other, sb.transport)).ok
        assert db.comparable_export(other.export()) == db.comparable_export(cache.export())
    finally:
        other.close()


@pytest.mark.parametrize("fail_at", [0, 3, 9])
def test_failure_after_streamed_batches_leaves_the_cache_as_it_was(
    sb: Sandbox, cache: db.Cache, fail_at: int
) -> None:
    assert asyncio.run(resync(cache, sb.transport)).ok
    sb.commit_files("main", {f"rfcs/s{i:04d}.md": entry(f"s{i:04d}", f"New {i}")
                             for i in range(0, N, 7)}, "edit", author=("Ada", "ada@x"))
    before = dump(cache)
    gen = cache.get_state("generation")
    result = asyncio.run(resync(cache, Watch(sb.transport, fail_at=fail_at), concurrency=2))
    assert not result.ok and result.error and "500" in result.error
    assert dump(cache) == before and cache.get_state("generation") == gen
    assert cache.sync_status().last_ok is False  # the outcome alone was recorded
    # Without the fault the same resync changes it (the test can fail).
    assert asyncio.run(resync(cache, sb.transport)).ok
    assert dump(cache) != before


def test_a_reader_sees_the_old_cache_while_a_resync_streams(
    sb: Sandbox, cache: db.Cache, tmp_path: Path
) -> None:
    assert asyncio.run(resync(cache, sb.transport)).ok
    sb.commit_files("main", {"rfcs/s0000.md": None}, "delete one", author=("Ada", "ada@x"))
    seen: list[int] = []

    async def main() -> Any:
        watch = Watch(sb.transport)
        watch.gate = asyncio.Event()
        task = asyncio.create_task(resync(cache, watch, concurrency=2))
        watch.gate.set()
        while watch.answered < 5 and not task.done():
            await asyncio.sleep(0.005)
        with sqlite3.connect(cache.path) as conn:  # another connection: a reader
            seen.append(conn.execute("SELECT COUNT(*) FROM cached_rfc").fetchone()[0])
        return await task

    result = asyncio.run(main())
    assert result.ok, result.error
    assert seen == [N]  # the old rows, not the half-written new ones
    assert cache.sync_status().rfc_count == N - 1


def test_generation_rises_across_resyncs(sb: Sandbox, cache: db.Cache) -> None:
    gens = []
    for _ in range(3):
        assert asyncio.run(resync(cache, sb.transport)).ok
        gens.append(int(cache.get_state("generation") or 0))
    assert gens[0] < gens[1] < gens[2]


def test_resync_of_an_empty_repository(cache: db.Cache) -> None:
    """No entry batch: no stream is opened; the cache is still emptied and synced."""
    empty = Sandbox()
    result = asyncio.run(resync(cache, empty.transport))
    assert result.ok and result.entries == 0


# ---------------------------------------------------------------- bulk writes


def test_bulk_writer_stores_what_peewee_stored(tmp_path: Path) -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
    row: dict[str, Any] = dict(
        slug="x", title="Ünïcode", state="idea", rfc_id=None, owners=["ada", "é"],
        arbiters=[], tags=["t"], proposed_by="ada", proposed_at=when,
        removed=False, state_since=when - timedelta(days=1), html_url=None,
        path="rfcs/x.md", repo=None, graduated_at=None, graduated_by=None,
        extra={"k": [1, {"a": None}]}, body_sha="abc", last_entry_commit_at=when,
        last_commit_sha=None, updated_at=when, body="body\n",
    )
    a, b = open_cache(tmp_path / "a.sqlite3"), open_cache(tmp_path / "b.sqlite3")
    try:
        with a.write():
            a.CachedRFC.insert_many([row]).execute()  # peewee's own conversion
        with b.write():
            assert RowWriter(b.CachedRFC).write(b.db.sqlite_connection(), [row]) == 1
        cols = ", ".join(c for c in db.RFC_COLUMNS if c != "id")
        q = f"SELECT {cols} FROM cached_rfc"
        got_a = a.db.sqlite_connection().execute(q).fetchall()
        got_b = b.db.sqlite_connection().execute(q).fetchall()
        assert got_a == got_b and len(got_a) == 1
        # A missing column takes the field's default, as with peewee.
        with b.write():
            RowWriter(b.CachedRFC).write(b.db.sqlite_connection(), [
                {k: v for k, v in row.items() if k not in ("owners", "body")} | {"slug": "y"}
            ])
        y = b.rfc("y")
        assert y is not None and y.owners == () and y.body == ""
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------- no search_text on disk


def test_no_search_text_column_and_filter_texts(sb: Sandbox, cache: db.Cache) -> None:
    long_body = "Intro\n" + "Wörd " * 5000  # > SEARCH_BODY_CAP chars
    sb.commit_files("main", {"rfcs/big-one.md": entry("big-one", "Big ÖNE", long_body)},
                    "big", author=("Ada", "ada@x"))
    assert asyncio.run(resync(cache, sb.transport)).ok
    conn = cache.db.sqlite_connection()
    columns = {r[1] for r in conn.execute("PRAGMA table_info(cached_rfc)")}
    assert "search_text" not in columns and "body" in columns
    texts = {(k, s): t for k, s, t in cache.reader().filter_texts()}
    detail = cache.rfc("big-one")
    assert detail is not None
    big = texts[("rfc", "big-one")]
    assert big == search_text("big-one", detail.title, detail.body)
    assert big.startswith("big-one\nbig öne\n") and "wörd" in big and big.islower()
    assert len(big) == len("big-one\nbig öne\n") + SEARCH_BODY_CAP
    items = cache.list_items()
    assert {(i.kind, i.slug): i.search_text for i in items} == texts
    assert len(texts) == len(items) == N + 1


def _v3_cache(path: Path) -> None:
    """A version-3 file: this schema plus the old search_text column."""
    c = open_cache(path)
    with c.write():
        c.CachedRFC.insert(slug="old", title="Old", state="idea", path="rfcs/old.md",
                           body_sha="s", body="kept body").execute()
    c.close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE cached_rfc ADD COLUMN search_text TEXT NOT NULL DEFAULT ''")
    conn.execute("UPDATE cached_rfc SET search_text = 'old\nold\nkept body'")
    conn.execute("PRAGMA user_version = 3")
    conn.execute("UPDATE sync_state SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def test_version_3_cache_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    _v3_cache(path)
    c = open_cache(path)
    try:
        assert c.notice is None
        assert not list(tmp_path.glob("*.corrupt-*"))
        conn = c.db.sqlite_connection()
        assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION == 4
        assert "search_text" not in {r[1] for r in conn.execute("PRAGMA table_info(cached_rfc)")}
        assert c.get_state("schema_version") == "4"
        old = c.rfc("old")
        assert old is not None and old.body == "kept body"
    finally:
        c.close()


def test_older_cache_is_moved_aside_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    _v3_cache(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    c = open_cache(path)
    try:
        assert c.notice is not None
        assert "older rfctui" in c.notice and "schema version 2, expected 4" in c.notice
        assert "unreadable" not in c.notice
        assert len(list(tmp_path.glob("c.sqlite3.corrupt-*"))) == 1
    finally:
        c.close()
