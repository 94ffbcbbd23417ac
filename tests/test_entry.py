"""SPEC §2/§3/§5: slugs, head branches and entry front matter."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfctui.entry import (
    STATE_ALIASES,
    STATES,
    Entry,
    EntryError,
    InvalidSlug,
    dump_entry,
    new_idea,
    parse_entry,
    parse_head_branch,
    validate_slug,
)

PATH = "rfcs/typed-config.md"
SAMPLE = """\
---
slug: typed-config
title: Typed configuration loading
state: idea
id: null            # RFC number, set when the entry graduates
repo: null
proposed_by: ada
proposed_at: 2026-10-02T14:03:00Z
graduated_at: null
graduated_by: null
owners: [ada]
arbiters: [grace]
tags: [config, dx]
---
Why we need typed configuration ...
"""


def fm(**fields: str) -> bytes:
    """A minimal valid entry with some front-matter lines replaced or added."""
    base = {"slug": "typed-config", "title": "T", "state": "idea"}
    base.update(fields)
    lines = [f"{k}: {v}" for k, v in base.items() if v is not None]
    return ("---\n" + "\n".join(lines) + "\n---\nbody\n").encode()


# ---------------------------------------------------------------- slugs


@pytest.mark.parametrize(
    ("slug", "needle"),
    [
        ("../x", "contains './'"),
        ("A B", "uppercase"),
        ("a" * 65, "65 characters"),
        ("-x", "hyphen"),
        ("x-", "hyphen"),
        ("", "empty"),
        ("café", "contains 'é'"),
        ("x\ny", "contains '\\n'"),
        ("x\n", "contains '\\n'"),
        ("rfc\x1b[2J", "contains"),
        ("１２", "contains"),
        ("a_b", "contains '_'"),
    ],
)
def test_invalid_slugs_say_which_rule(slug: str, needle: str) -> None:
    with pytest.raises(InvalidSlug) as info:
        validate_slug(slug)
    msg = str(info.value)
    assert needle in msg
    assert "lowercase letters, digits and inner hyphens, 1–64 characters" in msg
    assert msg.isprintable()  # control characters never reach a terminal
    assert isinstance(info.value, ValueError)


def test_hostile_long_slug_message_is_short() -> None:
    with pytest.raises(InvalidSlug) as info:
        validate_slug("\x1b]52;c;" + "x" * 10_000)
    assert len(str(info.value)) < 250
    assert "\x1b" not in str(info.value)


@pytest.mark.parametrize("slug", ["a", "0", "a" * 64, "typed-config", "rfc-0001", "a-b-c"])
def test_valid_slugs(slug: str) -> None:
    assert validate_slug(slug) == slug


def test_non_string_slug() -> None:
    with pytest.raises(InvalidSlug):
        validate_slug(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- branches


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("propose/typed-config", ("idea", "typed-config")),
        ("edit/typed-config/1", ("meta_body_edit", "typed-config")),
        ("edit/typed-config/12", ("meta_body_edit", "typed-config")),
        ("claim/x", ("meta_claim", "x")),
        ("metadata/x-1", ("meta_metadata", "x-1")),
        ("main", None),
        ("propose/", None),
        ("propose/../x", None),
        ("propose/A", None),
        ("propose/x/y", None),
        ("edit/x", None),
        ("edit/x/0", None),
        ("edit/x/01", None),
        ("edit/x/-1", None),
        ("edit/x/1/2", None),
        ("claim/x/1", None),
        ("feature/x", None),
        ("refs/pull/3/head", None),
        ("Propose/x", None),
        ("propose/x\n", None),
        ("", None),
    ],
)
def test_parse_head_branch(branch: str, expected: tuple[str, str] | None) -> None:
    assert parse_head_branch(branch) == expected


# ---------------------------------------------------------------- parsing


def test_parse_sample() -> None:
    e = parse_entry(PATH, SAMPLE.encode())
    assert e == Entry(
        slug="typed-config",
        title="Typed configuration loading",
        state="idea",
        proposed_by="ada",
        proposed_at=datetime(2026, 10, 2, 14, 3, tzinfo=UTC),
        owners=["ada"],
        arbiters=["grace"],
        tags=["config", "dx"],
        body="Why we need typed configuration ...",
    )
    assert e.extra == {}


def test_missing_fields_are_empty() -> None:
    e = parse_entry(PATH, fm())
    assert (e.owners, e.arbiters, e.tags) == ([], [], [])
    assert e.rfc_id is e.repo is e.proposed_by is e.proposed_at is e.graduated_at is None


def test_alias_and_unknown_states() -> None:
    assert parse_entry(PATH, fm(state="proposed")).state == "idea"
    assert parse_entry(PATH, fm(state="Parked")).state == "parked"
    assert parse_entry(PATH, fm(state="on-ice")).state == "on-ice"  # kept for "Other"
    assert STATES[0] == "idea" and STATES[-1] == "withdrawn"


def test_single_string_is_a_one_item_list() -> None:
    e = parse_entry(PATH, fm(owners="ada", tags="dx"))
    assert e.owners == ["ada"] and e.tags == ["dx"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-02T14:03:00Z", datetime(2026, 10, 2, 14, 3, tzinfo=UTC)),
        ("2026-10-02T16:03:00+02:00", datetime(2026, 10, 2, 14, 3, tzinfo=UTC)),
        ("2026-10-02", datetime(2026, 10, 2, tzinfo=UTC)),
        ("'2026-10-02T14:03:00Z'", datetime(2026, 10, 2, 14, 3, tzinfo=UTC)),
        ("2026-10-02 14:03:00", datetime(2026, 10, 2, 14, 3, tzinfo=UTC)),
    ],
)
def test_dates_become_aware_utc(value: str, expected: datetime) -> None:
    got = parse_entry(PATH, fm(proposed_at=value)).proposed_at
    assert got == expected
    assert got is not None and got.utcoffset() == timedelta(0)


BAD = [
    (b"\xff\xfe---\n", "encoding", "not UTF-8"),
    (b"just a body\n", "front matter", "missing"),
    (b"", "front matter", "missing"),
    (b"---\nslug: typed-config\ntitle: x\n", "front matter", "not closed"),
    (b"---\nslug: [unclosed\n---\nbody\n", "front matter", "invalid YAML at line"),
    (b"---\nslug: a: b: c\n---\n", "front matter", "invalid YAML"),
    (b"---\n- a\n- b\n---\n", "front matter", "mapping"),
    (b"---\njust text\n---\n", "front matter", "mapping"),
    (fm(slug=None), "slug", "missing"),
    (fm(slug="other"), "slug", "does not match the file name"),
    (fm(slug="'../typed-config'"), "slug", "invalid slug"),
    (fm(slug="3"), "slug", "must be text"),
    (fm(title=None), "title", "missing"),
    (fm(title="3"), "title", "must be text"),
    (fm(title="[a, b]"), "title", "must be text"),
    (fm(title="''"), "title", "empty"),
    (fm(title='"a\\nb"'), "title", "single line"),
    (fm(state=None), "state", "missing"),
    (fm(state="[idea]"), "state", "state name"),
    (fm(id="'7'"), "id", "integer"),
    (fm(id="true"), "id", "integer"),
    (fm(id="1.5"), "id", "integer"),
    (fm(id="-1"), "id", "integer"),
    (fm(owners="{a: 1}"), "owners", "list"),
    (fm(owners="[ada, 3]"), "owners", "item 2"),
    (fm(tags="[[x]]"), "tags", "item 1"),
    (fm(arbiters="[null]"), "arbiters", "item 1"),
    (fm(proposed_at="yesterday"), "proposed_at", "RFC 3339"),
    (fm(proposed_at="12345"), "proposed_at", "RFC 3339"),
    (fm(graduated_at="2026-13-01"), "front matter", "invalid date"),
    (fm(repo="[a]"), "repo", "text"),
    (fm(proposed_by="42"), "proposed_by", "text"),
    (b"---\nb: [" + b"[" * 5000 + b"]" * 5000 + b"]\n---\n", "front matter", "invalid YAML"),
    (b"---\na: &a [*a, *a]\n---\n", "front matter", "aliases"),
    (b"---\nslug: typed-config\ntitle: &t T\nstate: idea\nx: *t\n---\n", "front matter",
     "aliases (*name) are not allowed"),
    (b"---\n" + b"".join(b"l%d: &l%d [%s]\n" % (i, i, b",".join([b"*l%d" % (i - 1)] * 9))
                        for i in range(1, 10)).replace(b"[*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0]",
                                                         b"[x]") + b"---\n",
     "front matter", "aliases"),
]


@pytest.mark.parametrize(("data", "field", "needle"), BAD)
def test_bad_input_names_file_and_field(data: bytes, field: str, needle: str) -> None:
    with pytest.raises(EntryError) as info:
        parse_entry(PATH, data)
    err = info.value
    assert err.path == PATH and err.field == field
    assert needle in err.reason
    text = str(err)
    assert text.startswith(f"{PATH}: {field}: ")
    assert "\n" not in text and text.isprintable()
    assert isinstance(err, ValueError)


def test_hostile_values_stay_one_line() -> None:
    data = b'---\nslug: typed-config\ntitle: "\\e[2J\\nforged"\nstate: idea\n---\n'
    with pytest.raises(EntryError) as info:
        parse_entry(PATH, data)
    assert str(info.value).isprintable()


def test_utf8_bom_and_crlf_accepted() -> None:
    data = ("\ufeff" + SAMPLE.replace("\n", "\r\n")).encode()
    e = parse_entry(PATH, data)
    assert e.title == "Typed configuration loading"
    assert e.body == "Why we need typed configuration ..."


def test_large_body() -> None:
    body = ("word " * 20 + "\n") * 50_000  # ~5 MB
    data = b"---\nslug: typed-config\ntitle: Big\nstate: idea\n---\n" + body.encode()
    assert len(data) > 5_000_000
    e = parse_entry(PATH, data)
    assert len(e.body) > 4_900_000
    assert parse_entry(PATH, dump_entry(e).encode()) == e


def test_body_may_contain_separator_lines() -> None:
    data = b"---\nslug: typed-config\ntitle: x\nstate: idea\n---\n\n    code\n---\nmore\n"
    e = parse_entry(PATH, data)
    assert e.body == "    code\n---\nmore"
    assert parse_entry(PATH, dump_entry(e).encode()) == e


# ---------------------------------------------------------------- dumping


def test_unknown_keys_and_order_are_kept() -> None:
    src = (
        "---\n"
        "title: Old first\n"
        "superseded_by: new-thing\n"
        "slug: typed-config\n"
        "state: superseded\n"
        "waiting_on: {who: grace, since: 2026-01-02}\n"
        "owners: [ada]\n"
        "---\n"
        "Body\n"
    )
    e = parse_entry(PATH, src.encode())
    assert e.state == "superseded"
    assert e.extra == {
        "superseded_by": "new-thing",
        "waiting_on": {"who": "grace", "since": date(2026, 1, 2)},
    }
    e.owners.append("grace")
    out = dump_entry(e)
    keys = [ln.split(":")[0] for ln in out.splitlines()[1:] if ln and not ln.startswith(" ")]
    assert keys[:6] == ["title", "superseded_by", "slug", "state", "waiting_on", "owners"]
    assert "repo" not in keys  # absent and still empty: not added
    again = parse_entry(PATH, out.encode())
    assert again == e and again.owners == ["ada", "grace"]


def test_new_entry_writes_every_key_in_spec_order() -> None:
    e = new_idea(
        "typed-config", "Typed configuration loading", "ada",
        datetime(2026, 10, 2, 16, 3, tzinfo=timezone(timedelta(hours=2))),
        body="Why\n", tags=["config", "dx"], arbiters=["grace"],
    )
    out = dump_entry(e)
    assert out == (
        "---\n"
        "slug: typed-config\n"
        "title: Typed configuration loading\n"
        "state: idea\n"
        "id: null\n"
        "repo: null\n"
        "proposed_by: ada\n"
        "proposed_at: 2026-10-02T14:03:00Z\n"
        "graduated_at: null\n"
        "graduated_by: null\n"
        "owners: []\n"
        "arbiters: [grace]\n"
        "tags: [config, dx]\n"
        "---\n"
        "Why\n"
    )
    assert parse_entry(PATH, out.encode()) == e


def test_new_idea_validates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidSlug):
        new_idea("../x", "t", "ada", now)
    with pytest.raises(EntryError):
        new_idea("x", "", "ada", now)
    with pytest.raises(EntryError):
        new_idea("x", "two\nlines", "ada", now)


def test_shared_values_are_written_without_aliases() -> None:
    e = parse_entry(PATH, fm())
    e.arbiters = e.owners = ["ada"]
    e.extra["x"] = e.extra["y"] = {"k": [1]}
    out = dump_entry(e)
    assert "&" not in out and "*" not in out
    assert parse_entry(PATH, out.encode()) == e


def test_multiline_extra_cannot_end_front_matter() -> None:
    e = parse_entry(PATH, fm())
    e.extra["note"] = "a\n---\nslug: evil\n---"
    e.title = "Title: with --- and # and 'quotes'"
    assert parse_entry(PATH, dump_entry(e).encode()) == e


# ---------------------------------------------------------------- round trip

_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
_word = st.text(string.ascii_lowercase + string.digits + "-_.", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s
)
_slug = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_dt = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), _text,
    st.floats(allow_nan=False, allow_infinity=False), st.dates(),
)
_extra_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_word, inner, max_size=3),
    max_leaves=6,
)
_single_line = _text.map(lambda s: " ".join(s.split())).filter(bool)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    known = {"slug", "title", "state", "id", "repo", "proposed_by", "proposed_at",
             "graduated_at", "graduated_by", "owners", "arbiters", "tags"}
    extra = draw(st.dictionaries(_word.filter(lambda k: k not in known), _extra_value,
                                 max_size=4))
    return Entry(
        slug=draw(_slug),
        title=draw(_single_line),
        state=draw(st.sampled_from(STATES) | _word.filter(lambda w: w not in STATE_ALIASES)),
        rfc_id=draw(st.none() | st.integers(0, 10**9)),
        repo=draw(st.none() | _word),
        proposed_by=draw(st.none() | _word),
        proposed_at=draw(st.none() | _dt),
        graduated_at=draw(st.none() | _dt),
        graduated_by=draw(st.none() | _word),
        owners=draw(st.lists(_word, max_size=3)),
        arbiters=draw(st.lists(_word, max_size=3)),
        tags=draw(st.lists(_word, max_size=3)),
        body=draw(st.text(max_size=200).map(lambda s: s.replace("\x00", ""))),
        extra=extra,
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entries())
def test_round_trip(e: Entry) -> None:
    out = dump_entry(e)
    again = parse_entry(f"rfcs/{e.slug}.md", out.encode())
    assert again == e
    # and a second round is byte-identical (stable layout)
    assert dump_entry(again) == out
