"""The action forms and the Actions view: snapshots and behaviour (SPEC §6, §6.4, §7.2).

Snapshots are deterministic: fixed data, a fixed clock for the actions log, no cursor
blink. Behaviour tests check what each form hands back through `dismiss()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, TextArea

from rfctui.db import ListItem, open_actions
from rfctui.screens.actions import ActionsScreen, ConfirmDiscard
from rfctui.screens.forms import ClaimConfirm, EditBodyForm, MetadataForm, ProposeForm

SIZE = (100, 34)
FIXED = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BODY = "## Why\n\nTyped configuration catches mistakes at start-up.\n"
CURRENT = {
    "title": "Typed configuration loading",
    "state": "idea",
    "owners": ["ada"],
    "arbiters": ["grace"],
    "tags": ["config", "dx"],
    "repo": None,
    "id": None,
    "waiting_on": "a decision on the loader",
}
EXISTING = [
    ListItem(kind="rfc", slug="typed-config", title="Typed configuration loading",
             state="idea"),
    ListItem(kind="pending", slug="retry-budget", title="A retry budget for clients",
             state="pending"),
]


class Host(App[Any]):
    """Pushes one screen and records what it dismissed with."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)


async def no_blink(pilot: Pilot[Any]) -> None:
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


Step = Callable[[Pilot[Any]], Awaitable[None]]


def then(*steps: Step) -> Step:
    async def run(pilot: Pilot[Any]) -> None:
        for step in steps:
            await step(pilot)
        await no_blink(pilot)

    return run


def typing(selector: str, text: str) -> Step:
    """Fill an input as if typed (setting the value: a key press per character is slow)."""

    async def step(pilot: Pilot[Any]) -> None:
        widget = pilot.app.screen.query_one(selector, Input)
        widget.focus()
        widget.value = text
        widget.cursor_position = len(text)
        await pilot.pause()

    return step


def press(*keys: str) -> Step:
    async def step(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)
        await pilot.pause()

    return step


def actions_rows(tmp_path: Path) -> Any:
    """A real actions log with a fixed clock: one failed, one pending, one done."""
    log = open_actions(tmp_path / "actions.db", clock=lambda: FIXED)
    a = log.add("propose_rfc", "retry-budget", "ada",
                {"slug": "retry-budget", "title": "A retry budget for clients",
                 "body": "Clients retry forever.\n", "tags": ["http"], "arbiters": []})
    log.mark_failed(a, "Gitea is unreachable at http://gitea.example: connection refused")
    b = log.add("open_claim_pr", "typed-config", "ada", {"slug": "typed-config"})
    log.mark_failed(b, "claim/typed-config already has open PR #12 opened for grace")
    log.add("open_metadata_pr", "typed-config", "ada",
            {"slug": "typed-config", "changes": {"state": "parked"}})
    done = log.add("open_body_edit_pr", "typed-config", "ada", {"slug": "typed-config",
                                                                 "body": "x"})
    log.mark_done(done, 7, "http://gitea.example/rfcs/meta/pulls/7")
    return log


# ---------------------------------------------------------------- snapshots


def test_propose_form(snap_compare: Any) -> None:
    app = Host(lambda: ProposeForm(existing=EXISTING))
    assert snap_compare(app, terminal_size=SIZE, run_before=then())


def test_propose_form_with_errors(snap_compare: Any) -> None:
    app = Host(lambda: ProposeForm(existing=EXISTING))
    run = then(typing("#f-slug", "Typed Config"), typing("#f-arbiters", "grace, not a login"),
               press("ctrl+s"))
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_propose_form_duplicate_warning(snap_compare: Any) -> None:
    app = Host(lambda: ProposeForm(existing=EXISTING))
    run = then(typing("#f-slug", "typed-configuration"),
               typing("#f-title", "Typed configuration loadin"), press("ctrl+s"))
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_edit_body_form_with_error(snap_compare: Any) -> None:
    app = Host(lambda: EditBodyForm("typed-config", "Typed configuration loading", BODY))
    assert snap_compare(app, terminal_size=SIZE, run_before=then(press("ctrl+s")))


