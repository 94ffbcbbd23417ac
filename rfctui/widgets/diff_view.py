"""A body diff, old | new side by side on wide panes and unified on narrow ones (issue 12 §1).

A Line API widget (like `rfctui.widgets.rfc_list`): the rows of `rfctui.worddiff` are
laid out once per width into screen lines (long lines wrap, so a changed word at the end
of a Markdown paragraph is never cut off), and ``render_line`` only turns the visible
ones into ``Strip``s — a 30 kB body diff costs one layout, not a widget per line.

Every character is other people's text (§7.4). It goes through `visible`: escape codes,
other controls and bidi overrides are *shown* (``\\x1b``, ``\\u202e``, as
`rfctui.text.terminal_safe` writes them), never interpreted, so a reviewer sees what the
pull request would really write; and segments are plain strings, never markup. Colours
come from the theme through component classes (``diff-view--add-word`` …) set in the
change view's stylesheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rfctui.text import terminal_safe
from rfctui.worddiff import DiffLine, SidePair, side_by_side

__all__ = ["SPLIT_WIDTH", "DiffView", "visible"]

SPLIT_WIDTH = 120  # at this width and wider, old and new sit side by side
_SIGN = {"del": "-", "add": "+", "context": " "}

Piece = tuple[str, str]  # (text, component name)


def visible(text: str) -> str:
    """``text`` safe to draw and honest to read: tabs as spaces, every control and bidi
    character shown escaped (§7.4)."""
    return terminal_safe(text.replace("\t", "    "))


def _pieces(line: DiffLine) -> list[Piece]:
    """The line's text split at its word highlights, each part made `visible`."""
    base = line.kind
    if not line.spans:
        return [(visible(line.text), base)]
    out: list[Piece] = []
    pos = 0
    for start, end in line.spans:
        if start > pos:
            out.append((visible(line.text[pos:start]), base))
        out.append((visible(line.text[start:end]), f"{base}-word"))
        pos = end
    if pos < len(line.text):
        out.append((visible(line.text[pos:]), base))
    return out


def _wrap(pieces: Sequence[Piece], width: int) -> list[list[Piece]]:
    """Cut ``pieces`` into lines of at most ``width`` cells (at least one line), after
    the last space that fits when there is one, so prose wraps between words.

    String operations on the joined text, then the pieces sliced at the cuts: a 30 kB
    diff lays out in tens of milliseconds (measured), not a Python step per character.
    """
    width = max(width, 1)
    text = "".join(t for t, _s in pieces)
    if len(text) <= width and cell_len(text) <= width:
        return [list(pieces)]
    narrow = text.isascii()
    cuts: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        if narrow:
            end = min(start + width, n)
        else:
            end, used = start, 0
            while end < n and (used + cell_len(text[end]) <= width or end == start):
                used += cell_len(text[end])
                end += 1
        after = end
        if end < n and text[end] == " ":
            after = end + 1  # the space at the cut is where the line breaks
        elif end < n:
            space = text.rfind(" ", start, end)
            if space > start:
                end = after = space + 1
        cuts.append((start, end))
        start = after
    out: list[list[Piece]] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for t, style in pieces:
        spans.append((pos, pos + len(t), style))
        pos += len(t)
    i = 0
    for a, b in cuts:
        line: list[Piece] = []
        while i < len(spans) and spans[i][1] <= a:
            i += 1
        j = i
        while j < len(spans) and spans[j][0] < b:
            s0, s1, style = spans[j]
            line.append((text[max(a, s0):min(b, s1)], style))
            j += 1
        out.append(line)
    return out or [[]]


