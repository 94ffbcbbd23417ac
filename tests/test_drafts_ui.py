"""Drafts in the action forms (issue 9 item 1; SPEC §6.4, §9 personal marks, §11).

Typing survives escape (it asks first), quitting and kill -9; reopening the form restores
it; a send that reaches the actions log removes it; the Actions view lists drafts.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static, TextArea

from rfctui.drafts import Drafts, DraftWriter, drafts_dir
from rfctui.screens.actions import ActionsScreen, ConfirmDiscardDraft
from rfctui.screens.forms import DiscardDraftConfirm, EditBodyForm, MetadataForm, ProposeForm

SIZE = (100, 34)
SAVED = datetime(2026, 11, 29, 10, 42, tzinfo=UTC)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BODY = "## Why\n\nTyped configuration catches mistakes at start-up.\n"
CURRENT = {"title": "Typed configuration loading", "state": "idea", "owners": ["ada"],
           "arbiters": [], "tags": ["config"], "repo": None, "id": None}


class Host(App[Any]):
    """Pushes one form (with a fixed clock, as RfcApp has) and records its result."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make
        self.results: list[Any] = []
        self.clock = lambda: NOW

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)


def writer(tmp_path: Path) -> DraftWriter:
    return DraftWriter(Drafts(tmp_path / "drafts", clock=lambda: SAVED))


