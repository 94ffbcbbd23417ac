"""Team settings: ``.rfctui.toml`` at the meta repository's root (SPEC §9; issue 11).

The team shares its stale thresholds and saved views by committing one small file next
to ``rfcs/``. Settings merge in this order, later wins: rfctui's defaults
(`rfctui.attention.DEFAULT_STALE`), the team file, the personal configuration.

The format, every key optional::

    # .rfctui.toml
    [stale]                # how long an entry may stay in a state before it is stale
    idea = "30d"           # a duration: <n>h, <n>d or <n>w ("12h", "30d", "6w")
    parked = "26w"
    graduated = "never"    # "never": an entry at rest there is never stale
    other = "180d"         # any state rfctui does not know (§3 "Other")

    [queue]
    idle_pr = "14d"        # your own open PR with no activity for this long

    [[views]]              # saved filters, shown as keys 1…9 in this order (at most 9)
    name = "Needs arbiter"
    query = "state:idea arbiter:none"   # the filter language of §7.2, stored as written

``[stale]`` accepts the §3 states (``proposed`` is read as ``idea``) and ``other``;
a misspelt state is an error rather than a threshold nobody uses. A view's query is
kept as text: the filter (``rfctui.filtering.parse_query``) reads it when it is used.

A team file is somebody else's text: a malformed one (bad TOML, an unknown key, a bad
duration, a view without a name…) is reported in one line naming the key, and the whole
file is ignored — the defaults stay, nothing half-applies, nothing is fatal. The
personal configuration uses the same ``stale`` / ``queue`` / ``views`` tables, with the
same rules, and its other keys are ``rfctui.config``'s business.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from rfctui.attention import DEFAULT_STALE, DEFAULT_STALE_OTHER, Thresholds
from rfctui.text import clean

__all__ = [
    "MAX_VIEWS",
    "TEAM_FILE",
    "Resolved",
    "TeamSettings",
    "View",
    "parse_duration",
    "parse_team_file",
    "resolve",
    "settings_from_mapping",
]

TEAM_FILE: Final = ".rfctui.toml"
MAX_VIEWS: Final = 9  # keys 1…9
OTHER: Final = "other"  # the [stale] key for states rfctui does not know
_STATES: Final[tuple[str, ...]] = tuple(DEFAULT_STALE)
_ALIASES: Final[dict[str, str]] = {"proposed": "idea"}  # §3
_SECTIONS: Final[tuple[str, ...]] = ("stale", "queue", "views")
_QUEUE_KEYS: Final[tuple[str, ...]] = ("idle_pr",)
_VIEW_KEYS: Final[tuple[str, ...]] = ("name", "query")
_DURATION_RE: Final = re.compile(r"\s*([0-9]{1,7})\s*([hdw])\s*", re.IGNORECASE)
_UNIT: Final[dict[str, timedelta]] = {
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_MAX_DURATION: Final = timedelta(days=36_500)  # a century: beyond that, say "never"
_NEVER: Final[tuple[str, ...]] = ("never", "off")
_MAX_NAME: Final = 40
_MAX_QUERY: Final = 500
_PLAIN_KEY: Final = re.compile(r"[A-Za-z0-9_.-]{1,40}")


@dataclass(frozen=True, slots=True)
class View:
    """A saved filter: its name (one line) and its query text (§7.2 language)."""

    name: str
    query: str


@dataclass(frozen=True, slots=True)
class TeamSettings:
    """One settings source as read: only what it sets, or an error and nothing.

    ``thresholds`` maps a canonical state (or ``"other"``) to a duration, None meaning
    never stale; ``idle_pr`` is None when the source does not set it; ``error`` is the
    one-line reason the source was ignored.
    """

    thresholds: dict[str, timedelta | None] = field(default_factory=dict)
    idle_pr: timedelta | None = None
    views: tuple[View, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Resolved:
    """The effective settings: thresholds for the queue, views in key order, and the
    one-line reasons any source was ignored (to show once, never to stop on)."""

    thresholds: Thresholds
    views: tuple[View, ...]
    errors: tuple[str, ...] = ()


class _Bad(ValueError):
    """A value the file got wrong; ``where`` is the dotted key."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")


def _key(name: object) -> str:
    """A key from the file, safe in a one-line message (it is untrusted text)."""
    text = str(name)
    if _PLAIN_KEY.fullmatch(text):
        return text
    quoted = repr(text)
    return quoted if len(quoted) <= 42 else quoted[:40] + "…'"


def parse_duration(value: object) -> timedelta | None:
    """``"30d"`` → 30 days; ``"12h"``, ``"6w"``; ``"never"``/``"off"`` → None.

    Raises ValueError with the reason. Zero is refused (everything would be stale at
    once) and so is more than a century.
    """
    if not isinstance(value, str):
        raise ValueError('must be a string such as "30d", "6w", "12h" or "never"')
    if value.strip().lower() in _NEVER:
        return None
    m = _DURATION_RE.fullmatch(value)
    if m is None:
        shown = repr(value) if len(value) <= 30 else repr(value[:30]) + "…"
        raise ValueError(f'{shown} is not a duration such as "30d", "6w" or "12h"')
    amount = int(m.group(1))
    if amount == 0:
        raise ValueError('must be longer than zero (or "never")')
    span = _UNIT[m.group(2).lower()] * amount
    if span > _MAX_DURATION:
        raise ValueError('is longer than a century (use "never")')
    return span


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _Bad(name, "must be a table")
    return value


