"""The filter language (SPEC §7.2)."""

from __future__ import annotations

from rfctui.db import ListItem
from rfctui.filtering import filter_items, index_texts, parse_query


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
