"""User actions as pull requests made by the bot account (SPEC §5, §6).

Why an outbox: what a maintainer typed must survive a flaky network, a Gitea error or a
killed process, so every action writes its full payload to the actions log (§6.4)
*before* the first Gitea call and only then branches, commits and opens the PR. Each
step checks what already exists (branch, commit content, open PR for the head) so that
a retry from the stored payload converges on exactly one PR.

Why the trailer: the bot does the writes, but the commit and the PR must name the real
person (§6.2). User text is neutralised first so it cannot forge that line, and the
trailer is always the last line of both the commit message and the PR body.

Textual-free: the CLI and the UI (in a worker) call the same `Bot`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import difflib
import hashlib
import hmac
import inspect
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from rfctui import entry as entry_mod
from rfctui import trailer
from rfctui.entry import STATES, Entry, EntryError, InvalidSlug, validate_slug
from rfctui.logins import login_key, same_login
from rfctui.private import write_private
from rfctui.text import one_line

__all__ = [
    "KINDS",
    "ActionFailed",
    "ActionResult",
    "ActionsDisabled",
    "IdentityUnreachable",
    "Actor",
    "NothingToChange",
    "Bot",
    "Refused",
    "ValidationError",
    "bot_session",
    "check_edit",
    "check_metadata",
    "check_propose",
    "parse_metadata_value",
    "preflight",
    "verify_actor",
]

# §6.4 action kinds, keyed by the §5 head-branch prefix.
KINDS: dict[str, str] = {
    "propose": "propose_rfc",
    "edit": "open_body_edit_pr",
    "claim": "open_claim_pr",
    "metadata": "open_metadata_pr",
}
BASE = "main"
TITLE_MAX = 200
DUPLICATE_RATIO = 0.85
# Front-matter keys a metadata edit may set, with their shape; others are kept as text.
LIST_KEYS = ("owners", "arbiters", "tags")
SCALAR_KEYS = ("title", "state", "repo", "graduated_by", "waiting_on", "superseded_by")
LOCKED_KEYS = ("slug",)
_LOGIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


# ---------------------------------------------------------------- errors and data


class ActionsDisabled(Exception):
    """No verified identity (§6.2): actions are off, reading still works. One line."""


class IdentityUnreachable(ActionsDisabled):
    """`GET /user` got no answer (network, timeout, 5xx): who you are is unknown *now*.

    `bot_session` turns this into an offline session that saves what was typed.
    """


class ValidationError(ValueError):
    """Input rejected before anything was sent. `errors` maps a form field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Refused(ValidationError):
    """The cache, or one fresh read just before sending, already shows the action would
    fail (someone else's open PR on its branch, a pending idea, already an owner).

    Raised before the actions log row is written, so no failed action is left to retry;
    the CLI exits 2 and the UI reopens the form. `errors` is ``{"form": reason}`` and
    `str()` is the reason alone (one line naming the PR, e.g. ``#4 by grace``).
    """

    def __init__(self, reason: str) -> None:
        self.reason = _one_line(reason)
        super().__init__({"form": self.reason})

    def __str__(self) -> str:
        return self.reason


class ActionFailed(Exception):
    """Gitea refused or could not be reached; the action is in the log as `failed`.

    `str()` is one actionable line without a token; `action_id` lets the caller offer
    retry/discard.
    """

    def __init__(
        self, message: str, action_id: int | None = None, *, offline: bool = False
    ) -> None:
        self.action_id = action_id
        self.offline = offline  # Gitea could not be reached: the same action may work later
        super().__init__(_one_line(message))


class NothingToChange(ActionFailed):
    """Gitea already says what the action asks for: no branch, no PR, nothing to retry."""


