"""The actions log (SPEC §6.4): the audit trail and outbox of user actions.

It cannot be rebuilt from Gitea, so it lives in its own file, apart from the cache, and
``--resync`` never touches it; a bad file is moved aside only when provably bad, and a
newer or busy one is left where it is (`rfctui.db.files`). Rows are written before the
first Gitea call. No token ever reaches the file: `ActionsLog.add` refuses a payload
that looks like a credential.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rfctui.db.errors import ActionStateError
from rfctui.db.files import TrackingSqlite, open_or_replace, utcnow
from rfctui.db.schema import Action, tuple_rows
from rfctui.text import one_line

__all__ = [
    "ACTIONS_SCHEMA_VERSION",
    "ACTION_KINDS",
    "ACTION_STATUSES",
    "ActionRow",
    "ActionStateError",
    "ActionsLog",
    "open_actions",
]

ACTIONS_SCHEMA_VERSION = 1
# PRAGMA application_id of the actions log ("rfca"; the cache's is rows.CACHE_APP_ID).
_ACTIONS_APP_ID = 0x72666361

ACTION_KINDS = ("propose_rfc", "open_body_edit_pr", "open_claim_pr", "open_metadata_pr",
                "comment_pr")
# Kinds whose `pr_number` names a PR the bot *opened* for someone (§6.3); a comment's
# row names the PR it was posted on, which says nothing about who opened it. A new kind
# needs no schema change (kind is free text), so a log from an older rfctui opens as is.
_OPENING_KINDS = ACTION_KINDS[:4]
ACTION_STATUSES = ("pending", "done", "failed", "discarded")


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One §6.4 action as stored: the full payload the user typed, and its outcome."""

    id: int
    kind: str
    slug: str
    on_behalf_of: str
    payload: dict[str, Any]
    status: str  # pending | done | failed | discarded
    error: str | None
    pr_number: int | None
    pr_url: str | None
    created_at: datetime | None
    updated_at: datetime | None


_SECRET_KEYS = ("token", "password", "secret", "authorization")


def _check_payload(payload: Mapping[str, object]) -> dict[str, object]:
    """Refuse anything that looks like a credential: the log must never hold tokens."""

    def walk(value: object) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if any(s in str(k).lower() for s in _SECRET_KEYS):
                    raise ValueError(f"actions log payload must not hold credentials ({k!r})")
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif type(value).__name__ == "Secret":
            raise ValueError("actions log payload must not hold a Secret")

    walk(payload)
    return dict(payload)


def open_actions(
    path: str | os.PathLike[str],
    *,
    clock: Callable[[], datetime] | None = None,
    repair: bool = True,
) -> ActionsLog:
    """Open (or create) the actions log at `path` (WAL, busy timeout, like the cache).

    The log is the outbox (§6.4) and cannot be rebuilt from Gitea. Only a file that is
    provably bad (fails quick_check, is not SQLite, is another program's file, or has
    an older schema version) is moved aside — kept for manual recovery, never deleted —
    and then `ActionsLog.notice` says so in one line: show it. A log from a newer
    rfctui (a higher schema version) raises `CacheError` and stays where it is. A busy, locked,
    unreadable-for-permissions or I/O-failing file raises `CacheError` and is left as
    it is. `repair=False` (readers such as ``--sync``, which only use the log to
    attribute PRs) never moves it aside: a bad file raises `CacheError`.
    """
    clock = clock or utcnow
    p, db, bound, notice = open_or_replace(
        path, "actions log", (Action,), _ACTIONS_APP_ID, ACTIONS_SCHEMA_VERSION,
        "started a new, empty log (the old one is kept there)", clock,
        keep_on_trouble=True, repair=repair, keep_newer=True,
    )
    return ActionsLog(p, db, bound[Action], notice, clock)


