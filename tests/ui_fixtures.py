"""Fixtures for the UI tests: a fixed clock, and caches to show.

``MemoryCache`` is a stand-in with the read API of ``rfctui.db.Cache`` (DESIGN.md), built
from the bundled sample entries; it lets UI tests run before/without the reconciler.
The snapshot tests build their cache with the real Reconciler against the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from rfctui.db import ListItem, PRRow, RFCDetail, SyncStatus

FIXED_NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED_NOW


@dataclass
class MemoryCache:
    """The UI's read API over plain lists."""

    items: list[ListItem]
    details: dict[str, RFCDetail] = field(default_factory=dict)
    pulls: dict[str, list[PRRow]] = field(default_factory=dict)
    status: SyncStatus = field(
        default_factory=lambda: SyncStatus(FIXED_NOW, "full", True, None, 0, 0)
    )
    notice: str | None = None

    def list_items(self, now: datetime | None = None, stale_days: float = 60) -> list[ListItem]:
        return list(self.items)

    def rfc(self, slug: str) -> RFCDetail | None:
        return self.details.get(slug)

    def pulls_for(self, slug: str) -> list[PRRow]:
        return list(self.pulls.get(slug, []))

    def sync_status(self) -> SyncStatus:
        return self.status


def sample_memory_cache() -> MemoryCache:
    """Every bundled sample entry as a cached row (no PRs)."""
    from rfctui.entry import parse_entry
    from rfctui.sandbox.sample import sample_files

    items: list[ListItem] = []
    details: dict[str, RFCDetail] = {}
    for path, data in sorted(sample_files().items()):
        e = parse_entry(path, data)
        items.append(
            ListItem(
                kind="rfc",
                slug=e.slug,
                title=e.title,
                state=e.state,
                rfc_id=e.rfc_id,
                owners=tuple(e.owners),
                arbiters=tuple(e.arbiters),
                tags=tuple(e.tags),
                proposed_by=e.proposed_by,
                proposed_at=e.proposed_at,
                state_since=e.graduated_at or e.proposed_at,
                search_text=f"{e.slug}\n{e.title}\n{e.body}".lower(),
            )
        )
        details[e.slug] = RFCDetail(
            slug=e.slug,
            title=e.title,
            state=e.state,
            rfc_id=e.rfc_id,
            repo=e.repo,
            proposed_by=e.proposed_by,
            proposed_at=e.proposed_at,
            graduated_at=e.graduated_at,
            graduated_by=e.graduated_by,
            owners=tuple(e.owners),
            arbiters=tuple(e.arbiters),
            tags=tuple(e.tags),
            body=e.body,
            removed=False,
            state_since=e.graduated_at or e.proposed_at,
            html_url=None,
            extra=dict(e.extra),
        )
    status = SyncStatus(FIXED_NOW, "full", True, None, len(items), 0)
    return MemoryCache(items, details, {}, status)
