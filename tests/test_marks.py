"""Personal marks (issue 11): private files in the data directory that ``--resync`` keeps."""

from __future__ import annotations

import asyncio
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from queue_world import T0, build_world

from rfctui.attention import Snooze
from rfctui.config import Config
from rfctui.marks import Marks, marks_dir

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_marks_are_private_files_per_target(tmp_path: Path) -> None:
    cfg = Config(gitea_url="https://g.example:3000", org="o", meta_repo="m",
                 data_dir=tmp_path / "data", cache_dir=tmp_path / "cache",
                 state_dir=tmp_path / "state")
    marks = Marks(cfg)
    assert marks.directory == marks_dir(cfg) == tmp_path / "data" / "marks" / cfg.target_key
    assert not marks.directory.exists()  # nothing is written until a mark is
    assert marks.snoozes() == [] and marks.seen() == {} and marks.ui_state() == {}
    marks.snooze(Snooze("stale:x", WHEN), now=WHEN)
    marks.mark_seen("x", WHEN)
    marks.save_ui_state({"theme": "dark"})
    for name in ("snoozes.json", "seen.json"):
        assert mode(marks.directory / name) == 0o600
    # The UI state lives in the state directory (issue 14 §3), per target too.
    assert marks.ui_directory == tmp_path / "state" / cfg.target_key
    assert mode(marks.ui_directory / "ui.json") == 0o600
    assert not (marks.directory / "ui.json").exists()
    for d in (marks.directory, marks.directory.parent, tmp_path / "data",
              marks.ui_directory, tmp_path / "state"):
        assert mode(d) == 0o700
    other = Marks(Config(gitea_url="https://other.example", data_dir=tmp_path / "data",
                         state_dir=tmp_path / "state"))
    assert other.snoozes() == []  # another server's marks are its own


def test_snooze_unsnooze_seen_and_ui_state_round_trip(tmp_path: Path) -> None:
    marks = Marks(tmp_path / "m")
    marks.snooze(Snooze("review:x#3", WHEN))
    marks.snooze(Snooze("stale:y", None))
    later = WHEN + timedelta(days=1)
    marks.snooze(Snooze("review:x#3", later))  # again: replaces, never doubles
    again = Marks(tmp_path / "m")  # a second process sees the same
    assert sorted(again.snoozes(), key=lambda s: s.key) == [
        Snooze("review:x#3", later), Snooze("stale:y", None)]
    assert again.unsnooze("stale:y") and not again.unsnooze("stale:y")
    assert [s.key for s in marks.snoozes()] == ["review:x#3"]
    assert marks.prune_snoozes({"other"}) == 1 and marks.snoozes() == []
    marks.mark_seen("x", WHEN)
    marks.mark_seen_many({"y": later, "x": later})
    assert again.seen() == {"x": later, "y": later}
    marks.save_ui_state({"theme": "dark", "folded": ["parked"], "sort": "name"})
    marks.save_ui_state({"sort": "time", "theme": None})  # merge; None forgets
    assert again.ui_state() == {"folded": ["parked"], "sort": "time"}
    with pytest.raises(TypeError):
        marks.save_ui_state({"bad": object()})
    assert again.ui_state() == {"folded": ["parked"], "sort": "time"}  # untouched
    state = again.ui_state()
    state["folded"].append("idea")  # a copy: changing it changes nothing kept
    assert again.ui_state()["folded"] == ["parked"]


@pytest.mark.parametrize("garbage", [
    b"{not json", b"\xff\xfe", b"[1, 2]", b'{"schema": 99, "snoozes": []}',
    b'{"schema": 1, "snoozes": {"a": 1}}', b"[" * 100_000,
])
def test_a_damaged_file_is_ignored_with_one_notice(tmp_path: Path, garbage: bytes) -> None:
    marks = Marks(tmp_path / "m")
    marks.directory.mkdir(parents=True)
    (marks.directory / "snoozes.json").write_bytes(garbage)
    assert marks.snoozes() == []
    assert marks.snoozes() == []
    notices = marks.take_notices()
    assert len(notices) == 1 and "snoozes.json" in notices[0] and "\n" not in notices[0]
    assert marks.take_notices() == []  # told once
    marks.snooze(Snooze("stale:x", WHEN))  # the next change replaces it
    assert Marks(tmp_path / "m").snoozes() == [Snooze("stale:x", WHEN)]


