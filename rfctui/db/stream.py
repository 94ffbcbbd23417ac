"""One write transaction held open by a worker thread and fed work from an event loop
(issue 13: a resync writes each batch of entries as it arrives, SPEC §4.1).

Why a thread of its own: SQLite transactions belong to one connection, and peewee
keeps one connection per thread, so every step of a transaction must run on the same
thread; the event loop keeps reading Gitea meanwhile (``sqlite3`` releases the GIL
while SQLite works). Everything sent commits together at `TxnStream.finish` or not at
all: an `abort`, an exception in a step, or a killed process rolls it all back, so
readers and a crashed resync see the cache as it was before (WAL: the uncommitted
frames are ignored).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from rfctui.db.cache import Cache

__all__ = ["TxnStream"]

T = TypeVar("T")


class _Aborted(Exception):
    """Internal: roll the transaction back."""


class TxnStream:
    """``Cache.write()`` on a worker thread; `run` a step in it, `finish` to commit.

    Use from one event loop. The worker begins with ``BEGIN IMMEDIATE`` (waiting up to
    the busy timeout for another writer, like any sweep) and holds the write lock until
    `finish` or `abort`; readers are never blocked (WAL). Always end a stream with
    `finish` or `abort` (`abort` is safe to call twice, and after `finish`).
    """

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._loop = asyncio.get_running_loop()
        self._q: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any], bool] | None]
        self._q = queue.SimpleQueue()
        self._done: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(target=self._work, name="rfctui-txn", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ the event loop's side

    async def run(self, fn: Callable[[], T], *, last: bool = False) -> T:
        """Run ``fn()`` inside the transaction on the worker thread; its result (or its
        exception, which also rolls the transaction back). `last`: commit after it."""
        fut: asyncio.Future[T] = self._loop.create_future()
        if self._done.done():
            raise RuntimeError("the write transaction has already ended")
        self._q.put((fn, fut, last))
        waiters: list[asyncio.Future[Any]] = [fut, self._done]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if fut.done():
            return fut.result()
        exc = self._done.exception()  # the worker ended without answering
        raise exc if exc is not None else RuntimeError("the write transaction ended")

    async def finish(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` as the last step and commit; its result once committed."""
        result = await self.run(fn, last=True)
        await asyncio.shield(self._done)
        return result

    async def abort(self) -> None:
        """Roll back (if not committed yet) and wait until the worker has let go of the
        write lock."""
        if not self._done.done():
            self._q.put(None)
        try:
            await asyncio.shield(self._done)
        except BaseException:  # noqa: BLE001 - the step that failed reported it already
            pass

    # ------------------------------------------------------------ the worker thread

    def _deliver(self, fut: asyncio.Future[Any], value: Any, error: bool = False) -> None:
        def set_it() -> None:
            if fut.done():
                return  # its awaiter was cancelled
            if error:
                fut.set_exception(value)
            else:
                fut.set_result(value)

        try:
            self._loop.call_soon_threadsafe(set_it)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _work(self) -> None:
        final: tuple[asyncio.Future[Any], Any] | None = None
        outcome: BaseException | None = None
        try:
            with self.cache.write():
                while True:
                    item = self._q.get()
                    if item is None:
                        raise _Aborted
                    fn, fut, last = item
                    try:
                        value = fn()
                    except BaseException as exc:
                        self._deliver(fut, exc, error=True)
                        raise
                    if last:
                        final = (fut, value)
                        break
                    self._deliver(fut, value)
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop below
            outcome = exc
            if final is not None:  # the commit itself failed
                self._deliver(final[0], exc, error=True)
        else:
            if final is not None:
                self._deliver(*final)
        finally:
            try:
                self.cache.db.close()  # this thread's connection: the thread ends here
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        if outcome is not None:
            self._deliver(self._done, outcome, error=True)
        else:
            self._deliver(self._done, None)
