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
from rfctui.rows import ListItem
from rfctui.text import clean, short_age
from rfctui.widgets.list_order import (
    GROUP_BY,
    GROUP_TITLES,
    SORT_KEYS,
    group_title,
    grouped,
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
    "elide_middle",
    "group_title",
    "group_totals",
    "ident_widths",
    "pending_title",
]

from rfctui.widgets.list_rows import (
    BADGES,
    GROUP_ORDER,
    IDENT_MAX,
    LIST_STATES,
    NEW_MARK,
    Row,
    badge_text,
    build_rows,
    elide_middle,
    group_of,
    group_totals,
    ident_cells,
    ident_of,
    ident_widths,
    pending_title,
    queue_rows,
)
from rfctui.widgets.list_rows import fit as _fit


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
        first_match: bool = False,
    ) -> None:
        """Show ``items`` (already filtered); the cursor stays on the same item if it can.

        ``first_match`` (the filter text changed): the cursor goes to the first item
        shown, never its group header, so enter reads the best match (issue 14 §4).

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
        self._rebuild(announce=announce, first_match=first_match)

    def _rebuild(self, *, announce: bool = True, first_match: bool = False) -> None:
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
        if self.rows and (key is None or first_match):
            # First fill, or a new filter: start on the first item, not a header.
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
        # Keep the cursor on the group's header after folding. From a row inside the
        # group (h on an item) the header is announced, so the detail never stays on
        # a row that is hidden now (issue 14 §4).
        was = self.highlighted_row
        header = ("group", group)
        self._build()
        index = next((i for i, r in enumerate(self.rows) if r.key == header), 0)
        stays = was is not None and was.key == header and self.rows[index].key == header
        self._last_key = header if stays else None
        self.cursor = index
        self.refresh()
        self._folds_changed()

    # -- remembered folds (issue 14 §3) ----------------------------------------------

    @dataclass(eq=False)
    class FoldsChanged(Message):
        """The person folded or unfolded a group: ``folded`` is every folded group."""

        rfc_list: RfcList
        folded: frozenset[str]

        @property
        def control(self) -> RfcList:
            return self.rfc_list

    @property
    def folded_groups(self) -> frozenset[str]:
        """The person's folds (those kept aside while a filter unfolds everything)."""
        kept = self._folds_before_filter
        return frozenset(self.collapsed if kept is None else kept)

    def restore_folds(self, groups: Iterable[str]) -> None:
        """Fold ``groups`` (remembered from the last run), keeping any filter's view."""
        folds = {g for g in groups if isinstance(g, str)}
        if self._folds_before_filter is not None:
            self._folds_before_filter = folds
        else:
            self.collapsed = folds
            self._rebuild(announce=False)

    def _folds_changed(self) -> None:
        # Folds made while a filter is on are the filter's (they go when it is cleared).
        if self._folds_before_filter is None:
            self.post_message(self.FoldsChanged(self, frozenset(self.collapsed)))

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
            style = self._styles[name] = self._component_style(f"rfc-list--{name}")
        return style

    def _component_style(self, component: str) -> Style:
        """A component class's style over this widget's background.

        ``get_component_rich_style(partial=True)`` hands theme colours over raw: an
        ``auto`` colour (``$text-muted`` is ``auto 60%``) becomes plain white — white
        on cream in a light theme (issue 14 §3) — and alpha is dropped. Resolved here
        the way Textual resolves a widget's own colour: ``auto`` contrasts with the
        background, a translucent colour is blended over it.
        """
        styles = self.get_component_styles(component)
        style = styles.partial_rich_style
        background = self.background_colors[1]
        if styles.has_rule("background"):
            background = background + styles.background
        if styles.has_rule("color"):
            color = styles.color
            if styles.has_rule("auto_color") and styles.auto_color:
                color = background.get_contrast_text(color.a)
            style += Style(color=(background + color).rich_color)
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
        w = ident_cells(width_hint, width)
        ident = set_cell_size(elide_middle(ident_of(item), w), w)
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
        w = ident_cells(width_hint, width)
        ident = set_cell_size(elide_middle(ident_of(item), w), w)
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
        ident = set_cell_size(elide_middle(clean(q.slug), w), w)
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
