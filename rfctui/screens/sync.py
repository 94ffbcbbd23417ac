"""The main screen's sweeps, apart from its widgets (SPEC §4.1, §4.2).

`Sweeps` decides when a sweep runs (one at a time; one more queued, never cancelled)
and runs it on a worker thread: who is at the keyboard first (§6.2, for ``mine``), then
`rfctui.session.Session.sweep`, on the thread's own event loop (`SweepLoop`) so that
quitting can cancel it. It only posts messages (`rfctui.messages`); the screen's
handlers change the widgets. `read_check` reads how the shared cache changed, and
`sweep_note` is the one line a sweep the person asked for ends with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from textual.message import Message

from rfctui.messages import (
    HistoryProgress,
    SyncFinished,
    SyncProgress,
    SyncStarted,
    UserIdentified,
)
from rfctui.results import Progress, SweepResult
from rfctui.rows import K_GEN, K_SKIPPED
from rfctui.session import SweepKind, describe_error
from rfctui.text import one_line

if TYPE_CHECKING:
    from rfctui.db import Cache
    from rfctui.session import Session

__all__ = ["SweepLoop", "Sweeps", "read_check", "sweep_note"]

T = TypeVar("T")


class SweepLoop:
    """Runs one coroutine at a time on a private event loop in the calling thread.

    Why: the interpreter joins worker threads at exit, so quitting must be able to cancel
    a sweep stuck on a slow server (`cancel`, from any thread) instead of waiting for
    its timeouts. Cancelling is safe: a sweep's writes are one transaction with no
    await inside. After `cancel`, every `run` is cancelled at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handle: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        self._closing = False

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """``coro``'s result; raises `asyncio.CancelledError` if cancelled."""
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(coro)
            with self._lock:
                self._handle = (loop, task)
                if self._closing:
                    task.cancel()
            return loop.run_until_complete(task)
        finally:
            with self._lock:
                self._handle = None
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def cancel(self) -> None:
        """Stop the running coroutine now, and any later one (the screen is going)."""
        with self._lock:
            self._closing = True
            handle = self._handle
        if handle is not None:
            loop, task = handle
            with contextlib.suppress(RuntimeError):  # the loop just closed
                loop.call_soon_threadsafe(task.cancel)


class Sweeps:
    """When the screen's sweeps run, and running one (on a worker thread).

    ``post`` is the screen's ``post_message``: `run` posts `SyncStarted`, perhaps
    `UserIdentified`, then `SyncFinished` (nothing once the screen is going away).
    """

    def __init__(self, session: Session, post: Callable[[Message], object]) -> None:
        self.session = session
        self._post = post
        self.running = False
        self.queued: SweepKind | None = None
        self._loop = SweepLoop()
        self._history_loop = SweepLoop()
        self._history_lock = threading.Lock()  # one history walk at a time
        self._identify_tried = False
        self._login: str | None = None  # the login last posted

    def request(self, kind: SweepKind) -> bool:
        """True: run ``kind`` now. False: one runs; ``kind`` waits (a full one wins)."""
        if self.running:
            if kind == "full" or self.queued is None:
                self.queued = kind
            return False
        self.running = True
        return True

    def finished(self) -> SweepKind | None:
        """The sweep ended (its `SyncFinished` arrived): the queued one to start, if any."""
        self.running = False
        queued, self.queued = self.queued, None
        return queued

    def cancel(self) -> None:
        """Stop a running sweep now and start none (the screen is going away)."""
        self._loop.cancel()
        self._history_loop.cancel()

    def run(self, kind: SweepKind) -> None:
        """One sweep (a worker thread); never raises."""
        self._post(SyncStarted(kind))
        try:
            result = self._loop.run(self._sweep(kind))
        except asyncio.CancelledError:
            return  # quitting: nobody is left to tell
        except Exception as exc:  # noqa: BLE001 - becomes the status line's one line
            text, offline = describe_error(exc)
            result = SweepResult.failed(kind, text, offline=offline)
        self._post(SyncFinished(result))
        if result.ok:
            self.backfill_history()

    def backfill_history(self) -> None:
        """True time in state, after the sweep and its list are shown (issue 11): the
        entries whose ``state_since`` is not exact yet have their history read, with
        progress in the status line. Nothing to do costs one query and no request."""
        if not self._history_lock.acquire(blocking=False):
            return  # a walk is running; it takes what this sweep found on its next run
        try:
            if not self.session.history_pending():
                return
            last = 0.0

            def progress(p: Progress) -> None:
                nonlocal last
                now = time.monotonic()
                if now - last >= 0.25 or p.done >= p.total:  # at most 4 lines a second
                    last = now
                    self._post(HistoryProgress(p.done, p.total))

            result = self._history_loop.run(self.session.backfill_history(progress))
            self._post(HistoryProgress(result.entries_done, result.total, finished=True,
                                       error=result.error))
        except asyncio.CancelledError:
            return  # quitting
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            self._post(HistoryProgress(0, 0, finished=True, error=describe_error(exc)[0]))
        finally:
            self._history_lock.release()

    async def _sweep(self, kind: SweepKind) -> SweepResult:
        # Reads use the user's own token; the bot's is for writes only (§6.1, issue 5).
        if not self._identify_tried and self.session.config.user_token:
            self._identify_tried = True
            await self._identify()
        return await self.session.sweep(kind, progress=self._sweep_progress())

    def _sweep_progress(self) -> Callable[[Progress], None]:
        """The sweep's progress as `SyncProgress` messages, at most ten a second (the
        last of a phase always), so a 10,000-entry sweep does not flood the UI."""
        last = 0.0

        def progress(p: Progress) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= 0.1 or p.done >= p.total:
                last = now
                self._post(SyncProgress(p.phase, p.done, p.total))

        return progress

    async def _identify(self) -> None:
        """Who is at the keyboard (§6.2), for ``mine``; failures just leave it unknown.

        Unreachable: the identity last verified with this token (no network), and ask
        again next sweep. Refused: the token is wrong, asking every 30 s will not fix it;
        "mine" says why it finds nothing.
        """
        from rfctui.bot import ActionsDisabled

        try:
            actor = await self.session.identify()
        except ActionsDisabled:
            return
        except Exception:  # noqa: BLE001 - not known yet: ask again next sweep
            self._identify_tried = False
            return
        if actor.offline:
            self._identify_tried = False
        if actor.login and actor.login != self._login:
            self._login = actor.login
            self._post(UserIdentified(actor.login, actor.full_name or None))


def read_check(cache: Cache) -> tuple[str | None, list[tuple[str, str]]]:
    """The cache's write generation and the reconciler's skipped (malformed) entries as
    (path, reason): a few SyncState rows, so it can run every few seconds."""
    state = cache.state()
    skipped: list[tuple[str, str]] = []
    try:
        raw = json.loads(state.get(K_SKIPPED) or "{}")
        if isinstance(raw, dict):
            for path, value in sorted(raw.items()):
                reason = value[1] if isinstance(value, list) and len(value) > 1 else ""
                skipped.append((str(path), str(reason or "unreadable")))
    except ValueError:
        pass
    return state.get(K_GEN), skipped


def sweep_note(result: SweepResult) -> str:
    """How a sweep the person asked for went, in one line ("Synced (quick): …")."""
    if result.ok:
        changed = result.rows_changed
        what = f"{changed} rows changed" if changed else "no changes"
        return f"Synced ({result.kind}): {what}."
    return f"Sync failed: {one_line(str(result.error or ''), 160)}"