class DiffView(ScrollView, can_focus=True):
    """The rows of a body diff; ``layout`` ``auto`` picks side by side from `SPLIT_WIDTH`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("space", "page_down", "Page down", show=False),
        Binding("b", "page_up", "Page up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--gutter",
        "diff-view--hunk",
        "diff-view--context",
        "diff-view--del",
        "diff-view--add",
        "diff-view--del-word",
        "diff-view--add-word",
        "diff-view--blank",
        "diff-view--sep",
    }

    layout_mode: reactive[str] = reactive("auto", init=False)  # auto | unified | split

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rows: list[DiffLine] = []
        self._pairs: list[SidePair] = []
        self._lines: list[list[Piece]] = []
        self._laid_out_for: tuple[int, bool] | None = None
        self._styles: dict[str, Style] = {}
        self._number_width = 1

    # -- data -----------------------------------------------------------------------

    def set_rows(self, rows: Sequence[DiffLine]) -> None:
        """Show ``rows`` (from `rfctui.worddiff.parse_unified`), scrolled to the top."""
        self.rows = list(rows)
        self._pairs = side_by_side(self.rows)
        last = max((max(r.old_no or 0, r.new_no or 0) for r in self.rows), default=0)
        self._number_width = len(str(last))
        self._laid_out_for = None
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._relayout()

    @property
    def split(self) -> bool:
        """Whether old and new are shown side by side at the current width."""
        if self.layout_mode == "auto":
            return self.size.width >= SPLIT_WIDTH
        return self.layout_mode == "split"

    def toggle_layout(self) -> str:
        """Switch between side by side and unified; returns the layout now shown."""
        self.layout_mode = "unified" if self.split else "split"
        return "side by side" if self.split else "unified"

    def watch_layout_mode(self) -> None:
        self._laid_out_for = None
        self._relayout()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    # -- layout ---------------------------------------------------------------------

    def _gutter(self, number: int | None, sign: str) -> Piece:
        num = str(number) if number is not None else ""
        return (num.rjust(self._number_width) + " " + sign + " ", "gutter")

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width <= 0:
            return
        key = (width, self.split)
        if key == self._laid_out_for:
            return
        self._laid_out_for = key
        lines: list[list[Piece]] = []
        if self.split:
            self._layout_split(width, lines)
        else:
            self._layout_unified(width, lines)
        self._lines = lines
        # Width 0: lines wrap to the pane, never scroll sideways.
        self.virtual_size = Size(0, len(lines))
        self.refresh()

    def _layout_unified(self, width: int, lines: list[list[Piece]]) -> None:
        gutter_w = self._number_width * 2 + 4
        for row in self.rows:
            if row.kind == "hunk":
                lines.extend(_wrap([(visible(row.text), "hunk")], width))
                continue
            nw = self._number_width
            old_no = str(row.old_no) if row.old_no is not None else ""
            new_no = str(row.new_no) if row.new_no is not None else ""
            gutter = (f"{old_no:>{nw}} {new_no:>{nw}} {_SIGN[row.kind]} ", "gutter")
            body = _wrap(_pieces(row), width - gutter_w)
            for i, part in enumerate(body):
                head = gutter if i == 0 else (" " * gutter_w, "gutter")
                lines.append([head, *part, ("", row.kind)])

    def _layout_split(self, width: int, lines: list[list[Piece]]) -> None:
        half = (width - 1) // 2
        right_w = width - 1 - half
        gutter_w = self._number_width + 3
        for pair in self._pairs:
            if pair.old is not None and pair.old.kind == "hunk":
                lines.extend(_wrap([(visible(pair.old.text), "hunk")], width))
                continue
            left = self._side(pair.old, "old", half - gutter_w)
            right = self._side(pair.new, "new", right_w - gutter_w)
            for i in range(max(len(left), len(right))):
                lp = left[i] if i < len(left) else self._blank_side(pair.old, gutter_w)
                rp = right[i] if i < len(right) else self._blank_side(pair.new, gutter_w)
                lines.append([*self._pad(lp, half), ("│", "sep"), *self._pad(rp, right_w)])

    def _side(self, line: DiffLine | None, side: str, width: int) -> list[list[Piece]]:
        if line is None:
            return [[("", "blank")]]
        number = line.old_no if side == "old" else line.new_no
        body = _wrap(_pieces(line), width)
        out: list[list[Piece]] = []
        for i, part in enumerate(body):
            head = self._gutter(number, _SIGN[line.kind]) if i == 0 else (
                " " * (self._number_width + 3), "gutter")
            out.append([head, *part])
        return out

    def _blank_side(self, line: DiffLine | None, gutter_w: int) -> list[Piece]:
        if line is None:
            return [("", "blank")]
        return [(" " * gutter_w, "gutter"), ("", line.kind)]

    @staticmethod
    def _pad(pieces: list[Piece], width: int) -> list[Piece]:
        """``pieces`` filled to ``width`` cells in the style of the last one (a removed
        line's background runs to the column's edge)."""
        used = sum(cell_len(t) for t, _s in pieces)
        fill_style = pieces[-1][1] if pieces else "blank"
        return [*pieces, (" " * max(0, width - used), fill_style)]

    # -- drawing --------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"diff-view--{name}")
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = round(self.scroll_y) + y
        if index >= len(self._lines):
            return Strip.blank(width, base)
        pieces = self._lines[index]
        segments = [Segment(t, base + self._style(s)) for t, s in pieces if t]
        fill = base + self._style(pieces[-1][1]) if pieces else base
        return Strip(segments).adjust_cell_length(width, fill)
