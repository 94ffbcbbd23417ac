"""The queue from a real cache (issue 11): `rfctui.triage` and `Session.queue`.

Every case is planted in the sample sandbox through its API (tests/queue_world.py:
back-dated commits, PRs opened by the bot on behalf of ada, grace and ken) and synced
into a cache by the reconciler; the queue is then read the way the UI and the CLI read
it. Each reason code must appear for the right people and for nobody else.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from queue_world import PEOPLE, T0, World, build_world, commit_file

from rfctui.bot.errors import ActionsDisabled
from rfctui.config import ConfigError, load_config
from rfctui.triage import facts_from_rows, read_facts, read_rows

Row = tuple[str, str, int | None]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One planted world for the read-only tests of this module."""
    w = build_world(tmp_path_factory.mktemp("queue"))
    yield w


@pytest.fixture
def fresh_world(tmp_path: Path) -> World:
    """A world of its own, for a test that changes Gitea."""
    return build_world(tmp_path)


def planted(world: World, login: str, *, viewer: str | None = None, **kw: object) -> set[Row]:
    """``login``'s planted rows as ``viewer`` (whose marks apply to their own queue)."""
    s = world.session(viewer)
    try:
        result = s.queue(login, **kw)  # type: ignore[arg-type]
    finally:
        s.close()
    return {(i.reason, i.slug, i.pr_number) for i in result.items if i.slug.startswith("q-")}


def who_gets(world: World) -> dict[Row, set[str]]:
    out: dict[Row, set[str]] = {}
    for login in PEOPLE:
        for row in planted(world, login):
            out.setdefault(row, set()).add(login)
    return out


def test_each_reason_reaches_the_right_people_and_nobody_else(world: World) -> None:
    world.clock.now = T0 + timedelta(days=1)
    prs = world.prs
    assert who_gets(world) == {
        # an idea you arbitrate; a pending idea whose file at the PR head names you
        ("decide", "q-decide", None): {"grace"},
        ("decide", "q-hostile", None): {"ada"},
        ("decide", "q-pend-ada", prs["pend-ada"]): {"grace"},
        # a PR by somebody else on an entry you own or arbitrate (never the opener's)
        ("review", "q-parked", prs["edit-parked"]): {"ada", "margaret"},
        ("review", "q-decide", prs["claim-decide"]): {"linus", "grace"},
        # parked 200 days (committed back-dated), the owner only, not the arbiter
        ("stale", "q-parked", None): {"ada"},
        # your idea or pending idea names no arbiter
        ("needs_arbiter", "q-lonely", None): {"barbara"},
        ("needs_arbiter", "q-pend-none", prs["pend-none"]): {"grace"},
    }


def test_idle_pull_requests_wait_on_their_openers_only(world: World) -> None:
    world.clock.now = T0 + timedelta(days=20)  # 14 days is the default threshold
    prs = world.prs
    idle = {
        login: {pr for reason, _slug, pr in planted(world, login) if reason == "idle_pr"}
        for login in PEOPLE
    }
    assert idle == {
        "ada": {prs["pend-ada"]},
        "grace": {prs["pend-none"], prs["edit-parked"]},
        "ken": {prs["claim-decide"]},
        "linus": set(), "barbara": set(), "margaret": set(),
    }
    s = world.session(None)
    item = next(i for i in s.queue("ken").items if i.reason == "idle_pr")
    s.close()
    assert item.tier == "waiting" and item.age_days == 6  # 20 days idle, 14 allowed


def test_a_login_with_no_role_gets_an_empty_queue(world: World) -> None:
    world.clock.now = T0 + timedelta(days=1)
    s = world.session(None)
    try:
        nobody = s.queue("nobody-here")
        ada = s.queue("ADA")  # logins compare case-insensitively (§9)
    finally:
        s.close()
    assert nobody.items == [] and not nobody.has_roles
    assert ada.has_roles and ("stale", "q-parked") in {(i.reason, i.slug) for i in ada.items}


def test_json_is_the_attention_contract(world: World) -> None:
    world.clock.now = T0 + timedelta(days=1)
    s = world.session(None)
    doc = s.queue("grace").to_json()
    s.close()
    assert set(doc) == {"schema", "login", "generated_at", "items"}
    assert doc["schema"] == 1 and doc["login"] == "grace"
    assert doc["generated_at"] == "2026-09-02T09:00:00Z"
    for item in doc["items"]:
        assert set(item) == {"slug", "reason", "tier", "text", "since", "age_days",
                             "pr_number", "snoozed", "new_since_seen"}


