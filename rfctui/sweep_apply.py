"""The apply half of a sweep (SPEC §4.1; `rfctui.reconcile` runs it): what a gather
planned (`Plan`), written in the caller's one transaction (`apply_plan`).

Split out of the reconciler (issue 13) so that a resync can run the same last writes
inside the transaction its entry rows were streamed into (`rfctui.resync_stream`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rfctui.db import Cache
from rfctui.db.history_store import note_state_changes
from rfctui.resync_stream import EntryStream
from rfctui.rows import K_GEN

__all__ = ["Plan", "Retry", "apply_plan"]


@dataclass(slots=True)
class Plan:
    """What one sweep will write (built by the gather half, on the event loop)."""

    clear: bool = False
    rfc_rows: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    pr_rows: list[dict[str, Any]] = field(default_factory=list)
    pr_deletes: list[int] = field(default_factory=list)
    state: dict[str, object] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    entries_fetched: int = 0
    pulls_fetched: int = 0
    rows_changed: int = 0
    stream: EntryStream | None = None  # a resync's entry rows, written as they arrive


class Retry(Exception):
    """Another writer committed between gather and apply: gather again."""


def apply_plan(
    cache: Cache, plan: Plan, generation: str | None, outcome: Mapping[str, object]
) -> tuple[int, int]:
    """Write `plan` inside the caller's transaction; (live entries, PRs) after it.

    Raises `Retry` if another writer came first (not for a resync: it replaces
    everything). A resync's `EntryStream` already emptied the cache and wrote the entry
    rows in this transaction. PR rows are compared with the stored ones here, under the
    write lock, so only real changes count. The generation is bumped only when rows
    change: a no-op sweep must not make a concurrent sweep gather again. `outcome`: the
    sweep's sync-state bookkeeping, written with the rest.
    """
    stream = plan.stream
    stored_gen = stream.generation if stream is not None else cache.get_state(K_GEN)
    if not plan.clear and stored_gen != generation:
        raise Retry
    if plan.clear and stream is None:
        cache.clear()
    if plan.rfc_rows:
        if not plan.clear:  # a state change seen here is exact (rfctui.history)
            note_state_changes(cache, plan.rfc_rows)
        cache.upsert_rfcs(plan.rfc_rows)
    if plan.removed:
        cache.set_removed(plan.removed)
    if plan.pr_deletes:
        cache.delete_prs(plan.pr_deletes)
    if plan.pr_rows:
        latest = {r["pr_number"]: r for r in plan.pr_rows}
        if plan.clear:
            changed = list(latest.values())
        else:
            stored = cache.pr_rows(latest)
            changed = [
                row for n, row in latest.items()
                if (old := stored.get(n)) is None
                or any(old.get(k) != v for k, v in row.items())
            ]
        cache.upsert_prs(changed)
        plan.rows_changed += len(changed)
    if plan.clear or plan.pr_deletes or plan.pr_rows:
        cache.prune_heads()  # rows of heads that moved or PRs that are gone
    state: dict[str, object] = dict(plan.state)
    if plan.clear or plan.rows_changed:
        gen = int(stored_gen) + 1 if stored_gen is not None and stored_gen.isdigit() else 1
        state[K_GEN] = str(gen)
    state.update(outcome)
    cache.set_state(state)
    conn = cache.db.sqlite_connection()
    entries = conn.execute("SELECT COUNT(*) FROM cached_rfc WHERE removed = 0").fetchone()[0]
    pulls = conn.execute("SELECT COUNT(*) FROM cached_pr").fetchone()[0]
    return int(entries), int(pulls)
