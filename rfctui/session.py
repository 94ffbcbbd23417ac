"""One home for the wiring: a Textual-free composition root per configuration.

The CLI and the UI both hold one `Session`. It opens the cache (SPEC §4.2) and the
actions log (§6.4) once each, lazily and thread-safely; gathers their one-line notices;
builds the reader client and the one `Reconciler` (§4.1); verifies who is at the
keyboard once (§6.2); and runs bot actions (§6). Nothing else constructs these, so a
new command or view asks the session instead of wiring a fourth copy.

peewee and httpx are imported on first use only: ``rfctui`` builds a session before the
first paint, and that path must stay as light as it is (see ``rfctui/startup.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from rfctui.config import Config
from rfctui.logins import same_login
from rfctui.results import ActionResult, Progress, SweepResult
from rfctui.text import one_line

if TYPE_CHECKING:
    import httpx

    from rfctui.bot import Actor, Bot, Refresh
    from rfctui.bot.comment import CommentThread
    from rfctui.changes import ChangeView
    from rfctui.db import ActionsLog, Cache
    from rfctui.digest import Digest
    from rfctui.gitea import GiteaClient
    from rfctui.history import HistoryResult
    from rfctui.marks import Marks
    from rfctui.reconcile import Reconciler
    from rfctui.timeline import Timeline
    from rfctui.triage import FactsMemo, QueueResult

__all__ = ["Notice", "Session", "SweepKind", "describe_error"]

SweepKind = Literal["quick", "full", "resync"]
Clock = Callable[[], datetime]
ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class Notice:
    """A local file had to be moved aside or cannot be opened: one line, told once."""

    text: str
    actions_log: bool = False  # else the cache


def _utc_now() -> datetime:
    return datetime.now(UTC)


def describe_error(exc: BaseException) -> tuple[str, bool]:
    """One token-free line for ``exc`` and whether it means "Gitea is unreachable"."""
    from rfctui.gitea import GiteaError, GiteaTimeout, GiteaUnreachable

    if isinstance(exc, GiteaUnreachable | GiteaTimeout):
        return one_line(str(exc), 300), True
    if isinstance(exc, GiteaError):
        return one_line(str(exc), 300), False
    return one_line(str(exc), 300) or type(exc).__name__, False


class Session:
    """Everything one configuration needs, built once (issue 10).

    Thread-safe: the UI calls it from worker threads, each with its own event loop;
    every `async` method makes its own HTTP clients, so no client crosses loops.
    ``repair_actions=False`` (headless sweeps) never moves a damaged actions log aside:
    the outbox is not a sweep's business.
    """

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        repair_actions: bool = True,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or _utc_now
        self.transport: httpx.AsyncBaseTransport | None = (
            transport if transport is not None else config.transport
        )
        self.repair_actions = repair_actions
        self._lock = threading.RLock()
        self._cache: Cache | None = None
        self._actions: ActionsLog | None = None
        self._notices: list[Notice] = []
        self._actor: Actor | None = None
        self._identifying: Future[Actor] | None = None
        # login_key -> does Gitea have that user: one GET /users/{login} per login for
        # the whole session, however many actions name it.
        self._users: dict[str, bool] = {}
        # Why the last `identify` could not reach Gitea (then actions are saved, not sent).
        self.offline_reason: str | None = None
        self._marks: Marks | None = None
        self._facts_memo: FactsMemo | None = None

    def __repr__(self) -> str:  # never a token
        return f"Session({self.config.target_key!r})"

    # ------------------------------------------------------------------ local files

    def cache(self) -> Cache:
        """The cache, opened (created, or repaired and said so) on first use.

        Raises `rfctui.db.CacheError` when it cannot be opened at all (next call retries).
        """
        with self._lock:
            if self._cache is None:
                from rfctui.db import open_cache

                self.adopt_cache(open_cache(self.config.cache_file, clock=self.clock))
            assert self._cache is not None
            return self._cache

    def adopt_cache(self, cache: Cache) -> None:
        """Take a cache opened elsewhere (the start-up read) instead of opening another;
        if one is open already, the newcomer is closed."""
        with self._lock:
            if self._cache is None:
                self._cache = cache
                if cache.notice:
                    self._notices.append(Notice(cache.notice))
            elif self._cache is not cache:
                cache.close()

    @property
    def cache_if_open(self) -> Cache | None:
        """The cache if something opened it already (no file is touched)."""
        return self._cache

    def actions_log(self, *, create: bool = False) -> ActionsLog | None:
        """The actions log (§6.4): None when this machine never acted (unless `create`)
        or when it cannot be opened (then a notice says why; the next call tries again).
        With `create`, a log that cannot be opened raises `rfctui.db.CacheError`.
        """
        with self._lock:
            if self._actions is not None:
                return self._actions
            path = self.config.actions_file
            if not create and not path.exists():
                return None
            from rfctui.db import CacheError, open_actions

            try:
                log = open_actions(path, clock=self.clock, repair=self.repair_actions)
            except CacheError as exc:
                if create:
                    raise
                self._notices.append(Notice(one_line(str(exc), 500), actions_log=True))
                return None
            if log.notice:
                self._notices.append(Notice(log.notice, actions_log=True))
            self._actions = log
            return log

    def take_notices(self) -> list[Notice]:
        """The notices gathered so far, each handed out once."""
        with self._lock:
            notices, self._notices = self._notices, []
            return notices

    def close(self) -> None:
        """Close the cache and the actions log (a later call opens them again).

        A cache this session created that nothing was ever written to (every sweep
        failed: a target that never answered) is removed, not left behind empty
        (issue 14 §3; `Cache.close_or_discard`)."""
        with self._lock:
            if self._cache is not None:
                with contextlib.suppress(Exception):
                    self._cache.close_or_discard()
            if self._actions is not None:
                with contextlib.suppress(Exception):
                    self._actions.close()
            self._cache = self._actions = None

    # ------------------------------------------------------------------ reading Gitea

    def reader_client(self, **kwargs: Any) -> GiteaClient:
        """A client for background reads with `Config.read_token` (§6.1: the user's own
        token when set; the bot's token is for writes). `kwargs` go to `GiteaClient`."""
        from rfctui.gitea import GiteaClient

        kwargs.setdefault("transport", self.transport)
        kwargs.setdefault("auth_hint", self.config.read_auth_hint)
        return GiteaClient(self.config.gitea_url, self.config.read_token, **kwargs)

    def reconciler(self, client: GiteaClient, *, progress: ProgressFn | None = None) -> Reconciler:
        """The one place a `Reconciler` is built: the cache's only writer (§4.1). The
        actions log, when there is one, attributes PRs the bot opened (§6.3)."""
        from rfctui.reconcile import Reconciler

        cfg = self.config
        return Reconciler(
            client, self.cache(), cfg.org, cfg.meta_repo, cfg.bot_user,
            actions=self.actions_log(), progress=progress, clock=self.clock,
        )

    async def sweep(self, kind: SweepKind, *, progress: ProgressFn | None = None) -> SweepResult:
        """One sweep (§4.1); whatever goes wrong becomes a failed result, never a raise."""
        try:
            async with self.reader_client() as client:
                rec = self.reconciler(client, progress=progress)
                if kind == "quick":
                    result = await rec.quick_sweep()
                elif kind == "full":
                    result = await rec.full_sweep()
                else:
                    result = await rec.resync()
        except Exception as exc:  # noqa: BLE001 - one line for the status line / stderr
            text, offline = describe_error(exc)
            return SweepResult.failed(kind, text, offline=offline)
        if not result.ok and result.not_found:
            await self._explain_not_found(result)
        return result

    async def _explain_not_found(self, result: SweepResult) -> None:
        """The repository answered 404. A wrong path in the Gitea URL
        (``https://host/foo``) looks just like a missing org/repo; the doctor's server
        check tells them apart (issue 14 §2: two ``/version`` requests, only after a
        failed sweep). The better line replaces the error and the cache's record of it."""
        from rfctui.doctor import explain_not_found

        try:
            better = await explain_not_found(self.config, str(result.not_found),
                                             transport=self.transport)
        except Exception:  # noqa: BLE001 - the reconciler's wording stands
            return
        if better is None:
            return
        result.error = better = one_line(better, 500)
        cache = self._cache
        if cache is None:
            return

        def record() -> None:
            with cache.write():
                cache.set_state({"last_error": better, f"{result.kind}_error": better})

        with contextlib.suppress(Exception):
            await asyncio.to_thread(record)

    async def backfill_history(
        self,
        progress: ProgressFn | None = None,
        *,
        slugs: Collection[str] | None = None,
        all_states: bool = False,
    ) -> HistoryResult:
        """True time in state (issue 11 §2, `rfctui.history`): walk the history of the
        entries whose ``state_since`` is not exact yet, in the background after the
        list is shown. Resumable; never raises (the result says what failed, in one
        line). `progress` gets ``Progress("reading history", done, total)``. `slugs` /
        `all_states` widen or narrow the entries (the timeline asks for one slug)."""
        from rfctui.history import HistoryBackfill, HistoryResult

        t0 = time.monotonic()
        try:
            async with self.reader_client() as client:
                cfg = self.config
                walk = HistoryBackfill(client, self.cache(), cfg.org, cfg.meta_repo,
                                       progress=progress, clock=self.clock)
                return await walk.run(slugs, all_states=all_states)
        except Exception as exc:  # noqa: BLE001 - one line for the status line / stderr
            text, _offline = describe_error(exc)
            return HistoryResult(0, 0, 0, time.monotonic() - t0, error=text)

    def history_pending(self) -> int:
        """How many entries still lack an exact ``state_since`` (one query, no network):
        the UI starts `backfill_history` after a sweep when this is not 0."""
        from rfctui.db.history_store import history_tasks

        return len(history_tasks(self.cache()))

    def timeline(self, slug: str) -> Timeline:
        """The life of entry `slug` (issue 12 §2, `rfctui.timeline`), from the cache
        alone: its stored commit list (``history_known`` False when never fetched:
        ``backfill_history(slugs=[slug], all_states=True)`` fetches it), its PRs, and
        the actions log's people. Raises `rfctui.entry.InvalidSlug` for a bad slug."""
        from rfctui.timeline import read_timeline

        log = self.actions_log()
        actors = log.actors() if log is not None else {}
        return read_timeline(self.cache(), slug, self.config.bot_user, actors)

    def digest(self, since: datetime, until: datetime | None = None) -> Digest:
        """The weekly digest of ``[since, until]`` (issue 12 §4, `rfctui.digest`), from the
        cache alone — never the network: entries whose history was not read are said in
        a note, not fetched. Stale uses the queue's thresholds (defaults < team file <
        personal settings). Raises `rfctui.db.CacheError` when the cache cannot be read."""
        from rfctui.digest import read_digest
        from rfctui.triage import build_queue, read_facts

        now = until if until is not None else self.clock()
        cache = self.cache()
        # The thresholds the queue resolves (an empty login asks for no items).
        thresholds = build_queue(
            read_facts(cache), "", now=now, personal=self.config.queue_settings
        ).thresholds
        log = self.actions_log()
        actors = log.actors() if log is not None else {}
        return read_digest(cache, since=since, until=now, bot_login=self.config.bot_user,
                           actors=actors, thresholds=thresholds)

    # ------------------------------------------------------------------ identity (§6.2)

    @property
    def actor(self) -> Actor | None:
        """The verified actor, once `identify` succeeded (no network)."""
        return self._actor

    def known_actor(self) -> Actor | None:
        """Who was last verified with this token on this machine, without the network
        (an `offline` actor), or the one verified in this session."""
        if self._actor is not None:
            return self._actor
        token = self.config.user_token
        if not token:
            return None
        from rfctui.bot import IdentityFile

        return IdentityFile(self.config, token).load()

    async def identify(self) -> Actor:
        """Verify the person with their own token, once per session (one ``GET /user``
        however many threads ask at the same time).

        Raises `ActionsDisabled` (no token, refused, the bot's token) with one line.
        Gitea unreachable: the identity last verified for this token, marked
        ``offline`` (or an anonymous offline actor), so an action typed now is still
        saved (§6.4) and ``mine`` still works; it is verified again next time.
        """
        with self._lock:
            if self._actor is not None:
                return self._actor
            pending = self._identifying
            mine: Future[Actor] = Future()
            if pending is None:
                self._identifying = mine
        if pending is not None:  # another caller is asking Gitea: share its answer
            return await asyncio.wrap_future(pending)
        try:
            actor = await self._verify()
        except BaseException as exc:
            mine.set_exception(exc)
            with self._lock:
                self._identifying = None
            raise
        with self._lock:
            if not actor.offline:
                self._actor = actor
            self._identifying = None
        mine.set_result(actor)
        return actor

    async def _verify(self) -> Actor:
        from rfctui.bot import (
            BOT_TOKEN_AS_USER,
            ActionsDisabled,
            Actor,
            IdentityFile,
            IdentityUnreachable,
            same_secret,
            verify_actor,
        )
        from rfctui.gitea import GiteaClient

        cfg = self.config
        token = cfg.user_token
        if not token:
            return await verify_actor(None)  # raises ActionsDisabled with the fix
        if same_secret(token, cfg.bot_token):
            raise ActionsDisabled(BOT_TOKEN_AS_USER)
        ids = IdentityFile(cfg, token)
        try:
            async with GiteaClient(cfg.gitea_url, token, transport=self.transport) as uc:
                actor = await verify_actor(uc)
        except IdentityUnreachable as exc:
            # §6.4: nothing typed is lost. Save under the identity last verified for
            # this token (or none), fail it, and verify again on retry.
            self.offline_reason = str(exc).removeprefix("cannot verify who you are: ")
            actor = ids.load() or Actor("", "", offline=True)
        else:
            self.offline_reason = None
        if same_login(actor.login, cfg.bot_user):
            # The bot acting "on behalf of" itself would attribute nothing (§6.2).
            raise ActionsDisabled(BOT_TOKEN_AS_USER)
        if not actor.offline:
            ids.save(actor)
        return actor

    # ------------------------------------------------------------------ the queue (§9)

    @property
    def marks(self) -> Marks:
        """The personal marks (snoozes, last seen, UI state) of this target, in the data
        directory: never in the cache, so ``--resync`` keeps them (issue 11)."""
        with self._lock:
            if self._marks is None:
                from rfctui.marks import Marks

                self._marks = Marks(self.config)
            return self._marks

    def queue(self, login: str | None = None, *, include_snoozed: bool = False) -> QueueResult:
        """What is waiting on ``login`` (issue 11), from the cache alone: no network.

        Without ``login``, the identity verified in this session or last verified with
        this token on this machine (`known_actor`); when there is none, raises
        `rfctui.bot.ActionsDisabled` with the reason (`queue_verified` asks Gitea).

        Marks are the person's at this keyboard: snoozes and last-seen apply to their own
        queue only. Somebody else's (``--as grace``) is shown whole, nothing snoozed and
        nothing flagged new — your snoozes say what *you* put off, not what grace did.
        Marks' and the cache's notices are gathered as usual (`take_notices`); the
        cache's `rfctui.db.CacheError` propagates.
        """
        actor = self.known_actor()
        me = actor.login if actor is not None else ""
        if login is None:
            if not me:
                from rfctui.bot.errors import ActionsDisabled

                raise ActionsDisabled(
                    "who you are is not known yet: set RFCTUI_USER_TOKEN and connect once,"
                    " or name someone with --as LOGIN"
                )
            login = me
        from rfctui.triage import FactsMemo, build_queue, read_facts

        with self._lock:
            if self._facts_memo is None:
                self._facts_memo = FactsMemo()
            memo = self._facts_memo
        facts = read_facts(self.cache(), memo)
        marks = self.marks
        own = bool(me) and same_login(login, me)
        result = build_queue(
            facts, login, now=self.clock(), personal=self.config.queue_settings,
            snoozes=marks.snoozes() if own else (), seen=marks.seen() if own else None,
            include_snoozed=include_snoozed,
        )
        with self._lock:
            self._notices.extend(Notice(one_line(t, 500)) for t in marks.take_notices())
        return result

    async def queue_verified(
        self, login: str | None = None, *, include_snoozed: bool = False
    ) -> QueueResult:
        """`queue`, asking Gitea who you are (`identify`) only when ``login`` is None and
        no identity is known on this machine. Raises `rfctui.bot.ActionsDisabled` (one
        line) when it still cannot be told."""
        if login is None:
            known = self.known_actor()
            if known is not None and known.login:
                login = known.login
            else:
                actor = await self.identify()
                if not actor.login:
                    from rfctui.bot.errors import ActionsDisabled

                    why = self.offline_reason or "Gitea did not say who you are"
                    raise ActionsDisabled(f"cannot verify who you are: {why}")
                login = actor.login
        return self.queue(login, include_snoozed=include_snoozed)

    def change(self, pr_number: int) -> ChangeView:
        """What PR ``pr_number`` changes in its entry, against ``main`` (issue 12 §1).

        Reads the cache only, never the network: the head's file is fetched by the
        reconciler after a sweep (once per head sha, `Cache.pending_heads`), so a change
        view once synced works offline. A head never fetched gives ``change=None`` (the
        caller says "run rfctui --sync"). The ``main`` side is rebuilt from the cached
        row with `rfctui.entry.dump_entry` (parse(dump(e)) == e, unknown keys kept);
        an entry not on ``main`` (a proposal, a removed file) is no main side.
        Raises LookupError when the PR is not in the cache.
        """
        from rfctui.changes import ChangeView, compute_change, kind_word, main_text, overlaps

        cache = self.cache()
        row = cache.pull(pr_number)
        if row is None:
            raise LookupError(f"pull request #{pr_number} is not in the cache")
        kind = kind_word(row.kind)
        detail = cache.rfc(row.slug) if row.slug else None
        main = None if kind == "propose" else main_text(detail)
        heads = cache.pr_rows([pr_number])
        sha = str(heads.get(pr_number, {}).get("head_sha") or "")
        text = cache.head_text(pr_number, sha) if sha else None
        view = ChangeView(
            pr=row.number, slug=row.slug, kind=kind, state=row.state,
            opened_by=row.opened_by, title=row.title, change=None,
        )
        if not sha or not (text is None or isinstance(text, str)):  # MISSING: not fetched
            return view
        change = compute_change(main, text, slug=row.slug, kind=kind)
        others = [(row.number, change)]
        # Only this entry's other open PRs (usually none): never every head file.
        siblings = [] if detail is None else [
            pr for pr in detail.pulls if pr.number != row.number and pr.state == "open"
        ]
        if siblings:
            shas = cache.pr_rows([pr.number for pr in siblings])
            for pr in siblings:
                other_sha = str(shas.get(pr.number, {}).get("head_sha") or "")
                if not other_sha:
                    continue
                other = cache.head_text(pr.number, other_sha)
                if other is None or isinstance(other, str):  # not MISSING (never fetched)
                    others.append((pr.number, compute_change(
                        main, other, slug=row.slug, kind=kind_word(pr.kind),
                    )))
        return ChangeView(
            pr=view.pr, slug=view.slug, kind=view.kind, state=view.state,
            opened_by=view.opened_by, title=view.title, change=change,
            notes=[n for n in overlaps(others) if f"#{row.number} " in n],
        )

    # ------------------------------------------------------------------ actions (§6)

    @contextlib.asynccontextmanager
    async def bot(self) -> AsyncIterator[tuple[Bot, Actor]]:
        """The verified actor and a `Bot` on the bot's token; each success ends with the
        reconciler's targeted refresh of what it touched (§6.1).

        The cache is optional here: one that cannot be opened is said in a notice, and
        the action goes ahead without the duplicate checks and the refresh.
        """
        from rfctui.bot import Bot, has_listed_rows
        from rfctui.db import CacheError
        from rfctui.gitea import GiteaClient

        actor = await self.identify()
        log = self.actions_log(create=True)
        assert log is not None
        try:
            cache: Cache | None = self.cache()
        except CacheError as exc:
            with self._lock:
                self._notices.append(Notice(one_line(str(exc), 500)))
            cache = None
        cfg = self.config
        async with GiteaClient(cfg.gitea_url, cfg.bot_token, transport=self.transport) as client:
            refresh: Refresh | None = None
            if cache is not None:
                rec = self.reconciler(client)

                async def refresh(slug: str | None, pr_number: int) -> SweepResult:
                    return await rec.refresh(slug=slug, pr_number=pr_number)

            bot = Bot(
                client, cfg.org, cfg.meta_repo, cfg.bot_user, log, refresh,
                existing=cache if cache is not None and has_listed_rows(cache) else None,
                host=urlsplit(cfg.gitea_url).hostname or None,
                clock=self.clock,
                users=self._users,
            )
            bot.offline = self.offline_reason if actor.offline else None
            yield bot, actor

    async def perform(self, request: Mapping[str, Any]) -> ActionResult:
        """Run one form's or command's request (``{"action": "propose" | "edit" |
        "claim" | "metadata", ...}``): the CLI and the UI share this path."""
        async with self.bot() as (bot, actor):
            return await bot.perform(actor, request)

    async def retry(self, action_id: int) -> ActionResult:
        """Send a saved action again (§6.4: idempotent; never a second PR)."""
        async with self.bot() as (bot, actor):
            return await bot.retry(action_id, actor)

    async def comments(self, pr_number: int) -> CommentThread:
        """PR `pr_number`'s thread (issue 12 §3): Gitea's comments (one request, reader
        client) each with the real person (`rfctui.bot.comment.thread`), then this user's
        comment actions not yet posted. Never raises: an error is `error`, one line, and
        only the unsent comments are shown."""
        from rfctui.bot.comment import CommentThread, pending_comments, thread

        mine, note = [], None
        try:
            if (log := self.actions_log()) is not None:
                mine = pending_comments([*log.pending(), *log.failed()], pr_number)
        except Exception as exc:  # noqa: BLE001 - said in the one line
            note = f"actions log: {describe_error(exc)[0]}"
        cfg = self.config
        try:
            async with self.reader_client() as client:
                got = await client.list_issue_comments(cfg.org, cfg.meta_repo, pr_number)
        except Exception as exc:  # noqa: BLE001 - never raised to the UI
            text, offline = describe_error(exc)
            what = "Gitea unreachable" if offline else "cannot read the comments"
            return CommentThread(pr_number, tuple(mine), f"{what}: {text}", offline)
        return CommentThread(pr_number, (*thread(got, cfg.bot_user), *mine), note)

    def discard(self, action_id: int) -> None:
        """Forget a pending or failed action (kept for audit). Raises
        `rfctui.db.ActionStateError` (one line) for an unknown or a done action."""
        from rfctui.db import ActionStateError

        log = self.actions_log()
        if log is None or log.get(action_id) is None:
            raise ActionStateError(f"no action #{action_id} in the log")
        log.discard(action_id)
