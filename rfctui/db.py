"""The per-user SQLite cache and the actions log (SPEC §4.2, §6.4).

STUB: the read-model dataclasses below are the contract between the cache and the UI
(docs/DESIGN.md). The peewee models and functions are filled in by the cache work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ListItem:
    """One left-pane row: an RFC entry or a pending idea (an open propose PR, §7.3)."""

    kind: str  # "rfc" | "pending"
    slug: str
    title: str
    state: str  # a §3 state, an unknown state as-is, or "pending"
    rfc_id: int | None = None
    owners: tuple[str, ...] = ()
    arbiters: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    proposed_by: str | None = None
    proposed_at: datetime | None = None
    removed: bool = False
    stale: bool = False
    state_since: datetime | None = None
    # open PRs against this entry, by §5 kind: {"meta_body_edit": 2, "meta_claim": 1}
    open_prs: dict[str, int] = field(default_factory=dict)
    pr_number: int | None = None  # for pending ideas: the propose PR
    html_url: str | None = None  # pending: the PR page; rfc: the entry's page
    search_text: str = ""  # lower-cased slug, title and body, for the filter


@dataclass(frozen=True, slots=True)
class PRRow:
    number: int
    kind: str
    state: str  # open | closed | merged
    title: str
    opened_by: str
    opened_at: datetime | None
    merged_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime | None
    head_branch: str
    html_url: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class RFCDetail:
    slug: str
    title: str
    state: str
    rfc_id: int | None
    repo: str | None
    proposed_by: str | None
    proposed_at: datetime | None
    graduated_at: datetime | None
    graduated_by: str | None
    owners: tuple[str, ...]
    arbiters: tuple[str, ...]
    tags: tuple[str, ...]
    body: str
    removed: bool
    state_since: datetime | None
    html_url: str | None
    pulls: tuple[PRRow, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)  # unknown front-matter keys


@dataclass(frozen=True, slots=True)
class SyncStatus:
    synced_at: datetime | None  # end of the last successful sweep of any kind
    last_kind: str | None  # quick | full | resync | refresh
    last_ok: bool | None
    last_error: str | None  # one line, token-free
    rfc_count: int = 0
    pending_count: int = 0
