"""The change view (``d``, issue 12 §1): pilot tests and snapshots.

The world: the sample sandbox plus three planted entries, and one open PR of each kind
opened through `rfctui.session.Session.perform` (the UI's own path, the bot on behalf of
real people): a proposal whose title is close to an existing entry's, a body edit, a
claim and a metadata change on one entry (both change ``owners``; the metadata one also
sets a key rfctui does not know), and a body edit full of escape codes, bidi overrides
and ``[markup]``. A full sweep through the real reconciler builds the cache and fetches
every head; then the app runs with no sweep, and the sandbox is taken *down* where a
test says so: the view reads the cache only.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from ui_fixtures import SIZES, fixed_clock, quiet_environment, sandbox_clock, settle

from rfctui.config import Config, Secret
from rfctui.sandbox.sample import build_sample_sandbox
from rfctui.session import Session

HOST = "http://gitea.test"
EDIT_SLUG, SHARED_SLUG, HOSTILE_SLUG = "cv-caching", "cv-shared", "cv-hostile"
PROPOSE_SLUG = "cv-typed-config-loading"
HOSTILE_LINE = "Evil \x1b[31mred\x1b[0m \u202etxt.exe and [bold]markup[/bold] [@click=app.quit]x[/]"

EDIT_OLD = (
    "## Why\n\n"
    "Every service caches HTTP responses in its own way, with its own expiry rules.\n"
    "Nobody knows which responses are cached or for how long.\n\n"
    "## Proposal\n\n"
    "Use one shared cache library with a default expiry of five minutes.\n"
    "Services may override the expiry per route.\n"
    "Old caches are removed within a quarter.\n\n"
    "## Open questions\n\n"
    "- Who owns the library?\n"
    "- How do we measure the hit rate?\n"
)
EDIT_NEW = (
    "## Why\n\n"
    "Every service caches HTTP responses in its own way, with its own expiry rules.\n"
    "Nobody knows which responses are cached, for how long, or why.\n\n"
    "## Proposal\n\n"
    "Use one shared cache library with a default expiry of ten minutes.\n"
    "Services may override the expiry per route.\n\n"
    "## Open questions\n\n"
    "- Who owns the library? The platform team offered to.\n"
    "- How do we measure the hit rate?\n"
    "- Do we cache authenticated responses at all?\n"
)


def _entry(slug: str, title: str, owners: str, body: str, extra: str = "") -> bytes:
    return (
        f"---\nslug: {slug}\ntitle: {title}\nstate: idea\nproposed_by: grace\n"
        f"proposed_at: 2026-11-01T10:00:00Z\nowners: [{owners}]\narbiters: [ada]\n"
        f"tags: [caching]\n{extra}---\n{body}"
    ).encode()


def _config(sb: Any, root: Path, login: str | None) -> Config:
    return Config(
        gitea_url=HOST, org=sb.org, meta_repo=sb.repo, bot_user="rfc-bot",
        bot_token=Secret("bot-token"),
        user_token=Secret(f"{login}-token") if login else None,
        cache_dir=root / "cache", data_dir=root / "data",
        quick_interval=0, full_interval=0,
    )


@dataclass
class World:
    root: Path
    sb: Any
    prs: dict[str, int]

    def config(self, login: str | None = "ada") -> Config:
        return _config(self.sb, self.root, login)


async def _build(root: Path) -> World:
    sb = build_sample_sandbox(clock=sandbox_clock)
    sb.commit_files("main", {
        f"rfcs/{EDIT_SLUG}.md": _entry(EDIT_SLUG, "One HTTP cache library", "grace", EDIT_OLD),
        f"rfcs/{SHARED_SLUG}.md": _entry(
            SHARED_SLUG, "Shared fixtures for contract tests", "grace",
            "Contract tests need the same fixtures everywhere.\n",
            extra="discussion: https://chat.example/rfc-42\n",
        ),
        f"rfcs/{HOSTILE_SLUG}.md": _entry(HOSTILE_SLUG, "A plain entry", "ada",
                                          "A plain body.\n"),
    }, "Plant the change view's entries", author=("Grace Hopper", "grace@sandbox.localhost"))
    world = World(root, sb, {})

    async def perform(login: str, request: dict[str, Any]) -> int:
        s = Session(replace(world.config(login), transport=sb.transport), clock=sandbox_clock)
        try:
            result = await s.perform(request)
            assert result.pr_number, result
            return int(result.pr_number)
        finally:
            s.close()

    async def sweep(kind: str) -> None:
        s = Session(replace(world.config(None), transport=sb.transport), clock=sandbox_clock)
        try:
            result = await s.sweep(kind)  # type: ignore[arg-type]
            assert result.ok, result.error
        finally:
            s.close()

    await sweep("resync")
    world.prs["propose"] = await perform("ada", {
        "action": "propose", "slug": PROPOSE_SLUG, "title": "Typed configuration loading v2",
        "body": "## Why\n\nTyped settings catch mistakes **before** a deploy.\n\n"
                "- one schema per service\n- checked in CI\n",
        "tags": ("config", "dx"), "arbiters": ("grace",),
    })
    world.prs["edit"] = await perform("grace", {
        "action": "edit", "slug": EDIT_SLUG, "body": EDIT_NEW,
    })
    world.prs["claim"] = await perform("ada", {"action": "claim", "slug": SHARED_SLUG})
    world.prs["metadata"] = await perform("grace", {
        "action": "metadata", "slug": SHARED_SLUG,
        "changes": {"owners": ["grace", "admin"], "discussion": "https://chat.example/rfc-43",
                    "tags": ["caching", "testing"]},
    })
    world.prs["hostile"] = await perform("ada", {
        "action": "edit", "slug": HOSTILE_SLUG, "body": f"A plain body.\n{HOSTILE_LINE}\n",
    })
    await sweep("full")  # fetches every open PR's head file (once per head sha)
    return world


_TEMPLATE: World | None = None


def world_in(target: Path) -> World:
    """A copy of the synced world's cache and data in ``target`` (built once)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        tmpl = Path(tempfile.mkdtemp(prefix="rfctui-cv-"))
        with ThreadPoolExecutor(1) as pool:
            _TEMPLATE = pool.submit(asyncio.run, _build(tmpl)).result()
    shutil.copytree(_TEMPLATE.root, target, dirs_exist_ok=True)
    return World(target, _TEMPLATE.sb, dict(_TEMPLATE.prs))


