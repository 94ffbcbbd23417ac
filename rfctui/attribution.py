"""Who, which and since when: one Gitea object read into the cache row the reconciler
writes (SPEC §4.2, §5, §6.3). Pure functions, no I/O: `rfctui.reconcile` fetches and
writes; this module decides what a pull request or an entry's contents *say*.

Kept apart because the rules outlive the sweep: the §6.3 ``opened_by`` chain (`attribute`)
is the one answer to "who did this when the bot's account did it", which the timeline
will ask of commits as it is asked here of pull requests.

Decisions (documented here because SPEC leaves them open):

- *opened_by* (§6.3): Gitea's PR author unless it is the bot (logins compare in any
  case); else the actions log row for (slug, number); else the final-trailer
  ``On-behalf-of:`` of the PR body; else the bot login.
- *Which PRs count*: those whose head branch parses with `entry.parse_head_branch`
  (§5). The branch name comes from ``head.label`` (``head.ref`` becomes
  ``refs/pull/N/head`` once the branch is deleted). Other PRs are remembered only as
  numbers, so the PR count check can tell "new" from "foreign".
- *Time in state* (``state_since``): on first sight, ``graduated_at`` for graduated
  entries, ``proposed_at`` for ideas, otherwise the entry's last commit time (never
  earlier than the state change, so an entry is not flagged stale too early); when a
  later sweep sees the state change, the last commit time of the entry (the commit that
  changed it); without a commit time, the time of the sweep (never an earlier date that
  would flag it stale at once). It is kept while the state stays the same.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from rfctui import db as dbm
from rfctui.db import parse_dt
from rfctui.entry import Entry, EntryError, InvalidSlug, parse_entry, parse_head_branch
from rfctui.logins import same_login
from rfctui.text import one_line
from rfctui.trailer import on_behalf_of

__all__ = [
    "MAIN",
    "ActorsLog",
    "CachedRfc",
    "LoggedActors",
    "attribute",
    "entry_row",
    "head_branch",
    "pr_row",
    "pr_state",
    "rfc_row",
    "state_since",
]

MAIN = "main"  # the branch entries live on and every PR targets (§5)

# What the cache remembers of an entry between sweeps (`Cache.rfc_index`):
# (body_sha, removed, state, state_since).
CachedRfc = tuple[str, bool, str, datetime | None]


# ---------------------------------------------------------------- who (§6.3)


class ActorsLog(Protocol):
    """What attribution needs of the actions log (§6.4; `rfctui.db.ActionsLog`)."""

    def actors(self) -> dict[tuple[str, int], str]:
        """(slug, pr_number) -> the person the bot acted for, for every done action."""
        ...


class LoggedActors:
    """The actions log's answer to §6.3 step 2, read at most once per sweep (one query,
    not one per PR) and only when a PR the bot opened asks for it."""

    def __init__(self, log: ActorsLog | None) -> None:
        self._log = log
        self._actors: dict[tuple[str, int], str] | None = None

    def reset(self) -> None:
        """Forget what was read: a new sweep sees actions logged since."""
        self._actors = None

    def for_pr(self, slug: str, number: int) -> str | None:
        """Who the actions log says the bot opened PR `number` of `slug` for."""
        if self._log is None:
            return None
        if self._actors is None:
            self._actors = self._log.actors()
        return self._actors.get((slug, number))


def attribute(
    author: str | None,
    bot_login: str,
    text: str,
    logged: Callable[[], str | None] = lambda: None,
) -> str:
    """§6.3: the person behind something the Gitea `author` made.

    A person's own login is the answer; when it is the bot's (any case), the actions log
    (`logged`, asked only then), else the final trailer block's ``On-behalf-of:`` of
    `text`, else the bot itself.
    """
    if author and not same_login(author, bot_login):
        return author
    return logged() or on_behalf_of(text) or bot_login


# ---------------------------------------------------------------- pull requests (§5)


def head_branch(pr: Mapping[str, Any]) -> str:
    """The PR's head branch name (``head.label``; ``owner:`` prefix of forks dropped)."""
    head = pr.get("head") or {}
    label = head.get("label") or ""
    if ":" in label:
        label = label.split(":", 1)[1]
    if label:
        return str(label)
    ref = str(head.get("ref") or "")
    return "" if ref.startswith("refs/") else ref


def pr_state(pr: Mapping[str, Any]) -> str:
    """§5: ``merged`` if merged, ``closed`` if closed unmerged, else ``open``."""
    if pr.get("merged"):
        return "merged"
    return "closed" if pr.get("state") == "closed" else "open"


