"""The attention queue (SPEC §9, issue 11): rfctui.attention, a pure module.

A small hand-built world whose expected queues are written out by hand (ids, order,
ages) for ada, grace and a login with no role; then snoozes, last-seen marks, the JSON
contract, and hypothesis invariants checked against a naive O(n·m) oracle written here
from the rules of the issue, not from the module.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfctui.attention import (
    EntryFacts,
    PullFacts,
    QueueItem,
    Snooze,
    Thresholds,
    attention_queue,
    pending_arbiters_unknown,
    snooze,
    to_json,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


ENTRIES = [
    # grace must decide; ada owns it (10 days in idea: not stale yet, has an arbiter).
    EntryFacts("typed-config", "Typed config", "idea", ("ada",), ("grace",), "ada",
               ago(10), ago(10)),
    # ada proposed it, nobody owns it, no arbiter, 45 days in idea: needs_arbiter + stale.
    EntryFacts("old-idea", "Old idea", "proposed", (), (), "ada", ago(45), ago(45)),
    # parked 400 days ago, body edited 2 days ago: stale all the same (state_since counts).
    EntryFacts("parked-long", "Parked", "parked", ("Ada",), ("grace",), "grace",
               ago(400), ago(2)),
    # graduated long ago: never stale.
    EntryFacts("done-rfc", "Done", "graduated", ("ada",), ("grace",), "ada", ago(1000),
               ago(1000)),
    # a state rfctui does not know: stale like parked (180 days).
    EntryFacts("weird", "Weird", "Experimental", ("grace",), (), "grace", ago(200), ago(200)),
    # removed out of band: asks nothing of anyone.
    EntryFacts("gone", "Gone", "idea", ("ada",), ("ada",), "ada", ago(300), ago(300),
               removed=True),
]

PULLS = [
    PullFacts(12, "typed-config", "meta_claim", "open", "grace", ago(3), ago(1), "a" * 40),
    PullFacts(13, "parked-long", "meta_body_edit", "open", "ada", ago(30), ago(20), "b" * 40),
    PullFacts(14, "new-thing", "idea", "open", "grace", ago(5), ago(5), "c" * 40,
              arbiters=("ADA",), title="New thing"),
    PullFacts(15, "lonely", "idea", "open", "ada", ago(2), ago(2), "d" * 40, arbiters=()),
    PullFacts(16, "unknown-arb", "idea", "open", "grace", ago(1), ago(1), "e" * 40,
              arbiters=None),
    PullFacts(17, "typed-config", "meta_metadata", "closed", "grace", ago(60), ago(50), "f" * 40),
    PullFacts(18, "done-rfc", "meta_metadata", "open", "rfc-bot", ago(40), ago(39), "0" * 40),
    PullFacts(19, "gone", "meta_claim", "open", "grace", ago(9), ago(9), "1" * 40),
    PullFacts(20, "old-idea", "meta_body_edit", "merged", "ada", ago(90), ago(80), "2" * 40),
]


def rows(items: list[QueueItem]) -> list[tuple[str, str, int | None]]:
    return [(i.reason, i.slug, i.pr_number) for i in items]


def queue(login: str | None, **kw: object) -> list[QueueItem]:
    return attention_queue(login, ENTRIES, PULLS, now=NOW, **kw)  # type: ignore[arg-type]


ADA = [
    ("review", "done-rfc", 18),  # blocking, opened 40 days ago
    ("decide", "new-thing", 14),  # blocking, 5 days
    ("review", "typed-config", 12),  # blocking, 3 days
    ("stale", "parked-long", None),  # action, 400 - 180 = 220 days over
    ("needs_arbiter", "old-idea", None),  # action, 45 days
    ("stale", "old-idea", None),  # action, 45 - 30 = 15 days over
    ("needs_arbiter", "lonely", 15),  # action, 2 days
    ("idle_pr", "parked-long", 13),  # waiting, 20 - 14 = 6 days over
]
GRACE = [
    ("review", "done-rfc", 18),  # blocking, 40 days: she arbitrates it, the bot opened it
    ("review", "parked-long", 13),  # blocking, 30 days
    ("decide", "typed-config", None),  # blocking, 10 days
    ("stale", "weird", None),  # action, 200 - 180 = 20 days over
]


def test_ada_queue_each_reason_in_order() -> None:
    items = queue("ada")
    assert rows(items) == ADA
    ages = {(i.reason, i.slug): i.age_days for i in items}
    assert ages[("stale", "parked-long")] == 220
    assert ages[("stale", "old-idea")] == 15
    assert ages[("idle_pr", "parked-long")] == 6
    assert ages[("review", "done-rfc")] == 40
    assert [i.tier for i in items] == ["blocking"] * 3 + ["action"] * 4 + ["waiting"]


def test_grace_queue_and_nobody() -> None:
    assert rows(queue("grace")) == GRACE
    assert queue("nobody") == []
    assert queue("") == []
    assert queue(None) == []


def test_logins_compare_ignoring_case_and_show_as_stored() -> None:
    assert rows(queue("ADA")) == ADA
    assert rows(queue("Grace")) == GRACE
    review = next(i for i in queue("ada") if i.pr_number == 12)
    assert review.text == "review: claim PR #12 by grace"


def test_texts_are_words_with_the_real_person() -> None:
    texts = {(i.reason, i.slug, i.pr_number): i.text for i in queue("ada")}
    assert texts[("decide", "new-thing", 14)] == (
        "arbiter: decide on the proposed idea (PR #14 by grace)"
    )
    assert texts[("review", "done-rfc", 18)] == "review: metadata PR #18 by rfc-bot"
    assert texts[("stale", "parked-long", None)] == "stale: parked for 400 days (limit 180 days)"
    assert texts[("stale", "old-idea", None)] == "stale: idea for 45 days (limit 30 days)"
    assert texts[("needs_arbiter", "lonely", 15)] == (
        "needs an arbiter: your proposed idea (PR #15) names none"
    )
    idle = texts[("idle_pr", "parked-long", 13)]
    assert idle == "idle: your body edit PR #13 has had no activity for 20 days"
    decide = next(i for i in queue("grace") if i.reason == "decide")
    assert decide.text == "arbiter: decide on this idea"
    assert decide.title == "Typed config"


def test_stale_counts_from_state_since_not_last_activity() -> None:
    body_edited = EntryFacts("p", "P", "parked", ("ada",), (), "ada", ago(181), ago(0, 1))
    recently_parked = EntryFacts("q", "Q", "parked", ("ada",), (), "ada", ago(179), ago(179))
    unknown_since = EntryFacts("r", "R", "parked", ("ada",), (), "ada", None, ago(999))
    items = attention_queue("ada", [body_edited, recently_parked, unknown_since], [], now=NOW)
    assert rows(items) == [("stale", "p", None)]


def test_stale_owner_first_then_proposer_of_unowned() -> None:
    owned = EntryFacts("o", "O", "idea", ("grace",), ("x",), "ada", ago(40), ago(40))
    unowned = EntryFacts("u", "U", "idea", (), ("x",), "ada", ago(40), ago(40))
    assert rows(attention_queue("ada", [owned, unowned], [], now=NOW)) == [("stale", "u", None)]
    assert rows(attention_queue("grace", [owned, unowned], [], now=NOW)) == [("stale", "o", None)]


def test_thresholds_are_honoured() -> None:
    fast = Thresholds(stale={"idea": timedelta(days=5)}, other=None, idle_pr=timedelta(days=1))
    items = queue("ada", thresholds=fast)
    got = set(rows(items))
    assert ("stale", "typed-config", None) in got  # 10 days > 5
    assert ("stale", "parked-long", None) not in got  # parked not named: other = never
    assert ("idle_pr", "lonely", 15) in got  # 2 days > 1
    # in time: the boundary is "longer than", not "as long as"
    exact = EntryFacts("e", "E", "idea", ("ada",), ("x",), "ada", ago(30), ago(30))
    assert attention_queue("ada", [exact], [], now=NOW) == []


def test_pending_idea_without_known_arbiters_is_reported_not_guessed() -> None:
    assert pending_arbiters_unknown(PULLS) == [16]
    for login in ("ada", "grace"):
        assert all(i.pr_number != 16 for i in queue(login))


def test_snooze_hides_until_newer_activity() -> None:
    stale = next(i for i in queue("ada") if i.reason == "stale" and i.slug == "parked-long")
    mark = snooze(stale)
    assert mark == Snooze("stale:parked-long", ago(2))
    hidden = queue("ada", snoozes=[mark])
    assert ("stale", "parked-long", None) not in rows(hidden)
    assert len(hidden) == len(ADA) - 1
    shown = queue("ada", snoozes=[mark], include_snoozed=True)
    assert [i.snoozed for i in shown] == [i.key == mark.key for i in shown]
    # a new commit on the entry brings it back
    touched = [
        replace(e, last_activity=ago(0, 1)) if e.slug == "parked-long" else e for e in ENTRIES
    ]
    back = attention_queue("ada", touched, PULLS, now=NOW, snoozes=[mark])
    assert rows(back) == ADA
    assert not any(i.snoozed for i in back)


def test_snoozed_pr_row_returns_when_the_pr_is_updated() -> None:
    review = next(i for i in queue("ada") if i.pr_number == 12)
    mark = snooze(review)
    assert mark.key == "review:typed-config#12"
    assert 12 not in [i.pr_number for i in queue("ada", snoozes=[mark])]
    pushed = [
        replace(p, updated_at=ago(0, 1), head_sha="9" * 40) if p.number == 12 else p
        for p in PULLS
    ]
    items = attention_queue("ada", ENTRIES, pushed, now=NOW, snoozes=[mark])
    assert 12 in [i.pr_number for i in items]
    # snoozing one reason leaves the other reasons on the same entry alone
    other = queue("ada", snoozes=[Snooze("needs_arbiter:old-idea", ago(45))])
    assert ("stale", "old-idea", None) in rows(other)
    assert ("needs_arbiter", "old-idea", None) not in rows(other)


def test_new_since_seen() -> None:
    assert not any(i.new_since_seen for i in queue("ada"))  # no marks kept: nothing flagged
    seen = {"typed-config": ago(2), "parked-long": NOW, "done-rfc": ago(39, 1)}
    flags = {(i.reason, i.slug, i.pr_number): i.new_since_seen for i in queue("ada", seen=seen)}
    assert flags[("review", "typed-config", 12)] is True  # PR updated 1 day ago > 2 days ago
    assert flags[("stale", "parked-long", None)] is False  # opened just now
    assert flags[("idle_pr", "parked-long", 13)] is False
    assert flags[("review", "done-rfc", 18)] is True  # updated 39 d ago, seen 39 d 1 h ago
    assert flags[("decide", "new-thing", 14)] is True  # never opened


def test_untrusted_logins_and_titles_stay_on_one_line() -> None:
    evil = "ev\x1b[31mil\nname\u202e"
    entry = EntryFacts("x", "Title\x1b]52;c;ZXZpbA==\x07\nline two", "idea", ("ada",), (), "ada",
                       ago(1), ago(1))
    pr = PullFacts(1, "x", "meta_claim", "open", evil, ago(1), ago(1))
    items = attention_queue("ada", [entry], [pr], now=NOW)
    assert [i.reason for i in items] == ["review", "needs_arbiter"]
    for item in items:
        for text in (item.text, item.title):
            assert "\x1b" not in text and "\n" not in text and "\u202e" not in text
    assert items[0].text == "review: claim PR #1 by evil name\ufffd"
    assert items[0].title == "Title line two"


def test_json_shape_is_exact() -> None:
    items = queue("ada", seen={})
    eastern = timezone(timedelta(hours=-5))
    data = to_json("ada", items, datetime(2026, 12, 1, 7, 0, tzinfo=eastern))
    assert list(data) == ["schema", "login", "generated_at", "items"]
    assert data["schema"] == 1 and data["login"] == "ada"
    assert data["generated_at"] == "2026-12-01T12:00:00Z"
    keys = ["slug", "reason", "tier", "text", "since", "age_days", "pr_number", "snoozed",
            "new_since_seen"]
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert len(data["items"]) == len(ADA)
    for row, expected in zip(data["items"], ADA, strict=True):
        assert list(row) == keys
        assert (row["reason"], row["slug"], row["pr_number"]) == expected
        assert isinstance(row["text"], str) and row["tier"] in ("blocking", "action", "waiting")
        assert stamp.fullmatch(row["since"])
        assert type(row["age_days"]) is int
        assert row["pr_number"] is None or type(row["pr_number"]) is int
        assert row["snoozed"] is False and row["new_since_seen"] is True
    assert data["items"][0]["since"] == "2026-10-22T12:00:00Z"  # review #18, 40 days ago
    assert json.loads(json.dumps(data)) == data


def test_json_of_unknown_since_is_null() -> None:
    entry = EntryFacts("n", "N", "idea", (), ("ada",), "grace", None, None)
    items = attention_queue("ada", [entry], [], now=NOW)
    row = to_json("ada", items, NOW)["items"][0]
    assert (row["reason"], row["since"], row["age_days"]) == ("decide", None, None)


# ----------------------------------------------------------------- property tests

PEOPLE = ("ada", "Ada", "ADA", "grace", "rfc-bot", "linus")
STATES = ("idea", "proposed", "parked", "graduated", "declined", "withdrawn", "Odd")
KINDS = ("idea", "meta_body_edit", "meta_claim", "meta_metadata")
RANK = {"decide": 0, "review": 0, "stale": 1, "needs_arbiter": 1, "idle_pr": 2}
LIMITS = {"idea": 30, "parked": 180, "odd": 180}  # days; the others never (defaults)

logins = st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True).map(tuple)
days = st.integers(min_value=0, max_value=500).map(lambda d: ago(d))


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[EntryFacts], list[PullFacts]]:
    n = draw(st.integers(0, 12))
    entries = []
    for i in range(n):
        since = draw(st.none() | days)
        entries.append(
            EntryFacts(f"e{i}", f"E{i}", draw(st.sampled_from(STATES)), draw(logins),
                       draw(logins), draw(st.none() | st.sampled_from(PEOPLE)), since,
                       since, removed=draw(st.booleans())))
    pulls = []
    for num in range(1, draw(st.integers(0, 15)) + 1):
        kind = draw(st.sampled_from(KINDS))
        opened = draw(days)
        slug = f"e{draw(st.integers(0, 14))}" if kind != "idea" else f"p{num}"
        pulls.append(
            PullFacts(num, slug, kind, draw(st.sampled_from(("open", "closed", "merged"))),
                      draw(st.sampled_from(PEOPLE)), opened, opened + timedelta(days=draw(
                          st.integers(0, 3))), arbiters=draw(st.none() | logins)))
    return entries, pulls


def oracle(login: str, entries: list[EntryFacts], pulls: list[PullFacts]) -> set[tuple]:
    """The rules of issue 11, naively (every PR scans every entry)."""
    me = login.lower()

    def has(people: tuple[str, ...] | None) -> bool:
        return any(p.lower() == me for p in people or ())

    out: set[tuple] = set()
    for e in entries:
        if e.removed:
            continue
        state = {"proposed": "idea"}.get(e.state.lower(), e.state.lower())
        own, arb, prop = has(e.owners), has(e.arbiters), (e.proposed_by or "").lower() == me
        if state == "idea" and arb:
            out.add(("decide", e.slug, None))
        if state == "idea" and (own or prop) and not e.arbiters:
            out.add(("needs_arbiter", e.slug, None))
        limit = LIMITS.get(state)
        if (own or (prop and not e.owners)) and e.state_since and limit is not None:
            if NOW - e.state_since > timedelta(days=limit):
                out.add(("stale", e.slug, None))
    for p in pulls:
        if p.state != "open":
            continue
        mine = p.opened_by.lower() == me
        if mine and NOW - (p.updated_at or p.opened_at) > timedelta(days=14):
            out.add(("idle_pr", p.slug, p.number))
        if p.kind == "idea":
            if p.arbiters is not None and has(p.arbiters):
                out.add(("decide", p.slug, p.number))
            elif p.arbiters == () and mine:
                out.add(("needs_arbiter", p.slug, p.number))
            continue
        for e in entries:
            if e.slug == p.slug and not e.removed and not mine and (
                has(e.owners) or has(e.arbiters)
                or (not e.owners and (e.proposed_by or "").lower() == me)
            ):
                out.add(("review", p.slug, p.number))
    return out


@settings(max_examples=100, deadline=None)
@given(worlds(), st.sampled_from(PEOPLE))
def test_queue_matches_the_naive_rules(world: tuple, login: str) -> None:
    entries, pulls = world
    items = attention_queue(login, entries, pulls, now=NOW)
    assert set(rows(items)) == oracle(login, entries, pulls)
    assert len(rows(items)) == len(set(rows(items)))  # one row per thing


@settings(max_examples=100, deadline=None)
@given(worlds(), st.sampled_from(PEOPLE))
def test_sorted_by_tier_then_oldest_first(world: tuple, login: str) -> None:
    items = attention_queue(login, *world, now=NOW)
    for a, b in zip(items, items[1:], strict=False):
        assert RANK[a.reason] <= RANK[b.reason]
        if RANK[a.reason] == RANK[b.reason] and a.since and b.since:
            assert a.since <= b.since
        if RANK[a.reason] == RANK[b.reason] and a.since is None:
            assert b.since is None  # unknown ages sort last in their tier
    assert items == attention_queue(login, list(reversed(world[0])),
                                    list(reversed(world[1])), now=NOW)


@settings(max_examples=100, deadline=None)
@given(worlds())
def test_no_role_no_rows_and_case_does_not_matter(world: tuple) -> None:
    entries, pulls = world
    assert attention_queue("margaret", entries, pulls, now=NOW) == []
    assert attention_queue("ada", entries, pulls, now=NOW) == attention_queue(
        "aDa", entries, pulls, now=NOW
    )


@pytest.mark.parametrize("login", ["ada", "grace"])
def test_every_row_is_hidden_by_its_own_snooze(login: str) -> None:
    items = queue(login)
    assert items
    for item in items:
        rest = queue(login, snoozes=[snooze(item)])
        assert rows(rest) == [r for r in rows(items) if r != (item.reason, item.slug,
                                                               item.pr_number)]
