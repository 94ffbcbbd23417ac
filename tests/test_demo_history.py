"""The demo's sample history is back-dated (issue 14 §5): ages, time in state and stale
markers show in ``rfctui --demo``, while the sample tests and snapshots build from
(``backdate_days=0``) keeps every timestamp at the sandbox clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rfctui.config import Config
from rfctui.demo import DEMO_HISTORY_DAYS, start_demo, stop_demo
from rfctui.rows import ListItem
from rfctui.sandbox.sample import build_sample_sandbox
from rfctui.session import Session

FIXED = datetime(2026, 10, 2, 14, 3, tzinfo=UTC)


@pytest.fixture
def demo() -> Iterator[Config]:
    config = start_demo(quick_interval=0, full_interval=0)
    try:
        yield config
    finally:
        stop_demo()


def _items(config: Config) -> list[ListItem]:
    """The demo's list after the UI's start-up work: a full sweep, then the history walk
    that finds each entry's true time in state (over real HTTP to the demo's server)."""
    session = Session(config)
    try:
        assert asyncio.run(session.sweep("full")).ok
        history = asyncio.run(session.backfill_history())
        assert history.error is None and history.failed == 0
        return session.cache().list_items(now=session.clock(),
                                          stale_days=config.stale_days)
    finally:
        session.close()


def test_demo_entries_have_varied_times_in_state(demo: Config) -> None:
    now = datetime.now(UTC)
    items = _items(demo)
    entries = [i for i in items if i.kind == "rfc"]
    waiting = [i for i in entries if i.state in ("idea", "parked")]
    days = {i.slug: (now - i.state_since).days for i in entries if i.state_since}
    assert len(days) == len(entries)  # every entry has a time in state
    assert len(set(days.values())) >= len(entries) // 2, days  # spread, not all "0d"
    assert max(days.values()) > 200 and min(days.values()) < 60, days
    assert all(0 <= d <= DEMO_HISTORY_DAYS + 1 for d in days.values()), days
    # some waiting entries are past the stale threshold, some are not
    assert any(i.stale for i in waiting) and not all(i.stale for i in waiting), waiting
    pending = [i for i in items if i.kind == "pending"]
    assert pending and any(i.stale for i in pending) and not all(i.stale for i in pending)


def test_nothing_is_dated_in_the_future(demo: Config) -> None:
    sb_now = datetime.now(UTC) + timedelta(minutes=1)
    for item in _items(demo):
        if item.state_since is not None:
            assert item.state_since <= sb_now, item


def test_the_sample_tests_build_from_is_not_back_dated() -> None:
    """Snapshots and sample tests see every timestamp at the sandbox clock, as before."""
    sb = build_sample_sandbox(clock=lambda: FIXED)
    dates = {str(c["created"]) for c in _commit_dates(sb)}
    assert len(dates) == 1 and next(iter(dates)).startswith("2026-10-02T14:03"), dates


def _commit_dates(sb: Any) -> list[dict[str, object]]:
    import httpx

    with httpx.Client(transport=sb.transport, base_url="http://sandbox.test") as c:
        r = c.get("/api/v1/repos/rfcs/meta/commits", params={"limit": 50},
                  headers={"Authorization": "token ada-token"})
        r.raise_for_status()
        return [{"created": x["commit"]["author"]["date"]} for x in r.json()]
