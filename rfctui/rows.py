"""The cache's read side, without peewee: row types and the UI's queries (SPEC §4.2, §7.1).

`rfctui.db` owns the cache file (schema, opening, repair, writes) and reads through a
`Reader` on its own connection. The UI's start-up (`rfctui.startup`) reads the first
screen through a `Reader` on a plain ``sqlite3`` connection while Textual is still
importing, so neither peewee nor the schema's models are on the way to the first paint.
Every query here is plain SQL over the columns `rfctui.db` defines; a test checks that
both ways of reading agree.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, Literal, cast

__all__ = [
    "CACHE_APP_ID",
    "K_GEN",
    "K_PULLS_TOTAL",
    "K_SKIPPED",
    "K_TEAM_SHA",
    "K_TEAM_TEXT",
    "LIFECYCLE_STATES",
    "MISSING",
    "SCHEMA_VERSION",
    "STALE_STATES",
    "ListHead",
    "ListItem",
    "PRRow",
    "RFCDetail",
    "Reader",
    "SyncStatus",
    "format_dt",
    "parse_dt",
    "read_detail",
    "search_text",
]

# Bump when the cache tables change shape: an older/newer file is moved aside and rebuilt.
# 2: the (state, slug, removed, rfc_id) index of cached_rfc.
# 3: head_file (entry files at PR heads) and entry_commit (issue 11).
# 4: no cached_rfc.search_text (issue 13: a lower-cased copy of every body was 40 % of
#    the file); the filter's text is derived from the cache (`Reader.filter_texts`).
#    A version-3 file is migrated in place (`rfctui.db.cache.migrate_cache`).
SCHEMA_VERSION = 4
# PRAGMA application_id of the cache: tells it apart from any other SQLite file ("rfct").
CACHE_APP_ID = 0x72666374
SEARCH_BODY_CAP = 20_000  # chars of body that go into ListItem.search_text
# States in which an entry can go stale (§3: "longer in one state than a threshold").
# Terminal states (graduated, declined, superseded, withdrawn) are where entries are meant
# to rest, so flagging them would be noise; unknown states are flagged like parked.
STALE_STATES = frozenset({"idea", "parked", "pending"})
TERMINAL_STATES = frozenset({"graduated", "declined", "superseded", "withdrawn"})
# The §3 states in lifecycle order: the left pane's groups (unknown states go to "Other").
LIFECYCLE_STATES: tuple[str, ...] = (
    "idea",
    "graduated",
    "parked",
    "declined",
    "superseded",
    "withdrawn",
)

# SyncState keys the UI reads too (the reconciler, rfctui.reconcile, owns the others).
K_SKIPPED = "skipped_entries"  # {path: [blob sha, reason]} (JSON)
K_GEN = "generation"  # bumped by every write; detects a concurrent writer
K_PULLS_TOTAL = "pulls_total"  # X-Total-Count of state=all: written by listing sweeps only
# The team file (.rfctui.toml at the meta repo's root on main, issue 11 §3): its blob
# sha ("" = absent) and its text (NULL = absent), re-read only when the sha changes.
K_TEAM_SHA = "team_file_sha"
K_TEAM_TEXT = "team_file_text"


class _Missing(Enum):
    """`Reader.head_text`'s "no row": the head was never fetched (None means absent)."""

    MISSING = "missing"


MISSING = _Missing.MISSING

# The left pane's columns of cached_rfc, in the order Reader._rfc_items unpacks them.
LIST_COLUMNS = (
    "slug, title, state, rfc_id, owners, arbiters, tags, proposed_by,"
    " proposed_at, removed, state_since, html_url"
)
# What the filter needs of an entry beyond LIST_COLUMNS (`Reader.filter_texts`): the
# body's first SEARCH_BODY_CAP characters (SQLite's substr counts characters, as [:n]).
_FILTER_BODY = f"substr(body, 1, {SEARCH_BODY_CAP})"
# Pending ideas (§3, §7.3): open propose PRs whose slug has no live (non-removed) entry.
PENDING_WHERE = (
    " FROM cached_pr AS p WHERE state = 'open' AND pr_kind = 'idea' AND NOT EXISTS"
    " (SELECT 1 FROM cached_rfc AS r WHERE r.slug = p.rfc_slug AND r.removed = 0)"
)
# The right pane's columns of cached_rfc and cached_pr, as Reader.rfc / pulls_for read them.
_DETAIL_COLUMNS = (
    "slug, title, state, rfc_id, repo, proposed_by, proposed_at, graduated_at,"
    " graduated_by, owners, arbiters, tags, body, removed, state_since, html_url, extra,"
    " last_entry_commit_at, body_sha"
)
_PR_COLUMNS = (
    "pr_number, pr_kind, state, title, opened_by, opened_at, merged_at, closed_at,"
    " updated_at, head_branch, html_url, description, rfc_slug, user_login"
)


