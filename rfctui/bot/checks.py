"""The pure checks of a bot action (SPEC §2, §3, §5, §6), shared by the forms, the CLI
and `Bot` itself: nothing here sends a request or writes a file.

Validation says what is wrong with the input (`ValidationError`, per form field);
`preflight` says what the cache already knows would fail (someone else's open PR on
the branch, a pending idea, already an owner), before the actions log row is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from rfctui import entry as entry_mod
from rfctui.bot.errors import ValidationError
from rfctui.bot.identity import LOGIN_CHARS, Actor
from rfctui.entry import STATES, InvalidSlug, validate_slug
from rfctui.logins import same_login
from rfctui.rows import K_PULLS_TOTAL, ListItem, PRRow

__all__ = [
    "BASE",
    "DUPLICATE_RATIO",
    "LIST_KEYS",
    "LOCKED_KEYS",
    "SCALAR_KEYS",
    "TITLE_MAX",
    "CacheReads",
    "RowSource",
    "check_edit",
    "check_metadata",
    "check_propose",
    "has_listed_rows",
    "parse_metadata_value",
    "preflight",
]

BASE = "main"
TITLE_MAX = 200
DUPLICATE_RATIO = 0.85
# Front-matter keys a metadata edit may set, with their shape; others are kept as text.
LIST_KEYS = ("owners", "arbiters", "tags")
SCALAR_KEYS = ("title", "state", "repo", "graduated_by", "waiting_on", "superseded_by")
LOCKED_KEYS = ("slug",)
# A front-matter value as a metadata edit sets it (after `parse_metadata_value`).
MetaValue = str | int | list[str] | None


class CacheReads(Protocol):
    """The reads of a `db.Cache` the checks need (peewee-free `rows` types)."""

    def list_items(self) -> Sequence[ListItem]: ...

    def pulls_for(self, slug: str) -> Sequence[PRRow]: ...

    def state(self) -> Mapping[str, str | None]: ...


# Where the left-pane rows come from: a cache, a callable returning rows, or rows. The
# rows are duck-typed (`slug`, `title`, `kind`, `owners`, ...): a `rows.ListItem` or
# anything shaped like it (the forms pass the list they show).
RowSource = CacheReads | Callable[[], Iterable[object]] | Iterable[object]


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
        if not v or not set(v) <= LOGIN_CHARS:
            return f"{entry_mod.safe_repr(v, 30)} is not a Gitea login"
    return None


def _check_tags(values: Iterable[str]) -> str | None:
    for v in values:
        if not v or any(c.isspace() or c in ",[]{}#" or not c.isprintable() for c in v):
            return f"{entry_mod.safe_repr(v, 30)} is not a valid tag (no spaces or commas)"
    return None


def slug_error(slug: str) -> str | None:
    """Why `slug` is not a valid slug (§2), or None."""
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
    existing: Iterable[object] = (),
) -> list[str]:
    """Validate a proposal (§2, §6); raise `ValidationError`, return warnings.

    `existing` are cache rows with `.slug`, `.title` (entries and pending ideas): a
    taken slug is an error, a very similar title only a warning.
    """
    errors: dict[str, str] = {}
    if msg := slug_error(slug):
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
    if msg := slug_error(slug):
        errors["slug"] = msg
    if not (body or "").strip():
        errors["body"] = "the body is empty; write something or cancel"
    if errors:
        raise ValidationError(errors)


def parse_metadata_value(key: str, raw: str) -> MetaValue:
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


def check_metadata(slug: str, changes: Mapping[str, object]) -> dict[str, object]:
    """Validate metadata changes (§2, §3); return them normalised.

    The slug cannot change, `state` must be a known §3 state, lists must be lists of
    logins/tags, keys must be plain identifiers. The body is not metadata.
    """
    errors: dict[str, str] = {}
    if msg := slug_error(slug):
        errors["slug"] = msg
    if not changes:
        errors["changes"] = "nothing to change"
    out: dict[str, object] = {}
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


def source_rows(source: RowSource | None) -> list[object]:
    """The left-pane rows of a `db.Cache`, a callable returning rows, or rows."""
    if source is None:
        return []
    list_items = getattr(source, "list_items", None)
    if list_items is not None:
        return list(list_items())
    if callable(source):
        return list(source())
    return list(source)  # type: ignore[arg-type]  # a CacheReads took the first branch


def source_pulls(source: RowSource | None, slug: str) -> list[object]:
    """The cache's PR rows for `slug` (none when `source` is only rows)."""
    pulls_for = getattr(source, "pulls_for", None)
    return list(pulls_for(slug)) if pulls_for is not None else []


def taken(head: str, number: object, who: object) -> str:
    """The one line refusing an action onto someone else's open PR on `head`."""
    return f"{head} already has open PR #{number} by {who}; review or comment there"


def has_listed_rows(cache: CacheReads) -> bool:
    """Only a cache that has listed the entries (a quick/full sweep, not just targeted
    refreshes) can say which entries exist: otherwise do not use it as a gate."""
    try:
        return K_PULLS_TOTAL in cache.state() and bool(cache.list_items())
    except Exception:
        return False


def preflight(
    actor: Actor | str, request: Mapping[str, object], cache: RowSource | None
) -> str | None:
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
    if action not in ("edit", "claim", "metadata") or cache is None or slug_error(slug):
        return None
    login = actor if isinstance(actor, str) else actor.login
    rows = [r for r in source_rows(cache)
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
        for pr in source_pulls(cache, slug):
            if (getattr(pr, "head_branch", None) == head and getattr(pr, "state", None) == "open"
                    and not same_login(getattr(pr, "opened_by", None), login)):
                return taken(head, getattr(pr, "number", "?"), getattr(pr, "opened_by", ""))
    return None


