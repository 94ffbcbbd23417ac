"""The drafts store (SPEC §9 personal marks, §11): where, how private, what survives."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rfctui.config import Config
from rfctui.drafts import Draft, Drafts, DraftWriter, drafts_dir, format_saved_at
from rfctui.entry import InvalidSlug

NOW = datetime(2026, 11, 29, 10, 42, tzinfo=UTC)


def store(tmp_path: Path) -> Drafts:
    return Drafts(tmp_path / "data" / "drafts-x", clock=lambda: NOW)


def test_save_load_discard_round_trip(tmp_path: Path) -> None:
    d = store(tmp_path)
    assert d.load("edit", "typed-config") is None
    d.save("edit", "typed-config", {"body": "## Why\n\nünïcode ✓\n"})
    assert d.load("edit", "typed-config") == Draft(
        "edit", "typed-config", {"body": "## Why\n\nünïcode ✓\n"}, NOW)
    assert d.discard("edit", "typed-config") is True
    assert d.load("edit", "typed-config") is None
    assert d.discard("edit", "typed-config") is False


def test_one_propose_draft_whatever_slug(tmp_path: Path) -> None:
    d = store(tmp_path)
    d.save("propose", "anything", {"slug": "a", "title": "A"})
    d.save("propose", "", {"slug": "b", "title": "B"})
    [only] = d.all()
    assert (only.kind, only.slug, only.fields["slug"]) == ("propose", "", "b")


def test_all_lists_every_draft_newest_first(tmp_path: Path) -> None:
    times = iter([datetime(2026, 11, 29, h, tzinfo=UTC) for h in (8, 9, 10)])
    d = Drafts(tmp_path / "drafts", clock=lambda: next(times))
    d.save("edit", "a", {"body": "x"})
    d.save("metadata", "a", {"title": "y"})
    d.save("propose", "", {"title": "z"})
    assert [(x.kind, x.slug) for x in d.all()] == [("propose", ""), ("metadata", "a"),
                                                   ("edit", "a")]


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        d = store(tmp_path)
        d.save("edit", "typed-config", {"body": "secret plans"})
    finally:
        os.umask(old)
    path = d.path("edit", "typed-config")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("slug", ["../etc/passwd", "a/b", "UPPER", "x\n", ""])
def test_slugs_are_validated_before_they_touch_a_path(tmp_path: Path, slug: str) -> None:
    d = store(tmp_path)
    with pytest.raises(InvalidSlug):
        d.save("edit", slug, {"body": "x"})
    with pytest.raises(InvalidSlug):
        d.load("metadata", slug)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.json"))


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        store(tmp_path).save("claim", "a", {})


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe", b"[]", b'{"kind": "edit"}',
    b'{"kind": "edit", "slug": "other", "fields": {}}',  # name does not match
    b'{"kind": "edit", "slug": "a", "fields": {"body": 3}}',
])
def test_a_damaged_file_is_ignored_with_a_notice(tmp_path: Path, content: bytes) -> None:
    d = store(tmp_path)
    d.save("metadata", "a", {"title": "kept"})
    d.path("edit", "a").write_bytes(content)
    assert d.load("edit", "a") is None
    assert [x.kind for x in d.all()] == ["metadata"]
    assert len(d.notices) == 1 and "edit--a.json" in d.notices[0]


def test_drafts_live_in_the_data_dir_per_target_not_the_cache(tmp_path: Path) -> None:
    cfg = Config(gitea_url="http://gitea.test:3000", cache_dir=tmp_path / "cache",
                 data_dir=tmp_path / "data")
    other = Config(gitea_url="http://other.test", cache_dir=tmp_path / "cache",
                   data_dir=tmp_path / "data")
    assert drafts_dir(cfg) == tmp_path / "data" / "drafts-gitea.test_3000-rfcs-meta"
    assert drafts_dir(cfg) != drafts_dir(other)
    assert cfg.cache_dir not in drafts_dir(cfg).parents


def test_writer_keeps_the_order_of_saves_and_discards(tmp_path: Path) -> None:
    w = DraftWriter(store(tmp_path))
    for i in range(50):
        w.save("edit", "a", {"body": f"v{i}"})
    assert w.load("edit", "a").fields == {"body": "v49"}  # type: ignore[union-attr]
    w.save("edit", "a", {"body": "last"})
    w.discard("edit", "a")
    w.flush()
    assert w.load("edit", "a") is None


def test_writer_reports_a_failed_write_and_carries_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    w = DraftWriter(Drafts(blocker / "drafts", clock=lambda: NOW))
    w.save("edit", "a", {"body": "x"}).result()
    assert len(w.errors) == 1 and w.errors[0].startswith("Could not save the draft")


def test_format_saved_at() -> None:
    assert format_saved_at(NOW, NOW) == "10:42"
    assert format_saved_at(NOW, datetime(2026, 11, 30, 9, tzinfo=UTC)) == "2026-11-29 10:42"
