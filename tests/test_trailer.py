"""SPEC §6.2/§6.3: the On-behalf-of trailer cannot be forged from user text."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfctui.trailer import (
    compose,
    defuse_html,
    looks_like_trailer,
    neutralise,
    on_behalf_of,
    trailer_line,
)

FORGED = "On-behalf-of: Site Admin <admin>"

# Forging attempts: each is user text that tries to make the reader return "admin".
ATTEMPTS = [
    FORGED,
    f"Title\n\n{FORGED}",
    f"Body first\n{FORGED}\nmore body",
    f"Last paragraph of user text\n\n{FORGED}\n",
    f"{FORGED}\r\n",
    f"Body\r\n\r\n{FORGED}\r\n",
    f"Body\r{FORGED}",
    f"Body\u2028{FORGED}",
    f"Body\x85{FORGED}",
    f"Body\v{FORGED}",
    f"Body\f{FORGED}",
    f"{FORGED}   \n",
    f"   {FORGED}",
    f"\t{FORGED}",
    "on-behalf-of: Site Admin <admin>",
    "ON-BEHALF-OF: Site Admin <admin>",
    "On-Behalf-Of : Site Admin <admin>",
    "On-behalf-of\t: Site Admin <admin>",
    "On-behalf-of:Site Admin <admin>",
    "On behalf of: Site Admin <admin>",
    "On_behalf_of: Site Admin <admin>",
    "Ｏｎ-ｂｅｈａｌｆ-ｏｆ: Site Admin <admin>",  # full-width letters
    "On\u2010behalf\u2010of: Site Admin <admin>",  # Unicode hyphens
    "On-behalf-of\uff1a Site Admin <admin>",  # full-width colon
    "On-behalf-of\u2236 Site Admin <admin>",  # ratio sign
    "On\u200b-behalf-of: Site Admin <admin>",  # zero-width space
    "\u200bOn-behalf-of: Site Admin <admin>",
    "\u041en-behalf-of: Site Admin <admin>",  # Cyrillic O
    "\u041en b\u0435half \u043ef: Site Admin <admin>",  # Cyrillic letters, spaces
    "On behaIf of: Site Admin <admin>",  # capital I for l
    "On  behalf  of : Site Admin <admin>",
    f"Signed-off-by: Someone <s@example.com>\n{FORGED}",  # a whole fake block
    f"text\n\nReviewed-by: x\n{FORGED}\n\n",  # fake block right before ours
    f"text\n\nReviewed-by: x\n  {FORGED}",  # continuation line
    f"{FORGED}\n\n{FORGED}\n\n{FORGED}",
    f"\x00{FORGED}\x1b[2K",
    f"```\n{FORGED}\n```",
]


@pytest.mark.parametrize("text", ATTEMPTS)
def test_forging_in_message_never_yields_forged_login(text: str) -> None:
    composed = compose(text, "Ada Lovelace", "ada")
    assert on_behalf_of(composed) == "ada"
    assert composed.endswith("\n\nOn-behalf-of: Ada Lovelace <ada>") or composed == (
        "On-behalf-of: Ada Lovelace <ada>"
    )
    # No line but our own is a trailer-looking line any more.
    lines = composed.split("\n")
    assert [ln for ln in lines if looks_like_trailer(ln)] == [lines[-1]]


@pytest.mark.parametrize("text", ATTEMPTS)
def test_neutralised_text_alone_yields_nothing(text: str) -> None:
    assert on_behalf_of(neutralise(text)) is None


@pytest.mark.parametrize("text", ATTEMPTS)
def test_git_reads_only_our_trailer(text: str) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git not installed")
    composed = compose(text, "Ada Lovelace", "ada")
    out = subprocess.run(
        [git, "interpret-trailers", "--parse", "--no-divider"],
        input=composed, capture_output=True, text=True, check=True,
    ).stdout
    assert "admin" not in out
    assert out.strip().splitlines()[-1] == "On-behalf-of: Ada Lovelace <ada>"


def test_trailer_line() -> None:
    assert trailer_line("Ada Lovelace", "ada") == "On-behalf-of: Ada Lovelace <ada>"
    assert trailer_line("", "ada") == "On-behalf-of: ada <ada>"
    assert trailer_line("  \n ", "a.b_c-d") == "On-behalf-of: a.b_c-d <a.b_c-d>"


def test_hostile_full_name_cannot_add_lines_or_addresses() -> None:
    line = trailer_line("Evil <admin>\nOn-behalf-of: X <admin>\x1b[2J\u202e", "ada")
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert line.count("<") == 1 and line.endswith("<ada>")
    assert on_behalf_of(compose("hi", "Evil <admin>\n\nOn-behalf-of: x <admin>", "ada")) == "ada"


@pytest.mark.parametrize("login", ["", "ad min", "ad\nmin", "<admin>", "a:b", "x" * 300, None])
def test_bad_login_rejected(login: str) -> None:
    with pytest.raises(ValueError):
        trailer_line("Name", login)


def test_reader_takes_final_block_only() -> None:
    assert on_behalf_of(None) is None
    assert on_behalf_of("") is None
    assert on_behalf_of("On-behalf-of: A <ada>") == "ada"
    assert on_behalf_of("x\n\nSigned-off-by: s\nOn-behalf-of: A B <grace>\n\n") == "grace"
    # last On-behalf-of in the block wins
    assert on_behalf_of("x\n\nOn-behalf-of: A <ada>\nOn-behalf-of: G <grace>") == "grace"
    # a line in the final paragraph that is not a trailer voids the block
    assert on_behalf_of("x\n\nOn-behalf-of: A <ada>\nthanks!") is None
    # text after the block: it is no longer final
    assert on_behalf_of("On-behalf-of: A <admin>\n\nmore text") is None
    # a malformed last value does not fall back to an earlier line
    assert on_behalf_of("x\n\nOn-behalf-of: A <ada>\nOn-behalf-of: nobody") is None
    assert on_behalf_of("x\r\n\r\nOn-behalf-of: A <ada>\r\n") == "ada"


def test_ordinary_text_is_left_alone() -> None:
    text = "Hello\n\n- item: one\n**Note:** bold\nSee https://example.com/x\nhttps://a.b/c"
    assert neutralise(text) == text


def test_trailer_like_lines_are_quoted_visibly() -> None:
    assert neutralise("a\nNote: b\nc") == "a\n> Note: b\nc"
    assert neutralise("x\r\ny") == "x\ny"


_login = st.from_regex(r"[A-Za-z0-9_.-]{1,39}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.text(max_size=40), _login)
def test_compose_round_trip(message: str, full_name: str, login: str) -> None:
    composed = compose(message, full_name, login)
    assert on_behalf_of(composed) == login


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["x", "", " ", "\r\n", "\n", FORGED, "Key: v", "\t" + FORGED,
                                 "On-behalf-of: <admin>", "  ", "\u2028"]), max_size=12))
def test_compose_resists_mixtures(parts: list[str]) -> None:
    composed = compose("\n".join(parts), "Ada", "ada")
    assert on_behalf_of(composed) == "ada"
    assert on_behalf_of(neutralise("".join(parts))) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_neutralise_is_idempotent(text: str) -> None:
    once = neutralise(text)
    assert neutralise(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "Looks fine <!-- and the rest is hidden",
        "<details><summary>more</summary>\nfolded away",
        "text </p> <?php ?> <div hidden>",
    ],
)
def test_user_text_cannot_open_html_that_hides_the_trailer(text: str) -> None:
    """An unclosed ``<!--`` or ``<details>`` in a description or comment would hide the
    trailer from a person reading the page; defused, every ``<`` that opens HTML is text."""
    out = defuse_html(text)
    assert "<!--" not in out and "<details" not in out and "<div" not in out
    assert "<?" not in out and "</" not in out
    assert out.replace("&lt;", "<") == text


def test_defusing_keeps_markdown_and_autolinks() -> None:
    text = "**bold** `a < b` <https://example.com/x> [link](https://x.y) 3 < 4"
    assert defuse_html(text) == text
