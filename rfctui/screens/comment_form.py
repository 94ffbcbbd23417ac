"""``C``: comment on a pull request through the bot (issue 12 §3; SPEC §6, §10).

Opened from the main screen (`rfctui.screens.review.ReviewMixin`, imported on first
use). The target is the highlighted pending idea's proposal, a "Needs you" row's PR, the
PR highlighted in the detail's list when that has focus, else the entry's one open PR;
an entry with several asks the person to pick one there.

The form shows the PR (number, title, kind, who opened it), its thread — read with
`Session.comments` in a thread worker, each comment under the real person (a comment
the bot posted for someone is theirs; a trailer typed by anyone else is not trusted),
with this person's unsent comments from the actions log — and a text area. ``ctrl+s``
sends: the main screen runs `Session.perform` in a thread worker, and the usual
`BotActionDone` / `BotActionFailed` say how it went (a failed comment is kept in the
actions log, ``a`` retries it). A validation error (empty text) reopens the form with
the text and the reason.

Drafts: `rfctui.drafts` knows only the propose/edit/metadata forms, so unsent text is
kept in memory for the session (per PR): ``escape`` and reopening restores it; it is
dropped once the bot has the comment in the actions log.

Everything shown comes from other people: cleaned (`rfctui.text.clean`) and never
parsed as markup (§7.4).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static, TextArea

from rfctui.bot.comment import CommentThread, ThreadComment
from rfctui.screens.review import row_target
from rfctui.text import clean, one_line

if TYPE_CHECKING:
    from rfctui.rows import PRRow
    from rfctui.screens.review import ReviewMixin
    from rfctui.session import Session

__all__ = ["CommentForm", "PullInfo", "open_from"]

_KINDS = {"idea": "proposal", "meta_body_edit": "body edit", "meta_claim": "claim",
          "meta_metadata": "metadata"}
# Unsent text per (session, PR): kept while the app runs (module docstring).
_UNSENT: dict[tuple[int, int], str] = {}


@dataclass(frozen=True, slots=True)
class PullInfo:
    """What the form says about its PR (filled from the cache when not known yet)."""

    number: int
    title: str = ""
    kind: str = ""
    opened_by: str = ""
    state: str = ""
    slug: str = ""

    @classmethod
    def of(cls, pr: PRRow) -> PullInfo:
        return cls(pr.number, pr.title, pr.kind, pr.opened_by, pr.state, pr.slug)


# -- what to open ---------------------------------------------------------------------


def _target(screen: ReviewMixin) -> PullInfo | None:
    """The PR to comment on, or None after telling the person why (one line)."""
    from rfctui.widgets.detail import PullList

    focused = screen.focused
    if isinstance(focused, PullList) and focused.highlighted_pull is not None:
        return PullInfo.of(focused.highlighted_pull)
    target = row_target(screen)
    if target is None:
        return None
    item = target.item
    if target.pr_number is not None:
        if item is None:
            return PullInfo(target.pr_number)
        return PullInfo(target.pr_number, item.title, "idea", "", "open", item.slug)
    pulls = target.pulls
    if len(pulls) != 1:
        screen.notify(f"This entry has {len(pulls)} open pull requests: pick one in the "
                      "detail (tab to its list), then press C.", markup=False)
        return None
    return PullInfo.of(pulls[0])


def open_from(screen: ReviewMixin, info: PullInfo | None = None, text: str = "",
              error: str | None = None) -> None:
    """``C`` on the main screen (module docstring); reopened with `error` after a
    validation error."""
    reason = getattr(screen, "_actions_disabled_reason", lambda: None)()
    if reason:
        screen.notify(reason, severity="warning", markup=False)
        return
    info = info or _target(screen)
    if info is None:
        return
    key = (id(screen.session), info.number)
    form = CommentForm(screen.session, info, text=text or _UNSENT.get(key, ""), error=error)

    def closed(result: str | None) -> None:
        if result is None:
            if form.unsent.strip():
                _UNSENT[key] = form.unsent
            else:
                _UNSENT.pop(key, None)
            return
        _UNSENT[key] = result  # until the actions log has it
        screen.notify(f"Sending your comment on PR #{info.number} through the bot…",
                      markup=False)
        screen.run_worker(lambda: _send(screen, form.info, result), thread=True, group="bot",
                          exit_on_error=False, description="Comment")

    screen.app.push_screen(form, closed)


def _send(screen: ReviewMixin, info: PullInfo, text: str) -> None:
    """A thread worker: `Session.perform`, then the main screen's usual messages."""
    from rfctui.bot import ActionFailed, ActionsDisabled, ValidationError
    from rfctui.messages import BotActionDone, BotActionFailed

    request: dict[str, Any] = {"action": "comment", "pr_number": info.number, "body": text}
    key = (id(screen.session), info.number)
    try:
        result = asyncio.run(screen.session.perform(request))
    except (ValidationError, ActionsDisabled) as exc:  # nothing saved: back to the form
        screen.app.call_from_thread(open_from, screen, info, text, one_line(str(exc)))
        return
    except ActionFailed as exc:
        if exc.action_id:  # kept in the actions log: no second copy here
            _UNSENT.pop(key, None)
        screen.post_message(BotActionFailed(request, one_line(str(exc)), None, exc.action_id))
        return
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        screen.post_message(BotActionFailed(request, one_line(str(exc)) or type(exc).__name__,
                                            None, None))
        return
    _UNSENT.pop(key, None)
    # No slug: the cursor stays on the row the person commented from (no reselect).
    screen.post_message(BotActionDone(result, "", "comment", None))