@dataclass(frozen=True, slots=True)
class Actor:
    """The person at the keyboard, as verified by `GET /user` with their own token."""

    login: str
    full_name: str
    # Not verified just now (Gitea unreachable): the last verified identity for this
    # token, or login "" if it was never verified. Such an actor only saves actions.
    offline: bool = field(default=False, compare=False)

    @property
    def display_name(self) -> str:
        return self.full_name or self.login


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a successful action produced. `warnings` are advisory (e.g. a similar title).

    `stacked`: the change went onto the actor's PR that was already open on that branch
    (its description was rewritten to list every change); `note` says so in one line
    ("added to your open PR #7") for the CLI and the UI's toast, "" when a new PR opened.
    """

    action_id: int
    pr_number: int
    html_url: str
    branch: str
    reused_pr: bool = False
    warnings: tuple[str, ...] = ()
    refresh_error: str | None = None
    stacked: bool = False
    note: str = ""


class _Log(Protocol):  # the parts of db.ActionsLog the bot uses
    def add(self, kind: str, slug: str, on_behalf_of: str, payload: dict[str, Any]) -> int: ...
    def mark_failed(self, action_id: int, error: str) -> None: ...
    def get(self, action_id: int) -> Any: ...


Refresh = Callable[[str | None, int], Awaitable[Any]]  # (slug or None, PR number)


def _one_line(text: str) -> str:
    return one_line(str(text), 400)


def _unreachable(exc: BaseException) -> bool:
    """No usable answer from Gitea: worth trying again later, unchanged."""
    from rfctui.gitea import GiteaTimeout, GiteaUnreachable

    status = getattr(exc, "status", None)
    return isinstance(exc, GiteaUnreachable | GiteaTimeout) or (
        isinstance(status, int) and status >= 500
    )


def _err_text(exc: BaseException) -> str:
    """One line for any exception; Gitea errors already know how to say it safely."""
    text = _one_line(str(exc)) or type(exc).__name__
    return text


# ---------------------------------------------------------------- identity (§6.2)


async def verify_actor(user_client: Any | None) -> Actor:
    """`GET /user` with the user's own token; anything else disables actions (§6.2).

    `user_client` is a `GiteaClient` built with the user's token, or None when no token
    is configured.
    """
    if user_client is None or not getattr(user_client, "has_token", True):
        raise ActionsDisabled("actions need your own Gitea token: set RFCTUI_USER_TOKEN")
    try:
        user = await user_client.current_user()
    except Exception as exc:  # GiteaError and transport errors alike
        status = getattr(exc, "status", None)
        if status == 401:
            raise ActionsDisabled(
                "Gitea refused your token (401): check RFCTUI_USER_TOKEN"
            ) from None
        if _unreachable(exc):
            raise IdentityUnreachable(
                f"cannot verify who you are: {_err_text(exc)}"
            ) from None
        raise ActionsDisabled(f"cannot verify who you are: {_err_text(exc)}") from None
    login = str(user.get("login") or "")
    if not login or not set(login) <= _LOGIN_CHARS:
        raise ActionsDisabled("Gitea returned no usable login for your token")
    full_name = _one_line(str(user.get("full_name") or "")) or login
    return Actor(login=login, full_name=full_name)


# ---------------------------------------------------------------- validation (pure)


def _check_title(title: str) -> str | None:
    t = (title or "").strip()
    if not t:
        return "a title is required"
    if "\n" in t or "\r" in t:
        return "the title must be a single line"
    if len(t) > TITLE_MAX:
        return f"the title is {len(t)} characters; keep it under {TITLE_MAX}"
    if not t.isprintable():
        return "the title contains control characters"
    return None


def _check_logins(values: Iterable[str]) -> str | None:
    for v in values:
        if not v or not set(v) <= _LOGIN_CHARS:
            return f"{entry_mod.safe_repr(v, 30)} is not a Gitea login"
    return None


def _check_tags(values: Iterable[str]) -> str | None:
    for v in values:
        if not v or any(c.isspace() or c in ",[]{}#" or not c.isprintable() for c in v):
            return f"{entry_mod.safe_repr(v, 30)} is not a valid tag (no spaces or commas)"
    return None


def _slug_error(slug: str) -> str | None:
    try:
        validate_slug(slug)
    except InvalidSlug as exc:
        return str(exc)
    return None


def check_propose(
    slug: str,
    title: str,
    tags: Sequence[str] = (),
    arbiters: Sequence[str] = (),
    existing: Iterable[Any] = (),
) -> list[str]:
    """Validate a proposal (§2, §6); raise `ValidationError`, return warnings.

    `existing` are cache rows with `.slug`, `.title` (entries and pending ideas): a
    taken slug is an error, a very similar title only a warning.
    """
    errors: dict[str, str] = {}
    if msg := _slug_error(slug):
        errors["slug"] = msg
    if msg := _check_title(title):
        errors["title"] = msg
    if msg := _check_tags(tags):
        errors["tags"] = msg
    if msg := _check_logins(arbiters):
        errors["arbiters"] = msg
    warnings: list[str] = []
    norm = " ".join((title or "").lower().split())
    for row in existing:
        other_slug = getattr(row, "slug", None)
        if other_slug == slug and "slug" not in errors:
            pending = getattr(row, "kind", "rfc") == "pending"
            errors["slug"] = (
                f"{slug!r} is already taken by "
                + ("a pending idea" if pending else "an existing entry")
            )
        other = " ".join(str(getattr(row, "title", "") or "").lower().split())
        if norm and other and difflib.SequenceMatcher(None, norm, other).ratio() >= DUPLICATE_RATIO:
            warnings.append(f"likely duplicate of {other_slug!r}: {getattr(row, 'title', '')!r}")
    if errors:
        raise ValidationError(errors)
    return warnings


def check_edit(slug: str, body: str) -> None:
    """Validate a body edit: a valid slug and a non-empty body."""
    errors: dict[str, str] = {}
    if msg := _slug_error(slug):
        errors["slug"] = msg
    if not (body or "").strip():
        errors["body"] = "the body is empty; write something or cancel"
    if errors:
        raise ValidationError(errors)


def parse_metadata_value(key: str, raw: str) -> Any:
    """Turn a form or `--set KEY=VALUE` string into a front-matter value.

    Lists are comma-separated (`tags=a,b`; empty means []); `id` is an integer or
    empty for null; other keys are text, empty means null.
    """
    raw = raw.strip()
    if key in LIST_KEYS:
        return [p.strip() for p in raw.split(",") if p.strip()]
    if key == "id":
        if not raw or raw.lower() == "null":
            return None
        try:
            return int(raw)
        except ValueError:
            raise ValidationError({"id": f"{raw!r} is not a number"}) from None
    return raw or None


def check_metadata(slug: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate metadata changes (§2, §3); return them normalised.

    The slug cannot change, `state` must be a known §3 state, lists must be lists of
    logins/tags, keys must be plain identifiers. The body is not metadata.
    """
    errors: dict[str, str] = {}
    if msg := _slug_error(slug):
        errors["slug"] = msg
    if not changes:
        errors["changes"] = "nothing to change"
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if not isinstance(key, str) or not key.replace("_", "a").isalnum() or not key.isascii():
            errors[str(key)] = "not a valid front-matter key"
            continue
        if key in LOCKED_KEYS:
            if value != slug:
                errors[key] = "the slug cannot change (it names the file)"
            continue
        if key == "body":
            errors[key] = "the body is not metadata; use edit instead"
            continue
        if key in LIST_KEYS:
            if isinstance(value, str):
                value = parse_metadata_value(key, value)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[key] = "must be a list (comma-separated)"
                continue
            check = _check_tags if key == "tags" else _check_logins
            if msg := check(value):
                errors[key] = msg
                continue
        elif key == "state":
            state = entry_mod.normalise_state(str(value or ""))
            if state not in STATES:
                errors[key] = f"{value!r} is not a state; use one of {', '.join(STATES)}"
                continue
            value = state
        elif key == "title":
            if msg := _check_title(str(value or "")):
                errors[key] = msg
                continue
            value = str(value).strip()
        elif key == "id":
            if isinstance(value, str):
                try:
                    value = parse_metadata_value(key, value)
                except ValidationError as exc:
                    errors.update(exc.errors)
                    continue
            if value is not None and (type(value) is not int or value < 0):
                errors[key] = "must be a non-negative number or empty"
                continue
        elif isinstance(value, str):
            if "\n" in value or not value.isprintable():
                errors[key] = "must be a single line of text"
                continue
            value = value.strip() or None
        out[key] = value
    if errors:
        raise ValidationError(errors)
    return out


# ---------------------------------------------------------------- pre-flight (issue 9)


def _cache_rows(cache: Any) -> list[Any]:
    """The left-pane rows of a `db.Cache`, a callable returning rows, or rows."""
    if cache is None:
        return []
    if hasattr(cache, "list_items"):
        return list(cache.list_items())
    if callable(cache):
        return list(cache())
    return list(cache)


def _cache_pulls(cache: Any, slug: str) -> list[Any]:
    pulls_for = getattr(cache, "pulls_for", None)
    return list(pulls_for(slug)) if pulls_for is not None else []


def _taken(head: str, number: Any, who: Any) -> str:
    return f"{head} already has open PR #{number} by {who}; review or comment there"


def preflight(actor: Actor | str, request: Mapping[str, Any], cache: Any) -> str | None:
    """Why the cache already knows `request` would fail, in one line naming the PR; or None.

    Pure (reads only the cache), shared by `Bot` (so the CLI and the UI's worker refuse
    before the actions log row: nothing is left to retry) and any caller that wants to
    ask first. Refused: editing, claiming or changing an entry that is only a pending
    idea (an open propose PR, not on main); claiming an entry you already own; a claim
    or metadata change onto someone else's open PR on that branch (§5: one branch per
    slug, and a PR is never shared between people). Body edits take the next free
    ``edit/<slug>/<n>``, so they never land on someone else's PR. Logins compare
    case-insensitively. `cache` is a `db.Cache`, a callable returning rows, or None.
    """
    action = request.get("action")
    slug = str(request.get("slug") or "")
    if action not in ("edit", "claim", "metadata") or cache is None or _slug_error(slug):
        return None
    login = actor if isinstance(actor, str) else actor.login
    rows = [r for r in _cache_rows(cache)
            if getattr(r, "slug", None) == slug and not getattr(r, "removed", False)]
    entry = next((r for r in rows if getattr(r, "kind", "rfc") != "pending"), None)
    if entry is None:
        pending = next((r for r in rows if getattr(r, "kind", "rfc") == "pending"), None)
        if pending is None:
            return None  # unknown to the cache: Bot._check_known / Gitea decide
        number = getattr(pending, "pr_number", None)
        who = getattr(pending, "proposed_by", None) or "someone"
        return (f"{slug} is only a pending idea (open PR #{number} by {who}), not on "
                f"{BASE} yet; review or comment there")
    if action == "claim" and any(
        same_login(login, o) for o in tuple(getattr(entry, "owners", ()) or ())
    ):
        return f"you ({login}) already own {slug}"
    if action in ("claim", "metadata"):
        head = f"{action}/{slug}"
        for pr in _cache_pulls(cache, slug):
            if (getattr(pr, "head_branch", None) == head and getattr(pr, "state", None) == "open"
                    and not same_login(getattr(pr, "opened_by", None), login)):
                return _taken(head, getattr(pr, "number", "?"), getattr(pr, "opened_by", ""))
    return None