def _read(data: Mapping[str, Any], *, strict_top: bool) -> TeamSettings:
    if strict_top:
        for key in data:
            if key not in _SECTIONS:
                raise _Bad(_key(key), f"unknown key (use {', '.join(_SECTIONS)})")
    thresholds: dict[str, timedelta | None] = {}
    stale = _table(data, "stale")
    for key, value in (stale or {}).items():
        state = _ALIASES.get(str(key).lower(), str(key).lower())
        if state not in _STATES and state != OTHER:
            known = ", ".join((*_STATES, OTHER))
            raise _Bad(f"stale.{_key(key)}", f"unknown state (use {known})")
        try:
            thresholds[state] = parse_duration(value)
        except ValueError as exc:
            raise _Bad(f"stale.{_key(key)}", str(exc)) from None
    idle_pr: timedelta | None = None
    queue = _table(data, "queue")
    for key, value in (queue or {}).items():
        if key not in _QUEUE_KEYS:
            raise _Bad(f"queue.{_key(key)}", f"unknown key (use {', '.join(_QUEUE_KEYS)})")
        try:
            idle_pr = parse_duration(value)
        except ValueError as exc:
            raise _Bad(f"queue.{key}", str(exc)) from None
        if idle_pr is None:
            raise _Bad(f"queue.{key}", 'cannot be "never" (use a long duration instead)')
    return TeamSettings(thresholds=thresholds, idle_pr=idle_pr, views=_views(data.get("views")))


def _views(raw: object) -> tuple[View, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _Bad("views", "must be an array of tables ([[views]])")
    if len(raw) > MAX_VIEWS:
        raise _Bad("views", f"{len(raw)} views; at most {MAX_VIEWS} (keys 1…9)")
    views: list[View] = []
    names: set[str] = set()
    for i, item in enumerate(raw, 1):
        where = f"views[{i}]"
        if not isinstance(item, Mapping):
            raise _Bad(where, "must be a table with name and query")
        for key in item:
            if key not in _VIEW_KEYS:
                raise _Bad(f"{where}.{_key(key)}", "unknown key (use name, query)")
        name, query = item.get("name"), item.get("query")
        if not isinstance(name, str) or not clean(name):
            raise _Bad(f"{where}.name", "must be a non-empty string")
        if not isinstance(query, str):
            raise _Bad(f"{where}.query", "must be a string")
        shown = clean(name)
        if len(shown) > _MAX_NAME:
            raise _Bad(f"{where}.name", f"longer than {_MAX_NAME} characters")
        if len(query) > _MAX_QUERY:
            raise _Bad(f"{where}.query", f"longer than {_MAX_QUERY} characters")
        if shown.lower() in names:
            raise _Bad(f"{where}.name", f"{_key(shown)} is already the name of a view")
        names.add(shown.lower())
        views.append(View(shown, clean(query)))
    return tuple(views)


def settings_from_mapping(
    data: Mapping[str, Any], *, source: str, only_ours: bool = False
) -> TeamSettings:
    """Validate a decoded settings table; on any error, nothing but the error.

    ``only_ours`` ignores top-level keys other than ``stale``/``queue``/``views`` (the
    personal configuration holds rfctui.config's keys too); a team file has no others.
    """
    try:
        return _read(data, strict_top=not only_ours)
    except _Bad as exc:
        return TeamSettings(error=clean(f"{source}: {exc}; ignored, using the defaults"))


def parse_team_file(text: str | bytes | None, *, source: str = TEAM_FILE) -> TeamSettings:
    """Read a team file's text (None or empty: no file, the defaults, no error)."""
    if text is None:
        return TeamSettings()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return TeamSettings(error=f"{source}: not UTF-8 text; ignored, using the defaults")
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # deep nesting: RecursionError
        reason = clean(str(exc)) if isinstance(exc, tomllib.TOMLDecodeError) else "nested too deep"
        return TeamSettings(
            error=f"{source}: not valid TOML: {reason}; ignored, using the defaults"
        )
    return settings_from_mapping(data, source=source)


def resolve(
    team: TeamSettings | None = None,
    personal: Mapping[str, Any] | TeamSettings | None = None,
    *,
    personal_source: str = "personal config",
) -> Resolved:
    """Defaults < team < personal (§9): thresholds for `attention_queue`, and views.

    ``personal`` is the personal configuration's decoded TOML (its other keys ignored)
    or an already read `TeamSettings`. A source with an error adds nothing but its
    message. Views: the team's, then personal ones (a personal view with a team view's
    name replaces it in place), the first nine.
    """
    sources: list[TeamSettings] = [team or TeamSettings()]
    if isinstance(personal, TeamSettings):
        sources.append(personal)
    elif personal is not None:
        sources.append(settings_from_mapping(personal, source=personal_source, only_ours=True))
    stale: dict[str, timedelta | None] = dict(DEFAULT_STALE)
    other = DEFAULT_STALE_OTHER
    idle: timedelta | None = None
    views: dict[str, View] = {}
    errors: list[str] = []
    for src in sources:
        if src.error is not None:
            errors.append(src.error)
            continue
        for state, limit in src.thresholds.items():
            if state == OTHER:
                other = limit
            else:
                stale[state] = limit
        idle = src.idle_pr or idle
        for view in src.views:
            views[view.name.lower()] = view
    base = Thresholds()
    thresholds = Thresholds(stale=stale, other=other, idle_pr=idle or base.idle_pr)
    return Resolved(thresholds, tuple(views.values())[:MAX_VIEWS], tuple(errors))
