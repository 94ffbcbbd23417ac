"""Untrusted text made safe to show, and human ages (SPEC §7.4).

Every title, body, login and label comes from other people. Textual's ``Content``
strips only a handful of control codes, so ESC sequences (colour, OSC 52 clipboard,
window title, cursor moves) and the other C0/C1 codes would reach the terminal
unchanged. ``clean`` is the one place that removes them; widgets call it on every piece
of user data they display. It is Textual-free so the core and the tests can use it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "clean",
    "html_blocks_as_code",
    "humanize_age",
    "humanize_span",
    "markdown_links",
    "markdown_parser",
    "one_line",
    "short_age",
]

# Whole escape sequences first: CSI (7- and 8-bit), OSC (ended by BEL or ST, or
# unterminated), DCS/SOS/PM/APC strings, then two-byte "ESC x" sequences.
_SEQ = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# Bidi controls that can reorder what a reader sees (Trojan Source): embeddings,
# overrides, isolates and the implicit marks.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
_BIDI_RE = re.compile(f"[{_BIDI}]")
# Lone C0 controls (tab and newline handled apart), DEL and C1.
_CTRL_ML = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CTRL_SL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\n]+")
# What a removed bidi control leaves behind, so a reader sees that something was there.
BIDI_MARK = "\ufffd"


def clean(s: str | None, *, multiline: bool = False) -> str:
    """Return ``s`` with escape sequences and control characters removed.

    Single-line text (titles, logins, labels) also folds newlines and tabs into single
    spaces, so a title can never spill onto a second row. Bidi controls are replaced by
    U+FFFD so a hostile reordering is visible instead of silently obeyed.
    """
    if not s:
        return ""
    text = s.replace("\r\n", "\n").replace("\r", "\n")
    text = _SEQ.sub("", text)
    text = _BIDI_RE.sub(BIDI_MARK, text)
    if multiline:
        return _CTRL_ML.sub("", text)
    text = _CTRL_SL.sub(lambda m: " " if m.group() in "\t\n" else "", text)
    return _SPACES.sub(" ", text).strip()


def one_line(s: str | None, limit: int = 200) -> str:
    """Clean ``s`` to a single line of at most ``limit`` characters (status, notices)."""
    text = clean(s)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def humanize_age(dt: datetime | None, now: datetime) -> str:
    """A short, stable age such as ``"3 min ago"`` or ``"2 y ago"``.

    The caller passes ``now`` (the app's injected clock), so snapshots stay fixed.
    A timestamp in the future (clock skew) reads as ``"just now"``.
    """
    if dt is None:
        return "—"
    if dt.tzinfo is None and now.tzinfo is not None:
        dt = dt.replace(tzinfo=now.tzinfo)
    delta: timedelta = now - dt
    secs = int(delta.total_seconds())
    if secs < 45:
        return "just now"
    mins = secs // 60
    if mins < 60:
        return f"{max(mins, 1)} min ago"
    hours = mins // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    if days < 60:
        return f"{days} d ago"
    if days < 365 * 2:
        return f"{days // 30} mo ago"
    return f"{days // 365} y ago"


def short_age(dt: datetime | None, now: datetime) -> str:
    """A compact age for narrow columns: ``now``, ``5m``, ``3h``, ``12d``, ``2mo``, ``1y``."""
    long = humanize_age(dt, now)
    if long == "just now":
        return "now"
    if long == "—":
        return long
    number, unit, _ago = long.split(" ")
    return number + {"min": "m", "h": "h", "d": "d", "mo": "mo", "y": "y"}[unit]


def humanize_span(dt: datetime | None, now: datetime) -> str:
    """The time since ``dt`` without "ago" ("3 d"), for "time in state"."""
    age = humanize_age(dt, now)
    return age.removesuffix(" ago")


def markdown_parser() -> Any:
    """The markdown-it parser the detail pane's ``Markdown`` uses ("gfm-like"), so what
    is listed or rewritten here is what is shown there."""
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like")


_HTML_START = re.compile(r"^ {0,3}<", re.M)  # where an HTML block can begin
_COMMENTS_ONLY = re.compile(r"\s*(?:<!--.*?-->\s*)+", re.S)


def html_blocks_as_code(body: str) -> str:
    """``body`` with each top-level raw HTML block shown as an ``html`` code block.

    Textual's ``Markdown`` drops HTML blocks, and with them what people put there
    (``<details>``/``<summary>``, a centred ``<div>``): shown as code, nothing is lost
    and nothing is interpreted (§7.4). Blocks of HTML comments only stay hidden, as
    Gitea hides them; blocks inside lists or quotes are left as they are.
    """
    if not _HTML_START.search(body):
        return body  # no line starts with a tag: nothing to parse (start-up, §7.1)
    lines = body.split("\n")
    spans: list[tuple[int, int, str]] = []
    for token in markdown_parser().parse(body):
        if token.type != "html_block" or token.level != 0 or token.map is None:
            continue
        if _COMMENTS_ONLY.fullmatch(token.content):
            continue
        start, end = token.map
        spans.append((start, end, token.content.rstrip("\n")))
    for start, end, content in reversed(spans):
        runs = [len(run) for run in re.findall(r"`+", content)]
        fence = "`" * max(3, max(runs, default=0) + 1)
        lines[start:end] = [f"{fence}html", *content.split("\n"), fence]
    return "\n".join(lines)


def markdown_links(body: str) -> list[tuple[str, str]]:
    """The links of a markdown body as ``(text, href)``, in order, each once (§7.4).

    Parsed as the detail pane's ``Markdown`` parses it (markdown-it, "gfm-like", so bare
    URLs count), so the list shows exactly the links a mouse could click: not the ones
    in code, not images. Text and href are cleaned and on one line; whether an href may
    open (http(s) only) is the caller's business.
    """
    out: dict[tuple[str, str], None] = {}
    for block in markdown_parser().parse(body):
        href: str | None = None
        words: list[str] = []
        for token in block.children or ():
            if token.type == "link_open":
                href, words = str(token.attrs.get("href") or ""), []
            elif token.type == "link_close" and href is not None:
                text = one_line("".join(words), 120) or one_line(href, 120)
                out.setdefault((text, one_line(href, 2000)), None)
                href = None
            elif href is not None and token.type in ("text", "code_inline"):
                words.append(token.content)
    return list(out)

