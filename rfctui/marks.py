"""Personal marks: snoozes, last-seen per entry, UI state (SPEC §9; issue 11).

Why a file of their own: marks are what *you* did (hid a row, opened an entry, folded a
group), so they cannot be rebuilt from Gitea. They live in the user's data directory,
next to the actions log (§6.4), one directory per target (`Config.target_key`), never
in the cache — ``--resync`` throws the cache away and keeps them.

Three small JSON files, each replaced atomically and private (``0600`` in ``0700``
directories, `rfctui.private.write_private`):

- ``snoozes.json`` — ``{"schema": 1, "snoozes": [{"key", "activity", "at"}]}``: a
  `rfctui.attention.Snooze` per hidden queue row (its `QueueItem.key` and the row's
  activity when it was snoozed; ``at`` is when, for people reading the file);
- ``seen.json`` — ``{"schema": 1, "seen": {slug: time}}``: when you last opened an
  entry's detail (the queue's and the list's "new since last seen");
- ``ui.json`` — ``{"schema": 1, "ui": {...}}``: folded groups, last filter, sort key,
  group-by… whatever the UI keeps; any JSON object. It lives in the platform's *state*
  directory (``<state dir>/<target key>/ui.json``, `Config.state_dir`; issue 14 §3),
  not beside the other marks: it is how the screen looked, not what you did. A
  ``ui.json`` left in the marks directory by an older rfctui is moved there once (read,
  written anew, removed) the first time the UI state is read or written.

Times are RFC 3339 UTC text. A file that is not what we wrote (bad JSON, wrong shape,
unreadable) is ignored with a one-line notice (`take_notices`), never a crash; the next
change replaces it. Thread-safe (the UI's workers share one `Marks`); each read checks
the file's stat, so a second process (``rfctui queue`` beside the UI) is seen too.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from rfctui.attention import QueueItem, Snooze
from rfctui.attention import snooze as snooze_of
from rfctui.private import write_private

if TYPE_CHECKING:
    from rfctui.config import Config

__all__ = ["MARKS_SCHEMA", "Marks", "marks_dir", "ui_state_dir"]

MARKS_SCHEMA: Final = 1
SNOOZES: Final = "snoozes.json"
SEEN: Final = "seen.json"
UI: Final = "ui.json"
_MAX_FILE: Final = 8 * 1024 * 1024  # bigger than any file of ours: not ours, ignored


def marks_dir(config: Config) -> Path:
    """Where one target's marks live: ``<data dir>/marks/<target key>/``."""
    return Path(config.data_dir) / "marks" / config.target_key


def ui_state_dir(config: Config) -> Path:
    """Where one target's UI state lives: ``<state dir>/<target key>/`` (issue 14 §3)."""
    return Path(config.state_dir) / config.target_key


def _stamp(dt: datetime) -> str:
    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Damaged(ValueError):
    """The file is not one of ours: ignore it and say so once."""


