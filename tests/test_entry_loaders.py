"""Issue 13: front matter through libyaml gives exactly what the pure-Python loader gives.

`rfctui.entry.parse_entry` loads YAML with a ``CSafeLoader`` subclass when libyaml is
there and the text is provably safe for it, and with the pure-Python `_Loader` otherwise
(and after any libyaml error, so messages never depend on libyaml). Every malformed case
of the suite and random front-matter-ish text go through both paths here and must give
the same `Entry` (compared by repr, so ``1`` and ``True`` differ) or the same `EntryError`.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_entry import BAD, PATH, SAMPLE, entries, fm
from test_reconciler_stateful import MALFORMED

import rfctui.entry as entry_mod
from rfctui.entry import EntryError, dump_entry, parse_entry

needs_libyaml = pytest.mark.skipif(entry_mod._CLoader is None, reason="libyaml not installed")


@contextmanager
def pure_python() -> Iterator[None]:
    """Force the pure-Python loader, as on a machine without libyaml."""
    old = entry_mod.USE_LIBYAML
    entry_mod.USE_LIBYAML = False
    try:
        yield
    finally:
        entry_mod.USE_LIBYAML = old


def outcome(path: str, data: bytes) -> tuple[str, ...]:
    """What parse_entry does with `data`, in a form where equal means identical."""
    try:
        e = parse_entry(path, data)
    except EntryError as exc:
        return ("error", exc.field, str(exc))
    return ("entry", repr(e), repr(e.key_order))


def both(path: str, data: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    fast = outcome(path, data)
    with pure_python():
        slow = outcome(path, data)
    return fast, slow


def front(data: bytes) -> str:
    """The front matter text as parse_entry hands it to YAML (a well-formed file)."""
    text = data.decode().removeprefix("\ufeff").strip()
    return entry_mod._HANDLER.split(text)[0]


# Malformed files written inline elsewhere in the suite (test_reconcile.py's odd files,
# test_changes.py's broken head, test_ui_pilot.py's broken entry).
ELSEWHERE = [
    ("rfcs/bad-yaml.md", b"---\ntitle: [unclosed\n---\nbody\n"),
    ("rfcs/no-slug.md", b"---\ntitle: No slug\nstate: idea\n---\nbody\n"),
    ("rfcs/latin1.md", b"---\nslug: latin1\ntitle: caf\xe9\nstate: idea\n---\n"),
    ("rfcs/e0004.md", b"---\nslug: e0004\ntitle: [x\n---\n"),
    ("rfcs/alpha.md", b"---\nslug: alpha\ntitle: [unclosed\n---\nbody\n"),
    ("rfcs/alpha.md", b"not front matter at all"),
    ("rfcs/broken-one.md", b"---\nslug: broken-one\ntitle: [unclosed\n---\n"),
]

# Cases aimed at the seams between the two loaders: what libyaml accepts and PyYAML
# refuses (tabs, ``|#``, ``?`` in flow), tags, BOMs, aliases, depth, bad dates.
SEAMS = [
    fm(title="'a'\t"),
    fm(title="a\tb"),
    fm(extra="|#"),
    fm(extra="{a?}"),
    fm(tags="[a?, b]"),
    fm(extra="!"),
    fm(title="!!str 3"),
    fm(id="!!int '7'"),
    fm(extra="!!python/object:os.system x"),
    fm(extra="!!binary aGk="),
    fm(extra="!!set {a, b}"),
    fm(title="Should we? Yes > no | maybe"),
    "---\nslug: typed-config\ntitle: T\nstate: idea\n\ufeffextra: 1\n---\n".encode(),
    b"---\nslug: typed-config\ntitle: &t T\nstate: idea\n---\n",  # anchor, no alias: fine
    b"---\nslug: typed-config\ntitle: T\nstate: idea\nx: &a [1]\ny: *a\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\n<<: *a\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\nb: " + b"[" * 80 + b"]" * 80 + b"\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\nb: " + b"[" * 300 + b"]" * 300 + b"\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\nb: " + b"- " * 300 + b"x\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\nb: " + b"[" * 2000 + b"\n---\n",
    fm(proposed_at="2026-02-30"),
    fm(proposed_at="2026-10-02T25:00:00Z"),
    fm(proposed_at="9999-12-31T23:59:59-23:59"),
    fm(extra="\x85"),
    fm(title='"\\x1b[2J"'),
    fm(title="a\u2028b"),
    fm(title="caf\u00e9 \U0001f600"),
    fm(title="'unclosed"),
    fm(title='"bad \\q escape"'),
    b"---\nslug: typed-config\ntitle: T\nstate: idea\n...\nmore: 1\n---\n",
    b"---\n%YAML 1.1\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\nslug: typed-config\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\n[a]: 1\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\n{a: 1}: 1\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\nx\x00: 1\n---\n",
    b"---\nslug: typed-config\ntitle: T\nstate: idea\nx\x7f: 1\n---\n",
]


def _cases() -> list[tuple[str, bytes]]:
    cases = [(PATH, data) for data, _field, _needle in BAD]
    cases += [("rfcs/x1.md", data) for data in MALFORMED]
    cases += ELSEWHERE
    cases += [(PATH, data) for data in SEAMS]
    return cases


@needs_libyaml
@pytest.mark.parametrize(("path", "data"), _cases())
def test_every_malformed_case_is_identical_on_both_paths(path: str, data: bytes) -> None:
    fast, slow = both(path, data)
    assert fast == slow


@needs_libyaml
def test_the_suite_s_malformed_cases_are_errors_on_the_fast_path() -> None:
    """The comparison above is not vacuous: BAD's cases fail with their own messages."""
    for data, field, needle in BAD:
        fast = outcome(PATH, data)
        assert fast[0] == "error" and fast[1] == field and needle in fast[2]


