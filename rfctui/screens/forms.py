"""Modal forms for the four bot actions (SPEC §6, §7.2): propose, edit body, claim, metadata.

Why forms only collect: a form validates what it can locally (the same pure checks the
bot runs, `bot.check_*`), shows each error under its field, and dismisses with a plain
request dict (``{"action": ..., ...}``). The screen that opened it runs
`Bot.perform` in a worker — never on the UI thread — and re-opens the form with the
bot's `ValidationError.errors` if Gitea-side validation fails, so nothing typed is lost.

Everything shown that came from other people is rendered with ``markup=False`` (§7.4).

Drafts (§9 personal marks): given a `rfctui.drafts.DraftWriter`, a form saves what is
typed at most `DRAFT_DELAY` after the first unsaved change (a timer that typing does not
push back, so a kill -9 loses under a second), restores it when the same form opens for
the same entry, and asks before `escape` throws changes away (`DiscardDraftConfirm`).
The screen that opened it removes the draft once the action is in the actions log.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from rfctui.bot import (
    LIST_KEYS,
    ValidationError,
    check_edit,
    check_metadata,
    check_propose,
    parse_metadata_value,
)
from rfctui.drafts import DraftWriter, format_saved_at
from rfctui.editor import NO_EDITOR, choose_editor
from rfctui.entry import STATES
from rfctui.logins import same_login
from rfctui.messages import DraftWriteFailed
from rfctui.text import clean

__all__ = [
    "DRAFT_DELAY",
    "ClaimConfirm",
    "DiscardDraftConfirm",
    "EditBodyForm",
    "FORMS_CSS",
    "MetadataForm",
    "ProposeForm",
    "Request",
    "split_list",
]

Request = dict[str, Any]

# Seconds from the first unsaved keystroke to the draft's write (not pushed back by
# further typing): a kill -9 loses at most this much plus one write.
DRAFT_DELAY = 0.5

# Kept here (not in app.tcss) so the forms look the same wherever they are pushed.
FORMS_CSS = """
.action-form {
    align: center middle;
}
.action-form > #form {
    width: 90%;
    max-width: 100;
    height: 90%;
    border: thick $primary 80%;
    background: $surface;
    padding: 0 1;
}
.action-form #form-title {
    text-style: bold;
    width: 100%;
    padding: 0 0 1 0;
}
.action-form #fields {
    height: 1fr;
}
.action-form.-small > #form {
    height: auto;
}
.action-form.-small #fields {
    height: auto;
}
.action-form .field-label {
    color: $text-muted;
    padding: 0 0 0 1;
}
.action-form Input, .action-form Select {
    margin: 0 0 0 1;
    width: 1fr;
}
.action-form .field-error {
    color: $error;
    padding: 0 0 0 1;
    display: none;
}
.action-form .field-error.-shown {
    display: block;
}
.action-form .form-warning {
    color: $warning;
    padding: 0 0 0 1;
    display: none;
}
.action-form .form-warning.-shown {
    display: block;
}
.action-form TextArea {
    height: 10;
}
.action-form.-tall TextArea {
    height: 1fr;
    min-height: 6;
}
.action-form #buttons {
    height: auto;
    align-horizontal: right;
    padding: 1 0 0 0;
}
.action-form #buttons Button {
    margin: 0 0 0 2;
}
.action-form Footer {
    dock: none;
}
.action-form #draft-note {
    color: $success;
    padding: 0 0 1 1;
    display: none;
}
.action-form #draft-note.-shown {
    display: block;
}
DiscardDraftConfirm {
    align: center middle;
}
DiscardDraftConfirm > Vertical {
    width: 64;
    height: auto;
    border: thick $warning 80%;
    background: $surface;
    padding: 1 2;
}
DiscardDraftConfirm #draft-confirm-buttons {
    height: auto;
    align-horizontal: right;
    padding: 1 0 0 0;
}
DiscardDraftConfirm Button {
    margin: 0 0 0 2;
}
"""


def split_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``: lists in forms are comma-separated."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]


class DiscardDraftConfirm(ModalScreen[str | None]):
    """Asked before a form with unsent changes closes: ``"discard"``, ``"keep"`` or None.

    None (``n``, escape) goes back to the form; ``"keep"`` (``k``, only when drafts are
    saved) closes it and keeps the draft for later.
    """

    DEFAULT_CSS = FORMS_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('discard')", "Discard"),
        Binding("n,escape", "answer('')", "Keep editing"),
        Binding("k", "answer('keep')", "Keep for later"),
    ]

    def __init__(self, *, can_keep: bool) -> None:
        super().__init__()
        self.can_keep = can_keep

    def compose(self) -> ComposeResult:
        later = "\nk closes the form and keeps the draft for later." if self.can_keep else ""
        with Vertical():
            yield Static(f"Discard this draft? y/n\n\nWhat you typed will be lost.{later}",
                         id="draft-confirm-text", markup=False)
            with Horizontal(id="draft-confirm-buttons"):
                yield Button("Keep editing", id="edit", compact=True)
                if self.can_keep:
                    yield Button("Keep for later", id="keep", compact=True)
                yield Button("Discard", id="discard", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#edit", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters == ("keep",) and not self.can_keep:
            return False
        return True

    def action_answer(self, value: str) -> None:
        self.dismiss(value or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None if event.button.id == "edit" else event.button.id)


class _Form(ModalScreen[Request | None]):
    """Shared frame: a title, fields with an error line each, Submit/Cancel, a footer."""

    DEFAULT_CSS = FORMS_CSS
    SCOPED_CSS = False  # the selectors name the screen's own class, `.action-form`
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Submit", priority=True, tooltip="Send this to the bot"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without sending anything"),
        Binding("ctrl+g", "discard_draft", "Discard draft", priority=True,
                tooltip="Throw away the saved draft of this form (asks first)"),
    ]
    FIELDS: ClassVar[tuple[str, ...]] = ()
    DRAFT_KIND: ClassVar[str | None] = None  # rfctui.drafts.DRAFT_KINDS
    # The first field takes the keys as soon as the form opens (the scrolling frame
    # around the fields is not a stop of its own, so Tab goes field to field).
    AUTO_FOCUS = "Input, TextArea"
    SUBMIT_LABEL = "Submit"
    EXTRA_CLASSES: ClassVar[str] = ""

    def __init__(
        self,
        *,
        errors: Mapping[str, str] | None = None,
        drafts: DraftWriter | None = None,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 (Textual's parameter name)
    ) -> None:
        super().__init__(name=name, id=id, classes=f"action-form {self.EXTRA_CLASSES}".strip())
        self._initial_errors = dict(errors or {})
        self._drafts = drafts if self.DRAFT_KIND else None
        self._opened: dict[str, str] = {}  # the fields as the form opened (draft included)
        self._saved: dict[str, str] | None = None  # what the draft file holds, if any
        self._save_timer: Timer | None = None
        self._draft_done = False  # sent or discarded: nothing more to save
        self.restored_from: Any = None  # the Draft restored on opening, if any
        self._widgets: dict[str, Any] = {}

    # -- building blocks

    def heading(self) -> str:
        return ""

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(self.heading(), id="form-title", markup=False)
            yield Static("", id="draft-note", markup=False)
            with VerticalScroll(id="fields", can_focus=False):
                yield from self.compose_fields()
                yield Static("", id="err-form", classes="field-error", markup=False)
                yield Static("", id="form-warning", classes="form-warning", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel", variant="default", compact=True)
                yield Button(self.SUBMIT_LABEL, id="submit", variant="primary", compact=True)
            yield Footer()

    @staticmethod
    def field_label(text: str) -> Label:
        return Label(text, classes="field-label", markup=False)

    @staticmethod
    def error_line(field: str) -> Static:
        return Static("", id=f"err-{field}", classes="field-error", markup=False)

    def on_mount(self) -> None:
        if self._initial_errors:
            self.show_errors(self._initial_errors)
        self._opened = self.draft_fields()
        self._restore_draft()

    # -- drafts (§9 personal marks)

    @property
    def draft_slug(self) -> str:
        return str(getattr(self, "slug", "") or "")

    def draft_fields(self) -> dict[str, str]:
        """The raw text of every field, as typed."""
        out: dict[str, str] = {}
        for f, w in self._field_widgets().items():
            if isinstance(w, Input):
                out[f] = w.value
            elif isinstance(w, TextArea):
                out[f] = w.text
            elif isinstance(w, Select):
                out[f] = "" if w.value is Select.BLANK else str(w.value)
        return out

    def _field_widgets(self) -> dict[str, Any]:
        """The field widgets, found once: they keep their text after the app closes
        (quitting unmounts the children before the screen, so a query finds nothing)."""
        if not self._widgets:
            for f in self.FIELDS:
                try:
                    self._widgets[f] = self.query_one(f"#f-{f}")
                except NoMatches:
                    continue
        return self._widgets

    def baseline_fields(self) -> dict[str, str]:
        """The fields with nothing typed: equal to this, there is no draft to keep."""
        return {f: "" for f in self.FIELDS}

    def apply_draft(self, fields: Mapping[str, str]) -> None:
        for f in self.FIELDS:
            if f not in fields:
                continue
            try:
                w = self.query_one(f"#f-{f}")
            except NoMatches:
                continue
            if isinstance(w, Input):
                w.value = fields[f]
            elif isinstance(w, TextArea):
                w.load_text(fields[f])
            elif isinstance(w, Select):
                try:
                    w.value = fields[f]
                except Exception:  # noqa: BLE001 - a state no longer offered: keep current
                    pass

    def _restore_draft(self) -> None:
        if self._drafts is None or self.DRAFT_KIND is None:
            return
        draft = self._drafts.load(self.DRAFT_KIND, self.draft_slug)
        for line in self._drafts.drafts.notices:
            self.notify(clean(line), severity="warning", markup=False)
        self._drafts.drafts.notices.clear()
        if draft is None:
            if self._opened != self.baseline_fields():
                self._schedule_draft_save()  # re-opened with what was typed: keep it
            return
        self._saved = dict(draft.fields)
        wanted = {**self._opened, **{k: v for k, v in draft.fields.items() if k in self._opened}}
        if wanted == self._opened:
            return  # the form already shows it (re-opened after a failed send)
        self.apply_draft(wanted)
        self._opened = wanted
        self.restored_from = draft
        clock = getattr(self.app, "clock", None)
        now = clock() if callable(clock) else None
        note = self.query_one("#draft-note", Static)
        note.update(clean(f"Restored your unsent draft from "
                          f"{format_saved_at(draft.saved_at, now)} — ctrl+g discards it"))
        note.add_class("-shown")

    def _schedule_draft_save(self) -> None:
        if self._drafts is None or self._draft_done or self._save_timer is not None:
            return
        self._save_timer = self.set_timer(DRAFT_DELAY, self._save_draft)

    def _save_draft(self) -> None:
        """Queue the write of what is typed (the writer's thread does the I/O)."""
        self._save_timer = None
        if self._drafts is None or self.DRAFT_KIND is None or self._draft_done:
            return
        fields = self.draft_fields()
        if not fields or fields == self._saved:
            return
        if fields == self.baseline_fields():
            if self._saved is not None:
                self._drafts.discard(self.DRAFT_KIND, self.draft_slug)
            self._saved = None
            return
        done = self._drafts.save(self.DRAFT_KIND, self.draft_slug, fields)
        self._saved = fields
        # Told as soon as the write fails; post_message is thread-safe and never waits.
        done.add_done_callback(lambda _f: self.post_message(DraftWriteFailed()))

    @on(DraftWriteFailed)
    def _tell_draft_errors(self) -> None:
        while self._drafts is not None and self._drafts.errors:
            self.notify(clean(self._drafts.errors.pop(0)), severity="warning", markup=False)

    def flush_draft(self) -> None:
        """Save now what the timer would save (before closing, sending, quitting)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        self._save_draft()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._schedule_draft_save()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._schedule_draft_save()

    def on_select_changed(self, event: Select.Changed) -> None:
        self._schedule_draft_save()

    def on_unmount(self) -> None:
        # Quitting with the form open: what the timer had not written yet.
        self.flush_draft()

    def has_changes(self) -> bool:
        return self.draft_fields() != self._opened

    def _discard_and_close(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        self._draft_done = True
        if self._drafts is not None and self.DRAFT_KIND is not None:
            self._drafts.discard(self.DRAFT_KIND, self.draft_slug)
        self.dismiss(None)

    def _ask_discard(self) -> None:
        def answered(answer: str | None) -> None:
            if answer == "discard":
                self._discard_and_close()
            elif answer == "keep":
                self.flush_draft()
                self.dismiss(None)

        self.app.push_screen(DiscardDraftConfirm(can_keep=self._drafts is not None), answered)

    def action_discard_draft(self) -> None:
        if self._saved is None and not self.has_changes():
            self.notify("No draft to discard.", markup=False)
            return
        self._ask_discard()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "discard_draft":
            return self._drafts is not None
        return True

    # -- errors

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Put each message under its field; anything else under the form."""
        other: list[str] = []
        for f in self.FIELDS:
            widget = self.query_one(f"#err-{f}", Static)
            msg = errors.get(f)
            widget.update(clean(msg) if msg else "")
            widget.set_class(bool(msg), "-shown")
        for key, msg in errors.items():
            if key not in self.FIELDS:
                other.append(msg if key == "form" else f"{key}: {msg}")
        form = self.query_one("#err-form", Static)
        form.update(clean("; ".join(other)))
        form.set_class(bool(other), "-shown")

    def show_warning(self, text: str) -> None:
        w = self.query_one("#form-warning", Static)
        w.update(clean(text))
        w.set_class(bool(text), "-shown")

    # -- actions

    def build_request(self) -> Request:
        """Collect and validate; raise `ValidationError` to keep the form open."""
        raise NotImplementedError

    def action_submit(self) -> None:
        try:
            request = self.build_request()
        except ValidationError as exc:
            self.show_errors(exc.errors)
            return
        if request:
            # On disk until the action is in the actions log (the opener removes it then).
            self.flush_draft()
            self.dismiss(request)

    def action_cancel(self) -> None:
        if self.has_changes():
            self._ask_discard()
            return
        self.flush_draft()
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def value(self, field: str) -> str:
        return self.query_one(f"#f-{field}", Input).value


def _markdown_area(text: str, area_id: str) -> TextArea:
    """A markdown TextArea; plain text when the markdown grammar is not installed."""
    try:
        return TextArea(text, language="markdown", id=area_id, soft_wrap=True)
    except Exception:  # LanguageDoesNotExist without the syntax extra
        return TextArea(text, id=area_id, soft_wrap=True)


class _EditorMixin:
    """`ctrl+o`: edit the body in $VISUAL/$EDITOR (or an editor on PATH, as git does) with
    the app suspended."""

    def open_in_editor(self, area: TextArea) -> None:
        app = area.app
        editor = choose_editor()  # $VISUAL, $EDITOR, then editor/nano/vi on PATH (§4)
        if editor is None:
            app.notify(NO_EDITOR, severity="warning", markup=False)
            return
        fd, name = tempfile.mkstemp(prefix="rfctui-", suffix=".md")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(area.text)
            try:
                with app.suspend():
                    subprocess.run([*editor, name], check=False)
            except Exception as exc:  # SuspendNotSupported, editor not found
                app.notify(f"Could not run the editor: {type(exc).__name__}",
                           severity="error", markup=False)
                return
            area.text = Path(name).read_text(encoding="utf-8")
        finally:
            Path(name).unlink(missing_ok=True)
        area.focus()
        flush = getattr(self, "flush_draft", None)
        if callable(flush):
            flush()  # minutes of writing in the editor: on disk at once


class ProposeForm(_EditorMixin, _Form):
    """`n`: propose a new RFC idea (opens ``propose/<slug>``, §5)."""

    FIELDS = ("slug", "title", "tags", "arbiters", "body")
    DRAFT_KIND = "propose"
    SUBMIT_LABEL = "Propose"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "open_editor", "Open $EDITOR", priority=True,
                tooltip="Write the body in $EDITOR"),
    ]

    def __init__(
        self,
        *,
        existing: Iterable[Any] = (),
        initial: Mapping[str, Any] | None = None,
        errors: Mapping[str, str] | None = None,
        drafts: DraftWriter | None = None,
    ) -> None:
        super().__init__(errors=errors, drafts=drafts)
        self._existing = list(existing)
        self._initial = dict(initial or {})
        self._warned_for: str | None = None

    @property
    def draft_slug(self) -> str:
        return ""  # one propose draft, whatever slug it holds

    def heading(self) -> str:
        return "Propose an RFC idea"

    def compose_fields(self) -> ComposeResult:
        ini = self._initial
        yield self.field_label("Slug (the file name: lowercase letters, digits, hyphens)")
        yield Input(ini.get("slug", ""), placeholder="e.g. typed-config", id="f-slug", compact=True)
        yield self.error_line("slug")
        yield self.field_label("Title")
        yield Input(ini.get("title", ""), placeholder="e.g. Typed configuration loading",
                    id="f-title", compact=True)
        yield self.error_line("title")
        yield self.field_label("Tags (comma-separated)")
        yield Input(", ".join(ini.get("tags", ())), placeholder="e.g. config, dx",
                    id="f-tags", compact=True)
        yield self.error_line("tags")
        yield self.field_label("Arbiters (Gitea logins, comma-separated)")
        yield Input(", ".join(ini.get("arbiters", ())), placeholder="e.g. grace",
                    id="f-arbiters", compact=True)
        yield self.error_line("arbiters")
        yield self.field_label("Body (markdown)")
        yield _markdown_area(str(ini.get("body", "")), "f-body")
        yield self.error_line("body")

    def action_open_editor(self) -> None:
        self.open_in_editor(self.query_one("#f-body", TextArea))

    def build_request(self) -> Request:
        slug, title = self.value("slug").strip(), self.value("title").strip()
        tags, arbiters = split_list(self.value("tags")), split_list(self.value("arbiters"))
        warnings = check_propose(slug, title, tags, arbiters, self._existing)
        self.show_errors({})
        if warnings and self._warned_for != title:
            self._warned_for = title
            self.show_warning(warnings[0] + " — press Propose again to send anyway")
            return {}
        return {
            "action": "propose",
            "slug": slug,
            "title": title,
            "tags": tags,
            "arbiters": arbiters,
            "body": self.query_one("#f-body", TextArea).text,
        }


