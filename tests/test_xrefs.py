"""Cross-references (issue 12 §5): `rfctui.xrefs.find_refs`, pure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfctui.xrefs import Ref, Target, find_refs, mentioned_prs, scannable

TYPED = Target("rfc", "typed-config", "Typed configuration", 12)
LOGGING = Target("rfc", "structured-logging", "Structured logging", 42)
MONO = Target("rfc", "monorepo", "One repository", None)
CACHE = Target("rfc", "cache", "A short slug", 7)
ME = Target("rfc", "json-logging", "JSON logs", 3)
KNOWN = [TYPED, LOGGING, MONO, CACHE, ME]
IDEA = Target("pending", "new-idea", "A new idea")
PRS = {31: IDEA, 17: TYPED}


def refs(body: str, fields: dict[str, object] | None = None) -> list[tuple[str, str]]:
    found = find_refs(ME.slug, body, fields or {}, KNOWN, PRS)
    assert all(isinstance(r, Ref) for r in found)
    return [(r.target.slug, r.via) for r in found]


def test_fields_first_then_the_body_in_order() -> None:
    body = "See monorepo, then RFC-42 and #31."
    assert refs(body, {"superseded_by": "typed-config"}) == [
        ("typed-config", "superseded_by"), ("monorepo", "monorepo"),
        ("structured-logging", "RFC-42"), ("new-idea", "#31"),
    ]
    assert refs("", {"supersedes": ["monorepo", "nope", 5], "replaces": "cache"}) == [
        ("monorepo", "supersedes"), ("cache", "replaces")]


def test_rfc_number_spellings() -> None:
    for text in ("RFC-12", "RFC 12", "rfc-0012", "Rfc12", "(RFC-12).", "RFC-12,"):
        assert refs(text) == [("typed-config", "RFC-12")], text
    assert refs("RFC 2119 says MUST") == []  # no entry has that number
    assert refs("RFC-12-draft") == [] and refs("xRFC-12") == []


def test_pull_request_numbers() -> None:
    assert refs("fixed in #17") == [("typed-config", "#17")]
    assert refs("#99 is unknown") == []  # a PR nobody knows: nothing
    assert refs("&#31; issue#31 a/#31") == []
    assert mentioned_prs("#3 #4 `#5` #3 http://x/#6") == [3, 4]


def test_bare_slugs_are_whole_lower_case_words() -> None:
    assert refs("the typed-config loader") == [("typed-config", "typed-config")]
    assert refs("Typed-Config or typed-configs or pre-typed-config") == []
    assert refs("a cache of things") == []  # short, hyphen-less: an ordinary word
    assert refs("a monorepo.") == [("monorepo", "monorepo")]  # >= 6 characters
    assert refs("json-logging is me") == []  # never the entry itself
    assert refs("", {"superseded_by": "json-logging"}) == []


def test_code_and_urls_are_not_scanned() -> None:
    body = (
        "```\ntyped-config RFC-42\n```\n"
        "~~~~\n#31\n~~~~\n"
        "`monorepo` and https://example.org/typed-config#31 and "
        "[a link](https://x/structured-logging) <https://y/monorepo>\n"
        "after the code: RFC-12"
    )
    assert refs(body) == [("typed-config", "RFC-12")]
    assert len(scannable(body)) == len(body)


def test_deduplicated_by_target() -> None:
    assert refs("typed-config, RFC-12, #17, typed-config") == [("typed-config", "typed-config")]
    assert refs("#31 #31 new-idea") == [("new-idea", "#31")]  # pending ≠ an entry slug


def test_hostile_text() -> None:
    body = (
        "\x1b[2J typed-config\x1b]52;c;ZXZpbA==\x07 [@click=app.quit]RFC-42[/] "
        "\u202emonorepo #31\x00 " + "a-" * 5000 + " ```unclosed\nRFC-12"
    )
    got = refs(body)
    assert got == [("typed-config", "typed-config"), ("structured-logging", "RFC-42"),
                   ("monorepo", "monorepo"), ("new-idea", "#31")]
    # An unclosed fence hides the rest, as markdown renders it.
    assert ("typed-config", "RFC-12") not in got


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_known_targets_only(body: str) -> None:
    found = find_refs(ME.slug, body, {"superseded_by": body}, KNOWN, PRS)
    keys = [(r.target.kind, r.target.slug) for r in found]
    assert len(keys) == len(set(keys))
    assert ("rfc", ME.slug) not in keys
    assert all(r.target in (*KNOWN, IDEA) for r in found)


# -- L on the main screen: a reference jumps the list (pilot, the sample's entries) ---


async def test_links_screen_jumps_to_a_referenced_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """json-logging says ``superseded_by: structured-logging`` and "(RFC-3)": one
    reference (deduplicated) above the body's links; enter on it selects that entry,
    even when the filter hid it (the filter is cleared first, and says so)."""
    from ui_fixtures import make_app, quiet_environment, settle

    from rfctui.screens.links import LinksScreen
    from rfctui.widgets.filter_input import FilterInput
    from rfctui.widgets.rfc_list import RfcList

    quiet_environment(monkeypatch)
    app = make_app(tmp_path)
    opened: list[str] = []
    app.open_in_browser = opened.append  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        rfc_list = app.screen.query_one(RfcList)
        assert rfc_list.select_slug("json-logging")
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        links = app.screen
        assert isinstance(links, LinksScreen)
        assert [(r.target.slug, r.via) for r in links.refs] == [
            ("structured-logging", "superseded_by")]
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, LinksScreen) and opened == []
        assert rfc_list.highlighted_item is not None
        assert rfc_list.highlighted_item.slug == "structured-logging"
        assert app.screen.focused is rfc_list

        # A filter that hides the target is cleared first.
        await pilot.press("/", *"state:superseded")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one(FilterInput).value == "state:superseded"
        assert not rfc_list.select_slug("structured-logging")
        assert rfc_list.select_slug("json-logging")
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(FilterInput).value == ""
        assert rfc_list.highlighted_item is not None
        assert rfc_list.highlighted_item.slug == "structured-logging"
        assert any(n.message == "Filter cleared to show structured-logging."
                   for n in app._notifications)


async def test_hash_n_of_an_entry_pr_jumps_to_its_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``#N`` of a PR that is no pending idea: the cache says whose it is (read in a
    worker), and picking it selects that entry."""
    from ui_fixtures import make_app, quiet_environment, settle

    from rfctui.screens.links import LinksScreen
    from rfctui.widgets.rfc_list import RfcList

    quiet_environment(monkeypatch)
    app = make_app(tmp_path, sync=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        known = {i.slug for i in app.screen.items if i.kind == "rfc"}
        rows = app.session.cache().pr_rows()
        number, slug = next(
            (n, str(r["rfc_slug"])) for n, r in sorted(rows.items())
            if r["pr_kind"] != "idea" and r["rfc_slug"] in known
        )
        app.sandbox.commit_files("main", {"rfcs/xref-source.md": (
            "---\nslug: xref-source\ntitle: Points elsewhere\nstate: idea\n"
            f"proposed_by: ada\n---\nFollows up #{number}; not `#{number + 1000}`.\n"
        ).encode()}, "Add xref-source", author=("Ada Lovelace", "ada@sandbox.localhost"))
        app.screen.start_sync("full")
        await settle(pilot)
        rfc_list = app.screen.query_one(RfcList)
        assert rfc_list.select_slug("xref-source")
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert isinstance(app.screen, LinksScreen)
        assert [(r.target.slug, r.via) for r in app.screen.refs] == [(slug, f"#{number}")]
        await pilot.press("enter")
        await settle(pilot)
        assert rfc_list.highlighted_item is not None
        assert rfc_list.highlighted_item.slug == slug


def test_links_screen_snapshot(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``L`` on docs-as-code: its references (RFC-N → the entry, its number and title)
    above any web links."""
    from ui_fixtures import SIZES, make_app, quiet_environment, settle

    from rfctui.widgets.rfc_list import RfcList

    quiet_environment(monkeypatch)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        assert pilot.app.screen.query_one(RfcList).select_slug("docs-as-code")
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZES["small"], run_before=run_before)
