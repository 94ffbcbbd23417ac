"""Issue 13, the UI at real size: one filter index built from the cache's bodies,
keystrokes coalesced, and long detail bodies rendered a screenful first, the rest in
chunks (cancelled when the cursor moves, never rendered twice). No timed assertions:
bench/ui_scale.py measures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownParagraph
from ui_fixtures import MemoryCache, big_body_cache, fixed_clock, make_app, settle

from rfctui.app import RfcApp
from rfctui.config import Config
from rfctui.filtering import filter_items, index_from, index_texts, parse_query
from rfctui.rows import ListItem
from rfctui.screens.main import MainScreen
from rfctui.session import Session
from rfctui.widgets.detail import BODY_HEAD, DetailPane, body_chunks
from rfctui.widgets.rfc_list import RfcList

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui_fixtures import quiet_environment

    quiet_environment(monkeypatch)


def long_body(paragraphs: int = 700) -> str:
    """~100 KB of markdown: numbered paragraphs, headings, code blocks and lists."""
    parts = []
    for i in range(paragraphs):
        if i % 40 == 0:
            parts.append(f"## Section {i}")
        if i % 25 == 7:
            parts.append("```python\n\ndef f():\n\n    return 1\n```")
        if i % 30 == 11:
            parts.append("- one\n- two\n\n  continued item\n- three")
        parts.append(f"Paragraph p{i:04d} " + "lorem ipsum dolor sit amet " * 4 + f"end{i:04d}.")
    parts.append("The very last paragraph pLAST.")
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- pure parts


def test_body_chunks_join_back_and_cut_between_blocks() -> None:
    body = long_body()
    chunks = body_chunks(body)
    assert "".join(chunks) == body
    assert len(chunks) > 10 and len(chunks[0]) < 2 * BODY_HEAD
    for chunk in chunks:
        assert chunk.count("```") % 2 == 0  # never inside a code block
        assert chunk.endswith("\n\n") or chunk is chunks[-1]
    assert body_chunks("short\n") == ["short\n"]
    fence = "```\n" + "\n\n".join("x" * 50 for _ in range(200)) + "\n```\n"
    assert body_chunks(fence) == [fence]  # one long code block: not cut at all


def _item(slug: str, kind: str = "rfc", **kw: Any) -> ListItem:
    return ListItem(kind=kind, slug=slug, title=slug.title(), state="idea", **kw)


def test_index_from_matches_index_texts_and_survives_a_changed_cache() -> None:
    items = [_item("a", owners=("Ada",)), _item("b", tags=("API",)), _item("p", "pending")]
    rows = [("rfc", "a", "a\na\nbody a"), ("rfc", "b", "b\nb\nbody b"),
            ("pending", "p", "p\np\nwhy")]
    with_text = [replace(i, search_text=t) for i, (_k, _s, t) in zip(items, rows, strict=True)]
    assert index_from(items, rows) == index_texts(with_text)
    # A row went and one came between the two reads: the rest are matched by key, an
    # item without a row is searched by slug and title.
    got = index_from(items, [rows[1], ("rfc", "new", "x"), rows[2]])
    assert got[1:] == index_texts(with_text)[1:]
    assert got[0] == "a\na\nada "  # slug, title; people: owners, arbiters, tags, proposer


# ---------------------------------------------------------------- the filter


async def test_the_index_comes_from_the_cache_and_items_carry_no_text(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert all(i.search_text == "" for i in screen.items)  # one copy: the index's
        expected = index_from(screen.items, screen.session.cache().reader().filter_texts())
        assert screen._texts == expected
        # A word only in a body finds its entry.
        item = next(i for i in screen.items if i.kind == "rfc" and not i.removed)
        detail = screen.session.cache().rfc(item.slug)
        assert detail is not None
        word = max(detail.body.split(), key=len).lower()
        await pilot.press("slash", *word)
        await settle(pilot)
        assert item.slug in [r.item.slug for r in screen.query_one(RfcList).rows if r.item]


async def test_typing_fast_filters_once_for_the_latest_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    orig = MainScreen._apply_filter

    def counting(self: MainScreen, **kw: Any) -> None:
        ran.append(self.query_text)
        orig(self, **kw)

    monkeypatch.setattr(MainScreen, "_apply_filter", counting)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        ran.clear()
        box = app.screen.query_one("#filter")
        for ch in "typed":  # five keys before the screen gets a turn
            box.insert_text_at_cursor(ch)
        await settle(pilot)
        assert ran == ["typed"]
        screen = app.screen
        assert isinstance(screen, MainScreen)
        shown = [r.item for r in screen.query_one(RfcList).rows if r.item]
        expected = filter_items(screen.items, parse_query("typed"), screen._texts)
        assert shown and sorted(i.slug for i in shown) == sorted(i.slug for i in expected)


# ---------------------------------------------------------------- the detail body


def two_entry_cache() -> MemoryCache:
    big = big_body_cache()
    long_detail = replace(big.details["huge"], body=long_body())
    short = replace(big.details["huge"], slug="short", title="Short", body="Just *this*.\n")
    items = [big.items[0], replace(big.items[0], slug="short", title="Short")]
    return MemoryCache(items, {"huge": long_detail, "short": short}, {}, big.status)


def make_memory_app(tmp_path: Path, cache: MemoryCache) -> RfcApp:
    session = Session(Config(gitea_url="http://gitea.invalid", cache_dir=tmp_path),
                      clock=fixed_clock)
    session.adopt_cache(cache)  # type: ignore[arg-type]
    return RfcApp(session=session, sync=False)


def paragraphs(pane: DetailPane) -> list[str]:
    md = pane.query_one(Markdown)
    return [b._content.plain for b in md.query(MarkdownParagraph)]


async def test_a_long_body_shows_in_chunks_in_order_to_its_end(tmp_path: Path) -> None:
    cache = two_entry_cache()
    body = cache.details["huge"].body
    app = make_memory_app(tmp_path, cache)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(DetailPane)
        assert pane.item is not None and pane.item.slug == "huge"
        # Appended as the reader scrolls: a few screens at first, all of it at the end.
        assert "pLAST" not in " ".join(paragraphs(pane))
        for _ in range(400):
            pane.scroll_end(animate=False, immediate=True)
            await pilot.pause(0.02)
            if pane.query_one(Markdown).source == body:
                break
        await settle(pilot)
        texts = paragraphs(pane)
        assert texts[-1] == "The very last paragraph pLAST."
        numbered = [t.split()[1] for t in texts if t.startswith("Paragraph ")]
        assert numbered == [f"p{i:04d}" for i in range(700)]  # all of them, in order
        assert pane.query_one(Markdown).source == body


async def test_moving_on_while_chunking_leaves_no_stale_chunk(tmp_path: Path) -> None:
    app = make_memory_app(tmp_path, two_entry_cache())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(DetailPane)
        lst = app.screen.query_one(RfcList)
        assert lst.select_slug("short")
        await settle(pilot)
        assert lst.select_slug("huge")
        for _ in range(200):  # until the first chunks are in, then move on at once
            await pilot.pause(0.01)
            if pane.item is not None and pane.item.slug == "huge" and len(paragraphs(pane)) > 3:
                break
        assert "pLAST" not in " ".join(paragraphs(pane))  # still chunking
        assert lst.select_slug("short")
        await settle(pilot)
        assert pane.item is not None and pane.item.slug == "short"
        assert paragraphs(pane) == ["Just this."]
        assert pane.query_one(Markdown).source == "Just *this*.\n"


async def test_the_same_entry_again_renders_nothing(tmp_path: Path) -> None:
    cache = two_entry_cache()
    app = make_memory_app(tmp_path, cache)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(DetailPane)
        md = pane.query_one(Markdown)
        blocks = list(md.query(MarkdownBlock))
        pane.scroll_to(y=20, animate=False, immediate=True)
        assert pane.item is not None
        pane.show(pane.item, cache.details["huge"], [])
        await settle(pilot)
        assert list(md.query(MarkdownBlock)) == blocks  # the very same widgets
        assert pane.scroll_y == 20  # and where it was read


async def test_a_filter_keystroke_lays_out_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filter box and the status line ask for no layout pass of the screen while you
    type (issue 13): Input's own watcher used to, on every key. (The list may, when its
    scrollbar comes or goes; the detail, when it shows the new row.)"""
    from textual.widget import Widget

    app = make_app(tmp_path)
    layouts: list[str] = []
    original = Widget.refresh

    def refresh(self: Widget, *regions: Any, layout: bool = False, **kw: Any) -> Any:
        if layout and typing and type(self).__name__ in ("FilterInput", "StatusLine"):
            layouts.append(type(self).__name__)
        return original(self, *regions, layout=layout, **kw)

    typing = False
    monkeypatch.setattr(Widget, "refresh", refresh)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        typing = True
        for key in "config":
            await pilot.press(key)
            await pilot.pause()
        typing = False
        assert app.screen.query_one("#filter").value == "config"
        assert layouts == []