class Marks:
    """The personal marks of one target (module docstring).

    ``where`` is a `Config` (the marks directory is derived from it, the UI state's
    from its state directory) or a directory (every file in it, ``ui.json`` too).
    Nothing touches the disk until a mark is read or written.
    """

    def __init__(self, where: Config | str | os.PathLike[str]) -> None:
        # Where ui.json was kept before issue 14 (None: nowhere else to look).
        self._legacy_ui: Path | None = None
        if isinstance(where, str | os.PathLike):
            self.directory = Path(where)
            self.ui_directory = self.directory
        else:
            self.directory = marks_dir(where)
            self.ui_directory = ui_state_dir(where)
            if self.ui_directory != self.directory:
                self._legacy_ui = self.directory / UI
        self._lock = threading.RLock()
        # file name -> (stat signature, decoded body) of the last read
        self._memo: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
        self._notices: list[str] = []
        self._told: set[tuple[str, tuple[int, int, int]]] = set()

    def __repr__(self) -> str:
        return f"Marks({str(self.directory)!r})"

    # ------------------------------------------------------------ files

    def _load(self, name: str, field: str, kind: type) -> Any:
        """The ``field`` of file ``name`` (a fresh copy), or an empty ``kind``."""
        path = self._path(name)
        with self._lock:
            try:
                st = path.stat()
            except FileNotFoundError:
                self._memo.pop(name, None)
                return kind()
            except OSError as exc:
                self._tell(name, (0, 0, 0), f"cannot be read ({exc.strerror})")
                return kind()
            sig = (st.st_mtime_ns, st.st_size, st.st_ino)
            memo = self._memo.get(name)
            if memo is None or memo[0] != sig:
                try:
                    body = self._decode(path, st.st_size)
                    value = body.get(field, kind())
                    if not isinstance(value, kind):
                        raise _Damaged(f"{field} is not a JSON {kind.__name__}")
                except _Damaged as exc:
                    self._tell(name, sig, str(exc))
                    return kind()
                memo = (sig, body)
                self._memo[name] = memo
            value = memo[1].get(field, kind())
            return json.loads(json.dumps(value))  # callers may change their copy

    def _path(self, name: str) -> Path:
        return (self.ui_directory if name == UI else self.directory) / name

    @staticmethod
    def _decode(path: Path, size: int) -> dict[str, Any]:
        if size > _MAX_FILE:
            raise _Damaged("is too large to be ours")
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except OSError as exc:
            raise _Damaged(f"cannot be read ({exc.strerror})") from None
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _Damaged("is not valid JSON") from None
        if not isinstance(data, dict):
            raise _Damaged("is not a JSON object")
        schema = data.get("schema")
        if schema != MARKS_SCHEMA:
            raise _Damaged(f"has schema {str(schema)[:20]!r}, expected {MARKS_SCHEMA}")
        return data

    def _tell(self, name: str, sig: tuple[int, int, int], why: str) -> None:
        if (name, sig) in self._told:
            return
        self._told.add((name, sig))
        self._notices.append(
            f"{self._path(name)} {why}; ignored (the next change replaces it)"
        )

    def _store(self, name: str, field: str, value: Any) -> None:
        data = {"schema": MARKS_SCHEMA, field: value}
        raw = (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
        with self._lock:
            write_private(self._path(name), raw)
            self._memo.pop(name, None)

    def take_notices(self) -> list[str]:
        """One line per damaged file met since the last call (each told once)."""
        with self._lock:
            notices, self._notices = self._notices, []
            return notices

    # ------------------------------------------------------------ snoozes

    def snoozes(self) -> list[Snooze]:
        """Every snooze kept (malformed records skipped)."""
        out: list[Snooze] = []
        for rec in self._load(SNOOZES, "snoozes", list):
            if isinstance(rec, dict) and isinstance(rec.get("key"), str) and rec["key"]:
                out.append(Snooze(rec["key"], _parse(rec.get("activity"))))
        return out

    def snooze(self, item: QueueItem | Snooze, *, now: datetime | None = None) -> Snooze:
        """Hide ``item`` until its entry or PR moves again (replaces an older snooze)."""
        mark = item if isinstance(item, Snooze) else snooze_of(item)
        at = _stamp(now or datetime.now(UTC))
        with self._lock:
            recs = [
                r for r in self._load(SNOOZES, "snoozes", list)
                if isinstance(r, dict) and r.get("key") != mark.key
            ]
            activity = None if mark.activity is None else _stamp(mark.activity)
            recs.append({"key": mark.key, "activity": activity, "at": at})
            self._store(SNOOZES, "snoozes", recs)
        return mark

    def unsnooze(self, key: str) -> bool:
        """Show the row again; False if it was not snoozed."""
        with self._lock:
            recs = self._load(SNOOZES, "snoozes", list)
            kept = [r for r in recs if not (isinstance(r, dict) and r.get("key") == key)]
            if len(kept) == len(recs):
                return False
            self._store(SNOOZES, "snoozes", kept)
            return True

    def prune_snoozes(self, live_keys: Iterable[str]) -> int:
        """Forget snoozes of rows that no longer exist (their wait is over); the count."""
        live = set(live_keys)
        with self._lock:
            recs = self._load(SNOOZES, "snoozes", list)
            kept = [r for r in recs if isinstance(r, dict) and r.get("key") in live]
            if len(kept) != len(recs):
                self._store(SNOOZES, "snoozes", kept)
            return len(recs) - len(kept)

    # ------------------------------------------------------------ last seen

    def seen(self) -> dict[str, datetime]:
        """slug -> when its detail was last opened (unreadable times skipped)."""
        out: dict[str, datetime] = {}
        for slug, text in self._load(SEEN, "seen", dict).items():
            when = _parse(text)
            if when is not None and isinstance(slug, str):
                out[slug] = when
        return out

    def mark_seen(self, slug: str, when: datetime | None = None) -> None:
        """Record that the entry ``slug`` was looked at ``when`` (default: now)."""
        self.mark_seen_many({slug: when or datetime.now(UTC)})

    def mark_seen_many(self, seen: Mapping[str, datetime]) -> None:
        """`mark_seen` for several entries in one write."""
        if not seen:
            return
        with self._lock:
            data = self._load(SEEN, "seen", dict)
            for slug, when in seen.items():
                data[str(slug)] = _stamp(when)
            self._store(SEEN, "seen", data)

    # ------------------------------------------------------------ UI state

    def _migrate_ui(self) -> None:
        """Move an older rfctui's ``ui.json`` from the marks directory to the state
        directory, once: read it, write it anew (private), remove the old one. A
        damaged old file is left where it is (and never read again)."""
        legacy, self._legacy_ui = self._legacy_ui, None
        if legacy is None or self._path(UI).exists():
            return
        try:
            st = legacy.stat()
            body = self._decode(legacy, st.st_size)
        except (OSError, _Damaged):
            return
        raw = (json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
        write_private(self._path(UI), raw)
        with contextlib.suppress(OSError):
            legacy.unlink()

    def ui_state(self) -> dict[str, Any]:
        """The UI's remembered state (a copy; empty when none)."""
        with self._lock:
            if self._legacy_ui is not None:
                with contextlib.suppress(OSError):
                    self._migrate_ui()
            state: dict[str, Any] = self._load(UI, "ui", dict)
        return state

    def save_ui_state(self, changes: Mapping[str, Any]) -> None:
        """Merge ``changes`` into the UI state: their keys replace the kept ones, a
        None value forgets its key, other keys are kept. Values must be JSON."""
        with self._lock:
            state = self.ui_state()
            for key, value in changes.items():
                if value is None:
                    state.pop(str(key), None)
                else:
                    state[str(key)] = value
            json.dumps(state)  # TypeError now, not a half-written file later
            self._store(UI, "ui", state)