def make_app(target: Path) -> Any:
    """The app over the world's cache: fixed clock, no sweep, no timers."""
    from rfctui.app import RfcApp

    world = world_in(target)
    app = RfcApp(world.config("ada"), clock=fixed_clock, sync=False,
                 transport=world.sb.transport)
    app.animation_level = "none"
    app.world = world  # type: ignore[attr-defined]
    return app


def open_change(kind: str) -> Any:
    """run_before: select the PR's row (its pending idea, or its entry) and press d."""
    from rfctui.widgets.rfc_list import RfcList

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        world = pilot.app.world
        rfc_list = pilot.app.screen.query_one(RfcList)
        if kind == "propose":
            assert rfc_list.select_slug(PROPOSE_SLUG, "pending")
        else:
            slug = {"edit": EDIT_SLUG, "claim": SHARED_SLUG, "metadata": SHARED_SLUG,
                    "hostile": HOSTILE_SLUG}[kind]
            assert rfc_list.select_slug(slug, "rfc")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = pilot.app.screen
        if kind == "metadata":  # the entry's PRs open at the lowest number: the claim
            while screen.pr != world.prs["metadata"]:
                await pilot.press("right_square_bracket")
                await settle(pilot)
        assert screen.pr == world.prs[kind]

    return run_before


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


# -- snapshots: each kind at 80×24 and 160×50 --------------------------------------------


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
@pytest.mark.parametrize("kind", ["propose", "edit", "claim", "metadata"])
def test_change_view(snap_compare: Any, tmp_path: Path, kind: str, size: str) -> None:
    assert snap_compare(make_app(tmp_path), terminal_size=SIZES[size],
                        run_before=open_change(kind))


