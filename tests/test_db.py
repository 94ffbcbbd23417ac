"""Cache file and actions log: opening, moving bad files aside, read API (§4.2, §6.4)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from rfctui import db
from rfctui.db import ListItem, open_actions, open_cache

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _rfc(slug: str, **over: object) -> dict[str, object]:
    row: dict[str, object] = dict(
        slug=slug,
        path=f"rfcs/{slug}.md",
        title=f"Title of {slug}",
        state="idea",
        owners=[],
        arbiters=["grace"],
        tags=["dx"],
        extra={},
        body=f"Body of {slug}",
        body_sha="0" * 40,
        proposed_by="ada",
        proposed_at=NOW - timedelta(days=10),
        state_since=NOW - timedelta(days=10),
        html_url=f"http://h/rfcs/meta/src/branch/main/rfcs/{slug}.md",
        updated_at=NOW,
    )
    row.update(over)
    return row


def _pr(number: int, slug: str, kind: str, state: str = "open", **over: object) -> dict:
    branch = {"idea": f"propose/{slug}", "meta_claim": f"claim/{slug}",
              "meta_body_edit": f"edit/{slug}/1", "meta_metadata": f"metadata/{slug}"}[kind]
    row = dict(
        repo="rfcs/meta", pr_number=number, rfc_slug=slug, pr_kind=kind, title=f"PR {number}",
        description="", state=state, opened_by="ada", user_login="rfc-bot",
        opened_at=NOW - timedelta(days=1), updated_at=NOW, head_branch=branch,
        base_branch="main", head_sha="1" * 40, html_url=f"http://h/rfcs/meta/pulls/{number}",
    )
    row.update(over)
    return row


@pytest.fixture
def cache(tmp_path: Path):
    c = open_cache(tmp_path / "cache.sqlite", clock=lambda: NOW)
    yield c
    c.close()


def test_new_cache_is_wal_with_busy_timeout_and_schema(cache: db.Cache) -> None:
    assert cache.notice is None
    q = cache.db.execute_sql
    assert q("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert q("PRAGMA busy_timeout").fetchone()[0] == db.BUSY_TIMEOUT_MS
    assert q("PRAGMA page_size").fetchone()[0] == 8192
    assert q("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
    assert cache.get_state("schema_version") == str(db.SCHEMA_VERSION)
    assert cache.list_items() == []
    assert cache.sync_status().synced_at is None


def test_reopen_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with open_cache(path) as c, c.write():
        c.upsert_rfcs([_rfc("alpha")])
    with open_cache(path) as c:
        assert c.notice is None
        assert [i.slug for i in c.list_items()] == ["alpha"]


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\x00" * 500)


def _truncated(path: Path) -> None:
    with open_cache(path) as c, c.write():
        c.upsert_rfcs([_rfc(f"s{i}", body="x" * 3000) for i in range(200)])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _wrong_version(path: Path) -> None:
    with open_cache(path) as c:
        c.db.execute_sql(f"PRAGMA user_version = {db.SCHEMA_VERSION + 1}")


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_garbage, "file is not a database"),
        (_truncated, ""),
        (_wrong_version, f"schema version {db.SCHEMA_VERSION + 1}, expected {db.SCHEMA_VERSION}"),
        (_foreign_sqlite, "not an rfctui file"),
    ],
    ids=["garbage", "truncated", "wrong-version", "foreign-sqlite"],
)
def test_bad_cache_is_moved_aside_with_notice(tmp_path: Path, spoil, reason: str) -> None:
    path = tmp_path / "cache.sqlite"
    spoil(path)
    before = path.read_bytes()
    c = open_cache(path, clock=lambda: NOW)
    try:
        assert c.notice is not None
        assert "\n" not in c.notice
        assert c.notice.startswith(f"cache at {path} was unreadable (")
        assert reason in c.notice
        aside = tmp_path / "cache.sqlite.corrupt-20261101T120000Z"
        assert f"moved aside to {aside} and started an empty cache" in c.notice
        assert aside.read_bytes() == before  # kept, byte for byte
        assert c.list_items() == []  # a fresh, usable cache
        with c.write():
            c.upsert_rfcs([_rfc("fresh")])
        assert [i.slug for i in c.list_items()] == ["fresh"]
    finally:
        c.close()


def test_second_bad_file_same_second_gets_distinct_name(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    for _ in range(2):
        _garbage(path)
        open_cache(path, clock=lambda: NOW).close()
    names = sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name)
    assert names == ["cache.sqlite.corrupt-20261101T120000Z",
                     "cache.sqlite.corrupt-20261101T120000Z-2"]


def test_directory_in_the_way_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.mkdir()
    with open_cache(path, clock=lambda: NOW) as c:
        assert c.notice is not None and "not a regular file" in c.notice
        assert path.is_file()


def test_list_items_pending_badges_and_stale(cache: db.Cache) -> None:
    with cache.write():
        cache.upsert_rfcs([
            _rfc("alpha", state="parked", state_since=NOW - timedelta(days=61)),
            _rfc("beta", state="graduated", rfc_id=7, state_since=NOW - timedelta(days=400)),
            _rfc("gone", removed=True),
            _rfc("weird", state="Frozen", state_since=NOW - timedelta(days=90)),
        ])
        cache.upsert_prs([
            _pr(1, "alpha", "meta_claim"),
            _pr(2, "alpha", "meta_body_edit"),
            _pr(3, "alpha", "meta_body_edit"),
            _pr(4, "alpha", "meta_metadata", state="merged"),
            _pr(5, "newidea", "idea", title="A new idea", opened_by="grace",
                opened_at=NOW - timedelta(days=100)),
            _pr(6, "gone", "idea"),  # slug only has a removed entry -> still pending
            _pr(7, "beta", "idea"),  # slug has an entry -> not pending
            _pr(8, "closedidea", "idea", state="closed"),
        ])
    items = {(i.kind, i.slug): i for i in cache.list_items(now=NOW, stale_days=60)}
    assert set(items) == {("rfc", "alpha"), ("rfc", "beta"), ("rfc", "gone"), ("rfc", "weird"),
                          ("pending", "newidea"), ("pending", "gone")}
    alpha = items[("rfc", "alpha")]
    assert alpha.open_prs == {"meta_claim": 1, "meta_body_edit": 2}
    assert alpha.stale and alpha.arbiters == ("grace",) and alpha.tags == ("dx",)
    assert "body of alpha" in alpha.search_text and alpha.search_text.islower()
    assert not items[("rfc", "beta")].stale  # terminal states rest, they are never stale
    assert items[("rfc", "weird")].stale and items[("rfc", "weird")].state == "Frozen"
    assert items[("rfc", "gone")].removed and not items[("rfc", "gone")].stale
    pending = items[("pending", "newidea")]
    assert pending == ListItem(
        kind="pending", slug="newidea", title="A new idea", state="pending",
        proposed_by="grace", proposed_at=NOW - timedelta(days=100), stale=True,
        state_since=NOW - timedelta(days=100), open_prs={"idea": 1}, pr_number=5,
        html_url="http://h/rfcs/meta/pulls/5", search_text="newidea\na new idea\n",
    )
    assert not cache.list_items(now=NOW, stale_days=365)[0].stale
    status = cache.sync_status()
    assert (status.rfc_count, status.pending_count) == (3, 2)


def test_rfc_detail_and_pulls(cache: db.Cache) -> None:
    extra = {"waiting_on": "funding", "superseded_by": None}
    with cache.write():
        cache.upsert_rfcs([_rfc("alpha", extra=extra, owners=["ada", "grace"])])
        cache.upsert_prs([_pr(2, "alpha", "meta_claim", state="closed"),
                          _pr(3, "alpha", "meta_body_edit")])
    d = cache.rfc("alpha")
    assert d is not None
    assert d.extra == extra and list(d.extra) == ["waiting_on", "superseded_by"]
    assert d.owners == ("ada", "grace")
    assert d.proposed_at == NOW - timedelta(days=10) and d.proposed_at.tzinfo is not None
    assert [(p.number, p.state) for p in d.pulls] == [(3, "open"), (2, "closed")]
    assert cache.rfc("nope") is None
    assert cache.pull(3).kind == "meta_body_edit"


def test_datetimes_stored_as_rfc3339_utc_text(cache: db.Cache) -> None:
    plus8 = datetime(2026, 1, 2, 19, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    with cache.write():
        cache.upsert_rfcs([_rfc("alpha", proposed_at=plus8)])
    raw = cache.db.execute_sql("SELECT proposed_at FROM cached_rfc").fetchone()[0]
    assert raw == "2026-01-02T11:04:05Z"
    assert db.parse_dt("2022-04-06T02:34:24+08:00") == datetime(2022, 4, 5, 18, 34, 24, tzinfo=UTC)
    assert db.parse_dt("0001-01-01T00:00:00Z") is None


def test_export_has_every_column(cache: db.Cache) -> None:
    with cache.write():
        cache.upsert_rfcs([_rfc("alpha")])
        cache.upsert_prs([_pr(1, "alpha", "meta_claim")])
        cache.set_state({"synced_at": "2026-11-01T12:00:00Z"})
    data = cache.export()
    assert data["schema"] == 1 and data["synced_at"] == "2026-11-01T12:00:00Z"
    want_rfc = set(db.RFC_COLUMNS) - {"id"}
    assert set(data["rfcs"][0]) == want_rfc
    assert set(data["pulls"][0]) == set(db.PR_COLUMNS) - {"id"}
    for col in ("slug", "title", "state", "rfc_id", "repo", "proposed_by", "proposed_at",
                "graduated_at", "graduated_by", "owners", "arbiters", "tags", "body",
                "body_sha", "removed", "last_entry_commit_at", "updated_at"):
        assert col in data["rfcs"][0]  # §4.2 minimum
    assert data["rfcs"][0]["proposed_at"] == "2026-10-22T12:00:00Z"
    import json

    json.dumps(data)  # JSON-able as is
    cmp = cache.export(volatile=False)
    assert "synced_at" not in cmp and "updated_at" not in cmp["rfcs"][0]


def test_write_is_all_or_nothing(cache: db.Cache) -> None:
    with pytest.raises(RuntimeError), cache.write():
        cache.upsert_rfcs([_rfc("alpha")])
        raise RuntimeError("network failed")
    assert cache.list_items() == []


def test_reader_never_sees_half_a_write(tmp_path: Path) -> None:
    """A second connection (as a UI worker thread) sees before or after, never between."""
    path = tmp_path / "c.sqlite"
    writer = open_cache(path)
    reader = open_cache(path)
    seen: list[int] = []
    inside = threading.Event()
    release = threading.Event()

    def read() -> None:
        inside.wait(5)
        seen.append(len(reader.list_items()))
        release.set()

    t = threading.Thread(target=read)
    t.start()
    with writer.write():
        writer.upsert_rfcs([_rfc("a")])
        inside.set()
        release.wait(5)
        writer.upsert_rfcs([_rfc("b")])
    t.join()
    assert seen == [0]
    assert len(reader.list_items()) == 2
    writer.close()
    reader.close()


def test_two_writers_wait_instead_of_locked(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    a, b = open_cache(path), open_cache(path)
    errors: list[BaseException] = []
    started = threading.Event()

    def second() -> None:
        started.wait(5)
        try:
            with b.write():
                b.upsert_rfcs([_rfc("from-b")])
        except BaseException as exc:  # pragma: no cover - the failure we guard against
            errors.append(exc)

    t = threading.Thread(target=second)
    t.start()
    with a.write():
        a.upsert_rfcs([_rfc("from-a")])
        started.set()
        threading.Event().wait(0.3)  # hold the lock while b tries (b must wait, not fail)
    t.join()
    assert errors == []
    assert {i.slug for i in a.list_items()} == {"from-a", "from-b"}
    a.close()
    b.close()


def test_two_caches_in_one_process_are_independent(tmp_path: Path) -> None:
    a, b = open_cache(tmp_path / "a.sqlite"), open_cache(tmp_path / "b.sqlite")
    with a.write():
        a.upsert_rfcs([_rfc("only-a")])
    assert [i.slug for i in a.list_items()] == ["only-a"]
    assert b.list_items() == []
    a.close()
    b.close()


# ---------------------------------------------------------------- actions log


def test_actions_log_lifecycle(tmp_path: Path) -> None:
    log = open_actions(tmp_path / "data" / "actions.sqlite", clock=lambda: NOW)
    assert log.notice is None
    q = log.db.execute_sql
    assert q("PRAGMA journal_mode").fetchone()[0] == "wal"
    a = log.add("propose_rfc", "typed-config", "ada", {"title": "Typed", "body": "why"})
    b = log.add("open_claim_pr", "alpha", "grace", {})
    assert [r.id for r in log.pending()] == [a, b]
    log.mark_done(a, 12, "http://h/pulls/12")
    log.mark_failed(b, "Gitea said 500\nat /api")
    row = log.get(a)
    assert row is not None and row.status == "done" and row.pr_number == 12
    assert row.payload == {"title": "Typed", "body": "why"}
    assert log.get(b).error == "Gitea said 500 at /api"
    assert [r.id for r in log.failed()] == [b]
    assert log.pending() == []
    assert log.find_pr_actor("typed-config", 12) == "ada"
    assert log.find_pr_actor("typed-config", 13) is None
    assert log.find_pr_actor("alpha", 12) is None
    assert log.actors() == {("typed-config", 12): "ada"}
    log.discard(b)
    assert log.failed() == [] and log.get(b).status == "discarded"
    assert [r.id for r in log.all()] == [a, b]
    assert log.get(999) is None
    with pytest.raises(KeyError):
        log.mark_done(999, 1)
    log.close()


def test_actions_log_rejects_bad_input(tmp_path: Path) -> None:
    from rfctui.entry import InvalidSlug

    with open_actions(tmp_path / "a.sqlite") as log:
        with pytest.raises(ValueError, match="unknown action kind"):
            log.add("delete_everything", "alpha", "ada", {})
        with pytest.raises(InvalidSlug):
            log.add("propose_rfc", "../etc/passwd", "ada", {})
        with pytest.raises(ValueError, match="credentials"):
            log.add("propose_rfc", "alpha", "ada", {"nested": {"user_token": "x"}})
        assert log.all() == []


def test_set_actor_names_only_a_row_saved_without_anyone(tmp_path: Path) -> None:
    with open_actions(tmp_path / "actions.sqlite", clock=lambda: NOW) as log:
        nobody = log.add("propose_rfc", "alpha", "", {"slug": "alpha", "actor": None})
        ada = log.add("open_claim_pr", "beta", "ada", {"slug": "beta"})
        log.set_actor(nobody, "grace", "Grace Hopper")
        row = log.get(nobody)
        assert row is not None and row.on_behalf_of == "grace"
        assert row.payload == {
            "slug": "alpha", "actor": {"login": "grace", "full_name": "Grace Hopper"}
        }
        with pytest.raises(db.ActionStateError, match="already on behalf of ada"):
            log.set_actor(ada, "grace", "Grace Hopper")  # never re-attributed
        with pytest.raises(db.ActionStateError, match="already on behalf of grace"):
            log.set_actor(nobody, "mallory", "M")
        assert log.get(ada).on_behalf_of == "ada"
        with pytest.raises(KeyError):
            log.set_actor(999, "grace", "Grace Hopper")


def test_corrupt_actions_log_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "actions.sqlite"
    _garbage(path)
    with open_actions(path, clock=lambda: NOW) as log:
        assert log.notice is not None and "actions log at" in log.notice
        assert (tmp_path / "actions.sqlite.corrupt-20261101T120000Z").exists()
        assert log.all() == []


def test_cache_and_actions_log_are_different_files(tmp_path: Path) -> None:
    """Opening the actions log as a cache (or vice versa) is refused, not misread."""
    path = tmp_path / "x.sqlite"
    open_actions(path).close()
    with open_cache(path, clock=lambda: NOW) as c:
        assert c.notice is not None and "not an rfctui file" in c.notice


def test_done_action_cannot_be_discarded(tmp_path: Path) -> None:
    """The done row attributes its PR to the real person (§6.3): it stays."""
    with open_actions(tmp_path / "a.sqlite", clock=lambda: NOW) as log:
        done = log.add("open_claim_pr", "alpha", "ada", {})
        log.mark_done(done, 7)
        pending = log.add("open_claim_pr", "beta", "ada", {})
        with pytest.raises(db.ActionStateError, match=r"action #\d+ is done \(PR #7\)"):
            log.discard(done)
        assert log.get(done).status == "done" and log.actors() == {("alpha", 7): "ada"}
        log.discard(pending)
        log.discard(pending)  # again: nothing to do
        assert log.get(pending).status == "discarded"
        with pytest.raises(KeyError):
            log.discard(999)


def test_busy_actions_log_is_an_error_not_moved_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox is never moved aside because another process holds a lock on it."""
    monkeypatch.setattr(db.files, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "actions.sqlite"
    with open_actions(path) as log:
        log.add("open_claim_pr", "alpha", "ada", {})
    holder = sqlite3.connect(path)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(db.CacheError, match="it was left as it is") as info:
            open_actions(path)
        assert "\n" not in str(info.value)
    finally:
        holder.rollback()
        holder.close()
    assert [p.name for p in tmp_path.iterdir() if "corrupt" in p.name] == []
    with open_actions(path) as log:
        assert log.notice is None and len(log.all()) == 1


def test_actions_log_without_repair_leaves_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "actions.sqlite"
    _garbage(path)
    with pytest.raises(db.CacheError, match="left as it is"):
        open_actions(path, repair=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["actions.sqlite"]


def test_list_head_equals_the_start_of_list_items(cache: db.Cache) -> None:
    """The first screen (list_head) must show exactly what the whole list shows later."""
    order = ("pending", "idea", "parked", "graduated", "declined")
    with cache.write():
        cache.upsert_rfcs([
            _rfc("alpha", state="parked", state_since=NOW - timedelta(days=61)),
            _rfc("beta", state="graduated", rfc_id=7, state_since=NOW - timedelta(days=400)),
            _rfc("delta", state="idea", owners=["ada"], state_since=NOW - timedelta(days=90)),
            _rfc("echo", state="idea"),
            _rfc("gone", removed=True),
            _rfc("weird", state="Frozen", state_since=NOW - timedelta(days=90)),
            _rfc("zulu", state="declined", rfc_id=12),
        ])
        cache.upsert_prs([
            _pr(1, "alpha", "meta_claim"),
            _pr(2, "delta", "meta_body_edit"),
            _pr(3, "delta", "meta_body_edit"),
            _pr(4, "echo", "meta_metadata", state="merged"),
            _pr(5, "newidea", "idea", title="A new idea", opened_at=NOW - timedelta(days=100)),
            _pr(6, "gone", "idea"),  # only a removed entry: pending
            _pr(7, "beta", "idea"),  # a live entry: not pending
            _pr(8, "other-idea", "idea"),
            _pr(9, "newidea", "meta_claim"),
        ])
        cache.set_state({"synced_at": "2026-11-01T11:00:00Z", "last_kind": "full",
                         "last_ok": "1"})
    full = cache.list_items(now=NOW, stale_days=60)
    pending = [i for i in full if i.kind == "pending"]
    # The left pane's order: pending ideas, then each state of `order`, then the rest.
    rank = {s: n for n, s in enumerate(order)}
    rfcs = sorted((i for i in full if i.kind == "rfc"),
                  key=lambda i: (rank.get(i.state, len(order)), i.slug))
    expected = pending + rfcs
    assert [i.slug for i in pending] == ["gone", "newidea", "other-idea"]
    assert any(i.stale for i in expected) and any(i.open_prs for i in expected)
    counts: dict[str, int] = {}
    for i in rfcs:
        counts[i.state] = counts.get(i.state, 0) + 1
    for limit in (0, 1, 2, 3, 4, 6, len(expected), len(expected) + 5):
        head = cache.list_head(order, limit, now=NOW, stale_days=60)
        assert head.items == expected[:limit], limit
        assert head.state_counts == counts
        assert head.status == cache.sync_status()
        assert (head.status.rfc_count, head.status.pending_count) == (6, 3)
        assert head.complete == (limit >= len(expected))
