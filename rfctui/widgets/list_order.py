"""How the left pane orders and groups its rows (issue 11 §5): sort keys and group-by.

Kept apart from the widget so the rules read in one place and cost nothing to test: a
plain function from items to ordered groups. The list widget calls it on every filter
keystroke, so the default (group by state, cache order, graduated entries by id) stays
a single pass plus a sort of the graduated group.

Sort keys cycle within each group: ``default`` (graduated by RFC id, the rest in cache
order), ``name`` (title), ``time`` (longest in its state first), ``activity`` (latest
activity first) and ``id`` (RFC id, then slug). Group-by: ``state`` (§3 lifecycle
order), ``tag``, ``owner``, ``arbiter`` — an entry with two tags shows under both; one
with none under "No tag". Pending ideas keep their own group at the top whatever the
grouping: they are the triage queue (§7.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final

from rfctui.attention import QueueItem
from rfctui.rows import LIFECYCLE_STATES, ListItem
from rfctui.text import clean

__all__ = [
    "GROUP_BY",
    "GROUP_TITLES",
    "SORT_KEYS",
    "SORT_LABELS",
    "group_title",
    "grouped",
    "order_members",
    "short_reason",
]

SORT_KEYS: Final[tuple[str, ...]] = ("default", "name", "time", "activity", "id")
SORT_LABELS: Final[dict[str, str]] = {
    "default": "default",
    "name": "name",
    "time": "time in state",
    "activity": "last activity",
    "id": "RFC id",
}
GROUP_BY: Final[tuple[str, ...]] = ("state", "tag", "owner", "arbiter")
_NONE: Final = "\x00none"  # the group of items without a tag/owner/arbiter (sorts last)
GROUP_TITLES: Final[dict[str, str]] = {
    "queue": "Needs you",
    "pending": "Pending ideas",
    "idea": "Ideas",
    "graduated": "Graduated",
    "parked": "Parked",
    "declined": "Declined",
    "superseded": "Superseded",
    "withdrawn": "Withdrawn",
    "other": "Other",
}
_STATES: Final = frozenset(LIFECYCLE_STATES)
_EPOCH: Final = 0.0


def group_title(group: str) -> str:
    """A group's header text: "Ideas", "Tag: dx", "Owner: ada", "No arbiter"."""
    title = GROUP_TITLES.get(group)
    if title is not None:
        return title
    by, _sep, value = group.partition(":")
    if value == _NONE:
        return f"No {by}"
    return f"{by.capitalize()}: {clean(value)}"


def _values(item: ListItem, by: str) -> tuple[str, ...]:
    if by == "tag":
        return item.tags
    if by == "owner":
        return item.owners
    return item.arbiters


def grouped(items: Iterable[ListItem], by: str) -> list[tuple[str, list[ListItem]]]:
    """``items`` (in cache order) as ordered (group, members) pairs for ``by``."""
    groups: dict[str, list[ListItem]] = {}
    if by not in GROUP_BY or by == "state":
        for item in items:
            if item.kind == "pending":
                name = "pending"
            else:
                name = item.state if item.state in _STATES else "other"
            bucket = groups.get(name)
            if bucket is None:
                groups[name] = bucket = []
            bucket.append(item)
        order = ("pending", *LIFECYCLE_STATES, "other")
        return [(name, groups[name]) for name in order if groups.get(name)]
    for item in items:
        if item.kind == "pending":
            names: Iterable[str] = ("pending",)
        else:
            # Logins compare case-blind (§9); a tag is its text. Each value once.
            seen = dict.fromkeys(
                (v.lower() if by != "tag" else v) for v in _values(item, by) if v
            )
            names = [f"{by}:{v}" for v in seen] or [f"{by}:{_NONE}"]
        for name in names:
            bucket = groups.get(name)
            if bucket is None:
                groups[name] = bucket = []
            bucket.append(item)
    rest = sorted(
        (n for n in groups if n != "pending"),
        key=lambda n: (n.endswith(_NONE), n.casefold()),
    )
    head = [("pending", groups["pending"])] if "pending" in groups else []
    return head + [(name, groups[name]) for name in rest]


def _stamp(dt: datetime | None) -> float:
    return dt.timestamp() if dt is not None else _EPOCH


def order_members(
    group: str,
    members: list[ListItem],
    sort: str,
    activity: Mapping[str, datetime] | None = None,
) -> list[ListItem]:
    """One group's members in ``sort`` order (``members`` itself when unchanged)."""
    if sort == "default":
        if group != "graduated":
            return members
        sort = "id"
    if sort == "name":
        return sorted(members, key=lambda m: (clean(m.title).casefold(), m.slug))
    if sort == "time":
        # Longest in its state first; a pending idea waits since it was proposed.
        return sorted(
            members,
            key=lambda m: (
                (m.state_since or m.proposed_at) is None,
                _stamp(m.state_since or m.proposed_at),
                m.slug,
            ),
        )
    if sort == "activity":
        act = activity or {}
        return sorted(
            members,
            key=lambda m: (-_stamp(act.get(m.slug) or m.state_since or m.proposed_at), m.slug),
        )
    if sort == "id":
        return sorted(
            members,
            key=lambda m: (m.rfc_id is None, m.rfc_id if m.rfc_id is not None else 0, m.slug),
        )
    return members


def short_reason(q: QueueItem) -> str:
    """A queue row's reason in a word or two, for a narrow pane ("review #12")."""
    word = {"needs_arbiter": "no arbiter", "idle_pr": "idle"}.get(q.reason, q.reason)
    return f"{word} #{q.pr_number}" if q.pr_number is not None else word
