"""The Actions view and the glue that runs bot actions from the UI (SPEC §6, §6.4, §7.2).

Why a separate view: an action that failed (network, Gitea) keeps everything the user
typed in the actions log; this view lists pending and failed rows and offers retry
(idempotent, §6.4) and discard (after a confirmation).

`BotActionsMixin` gives the main screen its `n`/`e`/`c`/`m`/`a` actions: it opens the
form, runs `Bot.perform` in a thread worker on its own event loop (never the UI
thread), then re-reads the cache the reconciler just refreshed so the new PR shows at
once. Screens and widgets only see plain data and messages.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Static

from rfctui.text import clean, one_line

__all__ = [
    "ActionsScreen",
    "BotActionDone",
    "BotActionFailed",
    "BotReselect",
    "BotActionsMixin",
    "ConfirmDiscard",
]

# Type checkers see the mixin as a Screen; at run time it is a plain class.
_MixinBase: Any = Screen if TYPE_CHECKING else object

KIND_LABELS = {
    "propose_rfc": "propose",
    "open_body_edit_pr": "edit body",
    "open_claim_pr": "claim",
    "open_metadata_pr": "metadata",
}

ACTIONS_CSS = """
ActionsScreen {
    layout: vertical;
}
ActionsScreen #actions-title {
    text-style: bold;
    padding: 0 1;
    height: 1;
}
ActionsScreen #actions-empty {
    padding: 1 2;
    color: $text-muted;
    display: none;
}
ActionsScreen #actions-empty.-shown {
    display: block;
}
ActionsScreen DataTable {
    height: 1fr;
}
ActionsScreen #actions-detail {
    height: auto;
    max-height: 8;
    padding: 0 1;
    border-top: solid $primary 50%;
    color: $text;
}
ConfirmDiscard {
    align: center middle;
}
ConfirmDiscard > Vertical {
    width: 70;
    height: auto;
    border: thick $error 70%;
    background: $surface;
    padding: 1 2;
}
ConfirmDiscard #confirm-buttons {
    height: auto;
    align-horizontal: right;
    padding: 1 0 0 0;
}
ConfirmDiscard Button {
    margin: 0 0 0 2;
}
"""


def _row_value(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if isinstance(dt, datetime) else ""


def _payload_summary(row: Any) -> str:
    """What the user typed, so they can decide between retry and discard."""
    payload = _row_value(row, "payload") or {}
    parts: list[str] = []
    for key in ("title", "tags", "arbiters", "changes"):
        if key in payload and payload[key]:
            value = payload[key]
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            parts.append(f"{key}: {value}")
    body = str(payload.get("body") or "")
    if body:
        first = next((ln for ln in body.splitlines() if ln.strip()), "")
        parts.append(f"body: {len(body)} characters, starting {first[:60]!r}")
    return clean("\n".join(parts), multiline=True)


class ConfirmDiscard(ModalScreen[bool]):
    """Discarding loses what was typed (the row stays for audit): ask first (§6.4)."""

    DEFAULT_CSS = ACTIONS_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Discard"),
        Binding("n,escape", "answer(False)", "Keep"),
    ]

    def __init__(self, action_id: int, what: str) -> None:
        super().__init__()
        self.action_id = action_id
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Discard action #{self.action_id} ({clean(self.what)})?\n\n"
                "What you typed will no longer be offered for retry.",
                markup=False,
            )
            with Horizontal(id="confirm-buttons"):
                yield Button("Keep", id="keep", compact=True)
                yield Button("Discard", id="discard", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "discard")


class _RowsLoaded(Message, bubble=False):
    def __init__(self, rows: list[Any], error: str | None = None) -> None:
        super().__init__()
        self.rows = rows
        self.error = error


class _RetryFinished(Message, bubble=False):
    def __init__(self, action_id: int, text: str, ok: bool) -> None:
        super().__init__()
        self.action_id = action_id
        self.text = text
        self.ok = ok


class ActionsScreen(Screen[None]):
    """`a`: pending and failed actions with retry (`r`) and discard (`d`)."""

    DEFAULT_CSS = ACTIONS_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry", tooltip="Run the action again from what was typed"),
        Binding("d", "discard", "Discard", tooltip="Stop offering this action (asks first)"),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("escape,q,a", "close", "Back"),
    ]

    def __init__(
        self,
        load: Callable[[], Sequence[Any]],
        retry: Callable[[int], str] | None = None,
        discard: Callable[[int], None] | None = None,
    ) -> None:
        """`load` returns log rows; `retry(id)` returns the PR URL (raises on failure);
        all three are called in thread workers, never on the UI thread."""
        super().__init__()
        self._load = load
        self._retry = retry
        self._discard = discard
        self.rows: list[Any] = []
        self._busy: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static("Actions — pending and failed (§6.4)", id="actions-title", markup=False)
        yield Static(
            "No pending or failed actions. Everything you did reached Gitea.",
            id="actions-empty",
            markup=False,
        )
        table: DataTable[str] = DataTable(id="actions-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="actions-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("ID", "Kind", "Slug", "Status", "Updated", "Error")
        table.focus()
        self.reload()

    # -- loading

    def reload(self) -> None:
        self._load_rows()

    @work(thread=True, exclusive=True, group="actions-load", exit_on_error=False)
    def _load_rows(self) -> None:
        try:
            rows = list(self._load())
        except Exception as exc:  # noqa: BLE001 - one line, not a traceback
            self.post_message(_RowsLoaded([], one_line(str(exc)) or type(exc).__name__))
            return
        self.post_message(_RowsLoaded(rows))

    @on(_RowsLoaded)
    def _rows_loaded(self, message: _RowsLoaded) -> None:
        if message.error:
            self.notify(f"Could not read the actions log: {message.error}", severity="error",
                        markup=False)
        self.rows = sorted(message.rows, key=lambda r: _row_value(r, "id") or 0)
        table = self.query_one(DataTable)
        keep = self._selected_id()
        table.clear()
        for row in self.rows:
            rid = int(_row_value(row, "id"))
            status = "retrying" if rid in self._busy else str(_row_value(row, "status") or "")
            table.add_row(
                str(rid),
                KIND_LABELS.get(str(_row_value(row, "kind")), clean(str(_row_value(row, "kind")))),
                clean(str(_row_value(row, "slug") or "")),
                status,
                _when(_row_value(row, "updated_at") or _row_value(row, "created_at")),
                one_line(clean(str(_row_value(row, "error") or "")), 60),
                key=str(rid),
            )
        empty = self.query_one("#actions-empty", Static)
        empty.set_class(not self.rows, "-shown")
        table.display = bool(self.rows)
        if keep is not None:
            for i, row in enumerate(self.rows):
                if _row_value(row, "id") == keep:
                    table.move_cursor(row=i)
        self._show_detail()

    def _selected_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return int(_row_value(self.rows[table.cursor_row], "id"))

    def _selected_row(self) -> Any | None:
        rid = self._selected_id()
        return next((r for r in self.rows if _row_value(r, "id") == rid), None)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self._selected_row()
        detail = self.query_one("#actions-detail", Static)
        if row is None:
            detail.update("")
            detail.display = False
            return
        detail.display = True
        error = clean(str(_row_value(row, "error") or ""))
        who = clean(str(_row_value(row, "on_behalf_of") or ""))
        head = f"#{_row_value(row, 'id')} on behalf of {who}"
        text = "\n".join(p for p in (head, f"error: {error}" if error else "",
                                     _payload_summary(row)) if p)
        detail.update(text)

    # -- actions

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.reload()

    def action_retry(self) -> None:
        row = self._selected_row()
        if row is None or self._retry is None:
            self.notify("Nothing to retry.", markup=False)
            return
        rid = int(_row_value(row, "id"))
        if rid in self._busy:
            return
        self._busy.add(rid)
        self.notify(f"Retrying action #{rid}…", markup=False)
        self._run_retry(rid)

    @work(thread=True, group="actions-retry", exit_on_error=False)
    def _run_retry(self, action_id: int) -> None:
        assert self._retry is not None
        try:
            url = self._retry(action_id)
        except Exception as exc:  # noqa: BLE001 - ActionFailed etc.: one line
            self.post_message(_RetryFinished(action_id, one_line(str(exc)) or type(exc).__name__,
                                             False))
            return
        self.post_message(_RetryFinished(action_id, url, True))

    @on(_RetryFinished)
    def _retry_finished(self, message: _RetryFinished) -> None:
        self._busy.discard(message.action_id)
        if message.ok:
            self.notify(f"Action #{message.action_id}: opened {message.text}", markup=False)
        else:
            self.notify(f"Action #{message.action_id} failed again: {message.text}",
                        severity="error", markup=False)
        self.reload()

    def action_discard(self) -> None:
        row = self._selected_row()
        if row is None or self._discard is None:
            self.notify("Nothing to discard.", markup=False)
            return
        rid = int(_row_value(row, "id"))
        what = f"{KIND_LABELS.get(str(_row_value(row, 'kind')), '')} {_row_value(row, 'slug')}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_discard(rid)

        self.app.push_screen(ConfirmDiscard(rid, what.strip()), answered)

    @work(thread=True, group="actions-discard", exit_on_error=False)
    def _run_discard(self, action_id: int) -> None:
        assert self._discard is not None
        try:
            self._discard(action_id)
        except Exception as exc:  # noqa: BLE001
            self.post_message(_RowsLoaded(self.rows, one_line(str(exc))))
            return
        self._load_rows()


# ---------------------------------------------------------------- the main-screen glue


class BotActionDone(Message, bubble=False):
    """An action reached Gitea; the cache was refreshed (unless `result.refresh_error`)."""

    def __init__(self, result: Any, slug: str, kind: str, items: list[Any] | None,
                 status: Any = None) -> None:
        super().__init__()
        self.result = result
        self.slug = slug
        self.kind = kind
        self.items = items
        self.status = status


class BotActionFailed(Message, bubble=False):
    """Nothing (validation) or not everything (Gitea) was done; `text` is one line."""

    def __init__(self, request: dict[str, Any], text: str, errors: dict[str, str] | None,
                 action_id: int | None) -> None:
        super().__init__()
        self.request = request
        self.text = text
        self.errors = errors
        self.action_id = action_id


class BotReselect(Message, bubble=False):
    """After an action: select `slug` once the refreshed items are shown."""

    def __init__(self, slug: str, kind: str) -> None:
        super().__init__()
        self.slug = slug
        self.kind = kind


class BotActionsMixin(_MixinBase):
    """`n` propose, `e` edit body, `c` claim, `m` metadata, `a` the Actions view (§6, §7.2).

    Mixed into the main screen (before `Screen` in its bases). It needs from the host:
    ``self.items`` (left-pane rows), ``RfcList``/``DetailPane`` widgets,
    ``self.rfc_app`` (config, transport, get_cache) and `load_items()`.
    """

    _bot_actions_log: Any = None  # set per instance on first use
    _bot_actions_lock = threading.Lock()
    _bot_actor: Any = None  # the verified Actor, per instance once known

    # -- helpers (host-provided pieces are looked up lazily so tests can stub them)

    def _bot_app_config(self) -> Any:
        return self.app.config

    def _bot_get_actions_log(self) -> Any:
        """The §6.4 log (the app's handle when it has one), created on first use.

        Call from a worker thread: opening may check or move aside a bad file.
        """
        with BotActionsMixin._bot_actions_lock:
            if self._bot_actions_log is None:
                getter = getattr(self.app, "get_actions", None)
                log = getter() if callable(getter) else None
                if log is None:
                    from pathlib import Path

                    from rfctui.db import open_actions

                    path = Path(self._bot_app_config().actions_file)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    log = open_actions(path)
                self._bot_actions_log = log
            return self._bot_actions_log

    def _bot_actions_disabled_reason(self) -> str | None:
        cfg = self._bot_app_config()
        if not getattr(cfg, "user_token", None):
            return "actions need your own Gitea token: set RFCTUI_USER_TOKEN"
        if not getattr(cfg, "bot_token", None):
            return "actions need the bot's token: set RFCTUI_BOT_TOKEN"
        return None

    def _bot_can_act(self) -> bool:
        reason = self._bot_actions_disabled_reason()
        if reason:
            self.notify(reason, severity="warning", markup=False)
            return False
        return True

    def _bot_selected(self) -> tuple[Any, Any] | None:
        """(item, detail) of the highlighted entry; detail None until the pane has it."""
        from rfctui.widgets.detail import DetailPane
        from rfctui.widgets.rfc_list import RfcList

        item = self.query_one(RfcList).highlighted_item
        if item is None:
            return None
        pane = self.query_one(DetailPane)
        detail = getattr(pane, "detail", None)
        if detail is not None and getattr(detail, "slug", None) != item.slug:
            detail = None
        return item, detail

    def _bot_need_entry(self) -> tuple[Any, Any] | None:
        sel = self._bot_selected()
        if sel is None or sel[0].kind != "rfc":
            self.notify("Select an RFC entry first (not a pending idea).",
                        markup=False)
            return None
        if sel[1] is None:
            self.notify("The entry is still loading; try again in a moment.",
                        markup=False)
            return None
        return sel

    # -- the outbox at start-up (§6.4: the UI offers to retry or discard)

    def on_mount(self) -> None:
        """Called with the host's own on_mount (Textual dispatches along the MRO)."""
        self._bot_check_outbox()

    @work(thread=True, group="outbox", exit_on_error=False, description="Actions log")
    def _bot_check_outbox(self) -> None:
        from pathlib import Path

        path = getattr(self._bot_app_config(), "actions_file", None)
        if path is None or not Path(path).exists():
            return  # nothing was ever done from this machine: do not create the file
        try:
            log = self._bot_get_actions_log()
            waiting = len(log.pending()) + len(log.failed())
        except Exception:  # noqa: BLE001 - the Actions view will say why
            return
        if waiting:
            text = (f"{waiting} action{'s' if waiting > 1 else ''} did not reach Gitea: "
                    "press a to retry or discard.")
            self.app.call_from_thread(self.notify, text, title="Actions", severity="warning",
                                      markup=False, timeout=10)

    # -- the four actions

    def action_propose(self) -> None:
        if not self._bot_can_act():
            return
        self._bot_open_form({"action": "propose"}, None)

    def action_edit(self) -> None:
        if not self._bot_can_act() or (sel := self._bot_need_entry()) is None:
            return
        _, detail = sel
        self._bot_open_form({"action": "edit", "slug": detail.slug, "body": detail.body}, None)

    def action_claim(self) -> None:
        if not self._bot_can_act() or (sel := self._bot_need_entry()) is None:
            return
        self._bot_open_form({"action": "claim", "slug": sel[1].slug}, None)

    def action_metadata(self) -> None:
        if not self._bot_can_act() or (sel := self._bot_need_entry()) is None:
            return
        self._bot_open_form({"action": "metadata", "slug": sel[1].slug}, None)

    def _bot_open_form(self, request: dict[str, Any], errors: dict[str, str] | None) -> None:
        """Push the form for `request` (pre-filled when re-opened with errors)."""
        from rfctui.screens.forms import ClaimConfirm, EditBodyForm, MetadataForm, ProposeForm

        action = request.get("action")
        sel = self._bot_selected()
        detail = sel[1] if sel else None
        screen: Any
        if action == "propose":
            screen = ProposeForm(existing=list(getattr(self, "items", [])), initial=request,
                                 errors=errors)
        else:
            slug = str(request.get("slug", ""))
            if detail is None or detail.slug != slug:
                self.notify(f"{slug} is no longer selected.", markup=False)
                return
            if action == "edit":
                screen = EditBodyForm(slug, detail.title, str(request.get("body", detail.body)),
                                      errors=errors, original=detail.body)
            elif action == "claim":
                login = self._bot_actor.login if self._bot_actor else (getattr(self, "login", None)
                                                                or "you")
                screen = ClaimConfirm(slug, detail.title, login, detail.owners, errors=errors)
            else:
                current = {
                    "title": detail.title, "state": detail.state, "owners": list(detail.owners),
                    "arbiters": list(detail.arbiters), "tags": list(detail.tags),
                    "repo": detail.repo, "id": detail.rfc_id,
                    **dict(getattr(detail, "extra", {}) or {}),
                }
                screen = MetadataForm(slug, current, errors=errors,
                                      initial=request.get("initial"))

        def submitted(result: dict[str, Any] | None) -> None:
            if result:
                self.notify("Sending to Gitea through the bot…", markup=False)
                self.run_bot_action(result)

        self.app.push_screen(screen, submitted)

    # -- running the bot (a thread with its own loop, like the sweeps)

    @work(thread=True, group="bot", exit_on_error=False, description="Bot action")
    def run_bot_action(self, request: dict[str, Any]) -> None:
        from rfctui.bot import ActionFailed, ActionsDisabled, ValidationError

        try:
            result, items, status = asyncio.run(self._bot_perform(request))
        except ValidationError as exc:
            self.post_message(BotActionFailed(request, one_line(str(exc)), exc.errors, None))
            return
        except ActionFailed as exc:
            self.post_message(BotActionFailed(request, one_line(str(exc)), None, exc.action_id))
            return
        except ActionsDisabled as exc:
            # Nothing was logged yet (no verified actor): keep what was typed in the form.
            text = one_line(str(exc))
            self.post_message(BotActionFailed(request, text, {"form": text}, None))
            return
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            self.post_message(BotActionFailed(request, one_line(str(exc)) or type(exc).__name__,
                                              None, None))
            return
        self.post_message(BotActionDone(result, str(request.get("slug", "")),
                                        str(request.get("action")), items, status))

    async def _bot_perform(self, request: dict[str, Any]) -> tuple[Any, list[Any] | None, Any]:
        from rfctui.bot import bot_session

        app: Any = self.app
        log = self._bot_get_actions_log()
        cache = app.get_cache()
        async with bot_session(app.config, log, cache=cache, transport=app.transport,
                               actor=self._bot_actor) as (bot, actor):
            if not actor.offline:  # an unverified (offline) actor is not remembered
                self._bot_actor = actor
            result = await bot.perform(actor, request)
        items = status = None
        try:  # the reconciler refreshed the cache: read it once more for the UI
            if hasattr(app, "read_snapshot"):
                snap = app.read_snapshot()
                items, status = snap.items, snap.status or cache.sync_status()
            else:
                items, status = cache.list_items(), cache.sync_status()
        except Exception:  # noqa: BLE001 - the next load_items will show it
            pass
        return result, items, status

    # Handlers by name (not @on): a plain mixin is not built by Textual's metaclass.
    def on_bot_action_done(self, message: BotActionDone) -> None:
        from rfctui.messages import ItemsLoaded

        result = message.result
        for w in getattr(result, "warnings", ()):
            self.notify(one_line(w), severity="warning", markup=False)
        self.notify(f"Opened PR #{result.pr_number}: {result.html_url}",
                    title="Done", markup=False, timeout=8)
        if getattr(result, "refresh_error", None):
            self.notify(f"The cache was not refreshed: {one_line(result.refresh_error)}",
                        severity="warning", markup=False)
        if message.items is not None:
            # Same path as a cache read: the handler of ItemsLoaded redraws the list.
            self.post_message(ItemsLoaded(message.items, message.status))
        else:
            self.load_items()
        kind = "pending" if message.kind == "propose" else "rfc"
        # Queued after ItemsLoaded, so the list already has the new rows.
        self.post_message(BotReselect(message.slug, kind))

    def on_bot_reselect(self, message: BotReselect) -> None:
        """Put the cursor on the entry the action touched and reload its detail + PRs."""
        from rfctui.widgets.rfc_list import RfcList

        rfc_list = self.query_one(RfcList)
        if not rfc_list.select_slug(message.slug, message.kind) and message.kind == "pending":
            rfc_list.select_slug(message.slug, "rfc")
        item = rfc_list.highlighted_item
        if item is not None and item.slug == message.slug and hasattr(self, "load_detail"):
            self.load_detail(item)

    def on_bot_action_failed(self, message: BotActionFailed) -> None:
        if message.errors:
            # Nothing was sent: back to the form with what was typed and the errors.
            self._bot_open_form(message.request, message.errors)
            return
        hint = (f" Saved as action #{message.action_id}: press a to retry or discard."
                if message.action_id else "")
        self.notify(message.text + hint, title="Action failed", severity="error",
                    markup=False, timeout=12)

    # -- the Actions view

    def action_actions_view(self) -> None:
        def load() -> list[Any]:
            log = self._bot_get_actions_log()
            return [*log.pending(), *log.failed()]

        def retry(action_id: int) -> str:
            async def go() -> str:
                from rfctui.bot import bot_session

                app: Any = self.app
                cache = app.get_cache()
                session = bot_session(app.config, self._bot_get_actions_log(), cache=cache,
                                      transport=app.transport, actor=self._bot_actor)
                async with session as (bot, actor):
                    if not actor.offline:
                        self._bot_actor = actor
                    res = await bot.retry(action_id, actor)
                return str(res.html_url or f"PR #{res.pr_number}")

            url = asyncio.run(go())
            self.app.call_from_thread(self.load_items)
            return url

        def discard(action_id: int) -> None:
            self._bot_get_actions_log().discard(action_id)

        self.app.push_screen(ActionsScreen(load, retry, discard))
