"""The queue from the cache: facts in one read, then `rfctui.attention` (SPEC §9; issue 11).

Why a module between the cache and the pure queue: `rfctui.attention` knows nothing of
SQL, and the cache knows nothing of who is waiting on whom. This reads what the queue
needs — every entry, every pull request, the pending ideas' files at their heads and the
team file — and turns it into `EntryFacts` / `PullFacts` and the effective thresholds
(`rfctui.teamfile.resolve`: defaults < team file < personal configuration).

One read: entries and pull requests come back from a *single* SQL statement (one
``sqlite3_step``, one snapshot, no per-row queries), so the queue of 10,000 entries and
20,000 PRs costs one scan of each table plus a pass in Python. Heads and the team file
are one query each (`Cache.head_texts`, `Cache.team_file`, issue 11's reconciler part);
a cache without them (older code) just means "not fetched yet".

Facts, per entry: ``state_since`` as the cache has it (exact once the history backfill
ran; until then the last commit's time, which can only make time in state look
*shorter*, so nothing is flagged stale wrongly); ``last_activity`` the latest of the last
commit on ``main``, the state change and any PR update on the entry (so a snoozed row
comes back, and "new since last seen" lights up, when a PR moves). Per open PR: the real
opener (§6.3) and, for a pending idea, the arbiters named by its file at the PR head
(`rfctui.entry.parse_entry`; its title too), or None while that file has not been
fetched.

`QueueResult.notes` are one-line things to tell the user: arbiters not fetched yet, a
malformed team file or personal ``[stale]``/``[queue]``/``[[views]]`` table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from rfctui.attention import (
    EntryFacts,
    PullFacts,
    QueueItem,
    Snooze,
    Thresholds,
    attention_queue,
    login_key,
    pending_arbiters_unknown,
    to_json,
)
from rfctui.entry import Entry, EntryError, InvalidSlug, entry_path, parse_entry
from rfctui.rows import parse_dt
from rfctui.teamfile import TeamSettings, View, parse_team_file, resolve

if TYPE_CHECKING:
    from rfctui.db import Cache

__all__ = [
    "Facts",
    "FactsMemo",
    "QueueResult",
    "build_queue",
    "facts_from_rows",
    "read_facts",
    "read_rows",
]

HeadTexts = Mapping[int, tuple[str, str | None]]

# An entry row: its columns, then the latest activity of any PR on it (stored times
# are RFC 3339 text that sorts chronologically, `rfctui.db.schema.UTCDateTimeField`).
RFC_COLUMNS: Final = (
    "slug, title, state, owners, arbiters, proposed_by, state_since,"
    " last_entry_commit_at, removed, body_sha, pr_activity"
)
PR_COLUMNS: Final = (
    "pr_number, rfc_slug, pr_kind, state, opened_by, opened_at, updated_at, head_sha, title"
)
_RFC_SELECT: Final = (
    "SELECT r.slug AS slug, r.title AS title, r.state AS state, r.owners AS owners,"
    " r.arbiters AS arbiters, r.proposed_by AS proposed_by, r.state_since AS state_since,"
    " r.last_entry_commit_at AS last_entry_commit_at, r.removed AS removed,"
    " r.body_sha AS body_sha, a.act AS pr_activity FROM cached_rfc AS r LEFT JOIN"
    " (SELECT rfc_slug, MAX(COALESCE(updated_at, opened_at)) AS act FROM cached_pr"
    " GROUP BY rfc_slug) AS a ON a.rfc_slug = r.slug"
)
# One statement, one step, one snapshot: entries (with their PRs' latest activity) and
# the open PRs, as one JSON document. Closed PRs count only through that activity.
FACTS_SQL: Final = (
    "SELECT json_object("
    f"'rfcs', (SELECT json_group_array(json_array({RFC_COLUMNS})) FROM ({_RFC_SELECT})),"
    f"'pulls', (SELECT json_group_array(json_array({PR_COLUMNS})) FROM cached_pr"
    " WHERE state = 'open'))"
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the queue is computed from: the cache's facts and the team file's text.

    ``unknown_heads``: open pending ideas whose arbiters are not known (file not
    fetched yet, or unreadable); ``unreadable``: PR number -> one line, for each head
    file that was fetched but is absent or not a valid entry.
    """

    entries: list[EntryFacts]
    pulls: list[PullFacts]
    team_text: str | None = None
    unreadable: dict[int, str] = field(default_factory=dict)
    heads_known: bool = True  # False: this cache cannot tell heads at all (older code)


