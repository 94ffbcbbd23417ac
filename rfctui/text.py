"""Untrusted text made safe to show, and human ages (SPEC §7.4).

Every title, body, login and label comes from other people. Textual's ``Content``
strips only a handful of control codes, so ESC sequences (colour, OSC 52 clipboard,
window title, cursor moves) and the other C0/C1 codes would reach the terminal
unchanged. ``clean`` is the one place that removes them; widgets call it on every piece
of user data they display. It is Textual-free so the core and the tests can use it.

The command line is different (§11): a person reading a log or an error must see that
something odd was there, and a file name with an ESC in it is a different file from one
without. ``terminal_safe`` therefore *shows* such characters escaped (``\\x1b``) instead
of removing them, and ``emit`` / ``emit_json`` are how every CLI line reaches a stream.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timedelta
from typing import Any, Literal, TextIO

__all__ = [
    "clean",
    "emit",
    "emit_json",
    "html_blocks_as_code",
    "humanize_age",
    "humanize_span",
    "markdown_links",
    "markdown_parser",
    "one_line",
    "short_age",
    "shorten",
    "terminal_safe",
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


# ---------------------------------------------------------------- terminal output (§11)

# What never reaches a terminal raw: C0, DEL and C1 controls (ESC, BEL, CSI, OSC, NEL…),
# lone surrogates (from a hostile JSON "\udcxx"; unencodable, so a crash otherwise), the
# bidi controls of ``_BIDI`` plus U+061C (ARABIC LETTER MARK), and the line/paragraph
# separators, which many viewers treat as line breaks.
_UNSAFE = f"\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff\u061c\u2028\u2029{_BIDI}"
# In JSON text a raw newline is layout (inside a string json writes it as "\n"); the
# rest of the class is escaped.
_JSON_UNSAFE_RE = re.compile(f"(?![\\n])[{_UNSAFE}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# A backslash is doubled only where a reader could take it for the start of one of the
# escapes above: before x, u, n, r, t, another backslash, or a character being escaped.
# Plain text (``C:\Users``, ``a\b``) is left exactly as it was, and the result still
# reads back one way only (tests/test_terminal_safety.py decodes it).
_TERMINAL_RE = re.compile(f"\\\\(?=[xunrt\\\\{_UNSAFE}])|[{_UNSAFE}]")


def shorten(text: object, limit: int = 500) -> str:
    """``str(text)`` cut to ``limit`` characters, control characters *kept*.

    For command-line lines: `emit` shows those characters escaped (§11), so a newline in
    an error reads ``\\n`` instead of vanishing as it would with `one_line`.
    """
    line = "" if text is None else str(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch == "\\":
        return "\\\\"
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(s: object) -> str:
    """``s`` as one terminal line with every control character *visibly* escaped (§11).

    ESC, BEL, the other C0 and C1 controls, DEL, bidi overrides/isolates/marks, lone
    surrogates and line separators become ``\\x1b``, ``\\u202e``, ``\\n``…, so no escape
    sequence reaches the terminal, nothing is reordered, a record never spills onto a
    second line, and the reader sees that something was there. Printable text, including
    every other Unicode character, is unchanged. Unlike `clean` (the UI's), nothing is
    removed: a file named ``a\\x1bb`` is not the file ``ab``.
    """
    text = s if isinstance(s, str) else "" if s is None else str(s)
    return _TERMINAL_RE.sub(_escape, text)


def emit(
    text: object = "",
    *,
    file: TextIO | None = None,
    end: Literal["\n", ""] = "\n",
    redraw: bool = False,
) -> None:
    """Write one line of CLI output through `terminal_safe` (SPEC §11).

    The command line's only way to write text (``print``'s shape, so a call site reads
    the same); a command added later is safe by construction, and
    tests/test_terminal_safety.py checks no ``print`` or ``.write`` bypasses it.
    ``redraw`` starts with a carriage return (a progress bar redrawn in place); ``end``
    is the line ending. Both are ours, never part of the text. A stream whose encoding
    cannot show a character gets ``\\xe9``-style escapes rather than a crash.
    """
    stream = file if file is not None else sys.stdout
    _write(stream, ("\r" if redraw else "") + terminal_safe(text) + end)


def emit_json(data: Any, *, file: TextIO | None = None) -> None:
    """Write ``data`` as indented JSON whose raw text is terminal-safe (§11).

    ``json`` escapes C0 controls itself; DEL, C1, bidi controls, separators and lone
    surrogates would pass raw with ``ensure_ascii=False``, so they are written as
    ``\\uXXXX`` escapes too. Same data for a JSON reader, readable UTF-8 for everyone
    else (titles in any script stay as they are). They can only occur inside strings,
    where a ``\\uXXXX`` escape is always valid.
    """
    stream = file if file is not None else sys.stdout
    text = json.dumps(data, ensure_ascii=False, indent=2)
    _write(stream, _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
    except UnicodeEncodeError:  # e.g. PYTHONIOENCODING=ascii: escape, do not crash
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()


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