VALID = [
    SAMPLE.encode(),
    SAMPLE.replace("\n", "\r\n").encode(),
    fm(),
    fm(state="proposed"),
    fm(owners="ada", tags="dx"),
    fm(proposed_at="2026-10-02T16:03:00+02:00"),
    fm(proposed_at="2026-10-02"),
    fm(proposed_at="'2026-10-02T14:03:00Z'"),
    fm(proposed_at="2026-10-02 14:03:00"),
    fm(extra="{who: grace, since: 2026-01-02}", more="[1, 2.5, true, null, ~, 0x1f, 1e3]"),
    fm(title='"a \\"quoted\\" #title: with --- in it"', note="'single ''quoted'''"),
]


@needs_libyaml
@pytest.mark.parametrize("data", VALID)
def test_valid_entries_are_identical_and_take_the_fast_path(data: bytes) -> None:
    fast, slow = both(PATH, data)
    assert fast == slow and fast[0] == "entry"
    assert entry_mod._load_c(front(data)) is not entry_mod._MISS  # libyaml did the work


@needs_libyaml
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entries())
def test_written_entries_read_back_the_same_on_both_paths(e: entry_mod.Entry) -> None:
    data = dump_entry(e).encode()
    fast, slow = both(f"rfcs/{e.slug}.md", data)
    assert fast == slow and fast[0] == "entry"
    assert parse_entry(f"rfcs/{e.slug}.md", data) == e


# Pieces of YAML that matter to a scanner: indicators, quotes, escapes, line breaks of
# every kind, tabs, BOMs, control characters, tags, anchors, aliases, directives, dates.
_PIECES = [*"ab1 :-[]{},#&!|>'\"%@`?\\\t\r\n.*()$^=+;/_~",
           "\x85", "\u2028", "\u2029", "\ufeff", "é", "\x7f", "\x00", "\x0b", "\x1b", "\x9f",
           "\xa0", "\ufffe", "😀", "2026-10-02", "T14:03:00Z", " 14:03:00", "+02:00",
           "2026-13-01", "slug", "title", "state", "idea", "typed-config", "~", "null",
           "true", "yes", "<<", "=", "0x1", "0o7", "1e3", "1_000", ".inf", ".nan", "...",
           "---", "- ", "? ", ": ", "\n  ", "\n    ", '"\\x41"', '"\\u263a"', '"\\N"',
           '"\\', "%YAML 1.1\n", "!!str ", "&a ", "*a", "190:20:30", "-.5", "0b101"]
