"""The left pane: RFCs grouped by state plus the pending ideas (SPEC §3, §7.1, §7.3).

A Line-API ``ScrollView`` (toolong's ``LogLines`` pattern, STYLE §4): the widget keeps a
flat list of display rows (group headers and items) and renders only the visible lines
as ``Strip``s. Filtering 10,000 items rebuilds that Python list and refreshes; nothing
is mounted per row, and no user text is ever parsed as markup (§7.4): every piece of it
goes through ``text.clean`` and into a plain ``Segment``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rfctui.attention import QueueItem
from rfctui.rows import LIFECYCLE_STATES, ListItem
from rfctui.text import clean, short_age
from rfctui.widgets.list_order import (
    GROUP_BY,
    GROUP_TITLES,
    SORT_KEYS,
    group_title,
    grouped,
    order_members,
    short_reason,
)

__all__ = [
    "BADGES",
    "GROUP_BY",
    "NEW_MARK",
    "SORT_KEYS",
    "GROUP_ORDER",
    "GROUP_TITLES",
    "LIST_STATES",
    "RfcList",
    "Row",
    "build_rows",
    "group_title",
    "group_totals",
    "ident_widths",
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


def badge_text(open_prs: dict[str, int]) -> str:
    parts = [f"{sym}{open_prs[k]}" for k, (sym, _m) in BADGES.items() if open_prs.get(k)]
    return " ".join(parts)


class RfcList(ScrollView, can_focus=True):
    """The grouped RFC list with a cursor; posts ``Highlighted`` as the cursor moves."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="list-down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="list-up"),
        Binding("g,home", "first", "First row", show=False, id="list-first"),
        Binding("G,end", "last", "Last row", show=False, id="list-last"),
        Binding("pageup", "page_up", "Page up", show=False, id="list-page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="list-page-down"),
        Binding(
            "enter",
            "select",
            "Read",
            id="list-select",
            tooltip="Read the entry (focus the detail), or fold a group",
        ),
        Binding("space", "toggle_group", "Fold group", show=False, id="list-toggle"),
        Binding("left,h", "collapse", "Fold", show=False, id="list-collapse"),
        Binding("right,l", "expand", "Unfold", show=False, id="list-expand"),
    ]

    COMPONENT_CLASSES = {
        "rfc-list--cursor",
        "rfc-list--cursor-blurred",
        "rfc-list--header",
        "rfc-list--ident",
        "rfc-list--owners",
        "rfc-list--badge",
        "rfc-list--removed",
        "rfc-list--stale",
        "rfc-list--age",
        "rfc-list--empty",
        "rfc-list--new",
        "rfc-list--reason",
    }

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    @dataclass(eq=False)
    class Highlighted(Message):
        """The cursor moved to ``item`` (``None`` on a group header)."""

        rfc_list: RfcList
        item: ListItem | None
        group: str
        queue: QueueItem | None = None  # a "Needs you" row

        @property
        def control(self) -> RfcList:
            return self.rfc_list

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._items: list[ListItem] = []
        self.rows: list[Row] = []
        self.collapsed: set[str] = set()
        self._folds_before_filter: set[str] | None = None  # see ``set_filtering``
        self.empty_message = "Loading the cache…"
        self._styles: dict[str, Style] = {}
        # (row key, width, ...) -> finished line; rows are rebuilt per keystroke, lines not.
        self._line_cache: dict[tuple[object, ...], Strip] = {}
        self._row_cache: dict[int, Row] = {}  # see build_rows
        self._widths: dict[str, int] | None = None
        # Group sizes while only the head of the list is loaded (see ``set_items``).
        self._totals: dict[str, int] | None = None
        self._length = 0  # display lines, with the rows not loaded yet
        self._last_key: tuple[str, str] | None = None
        self._now: datetime = self._clock()
        # Issue 11: the "Needs you" section (None: hidden), its note, the entries with
        # activity since last seen, and the order (rfctui.widgets.list_order).
        self._queue: list[QueueItem] | None = None
        self._queue_note: str | None = None
        self.new_slugs: frozenset[str] = frozenset()
        self.activity: dict[str, datetime] = {}
        self.sort = "default"
        self.group_by = "state"

    # -- data -----------------------------------------------------------------------

    def set_items(
        self,
        items: Sequence[ListItem],
        *,
        empty_message: str | None = None,
        announce: bool = True,
        universe: Sequence[ListItem] | None = None,
        totals: Mapping[str, int] | None = None,
        widths: Mapping[str, int] | None = None,
    ) -> None:
        """Show ``items`` (already filtered); the cursor stays on the same item if it can.

        ``announce`` posts ``Highlighted`` even if the highlighted item is unchanged (its
        data may be new); a filter keystroke passes False. ``universe`` (every item, on
        a fresh load) fixes the column widths so they do not jump while filtering.
        ``totals`` and ``widths`` (``group_totals``) say that ``items`` is only the head
        of the list: headers show the true group sizes, the scrollbar the full length.
        """
        self._items = list(items)
        if announce:
            self._line_cache.clear()  # fresh data: drawn lines may be out of date
            self._row_cache.clear()
        if universe is not None:
            self._widths = ident_widths(universe)
        if widths is not None:
            self._widths = dict(widths)
        self._totals = dict(totals) if totals is not None else None
        if empty_message is not None:
            self.empty_message = empty_message
        self._rebuild(announce=announce)

    def _rebuild(self, *, announce: bool = True) -> None:
        old = self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None
        key = old.key if old else None
        self._now = self._clock()
        self._build()
        index = 0
        if key is not None:
            for i, row in enumerate(self.rows):
                if row.key == key:
                    index = i
                    break
            else:
                same = min(self.cursor, max(len(self.rows) - 1, 0))
                if (old is not None and self.rows and not self.rows[same].is_header
                        and self.rows[same].group == old.group):
                    # Its row went (a snoozed queue row): onto the one that took its place.
                    index = same
                else:
                    # Its group was folded again (the filter ended): onto that group's header.
                    header = ("group", old.group) if old else None
                    index = next((i for i, r in enumerate(self.rows) if r.key == header), same)
        if self.rows and key is None:
            # First fill: start on the first item, not a header.
            index = next((i for i, r in enumerate(self.rows) if not r.is_header), 0)
        if announce or (0 <= index < len(self.rows) and self.rows[index].is_header):
            # Re-announce even if the key is unchanged: the data (or a header's count)
            # changed, and the detail pane shows what the cursor is on.
            self._last_key = None
        self.cursor = index
        self.refresh()

    def set_filtering(self, active: bool) -> None:
        """While a filter is on every group is unfolded (its matches must show, the
        pending ideas too); the person's folds come back when it is cleared."""
        if active and self._folds_before_filter is None:
            self._folds_before_filter = set(self.collapsed)
            self.collapsed.clear()
        elif not active and self._folds_before_filter is not None:
            self.collapsed = self._folds_before_filter
            self._folds_before_filter = None

    def _build(self) -> None:
        """``rows`` from the items; with ``_totals`` the headers and length of the whole."""
        by_state = self.group_by == "state"
        rows = build_rows(
            self._items,
            self.collapsed,
            self._widths if by_state else None,
            self._row_cache if by_state else None,
            sort=self.sort,
            group_by=self.group_by,
            activity=self.activity,
        )
        # The queue is about you, not about the filter: hidden while one is on.
        filtering = self._folds_before_filter is not None
        head = [] if filtering else queue_rows(
            self._queue, self._queue_note, "queue" in self.collapsed
        )
        self.rows = head + rows if head else rows
        length = len(self.rows)
        if self._totals is not None and by_state:
            for row in rows:
                if row.item is None:
                    row.count = self._totals.get(row.group, row.count)
            length = max(
                length,
                len(head)
                + sum(1 if g in self.collapsed else n + 1 for g, n in self._totals.items() if n),
            )
        self._length = length
        # Width 0: rows are cut to the pane, never scrolled sideways; and a resize does
        # not change the virtual size (no second layout pass just after the first paint).
        # No layout pass unless the scrollbar comes or goes (issue 13: it is the screen's).
        height = self.container_size.height
        if not height or self.show_vertical_scrollbar != (length > height):
            self.virtual_size = Size(0, length)
            return
        self.set_reactive(RfcList.virtual_size, Size(0, length))
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = length
            self.vertical_scrollbar.refresh()
        if self.scroll_y > self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    @property
    def highlighted_row(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    @property
    def highlighted_item(self) -> ListItem | None:
        row = self.highlighted_row
        return row.item if row else None

    def set_queue(self, items: Sequence[QueueItem] | None, note: str | None = None) -> None:
        """Show the "Needs you" section: ``items`` (``[]``: nothing waits), or only
        ``note`` (e.g. sign-in needed) when ``items`` is None; both None hide it."""
        self._queue = list(items) if items is not None else None
        self._queue_note = note
        self._rebuild(announce=False)

    @property
    def queue_items(self) -> list[QueueItem]:
        return list(self._queue or ())

    def set_marks(self, new_slugs: Iterable[str], activity: Mapping[str, datetime]) -> None:
        """Entries with activity since last seen (a marker) and each one's last activity
        (the "last activity" sort)."""
        self.new_slugs = frozenset(new_slugs)
        self.activity = dict(activity)
        self._line_cache.clear()
        if self.sort == "activity":
            self._rebuild(announce=False)
        else:
            self.refresh()

    def set_order(self, sort: str | None = None, group_by: str | None = None) -> None:
        """Change the sort key and/or the grouping; the cursor stays on its row."""
        if sort is not None:
            self.sort = sort if sort in SORT_KEYS else "default"
        if group_by is not None:
            self.group_by = group_by if group_by in GROUP_BY else "state"
        self._line_cache.clear()
        self._row_cache.clear()
        self._rebuild(announce=False)

    def select_slug(self, slug: str, kind: str = "rfc") -> bool:
        """Move the cursor to ``slug`` (expanding its group); False if it is not shown."""
        for item in self._items:
            if item.slug == slug and item.kind == kind:
                self.collapsed.discard(group_of(item))
                for name, _members in grouped([item], self.group_by):
                    self.collapsed.discard(name)
                break
        self._rebuild()
        for i, row in enumerate(self.rows):
            if row.key == (kind, slug):
                self.cursor = i
                return True
        return False

    # -- cursor ---------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        if not self.rows:
            return 0
        return max(0, min(value, len(self.rows) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh_line(old)
        self.refresh_line(new)
        row = self.highlighted_row
        key = row.key if row else None
        if key != self._last_key:
            self._last_key = key
            item, group, queue = (row.item, row.group, row.queue) if row else (None, "", None)
            self.post_message(self.Highlighted(self, item, group, queue))

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_cursor_into_view()

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.rows) - 1

    def action_page_down(self) -> None:
        self.cursor += max(self.scrollable_content_region.height - 1, 1)

    def action_page_up(self) -> None:
        self.cursor -= max(self.scrollable_content_region.height - 1, 1)

    @dataclass(eq=False)
    class Selected(Message):
        """``enter`` on an item: the screen moves focus to the detail to read it."""

        rfc_list: RfcList
        item: ListItem

        @property
        def control(self) -> RfcList:
            return self.rfc_list

    @dataclass(eq=False)
    class QueueSelected(Message):
        """``enter`` on a "Needs you" row: the screen selects its entry."""

        rfc_list: RfcList
        queue: QueueItem

        @property
        def control(self) -> RfcList:
            return self.rfc_list

    def action_select(self) -> None:
        """On a header: fold or unfold. On an item: post ``Selected``."""
        row = self.highlighted_row
        if row is None:
            return
        if row.queue is not None:
            self.post_message(self.QueueSelected(self, row.queue))
        elif row.is_header:
            self._set_collapsed(row.group, not row.collapsed)
        elif row.item is not None:
            self.post_message(self.Selected(self, row.item))

    def action_toggle_group(self) -> None:
        """On a header: fold or unfold the group. On an item: re-announce it."""
        row = self.highlighted_row
        if row is None:
            return
        if row.is_header:
            self._set_collapsed(row.group, not row.collapsed)
        else:
            self._last_key = None
            self.cursor = self.cursor

    def action_collapse(self) -> None:
        row = self.highlighted_row
        if row is not None:
            self._set_collapsed(row.group, True)

    def action_expand(self) -> None:
        row = self.highlighted_row
        if row is not None and row.is_header:
            self._set_collapsed(row.group, False)

    def _set_collapsed(self, group: str, collapsed: bool) -> None:
        if collapsed:
            self.collapsed.add(group)
        else:
            self.collapsed.discard(group)
        # Keep the cursor on the group's header after folding.
        header = ("group", group)
        self._build()
        index = next((i for i, r in enumerate(self.rows) if r.key == header), 0)
        self._last_key = header if self.rows[index].key == header else None
        self.cursor = index
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_y) + event.y
        if 0 <= index < len(self.rows):
            if self.cursor == index and self.rows[index].is_header:
                self.action_toggle_group()
            else:
                self.cursor = index
        self.focus()

    # -- rendering ------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._line_cache.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"rfc-list--{name}", partial=True)
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_y) + y
        base = self._base_style()
        if not self.rows:
            if y == 0:
                text = _fit(" " + self.empty_message, width)
                return Strip([Segment(text, base + self._style("empty"))]).adjust_cell_length(
                    width, base
                )
            return Strip.blank(width, base)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        if index == self.cursor:
            # The cursor's colours win over the row's own (owners, badges), so the
            # highlighted row stays readable.
            cursor = base + self._style("cursor" if self.has_focus else "cursor-blurred")
            segments = [
                Segment(seg.text, (seg.style or Style()) + cursor)
                for seg in self._render_row(row, width)
            ]
            return Strip(segments).adjust_cell_length(width, cursor)
        # Every other line is a finished Strip, kept per row and width: typing in the
        # filter mostly shows rows that were on screen a keystroke ago.
        new = row.item is not None and row.item.slug in self.new_slugs
        cache_key = (row.key, width, row.ident_width, row.count, row.collapsed, new)
        strip = self._line_cache.get(cache_key)
        if strip is None:
            if len(self._line_cache) > 4000:
                self._line_cache.clear()
            strip = Strip(self._render_row(row, width)).apply_style(base)
            strip = strip.adjust_cell_length(width, base)
            self._line_cache[cache_key] = strip
        return strip

    def _base_style(self) -> Style:
        """The widget's own style (``rich_style`` walks the DOM: once per style change)."""
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def on_focus(self) -> None:
        self.refresh_line(self.cursor)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor)

    def _render_row(self, row: Row, width: int) -> list[Segment]:
        if row.is_header:
            arrow = "▸" if row.collapsed else "▾"
            count = f" ({row.count})" if row.count >= 0 else ""
            label = f"{arrow} {group_title(row.group)}{count}"
            return [Segment(_fit(label, width), self._style("header"))]
        if row.queue is not None:
            return self._render_queue(row.queue, width)
        if row.note is not None:
            return [Segment(_fit("  " + row.note, width), self._style("empty"))]
        item = row.item
        assert item is not None
        if item.kind == "pending":
            return self._render_pending(item, width, row.ident_width)
        return self._render_rfc(item, width, row.ident_width)

    def _render_rfc(self, item: ListItem, width: int, width_hint: int) -> list[Segment]:
        w = min(width_hint, max(8, width // 3))
        ident = set_cell_size(_fit(ident_of(item), w), w)
        right: list[tuple[str, Style]] = []
        if item.state not in GROUP_TITLES or item.state == "pending":
            right.append((f"[{clean(item.state)}]", self._style("age")))
        badges = badge_text(item.open_prs)
        if badges:
            right.append((badges, self._style("badge")))
        if item.removed:
            right.append(("removed", self._style("removed")))
        elif item.stale:
            right.append(("stale", self._style("stale")))
        owners, title = ",".join(clean(o) for o in item.owners), clean(item.title)
        new = item.slug in self.new_slugs
        return self._compose_line(ident, title, owners, right, width, dim=item.removed, new=new)

    def _render_pending(self, item: ListItem, width: int, width_hint: int) -> list[Segment]:
        w = min(width_hint, max(8, width // 3))
        ident = set_cell_size(_fit(ident_of(item), w), w)
        who = clean(item.proposed_by) or "?"
        right = [(short_age(item.proposed_at, self._now), self._style("age"))]
        if item.stale:
            right.append(("stale", self._style("stale")))
        title = pending_title(item.title)
        # The real proposer matters more than the title's tail (§7.3): keep it.
        new = item.slug in self.new_slugs
        return self._compose_line(ident, title, who, right, width, dim=False, min_title=4, new=new)

    def _render_queue(self, q: QueueItem, width: int) -> list[Segment]:
        """``  slug  reason in words  age``: why it waits on you, and how long. A narrow
        pane says the reason in a word or two (the detail has the sentence)."""
        narrow = width < 50
        w = min(IDENT_MAX, max(8, width // (2 if narrow else 3)))
        ident = set_cell_size(_fit(clean(q.slug), w), w)
        text = short_reason(q) if narrow else q.text
        age = f"{q.age_days}d" if q.age_days is not None else "—"
        right = [(age, self._style("age"))]
        if q.snoozed:
            right.insert(0, ("snoozed", self._style("removed")))
        return self._compose_line(
            ident, text, "", right, width, dim=False, min_title=8,
            new=q.new_since_seen and q.slug in self.new_slugs, text_style="reason",
        )

    def _compose_line(
        self,
        ident: str,
        title: str,
        owners: str,
        right: list[tuple[str, Style]],
        width: int,
        *,
        dim: bool,
        min_title: int = 12,
        new: bool = False,
        text_style: str | None = None,
    ) -> list[Segment]:
        """Lay out ``  ident  title … owners badges`` in ``width`` cells.

        The title takes what is left; owners are cut first on a narrow pane.
        """
        indent = "  "
        right_text = " ".join(t for t, _s in right)
        right_w = cell_len(right_text) + (1 if right_text else 0)
        ident_w = cell_len(ident)
        owners = _fit(owners, 16)
        owners_w = cell_len(owners) + 1 if owners else 0
        title_w = width - len(indent) - ident_w - 1 - right_w - owners_w
        if title_w < min_title and owners_w:
            owners, owners_w = "", 0
            title_w = width - len(indent) - ident_w - 1 - right_w
        segs: list[Segment] = [
            Segment(NEW_MARK + " ", self._style("new")) if new else Segment(indent),
            Segment(ident, self._style("ident")),
            Segment(" "),
            Segment(
                set_cell_size(_fit(title, max(title_w, 0)), max(title_w, 0)),
                self._style(text_style) if text_style else None,
            ),
        ]
        if owners:
            segs += [Segment(" "), Segment(owners, self._style("owners"))]
        for text, style in right:
            segs += [Segment(" "), Segment(text, style)]
        if dim:
            dim_style = self._style("removed")
            segs = [Segment(s.text, (s.style or Style()) + dim_style) for s in segs]
        return segs