# -- behaviour ---------------------------------------------------------------------


async def test_keys_move_between_the_entrys_prs(tmp_path: Path) -> None:
    from rfctui.screens.change_view import ChangeScreen
    from rfctui.widgets.diff_view import DiffView

    app = make_app(tmp_path)
    prs = app.world.prs
    async with app.run_test(size=(120, 40)) as pilot:
        await open_change("claim")(pilot)
        screen = app.screen
        assert isinstance(screen, ChangeScreen)
        assert screen.prs == sorted([prs["claim"], prs["metadata"]])
        text = str(screen.query_one("#cv-fields").render())
        assert "owners" in text and "[grace] → [grace, ada]" in text
        notes = str(screen.query_one("#cv-notes").render())
        assert f"#{prs['claim']} and #{prs['metadata']} both change owners" in notes
        assert "body unchanged" in str(screen.query_one("#cv-body-note").render())
        assert not screen.query_one(DiffView).display
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.pr == prs["metadata"]
        text = str(screen.query_one("#cv-fields").render())
        assert "[grace] → [grace, admin]" in text
        assert "discussion: not a field rfctui knows; kept as written" in text
        assert "https://chat.example/rfc-42 → https://chat.example/rfc-43" in text
        assert "state" not in text  # only keys that change
        notes = str(screen.query_one("#cv-notes").render())
        assert f"#{prs['metadata']} and #{prs['claim']} both change owners" in notes
        await pilot.press("n")  # wraps round to the first
        await settle(pilot)
        assert screen.pr == prs["claim"]
        await pilot.press("p")
        await settle(pilot)
        assert screen.pr == prs["metadata"]
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ChangeScreen)


async def test_proposal_shows_the_new_entry_and_the_forms_warnings(tmp_path: Path) -> None:
    from textual.widgets import Markdown

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_change("propose")(pilot)
        screen = app.screen
        fields = str(screen.query_one("#cv-fields").render())
        assert "Typed configuration loading v2" in fields and "[config, dx]" in fields
        notes = str(screen.query_one("#cv-notes").render())
        assert "likely duplicate of 'typed-config'" in notes
        assert PROPOSE_SLUG not in notes  # its own pending row is not a duplicate
        assert screen.query_one("#cv-markdown", Markdown).source.startswith("## Why")
        # Nothing to move to: the keys are not offered.
        assert screen.check_action("move", (1,)) is False


async def test_edit_diff_split_when_wide_unified_when_narrow(tmp_path: Path) -> None:
    from rfctui.widgets.diff_view import DiffView

    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_change("edit")(pilot)
        diff = app.screen.query_one(DiffView)
        assert diff.display and diff.split
        words = [t for line in diff._lines for t, s in line if s in ("del-word", "add-word")]
        assert "five" in words and "ten" in words
        assert any("Do we cache authenticated responses" in t for line in diff._lines
                   for t, s in line if s == "add")
        await pilot.press("u")
        await settle(pilot)
        assert not diff.split
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.press("u")  # back to auto would be split; forced split at 80 columns
        await settle(pilot)
        assert diff.split


async def test_hostile_body_shows_as_visible_text(tmp_path: Path) -> None:
    """ESC codes, a bidi override and [markup] in a diff are drawn as the characters a
    reviewer must see, never interpreted (§7.4)."""
    from rfctui.widgets.diff_view import DiffView

    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_change("hostile")(pilot)
        diff = app.screen.query_one(DiffView)
        drawn = "".join(
            seg.text for y in range(diff.size.height) for seg in diff.render_line(y)
        )
        assert "\\x1b[31mred\\x1b[0m" in drawn
        assert "\\u202etxt.exe" in drawn
        assert "[bold]markup[/bold]" in drawn and "[@click=app.quit]x[/]" in drawn
        assert "\x1b" not in drawn and "\u202e" not in drawn
        assert app.is_running  # the fake action did nothing
        svg = app.export_screenshot()
        assert "[bold]markup[/bold]" in svg and "\\x1b[31mred" in svg