async def wait_for(pilot: Pilot[Any], cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the draft timer fire (real time) until `cond` holds."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition never held"
        await pilot.pause(0.1)


async def type_in(pilot: Pilot[Any], selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    widget.value = text
    await pilot.pause()


# ---------------------------------------------------------------- the form on its own


async def test_typing_is_saved_without_closing_the_form(tmp_path: Path) -> None:
    w = writer(tmp_path)
    app = Host(lambda: EditBodyForm("typed-config", "T", BODY, drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#f-body", TextArea).text = "A new body, typed."
        await wait_for(pilot, lambda: w.drafts.load("edit", "typed-config") is not None)
        assert isinstance(app.screen, EditBodyForm)
    assert w.load("edit", "typed-config").fields == {"body": "A new body, typed."}  # type: ignore[union-attr]


async def test_escape_with_changes_asks_and_n_keeps_the_form(tmp_path: Path) -> None:
    w = writer(tmp_path)
    app = Host(lambda: ProposeForm(drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"jitter")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DiscardDraftConfirm)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ProposeForm)
        assert app.screen.query_one("#f-slug", Input).value == "jitter"
        assert app.results == []
    # closing the app (quit) wrote what the timer had not
    assert w.load("propose", "").fields["slug"] == "jitter"  # type: ignore[union-attr]


async def test_quitting_saves_what_the_timer_had_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rfctui.screens.forms as forms

    monkeypatch.setattr(forms, "DRAFT_DELAY", 600)  # only the close can write it
    w = writer(tmp_path)
    app = Host(lambda: ProposeForm(drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"quit-now")
        assert w.drafts.load("propose", "") is None
        app.exit()
    w.flush()
    assert w.drafts.load("propose", "").fields["slug"] == "quit-now"  # type: ignore[union-attr]


async def test_a_failed_write_is_told(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    w = DraftWriter(Drafts(blocker / "drafts", clock=lambda: SAVED))
    app = Host(lambda: ProposeForm(drafts=w))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press(*"abc")  # told once the write fails, with no further key
        await wait_for(pilot, lambda: any("Could not save the draft" in n.message
                                          for n in app._notifications), timeout=15)


async def test_escape_then_y_discards_the_draft(tmp_path: Path) -> None:
    w = writer(tmp_path)
    app = Host(lambda: ProposeForm(drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"jitter")
        await wait_for(pilot, lambda: w.drafts.load("propose", "") is not None)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.results == [None]
        w.flush()
        assert w.drafts.load("propose", "") is None


async def test_escape_then_k_closes_and_keeps_the_draft(tmp_path: Path) -> None:
    w = writer(tmp_path)
    app = Host(lambda: MetadataForm("typed-config", CURRENT, drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        await type_in(pilot, "#f-title", "Typed configuration, v2")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("k")
        await pilot.pause()
        assert app.results == [None]
    assert w.load("metadata", "typed-config").fields["title"] == "Typed configuration, v2"  # type: ignore[union-attr]


async def test_escape_on_an_unchanged_form_closes_at_once(tmp_path: Path) -> None:
    w = writer(tmp_path)
    app = Host(lambda: EditBodyForm("typed-config", "T", BODY, drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
    assert w.load("edit", "typed-config") is None


async def test_reopening_restores_the_draft_and_says_so(tmp_path: Path) -> None:
    w = writer(tmp_path)
    w.drafts.save("edit", "typed-config", {"body": "Half-written new body"})
    app = Host(lambda: EditBodyForm("typed-config", "T", BODY, drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#f-body", TextArea).text == "Half-written new body"
        note = app.screen.query_one("#draft-note", Static)
        assert note.display
        assert str(note.render()) == ("Restored your unsent draft from 10:42 — "
                                      "ctrl+g discards it")
        # restored and untouched: escape closes at once and the draft stays
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
    assert w.load("edit", "typed-config") is not None


async def test_ctrl_g_discards_the_restored_draft(tmp_path: Path) -> None:
    w = writer(tmp_path)
    w.drafts.save("propose", "", {"slug": "x", "title": "An idea"})
    app = Host(lambda: ProposeForm(drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#f-title", Input).value == "An idea"
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, DiscardDraftConfirm)
        await pilot.press("y")
        await pilot.pause()
        assert app.results == [None]
    assert w.load("propose", "") is None


async def test_a_damaged_draft_is_ignored_with_a_notice(tmp_path: Path) -> None:
    w = writer(tmp_path)
    path = w.drafts.path("edit", "typed-config")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{broken")
    app = Host(lambda: EditBodyForm("typed-config", "T", BODY, drafts=w))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#f-body", TextArea).text == BODY
        assert any("edit--typed-config.json is unreadable" in n.message
                   for n in app._notifications)


# ---------------------------------------------------------------- snapshots


def test_snapshot_restored_draft(snap_compare: Any, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from ui_fixtures import quiet_environment

    quiet_environment(monkeypatch)
    w = writer(tmp_path)
    w.drafts.save("propose", "", {"slug": "retry-jitter", "title": "Jitter for retries",
                                  "tags": "http", "arbiters": "", "body": "Why: thundering herds."})
    app = Host(lambda: ProposeForm(drafts=w))

    async def run(pilot: Pilot[Any]) -> None:
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_snapshot_discard_confirm(snap_compare: Any, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from ui_fixtures import quiet_environment

    quiet_environment(monkeypatch)
    app = Host(lambda: EditBodyForm("typed-config", "Typed configuration loading", BODY,
                                    drafts=writer(tmp_path)))

    async def run(pilot: Pilot[Any]) -> None:
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        pilot.app.screen.query_one("#f-body", TextArea).text = "A changed body."
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_snapshot_actions_view_with_drafts(snap_compare: Any, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from ui_fixtures import quiet_environment

    quiet_environment(monkeypatch)
    w = writer(tmp_path)
    w.drafts.save("edit", "typed-config", {"body": "Half-written new body"})
    w.drafts.save("propose", "", {"slug": "retry-jitter", "title": "Jitter", "body": ""})
    app = Host(lambda: ActionsScreen(lambda: [], drafts=w.all, discard_draft=w.discard))

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


# ---------------------------------------------------------------- the real app


async def _settled(pilot: Pilot[Any]) -> None:
    from ui_fixtures import settle

    await settle(pilot)


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from ui_fixtures import make_app, quiet_environment

    quiet_environment(monkeypatch)
    return make_app(tmp_path / "ui")


async def test_send_removes_the_draft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app(tmp_path, monkeypatch)
    from rfctui.drafts import writer_for

    w = writer_for(app.config)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        await pilot.press("n")
        await pilot.pause()
        await type_in(pilot, "#f-slug", "drafted-idea")
        await type_in(pilot, "#f-title", "Written, then sent")
        await wait_for(pilot, lambda: w.drafts.load("propose", "") is not None)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert any(p.head == "propose/drafted-idea" for p in app.sandbox.pulls.values())
        w.flush()
        assert w.drafts.load("propose", "") is None


async def test_validation_failure_keeps_the_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gitea says no before anything is logged: the form comes back and the draft stays."""
    app = _app(tmp_path, monkeypatch)
    from rfctui.drafts import writer_for

    w = writer_for(app.config)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        from rfctui.widgets.rfc_list import RfcList

        app.screen.query_one(RfcList).select_slug("typed-config", "rfc")
        await _settled(pilot)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditBodyForm)
        form.query_one("#f-body", TextArea).text = "A body the server refuses"

        def refuse(self: Any, request: dict[str, Any]) -> None:
            from rfctui.messages import BotActionFailed

            self.post_message(BotActionFailed(request, "no", {"body": "refused"}, None))

        monkeypatch.setattr(type(app.screen_stack[0]), "run_bot_action", refuse)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert isinstance(app.screen, EditBodyForm)
        w.flush()
        assert w.drafts.load("edit", form.slug).fields == {"body": "A body the server refuses"}  # type: ignore[union-attr]


async def test_actions_view_lists_drafts_and_reopens_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        await pilot.press("n")
        await pilot.pause()
        await type_in(pilot, "#f-title", "Kept for later")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("k")
        await pilot.pause()
        await pilot.press("a")
        await _settled(pilot)
        assert isinstance(app.screen, ActionsScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        assert [str(c) for c in table.get_row_at(0)][1:4] == ["propose", "", "draft"]
        await pilot.press("enter")
        await _settled(pilot)
        assert isinstance(app.screen, ProposeForm)
        assert app.screen.query_one("#f-title", Input).value == "Kept for later"
        assert app.screen.query_one("#draft-note", Static).display
        await pilot.press("escape")  # unchanged since restored: closes, draft kept
        await pilot.pause()
        await pilot.press("a")
        await _settled(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscardDraft)
        await pilot.press("y")
        await _settled(pilot)
        assert app.screen.query_one(DataTable).row_count == 0
    assert not list(drafts_dir(app.config).glob("*.json"))


async def test_an_edit_draft_reopens_from_the_actions_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(tmp_path, monkeypatch)
    from rfctui.drafts import writer_for

    writer_for(app.config).drafts.save("edit", "typed-config", {"body": "Drafted body"})
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        await pilot.press("a")
        await _settled(pilot)
        await pilot.press("enter")
        await _settled(pilot)
        form = app.screen
        assert isinstance(form, EditBodyForm) and form.slug == "typed-config"
        assert form.query_one("#f-body", TextArea).text == "Drafted body"
        assert form.original != "Drafted body"  # "unchanged" still means the entry's body


async def test_the_editor_result_is_saved_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib

    import rfctui.screens.forms as forms

    monkeypatch.setattr(forms, "DRAFT_DELAY", 600)  # only ctrl+o's own save can write it
    monkeypatch.setenv("VISUAL", "")
    monkeypatch.setenv("EDITOR", "sh -c 'printf \"from the editor\" > \"$0\"'")
    w = writer(tmp_path)
    app = Host(lambda: EditBodyForm("typed-config", "T", BODY, drafts=w))
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # headless: no terminal
        await pilot.press("ctrl+o")
        await pilot.pause()
        w.flush()
        assert w.drafts.load("edit", "typed-config").fields == {"body": "from the editor"}  # type: ignore[union-attr]


# ---------------------------------------------------------------- kill -9, for real

_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from ui_fixtures import make_app
app = make_app(Path({root!r}))
app.run()
"""


def _read_until(fd: int, proc_pid: int, needle: bytes, timeout: float) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"never saw {needle!r}")
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                break
    return buf


@pytest.mark.skipif(not hasattr(os, "forkpty"), reason="needs a pty (os.forkpty)")
def test_kill_9_keeps_what_was_typed(tmp_path: Path) -> None:
    """The real app in a pty: open the propose form, type, wait, kill -9, read the file."""
    from ui_fixtures import config_for

    root = tmp_path / "ui"
    code = _CHILD.format(tests=str(Path(__file__).parent), root=str(root))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40",
           "TEXTUAL_ANIMATIONS": "none"}
    pid, fd = os.forkpty()
    if pid == 0:  # the child: the app on the pty
        try:
            os.execve(sys.executable, [sys.executable, "-c", code], env)
        finally:
            os._exit(127)
    try:
        _read_until(fd, pid, b"Propose", 20.0)  # the footer lists n Propose
        time.sleep(0.5)
        os.write(fd, b"n")
        _read_until(fd, pid, b"Propose an RFC idea", 10.0)
        for ch in b"kill-nine":
            os.write(fd, bytes([ch]))
            time.sleep(0.02)
        time.sleep(1.5)
        os.kill(pid, signal.SIGKILL)
    finally:
        with_status = os.waitpid(pid, 0)[1]
        os.close(fd)
    assert os.WIFSIGNALED(with_status) and os.WTERMSIG(with_status) == signal.SIGKILL
    path = drafts_dir(config_for(root)) / "propose.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["fields"]["slug"] == "kill-nine"
    # and the next start restores it
    app = Host(lambda: ProposeForm(drafts=DraftWriter(Drafts(path.parent))))

    async def reopen() -> str:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            return app.screen.query_one("#f-slug", Input).value

    assert asyncio.run(reopen()) == "kill-nine"