def test_bad_records_inside_a_good_file_are_skipped(tmp_path: Path) -> None:
    marks = Marks(tmp_path / "m")
    marks.directory.mkdir(parents=True)
    (marks.directory / "snoozes.json").write_text(
        '{"schema": 1, "snoozes": [{"key": "ok", "activity": "2026-03-01T12:00:00Z"},'
        ' {"key": 5}, "x", {"key": "", "activity": null}, {"key": "t", "activity": "nope"}]}')
    (marks.directory / "seen.json").write_text(
        '{"schema": 1, "seen": {"a": "2026-03-01T12:00:00Z", "b": 7, "c": "soon"}}')
    assert marks.snoozes() == [Snooze("ok", WHEN), Snooze("t", None)]
    assert marks.seen() == {"a": WHEN}
    assert marks.take_notices() == []


def test_marks_are_thread_safe(tmp_path: Path) -> None:
    marks = Marks(tmp_path / "m")

    def work(n: int) -> None:
        for i in range(20):
            marks.snooze(Snooze(f"k{n}-{i}", WHEN))
            marks.mark_seen(f"s{n}-{i}", WHEN)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(marks.snoozes()) == 120 and len(marks.seen()) == 120


def test_marks_survive_a_resync_and_a_damaged_one_is_told_by_the_session(
    tmp_path: Path,
) -> None:
    world = build_world(tmp_path)
    world.clock.now = T0 + timedelta(days=1)
    s = world.session("ada")
    asyncio.run(s.identify())
    item = next(i for i in s.queue().items if i.key == "stale:q-parked")
    s.marks.snooze(item)
    s.marks.mark_seen("q-parked", world.clock.now)
    s.marks.save_ui_state({"group_by": "tag"})
    files = [*sorted(s.marks.directory.iterdir()), s.marks.ui_directory / "ui.json"]
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    assert asyncio.run(s.sweep("resync")).ok
    s.close()
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    assert after == before and set(before) == {"snoozes.json", "seen.json", "ui.json"}
    s = world.session("ada")
    assert "stale:q-parked" not in {i.key for i in s.queue().items}  # still snoozed
    (s.marks.directory / "seen.json").write_text("{oops")
    queue = s.queue()
    assert queue.items and all(i.new_since_seen for i in queue.items)  # seen lost: all new
    notices = [n.text for n in s.take_notices()]
    s.close()
    assert len(notices) == 1 and "seen.json" in notices[0]


def test_an_older_ui_json_moves_to_the_state_directory_once(tmp_path: Path) -> None:
    """Before issue 14 the UI state sat with the marks (data directory): it is read
    there once, written to the state directory (private) and the old file removed."""
    cfg = Config(gitea_url="https://g.example", data_dir=tmp_path / "data",
                 state_dir=tmp_path / "state")
    old = marks_dir(cfg) / "ui.json"
    old.parent.mkdir(parents=True)
    old.write_text('{"schema": 1, "ui": {"sort": "name", "group_by": "tag"}}')
    marks = Marks(cfg)
    assert marks.ui_state() == {"sort": "name", "group_by": "tag"}
    new = marks.ui_directory / "ui.json"
    assert not old.exists() and mode(new) == 0o600 and mode(new.parent) == 0o700
    # Once: an old file appearing again later is not read over the new one.
    old.write_text('{"schema": 1, "ui": {"sort": "activity"}}')
    marks.save_ui_state({"filter": "tag:dx"})
    assert Marks(cfg).ui_state() == {"sort": "name", "group_by": "tag", "filter": "tag:dx"}


def test_a_damaged_older_ui_json_is_left_alone(tmp_path: Path) -> None:
    cfg = Config(gitea_url="https://g.example", data_dir=tmp_path / "data",
                 state_dir=tmp_path / "state")
    old = marks_dir(cfg) / "ui.json"
    old.parent.mkdir(parents=True)
    old.write_text("{oops")
    marks = Marks(cfg)
    assert marks.ui_state() == {} and old.exists()
    assert not (marks.ui_directory / "ui.json").exists()
