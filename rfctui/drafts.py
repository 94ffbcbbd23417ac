"""Unsent drafts of the action forms (SPEC §6.4, §9 "personal marks", §11).

Why: what a person types into a form (a long body above all) must survive `escape`,
quitting and a kill -9, not only a failed send (the actions log keeps those). Drafts are
personal marks, so they live in the user's **data** directory, one directory per target
like the actions log (``drafts-<host>_<port>-<org>-<repo>/``), never in the cache:
``rfctui --resync`` does not touch them. One small JSON file per (form kind, slug),
written atomically ``0600`` in a ``0700`` directory (`rfctui.private.write_private`), so
a kill at any moment leaves the old or the new draft, and a damaged file loses one draft,
never the others. A damaged file is skipped with a notice; reading never raises.

`DraftWriter` runs the writes on one background thread in the order they were asked
for, so the UI never waits on ``fsync`` and a save queued before a discard never
resurrects the draft. Stdlib only (the core never imports Textual).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rfctui.entry import InvalidSlug, validate_slug
from rfctui.private import write_private

__all__ = [
    "DRAFT_KINDS",
    "Draft",
    "DraftWriter",
    "Drafts",
    "drafts_dir",
    "format_saved_at",
    "writer_for",
]

# The forms that have something typed (claim has no fields: nothing to keep).
DRAFT_KINDS = ("propose", "edit", "metadata")
_VERSION = 1


@dataclass(frozen=True)
class Draft:
    """What was typed into one form: raw field texts, as the form holds them."""

    kind: str
    slug: str  # "" for the propose form: one propose draft, whatever slug it holds
    fields: dict[str, str] = field(default_factory=dict)
    saved_at: datetime | None = None


def drafts_dir(config: Any) -> Path:
    """``data_dir / drafts-<target>``: per target, like `Config.actions_file` (§6.4)."""
    return Path(config.data_dir) / f"drafts-{config.target_key}"


def format_saved_at(saved_at: datetime | None, now: datetime | None = None) -> str:
    """``10:42`` today, else ``2026-11-28 10:42`` (UTC, like the rest of the UI)."""
    if saved_at is None:
        return "an earlier session"
    when = saved_at.astimezone(UTC)
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return f"{when:%H:%M}" if when.date() == today else f"{when:%Y-%m-%d %H:%M}"


def _check_key(kind: str, slug: str) -> tuple[str, str]:
    if kind not in DRAFT_KINDS:
        raise ValueError(f"unknown draft kind {kind!r}")
    if kind == "propose":
        return kind, ""
    return kind, validate_slug(slug)


class Drafts:
    """The draft files of one target. Synchronous; see `DraftWriter` for the UI."""

    def __init__(self, directory: str | os.PathLike[str], *,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.directory = Path(directory)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.notices: list[str] = []  # one line per damaged file seen (shown by the UI)

    @classmethod
    def for_config(cls, config: Any, *, clock: Callable[[], datetime] | None = None) -> Drafts:
        return cls(drafts_dir(config), clock=clock)

    def path(self, kind: str, slug: str) -> Path:
        """``propose.json`` or ``<kind>--<slug>.json``; the slug is validated first."""
        kind, slug = _check_key(kind, slug)
        return self.directory / (f"{kind}.json" if not slug else f"{kind}--{slug}.json")

    def save(self, kind: str, slug: str, fields: Mapping[str, str]) -> Draft:
        kind, slug = _check_key(kind, slug)
        draft = Draft(kind, slug, {str(k): str(v) for k, v in fields.items()}, self.clock())
        data = {
            "version": _VERSION,
            "kind": kind,
            "slug": slug,
            "saved_at": draft.saved_at.isoformat() if draft.saved_at else None,
            "fields": draft.fields,
        }
        write_private(self.path(kind, slug), json.dumps(data, ensure_ascii=False).encode())
        return draft

    def load(self, kind: str, slug: str) -> Draft | None:
        """The draft, or None (none saved, or the file is damaged: see `notices`)."""
        return self._read(self.path(kind, slug))

    def discard(self, kind: str, slug: str) -> bool:
        """Remove the draft; True if there was one."""
        try:
            self.path(kind, slug).unlink()
        except FileNotFoundError:
            return False
        return True

    def all(self) -> list[Draft]:
        """Every readable draft, newest first; damaged files are skipped with a notice."""
        try:
            names = sorted(p for p in self.directory.glob("*.json") if not p.name.startswith("."))
        except OSError:
            return []
        found = [d for d in (self._read(p) for p in names) if d is not None]
        return sorted(found, key=lambda d: d.saved_at or datetime.min.replace(tzinfo=UTC),
                      reverse=True)

    def _read(self, path: Path) -> Draft | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._notice(path, type(exc).__name__)
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
            kind, slug = _check_key(str(data["kind"]), str(data["slug"]))
            if path != self.path(kind, slug):
                raise ValueError("the file name does not match its draft")
            fields = data["fields"]
            if not isinstance(fields, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
            ):
                raise ValueError("fields are not text")
            saved = data.get("saved_at")
            saved_at = datetime.fromisoformat(saved) if isinstance(saved, str) else None
            if saved_at is not None and saved_at.tzinfo is None:
                saved_at = saved_at.replace(tzinfo=UTC)
        except (ValueError, KeyError, TypeError, InvalidSlug, UnicodeDecodeError) as exc:
            reason = "not JSON" if isinstance(exc, json.JSONDecodeError) else "damaged"
            self._notice(path, reason)
            return None
        return Draft(kind, slug, dict(fields), saved_at)

    def _notice(self, path: Path, reason: str) -> None:
        line = f"Draft file {path.name} is unreadable ({reason}); it was ignored."
        if line not in self.notices:
            self.notices.append(line)


class DraftWriter:
    """Saves and discards drafts on one background thread, in the order asked.

    `load` and `all` first wait for the queued writes, so a form reopened at once sees
    what the last one saved.
    """

    def __init__(self, drafts: Drafts) -> None:
        self.drafts = drafts
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rfctui-drafts")
        self._lock = threading.Lock()
        self._last: Future[Any] | None = None
        self.errors: list[str] = []  # one line per failed write (disk full, read-only)

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        def run() -> Any:
            try:
                return fn(*args)
            except (OSError, ValueError) as exc:
                self.errors.append(f"Could not save the draft: {type(exc).__name__}")
                return None

        with self._lock:
            self._last = self._pool.submit(run)
            return self._last

    def save(self, kind: str, slug: str, fields: Mapping[str, str]) -> Future[Any]:
        return self._submit(self.drafts.save, kind, slug, dict(fields))

    def discard(self, kind: str, slug: str) -> Future[Any]:
        return self._submit(self.drafts.discard, kind, slug)

    def flush(self, timeout: float | None = 5.0) -> None:
        """Wait until everything queued so far is on disk."""
        with self._lock:
            last = self._last
        if last is not None:
            last.result(timeout=timeout)

    def load(self, kind: str, slug: str) -> Draft | None:
        self.flush()
        return self.drafts.load(kind, slug)

    def all(self) -> list[Draft]:
        self.flush()
        return self.drafts.all()


_writers: dict[Path, DraftWriter] = {}
_writers_lock = threading.Lock()


def writer_for(config: Any, *, clock: Callable[[], datetime] | None = None) -> DraftWriter:
    """The one writer of a target's drafts in this process (writes stay ordered)."""
    path = drafts_dir(config)
    with _writers_lock:
        w = _writers.get(path)
        if w is None:
            w = _writers[path] = DraftWriter(Drafts(path, clock=clock))
        return w
