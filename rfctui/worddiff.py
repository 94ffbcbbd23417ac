"""A unified diff as display rows, with word-level highlights (issue 12 §1, SPEC §10).

Pure and Textual-free, so the change view's drawing (`rfctui.widgets.diff_view`) only
styles what this module decided: which old and new lines pair up, which words in a pair
changed, and how the rows sit side by side. The text stays other people's raw text here;
the widget makes it visible-safe (§7.4).

Pairing: inside one hunk, a run of removed lines followed by a run of added lines is a
*change block*; its lines pair in order (the first removed with the first added, …), and
a pair gets word highlights only when the two lines are alike enough
(`SIMILAR`), otherwise each line is simply removed / added. Lines longer than
`WORD_LIMIT` characters are not word-diffed: a 30 kB one-line body must not stall a
keystroke.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = [
    "SIMILAR",
    "WORD_LIMIT",
    "DiffLine",
    "SidePair",
    "parse_unified",
    "side_by_side",
    "tokens",
    "word_spans",
]

SIMILAR = 0.4  # below this a removed/added pair is two unrelated lines, not an edit
WORD_LIMIT = 2000
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")

Spans = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One row of a unified diff.

    `kind`: ``hunk`` (an ``@@`` line), ``context``, ``del`` or ``add``. Line numbers are
    1-based on their side (None where the line has no such side). `spans` are the
    character ranges (half-open) of the words that changed within a paired line.
    """

    kind: str
    text: str
    old_no: int | None = None
    new_no: int | None = None
    spans: Spans = ()


@dataclass(frozen=True, slots=True)
class SidePair:
    """One side-by-side row: the old line on the left, the new on the right (None: blank)."""

    old: DiffLine | None
    new: DiffLine | None


def tokens(text: str) -> list[str]:
    """Words, runs of white space and single punctuation marks (what a highlight spans)."""
    return _TOKEN.findall(text)


def _merge(spans: list[tuple[int, int]]) -> Spans:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif end > start:
            out.append((start, end))
    return tuple(out)


def word_spans(old: str, new: str) -> tuple[Spans, Spans] | None:
    """The changed character ranges of ``old`` and ``new``, or None when the lines are
    too different (or too long) for word highlights to help."""
    if len(old) > WORD_LIMIT or len(new) > WORD_LIMIT:
        return None
    a, b = tokens(old), tokens(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < SIMILAR:
        return None
    a_pos = [0]
    for t in a:
        a_pos.append(a_pos[-1] + len(t))
    b_pos = [0]
    for t in b:
        b_pos.append(b_pos[-1] + len(t))
    old_spans: list[tuple[int, int]] = []
    new_spans: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_spans.append((a_pos[i1], a_pos[i2]))
        new_spans.append((b_pos[j1], b_pos[j2]))
    return _merge(old_spans), _merge(new_spans)


def parse_unified(diff: str) -> list[DiffLine]:
    """The rows of a ``difflib.unified_diff`` text (``---``/``+++`` headers dropped),
    with line numbers and word highlights on paired removed/added lines."""
    rows: list[DiffLine] = []
    old_no = new_no = 0
    dels: list[DiffLine] = []
    adds: list[DiffLine] = []

    def flush() -> None:
        for i in range(max(len(dels), len(adds))):
            d = dels[i] if i < len(dels) else None
            a = adds[i] if i < len(adds) else None
            if d is not None and a is not None and (spans := word_spans(d.text, a.text)):
                dels[i] = DiffLine("del", d.text, d.old_no, None, spans[0])
                adds[i] = DiffLine("add", a.text, None, a.new_no, spans[1])
        rows.extend(dels)
        rows.extend(adds)
        dels.clear()
        adds.clear()

    started = False
    for line in diff.split("\n") if diff else []:
        if not started and (line.startswith("--- ") or line.startswith("+++ ")):
            continue
        if m := _HUNK.match(line):
            flush()
            started = True
            # A side of length 0 shows no line in this hunk, so its start never counts.
            old_no, new_no = int(m.group(1)), int(m.group(2))
            rows.append(DiffLine("hunk", line))
            continue
        if not started:
            continue
        tag, text = line[:1], line[1:]
        if tag == "-":
            if adds:
                flush()
            dels.append(DiffLine("del", text, old_no, None))
            old_no += 1
        elif tag == "+":
            adds.append(DiffLine("add", text, None, new_no))
            new_no += 1
        else:  # " " context (or "\ No newline", shown as context)
            flush()
            rows.append(DiffLine("context", text, old_no, new_no))
            old_no += 1
            new_no += 1
    flush()
    return rows


def side_by_side(rows: list[DiffLine]) -> list[SidePair]:
    """``rows`` as (old | new) pairs: context on both sides, a change block's removed and
    added lines next to each other, the shorter side padded with blanks."""
    out: list[SidePair] = []
    dels: list[DiffLine] = []
    adds: list[DiffLine] = []

    def flush() -> None:
        for i in range(max(len(dels), len(adds))):
            out.append(SidePair(dels[i] if i < len(dels) else None,
                                adds[i] if i < len(adds) else None))
        dels.clear()
        adds.clear()

    for row in rows:
        if row.kind == "del":
            if adds:
                flush()
            dels.append(row)
        elif row.kind == "add":
            adds.append(row)
        else:
            flush()
            out.append(SidePair(row, row))
    flush()
    return out