async def test_works_offline_from_the_cache(tmp_path: Path) -> None:
    """Gitea down: the change view still shows every kind, and asks it nothing."""
    from rfctui.screens.change_view import ChangeScreen

    app = make_app(tmp_path)
    sb = app.world.sb
    sb.faults.down = True
    try:
        served = sb.requests_served
        async with app.run_test(size=(120, 40)) as pilot:
            for kind in ("propose", "edit", "claim", "metadata"):
                await open_change(kind)(pilot)
                screen = app.screen
                assert isinstance(screen, ChangeScreen)
                assert screen.loaded[screen.pr].view.change is not None
                await pilot.press("escape")
                await settle(pilot)
        assert sb.requests_served == served
    finally:
        sb.faults.down = False


async def test_head_not_fetched_says_sync(tmp_path: Path) -> None:
    from rfctui.db import open_cache

    app = make_app(tmp_path)
    n = app.world.prs["edit"]
    with open_cache(app.world.config().cache_file) as cache, cache.write():
        cache.HeadFile.delete().where(cache.HeadFile.pr_number == n).execute()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_change("edit")(pilot)
        text = str(app.screen.query_one("#cv-body-note").render())
        assert "not fetched yet: run a sync (r" in text


async def test_no_open_pr_is_one_line(tmp_path: Path) -> None:
    from rfctui.screens.change_view import ChangeScreen
    from rfctui.widgets.rfc_list import RfcList

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert app.screen.query_one(RfcList).select_slug("feature-flags", "rfc")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert not isinstance(app.screen, ChangeScreen)
        assert any("No open pull request on feature-flags" in str(n.message)
                   for n in app._notifications)


def test_wrap_fits_the_width_and_keeps_every_word() -> None:
    from rich.cells import cell_len

    from rfctui.widgets.diff_view import _wrap

    pieces = [("Nobody knows which ", "add"), ("responses", "add-word"),
              (" are cached — 日本語のテキスト, for how long, or why.", "add")]
    for width in (1, 5, 12, 30, 200):
        lines = _wrap(pieces, width)
        assert all(cell_len("".join(t for t, _s in line)) <= max(width, 2) for line in lines)
        text = "".join(t for t, _s in pieces)
        drawn = ["".join(t for t, _s in line) for line in lines]
        assert "".join(drawn).replace(" ", "") == text.replace(" ", "")  # nothing lost
        if width >= 30:  # every word fits: none is cut in two
            assert " ".join(drawn).split() == text.split()
        assert any(s == "add-word" for line in lines for _t, s in line)


async def test_from_the_pull_list_starts_at_the_highlighted_pr(tmp_path: Path) -> None:
    from rfctui.screens.change_view import ChangeScreen
    from rfctui.screens.help import HelpScreen
    from rfctui.widgets.detail import PullList
    from rfctui.widgets.rfc_list import RfcList

    app = make_app(tmp_path)
    prs = app.world.prs
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(RfcList).select_slug(SHARED_SLUG, "rfc")
        await settle(pilot)
        pulls = app.screen.query_one(PullList)
        pulls.focus()
        pulls.highlighted = [p.number for p in pulls.pulls].index(prs["metadata"])
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChangeScreen)
        assert screen.pr == prs["metadata"]
        assert screen.prs == sorted([prs["claim"], prs["metadata"]])
        assert "Next PR" in [c.name for c in screen.palette_entries()]
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_from_a_needs_you_row(tmp_path: Path) -> None:
    from rfctui.bot import Actor, IdentityFile
    from rfctui.screens.change_view import ChangeScreen
    from rfctui.widgets.rfc_list import RfcList

    app = make_app(tmp_path)
    cfg = app.world.config("ada")
    assert cfg.user_token is not None
    IdentityFile(cfg, cfg.user_token).save(Actor("ada", "Ada Lovelace"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rfc_list = app.screen.query_one(RfcList)
        index = next(i for i, r in enumerate(rfc_list.rows)
                     if r.queue is not None and r.queue.pr_number in app.world.prs.values())
        rfc_list.cursor = index
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ChangeScreen)
        assert app.screen.prs == [rfc_list.rows[index].queue.pr_number]