_HEAD = "slug: typed-config\ntitle: T\nstate: idea\n"
_yamlish = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@needs_libyaml
@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_yamlish, st.booleans())
def test_random_front_matter_is_identical_on_both_paths(text: str, with_head: bool) -> None:
    fm_text = (_HEAD + text) if with_head else text
    data = f"---\n{fm_text}\n---\nbody\n".encode()
    fast, slow = both(PATH, data)
    assert fast == slow


_TEMPLATE = (
    "slug: typed-config\ntitle: Typed configuration loading\nstate: idea\n"
    "id: null            # RFC number\nrepo: null\nproposed_by: ada\n"
    "proposed_at: 2026-10-02T14:03:00Z\ngraduated_at: 2026-10-02 14:03:00\n"
    "owners: [ada]\narbiters:\n  - grace\n  - 'linus'\ntags: [config, \"dx\"]\n"
    "waiting_on: {who: grace, since: 2026-01-02}\nnote: \"multi\n  line\"\n"
)


@needs_libyaml
@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_TEMPLATE)), st.integers(0, 3),
                          st.sampled_from(_PIECES)), max_size=4))
def test_mutated_real_front_matter_is_identical_on_both_paths(
    edits: list[tuple[int, int, str]],
) -> None:
    text = _TEMPLATE
    for at, drop, insert in edits:
        at = min(at, len(text))
        text = text[:at] + insert + text[at + drop:]
    fast, slow = both(PATH, f"---\n{text}---\nbody\n".encode())
    assert fast == slow


# ---------------------------------------------------------------- without libyaml


def test_without_libyaml_the_pure_path_parses_and_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(entry_mod, "_CLoader", None)
    monkeypatch.setattr(entry_mod, "USE_LIBYAML", False)
    assert entry_mod._load_c(front(SAMPLE.encode())) is entry_mod._MISS
    e = parse_entry(PATH, SAMPLE.encode())
    assert e.title == "Typed configuration loading" and e.tags == ["config", "dx"]
    for data, field, needle in BAD:
        with pytest.raises(EntryError) as info:
            parse_entry(PATH, data)
        assert info.value.field == field and needle in info.value.reason


def test_text_libyaml_cannot_be_trusted_with_goes_to_the_pure_path() -> None:
    """Text the fast path will not take goes to the pure path (the one that refuses)."""
    for text in ("a: *x", "a: !!str x", "a: |\n  x", "a: >\n  x", "a: b?", "a:\tb",
                 "\ufeffa: 1", "a: " + "[" * 120 + "]" * 120):
        assert entry_mod._load_c(text) is entry_mod._MISS
    if entry_mod._CLoader is not None:
        assert entry_mod._load_c("a: [1, 2]\nb: 2026-10-02") == {
            "a": [1, 2], "b": yaml.safe_load("2026-10-02")}


@pytest.mark.parametrize("text", [string.ascii_letters, "title: " + "x" * 10_000])
def test_non_mapping_front_matter_is_identical(text: str) -> None:
    data = f"---\n{text}\n---\n".encode()
    fast, slow = both(PATH, data)
    assert fast == slow and fast[0] == "error"


def test_a_date_past_year_9999_in_utc_is_an_entry_error() -> None:
    """Found by the seam cases: astimezone overflowed (a crash, not an EntryError)."""
    with pytest.raises(EntryError) as info:
        parse_entry(PATH, fm(proposed_at="9999-12-31T23:59:59-23:59"))
    assert info.value.field == "proposed_at" and "out of range" in info.value.reason
