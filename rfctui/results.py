"""The small result types every layer passes around (issue 10: typed seams).

The reconciler returns a `SweepResult` and reports `Progress`; the bot returns an
`ActionResult`; the session, the CLI and the screens read the same types. A sweep that
could not even start is a `SweepResult` with ``ok=False`` too (`SweepResult.failed`),
so nobody needs a look-alike class or ``getattr`` to read one. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ActionResult", "Progress", "SweepResult"]


@dataclass(frozen=True, slots=True)
class Progress:
    """What a sweep is doing, for a progress bar: ``phase`` and ``done`` of ``total``."""

    phase: str
    done: int
    total: int


@dataclass(slots=True)
class SweepResult:
    """The outcome of one sweep (SPEC §4.1); `error` is one token-free line when `ok` is
    False, and then the cache is unchanged (each sweep is one transaction)."""

    kind: str  # quick | full | resync | refresh
    ok: bool
    error: str | None = None
    requests: int = 0  # HTTP requests sent (retries included)
    rows_changed: int = 0
    entries: int = 0  # entries in the cache afterwards (not removed)
    pulls: int = 0  # PR rows in the cache afterwards
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0
    offline: bool = False  # Gitea unreachable or timed out
    entries_fetched: int = 0
    pulls_fetched: int = 0
    # The URL that answered 404 for the repository itself (a wrong org/repo, or a
    # wrong path in the Gitea URL: `Session.sweep` tells them apart, issue 14 §2).
    not_found: str | None = None

    @classmethod
    def failed(cls, kind: str, error: str, *, offline: bool = False) -> SweepResult:
        """A sweep that could not run at all (one line; never a traceback)."""
        return cls(kind=kind, ok=False, error=error, offline=offline)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a successful action produced (SPEC §6). `warnings` are advisory (e.g. a
    similar title).

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