# -- the form ---------------------------------------------------------------------------


def _when(dt: datetime | None) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if dt is not None else ""


def comment_block(c: ThreadComment) -> Content:
    """One comment: a header line (person, time, how it came) and its text (§7.4)."""
    how = {"pending": "not sent yet", "failed": "failed: press a to retry"}.get(c.status, "")
    if not how and c.via_bot:
        how = "via the bot"
    head: list[tuple[str, str] | str] = [(clean(c.author), "bold")]
    if c.created_at is not None:
        head += ["  ", (_when(c.created_at), "$text-muted")]
    if how:
        style = "$text-error" if c.status == "failed" else "$text-muted italic"
        head += ["  ", (f"({how})", style)]
    if c.status == "failed" and c.error:
        head += ["\n", (one_line(c.error, 160), "$text-error")]
    body = clean(c.text, multiline=True).strip() or "(empty)"
    return Content.assemble(*head, "\n", body)


class CommentForm(ModalScreen[str | None]):
    """Write a comment on one PR; dismisses with the text (None: cancelled)."""

    CSS_PATH = "comment_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", priority=True,
                tooltip="Post it through the bot, on your behalf"),
        Binding("escape", "cancel", "Cancel",
                tooltip="Close; what you typed comes back when you press C again"),
    ]

    def __init__(self, session: Session, info: PullInfo, *, text: str = "",
                 error: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.info = info
        self._initial = text
        self._error = error
        self.unsent = text  # what the area held when the form closed without sending

    @property
    def text(self) -> str:
        return self.query_one("#cf-body", TextArea).text

    def _heading(self) -> Content:
        i = self.info
        parts: list[tuple[str, str] | str] = [(f"Comment on PR #{i.number}", "bold")]
        facts = [x for x in (_KINDS.get(i.kind, clean(i.kind)), clean(i.state)) if x]
        if i.opened_by:
            facts.append(f"opened by {clean(i.opened_by)}")
        if facts:
            parts += ["  ", (" · ".join(facts), "$text-muted")]
        if i.title:
            parts += ["\n", clean(i.title)]
        return Content.assemble(*parts)

    def compose(self) -> ComposeResult:
        with Vertical(id="cf-box"):
            yield Static(self._heading(), id="cf-heading")
            yield Label("Thread", classes="cf-label")
            with VerticalScroll(id="cf-thread"):
                yield Static("Reading the comments…", id="cf-thread-note", markup=False)
            yield Static("Your comment (markdown): the bot posts it on your behalf, with "
                         "an On-behalf-of line naming you last.", classes="cf-label",
                         markup=False)
            yield TextArea(self._initial, id="cf-body", soft_wrap=True)
            yield Static(self._error or "", id="cf-error", markup=False,
                         classes="-shown" if self._error else "")
            with Horizontal(id="cf-buttons"):
                yield Button("Cancel", id="cf-cancel", compact=True)
                yield Button("Send", id="cf-send", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cf-body", TextArea).focus()
        self._load()

    @work(thread=True, exclusive=True, group="comment-thread", exit_on_error=False,
          description="Read the comments")
    def _load(self) -> None:
        """The PR's row from the cache when the opener did not have it, and the thread
        (`Session.comments` never raises)."""
        info = self.info
        if not info.title:
            try:
                row = self.session.cache().pull(info.number)
            except Exception:  # noqa: BLE001 - the heading keeps the number alone
                row = None
            if row is not None:
                info = PullInfo.of(row)
        got = asyncio.run(self.session.comments(info.number))
        self.app.call_from_thread(self._show, info, got)

    def _show(self, info: PullInfo, got: CommentThread) -> None:
        if info != self.info:
            self.info = info
            self.query_one("#cf-heading", Static).update(self._heading())
        box = self.query_one("#cf-thread", VerticalScroll)
        note = self.query_one("#cf-thread-note", Static)
        if got.error:
            text = f"{one_line(got.error, 300)}; showing only your unsent comments"
        else:
            text = "" if got.comments else "No comments yet."
        note.update(text)
        note.display = bool(text)
        box.mount_all([Static(comment_block(c), classes=f"cf-comment -{c.status}")
                       for c in got.comments])
        box.scroll_end(animate=False)

    def action_send(self) -> None:
        text = self.text
        if not text.strip():
            err = self.query_one("#cf-error", Static)
            err.update("Write something first: an empty comment is not sent.")
            err.add_class("-shown")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.unsent = self.text
        self.dismiss(None)

    @on(Button.Pressed, "#cf-send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#cf-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
