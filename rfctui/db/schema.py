"""The tables of the cache and the actions log, and how values are stored (SPEC §4.2, §6.4).

Datetimes are stored as RFC 3339 UTC text (``2026-10-02T14:03:00Z``) and read back as
aware UTC datetimes. Lists and unknown front-matter keys are stored as JSON text.

The module-level models are bound to no database: each open file gets its own
subclasses (`BoundModels`), so several files can be open in one process and a model is
never re-bound under another thread's feet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import peewee as pw

from rfctui.rows import format_dt, parse_dt

__all__ = [
    "CACHE_MODELS",
    "PR_COLUMNS",
    "RFC_COLUMNS",
    "Action",
    "Base",
    "BoundModels",
    "CachedPR",
    "CachedRFC",
    "EntryCommit",
    "EntryHistory",
    "HeadFile",
    "JSONField",
    "SyncState",
    "UTCDateTimeField",
    "dict_rows",
    "dumps",
    "json_default",
    "tuple_rows",
]


# ---------------------------------------------------------------- value helpers


def json_default(value: object) -> object:
    """`json.dumps` ``default=``: datetimes as RFC 3339 UTC text, sets as lists."""
    if isinstance(value, datetime):
        return format_dt(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def dumps(value: object) -> str:
    """Compact JSON text, as stored (non-ASCII kept as is)."""
    return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))


# peewee's stubs make fields generic in the value they read back; the runtime classes
# cannot be subscripted.
if TYPE_CHECKING:
    _DateTimeText = pw.TextField[datetime | None]
    _JSONText = pw.TextField[Any]  # any JSON value
else:
    _DateTimeText = _JSONText = pw.TextField


class UTCDateTimeField(_DateTimeText):
    """An aware UTC datetime stored as RFC 3339 text (sorts chronologically per second)."""

    def db_value(self, value: datetime | date | str | None) -> str | None:
        return format_dt(value)

    def python_value(self, value: str | None) -> datetime | None:
        return parse_dt(value) if value is not None else None


class JSONField(_JSONText):
    """Any JSON-able value as compact JSON text."""

    def db_value(self, value: object) -> str | None:
        return None if value is None else dumps(value)

    def python_value(self, value: str | bytes | None) -> Any:  # any JSON value
        return None if value is None else json.loads(value)


# ---------------------------------------------------------------- models (§4.2)


class Base(pw.Model):
    class Meta:
        database = None
        legacy_table_names = False


class CachedRFC(Base):
    """One entry of ``rfcs/`` as last seen on ``main`` (§2, §4.2)."""

    # Column order matters: the left-pane columns come first and the big text last, so
    # list_items() never walks a body's overflow pages to reach a small column.
    id = pw.AutoField()  # what peewee adds anyway; declared so the type checker knows it
    slug = pw.TextField(unique=True)
    title = pw.TextField()
    state = pw.TextField()
    rfc_id = pw.IntegerField(null=True)
    owners = JSONField(default=list)
    arbiters = JSONField(default=list)
    tags = JSONField(default=list)
    proposed_by = pw.TextField(null=True)
    proposed_at = UTCDateTimeField(null=True)
    removed = pw.BooleanField(default=False)  # deleted from main out of band (§4.1)
    state_since = UTCDateTimeField(null=True)  # see rfctui.reconcile: time in state
    html_url = pw.TextField(null=True)
    path = pw.TextField()
    repo = pw.TextField(null=True)
    graduated_at = UTCDateTimeField(null=True)
    graduated_by = pw.TextField(null=True)
    extra = JSONField(default=dict)  # unknown front-matter keys, in file order
    body_sha = pw.TextField()  # git blob sha of the file the row was parsed from
    last_entry_commit_at = UTCDateTimeField(null=True)
    last_commit_sha = pw.TextField(null=True)
    updated_at = UTCDateTimeField(null=True)  # when this row last changed locally
    body = pw.TextField(default="")

    class Meta:
        table_name = "cached_rfc"
        # The first screen (rows.Reader.list_head): group sizes from this index alone,
        # and each group's first rows by slug, without reading the table's pages.
        indexes = ((("state", "slug", "removed", "rfc_id"), False),)


class CachedPR(Base):
    """One of *our* pull requests on the meta repo (§5); foreign branches are not stored."""

    id = pw.AutoField()
    repo = pw.TextField()  # "owner/name"
    pr_number = pw.IntegerField()
    rfc_slug = pw.TextField()
    pr_kind = pw.TextField()
    title = pw.TextField(default="")
    description = pw.TextField(default="")
    state = pw.TextField()  # open | closed | merged (§5)
    opened_by = pw.TextField()  # the real actor (§6.3)
    user_login = pw.TextField(null=True)  # who Gitea says opened it (often the bot)
    opened_at = UTCDateTimeField(null=True)
    merged_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)
    updated_at = UTCDateTimeField(null=True)  # Gitea's updated_at (the PR watermark)
    head_branch = pw.TextField()
    base_branch = pw.TextField(default="main")
    head_sha = pw.TextField(null=True)
    html_url = pw.TextField(default="")

    class Meta:
        table_name = "cached_pr"
        indexes = (
            (("repo", "pr_number"), True),
            (("rfc_slug", "state"), False),
        )


class SyncState(Base):
    """Key/value: schema version, per-kind sweep start/end/outcome/error, watermarks."""

    key = pw.TextField(primary_key=True)
    value = pw.TextField(null=True)

    class Meta:
        table_name = "sync_state"


class HeadFile(Base):
    """An entry file at the head commit of one of our PRs (issue 11 §1, issue 12 §1).

    Keyed by (pr_number, head_sha): a head is immutable, so a row is fetched once and
    serves the queue (a pending idea's arbiters) and the change view offline. ``text``
    is NULL when the file is absent at that head (a PR that deletes it).
    """

    pr_number = pw.IntegerField()
    head_sha = pw.TextField()
    path = pw.TextField()
    text = pw.TextField(null=True)
    fetched_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "head_file"
        primary_key = pw.CompositeKey("pr_number", "head_sha")


class EntryCommit(Base):
    """One commit on ``main`` touching ``rfcs/<slug>.md`` (issue 11 §2, issue 12 §2).

    Fetched once per entry head (``EntryHistory.head_sha``) by `rfctui.history` and
    reused: time in state and the entry's timeline. ``pos`` orders it, 0 = newest.
    ``state_after`` is the entry's state in the file at that commit when it was read
    (NULL: not read, or absent/malformed there: see ``read``).
    """

    slug = pw.TextField()
    pos = pw.IntegerField()
    sha = pw.TextField()
    at = UTCDateTimeField(null=True)  # committer time
    author_login = pw.TextField(null=True)
    author_name = pw.TextField(null=True)
    committer_login = pw.TextField(null=True)
    message = pw.TextField(default="")
    state_after = pw.TextField(null=True)
    read = pw.BooleanField(default=False)  # the file at this commit was read

    class Meta:
        table_name = "entry_commit"
        primary_key = pw.CompositeKey("slug", "pos")


class EntryHistory(Base):
    """Per entry: which commit list is stored and the exact time in state it gave.

    ``head_sha``: the newest commit of the stored `EntryCommit` list (the entry's
    ``last_commit_sha`` it was fetched for). ``state``/``since``: the entry entered
    ``state`` at ``since`` — exact, from the history or from a sweep that saw the
    change; ``done_sha``: the head the history walk finished for (NULL: not finished).
    """

    slug = pw.TextField(primary_key=True)
    head_sha = pw.TextField(null=True)
    done_sha = pw.TextField(null=True)
    state = pw.TextField(null=True)
    since = UTCDateTimeField(null=True)
    fetched_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "entry_history"


class Action(Base):
    """One row of the §6.4 actions log (in its own file, never in the cache)."""

    id = pw.AutoField()
    kind = pw.TextField()
    slug = pw.TextField()
    on_behalf_of = pw.TextField()
    payload = JSONField(default=dict)
    status = pw.TextField(default="pending")
    error = pw.TextField(null=True)
    pr_number = pw.IntegerField(null=True)
    pr_url = pw.TextField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "action"
        indexes = ((("slug", "pr_number"), False), (("status",), False))


CACHE_MODELS: tuple[type[Base], ...] = (
    CachedRFC, CachedPR, SyncState, HeadFile, EntryCommit, EntryHistory
)
RFC_COLUMNS: tuple[str, ...] = tuple(CachedRFC._meta.sorted_field_names)
PR_COLUMNS: tuple[str, ...] = tuple(CachedPR._meta.sorted_field_names)

M = TypeVar("M", bound=Base)


class BoundModels:
    """Per-file subclasses of `models` bound to `db` (thread-safe, unlike bind_ctx).

    ``bound[CachedRFC]`` is this file's ``CachedRFC``.
    """

    def __init__(self, db: pw.Database, models: Iterable[type[Base]]) -> None:
        self._subs: dict[type[Base], type[Base]] = {}
        for model in models:
            meta = type("Meta", (), {"database": db, "table_name": model._meta.table_name})
            self._subs[model] = type(
                model.__name__, (model,), {"Meta": meta, "__module__": __name__}
            )

    def __getitem__(self, model: type[M]) -> type[M]:
        sub = self._subs[model]
        if not issubclass(sub, model):  # cannot happen: built as a subclass above
            raise TypeError(f"{sub!r} is not bound from {model!r}")
        return sub

    def all(self) -> list[type[Base]]:
        """Every bound model (to create the tables of a new file)."""
        return list(self._subs.values())

    def tables(self) -> set[str]:
        """The table names a file of these models must have."""
        return {m._meta.table_name for m in self._subs.values()}


def tuple_rows(query: pw.BaseQuery) -> Iterator[tuple[Any, ...]]:
    """The rows of `query` as tuples (peewee's stubs type ``.tuples()`` as model rows)."""
    return cast(Iterator[tuple[Any, ...]], iter(query.tuples()))


def dict_rows(query: pw.BaseQuery) -> Iterator[dict[str, Any]]:
    """The rows of `query` as column dicts (peewee's stubs type ``.dicts()`` as model rows)."""
    return cast(Iterator[dict[str, Any]], iter(query.dicts()))