# ---------------------------------------------------------------- the bot


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status", None)


@dataclass
class _Plan:
    """The idempotent shape of one action: head branch, file path and how to change it."""

    kind: str
    slug: str
    subject: str
    commit_body: str
    pr_title: str
    pr_body: str
    transform: Callable[[str | None], str]  # current file text (None: absent) -> new text
    must_exist: bool = True
    branch: str = ""
    warnings: list[str] = field(default_factory=list)
    # (main's text, the branch's text) -> (PR title, PR description without trailer):
    # the PR lists every change on its branch, so a second action stacked onto it is
    # never hidden from the reviewer (issue 9). None: the description is fixed.
    describe: Callable[[str | None, str], tuple[str, str]] | None = None
    # A PR title starting with this was written by the bot and may be rewritten.
    title_stem: str = ""


@dataclass(frozen=True, slots=True)
class _Fresh:
    """One fresh read of a single branch just before the log row: its tip and, when it
    exists, (its open PR, some PR for it) as `_open_pull_for` answers."""

    tip: str | None
    pulls: tuple[dict[str, Any] | None, dict[str, Any] | None] = (None, None)


class Bot:
    """The bot client (§6.1): the only writer to Gitea. It never writes cached rows.

    `client` is a `GiteaClient` with the *bot* token. `existing` returns the cache's
    rows (objects with `slug`, `title`, `kind`, `owners`) for validation before sending;
    a `db.Cache` is accepted too. `refresh(slug, pr_number)` is the reconciler's
    targeted refresh (§4.1), awaited after success.
    """

    def __init__(
        self,
        client: Any,
        owner: str,
        repo: str,
        bot_login: str,
        actions: _Log,
        refresh: Refresh | None = None,
        *,
        existing: Callable[[], Iterable[Any]] | Any | None = None,
        bot_name: str | None = None,
        clock: Callable[[], datetime] | None = None,
        host: str | None = None,
        users: dict[str, bool] | None = None,
    ) -> None:
        self.client = client
        self.owner = owner
        self.repo = repo
        self.bot_login = bot_login
        self.bot_name = bot_name or bot_login
        self.actions = actions
        self.refresh = refresh
        self._existing = existing
        self.clock = clock or (lambda: datetime.now(UTC))
        self.host = host or self._client_host()
        # Set by `bot_session` when Gitea could not be reached to verify the actor:
        # actions are then saved (§6.4) and failed at once, for a retry later.
        self.offline: str | None = None
        # login_key -> does Gitea have that user (one GET /users/{login} per login,
        # shared across the sessions of one process by `bot_session`).
        self.users: dict[str, bool] = users if users is not None else {}

    def __repr__(self) -> str:  # never a token, never the client's repr
        return f"Bot({self.owner}/{self.repo} as {self.bot_login})"

    def _client_host(self) -> str:
        base = str(getattr(self.client, "base_url", "") or "")
        return urlsplit(base).hostname or "localhost"

    def _rows(self) -> list[Any]:
        src = self._existing
        if src is None:
            return []
        if hasattr(src, "list_items"):
            return list(src.list_items())
        return list(src())

    def _noreply(self, login: str) -> str:
        return f"{login}@users.noreply.{self.host}"

    # ------------------------------------------------------------ public actions

    def check_propose(
        self, slug: str, title: str, tags: Sequence[str] = (), arbiters: Sequence[str] = ()
    ) -> list[str]:
        """Validate against the cache without sending anything; return warnings."""
        return check_propose(slug, title, tags, arbiters, self._rows())

    def _check_known(self, slug: str) -> Any | None:
        """The cache's row for an entry, if it has one.

        A synced cache (`existing` given) that has neither the entry nor a pending idea
        for it refuses before anything is saved or sent: such an action could never
        succeed, so it must not become a failed action offering a retry. With no synced
        cache, Gitea decides (§4.0) and a missing file is not offered for retry.
        """
        rows = self._rows()
        pending = False
        for row in rows:
            if getattr(row, "slug", None) != slug or getattr(row, "removed", False):
                continue
            if getattr(row, "kind", "rfc") == "pending":
                pending = True
            else:
                return row
        if rows and not pending:
            raise ValidationError(
                {"slug": f"no entry {slug!r} in the cache (run rfctui --sync if it is new)"}
            )
        return None

    async def propose(
        self,
        actor: Actor,
        slug: str,
        title: str,
        body: str = "",
        tags: Sequence[str] = (),
        arbiters: Sequence[str] = (),
    ) -> ActionResult:
        """Open `propose/<slug>` adding `rfcs/<slug>.md` in state `idea` (§5)."""
        tags, arbiters = list(tags), list(arbiters)
        warnings = self.check_propose(slug, title, tags, arbiters)
        payload = {
            "slug": slug,
            "title": title.strip(),
            "body": body,
            "tags": tags,
            "arbiters": arbiters,
            "proposed_at": entry_mod.format_datetime(self.clock().replace(microsecond=0)),
        }
        return await self._start("propose", actor, slug, payload, warnings, logins=arbiters)

    async def edit_body(self, actor: Actor, slug: str, body: str) -> ActionResult:
        """Open `edit/<slug>/<n>` replacing only the body (§5)."""
        check_edit(slug, body)
        self._check_known(slug)
        self._preflight(actor, {"action": "edit", "slug": slug})
        return await self._start("edit", actor, slug, {"slug": slug, "body": body}, [])

    async def claim(self, actor: Actor, slug: str) -> ActionResult:
        """Open `claim/<slug>` adding the actor to `owners` (§5)."""
        if msg := _slug_error(slug):
            raise ValidationError({"slug": msg})
        self._check_known(slug)
        self._preflight(actor, {"action": "claim", "slug": slug})
        return await self._start("claim", actor, slug, {"slug": slug}, [])

    async def edit_metadata(
        self, actor: Actor, slug: str, changes: Mapping[str, Any]
    ) -> ActionResult:
        """Open `metadata/<slug>` changing front matter only, unknown keys kept (§2, §5).

        While the actor's own metadata PR for `slug` is open, the change is added to it
        and its description rewritten to list every change (`ActionResult.stacked`).
        """
        clean = check_metadata(slug, changes)
        self._check_known(slug)
        self._preflight(actor, {"action": "metadata", "slug": slug})
        logins = [v for k in ("owners", "arbiters") for v in clean.get(k) or ()]
        return await self._start("metadata", actor, slug, {"slug": slug, "changes": clean}, [],
                                 logins=logins)

    def _preflight(self, actor: Actor, request: Mapping[str, Any]) -> None:
        """`preflight` against the synced cache: raise `Refused` before anything is
        saved or sent. Without a verified login (offline, never verified) whose PR is
        whose cannot be told, so only a verified or remembered actor is checked."""
        if self._existing is None or not actor.login:
            return
        try:
            reason = preflight(actor, request, self._existing)
        except Exception:  # a cache that cannot be read never blocks an action
            return
        if reason:
            raise Refused(reason)

    async def _fresh(self, prefix: str, actor: Actor, slug: str) -> _Fresh | None:
        """ONE fresh read of `claim|metadata/<slug>` just before the log row (the cache
        may be a minute old): someone else's PR opened on it meanwhile is `Refused`.

        No branch means no open PR (deleting a head branch closes its PRs), so a fresh
        action costs only the branch lookup `_run` needs anyway. Any error here (Gitea
        down, a refused token) is left to the action itself, which then fails and is
        kept for a retry: a read must never lose what was typed.
        """
        if prefix not in ("claim", "metadata") or self.offline is not None:
            return None
        head = f"{prefix}/{slug}"
        try:
            tip = await self._branch_tip(head)
            if tip is None:
                return _Fresh(None)
            pulls = await self._open_pull_for(head)
        except Exception:
            return None
        open_pr = pulls[0]
        if open_pr is not None:
            owner = self._pr_owner(slug, open_pr)
            if not same_login(owner, actor.login):
                raise Refused(_taken(head, open_pr.get("number"), owner))
        return _Fresh(tip, pulls)

    async def _user_warnings(self, logins: Iterable[str], actor: Actor) -> list[str]:
        """"no Gitea user 'xyz'" for each typed login Gitea does not know (a 404).

        One `GET /users/{login}` per login, remembered in `self.users`; logins the cache
        already names (owners, arbiters, proposers), the actor and the bot are not asked.
        Advisory: an error asks again next time and warns of nothing.
        """
        wanted: dict[str, str] = {}
        for login in logins:
            key = login_key(login)
            if key and key not in wanted and key not in (
                login_key(actor.login), login_key(self.bot_login)
            ):
                wanted[key] = login
        if not wanted:
            return []
        todo = [k for k in wanted if k not in self.users]
        if todo:
            try:
                known = {login_key(x) for r in self._rows() for x in (
                    *tuple(getattr(r, "owners", ()) or ()),
                    *tuple(getattr(r, "arbiters", ()) or ()),
                    getattr(r, "proposed_by", None) or "",
                )}
            except Exception:
                known = set()
            todo = [k for k in todo if k not in known]

        async def ask(key: str) -> None:
            try:
                await self.client.get_user(wanted[key])
            except Exception as exc:
                if _status(exc) == 404:
                    self.users[key] = False
                return
            self.users[key] = True

        if todo:
            await asyncio.gather(*(ask(k) for k in todo))
        return [f"no Gitea user {wanted[k]!r}" for k in wanted if self.users.get(k) is False]

    async def retry(self, action_id: int, actor: Actor | None = None) -> ActionResult:
        """Re-run a pending or failed action from its stored payload (§6.4), idempotently."""
        row = self.actions.get(action_id)
        if row is None:
            raise ActionFailed(f"no action #{action_id} in the log")
        status = _field(row, "status")
        if status == "done":
            number = _field(row, "pr_number")
            raise ActionFailed(f"action #{action_id} is already done (PR #{number})")
        payload = dict(_field(row, "payload") or {})
        who = payload.get("actor") or {}
        if status == "discarded":
            raise ActionFailed(f"action #{action_id} was discarded")
        stored = Actor(str(who.get("login") or _field(row, "on_behalf_of") or ""),
                       str(who.get("full_name") or _field(row, "on_behalf_of") or ""))
        if not stored.login:  # saved while nobody could be verified (Gitea unreachable)
            if actor is None or not actor.login or self.offline is not None:
                if self.offline is not None:
                    self._fail_offline(action_id, stored)
                raise ActionFailed(f"action #{action_id} needs who you are verified first")
            stored = actor
            payload["actor"] = {"login": actor.login, "full_name": actor.full_name}
            if hasattr(self.actions, "set_actor"):  # the log names them too (§6.3, §6.4)
                self.actions.set_actor(action_id, actor.login, actor.full_name)
        elif actor is not None and not same_login(actor.login, stored.login):
            raise ActionFailed(
                f"action #{action_id} was made on behalf of {stored.login}; "
                f"only they can retry it"
            )
        prefix = {v: k for k, v in KINDS.items()}.get(str(_field(row, "kind")))
        if prefix is None:
            raise ActionFailed(f"action #{action_id} has an unknown kind {_field(row, 'kind')!r}")
        if self.offline is not None:
            self._fail_offline(action_id, stored)
        if hasattr(self.actions, "mark_pending"):
            self.actions.mark_pending(action_id)
        return await self._execute(action_id, prefix, stored, payload, [])

    async def perform(self, actor: Actor, request: Mapping[str, Any]) -> ActionResult:
        """Run a form's request (``{"action": "propose" | "edit" | "claim" | "metadata",
        ...}``), so the UI and the CLI share one dispatch."""
        action = request.get("action")
        slug = str(request.get("slug", ""))
        if action == "propose":
            return await self.propose(
                actor, slug, str(request.get("title", "")), str(request.get("body", "")),
                tuple(request.get("tags") or ()), tuple(request.get("arbiters") or ()),
            )
        if action == "edit":
            return await self.edit_body(actor, slug, str(request.get("body", "")))
        if action == "claim":
            return await self.claim(actor, slug)
        if action == "metadata":
            return await self.edit_metadata(actor, slug, dict(request.get("changes") or {}))
        raise ValidationError({"action": f"unknown action {action!r}"})

    def discard(self, action_id: int) -> None:
        """Forget a pending/failed action (the UI asks for confirmation first)."""
        self.actions.discard(action_id)  # type: ignore[attr-defined]

    # ------------------------------------------------------------ the pipeline

    async def _start(
        self,
        prefix: str,
        actor: Actor,
        slug: str,
        payload: dict[str, Any],
        warnings: list[str],
        *,
        logins: Iterable[str] = (),
    ) -> ActionResult:
        who = {"login": actor.login, "full_name": actor.full_name} if actor.login else None
        payload = {**payload, "actor": who}
        fresh: _Fresh | None = None
        if self.offline is None:
            # Reads only, before the row: a conflict found now is refused like the
            # cache's (nothing left to retry); see `_fresh` for why nothing is lost.
            fresh, more = await asyncio.gather(
                self._fresh(prefix, actor, slug), self._user_warnings(logins, actor)
            )
            warnings = [*warnings, *more]
        # §6.4: the row exists before the first write (and any step of the action).
        action_id = self.actions.add(KINDS[prefix], slug, actor.login, payload)
        if self.offline is not None:
            self._fail_offline(action_id, actor)
        return await self._execute(action_id, prefix, actor, payload, warnings, fresh)

    def _fail_offline(self, action_id: int, actor: Actor) -> None:
        """Gitea is unreachable: keep the action as failed, to retry later (§6.4)."""
        note = "" if actor.login else "; who you are is verified when you retry"
        message = f"Gitea unreachable: {self.offline}{note}"
        self.actions.mark_failed(action_id, message)
        raise ActionFailed(message, action_id, offline=True)

    async def _execute(
        self,
        action_id: int,
        prefix: str,
        actor: Actor,
        payload: dict[str, Any],
        warnings: list[str],
        fresh: _Fresh | None = None,
    ) -> ActionResult:
        try:
            plan = self._plan(prefix, actor, payload)
            number, url, reused, stacked = await self._run(plan, actor, fresh)
        except ValidationError as exc:
            self.actions.mark_failed(action_id, _one_line(str(exc)))
            raise ActionFailed(str(exc), action_id) from None
        except NothingToChange as exc:
            # Kept for audit, but not offered for retry: there is nothing to do.
            self.actions.mark_failed(action_id, str(exc))
            if hasattr(self.actions, "discard"):
                self.actions.discard(action_id)
            raise
        except ActionFailed as exc:
            self.actions.mark_failed(action_id, str(exc))
            exc.action_id = action_id
            raise
        except Exception as exc:  # GiteaError, transport errors, a malformed entry
            msg = _err_text(exc)
            self.actions.mark_failed(action_id, msg)
            raise ActionFailed(msg, action_id, offline=_unreachable(exc)) from None
        _mark_done(self.actions, action_id, number, url)
        refresh_error = None
        if self.refresh is not None:
            try:
                # a proposal's file is only on its branch: refresh just the PR
                await self.refresh(None if plan.kind == "propose" else plan.slug, number)
            except Exception as exc:  # the PR exists; a failed refresh is not a failed action
                refresh_error = _err_text(exc)
        return ActionResult(
            action_id=action_id,
            pr_number=number,
            html_url=url,
            branch=plan.branch,
            reused_pr=reused,
            warnings=tuple(warnings),
            refresh_error=refresh_error,
            stacked=stacked,
            note=(f"added to your open PR #{number}" if stacked
                  else f"already in your open PR #{number}" if reused else ""),
        )

    def _plan(self, prefix: str, actor: Actor, payload: dict[str, Any]) -> _Plan:
        slug = validate_slug(str(payload.get("slug", "")))
        who = f"{actor.display_name} ({actor.login})"
        if prefix == "propose":
            title = str(payload["title"])
            body = str(payload.get("body") or "")
            proposed_at = datetime.fromisoformat(str(payload["proposed_at"]))
            new = entry_mod.new_idea(
                slug, title, actor.login, proposed_at,
                body=body, tags=payload.get("tags") or (), arbiters=payload.get("arbiters") or (),
            )
            text = entry_mod.dump_entry(new)

            def make_new(current: str | None) -> str:
                if current is not None and current != text:
                    raise ActionFailed(f"rfcs/{slug}.md already exists; pick another slug")
                return text

            safe_title = " ".join(title.split())
            return _Plan(
                "propose", slug,
                subject=f"Propose RFC idea: {safe_title}",
                commit_body=f"Adds rfcs/{slug}.md in state idea, proposed by {who}.",
                pr_title=f"Propose RFC idea: {safe_title}",
                pr_body=_pr_body(
                    f"Proposes a new RFC idea `{slug}`: {safe_title}", body, who
                ),
                transform=make_new,
                must_exist=False,
            )
        if prefix == "edit":
            body = str(payload["body"])

            def edit(e: Entry) -> None:
                e.body = body

            return _Plan(
                "edit", slug,
                subject=f"Edit body of {slug}",
                commit_body=f"Replaces the body of rfcs/{slug}.md for {who}.",
                pr_title=f"Edit body of {slug}",
                pr_body=_pr_body(f"Replaces the body of `{slug}` with:", body, who),
                transform=_rewrite(slug, edit),
            )
        if prefix == "claim":

            def claim(e: Entry) -> None:
                if not any(same_login(actor.login, o) for o in e.owners):
                    e.owners = [*e.owners, actor.login]

            return _Plan(
                "claim", slug,
                subject=f"Claim {slug} for {actor.login}",
                commit_body=f"Adds {actor.login} to the owners of rfcs/{slug}.md.",
                pr_title=f"Claim {slug} for {actor.login}",
                pr_body=_pr_body(f"{who} claims `{slug}`: adds them to `owners`.", "", who),
                transform=_rewrite(slug, claim),
            )
        if prefix == "metadata":
            changes = check_metadata(slug, payload.get("changes") or {})

            def update(e: Entry) -> None:
                for key, value in changes.items():
                    attr = "rfc_id" if key == "id" else key
                    if key in entry_mod.FIELD_ORDER:
                        setattr(e, attr, value)
                    else:
                        e.extra[key] = value

            summary = "\n".join(
                f"- `{k}`: {_show(v)}" for k, v in changes.items()
            )
            stem = f"Update metadata of {slug}"

            def describe(main_text: str | None, branch_text: str) -> tuple[str, str]:
                lines, keys = _entry_changes(slug, main_text, branch_text)
                listed = "\n".join(lines) or f"- nothing differs from {BASE} any more"
                intro = f"Changes the front matter of `{slug}` (every change on this branch):"
                return _metadata_title(stem, keys), _pr_body(intro, listed, who)

            return _Plan(
                "metadata", slug,
                subject=_metadata_title(stem, list(changes)),
                commit_body=f"Changes front matter of rfcs/{slug}.md:\n{summary}",
                pr_title=stem,
                pr_body="",
                transform=_rewrite(slug, update),
                describe=describe,
                title_stem=stem,
            )
        raise ActionFailed(f"unknown action {prefix!r}")

    async def _run(
        self, plan: _Plan, actor: Actor, fresh: _Fresh | None = None
    ) -> tuple[int, str, bool, bool]:
        """Branch+commit → PR, each step reusing what an earlier attempt left.

        Independent reads run together (main's file and the head's state), and a new
        branch is created by the commit itself (`new_branch`), so a fresh action costs
        two reads, one commit and one PR. `fresh` is `_start`'s read of the head, not
        asked again. Returns (number, url, reused, stacked): stacked when this action
        added to the actor's PR already open (a commit, or its description rewritten).
        """
        c, o, r = self.client, self.owner, self.repo
        path = f"rfcs/{plan.slug}.md"
        if plan.kind == "edit":
            plan.branch, open_pr, branch_exists, main_text, main_sha = (
                await self._edit_branch(plan, actor, path)
            )
        else:
            plan.branch = f"{plan.kind}/{plan.slug}"
            if fresh is not None:
                (main_text, main_sha), tip = await self._read_sha(path, BASE), fresh.tip
            else:
                (main_text, main_sha), tip = await asyncio.gather(
                    self._read_sha(path, BASE), self._branch_tip(plan.branch)
                )
            _must_exist(plan, path, main_text)
            open_pr, branch_exists = await self._single_branch(
                plan, actor, main_text, tip, fresh.pulls if fresh is not None else None
            )
        head = plan.branch
        message = trailer.compose(f"{plan.subject}\n\n{plan.commit_body}",
                                  actor.display_name, actor.login)
        people = {
            "author": {"name": actor.display_name, "email": self._noreply(actor.login)},
            "committer": {"name": self.bot_name, "email": self._noreply(self.bot_login)},
        }
        committed = False
        # 1. a new branch and its commit in one request
        if not branch_exists:
            intended = plan.transform(main_text)
            if intended == main_text:
                if plan.kind == "claim":
                    raise NothingToChange(f"{actor.login} already owns {plan.slug}")
                raise NothingToChange(f"nothing to change: {path} on {BASE} already says that")
            try:
                await c.change_files(o, r, [_file_op(path, intended, main_text, main_sha)],
                                     message, branch=BASE, new_branch=head, **people)
            except Exception as exc:
                # 422 "branch already exists": another attempt made it meanwhile
                if _status(exc) != 422 or "already exists" not in str(exc):
                    raise
                branch_exists = True
        # 2. an existing branch: commit only if it lacks the intended content
        if branch_exists:
            current, sha = await self._read_sha(path, head)
            base_text = current if current is not None else main_text
            intended = plan.transform(base_text)
            if current != intended:
                await c.change_files(o, r, [_file_op(path, intended, current, sha)],
                                     message, branch=head, **people)
                committed = True
        # 3. the PR (an open one for this head is reused, never duplicated) and what it
        # says: every change on the branch, this one included (issue 9)
        if open_pr is not None:
            redone = await self._redescribe(plan, actor, open_pr, main_text, intended)
            return (int(open_pr["number"]), str(open_pr.get("html_url") or ""), True,
                    committed or redone)
        title, pr_body = plan.pr_title, plan.pr_body
        if plan.describe is not None:
            title, pr_body = plan.describe(main_text, intended)
        body = trailer.compose(pr_body, actor.display_name, actor.login)
        try:
            pr = await c.create_pull(o, r, head=head, base=BASE, title=title, body=body)
            return int(pr["number"]), str(pr.get("html_url") or ""), False, False
        except Exception as exc:
            if _status(exc) != 409:
                raise
            # 409 names the open PR for this head (API-NOTES §3.3): reuse it if it is
            # this actor's, never someone else's.
            pr = await self._conflicting_pull(exc, head)
            if pr is None:
                raise
            owner = self._pr_owner(plan.slug, pr)
            if not same_login(owner, actor.login):
                raise ActionFailed(
                    f"{head} already has open PR #{pr.get('number')} opened for {owner}; "
                    "review or comment there"
                ) from None
            redone = await self._redescribe(plan, actor, pr, main_text, intended)
            return int(pr["number"]), str(pr.get("html_url") or ""), True, committed or redone

    async def _redescribe(
        self, plan: _Plan, actor: Actor, pr: Mapping[str, Any], main_text: str | None,
        branch_text: str,
    ) -> bool:
        """Rewrite an open PR's description (and a title the bot wrote) to list every
        change on its branch compared with main, trailer block last (§6.2); True if a
        PATCH was sent. A title a person changed in Gitea is kept."""
        if plan.describe is None:
            return False
        title, text = plan.describe(main_text, branch_text)
        fields: dict[str, str] = {}
        body = trailer.compose(text, actor.display_name, actor.login)
        if body != str(pr.get("body") or ""):
            fields["body"] = body
        current = str(pr.get("title") or "")
        if title != current and plan.title_stem and current.startswith(plan.title_stem):
            fields["title"] = title
        if not fields:
            return False
        await self.client.edit_pull(self.owner, self.repo, int(pr["number"]), **fields)
        return True

    async def _conflicting_pull(self, exc: BaseException, head: str) -> dict[str, Any] | None:
        """The open PR a 409 on create was about: by its `issue_id`, else by listing."""
        m = re.search(r"issue_id: (\d+)", str(getattr(exc, "message", "") or exc))
        if m:
            try:
                pr = await self.client.get_pull(self.owner, self.repo, int(m.group(1)))
            except Exception as err:
                if _status(err) != 404:
                    raise
            else:
                if isinstance(pr, dict) and _is_open(pr):
                    return pr
        return (await self._open_pull_for(head))[0]

    async def _read(self, path: str, ref: str) -> str | None:
        """The file's text at `ref`, or None if absent."""
        return (await self._read_sha(path, ref))[0]

    async def _read_sha(self, path: str, ref: str) -> tuple[str | None, str | None]:
        """The file's text and blob sha at `ref`; (None, None) if absent."""
        try:
            data = await self.client.get_contents(self.owner, self.repo, path, ref=ref)
        except Exception as exc:
            if _status(exc) == 404:
                return None, None
            raise
        if not isinstance(data, dict) or data.get("type", "file") != "file":
            raise ActionFailed(f"{path} on {ref} is not a file")
        raw = base64.b64decode(data.get("content") or "")
        try:
            return raw.decode("utf-8"), data.get("sha")
        except UnicodeDecodeError:
            raise ActionFailed(f"{path} on {ref} is not UTF-8 text") from None

    async def _pull_for(self, head: str) -> dict[str, Any] | None:
        try:
            pr = await self.client.get_pull_by_head(self.owner, self.repo, BASE, head)
        except Exception as exc:
            if _status(exc) == 404:
                return None
            raise
        return pr if isinstance(pr, dict) else None

    async def _branch_tip(self, name: str) -> str | None:
        """The branch's head commit sha, or None when there is no such branch."""
        try:
            data = await self.client.get_branch(self.owner, self.repo, name)
        except Exception as exc:
            if _status(exc) == 404:
                return None
            raise
        commit = data.get("commit") if isinstance(data, Mapping) else None
        return str((commit or {}).get("id") or "") or None

    async def _open_pull_for(
        self, head: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the OPEN PR for `head` into main, some PR for `head` in any state).

        `pulls/{base}/{head}` returns *one* PR of any state, and which one is undefined
        when several share the head (API-NOTES §3.7): an open answer is the open PR
        (Gitea allows only one per head and base), anything else is confirmed by
        listing the open PRs.
        """
        any_pr = await self._pull_for(head)
        if any_pr is None:
            return None, None
        if _is_open(any_pr):
            return any_pr, any_pr
        async for pr in self.client.iter_pulls(self.owner, self.repo, state="open"):
            ref = (pr.get("head") or {}).get("ref")
            base = (pr.get("base") or {}).get("ref")
            if ref == head and base in (None, BASE) and _is_open(pr):
                return pr, any_pr
        return None, any_pr

    def _pr_owner(self, slug: str, pr: Mapping[str, Any]) -> str:
        """Whom an open PR was opened for, in §6.3's order: a Gitea author other than
        the bot; else our actions log; else the final trailer block; else the bot."""
        user = _login(pr)
        if user and not same_login(user, self.bot_login):
            return user
        find = getattr(self.actions, "find_pr_actor", None)
        if find is not None and pr.get("number") is not None:
            who = find(slug, int(pr["number"]))
            if who:
                return str(who)
        return trailer.on_behalf_of(str(pr.get("body") or "")) or self.bot_login

    async def _single_branch(
        self,
        plan: _Plan,
        actor: Actor,
        main_text: str | None,
        tip: str | None,
        pulls: tuple[dict[str, Any] | None, dict[str, Any] | None] | None = None,
    ) -> tuple[dict[str, Any] | None, bool]:
        """`propose/claim/metadata/<slug>`: one branch per slug (§5).

        An open PR on it opened for someone else is theirs: refuse rather than pile a
        second person's change onto it. A branch is deleted (and the action starts
        again from main) only when no PR is open on it AND its tip is exactly the head
        of its closed or merged PR — never on the strength of a lookup that may have
        returned an older PR while a newer one is open. A PR-less branch (an
        interrupted attempt, maybe someone else's) is built on only if its file is
        main's or exactly this action's; otherwise it is replaced from main.
        """
        head = plan.branch
        if tip is None:
            # No branch, no open PR: deleting a head branch closes its PRs.
            return None, False
        open_pr, any_pr = pulls if pulls is not None else await self._open_pull_for(head)
        if open_pr is not None:
            owner = self._pr_owner(plan.slug, open_pr)
            if not same_login(owner, actor.login):
                raise ActionFailed(
                    f"{head} already has open PR #{open_pr.get('number')} opened for "
                    f"{owner}; review or comment there"
                )
            return open_pr, True
        if any_pr is not None and _head_sha(any_pr) == tip:  # a leftover branch
            await self.client.delete_branch(self.owner, self.repo, head)
            return None, False
        current = await self._read(f"rfcs/{plan.slug}.md", head)
        if current == main_text or current == _intended(plan, main_text):
            return None, True
        # No open PR uses it, so nobody's review is lost: start again from main.
        await self.client.delete_branch(self.owner, self.repo, head)
        return None, False

    def _taken_edit_numbers(self, slug: str, actor: Actor) -> set[int]:
        """`n`s the cache already knows are not this actor's to reuse: a closed or merged
        edit PR, or an open one opened for someone else. Skipping them saves two
        requests each; anything the cache does not know is asked of Gitea."""
        src = self._existing
        pulls_for = getattr(src, "pulls_for", None)
        if pulls_for is None:
            return set()
        try:
            rows = list(pulls_for(slug))
        except Exception:
            return set()
        taken: set[int] = set()
        prefix = f"edit/{slug}/"
        for row in rows:
            branch = str(getattr(row, "head_branch", "") or "")
            if not branch.startswith(prefix) or not branch[len(prefix):].isdigit():
                continue
            if getattr(row, "state", None) != "open" or not same_login(
                getattr(row, "opened_by", None), actor.login
            ):
                taken.add(int(branch[len(prefix):]))
        return taken

    async def _edit_branch(
        self, plan: _Plan, actor: Actor, path: str
    ) -> tuple[str, dict[str, Any] | None, bool, str | None, str | None]:
        """Pick `edit/<slug>/<n>`: the first n a previous attempt of this edit by this
        actor left (same content; an open PR only if it is theirs, §6.3), else the next
        free n (no branch and no PR ever used it). Returns the branch, its open PR,
        whether it exists, and main's text and blob sha (read alongside the first n)."""
        taken = self._taken_edit_numbers(plan.slug, actor)
        candidates = (n for n in range(1, 1000) if n not in taken)

        async def probe(n: int) -> tuple[str | None, dict[str, Any] | None]:
            head = f"edit/{plan.slug}/{n}"
            tip, pr = await asyncio.gather(self._branch_tip(head), self._pull_for(head))
            return tip, pr

        first = next(candidates)
        (main_text, main_sha), state = await asyncio.gather(
            self._read_sha(path, BASE), probe(first)
        )
        _must_exist(plan, path, main_text)
        intended = plan.transform(main_text)
        n = first
        while True:
            head = f"edit/{plan.slug}/{n}"
            tip, pr = state
            if pr is None and tip is None:
                return head, None, False, main_text, main_sha
            is_open = pr is not None and _is_open(pr)
            mine = not is_open or (
                pr is not None and same_login(self._pr_owner(plan.slug, pr), actor.login)
            )
            if tip is not None and mine and (pr is None or is_open):
                current = await self._read(path, head)
                if current is not None and (
                    current == intended or (pr is None and current == main_text)
                ):
                    return head, pr if is_open else None, True, main_text, main_sha
            n = next(candidates, 0)
            if not n:
                raise ActionFailed(f"too many edit branches for {plan.slug}")
            state = await probe(n)


# ---------------------------------------------------------------- helpers


def _field(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


def _mark_done(log: Any, action_id: int, number: int, url: str) -> None:
    """`mark_done(id, pr_number[, html_url])`: pass the URL when the log keeps it."""
    fn = log.mark_done
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    if len(params) >= 3 or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        fn(action_id, number, url)
    else:
        fn(action_id, number)


def _must_exist(plan: _Plan, path: str, main_text: str | None) -> None:
    if plan.must_exist and main_text is None:
        # Not offered for retry (kept for audit): retrying would find the same.
        raise NothingToChange(f"{path} does not exist on {BASE}; nothing to change")


def _file_op(path: str, text: str, current: str | None, sha: str | None) -> dict[str, Any]:
    """A `change_files` operation turning `current` (None: absent) into `text`."""
    op: dict[str, Any] = {"path": path, "content": _b64(text)}
    if current is None:
        op["operation"] = "create"
    else:
        op["operation"] = "update"
        op["sha"] = sha
    return op


def _intended(plan: _Plan, text: str | None) -> str | None:
    """What the action would make of `text` (None when it cannot apply to it)."""
    try:
        return plan.transform(text)
    except ActionFailed:
        return None


def _is_open(pr: Mapping[str, Any]) -> bool:
    return pr.get("state") == "open" and not pr.get("merged")


def _head_sha(pr: Mapping[str, Any]) -> str | None:
    head = pr.get("head")
    return str(head.get("sha") or "") or None if isinstance(head, Mapping) else None


def _login(pr: Mapping[str, Any]) -> str:
    user = pr.get("user") or {}
    return str(user.get("login") or "") if isinstance(user, Mapping) else ""


def _rewrite(slug: str, change: Callable[[Entry], None]) -> Callable[[str | None], str]:
    """A `_Plan.transform` for an existing entry: parse the current text, let `change`
    edit the Entry in place, write it back (edit, claim and metadata differ only there)."""

    def transform(current: str | None) -> str:
        e = _parse(slug, current)
        change(e)
        return entry_mod.dump_entry(e)

    return transform


def _parse(slug: str, text: str | None) -> Entry:
    if text is None:
        raise ActionFailed(f"rfcs/{slug}.md does not exist")
    try:
        return entry_mod.parse_entry(f"rfcs/{slug}.md", text.encode("utf-8"))
    except EntryError as exc:
        raise ActionFailed(f"cannot change a malformed entry: {exc}") from None


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "[]"
    if isinstance(value, datetime):
        return entry_mod.format_datetime(value)
    return "null" if value is None else _one_line(str(value))


def _metadata_title(stem: str, keys: Sequence[str]) -> str:
    """``Update metadata of <slug>: state, tags``: the title names every changed field."""
    if not keys:
        return stem
    title = f"{stem}: {', '.join(keys)}"
    return title if len(title) <= TITLE_MAX else f"{stem}: {len(keys)} fields"


def _entry_changes(
    slug: str, old_text: str | None, new_text: str
) -> tuple[list[str], list[str]]:
    """Markdown bullets for what `new_text` changes in `old_text` (front matter
    ``old → new`` in file order, then ``body: +A −R lines``), and the changed keys."""
    new = _parse(slug, new_text)
    old = _parse(slug, old_text) if old_text is not None else None
    after = {**new.front_matter(), **new.extra}
    before = {**old.front_matter(), **old.extra} if old is not None else {}
    lines: list[str] = []
    keys: list[str] = []
    for key in dict.fromkeys([*after, *before]):
        a, b = before.get(key), after.get(key)
        if a != b and not (a in (None, []) and b in (None, [])):
            keys.append(str(key))
            lines.append(f"- `{key}`: {_show(a)} → {_show(b)}")
    old_body = old.body if old is not None else ""
    if old_body != new.body:
        added = removed = 0
        matcher = difflib.SequenceMatcher(
            None, old_body.splitlines(), new.body.splitlines(), autojunk=False
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                removed += i2 - i1
            if tag in ("replace", "insert"):
                added += j2 - j1
        keys.append("body")
        lines.append(f"- body: +{added} \u2212{removed} lines")
    return lines, keys


def _pr_body(intro: str, text: str, who: str) -> str:
    """A PR description: what the bot does, the user's text, on whose behalf.

    Not neutralised here: `trailer.compose` neutralises the whole description once.
    """
    parts = [intro]
    if text.strip():
        parts.append(text.strip())
    parts.append(f"Opened by the RFC bot on behalf of {who}.")
    return "\n\n".join(parts)


# ---------------------------------------------------------------- wiring (CLI and UI)


BOT_TOKEN_AS_USER = "RFCTUI_USER_TOKEN is the bot's token; use your own"
# Which typed logins Gitea has, per server, for this process (the UI opens a session per
# action): one GET /users/{login} per login, however many actions name it.
_SESSION_USERS: dict[str, dict[str, bool]] = {}


class _IdentityFile:
    """The last verified actor per user token, so an action typed while Gitea is
    unreachable is saved under the right name (§6.4).

    Keyed by a SHA-256 fingerprint of server URL and token — never the token itself —
    in a 0600 JSON file next to the actions log. Best effort: any I/O error means
    "not known", never a failed action.
    """

    def __init__(self, config: Any, token: Any) -> None:
        log = getattr(config, "actions_file", None)
        self.path = Path(log).with_suffix(".identity.json") if log else None
        material = f"{getattr(config, 'gitea_url', '')}\n{_reveal(token)}".encode()
        self.key = hashlib.sha256(material).hexdigest()

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load(self) -> Actor | None:
        entry = self._read().get(self.key)
        if not isinstance(entry, dict):
            return None
        login = str(entry.get("login") or "")
        if not login or not set(login) <= _LOGIN_CHARS:
            return None
        return Actor(login, _one_line(str(entry.get("full_name") or "")) or login, offline=True)

    def save(self, actor: Actor) -> None:
        if self.path is None:
            return
        data = self._read()
        if data.get(self.key) == {"login": actor.login, "full_name": actor.full_name}:
            return
        data[self.key] = {"login": actor.login, "full_name": actor.full_name}
        try:  # 0600 in a 0700 directory whatever the umask (§11)
            write_private(self.path, json.dumps(data, sort_keys=True).encode())
        except OSError:
            pass


def _reveal(token: Any) -> str:
    """A token's text (a `config.Secret` or a plain string); never logged or shown."""
    reveal = getattr(token, "reveal", None)
    return str(reveal() if callable(reveal) else token or "")


def _same_secret(a: Any, b: Any) -> bool:
    ta, tb = _reveal(a), _reveal(b)
    return bool(ta) and hmac.compare_digest(ta.encode(), tb.encode())


def _has_rows(cache: Any) -> bool:
    """Only a cache that has listed the entries (a quick/full sweep, not just targeted
    refreshes) can say which entries exist: otherwise do not use it as a gate."""
    try:
        from rfctui.cache import K_PULLS_TOTAL  # written by listing sweeps only

        return K_PULLS_TOTAL in cache.state() and bool(cache.list_items())
    except Exception:
        return False


@contextlib.asynccontextmanager
async def bot_session(
    config: Any,
    actions: Any,
    *,
    cache: Any | None = None,
    transport: Any | None = None,
    actor: Actor | None = None,
) -> AsyncIterator[tuple[Bot, Actor]]:
    """Verify the actor with the user's token, then yield a `Bot` on the bot's token.

    With a `cache`, proposals are checked against it and each success ends with the
    reconciler's targeted refresh (§4.1). The one code path for the CLI and the UI.
    """
    from rfctui.gitea import GiteaClient

    base = config.gitea_url
    transport = transport if transport is not None else getattr(config, "transport", None)
    kw: dict[str, Any] = {"transport": transport} if transport is not None else {}
    bot_login = getattr(config, "bot_user", None) or "rfc-bot"
    offline: str | None = None
    if actor is None:
        user_token = getattr(config, "user_token", None)
        if not user_token:
            actor = await verify_actor(None)
        else:
            if _same_secret(user_token, getattr(config, "bot_token", None)):
                raise ActionsDisabled(BOT_TOKEN_AS_USER)
            ids = _IdentityFile(config, user_token)
            try:
                async with GiteaClient(base, user_token, **kw) as uc:
                    actor = await verify_actor(uc)
            except IdentityUnreachable as exc:
                # §6.4: nothing typed is lost. Save under the identity last verified
                # for this token (or none), fail it, and verify again on retry.
                offline = str(exc).removeprefix("cannot verify who you are: ")
                actor = ids.load() or Actor("", "", offline=True)
            else:
                if not same_login(actor.login, bot_login):
                    ids.save(actor)
    if same_login(actor.login, bot_login):
        # The bot acting "on behalf of" itself would attribute nothing to anyone (§6.2).
        raise ActionsDisabled(BOT_TOKEN_AS_USER)
    async with GiteaClient(base, getattr(config, "bot_token", None), **kw) as client:
        refresh: Refresh | None = None
        if cache is not None:
            from rfctui.cache import Reconciler

            rec = Reconciler(client, cache, config.org, config.meta_repo, bot_login,
                             actions=actions)

            async def refresh(slug: str | None, pr_number: int) -> Any:
                return await rec.refresh(slug=slug, pr_number=pr_number)

        bot = Bot(
            client, config.org, config.meta_repo, bot_login, actions, refresh,
            existing=cache if cache is not None and _has_rows(cache) else None,
            host=urlsplit(str(base)).hostname or None,
            users=_SESSION_USERS.setdefault(str(base), {}),
        )
        bot.offline = offline
        yield bot, actor
