"""The list's rows as plain data: grouping, the ident column and fitting text in cells.

Split out of `rfctui.widgets.rfc_list` (which re-exports every name here) to keep each
module under 800 lines; no Textual here, only Rich's cell arithmetic, so these are
tested as plain functions. Issue 14 §4: `elide_middle` and `ident_cells` keep distinct
slugs distinct on a narrow pane (the title is cut first, the slug in its middle).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size

from rfctui.attention import QueueItem
from rfctui.rows import LIFECYCLE_STATES, ListItem
from rfctui.text import clean
from rfctui.widgets.list_order import GROUP_TITLES, grouped, order_members

__all__ = [
    "BADGES",
    "GROUP_ORDER",
    "IDENT_MAX",
    "LIST_STATES",
    "NEW_MARK",
    "PROPOSAL_PREFIX",
    "Row",
    "badge_text",
    "build_rows",
    "elide_middle",
    "fit",
    "group_of",
    "group_totals",
    "ident_cells",
    "ident_of",
    "ident_widths",
    "pending_title",
    "queue_rows",
]


# §3 lifecycle order; "pending" (open propose PRs, §7.3) comes first because it is the
# triage queue, "other" (states we do not know) last.
GROUP_ORDER: tuple[str, ...] = ("pending", *LIFECYCLE_STATES, "other")
# Open-PR badges by §5 kind, in display order: (symbol, meaning for the help legend).
BADGES: dict[str, tuple[str, str]] = {
    "meta_body_edit": ("✎", "open body-edit pull requests"),
    "meta_claim": ("⚑", "open claim pull requests"),
    "meta_metadata": ("⚙", "open metadata pull requests"),
}


# Activity since you last opened the entry (issue 11 §4): a glyph before the ident.
NEW_MARK = "●"

# The §3 states that have a group of their own, in display order (Reader.list_head).
LIST_STATES: tuple[str, ...] = LIFECYCLE_STATES
_LIST_GROUPS = frozenset(LIST_STATES)


def group_of(item: ListItem) -> str:
    if item.kind == "pending":
        return "pending"
    return item.state if item.state in GROUP_TITLES and item.state != "pending" else "other"


@dataclass(slots=True)
class Row:
    """One display line: a group header or an item."""

    key: tuple[str, str]  # ("group", name) or (kind, slug): stable across rebuilds
    group: str
    item: ListItem | None = None
    count: int = 0
    collapsed: bool = False
    ident_width: int = 0
    queue: QueueItem | None = None  # a "Needs you" row (issue 11)
    note: str | None = None  # a plain line under a header (an empty queue, sign-in)

    @property
    def is_header(self) -> bool:
        return self.item is None and self.queue is None and self.note is None


def build_rows(
    items: Iterable[ListItem],
    collapsed: set[str],
    widths: dict[str, int] | None = None,
    cache: dict[int, Row] | None = None,
    *,
    sort: str = "default",
    group_by: str = "state",
    activity: Mapping[str, datetime] | None = None,
) -> list[Row]:
    """Group ``items`` (already filtered, in cache order) into display rows.

    ``widths`` is the ident column width per group, measured once over *all* items
    (``ident_widths``) so columns stay put while the filter narrows the list; groups
    missing from it are measured here. This runs on every filter keystroke over up to
    10,000 items, so it stays a plain loop. ``cache`` (id of an item -> its row; the
    row holds the item, so the id stays unique) lets rows be reused between builds.
    ``sort`` and ``group_by`` (`rfctui.widgets.list_order`) order the groups and their
    members; an item shown in two groups (two tags) keys its second row by group.
    """
    rows: list[Row] = []
    placed: set[tuple[str, str]] | None = None if group_by == "state" else set()
    for name, found in grouped(items, group_by):
        members = order_members(name, found, sort, activity)
        is_collapsed = name in collapsed
        rows.append(Row(("group", name), name, None, len(members), is_collapsed))
        if is_collapsed:
            continue
        width = widths.get(name) if widths else None
        if width is None:
            width = min(IDENT_MAX, max(_ident_len(m) for m in members))
        if placed is not None:
            for m in members:
                key = (m.kind, m.slug)
                if key in placed:
                    key = (m.kind, f"{m.slug}\x00{name}")
                placed.add(key)
                rows.append(Row(key, name, m, 0, False, width))
            continue
        if cache is None:
            rows.extend([Row((m.kind, m.slug), name, m, 0, False, width) for m in members])
            continue
        # Item rows never change once built (only headers' counts do): a keystroke
        # reuses them instead of allocating 10,000 new ones (and waking the GC).
        get = cache.get
        for m in members:
            row = get(id(m))
            if row is None or row.item is not m or row.ident_width != width:
                row = cache[id(m)] = Row((m.kind, m.slug), name, m, 0, False, width)
            rows.append(row)
    return rows


def queue_rows(
    items: Sequence[QueueItem] | None, note: str | None, collapsed: bool
) -> list[Row]:
    """The "Needs you (N)" section: its header and one row per item (or a note)."""
    if items is None and note is None:
        return []
    shown = list(items or ())
    count = len(shown) if items is not None else -1  # -1: no count to give
    rows = [Row(("group", "queue"), "queue", None, count, collapsed)]
    if collapsed:
        return rows
    if not shown:
        rows.append(Row(("queue-note", ""), "queue", note=note or "Nothing waits on you."))
        return rows
    rows.extend(Row(("queue", q.key), "queue", queue=q) for q in shown)
    return rows


def ident_widths(items: Iterable[ListItem]) -> dict[str, int]:
    """The ident column width of each group over ``items`` (see ``build_rows``)."""
    out: dict[str, int] = {}
    for item in items:
        name = group_of(item)
        n = _ident_len(item)
        if n > out.get(name, 0):
            out[name] = n
    return {k: min(IDENT_MAX, v) for k, v in out.items()}


def group_totals(
    state_counts: Mapping[str, int],
    ident_lens: Mapping[str, int],
    pending: int,
    pending_ident_len: int,
) -> tuple[dict[str, int], dict[str, int]]:
    """Group sizes and ident widths from per-state figures (``db.ListHead``).

    Lets the first screen show every header's true count and the final column widths
    while only its first rows are loaded.
    """
    totals: dict[str, int] = {}
    widths: dict[str, int] = {}
    if pending:
        totals["pending"] = pending
        widths["pending"] = min(IDENT_MAX, pending_ident_len)
    for state, count in state_counts.items():
        name = state if state in _LIST_GROUPS else "other"
        totals[name] = totals.get(name, 0) + count
        width = min(IDENT_MAX, ident_lens.get(state, 0))
        widths[name] = max(widths.get(name, 0), width)
    return totals, widths


def _ident_len(item: ListItem) -> int:
    if item.kind == "rfc" and item.rfc_id is not None:
        return len(str(item.rfc_id)) + 1
    return len(item.slug)  # slugs are ASCII (§2); a hostile one is cut when drawn


IDENT_MAX = 22


def ident_of(item: ListItem) -> str:
    """The short handle shown before the title: ``#12`` once graduated, else the slug."""
    if item.kind == "rfc" and item.rfc_id is not None:
        return f"#{item.rfc_id}"
    return clean(item.slug)


