"""The filter language (SPEC §7.2)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rfctui.db import ListItem
from rfctui.filtering import filter_items, filter_with_texts, index_texts, narrows, parse_query


def item(slug: str, state: str = "idea", **kw: object) -> ListItem:
    kw.setdefault("title", slug.replace("-", " ").title())
    return ListItem(kind=kw.pop("kind", "rfc"), slug=slug, state=state, **kw)  # type: ignore[arg-type]


ITEMS = [
    item(
        "typed-config",
        owners=("ada",),
        arbiters=("grace",),
        tags=("config", "dx"),
        search_text="typed-config\ntyped configuration loading\nwhy we need schemas",
    ),
    item("json-logging", "graduated", rfc_id=3, owners=("ken",), tags=("logging",)),
    item("weekly-train", "withdrawn", owners=(), arbiters=("ada",)),
    item("new-thing", "pending", kind="pending", proposed_by="Grace", tags=("dx",)),
    item("odd-one", "draft", owners=("Linus",)),
]
TEXTS = index_texts(ITEMS)


def slugs(query: str, login: str | None = None) -> list[str]:
    return [i.slug for i in filter_items(ITEMS, parse_query(query, login=login), TEXTS)]


def test_empty_query_keeps_everything_in_order() -> None:
    assert slugs("") == [i.slug for i in ITEMS]
    assert slugs("   ") == [i.slug for i in ITEMS]


def test_free_text_matches_slug_title_body_case_insensitively() -> None:
    assert slugs("SCHEMAS") == ["typed-config"]
    assert slugs("logging") == ["json-logging"]
    assert slugs('"configuration loading"') == ["typed-config"]
    assert slugs("typed zzz") == []  # all words must match


def test_free_text_also_finds_people_and_tags() -> None:
    assert slugs("linus") == ["odd-one"]


def test_field_terms() -> None:
    assert slugs("state:graduated") == ["json-logging"]
    assert slugs("state:pending") == ["new-thing"]
    assert slugs("state:draft") == ["odd-one"]
    assert slugs("tag:dx") == ["typed-config", "new-thing"]
    assert slugs("owner:ADA") == ["typed-config"]
    assert slugs("arbiter:ada") == ["weekly-train"]
    assert slugs("owner:lin*") == ["odd-one"]
    assert slugs("state:") == [i.slug for i in ITEMS]  # half-typed: no constraint yet


def test_negation() -> None:
    assert slugs("-state:withdrawn -state:draft") == ["typed-config", "json-logging", "new-thing"]
    assert slugs("-tag:dx state:idea") == []


def test_mine_needs_a_login() -> None:
    q = parse_query("mine")
    assert q.problems and filter_items(ITEMS, q, TEXTS) == []
    assert slugs("mine", login="ada") == ["typed-config", "weekly-train"]
    assert slugs("mine", login="grace") == ["typed-config", "new-thing"]


def test_unclosed_quote_while_typing_does_not_crash() -> None:
    assert slugs('"typed conf') == ["typed-config"]


def test_unknown_prefix_is_free_text() -> None:
    assert slugs("foo:bar") == []


def test_unknown_key_is_reported() -> None:
    q = parse_query("foo:bar tag:api")
    assert q.problems == ["unknown filter key 'foo:' (state, tag, owner, arbiter, mine)"]
    assert parse_query("state:idea owner:ada").problems == []
    assert parse_query("https://example.org/x").problems == []  # a pasted link is text


def test_narrows_when_typing_on() -> None:
    def n(new: str, old: str, login: str | None = None) -> bool:
        return narrows(parse_query(new, login=login), parse_query(old, login=login))

    assert n("ow", "o") and n("owner", "own") and n("state:idea o", "state:idea")
    assert n("a b", "a") and n("tag:dx a", "tag:dx") and n("state:idea", "")
    assert n("state:idea ", "state:idea")  # the same terms
    assert n("xown", "own")  # a longer word containing the old one narrows too
    assert not n("o", "ow")  # shorter: widens
    assert not n("state:idea", "state:ide")  # a field's value is exact, not a prefix
    assert not n("-abc", "-ab")  # a longer negated word excludes less
    assert not n("a", "a b") and not n("b a", "a")  # a term gone, or the order changed
    assert not narrows(parse_query("mine", login="ada"), parse_query("mine"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="adgiostx:-\" ", max_size=24))
def test_filtering_what_the_last_query_matched_equals_filtering_everything(
    typed: str,
) -> None:
    """Typed one key at a time, as the screen filters (the last matches whenever the
    query narrows them): every step shows exactly what a fresh filter shows."""
    items = [*ITEMS, item("ads-dog", tags=("go",)), item("toast", "idea", owners=("ada",))]
    texts = index_texts(items)
    last: tuple[object, list[ListItem], list[str] | None] | None = None
    for end in range(len(typed) + 1):
        query = parse_query(typed[:end], login="ada")
        if last is not None and last[2] is not None and narrows(query, last[0]):  # type: ignore[arg-type]
            shown, shown_texts = filter_with_texts(last[1], query, last[2])
        else:
            shown, shown_texts = filter_with_texts(items, query, texts)
        assert shown == filter_items(items, query, texts), typed[:end]
        last = (query, shown, shown_texts)


def test_rows_built_with_a_cache_are_the_same_rows_reused() -> None:
    """The list rebuilds its rows on every keystroke; with its cache the item rows are
    reused (no 10,000 new objects per key) and the result is exactly the same."""
    from rfctui.widgets.rfc_list import build_rows

    cache: dict[int, object] = {}
    fresh = build_rows(ITEMS, set())
    first = build_rows(ITEMS, set(), None, cache)  # type: ignore[arg-type]
    narrower = build_rows(ITEMS[:2], set(), None, cache)  # type: ignore[arg-type]
    assert first == fresh
    assert narrower == build_rows(ITEMS[:2], set())
    reused = {id(r) for r in first if not r.is_header}
    assert {id(r) for r in narrower if not r.is_header} <= reused
    widths = {"idea": 30}  # another ident width: a new row, never a stale one
    wide = build_rows(ITEMS, set(), widths, cache)  # type: ignore[arg-type]
    assert wide == build_rows(ITEMS, set(), widths)


_POOL = [
    item("typed-config", tags=("config", "dx"), owners=("ada",), title="Typed configuration"),
    item("json-logging", "parked", tags=("logging",), arbiters=("grace",), title="JSON logs"),
    item("grpc-everywhere", "declined", owners=("grace", "ada"), title="gRPC everywhere"),
    item("new-idea", "pending", kind="pending", proposed_by="ada", title="A new idea"),
    item("docs", "graduated", tags=("docs",), title="Docs as code"),
]
_WORDS = ["config", "-config", "ada", "-ada", "state:idea", "-state:parked", "tag:dx",
          "owner:grace", "mine", "-mine", "o", "g", "e", "zzz", "arbiter:grace", "log"]


@given(st.lists(st.sampled_from(_WORDS), max_size=4), st.sampled_from([None, "ada"]))
@settings(max_examples=200, deadline=None)
def test_the_fast_filter_is_query_matches(words: list[str], login: str | None) -> None:
    """filter_with_texts' word passes (issue 13) keep exactly what Query.matches keeps."""
    query = parse_query(" ".join(words), login=login)
    texts = index_texts(_POOL)
    shown, shown_texts = filter_with_texts(_POOL, query, texts)
    expected = [i for i, t in zip(_POOL, texts, strict=True) if query.matches(i, t)]
    assert shown == expected
    assert shown_texts == [texts[_POOL.index(i)] for i in expected] or query.empty
