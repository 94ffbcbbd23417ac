"""The team file ``.rfctui.toml`` and the settings merge (SPEC §9, issue 11).

Good files, durations, every kind of malformed file (one line naming the key, the whole
file ignored, never an exception), the order defaults < team < personal, and the
resolved thresholds driving the attention queue.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfctui.attention import EntryFacts, attention_queue
from rfctui.teamfile import (
    TeamSettings,
    View,
    parse_duration,
    parse_team_file,
    resolve,
)

DAY = timedelta(days=1)

GOOD = """
# the team's settings
[stale]
idea = "6w"
parked = "never"
Proposed = "5d"        # read as idea, and it comes later: it wins
other = "12h"

[queue]
idle_pr = "3d"

[[views]]
name = "Needs arbiter"
query = "state:idea arbiter:none"

[[views]]
name = "Mine, open"
query = "mine -state:withdrawn"
"""


def test_good_file() -> None:
    team = parse_team_file(GOOD)
    assert team.error is None
    assert team.thresholds == {"idea": 5 * DAY, "parked": None, "other": timedelta(hours=12)}
    assert team.idle_pr == 3 * DAY
    assert team.views == (
        View("Needs arbiter", "state:idea arbiter:none"),
        View("Mine, open", "mine -state:withdrawn"),
    )


def test_no_file_or_empty_file_is_the_defaults_without_error() -> None:
    for text in (None, "", b"", "# nothing yet\n"):
        team = parse_team_file(text)
        assert team == TeamSettings()
    got = resolve(parse_team_file(None))
    assert got.errors == ()
    assert got.views == ()
    th = got.thresholds
    assert th.stale_after("idea") == 30 * DAY
    assert th.stale_after("proposed") == 30 * DAY
    assert th.stale_after("parked") == 180 * DAY
    for state in ("graduated", "declined", "superseded", "withdrawn"):
        assert th.stale_after(state) is None
    assert th.stale_after("Experimental") == 180 * DAY  # unknown: like parked
    assert th.idle_pr == 14 * DAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", 30 * DAY),
        ("6w", 42 * DAY),
        ("12h", timedelta(hours=12)),
        ("180d", 180 * DAY),
        (" 3D ", 3 * DAY),
        ("never", None),
        ("Off", None),
    ],
)
def test_durations(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "value", ["", "30", "d", "3.5d", "-3d", "0d", "3 days", "1w2d", "99999999d", 30, 1.5, True]
)
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[stale\nidea = '3d'", "not valid TOML"),
        ("colour = 'red'", "colour"),
        ("[stale]\nparkd = '3d'", "stale.parkd"),
        ("[stale]\nidea = '3 days'", "stale.idea"),
        ("[stale]\nidea = 30", "stale.idea"),
        ("[stale]\nidea = '0d'", "stale.idea"),
        ("stale = '30d'", "stale"),
        ("[queue]\nidle_pr = 'never'", "queue.idle_pr"),
        ("[queue]\nidle = '3d'", "queue.idle"),
        ("[[views]]\nquery = 'mine'", "views[1].name"),
        ("[[views]]\nname = '  '\nquery = 'mine'", "views[1].name"),
        ("[[views]]\nname = 'A'\nquery = 3", "views[1].query"),
        ("[[views]]\nname = 'A'\nquery = 'x'\nkey = '1'", "views[1].key"),
        ("[[views]]\nname = 'A'\nquery = 'x'\n[[views]]\nname = 'a'\nquery = 'y'",
         "views[2].name"),
        ("views = 'mine'", "views"),
        ("views = ['mine']", "views[1]"),
        ("".join(f"[[views]]\nname = 'v{i}'\nquery = 'x'\n" for i in range(10)), "views"),
    ],
)
def test_malformed_file_is_one_line_naming_the_key_and_ignored(text: str, names: str) -> None:
    team = parse_team_file(text)
    assert team.error is not None
    assert "\n" not in team.error
    assert team.error.startswith(".rfctui.toml: ")
    assert names in team.error
    assert team.thresholds == {} and team.views == () and team.idle_pr is None
    got = resolve(team)
    assert got.errors == (team.error,)
    assert got.thresholds.idle_pr == 14 * DAY
    assert got.thresholds.stale_after("idea") == 30 * DAY


def test_a_good_part_before_a_bad_one_does_not_half_apply() -> None:
    team = parse_team_file("[queue]\nidle_pr = '1d'\n[stale]\nidea = '2d'\nparkd = '3d'\n")
    assert team.error is not None and "stale.parkd" in team.error
    got = resolve(team)
    assert got.thresholds.idle_pr == 14 * DAY
    assert got.thresholds.stale_after("idea") == 30 * DAY


def test_hostile_file_never_raises_nor_reaches_the_terminal() -> None:
    for text in (
        '[stale]\n"ev\\u001b[31mil\\u202e" = "3d"',
        '[stale]\nidea = "3\\u001b]52;c;x\\u0007d"',
        "x = " + "[" * 5000 + "]" * 5000,
        b"\xff\xfe[stale]",
    ):
        team = parse_team_file(text)
        assert team.error is not None
        assert "\x1b" not in team.error and "\u202e" not in team.error
        assert "\n" not in team.error and "\x07" not in team.error


def test_source_name_is_in_the_message() -> None:
    team = parse_team_file("[stale]\nparkd = '1d'", source="rfcs/meta:.rfctui.toml")
    assert team.error is not None and team.error.startswith("rfcs/meta:.rfctui.toml: ")


def test_merge_order_defaults_team_personal() -> None:
    team = parse_team_file(GOOD)
    personal = {
        "gitea_url": "https://gitea.example",  # rfctui.config's key: not ours, ignored
        "stale": {"idea": "2d", "withdrawn": "400d"},
        "views": [{"name": "needs ARBITER", "query": "arbiter:grace"},
                  {"name": "Parked", "query": "state:parked"}],
    }
    got = resolve(team, personal)
    assert got.errors == ()
    th = got.thresholds
    assert th.stale_after("idea") == 2 * DAY  # personal beats team beats default
    assert th.stale_after("parked") is None  # team beats default, personal silent
    assert th.stale_after("withdrawn") == 400 * DAY  # personal beats default
    assert th.stale_after("declined") is None  # default
    assert th.stale_after("Experimental") == timedelta(hours=12)  # team "other"
    assert th.idle_pr == 3 * DAY  # team
    assert got.views == (
        View("needs ARBITER", "arbiter:grace"),  # a personal view replaces the team's in place
        View("Mine, open", "mine -state:withdrawn"),
        View("Parked", "state:parked"),
    )
    # the personal file alone, and a bad personal file that leaves the team's in force
    assert resolve(None, {"queue": {"idle_pr": "1w"}}).thresholds.idle_pr == 7 * DAY
    bad = resolve(team, {"stale": {"idea": "soon"}})
    assert len(bad.errors) == 1 and bad.errors[0].startswith("personal config: stale.idea")
    assert bad.thresholds.stale_after("idea") == 5 * DAY


def test_views_are_capped_at_nine_across_sources() -> None:
    team = parse_team_file("".join(f"[[views]]\nname='t{i}'\nquery='x'\n" for i in range(6)))
    personal = {"views": [{"name": f"p{i}", "query": "y"} for i in range(6)]}
    got = resolve(team, personal)
    assert [v.name for v in got.views] == [f"t{i}" for i in range(6)] + ["p0", "p1", "p2"]


def test_team_file_drives_the_queue() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    idea = EntryFacts("i", "I", "idea", ("ada",), ("grace",), "ada", now - 10 * DAY, now)
    assert attention_queue("ada", [idea], [], now=now, thresholds=resolve().thresholds) == []
    fast = resolve(parse_team_file("[stale]\nidea = '1w'")).thresholds
    items = attention_queue("ada", [idea], [], now=now, thresholds=fast)
    assert [(i.reason, i.age_days) for i in items] == [("stale", 3)]
    assert items[0].text == "stale: idea for 10 days (limit 7 days)"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_settings_or_one_line(text: str) -> None:
    team = parse_team_file(text)
    if team.error is not None:
        assert "\n" not in team.error and team.thresholds == {} and team.views == ()
    assert isinstance(resolve(team).errors, tuple)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5000), st.sampled_from("hdw"))
def test_duration_round_trip(n: int, unit: str) -> None:
    hours = {"h": 1, "d": 24, "w": 168}[unit]
    assert parse_duration(f"{n}{unit}") == timedelta(hours=n * hours)
