"""The life of one entry (issue 12 §2): its commits on ``main`` and its pull requests,
newest first, each with the real person behind it. Textual-free and offline: it reads
only the cache (the commit list the history walk stored, `rfctui.db.history_store`, and
the cached PR rows); `rfctui.session.Session.timeline` fetches that list once when absent.

Who (SPEC §6.3, through `rfctui.attribution.attribute`, never a second copy of the
rules): a commit's author login unless it is the bot's (any case); else the actions
log row for (slug, PR the commit merged); else the final trailer block's
``On-behalf-of:``; else the bot. A PR's person is the cached ``opened_by`` (the same
chain, applied by the sweep).

What (decisions, SPEC leaves them open):

- the oldest listed commit is ``created``; a commit whose state is known and differs
  from the previous known one is ``state_change`` (summary ``old → new``);
- otherwise a commit that came from one of the entry's PRs (the PR's head commit, or
  ``(#N)`` in its first line, Gitea's merge message) says what the PR kind changes:
  ``edit/`` -> ``body_edit``, ``metadata/`` and ``claim/`` -> ``metadata_edit``;
  anything else is ``edited``
  (bodies of old versions are never read, so nothing finer is claimed);
- a PR gives ``pr_opened`` and, once it ended, ``pr_merged`` or ``pr_closed``; the
  person of each is the PR's (Gitea does not say who merged in the PR row we keep).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rfctui.attribution import attribute
from rfctui.db.history_store import StoredCommit, stored_commits
from rfctui.entry import validate_slug
from rfctui.rows import PRRow, format_dt
from rfctui.text import one_line

if TYPE_CHECKING:
    from rfctui.db import Cache

__all__ = ["KINDS", "Event", "Timeline", "build_timeline", "read_timeline"]

SCHEMA = 1
KINDS = (
    "created", "state_change", "body_edit", "metadata_edit", "edited",
    "pr_opened", "pr_merged", "pr_closed",
)
_PR_REF = re.compile(r"\(#(\d+)\)")
_KIND_OF_PR = {  # pr_kind (`rfctui.entry.PR_KINDS`) -> what its commit on main changed
    "meta_body_edit": "body_edit", "meta_metadata": "metadata_edit",
    "meta_claim": "metadata_edit",
}


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the timeline. Text fields are raw (other people's text): the
    caller escapes them on the way out (`rfctui.text.emit`)."""

    at: datetime | None
    kind: str
    actor: str
    summary: str
    pr_number: int | None = None
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_dt(self.at) if self.at is not None else None,
            "kind": self.kind, "actor": self.actor, "summary": self.summary,
            "pr_number": self.pr_number, "commit": self.commit,
        }


@dataclass(frozen=True, slots=True)
class Timeline:
    """An entry's events, newest first. `history_known`: the commit list was stored
    (False: only the PRs could be told)."""

    slug: str
    events: tuple[Event, ...]
    history_known: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "slug": self.slug,
                "events": [e.to_json() for e in self.events]}


def _first_line(message: str) -> str:
    for line in message.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _merged_pr(
    sha: str, message: str, prs: Mapping[int, PRRow], heads: Mapping[str, int]
) -> int | None:
    """The entry's PR a commit on main came from: the PR's head commit itself (a
    fast-forward), else Gitea's merge message ``... (#N) ...``."""
    if sha in heads:
        return heads[sha]
    match = _PR_REF.search(_first_line(message))
    if match is None:
        return None
    number = int(match.group(1))
    return number if number in prs else None


def _commit_events(
    slug: str,
    commits: Sequence[StoredCommit],
    prs: Mapping[int, PRRow],
    bot_login: str,
    actors: Mapping[tuple[str, int], str],
    heads: Mapping[str, int],
) -> list[Event]:
    out: list[Event] = []
    oldest = len(commits) - 1
    for i, c in enumerate(commits):  # newest first
        pr = _merged_pr(c.sha, c.message, prs, heads)
        author = c.author_login or c.committer_login

        def logged(pr: int | None = pr) -> str | None:
            return actors.get((slug, pr)) if pr is not None else None

        actor = attribute(author, bot_login, c.message, logged)
        if author is None and actor == bot_login:  # no account and nothing said: the name
            actor = c.author_name or "unknown"
        title = one_line(_first_line(c.message), 200)
        before = commits[i + 1] if i < oldest else None
        state = c.state_after if c.read else None
        old = before.state_after if before is not None and before.read else None
        if before is None:
            kind, summary = "created", f"created as {state}" if state else title
        elif state and old and state != old:
            kind, summary = "state_change", f"{old} → {state}"
        elif pr is not None and prs[pr].kind in _KIND_OF_PR:
            kind, summary = _KIND_OF_PR[prs[pr].kind], title
        elif c.read and before.read and state is None and old:
            kind, summary = "edited", f"removed or malformed ({old} before)"
        else:
            kind, summary = "edited", title
        out.append(Event(c.at, kind, actor, summary, pr, c.sha))
    return out


def _pr_events(pr: PRRow) -> list[Event]:
    what = one_line(f"{pr.kind}: {pr.title}", 200)
    out = [Event(pr.opened_at, "pr_opened", pr.opened_by, what, pr.number)]
    if pr.state == "merged":
        out.append(Event(pr.merged_at or pr.closed_at, "pr_merged", pr.opened_by, what,
                         pr.number))
    elif pr.state == "closed":
        out.append(Event(pr.closed_at, "pr_closed", pr.opened_by, what, pr.number))
    return out


def build_timeline(
    slug: str,
    commits: Sequence[StoredCommit] | None,
    prs: Sequence[PRRow],
    bot_login: str,
    actors: Mapping[tuple[str, int], str] | None = None,
    heads: Mapping[str, int] | None = None,
) -> Timeline:
    """The timeline from what is stored (pure). `commits` newest first (None: never
    fetched); `actors` is the actions log's (slug, PR) -> person; `heads` a PR's last
    head commit -> its number."""
    validate_slug(slug)
    by_number = {p.number: p for p in prs}
    listed = _commit_events(slug, commits or (), by_number, bot_login, actors or {},
                            heads or {})
    n = len(listed)
    # (event, order): a larger order reads first at the same instant. Commits keep
    # Gitea's order (newest first) among themselves; an ended PR reads before them, an
    # opened one after.
    keyed = [(e, n - i) for i, e in enumerate(listed)]
    for pr in prs:
        keyed.extend((e, -1 if e.kind == "pr_opened" else n + 1) for e in _pr_events(pr))
    keyed.sort(key=lambda k: (k[0].at is not None, k[0].at or datetime.min, k[1]),
               reverse=True)  # newest first; without a time last
    return Timeline(slug, tuple(e for e, _ in keyed), history_known=commits is not None)


def read_timeline(
    cache: Cache,
    slug: str,
    bot_login: str,
    actors: Mapping[tuple[str, int], str] | None = None,
) -> Timeline:
    """`build_timeline` from the cache (three queries, no network)."""
    validate_slug(slug)
    commits = stored_commits(cache, [slug]).get(slug)
    prs = cache.pulls_for(slug)
    heads = {
        str(row["head_sha"]): number
        for number, row in cache.pr_rows([p.number for p in prs]).items()
        if row.get("head_sha")
    }
    return build_timeline(slug, commits, prs, bot_login, actors, heads)
