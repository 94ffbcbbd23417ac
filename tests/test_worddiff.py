"""rfctui.worddiff: a unified diff as rows, pairs and word highlights (issue 12 §1)."""

from __future__ import annotations

import difflib

from hypothesis import given
from hypothesis import strategies as st

from rfctui.worddiff import (
    WORD_LIMIT,
    DiffLine,
    parse_unified,
    side_by_side,
    tokens,
    word_spans,
)


def udiff(old: list[str], new: list[str]) -> str:
    return "\n".join(difflib.unified_diff(old, new, "main", "head", lineterm=""))


def test_tokens_cover_the_text() -> None:
    text = "Hello, wörld  — it's 42!"
    assert "".join(tokens(text)) == text
    assert "wörld" in tokens(text) and "42" in tokens(text)


def test_word_spans_mark_only_the_changed_word() -> None:
    spans = word_spans("the quick brown fox", "the quick red fox")
    assert spans is not None
    old, new = spans
    assert [("the quick brown fox")[a:b] for a, b in old] == ["brown"]
    assert [("the quick red fox")[a:b] for a, b in new] == ["red"]


def test_unrelated_or_huge_lines_get_no_word_spans() -> None:
    assert word_spans("completely different", "nothing alike at all here") is None
    long = "x " * WORD_LIMIT
    assert word_spans(long, long + "y") is None


def test_rows_numbers_and_pairs() -> None:
    rows = parse_unified(udiff(["a b c", "same", "x"], ["a B c", "same", "y", "z"]))
    assert [r.kind for r in rows] == ["hunk", "del", "add", "context", "del", "add", "add"]
    assert rows[1] == DiffLine("del", "a b c", 1, None, ((2, 3),))
    assert rows[2] == DiffLine("add", "a B c", None, 1, ((2, 3),))
    assert (rows[3].old_no, rows[3].new_no) == (2, 2)
    assert rows[4].spans == () and rows[6].new_no == 4  # "x" -> "y": unrelated lines
    pairs = side_by_side(rows)
    assert [(p.old and p.old.text, p.new and p.new.text) for p in pairs] == [
        ("@@ -1,3 +1,4 @@", "@@ -1,3 +1,4 @@"),
        ("a b c", "a B c"), ("same", "same"), ("x", "y"), (None, "z"),
    ]


def test_new_file_and_empty_diff() -> None:
    rows = parse_unified(udiff([], ["one", "two"]))
    assert [(r.kind, r.new_no) for r in rows] == [("hunk", None), ("add", 1), ("add", 2)]
    assert parse_unified("") == []


def test_hostile_text_is_kept_as_data() -> None:
    """Escaping is the widget's job; here an ESC is just a character (§7.4)."""
    evil = "red \x1b[31m \u202e [bold]x[/bold]"
    rows = parse_unified(udiff(["plain"], [evil]))
    assert rows[-1].text == evil


@given(
    st.lists(st.sampled_from(["a", "b c", "d e f", "", "g"]), max_size=8),
    st.lists(st.sampled_from(["a", "b C", "d e F", "", "h"]), max_size=8),
)
def test_rows_rebuild_both_sides(old: list[str], new: list[str]) -> None:
    rows = parse_unified(udiff(old, new))
    kept_old = [r for r in rows if r.kind in ("context", "del")]
    kept_new = [r for r in rows if r.kind in ("context", "add")]
    for r in kept_old:
        assert old[r.old_no - 1] == r.text  # type: ignore[operator]
    for r in kept_new:
        assert new[r.new_no - 1] == r.text  # type: ignore[operator]
    for r in rows:
        for a, b in r.spans:
            assert 0 <= a < b <= len(r.text)
    pairs = side_by_side(rows)
    assert sum(1 for p in pairs if p.old is not None and p.old.kind == "del") == sum(
        1 for r in rows if r.kind == "del"
    )