def test_facts_come_from_one_statement(world: World) -> None:
    s = world.session(None)
    conn = s.cache().reader().conn
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        facts = read_facts(s.cache())
    finally:
        conn.set_trace_callback(None)
        s.close()
    assert len(facts.entries) > 30 and facts.pulls
    # entries and PRs in one statement; then the heads and the team file, one query each
    assert sum("cached_rfc" in q for q in seen) == 1, seen
    assert len([q for q in seen if q.lstrip().upper().startswith("SELECT")]) <= 3, seen


def test_arbiters_not_fetched_yet_say_so_and_decide_nothing(world: World) -> None:
    world.clock.now = T0 + timedelta(days=1)
    s = world.session(None)
    path = s.config.cache_file
    s.close()
    conn = sqlite3.connect(path)  # any connection reads the same rows
    rfcs, pulls = read_rows(conn)
    conn.close()
    from rfctui.triage import build_queue

    facts = facts_from_rows(rfcs, pulls, heads={})  # a cache that has fetched no head yet
    grace = build_queue(facts, "grace", now=world.clock.now)
    assert ("decide", "q-pend-ada") not in {(i.reason, i.slug) for i in grace.items}
    assert any("arbiters not fetched yet" in n for n in grace.notes)
    known = build_queue(read_facts_of(world), "grace", now=world.clock.now)
    assert not any("not fetched" in n for n in known.notes)


def read_facts_of(world: World):  # type: ignore[no-untyped-def]
    s = world.session(None)
    try:
        return read_facts(s.cache())
    finally:
        s.close()


def test_team_file_then_personal_config_set_the_thresholds(fresh_world: World) -> None:
    w = fresh_world
    w.clock.now = T0 + timedelta(days=1)
    commit_file(w.sb, ".rfctui.toml",
                '[stale]\nparked = "never"\n\n[[views]]\nname = "Parked"\nquery = "state:parked"\n',
                w.clock.now)
    w.sync()
    s = w.session(None)
    team = s.queue("ada")
    s.close()
    assert ("stale", "q-parked", None) not in planted(w, "ada")
    assert [v.name for v in team.views] == ["Parked"] and team.notes == []
    # personal config wins over the team file
    s = w.session(None, queue_settings={"stale": {"parked": "90d"}})
    mine = s.queue("ada")
    s.close()
    assert ("stale", "q-parked") in {(i.reason, i.slug) for i in mine.items}
    # a malformed team file is reported in one line and ignored: the defaults apply
    commit_file(w.sb, ".rfctui.toml", '[stale]\nparked = "forever"\n', w.clock.now)
    w.sync()
    s = w.session(None)
    bad = s.queue("ada")
    s.close()
    assert ("stale", "q-parked") in {(i.reason, i.slug) for i in bad.items}
    assert len(bad.notes) == 1 and "stale.parked" in bad.notes[0] and "\n" not in bad.notes[0]


def test_snooze_hides_a_row_until_new_activity(fresh_world: World) -> None:
    w = fresh_world
    w.clock.now = T0 + timedelta(days=1)
    pr = w.prs["edit-parked"]
    s = w.session("ada")
    asyncio.run(s.identify())  # ada's own queue: her marks apply
    review = next(i for i in s.queue("ada").items if i.key == f"review:q-parked#{pr}")
    s.marks.snooze(review)
    s.close()
    assert ("review", "q-parked", pr) not in planted(w, "ada", viewer="ada")
    assert ("review", "q-parked", pr) in planted(w, "ada", viewer="ada", include_snoozed=True)
    s = w.session("ada")
    shown = {i.key: i.snoozed for i in s.queue("ada", include_snoozed=True).items}
    hidden = s.queue("ada").snoozed_hidden
    s.close()
    assert shown[review.key] is True and hidden == 1
    # ada's marks are hers: margaret's queue, even seen from ada's machine, is whole
    assert ("review", "q-parked", pr) in planted(w, "margaret", viewer="ada")
    assert ("review", "q-parked", pr) in planted(w, "ada", viewer="grace")
    w.sync("full")  # nothing new: still hidden
    assert ("review", "q-parked", pr) not in planted(w, "ada", viewer="ada")
    # grace pushes to her PR an hour later: the row is back
    w.clock.now += timedelta(hours=1)
    s = w.session(None)
    branch = s.cache().pull(pr).head_branch  # type: ignore[union-attr]
    s.close()
    commit_file(w.sb, "rfcs/q-parked.md", "---\nslug: q-parked\ntitle: Parked long ago\n"
                "state: parked\nproposed_by: ada\nowners: [ada]\narbiters: [margaret]\n---\n"
                "Even better.\n", w.clock.now, branch=branch)
    w.sync()
    s = w.session("ada")
    back = [i for i in s.queue("ada").items if i.key == review.key]
    s.close()
    assert len(back) == 1 and not back[0].snoozed