# The bot titles proposals "Propose RFC idea: <title>" (rfctui.bot); under the
# "Pending ideas" header the prefix says nothing and costs a third of a narrow pane.
PROPOSAL_PREFIX = "Propose RFC idea: "


def pending_title(title: str) -> str:
    """A pending idea's title as shown: cleaned, without the bot's prefix."""
    text = clean(title)
    return text.removeprefix(PROPOSAL_PREFIX) or text


def _fit(text: str, width: int) -> str:
    """Crop ``text`` to ``width`` cells with an ellipsis (wide characters aware)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + "…"


def elide_middle(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells in the middle (``typed-c…g-v2``), keeping both
    ends: two slugs that differ only at the end (``-v2``) stay distinct (issue 14 §4)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    if width < 5:
        return _fit(text, width)
    tail_w = (width - 1) * 2 // 5
    tail = ""
    for ch in reversed(text):
        if cell_len(ch + tail) > tail_w:
            break
        tail = ch + tail
    head = set_cell_size(text, width - 1 - cell_len(tail))
    return head + "…" + tail


def ident_cells(width_hint: int, width: int) -> int:
    """The ident column's width in a pane ``width`` cells wide: the group's longest
    ident, up to two fifths of the pane (a third before issue 14 §4): the title is cut
    before the slug, and what is left of the slug is cut in its middle."""
    return min(width_hint, max(8, width * 2 // 5))


def badge_text(open_prs: dict[str, int]) -> str:
    parts = [f"{sym}{open_prs[k]}" for k, (sym, _m) in BADGES.items() if open_prs.get(k)]
    return " ".join(parts)


fit = _fit  # the public name (rfc_list draws with it)
