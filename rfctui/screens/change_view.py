"""``d``: what an open pull request changes in its entry, against ``main`` (issue 12 §1, §10).

Opened from the main screen (`rfctui.screens.review.ReviewMixin`, imported on first
use): a pending idea shows its proposal, a "Needs you" row its pull request, an entry
its open pull requests (from the one highlighted in the detail's list if that has
focus); ``]``/``[`` (``n``/``p``) move between them. Each is read with `Session.change`
in a thread worker — the cache only, never the network, so the view works offline once
a sync has fetched the PR's head; the result comes back as a `ChangeLoaded` message.

What each kind shows:

- ``propose``: the new entry's front matter as fields, its body rendered as Markdown
  (as the detail pane renders one), and the propose form's own warnings
  (`rfctui.bot.checks.check_propose` against the list, the PR's own row left out).
- ``edit``: the body diff (`rfctui.widgets.diff_view`): side by side when wide, unified
  when narrow, changed words highlighted.
- ``metadata`` / ``claim``: ``field  old → new`` for the keys that change (unknown keys
  included), then "body unchanged" or the body's diff.

Notes on top: where another open PR on the entry changes the same field or lines
(`rfctui.changes.overlaps`), a malformed side, the proposal's warnings. Every value is
other people's text: shown escaped (`rfctui.widgets.diff_view.visible`) in ``Content``
objects, never parsed as markup (§7.4).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from rfctui.entry import FIELD_ORDER
from rfctui.messages import ChangeLoaded
from rfctui.screens.keys import KeySection, PaletteCommand, declared_bindings, palette_commands
from rfctui.screens.links import is_web_url
from rfctui.screens.review import row_target
from rfctui.text import clean, html_blocks_as_code, one_line
from rfctui.widgets.detail import cap_body
from rfctui.widgets.diff_view import DiffView, visible
from rfctui.worddiff import DiffLine, parse_unified

if TYPE_CHECKING:
    from rfctui.changes import Change, ChangeView, FieldChange
    from rfctui.rows import ListItem
    from rfctui.screens.review import ReviewMixin
    from rfctui.session import Session

__all__ = ["KIND_LABELS", "ChangeScreen", "field_table", "open_from"]

KIND_LABELS = {
    "propose": "proposal (new entry)",
    "edit": "body edit",
    "claim": "claim",
    "metadata": "metadata",
    "delete": "removes the entry",
}
_STATE_STYLE = {"open": "bold $success", "merged": "$accent", "closed": "$text-muted"}
NOT_FETCHED = "not fetched yet: run a sync (r on the main screen), then press d again"


# -- what to open ---------------------------------------------------------------------


def _targets(screen: ReviewMixin) -> tuple[list[int], int, dict[int, str]] | None:
    """(PR numbers, the one to start with, their web pages) for the highlighted row, or
    None after telling the person why there is nothing to show."""
    from rfctui.widgets.detail import PullList

    focused = screen.focused
    if isinstance(focused, PullList) and focused.highlighted_pull is not None:
        chosen = focused.highlighted_pull
        pulls = [p for p in focused.pulls if p.state == "open"] or [chosen]
        if chosen not in pulls:
            pulls = [chosen]
        pulls.sort(key=lambda p: p.number)
        return [p.number for p in pulls], pulls.index(chosen), {
            p.number: p.html_url for p in pulls}
    target = row_target(screen)
    if target is None:
        return None
    if target.pr_number is not None:
        item = target.item
        return [target.pr_number], 0, {target.pr_number: item.html_url or ""} if item else {}
    pulls = target.pulls
    return [p.number for p in pulls], 0, {p.number: p.html_url for p in pulls}


def open_from(screen: ReviewMixin) -> None:
    """``d`` on the main screen (module docstring)."""
    targets = _targets(screen)
    if targets is None:
        return
    prs, start, urls = targets
    items: Sequence[ListItem] = getattr(screen, "items", ())
    screen.app.push_screen(ChangeScreen(screen.session, prs, start=start, urls=urls,
                                        items=list(items)))


# -- plain pieces (tested on their own) ------------------------------------------------


def _value(value: Any) -> str:
    """A front-matter value as one visible line (§7.4): lists as ``[a, b]``."""
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) if not isinstance(v, str) else visible(v)
                               for v in value) + "]"
    if isinstance(value, str):
        return visible(value)
    return visible(json.dumps(value, ensure_ascii=False, default=str))


def field_table(fields: Sequence[FieldChange], *, new_only: bool = False) -> Content:
    """``name  old → new`` per changed key (``name  value`` for a new entry); keys
    rfctui does not know are marked, never dropped."""
    if not fields:
        return Content("")
    width = min(max(len(visible(f.name)) for f in fields) + 2, 22)
    lines = []
    for f in fields:
        name = visible(f.name)
        parts: list[Content | tuple[str, str] | str] = [(name.ljust(width), "$text-muted")]
        if new_only:
            parts.append(_value(f.new))
        else:
            parts += [(_value(f.old), "$text-error"), (" → ", "bold"),
                      (_value(f.new), "$text-success")]
        lines.append(Content.assemble(*parts))
    if unknown := [visible(f.name) for f in fields if f.name not in FIELD_ORDER]:
        lines.append(Content.styled(
            f"{', '.join(unknown)}: not a field rfctui knows; kept as written",
            "italic $text-muted"))
    return Content("\n").join(lines)


def propose_warnings(change: Change, pr: int, items: Sequence[ListItem]) -> list[str]:
    """The propose form's own checks for this proposal: a taken slug, a likely
    duplicate title, a malformed field (`check_propose`; the PR's own row left out)."""
    from rfctui.bot.checks import check_propose
    from rfctui.bot.errors import ValidationError

    entry = change.new_entry
    if entry is None:
        return []
    existing = [i for i in items if not (i.kind == "pending" and i.pr_number == pr)]
    try:
        return check_propose(entry.slug, entry.title, entry.tags, entry.arbiters, existing)
    except ValidationError as exc:
        return [f"{k}: {v}" for k, v in exc.errors.items()]


# -- the screen ----------------------------------------------------------------------


class ChangeScreen(Screen[None]):
    """One PR at a time; ``]``/``[`` move through the entry's open PRs."""

    CSS_PATH = Path(__file__).with_name("change_view.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket,n", "move(1)", "Next PR", id="change-next",
                tooltip="The next open pull request on this entry"),
        Binding("left_square_bracket,p", "move(-1)", "Previous PR", id="change-prev",
                tooltip="The previous open pull request on this entry"),
        Binding("u", "toggle_layout", "Unified/split", id="change-layout",
                tooltip="Switch the body diff between side by side and unified"),
        Binding("o", "open_pr", "Open PR", id="change-open",
                tooltip="Open the pull request in the browser"),
        Binding("escape,q,d", "close", "Back", id="change-close"),
        Binding("question_mark,f1", "help", "Help", id="change-help"),
    ]

    def __init__(
        self,
        session: Session,
        prs: Sequence[int],
        *,
        start: int = 0,
        urls: dict[int, str] | None = None,
        items: Sequence[ListItem] = (),
    ) -> None:
        """`prs`: the PR numbers to move through; `items`: the list's rows, which the
        proposal checks compare with (handed over: no SQL on the UI thread)."""
        super().__init__()
        self.session = session
        self.prs = list(prs)
        self.index = max(0, min(start, len(self.prs) - 1))
        self.urls = dict(urls or {})
        self.items = list(items)
        self.loaded: dict[int, ChangeLoaded] = {}

    @property
    def pr(self) -> int:
        return self.prs[self.index]

    def compose(self) -> ComposeResult:
        yield Static(Content(""), id="cv-title", markup=False)
        yield Static(Content(""), id="cv-meta", markup=False)
        yield Static(Content(""), id="cv-notes", markup=False)
        with VerticalScroll(id="cv-scroll"):
            yield Static(Content(""), id="cv-fields", markup=False)
            yield Static(Content(""), id="cv-body-note", markup=False)
        yield DiffView(id="cv-diff")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    # -- keys -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "move":
            return len(self.prs) > 1
        if action == "toggle_layout":
            return self.query_one(DiffView).display
        return True

    def action_move(self, step: int) -> None:
        self.index = (self.index + step) % len(self.prs)
        self._show()

    def action_toggle_layout(self) -> None:
        shown = self.query_one(DiffView).toggle_layout()
        self.notify(f"Body diff: {shown}", markup=False, timeout=2)

    def action_open_pr(self) -> None:
        url = self.urls.get(self.pr) or self._pr_url(self.pr)
        if not is_web_url(url):
            self.notify("No web page for this pull request.", markup=False)
            return
        open_in_browser = getattr(self.app, "open_in_browser", None)
        if open_in_browser is None:
            self.app.open_url(url)
        else:
            open_in_browser(url)

    def _pr_url(self, pr: int) -> str:
        cfg = self.session.config
        base = (cfg.gitea_url or "").rstrip("/")
        return f"{base}/{cfg.org}/{cfg.meta_repo}/pulls/{pr}" if base else ""

    def key_sections(self) -> list[KeySection]:
        """The help screen's table for this view (generated from the bindings)."""
        return [("Change view", declared_bindings(type(self))),
                ("Body diff", list(DiffView.BINDINGS))]

    def palette_entries(self) -> list[PaletteCommand]:
        """What the command palette offers here (`rfctui.app.BindingsProvider`)."""
        return palette_commands(declared_bindings(type(self)), self.app.get_key_display)

    def action_help(self) -> None:
        from rfctui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.key_sections()))

    def action_close(self) -> None:
        self.app.pop_screen()

    # -- loading --------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="change-view", exit_on_error=False,
          description="Reading the change")
    def _load(self, pr: int) -> None:
        """`Session.change` (the cache only) and, for a proposal, its checks."""
        from rfctui.session import describe_error

        try:
            view = self.session.change(pr)
        except LookupError as exc:
            self.post_message(ChangeLoaded(pr, error=one_line(str(exc), 200)))
            return
        except Exception as exc:  # noqa: BLE001 - one line on screen, never a traceback
            self.post_message(ChangeLoaded(pr, error=describe_error(exc)[0]))
            return
        warnings: list[str] = []
        if view.change is not None and view.kind == "propose":
            warnings = propose_warnings(view.change, pr, self.items)
        rows = parse_unified(view.change.body_diff) if view.change is not None else []
        self.post_message(ChangeLoaded(pr, view=view, warnings=warnings, rows=rows))

    @on(ChangeLoaded)
    def _loaded(self, message: ChangeLoaded) -> None:
        self.loaded[message.pr] = message
        if message.pr == self.pr:
            self._show()

    # -- drawing --------------------------------------------------------------------

    def _position(self) -> Content:
        if len(self.prs) < 2:
            return Content("")
        return Content.assemble(
            ("  ·  ", "$text-muted"), f"{self.index + 1} of {len(self.prs)} open PRs  ",
            ("]", "bold"), " next  ", ("[", "bold"), " previous",
        )

    def _show(self) -> None:
        loaded = self.loaded.get(self.pr)
        title = self.query_one("#cv-title", Static)
        meta = self.query_one("#cv-meta", Static)
        if loaded is None:
            title.update(Content.assemble((f"PR #{self.pr}", "bold")))
            meta.update(Content.assemble(("Reading the change from the cache…",
                                          "$text-muted"), self._position()))
            self._set_body(None, [], "")
            self._load(self.pr)
            return
        view: ChangeView | None = loaded.view
        if view is None:
            title.update(Content.assemble((f"PR #{self.pr}", "bold")))
            meta.update(Content.assemble((loaded.error or "cannot read this pull request",
                                          "$text-error"), self._position()))
            self._set_body(None, [], "")
            return
        title.update(Content.assemble(
            (f"PR #{view.pr}", "bold"), "  ",
            (KIND_LABELS.get(view.kind, clean(view.kind)), "bold $text-accent"), "  ",
            (clean(view.slug), "$text-muted"), "\n",
            one_line(view.title, 300),
        ))
        meta.update(Content.assemble(
            (clean(view.state), _STATE_STYLE.get(view.state, "")),
            ("  ·  opened by ", "$text-muted"), (clean(view.opened_by) or "?", "$accent"),
            self._position(),
        ))
        change = view.change
        notes = [*view.notes, *loaded.warnings, *(change.problems if change else [])]
        if change is None:
            self._set_body(None, notes, NOT_FETCHED)
        else:
            self._set_body(view, notes, "", loaded.rows)

    def _set_body(
        self, view: ChangeView | None, notes: list[str], message: str,
        rows: Sequence[DiffLine] = (),
    ) -> None:
        notes_w = self.query_one("#cv-notes", Static)
        notes_w.update(Content("\n").join(
            [Content.assemble(("! ", "bold $text-warning"), one_line(n, 300)) for n in notes]))
        notes_w.display = bool(notes)
        fields_w = self.query_one("#cv-fields", Static)
        note_w = self.query_one("#cv-body-note", Static)
        diff = self.query_one(DiffView)
        scroll = self.query_one("#cv-scroll", VerticalScroll)
        for old in self.query("#cv-markdown"):
            old.remove()
        change = view.change if view is not None else None
        propose = view is not None and view.kind == "propose"
        self.set_class(propose, "-propose")
        if change is None:
            fields_w.update(Content(""))
            fields_w.display = False
            note_w.update(Content.styled(message, "$text-warning") if message else Content(""))
            note_w.display = bool(message)
            diff.display = False
            diff.set_rows([])
            self.refresh_bindings()
            return
        fields_w.update(field_table(change.fields, new_only=propose))
        fields_w.display = bool(change.fields)
        if propose:
            entry = change.new_entry
            note_w.update(Content.styled("Body", "bold"))
            note_w.display = True
            diff.display = False
            diff.set_rows([])
            if entry is not None:
                from textual.widgets import Markdown

                text, cut = cap_body(entry.body)
                if cut:
                    text += "\n\n*(body truncated)*"
                scroll.mount(Markdown(html_blocks_as_code(text or "*(no body)*"),
                                      id="cv-markdown", open_links=False))
            else:
                diff.display = True
                diff.set_rows(rows)
        elif change.body_changed:
            note_w.update(Content.styled("Body", "bold"))
            note_w.display = bool(change.fields)  # a body edit's diff needs no heading
            diff.display = True
            diff.set_rows(rows)
        else:
            note_w.update(Content.assemble(("body ", "$text-muted"), ("unchanged", "bold"),
                                          (" (compared with main)", "$text-muted")))
            note_w.display = True
            diff.display = False
            diff.set_rows([])
        note_w.set_class(not fields_w.display, "-first")
        scroll.scroll_home(animate=False)
        self.refresh_bindings()