def test_new_since_last_seen(fresh_world: World) -> None:
    w = fresh_world
    w.clock.now = T0 + timedelta(days=1)
    s = w.session("ada")
    asyncio.run(s.identify())

    def stale_row_is_new() -> bool:
        return next(i for i in s.queue("ada").items if i.key == "stale:q-parked").new_since_seen

    assert stale_row_is_new()  # never opened
    s.marks.mark_seen("q-parked", w.clock.now)
    assert not stale_row_is_new()
    w.clock.now += timedelta(hours=2)
    commit_file(w.sb, "rfcs/q-parked.md", "---\nslug: q-parked\ntitle: Parked long ago\n"
                "state: parked\nproposed_by: ada\nowners: [ada]\narbiters: [margaret]\n---\n"
                "Edited on main.\n", w.clock.now)
    w.sync()
    assert stale_row_is_new()
    s.close()


def _offline(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("no network in this test", request=request)


def test_without_a_login_the_known_identity_is_used_offline(world: World) -> None:
    world.clock.now = T0 + timedelta(days=1)
    s = world.session("linus")
    with pytest.raises(ActionsDisabled):
        s.queue()  # never verified on this machine, and queue() never asks Gitea
    assert asyncio.run(s.queue_verified()).login == "linus"  # asks Gitea once
    s.close()
    offline = world.session("linus", transport=httpx.MockTransport(_offline))
    try:
        assert offline.queue().login == "linus"
        assert asyncio.run(offline.queue_verified()).login == "linus"
    finally:
        offline.close()
    nobody = world.session(None)
    try:
        with pytest.raises(ActionsDisabled):
            asyncio.run(nobody.queue_verified())  # no token: one line, never a crash
    finally:
        nobody.close()


def test_personal_queue_settings_are_validated(tmp_path: Path) -> None:
    def load(text: str) -> object:
        f = tmp_path / "c.toml"
        f.write_text('gitea_url = "https://g.example"\n' + text)
        return load_config({"config": str(f)}, environ={})

    cfg = load('[stale]\nidea = "2w"\n[queue]\nidle_pr = "3d"\n'
               '[[views]]\nname = "Mine"\nquery = "owner:me"\n')
    assert cfg.queue_settings == {  # type: ignore[attr-defined]
        "stale": {"idea": "2w"}, "queue": {"idle_pr": "3d"},
        "views": [{"name": "Mine", "query": "owner:me"}],
    }
    with pytest.raises(ConfigError, match="stale.parkd"):
        load('[stale]\nparkd = "2w"\n')
    with pytest.raises(ConfigError, match="queue.idle_pr"):
        load('[queue]\nidle_pr = "soon"\n')
    # stale_days, the older single threshold, still works: idea and parked, unless named
    old = load('stale_days = 45\n[stale]\nidea = "10d"\n')
    assert old.stale_days == 45  # type: ignore[attr-defined]
    assert old.queue_settings["stale"] == {  # type: ignore[attr-defined]
        "idea": "10d", "parked": "45d"}
    assert load("").queue_settings == {}  # type: ignore[attr-defined]


def test_a_pending_idea_shows_its_own_title(world: World) -> None:
    s = world.session(None)
    try:
        item = next(i for i in s.queue("grace").items if i.slug == "q-pend-ada")
    finally:
        s.close()
    assert item.reason == "decide" and item.title == "Ada's pending idea"


def test_an_unchanged_cache_is_not_read_again_and_a_sweep_is_seen(fresh_world: World) -> None:
    w = fresh_world
    w.clock.now = T0 + timedelta(days=1)
    s = w.session("ada")
    try:
        from rfctui.triage import FactsMemo

        memo = FactsMemo()
        first = read_facts(s.cache(), memo)
        assert read_facts(s.cache(), memo) is first  # nothing changed: the same facts
        before = {i.key for i in s.queue("barbara").items}
        assert "needs_arbiter:q-lonely" in before
        # barbara's idea gets an arbiter on main; this very session sweeps it in
        commit_file(w.sb, "rfcs/q-lonely.md", "---\nslug: q-lonely\ntitle: Nobody arbitrates\n"
                    "state: idea\nproposed_by: barbara\nowners: [barbara]\narbiters: [ken]\n"
                    "---\nWhy.\n", w.clock.now)
        assert asyncio.run(s.sweep("quick")).ok
        after = {i.key for i in s.queue("barbara").items}
        assert "needs_arbiter:q-lonely" not in after
        assert "decide:q-lonely" in {i.key for i in s.queue("ken").items}
        assert read_facts(s.cache(), memo) is not first
    finally:
        s.close()