class ActionsLog:
    """The §6.4 audit trail and outbox. Rows are written before the first Gitea call."""

    def __init__(
        self,
        path: Path,
        db: TrackingSqlite,
        model: type[Action],
        notice: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.path = path
        self.db = db
        self.Action = model
        self.notice = notice
        self.clock = clock

    def __repr__(self) -> str:
        return f"ActionsLog({str(self.path)!r})"

    def close(self) -> None:
        self.db.close_all()

    def __enter__(self) -> ActionsLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self, kind: str, slug: str, on_behalf_of: str, payload: Mapping[str, object]
    ) -> int:
        """Record an action as `pending` and return its id (before any Gitea call)."""
        from rfctui.entry import validate_slug

        if kind not in ACTION_KINDS:
            raise ValueError(f"unknown action kind {kind!r}; expected one of {ACTION_KINDS}")
        validate_slug(slug)
        now = self.clock()
        with self.db.atomic("IMMEDIATE"):
            return int(
                self.Action.insert(
                    kind=kind,
                    slug=slug,
                    on_behalf_of=on_behalf_of,
                    payload=_check_payload(payload),
                    status="pending",
                    created_at=now,
                    updated_at=now,
                ).execute()
            )

    def _update(self, action_id: int, **values: object) -> None:
        with self.db.atomic("IMMEDIATE"):
            n = (
                self.Action.update(updated_at=self.clock(), **values)
                .where(self.Action.id == action_id)
                .execute()
            )
        if not n:
            raise KeyError(f"no action {action_id}")

    def mark_done(self, action_id: int, pr_number: int, pr_url: str | None = None) -> None:
        """The PR exists: remember its number (the §6.3 opened_by lookup uses it)."""
        self._update(action_id, status="done", pr_number=pr_number, pr_url=pr_url, error=None)

    def mark_failed(self, action_id: int, error: str) -> None:
        """Keep the payload for a retry; `error` is stored as one line."""
        self._update(action_id, status="failed", error=one_line(error, limit=500))

    def mark_pending(self, action_id: int) -> None:
        """Back to pending (a retry is starting)."""
        self._update(action_id, status="pending", error=None)

    def set_actor(self, action_id: int, login: str, full_name: str) -> None:
        """Name the person of an action saved before anyone could be verified (Gitea
        was unreachable): its retry verified them. Only a row with nobody in it."""
        a = self.Action
        with self.db.atomic("IMMEDIATE"):
            row = a.get_or_none(a.id == action_id)
            if row is None:
                raise KeyError(f"no action {action_id}")
            if row.on_behalf_of:
                raise ActionStateError(
                    f"action #{action_id} is already on behalf of {row.on_behalf_of}"
                )
            payload = {**dict(row.payload or {}), "actor": {"login": login, "full_name": full_name}}
            a.update(on_behalf_of=login, payload=payload, updated_at=self.clock()).where(
                a.id == action_id
            ).execute()

    def discard(self, action_id: int) -> None:
        """The user gave up on a pending or failed action: kept for audit, not offered.

        A done action is refused (`ActionStateError`): its row is what attributes the
        PR to the real person (§6.3). Discarding a discarded action does nothing.
        """
        a = self.Action
        with self.db.atomic("IMMEDIATE"):
            row = a.select(a.status, a.pr_number).where(a.id == action_id).tuples().first()
            if row is None:
                raise KeyError(f"no action {action_id}")
            status, pr_number = row
            if status == "discarded":
                return
            if status not in ("pending", "failed"):
                pr = f" (PR #{pr_number})" if pr_number is not None else ""
                raise ActionStateError(
                    f"action #{action_id} is {status}{pr}: only pending or failed actions "
                    "can be discarded"
                )
            a.update(status="discarded", updated_at=self.clock()).where(
                a.id == action_id
            ).execute()

    def get(self, action_id: int) -> ActionRow | None:
        row = self.Action.get_or_none(self.Action.id == action_id)
        return _action_row(row) if row is not None else None

    def _by_status(self, status: str | None) -> list[ActionRow]:
        q = self.Action.select().order_by(self.Action.id)
        if status is not None:
            q = q.where(self.Action.status == status)
        return [_action_row(r) for r in q]

    def pending(self) -> list[ActionRow]:
        return self._by_status("pending")

    def failed(self) -> list[ActionRow]:
        return self._by_status("failed")

    def all(self) -> list[ActionRow]:
        return self._by_status(None)

    def find_pr_actor(self, slug: str, pr_number: int) -> str | None:
        """Who the bot opened PR `pr_number` for `slug` on behalf of (§6.3), if we did."""
        a = self.Action
        row = (
            a.select(a.on_behalf_of)
            .where((a.slug == slug) & (a.pr_number == pr_number) & (a.status == "done")
                   & a.kind.in_(_OPENING_KINDS))
            .order_by(a.id.desc())
            .tuples()
            .first()
        )
        return row[0] if row else None

    def actors(self) -> dict[tuple[str, int], str]:
        """(slug, pr_number) -> on_behalf_of for every done action (one query per sweep)."""
        a = self.Action
        out: dict[tuple[str, int], str] = {}
        for slug, number, who in tuple_rows(
            a.select(a.slug, a.pr_number, a.on_behalf_of)
            .where((a.status == "done") & a.pr_number.is_null(False)
                   & a.kind.in_(_OPENING_KINDS))
            .order_by(a.id)
        ):
            out[(slug, number)] = who
        return out


def _action_row(r: Action) -> ActionRow:
    return ActionRow(
        id=r.id,
        kind=r.kind,
        slug=r.slug,
        on_behalf_of=r.on_behalf_of,
        payload=dict(r.payload or {}),
        status=r.status,
        error=r.error,
        pr_number=r.pr_number,
        pr_url=r.pr_url,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
