"""The "Needs you" section, snoozes, since-last-seen, sort and group-by in the UI (issue 11).

Pilot tests over the cache the real reconciler built from the sample sandbox under a
fixed clock (tests/ui_fixtures.py). Marks live in the data directory under the cache
directory, so a second app on the same directory is a restart that keeps them.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ui_fixtures import BASE_URL, FIXED_NOW, make_app, quiet_environment, settle

import rfctui.screens.queue as queue_screen
from rfctui.marks import Marks
from rfctui.screens.queue import SIGN_IN_NOTE, what_is_new
from rfctui.widgets.detail import DetailPane
from rfctui.widgets.rfc_list import NEW_MARK, RfcList
from rfctui.widgets.status import StatusLine

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)
    # Staying on a detail marks it seen after a moment: here only enter does (no timing).
    monkeypatch.setattr(queue_screen, "SEEN_AFTER_SECONDS", 3600.0)


def rfc_list(app: Any) -> RfcList:
    return app.screen.query_one(RfcList)


def status_text(app: Any) -> str:
    return str(app.screen.query_one(StatusLine).render())


def queue_keys(app: Any) -> list[str]:
    return [r.queue.key for r in rfc_list(app).rows if r.queue is not None]


def move_to(app: Any, predicate: Any) -> None:
    lst = rfc_list(app)
    lst.cursor = next(i for i, r in enumerate(lst.rows) if predicate(r))


async def test_queue_rows_for_ada_in_attention_order(tmp_path: Path) -> None:
    app = make_app(tmp_path, known_login="ada")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        expected = app.session.queue("ada").items
        assert expected, "the sample gives ada things to do"
        assert queue_keys(app) == [q.key for q in expected]
        lst = rfc_list(app)
        # The section is the first thing in the pane, above the pending ideas.
        assert lst.rows[0].key == ("group", "queue")
        assert lst.rows[0].count == len(expected)
        first_other = next(i for i, r in enumerate(lst.rows) if r.is_header and r.group != "queue")
        assert lst.rows[first_other].group == "pending"
        assert f"needs you: {len(expected)}" in status_text(app)
        # Reason in words and age on the row itself.
        line = "".join(s.text for s in lst.render_line(1))
        assert expected[0].text[:10] in line and f"{expected[0].age_days}d" in line


async def test_a_login_with_no_roles_gets_an_empty_section(tmp_path: Path) -> None:
    app = make_app(tmp_path, known_login="nobody-here")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        assert queue_keys(app) == []
        assert lst.rows[0].key == ("group", "queue") and lst.rows[0].count == 0
        assert lst.rows[1].note is not None and "owns or arbitrates nothing" in lst.rows[1].note
        assert "needs you: 0" in status_text(app)


async def test_unknown_identity_hides_the_section_and_no_token_says_sign_in(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path / "a")  # a token, never verified on this machine
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert all(r.group != "queue" for r in rfc_list(app).rows)
        assert "needs you" not in status_text(app)
    from dataclasses import replace

    from ui_fixtures import fixed_clock

    from rfctui.app import RfcApp
    from rfctui.session import Session

    other = make_app(tmp_path / "b")
    cfg = replace(other.session.config, user_token=None)
    app = RfcApp(session=Session(cfg, clock=fixed_clock), sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        assert lst.rows[0].key == ("group", "queue") and lst.rows[1].note == SIGN_IN_NOTE


async def test_z_snoozes_a_row_and_it_stays_hidden_after_a_restart(tmp_path: Path) -> None:
    app = make_app(tmp_path, known_login="ada")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        before = queue_keys(app)
        target = before[2]
        move_to(app, lambda r: r.queue is not None and r.queue.key == target)
        await pilot.press("z")
        await settle(pilot)
        assert target not in queue_keys(app) and len(queue_keys(app)) == len(before) - 1
        assert f"needs you: {len(before) - 1} (1 snoozed)" in status_text(app)
        assert any("Snoozed until new activity" in n.message for n in app._notifications)
        # The cursor stays in the queue, on the row that took the snoozed one's place
        # (z, z, z works down the list), not on the section's header.
        row = app.screen.query_one(RfcList).highlighted_row
        assert row is not None and row.queue is not None and row.queue.key == before[3]
    # The marks file, not the cache, keeps it: a new app on the same directories.
    assert any(s.key == target for s in Marks(app.session.config).snoozes())
    again = make_app(tmp_path, known_login="ada")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert target not in queue_keys(again)
        assert f"needs you: {len(before) - 1} (1 snoozed)" in status_text(again)


async def test_z_elsewhere_only_explains(tmp_path: Path) -> None:
    app = make_app(tmp_path, known_login="ada")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        before = queue_keys(app)
        move_to(app, lambda r: r.item is not None)
        await pilot.press("z")
        await settle(pilot)
        assert queue_keys(app) == before
        assert any("Needs you" in n.message for n in app._notifications)


async def test_enter_on_a_queue_row_selects_its_entry_or_pending_idea(tmp_path: Path) -> None:
    app = make_app(tmp_path, known_login="ada")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        items = app.session.queue("ada").items
        review = next(q for q in items if q.reason == "review")
        move_to(app, lambda r: r.queue is not None and r.queue.key == review.key)
        await pilot.press("enter")
        await settle(pilot)
        chosen = rfc_list(app).highlighted_item
        assert chosen is not None and (chosen.kind, chosen.slug) == ("rfc", review.slug)
        assert app.screen.query_one(DetailPane).item == chosen
        pending = next(q for q in items if q.reason == "decide" and q.pr_number is not None)
        move_to(app, lambda r: r.queue is not None and r.queue.key == pending.key)
        await pilot.press("enter")
        await settle(pilot)
        chosen = rfc_list(app).highlighted_item
        assert chosen is not None and chosen.kind == "pending"
        assert chosen.pr_number == pending.pr_number


async def test_marker_shows_activity_since_last_seen_and_goes_once_opened(
    tmp_path: Path,
) -> None:
    slug = "typed-config"  # an open body-edit PR from the sample, three days old
    first = make_app(tmp_path, known_login="ada")
    marks = Marks(first.session.config)
    # Looked at it ten days ago: the PR came after.
    marks.mark_seen(slug, FIXED_NOW - timedelta(days=10))
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(first)
        assert slug in lst.new_slugs
        # Entries never opened date from when marks began (now): no marker.
        assert "feature-flags" not in lst.new_slugs
        index = next(
            i for i, r in enumerate(lst.rows) if r.item is not None and r.item.slug == slug
        )
        lst.scroll_to(y=max(0, index - 2), animate=False, immediate=True)
        await pilot.pause()
        row_y = index - round(lst.scroll_y)
        line = "".join(s.text for s in lst.render_line(row_y))
        assert line.lstrip().startswith(NEW_MARK)
        lst.cursor = index
        await settle(pilot)
        news = str(first.screen.query_one("#detail-news").render())
        assert "New since you last looked" in news and "PR #8" in news
        await pilot.press("enter")  # read it
        await settle(pilot)
        assert slug not in lst.new_slugs
    assert marks.seen()[slug] == FIXED_NOW
    again = make_app(tmp_path, known_login="ada")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert slug not in rfc_list(again).new_slugs


def test_what_is_new_names_the_changes() -> None:
    from rfctui.rows import PRRow

    seen = FIXED_NOW - timedelta(days=5)
    pr = PRRow(
        12, "meta_body_edit", "open", "t", "grace", FIXED_NOW - timedelta(days=9), None, None,
        FIXED_NOW - timedelta(days=1), "b", "https://x/pr/12",
    )
    new_pr = PRRow(
        13, "meta_claim", "open", "t", "grace", FIXED_NOW - timedelta(days=1), None, None,
        None, "b", "https://x/pr/13",
    )
    assert what_is_new(seen, None, [pr, new_pr], None) == "PR #12 updated, PR #13 opened"
    assert what_is_new(seen, None, [], FIXED_NOW) is None  # no detail: nothing to say
    assert what_is_new(None, None, [pr], FIXED_NOW) is None


async def test_sort_and_group_change_the_order_and_are_restored(tmp_path: Path) -> None:
    app = make_app(tmp_path, known_login="ada")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        grads = [r.item.rfc_id for r in lst.rows if r.item is not None and r.group == "graduated"]
        assert grads == sorted(grads), "graduated entries by id by default"
        ideas = [r.item.title for r in lst.rows if r.item is not None and r.group == "idea"]
        await pilot.press("s")  # name
        await settle(pilot)
        by_name = [r.item.title for r in lst.rows if r.item is not None and r.group == "idea"]
        assert by_name == sorted(ideas, key=str.casefold) and by_name != ideas
        assert "sort: name" in status_text(app)
        await pilot.press("b")  # by tag
        await settle(pilot)
        headers = [r.group for r in lst.rows if r.is_header]
        assert any(h.startswith("tag:") for h in headers) and "idea" not in headers
        assert "by tag" in status_text(app)
    again = make_app(tmp_path, known_login="ada")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(again)
        assert (lst.sort, lst.group_by) == ("name", "tag")
        assert "by tag · sort: name" in status_text(again)
        for _ in range(3):  # tag → owner → arbiter → state
            await pilot.press("b")
        await pilot.press("s", "s", "s", "s")  # and the sort to default
        await settle(pilot)
        assert (lst.sort, lst.group_by) == ("default", "state")
        assert "sort:" not in status_text(again)


async def test_a_view_key_without_views_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path, known_login="ada")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert any("No view 3" in n.message for n in app._notifications)


async def test_view_keys_put_a_saved_view_in_the_filter(tmp_path: Path) -> None:
    from dataclasses import replace

    from ui_fixtures import fixed_clock

    from rfctui.app import RfcApp
    from rfctui.session import Session
    from rfctui.widgets.filter_input import FilterInput

    base = make_app(tmp_path, known_login="ada")
    views = {"views": [{"name": "Parked", "query": "state:parked"}]}
    cfg = replace(base.session.config, queue_settings=views)
    app = RfcApp(session=Session(cfg, clock=fixed_clock), sync=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert app.screen.query_one(FilterInput).value == "state:parked"
        shown = [r.item for r in rfc_list(app).rows if r.item is not None]
        assert shown and all(i.state == "parked" for i in shown)
        assert rfc_list(app).has_focus  # keys keep working on the list
        await pilot.press("2")
        await settle(pilot)
        assert any("No view 2" in n.message for n in app._notifications)


async def test_a_malformed_setting_is_told_in_the_status_line_never_fatal(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from ui_fixtures import fixed_clock

    from rfctui.app import RfcApp
    from rfctui.session import Session

    base = make_app(tmp_path, known_login="ada")
    cfg = replace(base.session.config, queue_settings={"stale": {"idea": "banana"}})
    app = RfcApp(session=Session(cfg, clock=fixed_clock), sync=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "idea" in status_text(app) and "banana" in status_text(app)
        assert any("banana" in n.message for n in app._notifications)
        assert queue_keys(app), "the defaults still apply"


async def test_new_activity_after_a_sync_brings_the_marker(tmp_path: Path) -> None:
    """End to end: read an entry, somebody edits it on Gitea, a sweep brings it in."""
    from ui_fixtures import make_sandbox

    slug = "docs-as-code"
    sb = make_sandbox()
    app = make_app(tmp_path, sync=True, sandbox=sb, known_login="ada")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = rfc_list(app)
        assert lst.select_slug(slug)
        await settle(pilot)
        await pilot.press("enter")  # read it: seen now
        await settle(pilot)
        assert slug not in lst.new_slugs
        # An edit lands on main an hour later (the sandbox's clock moves on).
        sb.clock = lambda: FIXED_NOW + timedelta(hours=1)
        cfg = app.session.config
        path = f"rfcs/{slug}.md"
        async with httpx.AsyncClient(transport=sb.transport, base_url=BASE_URL) as client:
            got = await client.get(
                f"/api/v1/repos/{cfg.org}/{cfg.meta_repo}/contents/{path}",
                params={"ref": "main"},
                headers={"Authorization": "token ada-token"},
            )
        got.raise_for_status()
        text = base64.b64decode(got.json()["content"])
        sb.commit_files("main", {path: text + b"\nOne more line.\n"}, f"Edit {slug}")
        await pilot.press("escape")
        await pilot.press("R")
        await settle(pilot)
        assert slug in lst.new_slugs
        assert lst.highlighted_item is not None and lst.highlighted_item.slug == slug
        news = str(app.screen.query_one("#detail-news").render())
        assert "entry edited" in news


def test_list_order_groups_and_sorts_as_documented() -> None:
    from rfctui.rows import ListItem
    from rfctui.widgets.list_order import group_title, grouped, order_members

    a = ListItem("rfc", "a", "Zeta", "graduated", rfc_id=9, tags=("dx", "ci"), owners=("Ada",))
    b = ListItem("rfc", "b", "alpha", "graduated", rfc_id=2, tags=(), owners=("ada",))
    p = ListItem("pending", "p", "Idea", "pending", tags=("dx",))
    by_state = grouped([a, b, p], "state")
    assert [g for g, _m in by_state] == ["pending", "graduated"]
    assert [m.slug for m in order_members("graduated", by_state[1][1], "default")] == ["b", "a"]
    assert [m.slug for m in order_members("graduated", [a, b], "name")] == ["b", "a"]
    by_tag = dict(grouped([a, b, p], "tag"))
    assert list(by_tag) == ["pending", "tag:ci", "tag:dx", "tag:\x00none"]
    assert [m.slug for m in by_tag["tag:dx"]] == ["a"]  # pending ideas keep their group
    assert group_title("tag:\x00none") == "No tag"
    by_owner = dict(grouped([a, b], "owner"))
    assert list(by_owner) == ["owner:ada"]  # logins compare case-blind
    assert group_title("tag:[red]x\x1b[0m") == "Tag: [red]x"  # cleaned, not markup


def test_short_reason_words() -> None:
    from rfctui.widgets.list_order import short_reason

    items = app_free_queue_items()
    assert {short_reason(q) for q in items} >= {"decide", "review #8", "stale"}


def app_free_queue_items() -> list[Any]:
    from rfctui.attention import EntryFacts, PullFacts, attention_queue

    entry = EntryFacts("typed-config", "T", "idea", owners=("ada",), arbiters=("ada",),
                       state_since=FIXED_NOW - timedelta(days=90))
    pull = PullFacts(8, "typed-config", "meta_body_edit", "open", "grace",
                     FIXED_NOW - timedelta(days=1))
    return attention_queue("ada", [entry], [pull], now=FIXED_NOW)


async def test_time_in_state_is_read_from_history_after_a_sweep(tmp_path: Path) -> None:
    """A cache built by a cold read knows no exact time in state: after the first sweep
    the UI reads the history in the background, says so in the status line, and leaves
    nothing pending (issue 11 §2)."""
    from textual.message import Message

    from rfctui.messages import HistoryProgress, SyncFinished

    app = make_app(tmp_path, sync=True)
    seen: list[Message] = []

    def hook(message: Message) -> None:
        if isinstance(message, HistoryProgress | SyncFinished):
            seen.append(message)

    assert app.session.history_pending() > 0  # the fixture's cache was read cold
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(pilot)
        await pilot.pause()
        kinds = [type(m).__name__ for m in seen]
        assert "SyncFinished" in kinds and "HistoryProgress" in kinds, kinds
        # The walk starts after the sweep's result is shown, never before it.
        assert kinds.index("SyncFinished") < kinds.index("HistoryProgress"), kinds
        last = [m for m in seen if isinstance(m, HistoryProgress)][-1]
        assert last.finished and last.error is None and last.done > 0
        assert app.session.history_pending() == 0
        status = str(app.screen.query_one(StatusLine).render())
        assert "reading history" not in status  # cleared at the end
