"""The left pane's filter language (SPEC §7.2), Textual-free.

A query is whitespace-separated terms, all of which must match:

- ``word`` or ``"two words"`` — a substring of the slug, title or body, or of a
  login or tag (case-insensitive);
- ``state:graduated`` (also ``state:pending`` and unknown states), ``tag:x``,
  ``owner:x``, ``arbiter:x`` — exact, case-insensitive; a trailing ``*`` matches a prefix;
- ``mine`` — you own it, arbitrate it, or proposed it (needs your verified login);
- a leading ``-`` negates any term (``-state:withdrawn``).

Filtering 10,000 items is a Python loop over precomputed lower-case text, so a keystroke
costs a few milliseconds (bench/startup.py measures it).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rfctui.logins import login_key
from rfctui.rows import ListItem

__all__ = [
    "FIELDS",
    "Query",
    "filter_items",
    "filter_with_texts",
    "index_from",
    "index_texts",
    "narrows",
    "parse_query",
    "search_text",
]

FIELDS = ("state", "tag", "owner", "arbiter")

Predicate = Callable[[ListItem, str], bool]


def search_text(item: ListItem) -> str:
    """The lower-case text free words are matched against (the cache precomputes it)."""
    return item.search_text or f"{item.slug}\n{item.title}".lower()


def _value_matcher(value: str) -> Callable[[str], bool]:
    # `value` is already lower-cased; logins compare as Gitea's do (rfctui.logins, §9).
    if value.endswith("*"):
        prefix = value[:-1]
        return lambda v: login_key(v).startswith(prefix)
    return lambda v: login_key(v) == value


def _field_predicate(name: str, value: str) -> Predicate:
    match = _value_matcher(value)
    if name == "state":
        return lambda item, _t: match(item.state)
    if name == "tag":
        return lambda item, _t: any(match(t) for t in item.tags)
    if name == "owner":
        return lambda item, _t: any(match(o) for o in item.owners)
    return lambda item, _t: any(match(a) for a in item.arbiters)


def _mine_predicate(login: str | None) -> Predicate:
    if not login:
        return lambda item, _t: False
    me = login_key(login)  # logins ignore case, as Gitea's do (§9)
    return lambda item, _t: (
        any(login_key(o) == me for o in item.owners)
        or any(login_key(a) == me for a in item.arbiters)
        or login_key(item.proposed_by) == me
    )


@dataclass
class Query:
    """A parsed filter: predicates over (item, search_text); empty means "everything"."""

    text: str = ""
    predicates: list[tuple[bool, Predicate]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # shown in the status line
    # What each predicate tests, comparably: (negated, "word" | "mine" | field, value).
    terms: list[tuple[bool, str, str]] = field(default_factory=list)
    login: str | None = None

    @property
    def empty(self) -> bool:
        return not self.predicates

    def matches(self, item: ListItem, text: str | None = None) -> bool:
        t = search_text(item) if text is None else text
        for negate, pred in self.predicates:
            if pred(item, t) == negate:
                return False
        return True


def _split(query: str) -> list[str]:
    try:
        return shlex.split(query)
    except ValueError:  # an unclosed quote while typing: fall back to plain words
        return query.replace('"', " ").replace("'", " ").split()


_KEY_RE = re.compile(r"[a-z][a-z_-]*")


def parse_query(query: str, *, login: str | None = None) -> Query:
    """Parse ``query``; an unknown ``key:`` is matched as free text and reported
    (``Query.problems``) so a typo like ``tags:api`` does not just find nothing."""
    q = Query(text=query, login=login)
    for raw in _split(query):
        negate = raw.startswith("-") and len(raw) > 1
        term = raw[1:] if negate else raw
        low = term.lower()
        name, sep, value = low.partition(":")
        if sep and name in FIELDS:
            if not value:
                continue  # "state:" while typing: no constraint yet
            q.predicates.append((negate, _field_predicate(name, value)))
            q.terms.append((negate, name, value))
        elif low == "mine":
            if not login:
                q.problems.append("mine: your login is not known yet (needs a user token)")
            q.predicates.append((negate, _mine_predicate(login)))
            q.terms.append((negate, "mine", ""))
        elif low:
            if sep and _KEY_RE.fullmatch(name) and not value.startswith("//"):
                problem = f"unknown filter key '{name}:' ({', '.join(FIELDS)}, mine)"
                if problem not in q.problems:
                    q.problems.append(problem)
            q.predicates.append((negate, _word_predicate(low)))
            q.terms.append((negate, "word", low))
    return q


def narrows(new: Query, old: Query) -> bool:
    """True if every item ``new`` matches also matches ``old``, so ``new`` need only
    look at ``old``'s matches: what typing on in the filter box mostly does.

    Terms are ANDed, so adding terms narrows; so does lengthening the last word (a text
    that contains "owner" contains "own"). Anything else (a field's value edited, a
    term removed, a negated word lengthened) may widen, and is filtered afresh.
    """
    if new.login != old.login:
        return False
    a, b = old.terms, new.terms
    if len(b) >= len(a) and b[: len(a)] == a:
        return True  # the same terms, and maybe more
    if not a or len(b) != len(a) or b[:-1] != a[:-1]:
        return False
    (neg_a, kind_a, word_a), (neg_b, kind_b, word_b) = a[-1], b[-1]
    return kind_a == kind_b == "word" and not neg_a and not neg_b and word_a in word_b


def filter_items(
    items: Sequence[ListItem],
    query: Query,
    texts: Sequence[str] | None = None,
) -> list[ListItem]:
    """The items matching ``query``, in their original order.

    ``texts`` is the precomputed ``search_text`` per item (same order), so the hot loop
    does no string building.
    """
    return filter_with_texts(items, query, texts)[0]


def filter_with_texts(
    items: Sequence[ListItem],
    query: Query,
    texts: Sequence[str] | None = None,
) -> tuple[list[ListItem], list[str] | None]:
    """`filter_items`, with the matches' texts: what a narrower query filters next
    (None for an empty query given no texts: nothing was searched)."""
    if query.empty:
        return list(items), (list(texts) if texts is not None else None)
    if texts is None:
        texts = [search_text(i) for i in items]
    if len(texts) != len(items):
        raise ValueError("one text per item")
    # The hot loop of a keystroke at 10,000 items: one tight pass per word (a C-level
    # substring test per item, no call per item), then the other predicates on what is
    # left. predicates[i] and terms[i] describe the same term (parse_query).
    idx: list[int] = list(range(len(items)))
    rest: list[tuple[bool, Predicate]] = []
    for (negate, pred), (_n, kind, value) in zip(query.predicates, query.terms, strict=True):
        if kind != "word":
            rest.append((negate, pred))
        elif negate:
            idx = [i for i in idx if value not in texts[i]]
        else:
            idx = [i for i in idx if value in texts[i]]
    if rest:
        idx = [i for i in idx if all(pred(items[i], texts[i]) != neg for neg, pred in rest)]
    return [items[i] for i in idx], [texts[i] for i in idx]


def index_texts(items: Iterable[ListItem]) -> list[str]:
    """Precompute the search text of every item once, when the list is loaded.

    Beyond slug, title and body (the cache's ``search_text``), free words also find
    people and tags: someone typing ``ada`` expects Ada's entries.
    """
    return [f"{search_text(i)}\n{_people(i)}" for i in items]


def _people(item: ListItem) -> str:
    return " ".join((*item.owners, *item.arbiters, *item.tags, item.proposed_by or "")).lower()


def index_from(
    items: Sequence[ListItem], rows: Iterable[tuple[str, str, str]]
) -> list[str]:
    """The filter index of ``items`` from ``rows``, `Reader.filter_texts`'s
    ``(kind, slug, text)`` in the same order, as `index_texts` would build it.

    Issue 13: the list's items carry no text; this is the one copy of it in the UI, built
    a row at a time (each text read is joined with its people and dropped). If the cache
    changed between the two reads (rows out of step), the rest are matched by key; an item
    with no row is searched by slug and title.
    """
    out: list[str] = []
    append = out.append
    rest: dict[tuple[str, str], str] | None = None
    it = iter(rows)
    for item in items:
        text: str | None = None
        if rest is None:
            row = next(it, None)
            if row is not None and row[0] == item.kind and row[1] == item.slug:
                text = row[2]
            else:  # out of step: the rest by key (a pending slug's first PR wins)
                rest = {}
                for kind, slug, t in ([row] if row is not None else []):
                    rest[kind, slug] = t
                for kind, slug, t in it:
                    rest.setdefault((kind, slug), t)
        if rest is not None:
            text = rest.get((item.kind, item.slug))
        if text is None:
            text = f"{item.slug}\n{item.title}".lower()
        append(f"{text}\n{_people(item)}")
    return out


def _word_predicate(word: str) -> Predicate:
    """A plain word matches anywhere in the item's search text."""

    def match(_item: ListItem, text: str) -> bool:
        return word in text

    return match