def test_claim_confirm(snap_compare: Any) -> None:
    app = Host(lambda: ClaimConfirm("typed-config", "Typed configuration loading", "grace",
                                    ["ada"]))
    assert snap_compare(app, terminal_size=SIZE, run_before=then())


def test_claim_confirm_with_error(snap_compare: Any) -> None:
    app = Host(lambda: ClaimConfirm("typed-config", "Typed configuration loading", "ada",
                                    ["ada"]))
    assert snap_compare(app, terminal_size=SIZE, run_before=then(press("y")))


def test_metadata_form_with_error(snap_compare: Any) -> None:
    app = Host(lambda: MetadataForm("typed-config", CURRENT))
    run = then(typing("#f-title", ""), typing("#f-owners", "ada, bad login"), press("ctrl+s"))
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_actions_view(snap_compare: Any, tmp_path: Path) -> None:
    log = actions_rows(tmp_path)
    app = Host(lambda: ActionsScreen(lambda: [*log.pending(), *log.failed()]))

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=then(settle))


def test_actions_view_confirms_discard(snap_compare: Any, tmp_path: Path) -> None:
    log = actions_rows(tmp_path)
    app = Host(lambda: ActionsScreen(lambda: [*log.pending(), *log.failed()],
                                     discard=log.discard))

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=then(settle))


def test_actions_view_empty(snap_compare: Any) -> None:
    app = Host(lambda: ActionsScreen(lambda: []))

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=then(settle))


# ---------------------------------------------------------------- behaviour


async def test_propose_form_dismisses_with_the_request() -> None:
    app = Host(lambda: ProposeForm(existing=EXISTING))
    async with app.run_test(size=SIZE) as pilot:
        await typing("#f-slug", "retry-jitter")(pilot)
        await typing("#f-title", "Jitter for retries")(pilot)
        await typing("#f-tags", "http, dx")(pilot)
        await typing("#f-arbiters", "grace")(pilot)
        app.screen.query_one("#f-body", TextArea).text = "On-behalf-of: X <admin>\nBody."
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [{
        "action": "propose", "slug": "retry-jitter", "title": "Jitter for retries",
        "tags": ["http", "dx"], "arbiters": ["grace"], "body": "On-behalf-of: X <admin>\nBody.",
    }]


async def test_keys_typed_as_the_form_opens_go_field_by_field() -> None:
    """Found in tmux: the scrolling frame took focus, so the first keys went nowhere."""
    app = Host(lambda: ProposeForm(existing=EXISTING))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"retry-jitter", "tab", *"Jitter", "tab", *"dx", "tab", *"grace")
        await pilot.press("tab", *"Body", "ctrl+s")
        await pilot.pause()
    assert app.results == [{
        "action": "propose", "slug": "retry-jitter", "title": "Jitter",
        "tags": ["dx"], "arbiters": ["grace"], "body": "Body",
    }]


async def test_propose_form_keeps_open_on_errors_and_on_first_duplicate_warning() -> None:
    app = Host(lambda: ProposeForm(existing=EXISTING))
    async with app.run_test(size=SIZE) as pilot:
        await typing("#f-slug", "typed-config")(pilot)
        await typing("#f-title", "Anything")(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ProposeForm) and app.results == []
        assert "already taken" in str(app.screen.query_one("#err-slug").render())
        await typing("#f-slug", "typed-config-2")(pilot)
        await typing("#f-title", "Typed configuration loading")(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ProposeForm)  # warned once
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results[0]["slug"] == "typed-config-2"


@pytest.mark.parametrize("key", ["escape"])
async def test_cancel_dismisses_with_none(key: str) -> None:
    app = Host(lambda: MetadataForm("typed-config", CURRENT))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(key)
        await pilot.pause()
    assert app.results == [None]


