"""The Actions view: the actions log's pending and failed rows (SPEC §6.4, §7.2).

Why a separate view: an action that failed (network, Gitea) keeps everything the user
typed in the actions log; this view lists pending and failed rows and offers retry
(idempotent, §6.4) and discard (after a confirmation). It is imported when it opens
(`a`), not at start-up: ``DataTable`` alone costs ~10 ms of import.

Unsent drafts of the forms (`rfctui.drafts`, §9 personal marks) are listed after the
actions, status ``draft``: enter reopens the form with the draft, `d` discards it (asks).

The glue that runs actions from the main screen is `rfctui.screens.bot_actions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Static

from rfctui.messages import ActionRowsLoaded, RetryFinished
from rfctui.text import clean, one_line

__all__ = ["KIND_LABELS", "ActionsScreen", "ConfirmDiscard", "ConfirmDiscardDraft"]

DRAFT_LABELS = {"propose": "propose", "edit": "edit body", "metadata": "metadata"}
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
ConfirmDiscard, ConfirmDiscardDraft {
    align: center middle;
}
ConfirmDiscard > Vertical, ConfirmDiscardDraft > Vertical {
    width: 70;
    height: auto;
    border: thick $error 70%;
    background: $surface;
    padding: 1 2;
}
ConfirmDiscard #confirm-buttons, ConfirmDiscardDraft #confirm-buttons {
    height: auto;
    align-horizontal: right;
    padding: 1 0 0 0;
}
ConfirmDiscard Button, ConfirmDiscardDraft Button {
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


class ConfirmDiscardDraft(ConfirmDiscard):
    """A draft is only on this machine: discarding it loses it for good."""

    def __init__(self, what: str) -> None:
        super().__init__(0, what)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Discard this draft ({clean(self.what)})? y/n\n\n"
                         "What you typed was never sent and will be lost.", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("Keep", id="keep", compact=True)
                yield Button("Discard", id="discard", variant="error", compact=True)


def _draft_summary(draft: Any) -> str:
    fields = dict(getattr(draft, "fields", {}) or {})
    parts = [f"{k}: {one_line(v, 60)}" for k, v in fields.items() if k != "body" and v]
    body = fields.get("body", "")
    if body:
        first = next((ln for ln in body.splitlines() if ln.strip()), "")
        parts.append(f"body: {len(body)} characters, starting {first[:60]!r}")
    return clean("\n".join(parts), multiline=True)


class ActionsScreen(Screen[None]):
    """`a`: pending and failed actions with retry (`r`) and discard (`d`); unsent drafts."""

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
        *,
        drafts: Callable[[], Sequence[Any]] | None = None,
        discard_draft: Callable[[str, str], object] | None = None,
        open_draft: Callable[[str, str], None] | None = None,
    ) -> None:
        """`load` returns log rows; `retry(id)` returns the PR URL (raises on failure);
        `drafts` returns `rfctui.drafts.Draft`s, `discard_draft(kind, slug)` removes one:
        these are called in thread workers, never on the UI thread. `open_draft(kind,
        slug)` is called on the UI thread after this view closes."""
        super().__init__()
        self._load = load
        self._retry = retry
        self._discard = discard
        self._drafts = drafts
        self._discard_draft = discard_draft
        self._open_draft = open_draft
        self.rows: list[Any] = []
        self.drafts: list[Any] = []
        self._busy: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static("Actions — pending, failed and drafts", id="actions-title", markup=False)
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
        drafts: list[Any] = []
        if self._drafts is not None:
            try:
                drafts = list(self._drafts())
            except Exception:  # noqa: BLE001 - drafts are best effort; the log matters
                drafts = []
        try:
            rows = list(self._load())
        except Exception as exc:  # noqa: BLE001 - one line, not a traceback
            self.post_message(ActionRowsLoaded([], one_line(str(exc)) or type(exc).__name__,
                                          drafts))
            return
        self.post_message(ActionRowsLoaded(rows, drafts=drafts))

    @on(ActionRowsLoaded)
    def _rows_loaded(self, message: ActionRowsLoaded) -> None:
        if message.error:
            self.notify(f"Could not read the actions log: {message.error}", severity="error",
                        markup=False)
        keep_draft = self._selected_draft()
        keep = self._selected_id()
        self.rows = sorted(message.rows, key=lambda r: _row_value(r, "id") or 0)
        self.drafts = list(message.drafts)
        table = self.query_one(DataTable)
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
        for d in self.drafts:
            table.add_row(
                "—",
                DRAFT_LABELS.get(d.kind, clean(d.kind)),
                one_line(clean(d.slug or d.fields.get("slug", "")), 40),
                "draft",
                _when(d.saved_at),
                "",
                key=f"draft:{d.kind}:{d.slug}",
            )
        empty = self.query_one("#actions-empty", Static)
        empty.set_class(not self.rows and not self.drafts, "-shown")
        table.display = bool(self.rows or self.drafts)
        if keep is not None:
            for i, row in enumerate(self.rows):
                if _row_value(row, "id") == keep:
                    table.move_cursor(row=i)
        elif keep_draft is not None:
            for i, d in enumerate(self.drafts):
                if (d.kind, d.slug) == (keep_draft.kind, keep_draft.slug):
                    table.move_cursor(row=len(self.rows) + i)
        self._show_detail()

    def _selected_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return int(_row_value(self.rows[table.cursor_row], "id"))

    def _selected_draft(self) -> Any | None:
        """The draft under the cursor (drafts come after the log's rows)."""
        table = self.query_one(DataTable)
        i = table.cursor_row - len(self.rows)
        return self.drafts[i] if 0 <= i < len(self.drafts) else None

    def _selected_row(self) -> Any | None:
        rid = self._selected_id()
        return next((r for r in self.rows if _row_value(r, "id") == rid), None)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self._selected_row()
        detail = self.query_one("#actions-detail", Static)
        draft = self._selected_draft()
        if row is None and draft is not None:
            detail.display = True
            head = (f"Unsent draft of {DRAFT_LABELS.get(draft.kind, draft.kind)}"
                    f"{' ' + draft.slug if draft.slug else ''}: enter reopens it, d discards it")
            detail.update(clean("\n".join(p for p in (head, _draft_summary(draft)) if p),
                                multiline=True))
            return
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
            self.post_message(RetryFinished(action_id, one_line(str(exc)) or type(exc).__name__,
                                             False))
            return
        self.post_message(RetryFinished(action_id, url, True))

    @on(RetryFinished)
    def _retry_finished(self, message: RetryFinished) -> None:
        self._busy.discard(message.action_id)
        if message.ok:
            self.notify(f"Action #{message.action_id}: opened {message.text}", markup=False)
        else:
            self.notify(f"Action #{message.action_id} failed again: {message.text}",
                        severity="error", markup=False)
        self.reload()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        draft = self._selected_draft()
        if draft is None or self._open_draft is None:
            return
        event.stop()
        opener = self._open_draft
        self.dismiss(None)
        self.app.call_later(opener, draft.kind, draft.slug)

    def action_discard(self) -> None:
        draft = self._selected_draft()
        if draft is not None and self._discard_draft is not None:
            what = f"{DRAFT_LABELS.get(draft.kind, draft.kind)} {draft.slug}".strip()

            def answered_draft(yes: bool | None) -> None:
                if yes:
                    self._run_discard_draft(draft.kind, draft.slug)

            self.app.push_screen(ConfirmDiscardDraft(what), answered_draft)
            return
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
            self.post_message(ActionRowsLoaded(self.rows, one_line(str(exc))))
            return
        self._load_rows()

    @work(thread=True, group="actions-discard", exit_on_error=False)
    def _run_discard_draft(self, kind: str, slug: str) -> None:
        assert self._discard_draft is not None
        try:
            result = self._discard_draft(kind, slug)
            if isinstance(result, Future):  # a DraftWriter's: wait for the file
                result.result(timeout=5)
        except Exception as exc:  # noqa: BLE001
            self.post_message(ActionRowsLoaded(self.rows, one_line(str(exc)), self.drafts))
            return
        self._load_rows()