class EditBodyForm(_EditorMixin, _Form):
    """`e`: replace an entry's body (opens ``edit/<slug>/<n>``, §5)."""

    FIELDS = ("body",)
    DRAFT_KIND = "edit"
    SUBMIT_LABEL = "Open PR"
    EXTRA_CLASSES = "-tall"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "open_editor", "Open $EDITOR", priority=True,
                tooltip="Edit the body in $EDITOR"),
    ]

    def __init__(
        self,
        slug: str,
        title: str,
        body: str,
        *,
        errors: Mapping[str, str] | None = None,
        original: str | None = None,
        drafts: DraftWriter | None = None,
    ) -> None:
        super().__init__(errors=errors, drafts=drafts)
        self.slug, self.title_text, self.body = slug, title, body
        self.original = body if original is None else original

    def baseline_fields(self) -> dict[str, str]:
        return {"body": self.original}

    def heading(self) -> str:
        return f"Edit the body of {clean(self.slug)} — {clean(self.title_text)}"

    def compose_fields(self) -> ComposeResult:
        yield self.field_label("Body (markdown); ctrl+o opens $EDITOR")
        yield _markdown_area(self.body, "f-body")
        yield self.error_line("body")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#f-body", TextArea).focus()

    def action_open_editor(self) -> None:
        self.open_in_editor(self.query_one("#f-body", TextArea))

    def build_request(self) -> Request:
        body = self.query_one("#f-body", TextArea).text
        check_edit(self.slug, body)
        if body.strip() == self.original.strip():
            raise ValidationError({"body": "the body is unchanged"})
        return {"action": "edit", "slug": self.slug, "body": body}