async def test_metadata_form_sends_only_what_changed() -> None:
    app = Host(lambda: MetadataForm("typed-config", CURRENT))
    async with app.run_test(size=SIZE) as pilot:
        await typing("#f-tags", "config, dx, typing")(pilot)
        await typing("#f-waiting_on", "")(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [{"action": "metadata", "slug": "typed-config",
                            "changes": {"tags": ["config", "dx", "typing"], "waiting_on": None}}]


async def test_edit_and_claim_forms_return_their_requests() -> None:
    edit = Host(lambda: EditBodyForm("typed-config", "T", BODY))
    async with edit.run_test(size=SIZE) as pilot:
        edit.screen.query_one("#f-body", TextArea).text = "New body."
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert edit.results == [{"action": "edit", "slug": "typed-config", "body": "New body."}]
    claim = Host(lambda: ClaimConfirm("typed-config", "T", "grace", ["ada"]))
    async with claim.run_test(size=SIZE) as pilot:
        await pilot.press("y")
        await pilot.pause()
    assert claim.results == [{"action": "claim", "slug": "typed-config"}]


async def test_discard_asks_first_then_discards(tmp_path: Path) -> None:
    log = actions_rows(tmp_path)
    app = Host(lambda: ActionsScreen(lambda: [*log.pending(), *log.failed()],
                                     discard=log.discard))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        first = app.screen.query_one(DataTable).get_row_at(0)[0]
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscard)
        await pilot.press("n")
        await pilot.pause()
        assert log.get(int(first)).status != "discarded"
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert log.get(int(first)).status == "discarded"
        assert app.screen.query_one(DataTable).row_count == 2


async def test_retry_runs_in_a_worker_and_reloads(tmp_path: Path) -> None:
    log = actions_rows(tmp_path)
    calls: list[int] = []

    def retry(action_id: int) -> str:
        calls.append(action_id)
        log.mark_done(action_id, 9, "http://gitea.example/rfcs/meta/pulls/9")
        return "http://gitea.example/rfcs/meta/pulls/9"

    app = Host(lambda: ActionsScreen(lambda: [*log.pending(), *log.failed()], retry=retry))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == [1]
        assert app.screen.query_one(DataTable).row_count == 2


# ---------------------------------------------------------------- the main-screen glue


def _wired_app(tmp_path: Path) -> Any:
    """The real app over a synced cache and the sandbox (n/e/c/m/a: BotActionsScreen)."""
    from ui_fixtures import make_app

    from rfctui.screens.bot_actions import BotActionsScreen
    from rfctui.screens.main import MainScreen

    assert issubclass(MainScreen, BotActionsScreen)
    return make_app(tmp_path / "ui")


async def _settled(pilot: Pilot[Any]) -> None:
    from ui_fixtures import settle

    await settle(pilot)


def _main_list(app: Any) -> Any:
    from rfctui.widgets.rfc_list import RfcList

    return app.screen.query_one(RfcList)


async def test_claim_from_the_ui_opens_the_pr_and_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_fixtures import quiet_environment

    from rfctui.widgets.detail import DetailPane

    quiet_environment(monkeypatch)
    app = _wired_app(tmp_path)
    sb = app.sandbox
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        rows = [r.item for r in _main_list(app).rows if r.item is not None]
        target = next(i for i in rows if i.kind == "rfc" and "ada" not in i.owners
                      and i.state == "idea")
        _main_list(app).select_slug(target.slug, "rfc")
        await _settled(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ClaimConfirm)
        await pilot.press("y")
        await _settled(pilot)
        [pr] = [p for p in sb.pulls.values() if p.head == f"claim/{target.slug}"]
        assert pr.body.endswith("On-behalf-of: Ada Lovelace <ada>")
        # the targeted refresh reached the UI: the entry is selected and lists the PR
        assert _main_list(app).highlighted_item.slug == target.slug
        pane = app.screen.query_one(DetailPane)
        await _settled(pilot)
        assert any(p.number == pr.number and p.opened_by == "ada"
                   for p in getattr(pane, "pulls", None) or app.session.cache().pulls_for(
                       target.slug))


