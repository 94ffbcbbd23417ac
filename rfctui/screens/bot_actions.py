"""The main screen's actions through the bot (SPEC §6, §7.2).

`BotActionsScreen` is the main screen's base class: it gives it the `n`/`e`/`c`/`m`/`a`
actions. It opens the form, runs the request through the session
(`rfctui.session.Session.perform`: the verified actor, the bot, the actions log and the
targeted refresh) in a thread worker, then shows the list the refresh just wrote so the
new PR shows at once. The Actions view (`rfctui.screens.actions`) and the forms are
imported when they open.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.screen import Screen

from rfctui.messages import (
    BotActionDone,
    BotActionFailed,
    BotChecked,
    BotReselect,
    ItemsLoaded,
)
from rfctui.rows import ListItem, RFCDetail
from rfctui.text import one_line

if TYPE_CHECKING:
    from rfctui.drafts import DraftWriter
    from rfctui.session import Session

__all__ = ["BotActionsScreen"]


class BotActionsScreen(Screen[None]):
    """`n` propose, `e` edit body, `c` claim, `m` metadata, `a` the Actions view (§6, §7.2).

    The main screen subclasses it and provides the list (``items``, the ``RfcList`` and
    ``DetailPane`` widgets) and its two reads, `load_items` and `load_detail`.
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.items: list[ListItem] = []  # every left-pane row, as last read
        self.login: str | None = None  # who is at the keyboard, once a sweep knows
        # Why actions would fail (the doctor's bot check, once at start; issue 14 §1).
        self.bot_problem: str | None = None
        self._bot_checks = 0  # how many times it ran (once; a test holds us to it)

    # -- what the main screen provides

    def load_items(self) -> object:
        """Read the list again (a worker of the subclass)."""
        raise NotImplementedError

    def load_detail(self, item: ListItem, delay: float = 0.02) -> object:
        """Read one item's detail again (a worker of the subclass)."""
        raise NotImplementedError

    def read_items(self) -> list[ListItem]:
        """Every left-pane row from the cache (worker threads: SQL never on the UI)."""
        session = self.session
        cache = session.cache()
        now, stale_days = session.clock(), session.config.stale_days
        reader = getattr(cache, "reader", None)
        if reader is not None:  # without their text: the filter index is its one copy
            return reader().list_items(now, stale_days, texts=False)  # type: ignore[no-any-return]
        return cache.list_items(now=now, stale_days=stale_days)

    # -- helpers

    def _actions_disabled_reason(self) -> str | None:
        cfg = self.session.config
        if not cfg.user_token:
            return "actions need your own Gitea token: set RFCTUI_USER_TOKEN"
        if not cfg.bot_token:
            return "actions need the bot's token: set RFCTUI_BOT_TOKEN"
        if self.bot_problem:  # say it now, not after a form was filled in and sent
            return f"actions would fail: {self.bot_problem}"
        return None

    def _can_act(self) -> bool:
        reason = self._actions_disabled_reason()
        if reason:
            self.notify(reason, severity="warning", markup=False)
            return False
        return True

    def _selected_entry(self) -> tuple[ListItem, RFCDetail | None] | None:
        """(item, detail) of the highlighted entry; detail None until the pane has it."""
        from rfctui.widgets.detail import DetailPane
        from rfctui.widgets.rfc_list import RfcList

        item = self.query_one(RfcList).highlighted_item
        if item is None:
            return None
        detail = self.query_one(DetailPane).detail
        if detail is not None and detail.slug != item.slug:
            detail = None
        return item, detail

    def _need_entry(self) -> RFCDetail | None:
        sel = self._selected_entry()
        if sel is None or sel[0].kind != "rfc":
            self.notify("Select an RFC entry first (not a pending idea).", markup=False)
            return None
        if sel[1] is None:
            self.notify("The entry is still loading; try again in a moment.", markup=False)
            return None
        return sel[1]

    # -- the bot token at start-up (issue 14 §1: said before the first action fails)

    @on(events.Mount)
    def _bot_check_on_mount(self) -> None:
        cfg = self.session.config
        if getattr(self, "sync_enabled", False) and cfg.bot_token and cfg.user_token:
            self.call_after_refresh(self._check_bot)  # after the first paint, never before

    @work(thread=True, group="bot-check", exit_on_error=False, description="Bot token")
    def _check_bot(self) -> None:
        """`rfctui.doctor.bot_problem` once (two requests with the bot's token: who it
        is, may it write), never on every sweep: a token does not change while we run."""
        from dataclasses import replace

        from rfctui.doctor import bot_problem

        self._bot_checks += 1
        config = self.session.config
        if self.session.transport is not None:
            config = replace(config, transport=self.session.transport)
        try:
            problem = asyncio.run(bot_problem(config))
        except Exception:  # noqa: BLE001 - unknown is not a finding: the action will say
            return
        self.post_message(BotChecked(problem))

    @on(BotChecked)
    def _bot_checked(self, message: BotChecked) -> None:
        from textual.css.query import NoMatches

        from rfctui.widgets.status import StatusLine

        self.bot_problem = message.problem
        try:
            status = self.query_one(StatusLine)
        except NoMatches:
            return
        what = message.problem.split("; ", 1)[0] if message.problem else None
        status.warning = f"actions would fail: {what}" if what else None
        status.render_status()

    # -- the outbox at start-up (§6.4: the UI offers to retry or discard)

    @on(events.Mount)
    def _outbox_on_mount(self) -> None:
        self._check_outbox()

    @work(thread=True, group="outbox", exit_on_error=False, description="Actions log")
    def _check_outbox(self) -> None:
        try:
            log = self.session.actions_log()  # None: nothing was ever done from here
            waiting = len(log.pending()) + len(log.failed()) if log is not None else 0
        except Exception:  # noqa: BLE001 - the Actions view will say why
            return
        if waiting:
            text = (f"{waiting} action{'s' if waiting > 1 else ''} did not reach Gitea: "
                    "press a to retry or discard.")
            self.app.call_from_thread(self.notify, text, title="Actions", severity="warning",
                                      markup=False, timeout=10)

    # -- the four actions

    def action_propose(self) -> None:
        if self._can_act():
            self._open_form({"action": "propose"}, None)

    def action_edit(self) -> None:
        if self._can_act() and (detail := self._need_entry()) is not None:
            self._open_form({"action": "edit", "slug": detail.slug, "body": detail.body}, None)

    def action_claim(self) -> None:
        if self._can_act() and (detail := self._need_entry()) is not None:
            self._open_form({"action": "claim", "slug": detail.slug}, None)

    def action_metadata(self) -> None:
        if self._can_act() and (detail := self._need_entry()) is not None:
            self._open_form({"action": "metadata", "slug": detail.slug}, None)

    def _drafts(self) -> DraftWriter:
        """The forms' draft writer for this target (rfctui.drafts, §9 personal marks)."""
        from rfctui.drafts import writer_for

        return writer_for(self.session.config, clock=self.session.clock)

    def _forget_draft(self, action: str, slug: str) -> None:
        """The action is in the actions log now: its draft is not needed any more."""
        if action in ("propose", "edit", "metadata"):
            try:
                self._drafts().discard(action, "" if action == "propose" else slug)
            except ValueError:  # not a slug: there was never a draft for it
                pass

    def _open_form(self, request: dict[str, Any], errors: dict[str, str] | None,
                   detail: RFCDetail | None = None) -> None:
        """Push the form for `request` (pre-filled when re-opened with errors)."""
        from rfctui.screens.forms import ClaimConfirm, EditBodyForm, MetadataForm, ProposeForm

        action = request.get("action")
        if detail is None:
            sel = self._selected_entry()
            detail = sel[1] if sel else None
        drafts = self._drafts()
        screen: Screen[Any]
        if action == "propose":
            screen = ProposeForm(existing=list(self.items), initial=request, errors=errors,
                                 drafts=drafts)
        else:
            slug = str(request.get("slug", ""))
            if detail is None or detail.slug != slug:
                self.notify(f"{slug} is no longer selected.", markup=False)
                return
            if action == "edit":
                screen = EditBodyForm(slug, detail.title, str(request.get("body", detail.body)),
                                      errors=errors, original=detail.body, drafts=drafts)
            elif action == "claim":
                actor = self.session.actor
                login = actor.login if actor is not None else (self.login or "you")
                screen = ClaimConfirm(slug, detail.title, login, detail.owners, errors=errors)
            else:
                current = {
                    "title": detail.title, "state": detail.state, "owners": list(detail.owners),
                    "arbiters": list(detail.arbiters), "tags": list(detail.tags),
                    "repo": detail.repo, "id": detail.rfc_id, **dict(detail.extra),
                }
                screen = MetadataForm(slug, current, errors=errors,
                                      initial=request.get("initial"), drafts=drafts)

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
            result = asyncio.run(self.session.perform(request))
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
        items = status = None
        try:  # the refresh wrote the cache: read the list once more for the UI
            items, status = self.read_items(), self.session.cache().sync_status()
        except Exception:  # noqa: BLE001 - the next load_items will show it
            pass
        self.post_message(BotActionDone(result, str(request.get("slug", "")),
                                        str(request.get("action")), items, status))

    @on(BotActionDone)
    def _bot_action_done(self, message: BotActionDone) -> None:
        result = message.result
        self._forget_draft(message.kind, message.slug)
        for w in result.warnings:
            self.notify(one_line(w), severity="warning", markup=False)
        note = one_line(result.note)  # "added to your open PR #7"
        done = (note[:1].upper() + note[1:]) if note else f"Opened PR #{result.pr_number}"
        self.notify(f"{done}: {result.html_url}", title="Done", markup=False, timeout=8)
        if result.refresh_error:
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

    @on(BotReselect)
    def _bot_reselect(self, message: BotReselect) -> None:
        """Put the cursor on the entry the action touched and reload its detail + PRs."""
        from rfctui.widgets.rfc_list import RfcList

        rfc_list = self.query_one(RfcList)
        if not rfc_list.select_slug(message.slug, message.kind) and message.kind == "pending":
            rfc_list.select_slug(message.slug, "rfc")
        item = rfc_list.highlighted_item
        if item is not None and item.slug == message.slug:
            self.load_detail(item)

    @on(BotActionFailed)
    def _bot_action_failed(self, message: BotActionFailed) -> None:
        if message.errors:
            # Nothing was sent: back to the form with what was typed and the errors.
            self._open_form(message.request, message.errors)
            return
        if message.action_id:  # the actions log keeps it for retry: no second copy
            self._forget_draft(str(message.request.get("action")),
                               str(message.request.get("slug", "")))
        hint = (f" Saved as action #{message.action_id}: press a to retry or discard."
                if message.action_id else "")
        self.notify(message.text + hint, title="Action failed", severity="error",
                    markup=False, timeout=12)

    # -- the Actions view

    def action_actions_view(self) -> None:
        session = self.session

        def load() -> list[Any]:
            log = session.actions_log(create=True)
            assert log is not None
            return [*log.pending(), *log.failed()]

        def retry(action_id: int) -> str:
            res = asyncio.run(session.retry(action_id))
            self.app.call_from_thread(self.load_items)
            return str(res.html_url or f"PR #{res.pr_number}")

        from rfctui.screens.actions import ActionsScreen

        drafts = self._drafts()

        def open_draft(kind: str, slug: str) -> None:  # UI thread, the view has closed
            if kind == "propose":
                self.action_propose()
            elif self._can_act():
                self._open_draft_entry(kind, slug)

        self.app.push_screen(ActionsScreen(load, retry, session.discard, drafts=drafts.all,
                                           discard_draft=drafts.discard, open_draft=open_draft))

    @work(thread=True, group="bot-draft", exit_on_error=False, description="Open a draft")
    def _open_draft_entry(self, kind: str, slug: str) -> None:
        """Reopen the edit/metadata form of a draft from the Actions view (reads the entry)."""
        detail = self.session.cache().rfc(slug)
        if detail is None:
            self.app.call_from_thread(self.notify, f"{slug} is not in the cache any more.",
                                      markup=False)
            return
        self.app.call_from_thread(self._open_form, {"action": kind, "slug": slug,
                                                    "body": detail.body}, None, detail)