class ClaimConfirm(_Form):
    """`c`: confirm claiming an entry (opens ``claim/<slug>``, §5)."""

    SUBMIT_LABEL = "Claim"
    EXTRA_CLASSES = "-small"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "submit", "Claim", show=False),
        Binding("n", "cancel", "Cancel", show=False),
    ]

    def __init__(
        self,
        slug: str,
        title: str,
        login: str,
        owners: Sequence[str] = (),
        *,
        errors: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(errors=errors)
        self.slug, self.title_text, self.login, self.owners = slug, title, login, tuple(owners)

    def heading(self) -> str:
        return f"Claim {clean(self.slug)}?"

    def compose_fields(self) -> ComposeResult:
        owners = ", ".join(clean(o) for o in self.owners) or "nobody yet"
        text = (
            f"{clean(self.title_text)}\n\n"
            f"The bot opens claim/{clean(self.slug)} adding {clean(self.login)} to the owners "
            f"(now: {owners}). The PR is reviewed like any other."
        )
        yield Static(text, id="claim-text", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#submit", Button).focus()

    def build_request(self) -> Request:
        if any(same_login(self.login, o) for o in self.owners):
            raise ValidationError({"form": f"you ({self.login}) already own {self.slug}"})
        return {"action": "claim", "slug": self.slug}


class MetadataForm(_Form):
    """`m`: change front matter other than the body (opens ``metadata/<slug>``, §5).

    Only the fields that differ from the current values are sent; unknown keys the
    entry has are editable as text and kept otherwise (§2).
    """

    SUBMIT_LABEL = "Open PR"
    DRAFT_KIND = "metadata"
    BASE_FIELDS: ClassVar[tuple[str, ...]] = (
        "title", "state", "owners", "arbiters", "tags", "repo", "id",
        "waiting_on", "superseded_by",
    )

    def __init__(
        self,
        slug: str,
        current: Mapping[str, Any],
        *,
        errors: Mapping[str, str] | None = None,
        initial: Mapping[str, Any] | None = None,
        drafts: DraftWriter | None = None,
    ) -> None:
        extra = [k for k, v in current.items()
                 if k not in self.BASE_FIELDS and k not in ("slug", "body")
                 and isinstance(k, str) and k.replace("_", "a").replace("-", "a").isalnum()
                 and k.isascii() and (v is None or isinstance(v, (str, int)))]
        self.FIELDS = (*self.BASE_FIELDS, *extra)  # type: ignore[misc]
        super().__init__(errors=errors, drafts=drafts)
        self.slug = slug
        self.current = {k: current.get(k) for k in self.FIELDS}
        self._initial = dict(initial or {})

    def heading(self) -> str:
        return f"Metadata of {clean(self.slug)}"

    def baseline_fields(self) -> dict[str, str]:
        return {k: (str(self.current.get(k) or "idea") if k == "state"
                    else self._text(k, self.current.get(k))) for k in self.FIELDS}

    @staticmethod
    def _text(key: str, value: Any) -> str:
        if key in LIST_KEYS:
            return ", ".join(str(v) for v in (value or ()))
        return "" if value is None else str(value)

    def compose_fields(self) -> ComposeResult:
        for key in self.FIELDS:
            shown = self._initial.get(key, self.current.get(key))
            yield self.field_label(key + (" (comma-separated)" if key in LIST_KEYS else ""))
            if key == "state":
                states = list(STATES)
                cur = str(shown or "idea")
                if cur not in states:
                    states.append(cur)
                yield Select([(s, s) for s in states], value=cur, allow_blank=False,
                             id="f-state", compact=True)
            else:
                yield Input(self._text(key, shown), id=f"f-{key}", compact=True)
            yield self.error_line(key)

    def build_request(self) -> Request:
        changes: dict[str, Any] = {}
        for key in self.FIELDS:
            if key == "state":
                raw: Any = self.query_one("#f-state", Select).value
                new: Any = str(raw)
            else:
                new = parse_metadata_value(key, self.value(key))
            old = self.current.get(key)
            if key in LIST_KEYS:
                old = list(old or [])
            if new != old and not (new is None and old in (None, "")):
                changes[key] = new
        if not changes:
            raise ValidationError({"form": "nothing changed"})
        clean_changes = check_metadata(self.slug, changes)
        return {"action": "metadata", "slug": self.slug, "changes": clean_changes}
