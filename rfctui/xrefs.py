"""Cross-references between entries (issue 12 §5): what an entry points at, so ``L``
can jump to it inside rfctui. Pure and Textual-free; the UI hands it plain data.

Where a reference comes from, in this order (deduplicated by target, first one wins,
never the entry itself):

1. front matter: ``superseded_by``, ``supersedes``, ``replaces`` (unknown keys to
   `rfctui.entry`, kept in ``extra``; a string or a list of strings, each a known slug);
2. the body, in body order:
   - ``RFC-12``, ``RFC 12``, ``RFC-0042``, ``rfc12`` (any case) → the entry whose
     ``id`` is that number (an IETF "RFC 2119" matches nothing unless an entry has it);
   - ``#7`` → the pull request 7 when the caller knows it (a pending idea, or the entry
     a PR belongs to); an unknown number is no reference;
   - the slug of another known entry as a whole word, lower case as slugs are. To keep
     ordinary words out ("config", "logging"), a slug counts only if it has a hyphen or
     is at least 6 characters long.

What is never scanned (decisions): fenced code blocks (````` ``` ````` / ``~~~``), inline
code spans, URLs (``scheme://…``, ``<…>`` autolinks and ``](target)`` link targets) and
``&#123;`` character references. Indented code blocks are scanned (telling them from a
wrapped list item needs a markdown parser; a slug there is still a fair reference).
Only the first `MAX_SCAN` characters are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rfctui.entry import is_slug

__all__ = ["FIELD_KEYS", "MAX_SCAN", "Ref", "Target", "find_refs", "mentioned_prs",
           "scannable"]

FIELD_KEYS = ("superseded_by", "supersedes", "replaces")
MAX_SCAN = 200_000
MIN_BARE_SLUG = 6  # a hyphen-less slug shorter than this is too likely an ordinary word

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_HIDDEN = re.compile(
    r"`+[^`\n]*`+"                      # inline code (one line)
    r"|\]\([^)\n]*\)"                   # a markdown link's target
    r"|<[a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*>"  # an autolink
    r"|\b[a-zA-Z][a-zA-Z0-9+.-]*://\S*"  # a bare URL
    r"|&#x?[0-9a-fA-F]+;"               # a character reference
)
_REF = re.compile(
    r"(?P<rfc>(?<![\w-])rfc[- ]?(?P<rfc_n>\d{1,7})(?![\w-]))"
    r"|(?P<pr>(?<![\w&#/])#(?P<pr_n>\d{1,9})(?!\w))"
    r"|(?P<slug>(?<![\w./-])[a-z0-9][a-z0-9-]{0,62}[a-z0-9](?![\w/-]))",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Target:
    """Something inside rfctui a reference can jump to: an entry (``kind`` "rfc") or a
    pending idea ("pending"). Text is raw (the caller cleans it for the screen)."""

    kind: str
    slug: str
    title: str = ""
    rfc_id: int | None = None


@dataclass(frozen=True, slots=True)
class Ref:
    """One reference: where it points and how the entry said it (``via``: a field name,
    ``RFC-12``, ``#7`` or the slug)."""

    target: Target
    via: str


def scannable(body: str) -> str:
    """`body` (capped) with code and URLs blanked out, positions kept (module doc)."""
    lines = body[:MAX_SCAN].split("\n")
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            lines[i] = " " * len(line)
        elif fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            lines[i] = " " * len(line)
    return _HIDDEN.sub(lambda m: " " * len(m.group(0)), "\n".join(lines))


def mentioned_prs(body: str) -> list[int]:
    """The ``#N`` numbers a body mentions (outside code and URLs), in order, once each:
    the caller looks only these up."""
    out: list[int] = []
    for m in _REF.finditer(scannable(body)):
        if m.group("pr_n"):
            n = int(m.group("pr_n"))
            if n not in out:
                out.append(n)
    return out


def _field_slugs(value: object) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return [s.strip() for s in items if isinstance(s, str) and is_slug(s.strip())]


def find_refs(
    slug: str,
    body: str,
    fields: Mapping[str, object],
    known: Iterable[Target],
    prs: Mapping[int, Target] | None = None,
) -> list[Ref]:
    """The references of entry `slug` (module doc): `fields` its front matter (only
    `FIELD_KEYS` are read), `known` the entries (kind "rfc"), `prs` PR number → where it
    leads. In order: fields first, then the body's."""
    by_slug: dict[str, Target] = {}
    by_id: dict[int, Target] = {}
    for t in known:
        if t.kind != "rfc":
            continue
        by_slug.setdefault(t.slug, t)
        if t.rfc_id is not None:
            by_id.setdefault(t.rfc_id, t)
    prs = prs or {}
    out: list[Ref] = []
    seen: set[tuple[str, str]] = {("rfc", slug)}

    def add(target: Target | None, via: str) -> None:
        if target is None or (target.kind, target.slug) in seen:
            return
        seen.add((target.kind, target.slug))
        out.append(Ref(target, via))

    for key in FIELD_KEYS:
        for s in _field_slugs(fields.get(key)):
            add(by_slug.get(s), key)
    for m in _REF.finditer(scannable(body)):
        if m.group("rfc_n"):
            n = int(m.group("rfc_n"))
            add(by_id.get(n), f"RFC-{n}")
        elif m.group("pr_n"):
            n = int(m.group("pr_n"))
            add(prs.get(n), f"#{n}")
        else:
            word = m.group("slug")
            if word == word.lower() and ("-" in word or len(word) >= MIN_BARE_SLUG):
                add(by_slug.get(word), word)
    return out