# ---------------------------------------------------------------- value helpers


def format_dt(value: datetime | date | str | None) -> str | None:
    """RFC 3339 UTC text with ``Z``; naive datetimes are taken as UTC, dates as midnight."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_dt(value)
        return format_dt(parsed) if parsed is not None else None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def parse_dt(text: str | None) -> datetime | None:
    """Parse RFC 3339 (any offset, or ``Z``) into an aware UTC datetime; junk -> None.

    Gitea's zero time ``0001-01-01T00:00:00Z`` means "unset" and reads as None.
    """
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if value.tzinfo is UTC and value.year > 1:  # our own stored form: nothing to convert
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value.year <= 1:
        return None
    return value.astimezone(UTC)


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
    # Lower-cased slug, title and body, for the filter (`Reader.filter_texts`). Filled by
    # list_items, empty in list_head's first screen: not part of an item's identity.
    search_text: str = field(default="", compare=False)


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
    slug: str = ""
    user_login: str | None = None  # Gitea's PR author (the bot for bot-opened PRs)


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
    last_entry_commit_at: datetime | None = None
    body_sha: str | None = None


@dataclass(frozen=True, slots=True)
class SyncStatus:
    synced_at: datetime | None  # end of the last successful sweep of any kind
    last_kind: str | None  # quick | full | resync | refresh
    last_ok: bool | None
    last_error: str | None  # one line, token-free
    rfc_count: int = 0
    pending_count: int = 0
    offline: bool = False  # the last sweep failed because Gitea was unreachable/timed out
    last_attempt_at: datetime | None = None  # end of the last sweep, successful or not


@dataclass(frozen=True, slots=True)
class ListHead:
    """`Cache.list_head`: the first screen of the left pane (the UI loads the rest later).

    ``state_counts``: entries per raw state, removed ones included (with
    ``status.pending_count``, the group headers' numbers); ``ident_lens``: per raw state,
    the longest ident (``#<id>`` once graduated, else the slug) over all entries, and
    ``pending_ident_len`` over all pending ideas, so columns do not move when the whole
    list replaces the head; ``complete``: ``items`` is the whole list.
    """

    items: list[ListItem]
    state_counts: dict[str, int]
    ident_lens: dict[str, int]
    pending_ident_len: int
    status: SyncStatus
    complete: bool = False


def sync_status_of(st: Mapping[str, str | None], rfc_count: int, pending_count: int) -> SyncStatus:
    """The status line's data from the sync_state pairs and the two counts (§7.1)."""
    ok = st.get("last_ok")
    return SyncStatus(
        synced_at=parse_dt(st.get("synced_at")),
        last_kind=st.get("last_kind"),
        last_ok=None if ok is None else ok == "1",
        last_error=st.get("last_error"),
        rfc_count=rfc_count,
        pending_count=pending_count,
        offline=st.get("last_offline") == "1",
        last_attempt_at=parse_dt(st.get("last_attempt_at")),
    )


def search_text(slug: str, title: str, body: str) -> str:
    """The filter text of an entry or pending idea: lower-cased slug, title, and the
    first SEARCH_BODY_CAP chars of its body (a pending idea: its PR description).
    Derived when read, never stored (issue 13: it was 40 % of the cache file)."""
    return f"{slug}\n{title}\n{body[:SEARCH_BODY_CAP]}".lower()


def _json_list(text: str | None) -> tuple[Any, ...]:
    return tuple(json.loads(text) or ()) if text is not None else ()


def _pr_row(row: Sequence[Any]) -> PRRow:
    """A `PRRow` from the ``_PR_COLUMNS`` of one cached_pr row."""
    (
        number, kind, state, title, opened_by, opened_at, merged_at, closed_at,
        updated_at, head_branch, html_url, description, slug, user_login,
    ) = row
    return PRRow(
        number=number,
        kind=kind,
        state=state,
        title=title,
        opened_by=opened_by,
        opened_at=parse_dt(opened_at),
        merged_at=parse_dt(merged_at),
        closed_at=parse_dt(closed_at),
        updated_at=parse_dt(updated_at),
        head_branch=head_branch,
        html_url=html_url,
        description=description or "",
        slug=slug,
        user_login=user_login,
    )


def read_detail(reader: Any, item: ListItem) -> tuple[RFCDetail | None, list[PRRow]]:
    """The right pane of ``item`` from ``reader`` (a `Reader` or `rfctui.db.Cache`):
    an entry's detail carries its pull requests already, so they are read once."""
    detail = reader.rfc(item.slug) if item.kind == "rfc" else None
    if detail is not None:
        return detail, list(detail.pulls)
    return None, list(reader.pulls_for(item.slug))


# ---------------------------------------------------------------- the queries


class Reader:
    """The UI's reads over one sqlite3 connection (the caller's thread owns it).

    `memo` caches decoded JSON lists across calls (`rfctui.db.Cache` keeps one per file).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        clock: Callable[[], datetime],
        memo: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.conn = conn
        self.clock = clock
        self._json_memo = {} if memo is None else memo

    def _sql(self, query: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(query, params)

    def state(self) -> dict[str, str | None]:
        """All sync-state keys at once (one query)."""
        return dict(self._sql("SELECT key, value FROM sync_state").fetchall())

    def _tuple(self, text: str | None) -> tuple[str, ...]:
        """Decode a JSON list column, memoised: most rows repeat the same few lists."""
        if not text:
            return ()
        got = self._json_memo.get(text)
        if got is None:
            try:
                value = json.loads(text)
            except ValueError:
                value = []
            got = tuple(str(v) for v in value) if isinstance(value, list) else ()
            if len(self._json_memo) < 50_000:
                self._json_memo[text] = got
        return got

    def list_items(
        self, now: datetime | None = None, stale_days: int | float = 60, *, texts: bool = True
    ) -> list[ListItem]:
        """Light rows for the left pane: every entry (removed ones flagged) + pending ideas.

        Pending ideas (§3, §7.3) are open ``propose/<slug>`` PRs whose slug has no
        non-removed entry. `open_prs` counts open PRs per §5 kind for each slug. `stale`
        means "in an idea/parked/pending state for more than `stale_days`" at `now`
        (pass both for deterministic tests; `now` defaults to the cache clock).
        Selects only list columns as raw tuples, so 10,000 rows stay well under 100 ms.
        ``texts=False`` leaves `ListItem.search_text` empty and reads no body: the UI
        keeps its one copy of the filter text in its index (`filter_texts`, issue 13).
        """
        threshold = self._stale_threshold(now, stale_days)
        badges = self._open_pr_badges()
        # Raw SQL with no converters: parsing only the two datetimes we need per row.
        rows = self._sql(
            f"SELECT {LIST_COLUMNS}{', ' + _FILTER_BODY if texts else ''}"
            " FROM cached_rfc ORDER BY slug"
        )
        items = self._rfc_items(rows, threshold, badges)
        items += self._pending_items(self._pending_rows(), threshold, badges, texts)
        return items

    # The row -> ListItem conversions below are shared by list_items and list_head, so
    # that the first screen and the whole list can never disagree about an item.

    def _stale_threshold(
        self, now: datetime | None, stale_days: int | float | None
    ) -> datetime | None:
        """The `state_since` before which a non-terminal item is stale (None: never)."""
        now = now or self.clock()
        return now - timedelta(days=stale_days) if stale_days is not None else None

    def _open_pr_badges(self, slugs: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
        """Open PRs per slug per §5 kind (`ListItem.open_prs`); only `slugs` if given."""
        where, params = "", cast(tuple[str, ...], ())
        if slugs is not None:
            params = tuple(slugs)
            if not params:
                return {}
            where = f" AND rfc_slug IN ({', '.join('?' for _ in params)})"
        badges: dict[str, dict[str, int]] = {}
        for slug, kind, count in self._rows_in_one_step(
            "rfc_slug, pr_kind, n",
            "SELECT rfc_slug, pr_kind, COUNT(*) AS n FROM cached_pr WHERE state = 'open'"
            f"{where} GROUP BY rfc_slug, pr_kind",
            params,
        ):
            badges.setdefault(slug, {})[kind] = count
        return badges

    def _pending_rows(self, limit: int = -1) -> list[list[Any]]:
        """The first `limit` (all: -1) pending ideas' rows, by slug then PR number (§7.3).

        Columns: ``pr_number, rfc_slug, title, opened_by, opened_at, html_url,
        description`` (`opened_at` as stored text).
        """
        return sorted(
            self._rows_in_one_step(
                "pr_number, rfc_slug, title, opened_by, opened_at, html_url, description",
                "SELECT pr_number, rfc_slug, title, opened_by, opened_at, html_url,"
                f" description {PENDING_WHERE} ORDER BY rfc_slug, pr_number LIMIT ?",
                (limit,),
            ),
            key=lambda r: (r[1], r[0]),
        )

    def _rfc_items(
        self,
        rows: Iterable[Sequence[Any]],
        threshold: datetime | None,
        badges: Mapping[str, dict[str, int]],
    ) -> list[ListItem]:
        """Entry rows (``LIST_COLUMNS``, raw, and optionally the ``_FILTER_BODY`` column
        that fills `ListItem.search_text`) as ListItems; one loop, no per-row calls
        beyond the constructor and parsing, since list_items runs it 10,000 times."""
        tup = self._tuple
        items: list[ListItem] = []
        append = items.append
        for (
            slug, title, state, rfc_id, owners, arbiters, tags, proposed_by,
            proposed_at, removed, state_since, html_url, *body,
        ) in rows:
            since = parse_dt(state_since)
            append(
                ListItem(
                    kind="rfc",
                    slug=slug,
                    title=title,
                    state=state,
                    rfc_id=rfc_id,
                    owners=tup(owners),
                    arbiters=tup(arbiters),
                    tags=tup(tags),
                    proposed_by=proposed_by,
                    proposed_at=parse_dt(proposed_at),
                    removed=bool(removed),
                    stale=bool(
                        threshold is not None
                        and not removed
                        and since is not None
                        and since < threshold
                        and state not in TERMINAL_STATES
                    ),
                    state_since=since,
                    open_prs=badges.get(slug, {}),
                    html_url=html_url,
                    search_text=search_text(slug, title, body[0] or "") if body else "",
                )
            )
        return items

    @staticmethod
    def _pending_items(
        rows: Iterable[Sequence[Any]],
        threshold: datetime | None,
        badges: Mapping[str, dict[str, int]],
        texts: bool = True,
    ) -> list[ListItem]:
        """`_pending_rows` as ListItems (state "pending", stale by age of the PR)."""
        items: list[ListItem] = []
        for number, slug, title, opened_by, opened_at_text, html_url, description in rows:
            opened_at = parse_dt(opened_at_text)
            items.append(
                ListItem(
                    kind="pending",
                    slug=slug,
                    title=title,
                    state="pending",
                    proposed_by=opened_by,
                    proposed_at=opened_at,
                    stale=bool(threshold is not None and opened_at and opened_at < threshold),
                    state_since=opened_at,
                    open_prs=badges.get(slug, {}),
                    pr_number=number,
                    html_url=html_url,
                    search_text=search_text(slug, title, description or "") if texts else "",
                )
            )
        return items

    def filter_texts(self) -> Iterator[tuple[str, str, str]]:
        """``(kind, slug, text)`` for every left-pane item, `search_text` of each (entries
        by slug, then pending ideas): what the UI's filter index is built from after
        the first paint (issue 13), in one streaming read (a row at a time; the cache
        stores no lower-cased copy). `kind` is "rfc" or "pending", as `ListItem.kind`.
        """
        cur = self._sql(f"SELECT slug, title, {_FILTER_BODY} FROM cached_rfc ORDER BY slug")
        for slug, title, body in cur:
            yield "rfc", slug, search_text(slug, title, body or "")
        for row in self._pending_rows():
            slug, title, description = row[1], row[2], row[6]
            yield "pending", slug, search_text(slug, title, description or "")

    def team_file(self) -> str | None:
        """The team file's text as last read from ``main`` (None: absent or not read yet).

        Parsing it is `rfctui.teamfile.parse_team_file`'s job (a malformed file is
        stored as is and reported there).
        """
        row = self._sql("SELECT value FROM sync_state WHERE key = ?", (K_TEAM_TEXT,)).fetchone()
        return None if row is None else cast("str | None", row[0])

    def head_text(
        self, pr_number: int, head_sha: str
    ) -> str | None | Literal[_Missing.MISSING]:
        """The entry file at one PR head: its text, None if the head has no such file,
        `MISSING` if that head was not fetched (yet)."""
        row = self._sql(
            "SELECT text FROM head_file WHERE pr_number = ? AND head_sha = ?",
            (int(pr_number), head_sha),
        ).fetchone()
        return MISSING if row is None else cast("str | None", row[0])

    def head_texts(self) -> dict[int, tuple[str, str | None]]:
        """pr_number -> (head_sha, text or None if absent) at each cached PR's CURRENT
        head, for every PR whose head was fetched (one query: the queue builder's read)."""
        rows = self._sql(
            "SELECT h.pr_number, h.head_sha, h.text FROM head_file h"
            " JOIN cached_pr p ON p.pr_number = h.pr_number AND p.head_sha = h.head_sha"
        ).fetchall()
        return {int(n): (str(sha), text) for n, sha, text in rows}

    def pulls_for(self, slug: str) -> list[PRRow]:
        """Every cached PR for `slug`, open ones first, newest first within a state."""
        rows = self._sql(
            f"SELECT {_PR_COLUMNS} FROM cached_pr WHERE rfc_slug = ?"
            " ORDER BY state != 'open', pr_number DESC",
            (slug,),
        ).fetchall()
        return [_pr_row(r) for r in rows]

    def rfc(self, slug: str) -> RFCDetail | None:
        """The right pane's data for one entry (with its PRs), or None if not cached."""
        row = self._sql(
            f"SELECT {_DETAIL_COLUMNS} FROM cached_rfc WHERE slug = ?", (slug,)
        ).fetchone()
        if row is None:
            return None
        (
            slug, title, state, rfc_id, repo, proposed_by, proposed_at, graduated_at,
            graduated_by, owners, arbiters, tags, body, removed, state_since, html_url,
            extra, last_entry_commit_at, body_sha,
        ) = row
        return RFCDetail(
            slug=slug,
            title=title,
            state=state,
            rfc_id=rfc_id,
            repo=repo,
            proposed_by=proposed_by,
            proposed_at=parse_dt(proposed_at),
            graduated_at=parse_dt(graduated_at),
            graduated_by=graduated_by,
            owners=_json_list(owners),
            arbiters=_json_list(arbiters),
            tags=_json_list(tags),
            body=body,
            removed=bool(removed),
            state_since=parse_dt(state_since),
            html_url=html_url,
            pulls=tuple(self.pulls_for(slug)),
            extra=dict(json.loads(extra) or {}) if extra is not None else {},
            last_entry_commit_at=parse_dt(last_entry_commit_at),
            body_sha=body_sha,
        )

    def pull(self, number: int) -> PRRow | None:
        """One cached PR by number (pending-idea detail)."""
        row = self._sql(
            f"SELECT {_PR_COLUMNS} FROM cached_pr WHERE pr_number = ? LIMIT 1", (number,)
        ).fetchone()
        return _pr_row(row) if row is not None else None

    def sync_status(self) -> SyncStatus:
        """What the status line shows: last success, last outcome, counts (§7.1)."""
        rfc_count = self._sql("SELECT COUNT(*) FROM cached_rfc WHERE removed = 0").fetchone()[0]
        pending = self._sql(f"SELECT COUNT(*) {PENDING_WHERE}").fetchone()[0]
        return sync_status_of(self.state(), rfc_count, pending)

    def list_head(
        self,
        state_order: Iterable[str],
        limit: int,
        now: datetime | None = None,
        stale_days: int | float = 60,
    ) -> ListHead:
        """The left pane's first ``limit`` items, its group sizes and the status (§7.1).

        What the first screen needs, read before `list_items` so that the UI paints
        within a few milliseconds of SQL: pending ideas come first, then entries by
        state in ``state_order``, then every other state, each by slug (the left pane's
        order). Counts and ident lengths come from one aggregate scan in C; only the
        returned rows become Python objects. The items equal `list_items`' ones.

        Each query comes back in one step (``_rows_in_one_step``): this runs on a thread
        while the UI thread starts, and every row fetched on its own would wait for the
        GIL again.
        """
        threshold = self._stale_threshold(now, stale_days)
        order = [s for s in dict.fromkeys(state_order) if s != "pending"]
        counts: dict[str, int] = {}
        widths: dict[str, int] = {}
        rfc_count = 0
        for state, removed, count, width in self._rows_in_one_step(
            "state, removed, n, w",
            "SELECT state, removed, COUNT(*) AS n, MAX(CASE WHEN rfc_id IS NOT NULL"
            " THEN length(rfc_id) + 1 ELSE length(slug) END) AS w"
            " FROM cached_rfc GROUP BY state, removed",
        ):
            counts[state] = counts.get(state, 0) + count
            widths[state] = max(widths.get(state, 0), width or 0)
            if not removed:
                rfc_count += count
        pending_count, pending_len = self._sql(
            f"SELECT COUNT(*), MAX(length(rfc_slug)) {PENDING_WHERE}"
        ).fetchone()
        pending_rows = self._pending_rows(limit) if pending_count else []
        rfc_rows: list[list[Any]] = []
        others = ", ".join("?" for _ in order) or "''"
        groups: list[tuple[str, tuple[Any, ...]]] = [
            ("state = ?", (state,)) for state in order if counts.get(state)
        ]
        if any(s not in order for s in counts):
            groups.append((f"state NOT IN ({others})", tuple(order)))
        for where, params in groups:
            left = limit - len(pending_rows) - len(rfc_rows)
            if left <= 0:
                break
            rfc_rows += sorted(
                self._rows_in_one_step(
                    LIST_COLUMNS,
                    f"SELECT {LIST_COLUMNS} FROM cached_rfc WHERE {where} ORDER BY slug"
                    " LIMIT ?",
                    (*params, left),
                ),
                key=lambda r: r[0],
            )
        badges = self._open_pr_badges({r[1] for r in pending_rows} | {r[0] for r in rfc_rows})
        items = self._pending_items(pending_rows, threshold, badges)
        items += self._rfc_items(rfc_rows, threshold, badges)
        st = json.loads(
            self._sql("SELECT json_group_object(key, value) FROM sync_state")
            .fetchone()[0]
        )
        return ListHead(
            items=items,
            state_counts=counts,
            ident_lens=widths,
            pending_ident_len=pending_len or 0,
            status=sync_status_of(st, rfc_count, pending_count),
            complete=len(items) >= sum(counts.values()) + pending_count,
        )

    def _rows_in_one_step(
        self, columns: str, query: str, params: tuple[Any, ...] = ()
    ) -> list[list[Any]]:
        """The rows of ``query`` (which selects ``columns``, plain names) as lists.

        Fetched as one JSON array, i.e. in a single ``sqlite3_step``: the sqlite3 module
        releases the GIL around every step and must win it back after each one, which
        costs up to a switch interval (5 ms) per row while another thread is busy.
        The aggregate does not promise row order: callers sort.
        """
        text = self._sql(
            f"SELECT json_group_array(json_array({columns})) FROM ({query})", params
        ).fetchone()[0]
        return json.loads(text) if text else []