@dataclass(frozen=True, slots=True)
class QueueResult:
    """One login's queue, what it was computed with, and what to tell the user.

    ``items`` are sorted (`attention_queue`); ``notes`` one line each; ``views`` the
    effective saved views (team, then personal); ``has_roles`` says whether the login
    owns, arbitrates, proposed or opened anything at all (an empty queue for somebody
    with no role is worth saying so: a typo in ``--as``?).
    """

    login: str
    items: list[QueueItem]
    notes: list[str]
    views: tuple[View, ...]
    generated_at: datetime
    thresholds: Thresholds = field(default_factory=Thresholds)
    has_roles: bool = False
    snoozed_hidden: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``rfctui queue --json`` document (`rfctui.attention.to_json`)."""
        return to_json(self.login, self.items, self.generated_at)


def _tuple(text: object, memo: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if not isinstance(text, str) or not text:
        return ()
    got = memo.get(text)
    if got is None:
        try:
            value = json.loads(text)
        except ValueError:
            value = []
        got = tuple(str(v) for v in value if v) if isinstance(value, list) else ()
        memo[text] = got
    return got


def _head_entry(
    number: int, slug: str, text: str | None, unreadable: dict[int, str]
) -> Entry | None:
    """A pending idea's file at its head, or None when it is absent or invalid (then
    nobody can tell who decides; the reason goes to ``unreadable``)."""
    if text is None:
        unreadable[number] = f"pending idea PR #{number} has no rfcs/<slug>.md at its head"
        return None
    try:
        return parse_entry(entry_path(slug), text.encode("utf-8"))
    except (EntryError, InvalidSlug) as exc:
        unreadable[number] = f"pending idea PR #{number}: {exc}"
        return None


class FactsMemo:
    """Records built by an earlier read, by their raw row (`facts_from_rows`).

    Why: building 10,000 `EntryFacts` costs more than reading them, and a sweep changes
    few rows; with a memo the next read rebuilds only what changed (a row's text is its
    key, so a stale record can never be reused) and never parses a head file twice
    (a head sha is its content). Each read keeps only what it saw. And when the cache
    has not changed at all since the last read on the same connection (a snooze, a
    second look), `read_facts` returns the same facts without reading rows. One per
    `Session`; safe across threads (a read swaps whole dictionaries in).
    """

    __slots__ = ("entries", "heads", "last", "pulls")

    def __init__(self) -> None:
        # The cache version the last `read_facts` read, and its result, as one pair (one
        # assignment: a thread never sees one without the other). The version is the
        # connection, SQLite's data_version (moves when another connection commits) and
        # the connection's own total_changes (moves when it writes itself).
        self.last: tuple[tuple[object, int, int], Facts] | None = None
        self.entries: dict[tuple[Any, ...], EntryFacts] = {}
        self.pulls: dict[tuple[Any, ...], PullFacts] = {}
        self.heads: dict[tuple[int, str], tuple[Entry | None, str | None]] = {}


def facts_from_rows(
    rfc_rows: Iterable[Sequence[Any]],
    pr_rows: Iterable[Sequence[Any]],
    heads: HeadTexts | None,
    team_text: str | None = None,
    *,
    memo: FactsMemo | None = None,
) -> Facts:
    """Facts from raw rows (`RFC_COLUMNS` / `PR_COLUMNS`, times as stored text; only
    open PRs count, the others only through an entry's ``pr_activity``).

    ``heads``: pr_number -> (head sha, file text or None if absent) as cached; None
    when the cache keeps no heads (every pending idea's arbiters are then unknown).
    ``memo`` re-uses the records of an earlier call for identical rows.
    """
    old = memo if memo is not None else FactsMemo()
    new = FactsMemo()
    lists: dict[str, tuple[str, ...]] = {}
    entries: list[EntryFacts] = []
    append = entries.append
    for row in rfc_rows:
        # The blob sha stands for everything parsed from the file (§4.2); the rest is
        # what the cache adds. Short keys: hashing them is most of a re-read's cost.
        key = (row[0], row[9], row[6], row[7], row[8], row[10])
        facts = old.entries.get(key)
        if facts is None:
            slug, title, state, owners, arbs, proposed_by, since_text, commit_text, removed = (
                row[:9]
            )
            since = parse_dt(since_text)
            activity = parse_dt(commit_text)
            for other in (since, parse_dt(row[10])):
                if other is not None and (activity is None or other > activity):
                    activity = other
            facts = EntryFacts(
                slug=slug,
                title=title or "",
                state=state or "",
                owners=_tuple(owners, lists),
                arbiters=_tuple(arbs, lists),
                proposed_by=proposed_by,
                state_since=since,
                last_activity=activity,
                removed=bool(removed),
            )
        new.entries[key] = facts
        append(facts)
    unreadable: dict[int, str] = {}
    pulls: list[PullFacts] = []
    for row in pr_rows:
        number, slug, kind, state, opened_by, opened_text, updated_text, head_sha, title = row
        if state != "open":
            continue
        key = tuple(row)
        arbiters: tuple[str, ...] | None = None
        if kind == "idea" and heads is not None:
            cached = heads.get(number)
            if cached is not None and cached[0] == (head_sha or ""):
                head_key = (number, cached[0])
                parsed = old.heads.get(head_key)
                if parsed is None:
                    why: dict[int, str] = {}
                    parsed = (_head_entry(number, slug, cached[1], why), why.get(number))
                new.heads[head_key] = parsed
                entry, reason = parsed
                if reason is not None:
                    unreadable[number] = reason
                if entry is not None:
                    arbiters = tuple(a for a in entry.arbiters if a)
                    title = entry.title or title  # the idea's own title, not "Propose …"
        pull_key = (key, arbiters, title)
        pull = old.pulls.get(pull_key)
        if pull is None:
            opened = parse_dt(opened_text)
            if opened is None:
                continue  # no opening time: nothing can be said about how long it waits
            pull = PullFacts(
                number=number,
                slug=slug,
                kind=kind,
                state="open",
                opened_by=opened_by or "",
                opened_at=opened,
                updated_at=parse_dt(updated_text),
                head_sha=head_sha or "",
                arbiters=arbiters,
                title=title or "",
            )
        new.pulls[pull_key] = pull
        pulls.append(pull)
    if memo is not None:
        memo.entries, memo.pulls, memo.heads = new.entries, new.pulls, new.heads
    return Facts(entries, pulls, team_text, unreadable, heads_known=heads is not None)


def read_rows(conn: sqlite3.Connection) -> tuple[list[list[Any]], list[list[Any]]]:
    """Entry rows and open PR rows (`RFC_COLUMNS`, `PR_COLUMNS`) in one statement."""
    text = conn.execute(FACTS_SQL).fetchone()[0]
    data = json.loads(text) if text else {}

    def part(name: str) -> list[list[Any]]:
        value = data.get(name)  # a subquery's JSON may come back as text
        rows = json.loads(value) if isinstance(value, str) else value
        return rows if isinstance(rows, list) else []

    return part("rfcs"), part("pulls")


def read_facts(cache: Cache, memo: FactsMemo | None = None) -> Facts:
    """Everything the queue needs from ``cache`` (`rfctui.db.Cache`): entries and PRs
    in one statement, then the cached heads and team file when the cache keeps them.
    With a ``memo``, nothing is read again while the cache has not changed."""
    conn = cache.reader().conn
    version: tuple[object, int, int] | None = None
    if memo is not None:
        data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        version = (conn, int(data_version), conn.total_changes)
        last = memo.last
        if last is not None and last[0][0] is conn and last[0][1:] == version[1:]:
            return last[1]
    rfc_rows, pr_rows = read_rows(conn)
    head_texts = getattr(cache, "head_texts", None)
    heads: HeadTexts | None = head_texts() if callable(head_texts) else None
    team_file = getattr(cache, "team_file", None)
    team_text = team_file() if callable(team_file) else None
    facts = facts_from_rows(rfc_rows, pr_rows, heads, team_text, memo=memo)
    if memo is not None and version is not None:
        memo.last = (version, facts)
    return facts


def _has_roles(login: str, facts: Facts) -> bool:
    me = login_key(login)
    if not me:
        return False
    if any(me in e.people_keys for e in facts.entries if not e.removed):
        return True
    return any(
        p.opener_key == me or (p.arbiter_keys is not None and me in p.arbiter_keys)
        for p in facts.pulls
    )


def build_queue(
    facts: Facts,
    login: str,
    *,
    now: datetime,
    personal: Mapping[str, Any] | TeamSettings | None = None,
    snoozes: Iterable[Snooze] = (),
    seen: Mapping[str, datetime] | None = None,
    include_snoozed: bool = False,
) -> QueueResult:
    """``login``'s queue from ``facts`` with the team's and ``personal`` settings."""
    team = parse_team_file(facts.team_text)
    settings = resolve(team, personal)
    notes = list(settings.errors)
    unknown = [n for n in pending_arbiters_unknown(facts.pulls) if n not in facts.unreadable]
    if unknown:
        many = len(unknown) != 1
        why = "not fetched yet" if facts.heads_known else "not known to this cache"
        notes.append(
            f"{len(unknown)} pending idea{'s' if many else ''}' arbiters {why}"
            f" (PR {', '.join(f'#{n}' for n in unknown[:5])}{'…' if len(unknown) > 5 else ''});"
            " the next sync fetches them"
        )
    bad = sorted(facts.unreadable)
    notes.extend(facts.unreadable[n] for n in bad[:3])
    if len(bad) > 3:
        notes.append(f"{len(bad) - 3} more pending ideas' files cannot be read")
    snooze_list = list(snoozes)
    items = attention_queue(
        login, facts.entries, facts.pulls, now=now, thresholds=settings.thresholds,
        snoozes=snooze_list, seen=seen, include_snoozed=include_snoozed,
    )
    hidden = 0
    if snooze_list and not include_snoozed:
        everything = attention_queue(
            login, facts.entries, facts.pulls, now=now, thresholds=settings.thresholds,
            snoozes=snooze_list, seen=None, include_snoozed=True,
        )
        hidden = sum(1 for i in everything if i.snoozed)
    return QueueResult(
        login=login,
        items=items,
        notes=notes,
        views=settings.views,
        generated_at=now,
        thresholds=settings.thresholds,
        has_roles=_has_roles(login, facts),
        snoozed_hidden=hidden,
    )
