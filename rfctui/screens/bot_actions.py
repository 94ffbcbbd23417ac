"""The main screen's actions through the bot (SPEC §6, §7.2).

`BotActionsMixin` gives the main screen its `n`/`e`/`c`/`m`/`a` actions: it opens the
form, runs `Bot.perform` in a thread worker on its own event loop (never the UI
thread), then re-reads the cache the reconciler just refreshed so the new PR shows at
once. Screens and widgets only see plain data and messages. The Actions view itself
(`rfctui.screens.actions`) and the forms are imported when they open.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message
from textual.screen import Screen

from rfctui.text import one_line

__all__ = ["BotActionDone", "BotActionFailed", "BotActionsMixin", "BotReselect"]

# Type checkers see the mixin as a Screen; at run time it is a plain class.
_MixinBase: Any = Screen if TYPE_CHECKING else object


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
                    from rfctui.private import private_dir

                    path = Path(self._bot_app_config().actions_file)
                    private_dir(path.parent)  # 0700 whatever the umask (§11)
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

    def _bot_drafts(self) -> Any:
        """The forms' draft writer for this target (rfctui.drafts, §9 personal marks)."""
        from rfctui.drafts import writer_for

        return writer_for(self._bot_app_config(), clock=getattr(self.app, "clock", None))

    def _bot_forget_draft(self, action: str, slug: str) -> None:
        """The action is in the actions log now: its draft is not needed any more."""
        if action in ("propose", "edit", "metadata"):
            try:
                self._bot_drafts().discard(action, "" if action == "propose" else slug)
            except ValueError:  # not a slug: there was never a draft for it
                pass

    def _bot_open_form(self, request: dict[str, Any], errors: dict[str, str] | None,
                       detail: Any = None) -> None:
        """Push the form for `request` (pre-filled when re-opened with errors)."""
        from rfctui.screens.forms import ClaimConfirm, EditBodyForm, MetadataForm, ProposeForm

        action = request.get("action")
        if detail is None:
            sel = self._bot_selected()
            detail = sel[1] if sel else None
        drafts = self._bot_drafts()
        screen: Any
        if action == "propose":
            screen = ProposeForm(existing=list(getattr(self, "items", [])), initial=request,
                                 errors=errors, drafts=drafts)
        else:
            slug = str(request.get("slug", ""))
            if detail is None or detail.slug != slug:
                self.notify(f"{slug} is no longer selected.", markup=False)
                return
            if action == "edit":
                screen = EditBodyForm(slug, detail.title, str(request.get("body", detail.body)),
                                      errors=errors, original=detail.body, drafts=drafts)
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
        self._bot_forget_draft(message.kind, message.slug)
        for w in getattr(result, "warnings", ()):
            self.notify(one_line(w), severity="warning", markup=False)
        note = one_line(getattr(result, "note", "") or "")  # "added to your open PR #7"
        done = (note[:1].upper() + note[1:]) if note else f"Opened PR #{result.pr_number}"
        self.notify(f"{done}: {result.html_url}", title="Done", markup=False, timeout=8)
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
        if message.action_id:  # the actions log keeps it for retry: no second copy
            self._bot_forget_draft(str(message.request.get("action")),
                                   str(message.request.get("slug", "")))
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

        from rfctui.screens.actions import ActionsScreen

        drafts = self._bot_drafts()

        def open_draft(kind: str, slug: str) -> None:  # UI thread, the view has closed
            if kind == "propose":
                self.action_propose()
            elif self._bot_can_act():
                self._bot_open_draft_entry(kind, slug)

        self.app.push_screen(ActionsScreen(load, retry, discard, drafts=drafts.all,
                                           discard_draft=drafts.discard, open_draft=open_draft))

    @work(thread=True, group="bot-draft", exit_on_error=False, description="Open a draft")
    def _bot_open_draft_entry(self, kind: str, slug: str) -> None:
        """Reopen the edit/metadata form of a draft from the Actions view (reads the entry)."""
        detail = self.app.get_cache().rfc(slug)
        if detail is None:
            self.app.call_from_thread(self.notify, f"{slug} is not in the cache any more.",
                                      markup=False)
            return
        self.app.call_from_thread(self._bot_open_form, {"action": kind, "slug": slug,
                                                        "body": detail.body}, None, detail)