def pr_row(
    pr: Mapping[str, Any],
    *,
    repo: str,
    bot_login: str,
    logged: Callable[[str, int], str | None],
) -> dict[str, Any] | None:
    """A Gitea PR -> a CachedPR row, or None when its head branch is not ours (§5).

    `repo` is ``owner/name``; `logged(slug, number)` is the actions log's actor.
    """
    branch = head_branch(pr)
    parsed = parse_head_branch(branch)
    if parsed is None:
        ref = str((pr.get("head") or {}).get("ref") or "")
        parsed = parse_head_branch(ref)
        if parsed is None:
            return None
        branch = ref
    kind, slug = parsed
    number = int(pr["number"])
    user = (pr.get("user") or {}).get("login") or None
    body = pr.get("body") or ""
    return {
        "repo": repo,
        "pr_number": number,
        "rfc_slug": slug,
        "pr_kind": kind,
        "title": str(pr.get("title") or ""),
        "description": str(body),
        "state": pr_state(pr),
        "opened_by": attribute(user, bot_login, body, lambda: logged(slug, number)),
        "user_login": user,
        "opened_at": parse_dt(pr.get("created_at")),
        "merged_at": parse_dt(pr.get("merged_at")),
        "closed_at": parse_dt(pr.get("closed_at")),
        "updated_at": parse_dt(pr.get("updated_at")),
        "head_branch": branch,
        "base_branch": str((pr.get("base") or {}).get("ref") or MAIN),
        "head_sha": (pr.get("head") or {}).get("sha") or None,
        "html_url": str(pr.get("html_url") or pr.get("url") or ""),
    }


# ---------------------------------------------------------------- entries (§2, §4.2)


def state_since(
    entry: Entry,
    commit_at: datetime | None,
    cached: CachedRfc | None,
    now: datetime,
) -> datetime:
    """Time in state (see the module docstring).

    Without a commit time the fallback is `now`: an earlier date (the old state's
    start, ``proposed_at``) would flag a state it just entered as stale at once.
    """
    if cached is not None:
        _sha, _removed, old_state, old_since = cached
        if old_state == entry.state and old_since is not None:
            return old_since
        if old_state != entry.state:
            return commit_at or now
    if entry.state == "graduated" and entry.graduated_at is not None:
        return entry.graduated_at
    if entry.state == "idea" and entry.proposed_at is not None:
        return entry.proposed_at
    return commit_at or now


def entry_row(
    path: str, item: Mapping[str, Any], cached: Mapping[str, CachedRfc], now: datetime
) -> tuple[dict[str, Any] | None, str | None]:
    """A contents item -> a CachedRFC row, or (None, reason) for a malformed entry.

    `cached` is the cache's index (`Cache.rfc_index`): the entry's previous state decides
    its ``state_since``.
    """
    content = item.get("content")
    if content is None:
        return None, "too large: Gitea does not serve its content through the API"
    try:
        data = base64.b64decode(content)
    except (ValueError, TypeError):
        return None, "content is not valid base64"
    try:
        entry = parse_entry(path, data)
    except EntryError as exc:
        return None, one_line(f"{exc.field}: {exc.reason}", limit=500)  # shown: one line
    except InvalidSlug as exc:
        return None, one_line(str(exc), limit=500)
    commit_at = parse_dt(item.get("last_committer_date"))
    return rfc_row(
        entry,
        path=path,
        sha=str(item.get("sha") or ""),
        html_url=item.get("html_url"),
        commit_at=commit_at,
        commit_sha=item.get("last_commit_sha") or None,
        state_since=state_since(entry, commit_at, cached.get(entry.slug), now),
        now=now,
    ), None


def rfc_row(
    entry: Entry,
    *,
    path: str,
    sha: str,
    html_url: Any,
    commit_at: datetime | None,
    commit_sha: Any,
    state_since: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """A parsed entry -> a CachedRFC row (columns as `rfctui.db` names them)."""
    extra = {str(k): v for k, v in entry.extra.items()}
    return {
        "slug": entry.slug,
        "title": entry.title,
        "state": entry.state,
        "rfc_id": entry.rfc_id,
        "owners": list(entry.owners),
        "arbiters": list(entry.arbiters),
        "tags": list(entry.tags),
        "proposed_by": entry.proposed_by,
        "proposed_at": entry.proposed_at,
        "removed": False,
        "state_since": state_since,
        "html_url": str(html_url) if html_url else None,
        "path": path,
        "repo": entry.repo,
        "graduated_at": entry.graduated_at,
        "graduated_by": entry.graduated_by,
        "extra": json.loads(json.dumps(extra, default=dbm.json_default)),
        "body_sha": sha,
        "last_entry_commit_at": commit_at,
        "last_commit_sha": str(commit_sha) if commit_sha else None,
        "updated_at": now,
        "body": entry.body,
    }


def newest_commit(rows: Iterable[Mapping[str, Any]]) -> str | None:
    """A cold read's ``rfcs/`` history watermark (`rfctui.reconcile`): the newest
    ``last_commit_sha`` of the entry rows read (a deletion after it is only walked over
    once by the next full sweep)."""
    best: tuple[datetime, str] | None = None
    for row in rows:
        at, sha = row.get("last_entry_commit_at"), row.get("last_commit_sha")
        if isinstance(at, datetime) and sha and (best is None or at > best[0]):
            best = (at, str(sha))
    return best[1] if best else None
