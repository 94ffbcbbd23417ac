"""The ``On-behalf-of:`` trailer: write it, keep user text from forging it, read it back.

SPEC §6.2: every commit message and PR body the bot writes ends with a trailer block whose
last line is ``On-behalf-of: <Full Name> <<login>>``. SPEC §6.3: the reader trusts only
the **final trailer block** (the last paragraph, every line a ``Key: value`` trailer).

How forging is prevented, in two layers:

1. `compose` always puts our trailer in its own last paragraph, so user text can never
   be part of the final block that `on_behalf_of` (and ``git interpret-trailers``) reads.
2. `neutralise` makes every line of user text that *looks* like a trailer inert by
   prefixing it with ``"> "``, which Markdown shows as a quote and which neither git's
   trailer parser (a key is letters, digits and ``-`` only) nor ours accepts. "Looks
   like" is deliberately broad: any key of word characters and dashes, with or without
   leading whitespace, spaces before the colon, any case, Unicode look-alikes
   (full-width letters, other dashes and colons, zero-width characters), and any key that
   spells "on behalf of" once punctuation is dropped. Visible quoting was chosen over
   invisible characters: a reader of the raw text sees exactly what happened.

Bare URL lines (``https://…``) are left alone: git would call them trailers, but they
cannot claim an identity and never reach the final block, and quoting them would mangle
ordinary bodies.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "LOGIN_RE",
    "TRAILER_KEY",
    "compose",
    "defuse_html",
    "looks_like_trailer",
    "neutralise",
    "on_behalf_of",
    "trailer_line",
]

TRAILER_KEY = "On-behalf-of"
LOGIN_RE = re.compile(r"[A-Za-z0-9_.-]+")  # Gitea's login charset
_LOGIN_MAX = 255
_QUOTE = "> "

# Line breaks other than "\n" that some readers honour; folded to "\n" so every reader
# sees the same lines.
_BREAKS_RE = re.compile(r"\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# Control characters we never write (tab and newline are kept), plus bidi overrides
# that could visually reorder "<login>".
_DROP_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
# After NFKC and with format characters removed: "key  :" with a key of word chars/dashes.
_LOOSE_TRAILER_RE = re.compile(r"[\s]*([\w-]+)[ \t]*:(.?.?)", re.UNICODE)
_LOOSE_KEY_RE = re.compile(r"[\s]*([^:\n]{1,80}):", re.UNICODE)
# What actually counts as a trailer when reading (git's rule: ASCII key, optional
# spaces, colon) and the value shape we write.
_TRAILER_RE = re.compile(r"([A-Za-z0-9-]+)[ \t]*:[ \t]*(.*)")
_VALUE_RE = re.compile(r"(.*?)[ \t]*<([A-Za-z0-9_.-]+)>[ \t]*")


def _fold(text: str) -> str:
    """Canonical line breaks, no control characters: the form we store and parse."""
    return _DROP_RE.sub("", _BREAKS_RE.sub("\n", text))


def _skeleton(line: str) -> str:
    """The line as a look-alike-insensitive reader would see it.

    NFKC folds full-width and compatibility forms; format characters (zero-width,
    soft hyphen) are dropped; every dash-like character becomes ``-`` and every
    colon-like character becomes ``:``.
    """
    out = []
    for ch in unicodedata.normalize("NFKC", line):
        cat = unicodedata.category(ch)
        if cat == "Cf":
            continue
        if cat == "Pd" or ch in "\u2212\u2043\ufe63\uff0d":
            ch = "-"
        elif ch in "\u02d0\u02f8\u0589\u05c3\u16ec\u1804\u2236\ua789\ufe13\ufe30\ufe55":
            ch = ":"
        out.append(ch)
    return "".join(out)


# Letters that pass for the ones in "on behalf of" (Cyrillic, Greek, digits, capital I).
_CONFUSABLES = str.maketrans({
    "\u043e": "o", "\u041e": "o", "\u03bf": "o", "\u039f": "o", "0": "o",
    "\u0435": "e", "\u0415": "e", "\u03b5": "e", "\u0395": "e",
    "\u0430": "a", "\u0410": "a", "\u03b1": "a", "\u0391": "a",
    "\u04bb": "h", "\u04ba": "h", "\u0397": "h", "\u041d": "h",
    "\u0406": "l", "\u0456": "l", "\u04cf": "l", "\u04c0": "l", "\u0399": "l",
    "\u03b9": "l", "I": "l", "1": "l", "|": "l",
    "\u042c": "b", "\u0432": "b", "\u0412": "b", "\u0392": "b",
    "\u043f": "n", "\u03b7": "n", "\u039d": "n",
})


def _is_on_behalf_key(key: str) -> bool:
    letters = re.sub(r"[\W_]", "", key.translate(_CONFUSABLES))
    return letters.casefold() == "onbehalfof"


def looks_like_trailer(line: str) -> bool:
    """True when `line` could be read (by git, by us or by a person) as a trailer."""
    sk = _skeleton(line)
    if sk.lstrip().startswith(">"):  # already a quote: inert for git, us and readers
        return False
    m = _LOOSE_TRAILER_RE.match(sk)
    if m and not m.group(2).startswith("//"):
        return True
    k = _LOOSE_KEY_RE.match(sk)
    return bool(k and _is_on_behalf_key(k.group(1)))


def neutralise(text: str) -> str:
    """Make user text unable to carry a trailer (§6.2): quote every trailer-like line.

    Line breaks are normalised to ``\\n`` and control characters dropped first, so a
    ``\\r`` or a Unicode line separator cannot hide a line from one reader and show it to
    another. Idempotent: a quoted line no longer looks like a trailer.
    """
    lines = _fold(text).split("\n")
    return "\n".join(_QUOTE + ln if looks_like_trailer(ln) else ln for ln in lines)


# A ``<`` that would open raw HTML in rendered markdown: a comment (``<!--``), a tag
# (``<details>``, ``</p>``) or a processing instruction — not an autolink (``<https:…>``).
_HTML_OPEN_RE = re.compile(r"<(?=[!?/]|[A-Za-z](?![A-Za-z0-9+.-]*:))")


def defuse_html(text: str) -> str:
    """User text for a markdown page (a PR description, a comment): every ``<`` that
    would open raw HTML becomes ``&lt;``, so an unclosed ``<!--`` or ``<details>`` cannot
    hide the trailer that follows from the person reading the page in Gitea (§6.2).
    Markdown itself (emphasis, links, code, autolinks) is untouched."""
    return _HTML_OPEN_RE.sub("&lt;", text)


def _clean_name(full_name: str) -> str:
    name = "".join(
        " " if unicodedata.category(ch).startswith(("C", "Z")) else ch
        for ch in (full_name or "")
        if ch not in "<>"
    )
    return " ".join(name.split())


def _check_login(login: str) -> str:
    if not isinstance(login, str) or len(login) > _LOGIN_MAX or not LOGIN_RE.fullmatch(login):
        raise ValueError(f"invalid Gitea login {login!r:.60}")
    return login


def trailer_line(full_name: str, login: str) -> str:
    """``On-behalf-of: Ada Lovelace <ada>`` (§6.2); the name falls back to the login.

    The login must be a Gitea login (``[A-Za-z0-9_.-]+``, else ValueError); the name loses
    control characters, line breaks and angle brackets so it cannot end the line or
    fake a second address.
    """
    login = _check_login(login)
    name = _clean_name(full_name) or login
    return f"{TRAILER_KEY}: {name} <{login}>"


def compose(message: str, full_name: str, login: str) -> str:
    """User text, neutralised, then a blank line and our trailer as the final block."""
    line = trailer_line(full_name, login)
    body = neutralise(message).rstrip()
    return f"{body}\n\n{line}" if body else line


def _final_block(text: str) -> list[str] | None:
    """The last paragraph's lines if every one is a trailer (or a continuation), else None."""
    lines = _fold(text).rstrip().split("\n")
    start = len(lines)
    while start > 0 and lines[start - 1].strip():
        start -= 1
    block = lines[start:]
    if not block:
        return None
    for i, ln in enumerate(block):
        if ln[:1] in (" ", "\t") and i > 0:  # git's continuation line
            continue
        if not _TRAILER_RE.fullmatch(ln):
            return None
    return block


def on_behalf_of(text: str | None) -> str | None:
    """The login in the last ``On-behalf-of`` line of the final trailer block (§6.3).

    Lines anywhere else, including trailer-looking lines in earlier paragraphs, are
    never read. A final block whose last ``On-behalf-of`` value is malformed yields None
    rather than an earlier line.
    """
    if not text:
        return None
    block = _final_block(text)
    if block is None:
        return None
    value: str | None = None
    for ln in block:
        m = _TRAILER_RE.fullmatch(ln)
        if m and m.group(1).lower() == TRAILER_KEY.lower():
            value = m.group(2)
    if value is None:
        return None
    v = _VALUE_RE.fullmatch(value)
    return v.group(2) if v else None
