"""The attention queue: what is waiting on the verified user (SPEC §9; issue 11).

A pure module in the manner of forge-triage's ``priority.py`` (STYLE §10): plain
records in, plain records out, no Textual, no SQL, no HTTP, no clock of its own. The
cache turns its rows into `EntryFacts` / `PullFacts`; the UI and the CLI show the
`QueueItem`s this returns (and escape their text for their medium: nothing here is
markup-escaped, but every untrusted piece is one line, via `rfctui.text.clean`).

Reasons (the codes are the JSON contract, the words in ``text`` are not), by tier:

- *blocking* — ``decide``: you arbitrate an entry in state ``idea`` (§3), or a pending
  idea (an open ``propose/`` PR, §5) whose file at the PR head names you as arbiter.
  ``review``: an open edit/claim/metadata PR on an entry you own or arbitrate (or
  proposed, while it has no owner: somebody must look at it), opened by someone else
  (the real person, §6.3 ``opened_by``).
- *action* — ``stale``: an entry you own (or proposed, if it has no owner) has been in
  its state longer than that state's threshold (§9: measured from ``state_since``, the
  commit where it entered the state, never from its last edit). ``needs_arbiter``: your
  own idea (proposed or owned by you) or your pending idea names no arbiter.
- *waiting* — ``idle_pr``: your own open PR has had no activity for longer than
  ``Thresholds.idle_pr``.

Rows sort by tier, then by how long they have waited (oldest first), then slug, PR
number and reason, so equal inputs always give the same order. ``since`` is when the
thing started waiting on you: a decision since the idea entered ``idea`` (or the PR
opened), a review since the PR opened, a stale or idle row since it *crossed* its
threshold (so "waited 3 days" means three days over the limit). An entry whose
``state_since`` is not known yet (a cold resync recovers it in the background) cannot be
stale; a decision on it then dates from ``last_activity``, else it has no ``since``
(``age_days`` None) and sorts last in its tier.

A pending idea whose arbiters were not fetched yet (``PullFacts.arbiters is None``)
yields neither ``decide`` nor ``needs_arbiter``: nobody can know who must decide.
`pending_arbiters_unknown` lists those PRs so a caller can say so.

Snoozes and "new since last seen" are personal marks (§9: data directory, never the
cache). A `Snooze` records an item's `QueueItem.key` and its `QueueItem.activity` at
snooze time; the row stays hidden until the item's activity is newer (a new commit,
PR update or state change). ``seen`` maps a slug to when its entry was last opened; a
row is ``new_since_seen`` when its activity is newer than that, or the entry was never
opened; ``seen=None`` (no marks kept) flags nothing.

Cost: one pass over the entries and one over the pull requests, with logins folded
once per record (at construction), so 10,000 entries and 20,000 PRs take a few
milliseconds (``bench/attention_queue.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, Literal

from rfctui.text import clean

__all__ = [
    "DEFAULT_IDLE_PR",
    "DEFAULT_STALE",
    "DEFAULT_STALE_OTHER",
    "REASONS",
    "TIERS",
    "EntryFacts",
    "PullFacts",
    "QueueItem",
    "Snooze",
    "Thresholds",
    "attention_queue",
    "login_key",
    "pending_arbiters_unknown",
    "snooze",
    "to_json",
]

Tier = Literal["blocking", "action", "waiting"]
Reason = Literal["decide", "review", "stale", "needs_arbiter", "idle_pr"]
PrKind = Literal["idea", "meta_body_edit", "meta_claim", "meta_metadata"]

TIERS: Final[tuple[Tier, ...]] = ("blocking", "action", "waiting")
REASONS: Final[Mapping[str, Tier]] = MappingProxyType(
    {
        "decide": "blocking",
        "review": "blocking",
        "stale": "action",
        "needs_arbiter": "action",
        "idle_pr": "waiting",
    }
)
_RANK: Final[dict[str, int]] = {tier: i for i, tier in enumerate(TIERS)}

# §9 defaults: an idea waits a month, a parked entry half a year; an entry at rest in
# an end state is never stale. An unknown state (§3 shows it under "Other") is treated
# like a parked one: someone should look at it eventually.
DEFAULT_STALE: Final[Mapping[str, timedelta | None]] = MappingProxyType(
    {
        "idea": timedelta(days=30),
        "parked": timedelta(days=180),
        "graduated": None,
        "declined": None,
        "superseded": None,
        "withdrawn": None,
    }
)
DEFAULT_STALE_OTHER: Final[timedelta | None] = timedelta(days=180)
DEFAULT_IDLE_PR: Final[timedelta] = timedelta(days=14)

_STATE_ALIASES: Final[dict[str, str]] = {"proposed": "idea"}  # entry.STATE_ALIASES (§3)
_KIND_WORDS: Final[dict[str, str]] = {
    "idea": "idea",
    "meta_body_edit": "body edit",
    "meta_claim": "claim",
    "meta_metadata": "metadata",
}
_DAY_SECONDS: Final[int] = 86_400


def login_key(login: str | None) -> str:
    """How logins compare: lower-cased, as Gitea's ``lower_name`` (§9).

    The same rule as ``rfctui.logins.login_key``; kept here so this module needs
    nothing but ``rfctui.text``.
    """
    return (login or "").lower()


def _state_key(state: str) -> str:
    low = state.strip().lower()
    return _STATE_ALIASES.get(low, low)


def _utc(dt: datetime | None) -> datetime | None:
    """Aware UTC (§2: timestamps are UTC); a naive value is taken to be UTC already."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """What the queue needs of one cached entry (§4.2 cached RFC).

    ``state_since`` is when the entry entered its current state (§9); ``last_activity``
    the latest of its last commit on ``main`` and that state change. Lists may be
    given as lists; they are stored as tuples. ``removed`` entries (deleted out of
    band, §4.1) ask nothing of anyone.
    """

    slug: str
    title: str
    state: str
    owners: tuple[str, ...] = ()
    arbiters: tuple[str, ...] = ()
    proposed_by: str | None = None
    state_since: datetime | None = None
    last_activity: datetime | None = None
    removed: bool = False
    state_key: str = field(init=False, repr=False, compare=False)
    owner_keys: frozenset[str] = field(init=False, repr=False, compare=False)
    arbiter_keys: frozenset[str] = field(init=False, repr=False, compare=False)
    proposer_key: str = field(init=False, repr=False, compare=False)
    people_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _set(self, "owners", tuple(self.owners))
        _set(self, "arbiters", tuple(self.arbiters))
        _set(self, "state_since", _utc(self.state_since))
        _set(self, "last_activity", _utc(self.last_activity))
        _set(self, "state_key", _state_key(self.state))
        _set(self, "owner_keys", frozenset(login_key(o) for o in self.owners if o))
        _set(self, "arbiter_keys", frozenset(login_key(a) for a in self.arbiters if a))
        _set(self, "proposer_key", login_key(self.proposed_by))
        # everyone with a role here: the queue's one test for the common "not you" case
        people = self.owner_keys | self.arbiter_keys | {self.proposer_key}
        _set(self, "people_keys", people)


@dataclass(frozen=True, slots=True)
class PullFacts:
    """What the queue needs of one cached pull request on the meta repo (§4.2, §5).

    ``opened_by`` is the real person (§6.3). ``arbiters`` matters only for a pending
    idea (``kind == "idea"``): the arbiters named by the file at the PR head, or None
    while that file has not been fetched (then no ``decide`` can be computed for it).
    """

    number: int
    slug: str
    kind: str
    state: str
    opened_by: str
    opened_at: datetime
    updated_at: datetime | None = None
    head_sha: str = ""
    arbiters: tuple[str, ...] | None = None
    title: str = ""
    opener_key: str = field(init=False, repr=False, compare=False)
    arbiter_keys: frozenset[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.arbiters is not None:
            _set(self, "arbiters", tuple(self.arbiters))
        _set(self, "opened_at", _utc(self.opened_at))
        _set(self, "updated_at", _utc(self.updated_at))
        _set(self, "opener_key", login_key(self.opened_by))
        keys = None if self.arbiters is None else frozenset(login_key(a) for a in self.arbiters)
        _set(self, "arbiter_keys", keys)

    @property
    def activity(self) -> datetime:
        """The PR's latest activity (an update, a push, a comment)."""
        return self.updated_at or self.opened_at


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How long is too long (§9): per state, for unknown states, and for an idle PR.

    ``stale`` maps a canonical state to a duration, or None for "never stale"; a state
    it does not name uses ``other``. `rfctui.teamfile` builds one from the defaults,
    the team's ``.rfctui.toml`` and the personal configuration.
    """

    stale: Mapping[str, timedelta | None] = field(default_factory=lambda: DEFAULT_STALE)
    other: timedelta | None = DEFAULT_STALE_OTHER
    idle_pr: timedelta = DEFAULT_IDLE_PR

    def stale_after(self, state: str) -> timedelta | None:
        """The threshold for ``state`` (aliases and case folded), None = never stale."""
        key = _state_key(state)
        if key in self.stale:
            return self.stale[key]
        return self.other


@dataclass(frozen=True, slots=True)
class Snooze:
    """A hidden row: its `QueueItem.key` and its `QueueItem.activity` when snoozed."""

    key: str
    activity: datetime | None

    def __post_init__(self) -> None:
        _set(self, "activity", _utc(self.activity))


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueItem:
    """One thing waiting on the user. `to_json` writes the contract's fields only.

    ``key`` identifies the item across sweeps (for a `Snooze`); ``activity`` is the
    latest activity of its entry or PR; ``title`` is the entry's (or pending idea's)
    title, one line, for the UI's own column.
    """

    slug: str
    reason: str
    tier: Tier
    text: str
    since: datetime | None
    age_days: int | None
    pr_number: int | None
    snoozed: bool
    new_since_seen: bool
    key: str
    activity: datetime | None
    title: str


def snooze(item: QueueItem) -> Snooze:
    """The mark that hides ``item`` until its entry or PR moves again."""
    return Snooze(item.key, item.activity)


def pending_arbiters_unknown(pulls: Iterable[PullFacts]) -> list[int]:
    """Open pending ideas whose arbiters are not known yet (so no ``decide`` for them)."""
    return sorted(
        p.number for p in pulls if p.kind == "idea" and p.state == "open" and p.arbiters is None
    )


def _span(td: timedelta) -> str:
    """A threshold in words: "30 days", "1 day", "12 hours"."""
    secs = int(td.total_seconds())
    if secs % _DAY_SECONDS == 0:
        days = secs // _DAY_SECONDS
        return f"{days} day" if days == 1 else f"{days} days"
    hours = max(secs // 3600, 1)
    return f"{hours} hour" if hours == 1 else f"{hours} hours"


def _line(s: str) -> str:
    """`clean` with a fast path: most titles and logins are already plain one-liners.

    ``isprintable`` is False for every character ``clean`` removes or replaces (ESC,
    C0/C1, bidi controls, tab, newline), so such text, or doubled or edge spaces,
    goes through ``clean``; anything else would come back unchanged.
    """
    if s.isprintable() and "  " not in s and s.strip() == s:
        return s
    return clean(s)


def _kind_words(kind: str) -> str:
    """A PR kind (§5) in words; a kind this module does not know, cleaned."""
    return _KIND_WORDS.get(kind) or _line(kind) or "?"


def _days(td: timedelta) -> int:
    return max(int(td.total_seconds()) // _DAY_SECONDS, 0)


class _Builder:
    """Collects rows for one login, applying snoozes and last-seen marks."""

    __slots__ = ("include_snoozed", "items", "now", "seen", "snoozes")

    def __init__(
        self,
        now: datetime,
        snoozes: Mapping[str, datetime | None],
        seen: Mapping[str, datetime] | None,
        include_snoozed: bool,
    ) -> None:
        self.now = now
        self.snoozes = snoozes
        self.seen = seen
        self.include_snoozed = include_snoozed
        self.items: list[QueueItem] = []

    def add(
        self,
        reason: Reason,
        slug: str,
        title: str,
        text: str,
        since: datetime | None,
        activity: datetime | None,
        pr_number: int | None = None,
    ) -> None:
        key = f"{reason}:{slug}" if pr_number is None else f"{reason}:{slug}#{pr_number}"
        snoozed = False
        if key in self.snoozes:
            at = self.snoozes[key]
            # Back only on *newer* activity; snoozed while none was known, any shows it.
            snoozed = activity is None or (at is not None and activity <= at)
            if snoozed and not self.include_snoozed:
                return
        new = False
        if self.seen is not None:
            last = _utc(self.seen.get(slug))
            new = last is None or (activity is not None and activity > last)
        age = None if since is None else _days(self.now - since)
        self.items.append(
            QueueItem(
                slug=slug,
                reason=reason,
                tier=REASONS[reason],
                text=text,
                since=since,
                age_days=age,
                pr_number=pr_number,
                snoozed=snoozed,
                new_since_seen=new,
                key=key,
                activity=activity,
                title=_line(title),
            )
        )


def _sort_key(item: QueueItem) -> tuple[int, bool, float, str, int, str]:
    since = item.since.timestamp() if item.since is not None else 0.0
    pr = item.pr_number if item.pr_number is not None else -1
    return (_RANK[item.tier], item.since is None, since, item.slug, pr, item.reason)


def attention_queue(
    login: str | None,
    entries: Iterable[EntryFacts],
    pulls: Iterable[PullFacts],
    *,
    now: datetime,
    thresholds: Thresholds | None = None,
    snoozes: Iterable[Snooze] = (),
    seen: Mapping[str, datetime] | None = None,
    include_snoozed: bool = False,
) -> list[QueueItem]:
    """Everything waiting on ``login``, sorted (module docstring for the rules).

    An empty or missing login (no verified identity, §6.2) gets an empty queue.
    ``include_snoozed`` keeps snoozed rows (marked ``snoozed``) instead of hiding them.
    """
    me = login_key(login)
    if not me:
        return []
    now_utc = _utc(now)
    assert now_utc is not None
    limits = thresholds if thresholds is not None else Thresholds()
    marks: dict[str, datetime | None] = {}
    for mark in snoozes:  # the same key snoozed twice: the later activity counts
        old = marks.get(mark.key)
        if old is None or (mark.activity is not None and mark.activity > old):
            marks[mark.key] = mark.activity
    out = _Builder(now_utc, marks, seen, include_snoozed)

    watched: dict[str, EntryFacts] = {}  # entries whose PRs you review
    for e in entries:
        if me not in e.people_keys or e.removed:
            continue
        arbiter = me in e.arbiter_keys
        owner = me in e.owner_keys
        proposer = e.proposer_key == me
        activity = e.last_activity or e.state_since
        responsible = owner or (proposer and not e.owner_keys)
        if arbiter or responsible:
            watched[e.slug] = e
        if e.state_key == "idea":
            if arbiter:
                out.add(
                    "decide",
                    e.slug,
                    e.title,
                    "arbiter: decide on this idea",
                    e.state_since or e.last_activity,
                    activity,
                )
            if (owner or proposer) and not e.arbiter_keys:
                out.add(
                    "needs_arbiter",
                    e.slug,
                    e.title,
                    "needs an arbiter: your idea names none",
                    e.state_since or e.last_activity,
                    activity,
                )
        if responsible and e.state_since is not None:
            limit = limits.stale_after(e.state)
            if limit is not None and now_utc - e.state_since > limit:
                known = e.state_key in DEFAULT_STALE  # "proposed" reads as "idea" (§3)
                state = e.state_key if known else (_line(e.state) or "?")
                text = (
                    f"stale: {state} for {_days(now_utc - e.state_since)} days"
                    f" (limit {_span(limit)})"
                )
                out.add("stale", e.slug, e.title, text, e.state_since + limit, activity)

    idle = limits.idle_pr
    idle_before = now_utc - idle  # idle: no activity since then
    for p in pulls:
        if p.state != "open":
            continue
        mine = p.opener_key == me
        if mine:
            activity = p.updated_at or p.opened_at
            if activity < idle_before:
                text = (
                    f"idle: your {_kind_words(p.kind)} PR #{p.number} has had no activity"
                    f" for {_days(now_utc - activity)} days"
                )
                out.add("idle_pr", p.slug, p.title, text, activity + idle, activity, p.number)
        if p.kind == "idea":
            keys = p.arbiter_keys
            if keys is None:
                continue  # not fetched yet: pending_arbiters_unknown reports it
            if me in keys:
                who = _line(p.opened_by) or "?"
                text = f"arbiter: decide on the proposed idea (PR #{p.number} by {who})"
                out.add("decide", p.slug, p.title, text, p.opened_at, p.activity, p.number)
            elif mine and not keys:
                text = f"needs an arbiter: your proposed idea (PR #{p.number}) names none"
                out.add("needs_arbiter", p.slug, p.title, text, p.opened_at, p.activity, p.number)
        elif not mine and p.slug in watched:
            who = _line(p.opened_by) or "?"
            text = f"review: {_kind_words(p.kind)} PR #{p.number} by {who}"
            title = watched[p.slug].title
            out.add("review", p.slug, title, text, p.opened_at, p.activity, p.number)

    out.items.sort(key=_sort_key)
    return out.items


def _stamp(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    aware = _utc(dt)
    assert aware is not None
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(login: str, items: Sequence[QueueItem], generated_at: datetime) -> dict[str, Any]:
    """The ``--json`` shape of the queue: ``schema`` 1, the login as given, UTC times.

    Strings are not escaped here (``rfctui.text.emit_json`` makes the raw text
    terminal-safe); ``since`` and ``age_days`` are null when the start is unknown.
    """
    return {
        "schema": 1,
        "login": login,
        "generated_at": _stamp(generated_at),
        "items": [
            {
                "slug": item.slug,
                "reason": item.reason,
                "tier": item.tier,
                "text": item.text,
                "since": _stamp(item.since),
                "age_days": item.age_days,
                "pr_number": item.pr_number,
                "snoozed": item.snoozed,
                "new_since_seen": item.new_since_seen,
            }
            for item in items
        ],
    }