async def test_propose_from_the_ui_selects_the_new_pending_idea(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_fixtures import quiet_environment

    quiet_environment(monkeypatch)
    app = _wired_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ProposeForm)
        await typing("#f-slug", "ui-proposal")(pilot)
        await typing("#f-title", "Proposed from the terminal UI")(pilot)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        item = _main_list(app).highlighted_item
        assert (item.kind, item.slug, item.proposed_by) == ("pending", "ui-proposal", "ada")


class _FailFirstWrite(httpx.AsyncBaseTransport):
    """The sandbox transport whose first write never arrives (connection refused)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.failed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and not self.failed:
            self.failed = True
            raise httpx.ConnectError("injected: refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_failed_action_goes_to_the_actions_view_and_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_fixtures import quiet_environment

    quiet_environment(monkeypatch)
    app = _wired_app(tmp_path)
    sb = app.sandbox
    notes: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        monkeypatch.setattr(app, "notify", lambda msg, **kw: notes.append(str(msg)))
        await pilot.press("n")
        await pilot.pause()
        await typing("#f-slug", "offline-idea")(pilot)
        await typing("#f-title", "Typed while offline")(pilot)
        app.session.transport = _FailFirstWrite(sb.transport)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert any("Saved as action #1" in n for n in notes), notes
        app.session.transport = sb.transport
        await pilot.press("a")
        await _settled(pilot)
        assert isinstance(app.screen, ActionsScreen)
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("r")
        await _settled(pilot)
        await _settled(pilot)
        assert app.screen.query_one(DataTable).row_count == 0
    assert len([p for p in sb.pulls.values() if p.head == "propose/offline-idea"]) == 1


async def test_unverifiable_identity_keeps_what_was_typed_in_the_actions_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gitea unreachable while verifying who you are: the proposal is saved as a
    failed action (§6.4) for a retry, not lost with the form."""
    from ui_fixtures import quiet_environment

    quiet_environment(monkeypatch)
    app = _wired_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        await pilot.press("n")
        await pilot.pause()
        await typing("#f-slug", "offline-idea")(pilot)
        await typing("#f-title", "Typed while offline")(pilot)
        app.sandbox.faults.down = True
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert not isinstance(app.screen, ProposeForm)
        [row] = app.session.actions_log().failed()
        assert (row.kind, row.payload["title"]) == ("propose_rfc", "Typed while offline")
        assert row.error.startswith("Gitea unreachable")
    assert app.sandbox.pulls == {} or all(
        p.head != "propose/offline-idea" for p in app.sandbox.pulls.values())


async def test_ctrl_o_edits_the_body_in_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib

    monkeypatch.setenv("VISUAL", "")
    script = 'printf "%s\\nedited in the editor" "$(cat "$0")" > "$0"'
    monkeypatch.setenv("EDITOR", f"sh -c '{script}'")
    app = Host(lambda: EditBodyForm("typed-config", "T", "Original body."))
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # headless: no terminal
        await pilot.press("ctrl+o")
        await pilot.pause()
        text = app.screen.query_one("#f-body", TextArea).text
    assert text == "Original body.\nedited in the editor"


async def test_start_up_offers_the_waiting_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_fixtures import quiet_environment

    quiet_environment(monkeypatch)
    app = _wired_app(tmp_path)
    app.config.data_dir.mkdir(parents=True, exist_ok=True)
    with open_actions(app.config.actions_file) as log:
        aid = log.add("open_claim_pr", "typed-config", "ada", {"slug": "typed-config"})
        log.mark_failed(aid, "Gitea is unreachable")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await _settled(pilot)
        messages = [n.message for n in app._notifications]
    assert "1 action did not reach Gitea: press a to retry or discard." in messages
