"""The weekly digest (issue 12 §4): what happened to the RFC process in a window, as the
"proposal minutes" a chair pastes. Textual-free, no HTTP: it reads the cache only.

Sources (all stored by the sweeps and the history walk, `rfctui.db.history_store`):

- *state changes* and *new entries*: the entries' stored commit lists on ``main``
  through `rfctui.timeline.build_timeline` (one rule set for "what a commit did" and
  "who did it"): the person is §6.3/§10's (`rfctui.attribution.attribute`: the author
  unless the bot; else the actions log row of the PR the commit merged; else the final
  trailer block's ``On-behalf-of:``; else the bot) — the bot never stands for a person
  it acted for. An entry created in the window whose list was never read is still told
  when its ``propose/`` PR was merged in the window (its person: the PR's ``opened_by``).
- *new ideas*: open ``propose/`` PRs opened in the window (``opened_by``, §6.3);
- *merged edits*: body, claim and metadata PRs merged in the window (``opened_by``);
- *stale*: live entries longer in their state than its threshold (§9: the queue's own
  `rfctui.attention.Thresholds`, team file and personal settings applied by the caller);
- *people*: per real person, how many of each of the above they did.

Offline on purpose: an entry that changed on ``main`` in the window but whose commit
list is not stored up to its last commit (the history walk skips resting states; a
sweep since moved it) is not fetched here — a note says how many, so the chair knows the
state changes may be incomplete (`rfctui log SLUG` fetches one entry's list).

Text is raw in `Digest` (other people's): `markdown` escapes it for a pasted post and
the CLI writes every line through `rfctui.text.emit` / `emit_json` (§7.4, §11).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rfctui.attention import Thresholds
from rfctui.db.history_store import (
    StoredCommit,
    exact_slugs,
    history_tasks,
    stored_commits,
)
from rfctui.db.schema import dict_rows, tuple_rows
from rfctui.entry import EntryError, InvalidSlug, entry_path, parse_entry
from rfctui.logins import login_key
from rfctui.rows import PRRow, format_dt, parse_dt
from rfctui.text import one_line
from rfctui.timeline import build_timeline

if TYPE_CHECKING:
    from rfctui.db import Cache

__all__ = [
    "SCHEMA",
    "Digest",
    "Entered",
    "Person",
    "Pull",
    "Stale",
    "StateChange",
    "build_digest",
    "markdown",
    "md_escape",
    "read_digest",
]

SCHEMA = 1
EDIT_KINDS = ("meta_body_edit", "meta_claim", "meta_metadata")
_KIND_WORDS = {"meta_body_edit": "body edit", "meta_claim": "claim",
               "meta_metadata": "metadata", "idea": "idea"}
_LIST_LIMIT = 5  # slugs named in a note


def _at(dt: datetime | None) -> str | None:
    return format_dt(dt) if dt is not None else None


@dataclass(frozen=True, slots=True)
class StateChange:
    """An entry entered state `new` (from `old`; None when its history was not read).
    `actor` "" (JSON null): not known offline — a sweep saw the change, the history
    walk has not read who made it."""

    slug: str
    title: str
    old: str | None
    new: str
    at: datetime | None
    actor: str
    pr_number: int | None = None
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "old": self.old, "new": self.new,
                "at": _at(self.at), "actor": self.actor or None,
                "pr_number": self.pr_number, "commit": self.commit}


@dataclass(frozen=True, slots=True)
class Pull:
    """A new idea (open ``propose/`` PR) or a merged edit."""

    number: int
    slug: str
    kind: str
    title: str
    actor: str
    at: datetime | None  # opened (new idea) or merged (merged edit)
    url: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"pr_number": self.number, "slug": self.slug, "kind": self.kind,
                "title": self.title, "actor": self.actor, "at": _at(self.at),
                "url": self.url}


@dataclass(frozen=True, slots=True)
class Entered:
    """An entry created on ``main`` in the window."""

    slug: str
    title: str
    state: str | None
    at: datetime | None
    actor: str
    pr_number: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "state": self.state,
                "at": _at(self.at), "actor": self.actor, "pr_number": self.pr_number}


@dataclass(frozen=True, slots=True)
class Stale:
    slug: str
    title: str
    state: str
    since: datetime
    days: int
    owners: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "state": self.state,
                "since": format_dt(self.since), "days": self.days,
                "owners": list(self.owners)}


@dataclass(slots=True)
class Person:
    """What one real person did in the window (logins compared case-blind)."""

    login: str
    state_changes: int = 0
    new_ideas: int = 0
    merged: int = 0
    new_entries: int = 0
    commits: int = 0  # other commits on main: edits not through a listed PR

    @property
    def total(self) -> int:
        return self.state_changes + self.new_ideas + self.merged + self.new_entries + self.commits

    def to_json(self) -> dict[str, Any]:
        return {"login": self.login, "state_changes": self.state_changes,
                "new_ideas": self.new_ideas, "merged": self.merged,
                "new_entries": self.new_entries, "commits": self.commits}


@dataclass(frozen=True, slots=True)
class Digest:
    since: datetime
    until: datetime
    state_changes: tuple[StateChange, ...] = ()
    new_ideas: tuple[Pull, ...] = ()
    merged: tuple[Pull, ...] = ()
    new_entries: tuple[Entered, ...] = ()
    stale: tuple[Stale, ...] = ()
    people: tuple[Person, ...] = ()
    notes: tuple[str, ...] = ()
    synced_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "since": format_dt(self.since), "until": format_dt(self.until),
            "synced_at": _at(self.synced_at), "notes": list(self.notes),
            "state_changes": [x.to_json() for x in self.state_changes],
            "new_ideas": [x.to_json() for x in self.new_ideas],
            "merged": [x.to_json() for x in self.merged],
            "new_entries": [x.to_json() for x in self.new_entries],
            "stale": [x.to_json() for x in self.stale],
            "people": [x.to_json() for x in self.people],
        }


@dataclass(frozen=True, slots=True)
class EntryRow:
    """What the digest needs of one cached entry."""

    slug: str
    title: str
    state: str
    removed: bool
    state_since: datetime | None
    last_commit_at: datetime | None
    last_commit_sha: str | None
    owners: tuple[str, ...] = ()
    graduated_by: str | None = None
    exact: bool = False  # state_since is the observed change (`history_store.exact_slugs`)


@dataclass(slots=True)
class _People:
    by_key: dict[str, Person] = field(default_factory=dict)

    def get(self, login: str) -> Person:
        key = login_key(login)
        if key not in self.by_key:
            self.by_key[key] = Person(login)
        return self.by_key[key]


def _inside(at: datetime | None, since: datetime, until: datetime) -> bool:
    return at is not None and since <= at <= until


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def build_digest(
    *,
    since: datetime,
    until: datetime,
    entries: Sequence[EntryRow],
    pulls: Sequence[PRRow],
    commits: Mapping[str, Sequence[StoredCommit]],
    heads: Mapping[int, str],
    bot_login: str,
    actors: Mapping[tuple[str, int], str] | None = None,
    thresholds: Thresholds | None = None,
    pending_history: int = 0,
    synced_at: datetime | None = None,
    idea_titles: Mapping[int, str] | None = None,
) -> Digest:
    """The digest of ``[since, until]`` (pure; `read_digest` gathers the inputs).

    `commits`: stored commit lists (newest first) of the entries that changed in the
    window; `heads`: PR number -> its last head sha; `pending_history`: entries whose
    time in state is not exact yet (`history_tasks`); `idea_titles`: a pending idea's
    title from its file at the PR head (else the PR's title, which the bot composed).
    """
    limits = thresholds if thresholds is not None else Thresholds()
    people = _People()
    by_slug: dict[str, list[PRRow]] = {}
    for pr in pulls:
        by_slug.setdefault(pr.slug, []).append(pr)
    titles = {e.slug: e.title for e in entries}

    changes: list[StateChange] = []
    created: dict[str, Entered] = {}
    incomplete: list[str] = []
    for e in entries:
        listed = commits.get(e.slug)
        changed = _inside(e.last_commit_at, since, until)
        if changed and (not listed or (e.last_commit_sha and listed[0].sha != e.last_commit_sha)):
            incomplete.append(e.slug)
            observed = _observed(e, since, until)
            if observed is not None and not any(
                (c.new, c.at) == (e.state, e.state_since) for c in _changes_of(listed, e)
            ):
                changes.append(observed)
                if observed.actor:
                    people.get(observed.actor).state_changes += 1
        if not listed:
            continue
        if e.slug not in incomplete and any(
            not c.read and _inside(c.at, since, until) for c in listed
        ):  # the walk stopped before this commit: a state change here is not known
            incomplete.append(e.slug)
        prs = by_slug.get(e.slug, [])
        own_heads = {heads[p.number]: p.number for p in prs if p.number in heads}
        timeline = build_timeline(e.slug, listed, prs, bot_login, actors or {}, own_heads)
        index = {c.sha: i for i, c in enumerate(listed)}
        for ev in timeline.events:
            if ev.commit is None or not _inside(ev.at, since, until):
                continue
            i = index[ev.commit]
            if ev.kind == "state_change":
                new = listed[i].state_after or ""
                old = listed[i + 1].state_after if i + 1 < len(listed) else None
                changes.append(StateChange(e.slug, e.title, old, new, ev.at, ev.actor,
                                           ev.pr_number, ev.commit))
                people.get(ev.actor).state_changes += 1
            elif ev.kind == "created":
                created[e.slug] = Entered(e.slug, e.title, listed[i].state_after, ev.at,
                                          ev.actor, ev.pr_number)
                people.get(ev.actor).new_entries += 1
            elif ev.pr_number is None:
                people.get(ev.actor).commits += 1

    ideas: list[Pull] = []
    merged: list[Pull] = []
    for pr in pulls:
        if pr.kind == "idea" and pr.state == "open" and _inside(pr.opened_at, since, until):
            title = (idea_titles or {}).get(pr.number) or pr.title
            ideas.append(Pull(pr.number, pr.slug, pr.kind, title, pr.opened_by,
                              pr.opened_at, pr.html_url))
            people.get(pr.opened_by).new_ideas += 1
        merged_at = pr.merged_at or pr.closed_at
        if pr.state != "merged" or not _inside(merged_at, since, until):
            continue
        if pr.kind in EDIT_KINDS:
            merged.append(Pull(pr.number, pr.slug, pr.kind, pr.title, pr.opened_by,
                               merged_at, pr.html_url))
            people.get(pr.opened_by).merged += 1
        elif pr.kind == "idea" and pr.slug not in created and pr.slug not in commits:
            # Its commit list was never read: the merged proposal says it was created.
            created[pr.slug] = Entered(pr.slug, titles.get(pr.slug, pr.title), "idea",
                                       merged_at, pr.opened_by, pr.number)
            people.get(pr.opened_by).new_entries += 1

    stale: list[Stale] = []
    for e in entries:
        if e.removed or e.state_since is None:
            continue
        limit = limits.stale_after(e.state)
        if limit is not None and until - e.state_since > limit:
            days = (until - e.state_since).days
            stale.append(Stale(e.slug, e.title, e.state, e.state_since, days, e.owners))

    notes: list[str] = []
    if synced_at is None:
        notes.append("the cache has never been synced: run rfctui --sync first")
    if incomplete:
        named = ", ".join(sorted(incomplete)[:_LIST_LIMIT])
        more = "…" if len(incomplete) > _LIST_LIMIT else ""
        notes.append(
            f"{_plural(len(incomplete), 'entry', 'entries')} changed in this window without"
            f" its history read ({named}{more}): state changes and new entries may be"
            " incomplete (rfctui log SLUG reads one entry's history)"
        )
    if pending_history:
        notes.append(
            f"time in state is not exact yet for {_plural(pending_history, 'entry', 'entries')}"
            " (the history walk has not finished): the stale list may be short"
        )
    order = sorted(people.by_key.values(), key=lambda p: (-p.total, login_key(p.login)))
    return Digest(
        since=since, until=until,
        state_changes=tuple(sorted(changes, key=_newest)),
        new_ideas=tuple(sorted(ideas, key=_newest)),
        merged=tuple(sorted(merged, key=_newest)),
        new_entries=tuple(sorted(created.values(), key=_newest)),
        stale=tuple(sorted(stale, key=lambda s: (-s.days, s.slug))),
        people=tuple(order), notes=tuple(notes), synced_at=synced_at,
    )


def _changes_of(listed: Sequence[StoredCommit] | None, e: EntryRow) -> list[StateChange]:
    """The state changes a (partial) stored list already tells, as (new, at) pairs."""
    out: list[StateChange] = []
    for i, c in enumerate(listed or ()):
        before = listed[i + 1] if listed is not None and i + 1 < len(listed) else None
        if (c.read and before is not None and before.read and c.state_after
                and c.state_after != before.state_after):
            out.append(StateChange(e.slug, e.title, before.state_after, c.state_after,
                                   c.at, ""))
    return out


def _observed(e: EntryRow, since: datetime, until: datetime) -> StateChange | None:
    """A state change the cache knows without the entry's history: a sweep saw the
    entry enter its state (``exact``), or it graduated (``graduated_at`` is its
    ``state_since``, ``graduated_by`` the person, §3). Never a guess from the last
    commit's time alone (a typo fix is not a state change)."""
    if e.removed or not _inside(e.state_since, since, until):
        return None
    graduated = e.state == "graduated" and e.graduated_by
    if not (e.exact or graduated):
        return None
    return StateChange(e.slug, e.title, None, e.state, e.state_since,
                       (e.graduated_by or "") if graduated else "")


def _newest(x: StateChange | Pull | Entered) -> tuple[float, str]:
    return (-(x.at.timestamp() if x.at is not None else 0.0), x.slug)


def _dt(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return parse_dt(value) if isinstance(value, str) else None


def read_digest(
    cache: Cache,
    *,
    since: datetime,
    until: datetime,
    bot_login: str,
    actors: Mapping[tuple[str, int], str] | None = None,
    thresholds: Thresholds | None = None,
) -> Digest:
    """`build_digest` from the cache: a few queries, no network."""
    r = cache.CachedRFC
    exact = exact_slugs(cache)
    entries = [
        EntryRow(slug, title, state, bool(removed), _dt(ss), _dt(last_at),
                 str(last_sha) if last_sha else None, tuple(owners or ()),
                 grad_by or None, slug in exact)
        for slug, title, state, removed, ss, last_at, last_sha, owners, grad_by in tuple_rows(
            r.select(r.slug, r.title, r.state, r.removed, r.state_since,
                     r.last_entry_commit_at, r.last_commit_sha, r.owners, r.graduated_by)
        )
    ]
    m = cache.CachedPR
    rows = {  # every PR, without its description (the one large column)
        int(row["pr_number"]): row
        for row in dict_rows(m.select(
            m.pr_number, m.rfc_slug, m.pr_kind, m.title, m.state, m.opened_by,
            m.user_login, m.opened_at, m.merged_at, m.closed_at, m.updated_at,
            m.head_branch, m.head_sha, m.html_url,
        ))
    }
    pulls = [_pr(row) for row in rows.values()]
    heads = {n: str(row["head_sha"]) for n, row in rows.items() if row.get("head_sha")}
    changed = [e.slug for e in entries if _inside(e.last_commit_at, since, until)]
    status = cache.sync_status()
    titles: dict[int, str] = {}
    fresh = {p.number for p in pulls if p.kind == "idea" and p.state == "open"
             and _inside(p.opened_at, since, until)}
    if fresh:
        for number, (_sha, text) in cache.head_texts().items():
            if number in fresh and text is not None:
                title = _head_title(rows[number].get("rfc_slug"), text)
                if title:
                    titles[number] = title
    return build_digest(
        since=since, until=until, entries=entries, pulls=pulls,
        commits=stored_commits(cache, changed), heads=heads, bot_login=bot_login,
        actors=actors, thresholds=thresholds, pending_history=len(history_tasks(cache)),
        synced_at=status.synced_at, idea_titles=titles,
    )


def _head_title(slug: object, text: str) -> str | None:
    """The title a proposal's file gives itself (None when it cannot be read)."""
    try:
        return parse_entry(entry_path(str(slug)), text.encode()).title
    except (EntryError, InvalidSlug, ValueError):
        return None


def _pr(row: Mapping[str, Any]) -> PRRow:
    return PRRow(
        number=int(row["pr_number"]), kind=str(row["pr_kind"]), state=str(row["state"]),
        title=str(row.get("title") or ""), opened_by=str(row.get("opened_by") or ""),
        opened_at=_dt(row.get("opened_at")), merged_at=_dt(row.get("merged_at")),
        closed_at=_dt(row.get("closed_at")), updated_at=_dt(row.get("updated_at")),
        head_branch=str(row.get("head_branch") or ""), html_url=str(row.get("html_url") or ""),
        slug=str(row.get("rfc_slug") or ""), user_login=row.get("user_login"),
    )


# ---------------------------------------------------------------- markdown (a post)

# Any ASCII punctuation character may be backslash-escaped in CommonMark (and GFM).
# Escaped: every one that can open something inline — a link, an image, an autolink
# (``http\:``, ``www\.``), an HTML tag or entity, emphasis, code, strikethrough, a table
# cell, a mention, math — or a block (``#``, ``>``, ``+``, ``*``, a numbered item). Left
# alone, for a readable post: ``- , ; ? = ' "``, inert inside a line (a title never
# starts one: it always follows the bullet and the slug).
_MD_SPECIAL = frozenset("!#$%&()*+./:<>@[\\]^_`{|}~")


def md_escape(text: str | None, limit: int = 200) -> str:
    """Untrusted text as one line of inert markdown: control characters and escape
    sequences removed, bidi controls shown as U+FFFD (`rfctui.text.one_line`), and
    every markdown-active punctuation character backslash-escaped (`_MD_SPECIAL`)."""
    return "".join(f"\\{ch}" if ch in _MD_SPECIAL else ch for ch in one_line(text, limit))


def _day(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d") if dt is not None else "?"


def _slug(slug: str) -> str:
    return f"`{slug}`"  # validated slugs (a-z, 0-9, -): safe in a code span


def _who(login: str) -> str:
    return md_escape(login, 80) or "unknown"


def _section(title: str, lines: Iterable[str]) -> list[str]:
    body = list(lines)
    return [f"## {title} ({len(body)})", "", *(body or ["- none"]), ""]


def markdown(d: Digest) -> list[str]:
    """The digest as markdown lines a chair can paste (headings, bullet lists); every
    piece of other people's text through `md_escape`."""
    out = [f"# RFC digest: {_day(d.since)} to {_day(d.until)}", ""]
    synced = d.synced_at.strftime("last synced %Y-%m-%d %H:%M UTC") if d.synced_at else (
        "never synced")
    out += [f"_From the rfctui cache, {synced}._", ""]
    # Notes are ours (counts, words and validated slugs): inert as they are.
    out += [f"> Note: {one_line(n, 500)}" for n in d.notes]
    if d.notes:
        out.append("")
    out += _section("State changes", (
        f"- {_slug(c.slug)} {md_escape(c.title)}: {md_escape(c.old or '?', 60)} → "
        f"{md_escape(c.new, 60)}, {_day(c.at)}, "
        + (f"by {_who(c.actor)}" if c.actor else "by someone (history not read yet)")
        + (f" (#{c.pr_number})" if c.pr_number is not None else "")
        for c in d.state_changes
    ))
    out += _section("New ideas", (
        f"- {_slug(p.slug)} {md_escape(p.title)}: proposed by {_who(p.actor)},"
        f" {_day(p.at)} (#{p.number})"
        for p in d.new_ideas
    ))
    out += _section("Merged edits", (
        f"- #{p.number} {_KIND_WORDS.get(p.kind, md_escape(p.kind, 40))} on {_slug(p.slug)}:"
        f" {md_escape(p.title)}, by {_who(p.actor)}, merged {_day(p.at)}"
        for p in d.merged
    ))
    out += _section("New entries", (
        f"- {_slug(e.slug)} {md_escape(e.title)}"
        + (f" ({md_escape(e.state, 60)})" if e.state else "")
        + f", {_day(e.at)}, by {_who(e.actor)}"
        for e in d.new_entries
    ))
    out += _section("Stale", (
        f"- {_slug(s.slug)} {md_escape(s.title)}: {md_escape(s.state, 60)} for {s.days} days"
        f" (since {_day(s.since)})"
        + (f"; owners: {', '.join(_who(o) for o in s.owners)}" if s.owners else "; unclaimed")
        for s in d.stale
    ))
    out += _section("Who did what", (f"- {_who(p.login)}: {_counts(p)}" for p in d.people))
    while out and out[-1] == "":
        out.pop()
    return out


def _counts(p: Person) -> str:
    parts = [
        (p.state_changes, "state change", "state changes"),
        (p.new_ideas, "new idea", "new ideas"),
        (p.merged, "merged edit", "merged edits"),
        (p.new_entries, "new entry", "new entries"),
        (p.commits, "other commit", "other commits"),
    ]
    return ", ".join(_plural(n, one, many) for n, one, many in parts if n)
