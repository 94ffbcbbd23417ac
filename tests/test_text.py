"""text.clean and humanize_age (SPEC §7.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfctui.text import (
    BIDI_MARK,
    clean,
    html_blocks_as_code,
    humanize_age,
    markdown_links,
    markdown_parser,
    one_line,
    short_age,
    terminal_safe,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mRED\x1b[0m", "RED"),
        ("a\x1b]52;c;ZXZpbA==\x07b", "ab"),  # OSC 52 clipboard write
        ("a\x1b]0;title\x1b\\b", "ab"),  # OSC window title, ST-terminated
        ("x\x1bPq#0;2;0;0;0\x1b\\y", "xy"),  # DCS (sixel)
        ("\x9b2Jclear", "clear"),  # 8-bit CSI
        ("bell\x07 bs\x08 del\x7f", "bell bs del"),
        ("\x1bcreset", "reset"),  # RIS, two-byte ESC sequence
        ("line1\nline2\tx", "line1 line2 x"),
        ("[bold]x[/bold] [@click=app.quit]q[/]", "[bold]x[/bold] [@click=app.quit]q[/]"),
        (None, ""),
    ],
)
def test_clean_single_line(raw: str | None, expected: str) -> None:
    assert clean(raw) == expected


def test_clean_multiline_keeps_newlines_and_tabs() -> None:
    assert clean("a\r\nb\n\tc\x1b[2J\x00", multiline=True) == "a\nb\n\tc"


def test_bidi_controls_are_replaced_visibly() -> None:
    out = clean("abc\u202edcb\u2066x\u200f")
    assert out == f"abc{BIDI_MARK}dcb{BIDI_MARK}x{BIDI_MARK}"


@given(st.text())
def test_clean_never_lets_controls_through(s: str) -> None:
    for multiline in (False, True):
        out = clean(s, multiline=multiline)
        for ch in out:
            code = ord(ch)
            assert ch in "\n\t" or not (code < 0x20 or 0x7F <= code <= 0x9F), repr(out)
            assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        if not multiline:
            assert "\n" not in out and "\t" not in out


def test_ui_removes_and_cli_shows_escaped() -> None:
    """`clean` (UI) removes; `terminal_safe` (CLI, §11) shows: one name, two renderings."""
    name = "evil\n\x1b]52;c;ZXZpbA==\x07\u202ename"
    assert clean(name) == f"evil {BIDI_MARK}name"
    assert terminal_safe(name) == r"evil\n\x1b]52;c;ZXZpbA==\x07\u202ename"


def test_one_line_limit() -> None:
    assert one_line("x" * 10, 5) == "xxxx…"
    assert one_line("a\nb") == "a b"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=10), "just now"),
        (timedelta(minutes=2), "2 min ago"),
        (timedelta(hours=5), "5 h ago"),
        (timedelta(days=3), "3 d ago"),
        (timedelta(days=90), "3 mo ago"),
        (timedelta(days=800), "2 y ago"),
        (timedelta(minutes=-5), "just now"),
    ],
)
def test_humanize_age(delta: timedelta, expected: str) -> None:
    assert humanize_age(NOW - delta, NOW) == expected


def test_humanize_age_none_and_naive() -> None:
    assert humanize_age(None, NOW) == "—"
    assert humanize_age(datetime(2026, 11, 29, 11, 0), NOW) == "1 h ago"


def test_short_age() -> None:
    assert short_age(NOW - timedelta(seconds=5), NOW) == "now"
    assert short_age(NOW - timedelta(minutes=5), NOW) == "5m"
    assert short_age(NOW - timedelta(days=3), NOW) == "3d"
    assert short_age(NOW - timedelta(days=90), NOW) == "3mo"
    assert short_age(None, NOW) == "—"


def test_markdown_links_are_the_clickable_ones() -> None:
    body = (
        "See [the spec](https://example.org/spec) and <http://auto.example/a>,\n"
        "or just https://bare.example/p. Code is not a link: `https://code.example`.\n\n"
        "![an image](https://img.example/i.png) [**bold** words](https://example.org/spec)\n"
        "[mail us](mailto:rfc@example.org) and [a script](javascript:alert(1))\n\n"
        "```\nhttps://fenced.example\n```\n"
        "[the spec](https://example.org/spec) once more\n"
    )
    assert markdown_links(body) == [
        ("the spec", "https://example.org/spec"),
        ("http://auto.example/a", "http://auto.example/a"),
        ("https://bare.example/p", "https://bare.example/p"),
        ("bold words", "https://example.org/spec"),
        ("mail us", "mailto:rfc@example.org"),
    ]  # javascript: is not a link to markdown-it (nor to the Markdown widget)


def test_markdown_links_are_one_clean_line() -> None:
    body = "[two\nlines \u202e and \x07 bell](https://example.org/x)"
    [(text, href)] = markdown_links(clean(body, multiline=True))
    assert "\n" not in text and "\u202e" not in text and "\x07" not in text
    assert href == "https://example.org/x"
    assert markdown_links("") == [] and markdown_links("no links here") == []


def test_raw_html_blocks_are_shown_as_code_not_dropped() -> None:
    body = (
        "Intro.\n\n"
        "<details>\n<summary>Alternatives considered</summary>\n\n"
        "We looked at Bazel.\n</details>\n\n"
        "<!-- template: say why -->\n\n"
        "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.\n\n"
        '<div align="center">Centred ```ticks``` text</div>\n\n'
        "> <div>quoted</div>\n\n"
        "```\n<div>already code</div>\n```\n"
    )
    shown = html_blocks_as_code(body)
    assert "```html\n<details>\n<summary>Alternatives considered</summary>\n```" in shown
    assert "We looked at Bazel.\n```html\n</details>\n```" in shown
    # A longer fence than any backtick run inside, so the block cannot end early.
    assert '````html\n<div align="center">Centred ```ticks``` text</div>\n````' in shown
    # Left alone: comment-only blocks (hidden, as Gitea hides them), inline HTML,
    # blocks inside quotes, and code that already is code.
    assert "\n<!-- template: say why -->\n" in shown
    assert "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>." in shown
    assert "\n> <div>quoted</div>\n" in shown and "```\n<div>already code</div>\n```" in shown
    assert html_blocks_as_code("no html at all") == "no html at all"
    # Every other HTML block is a fence now: nothing else left for Markdown to drop.
    left = [t.content.strip() for t in markdown_parser().parse(shown) if t.type == "html_block"]
    assert left == ["<!-- template: say why -->", "<div>quoted</div>"]
