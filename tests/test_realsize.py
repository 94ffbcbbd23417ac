"""bench/realsize.py: the real-sized entry generator is deterministic, valid §2 entries,
and follows BASELINES §9's size distribution roughly (a generator bug, not a timing)."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import realsize  # noqa: E402

from rfctui.entry import parse_entry  # noqa: E402


def test_same_seed_same_bytes_and_prefix_stable() -> None:
    a = realsize.generate(12, seed=5)
    b = realsize.generate(12, seed=5)
    assert [e.data for e in a] == [e.data for e in b]
    assert [e.data for e in realsize.generate(4, seed=5)] == [e.data for e in a[:4]]
    assert [e.data for e in realsize.generate(4, seed=6)] != [e.data for e in a[:4]]


def test_sizes_follow_the_real_distribution() -> None:
    sizes = realsize.draw_sizes(5_000, seed=1)
    got = realsize.percentiles(sizes)
    for key in ("mean", "median", "p10", "p90", "p99"):
        assert 0.85 < got[key] / realsize.SIZE_FACTS[key] < 1.15, (key, got[key])
    assert max(sizes) == realsize.MAX_BYTES  # the real max appears (clipped there)
    assert max(realsize.draw_sizes(realsize.MAX_AT - 1, seed=1)) < realsize.MAX_BYTES
    assert min(sizes) >= realsize.MIN_BYTES


def test_files_land_near_their_size_and_parse() -> None:
    sizes = [1_000, 2_800, 9_400, 30_700]
    for i, size in enumerate(sizes):
        entry = realsize.make_entry(i, size, seed=3)
        assert abs(len(entry.data) - size) < max(400, size * 0.05), (size, len(entry.data))
        parsed = parse_entry(entry.path, entry.data)
        assert parsed.slug == entry.slug and parsed.state == entry.state
        for mark in ("## ",):
            assert mark in parsed.body


def test_bodies_are_varied_prose_not_one_sentence() -> None:
    entry = realsize.make_entry(0, 30_000, seed=9)
    body = entry.body
    assert "```" in body and "|---|" in body and "](https://" in body
    ratio = len(body) / len(gzip.compress(body.encode()))
    assert 2.0 < ratio < 4.5, ratio  # English-like; "Some detail. " * n compresses ~100x
    words = body.split()
    assert len(set(words)) > 500


def test_pr_variants_are_valid_and_change_what_they_say() -> None:
    import random

    entry = realsize.make_entry(1, 12_000, seed=4)
    rng = random.Random(0)
    edited = realsize.edit_entry(entry, rng)
    assert edited.meta == entry.meta and edited.body != entry.body
    meta = realsize.metadata_entry(entry, rng)
    assert meta.body == entry.body and meta.meta != entry.meta
    claim = realsize.claim_entry(entry, "zed")
    assert "zed" in claim.meta["owners"]
    for e in (edited, meta, claim):
        parse_entry(e.path, e.data)
