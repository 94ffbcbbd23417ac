"""RFC entries in the meta repository: slugs, head branches, front matter (SPEC §2, §3, §5).

Everything that arrives from outside (a file in the repo, a branch name, a form) passes
through here before it touches a path, a branch name or SQL, so the rules live in one
place. Parsing is strict about types but never crashes on hostile input: every problem
becomes an `EntryError` that names the file and the field in one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import PurePosixPath
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

__all__ = [
    "FIELD_ORDER",
    "PR_KINDS",
    "SLUG_RE",
    "STATES",
    "STATE_ALIASES",
    "Entry",
    "EntryError",
    "InvalidSlug",
    "canonical_body",
    "dump_entry",
    "entry_path",
    "format_datetime",
    "is_slug",
    "new_idea",
    "normalise_state",
    "parse_entry",
    "parse_head_branch",
    "safe_repr",
    "validate_slug",
]

# §2: the slug rule. Always applied with fullmatch (``$`` alone would accept "x\n").
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SLUG_MAX = 64
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_SLUG_HELP = "use lowercase letters, digits and inner hyphens, 1–64 characters"

# §3: stored states in lifecycle order (the UI groups in this order).
STATES: tuple[str, ...] = ("idea", "graduated", "parked", "declined", "superseded", "withdrawn")
STATE_ALIASES: dict[str, str] = {"proposed": "idea"}

# §5: head branch prefix -> pr_kind.
PR_KINDS: dict[str, str] = {
    "propose": "idea",
    "edit": "meta_body_edit",
    "claim": "meta_claim",
    "metadata": "meta_metadata",
}

# §2: front-matter keys we know, in the order a new file is written.
FIELD_ORDER: tuple[str, ...] = (
    "slug",
    "title",
    "state",
    "id",
    "repo",
    "proposed_by",
    "proposed_at",
    "graduated_at",
    "graduated_by",
    "owners",
    "arbiters",
    "tags",
)
_KEY_TO_ATTR = {key: ("rfc_id" if key == "id" else key) for key in FIELD_ORDER}
_LIST_KEYS = ("owners", "arbiters", "tags")
_DATE_KEYS = ("proposed_at", "graduated_at")
_REPR_MAX = 60


def safe_repr(value: object, limit: int = _REPR_MAX) -> str:
    """Quote untrusted text for a one-line message: control chars escaped, length capped.

    `repr` escapes every non-printable character (C0, C1, bidi overrides, newlines), so
    hostile input can neither break the line nor reach the terminal raw.
    """
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 4] + "…" + text[-3:]
    return text


class InvalidSlug(ValueError):
    """A slug that breaks the §2 rule; the message says which part of the rule."""

    def __init__(self, slug: object, reason: str) -> None:
        self.slug = slug
        self.reason = reason
        super().__init__(f"invalid slug {safe_repr(slug)}: {reason}; {_SLUG_HELP}")


def validate_slug(s: str) -> str:
    """Return `s` if it is a §2 slug, else raise `InvalidSlug` naming the failed rule."""
    if not isinstance(s, str):
        raise InvalidSlug(s, f"expected text, got {type(s).__name__}")
    if SLUG_RE.fullmatch(s):
        return s
    reasons: list[str] = []
    if not s:
        reasons.append("it is empty")
    elif len(s) > SLUG_MAX:
        reasons.append(f"it is {len(s)} characters long")
    if any(c.isupper() for c in s):
        reasons.append("it has uppercase letters")
    bad = sorted({c for c in s if c not in _SLUG_CHARS and not c.isupper()})
    if bad:
        reasons.append(f"it contains {safe_repr(''.join(bad[:8]))}")
    if s.startswith("-") or s.endswith("-") or not reasons:
        reasons.append("it starts or ends with a hyphen")
    reason = " and ".join(reasons)
    raise InvalidSlug(s, reason)


def is_slug(s: object) -> bool:
    """True when `s` is a valid §2 slug (no exception, for filters)."""
    return isinstance(s, str) and SLUG_RE.fullmatch(s) is not None


def entry_path(slug: str) -> str:
    """The repository path of an entry, after validating the slug (§2)."""
    return f"rfcs/{validate_slug(slug)}.md"


_EDIT_N_RE = re.compile(r"[1-9][0-9]{0,8}")


def parse_head_branch(branch: str) -> tuple[str, str] | None:
    """Map a §5 head branch to ``(pr_kind, slug)``; anything not ours (or a bad slug) -> None.

    ``propose/<slug>``, ``edit/<slug>/<n>`` (n a positive integer, no leading zero),
    ``claim/<slug>``, ``metadata/<slug>``.
    """
    if not isinstance(branch, str) or len(branch) > 200:
        return None
    parts = branch.split("/")
    kind = PR_KINDS.get(parts[0])
    if kind is None:
        return None
    if parts[0] == "edit":
        if len(parts) != 3 or not _EDIT_N_RE.fullmatch(parts[2]):
            return None
    elif len(parts) != 2:
        return None
    slug = parts[1]
    if not is_slug(slug):
        return None
    return kind, slug


def normalise_state(state: str) -> str:
    """Known states and aliases in canonical lower case; unknown states kept as-is (§3)."""
    key = state.strip()
    low = key.lower()
    if low in STATES:
        return low
    return STATE_ALIASES.get(low, key)


class EntryError(ValueError):
    """A malformed entry. ``str()`` is one line: ``rfcs/x.md: <field>: <reason>``."""

    def __init__(self, path: str, field: str, reason: str) -> None:
        self.path = path
        self.field = field
        self.reason = reason
        super().__init__(_one_line(f"{path}: {field}: {reason}"))


def _one_line(text: str) -> str:
    """Keep a message on one line whatever went into it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def canonical_body(body: str) -> str:
    """The stored form of a body: leading blank lines and trailing whitespace removed.

    python-frontmatter trims around the body too; fixing one canonical form keeps
    ``parse_entry(dump_entry(e)) == e`` exact while indentation of the first line survives.
    """
    return _LEADING_BLANK_RE.sub("", body).rstrip()


_LEADING_BLANK_RE = re.compile(r"\A(?:[ \t]*\r?\n)+")


@dataclass(slots=True)
class Entry:
    """One §2 entry. `extra` holds unknown front-matter keys, in file order.

    `key_order` remembers the file's key order so a rewrite changes only what it must;
    it is not part of equality (an entry is its content, not its layout).
    """

    slug: str
    title: str
    state: str = "idea"
    rfc_id: int | None = None
    repo: str | None = None
    proposed_by: str | None = None
    proposed_at: datetime | None = None
    graduated_at: datetime | None = None
    graduated_by: str | None = None
    owners: list[str] = field(default_factory=list)
    arbiters: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    body: str = ""
    extra: dict[Any, Any] = field(default_factory=dict)
    key_order: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        self.body = canonical_body(self.body)

    @property
    def path(self) -> str:
        """``rfcs/<slug>.md``."""
        return entry_path(self.slug)

    def front_matter(self) -> dict[str, Any]:
        """The known fields under their front-matter names (``id`` for `rfc_id`)."""
        return {key: getattr(self, attr) for key, attr in _KEY_TO_ATTR.items()}


def new_idea(
    slug: str,
    title: str,
    proposed_by: str,
    proposed_at: datetime,
    body: str = "",
    tags: Iterable[str] = (),
    arbiters: Iterable[str] = (),
) -> Entry:
    """A fresh `idea` entry as the bot writes it for ``propose/<slug>`` (§5, §6)."""
    validate_slug(slug)
    path = f"rfcs/{slug}.md"
    return Entry(
        slug=slug,
        title=_check_title(path, title),
        state="idea",
        proposed_by=_check_str(path, "proposed_by", proposed_by),
        proposed_at=_check_date(path, "proposed_at", proposed_at),
        owners=[],
        arbiters=_check_list(path, "arbiters", list(arbiters)),
        tags=_check_list(path, "tags", list(tags)),
        body=body,
    )


# ---------------------------------------------------------------- parsing


class _Loader(yaml.SafeLoader):
    """SafeLoader for untrusted front matter.

    Bad timestamps (``2026-13-01``) fail as YAML errors rather than ValueError, and
    aliases are refused: ``*a`` can build a recursive value or a "billion laughs"
    structure that is tiny here but explodes wherever the entry is serialised later.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in front matter", event.start_mark
            )
        return super().compose_node(parent, index)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"invalid date {safe_repr(node.value)} ({exc})", node.start_mark
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_HANDLER = YAMLHandler()


def _make_c_loader() -> Any:
    """A libyaml ``CSafeLoader`` with the same timestamp constructor, or None without libyaml.

    Scanning, parsing and composing run in C (front matter loads 6–13× faster, parse_entry
    about 7× on real-sized entries: bench/parse.py); resolving and constructing stay
    Python, so tags and values come out exactly as from `_Loader`. The C composer cannot
    run `_Loader.compose_node`, so `_c_can_load` keeps aliases away from it.
    """
    base = getattr(yaml, "CSafeLoader", None)
    if base is None or not yaml.__with_libyaml__:
        return None
    loader: Any = type("_CLoader", (base,), {"__doc__": "libyaml twin of `_Loader`."})
    loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    return loader


_CLoader: Any = _make_c_loader()
# Whether `parse_entry` may use libyaml at all: tests set it False to force (and compare)
# the pure-Python path, which is also what runs where libyaml is not installed.
USE_LIBYAML: bool = _CLoader is not None
# Nesting depth is at most one more than the number of these characters (every
# collection needs one: ``[``, ``{``, ``- ``, ``? `` or ``:``). The pure path composes
# recursively (RecursionError near 450 levels), libyaml does not (it stops at 1000), so
# anything that could be deep is left to the pure path to accept or refuse.
_STRUCTURE = "[{-?:"
_C_MAX_STRUCTURE = 100
_C_REFUSE = re.compile("[*!|>?\t\ufeff]").search
_MISS: Any = object()


def _c_can_load(fm_text: str) -> bool:
    """True when libyaml gives what `_Loader` gives, so the C result can be trusted (§2).

    The refused characters are where the two are known to differ; each case is in
    tests/test_entry_loaders.py, which also fuzzes both paths against each other:

    - ``*``: an alias (the only way to write one) must meet the pure path's refusal;
    - ``!``: a bare ``!`` tag gives ``''`` in libyaml and None in PyYAML;
    - ``|`` ``>``: libyaml accepts block scalar headers PyYAML refuses (``|#``);
    - ``?``: libyaml keeps ``?`` inside a plain scalar in flow context (``{a?}``);
    - tab: libyaml accepts tabs as separators where PyYAML refuses them;
    - U+FEFF: libyaml skips a BOM at the start of any line, PyYAML only at the start of
      the stream, so ``\ufeffkey`` would be a different key;
    - depth: see `_STRUCTURE`.

    Real front matter has none of these (100 % of bench/parse.py's entries take libyaml);
    a title with ``?`` or ``>`` just takes the slower path.
    """
    if _C_REFUSE(fm_text):
        return False
    return sum(map(fm_text.count, _STRUCTURE)) <= _C_MAX_STRUCTURE


def _load_c(fm_text: str) -> Any:
    """The front matter via libyaml, or `_MISS` when the pure path must decide.

    Any error also gives `_MISS`: errors are rare, and the pure path then raises its own
    (line numbers, wording) so a message never depends on whether libyaml is installed.
    """
    if not USE_LIBYAML or _CLoader is None or not _c_can_load(fm_text):
        return _MISS
    try:
        return yaml.load(fm_text, Loader=_CLoader)  # noqa: S506 - a CSafeLoader subclass
    except Exception:  # noqa: BLE001 - re-run on the pure path, which reports it
        return _MISS


def _load_front_matter(fm_text: str) -> Any:
    """YAML front matter to Python values: libyaml when it is sound to, else `_Loader`."""
    meta = _load_c(fm_text)
    if meta is _MISS:
        meta = yaml.load(fm_text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    return meta


def parse_entry(path: str, data: bytes) -> Entry:
    """Parse and validate ``rfcs/<slug>.md`` (§2). Raises `EntryError` naming the field.

    Missing list fields are empty lists, missing optional scalars are null; `slug`,
    `title` and `state` are required. A single string where a list is expected is read
    as a one-item list. Dates may be YAML timestamps, dates or RFC 3339 strings and are
    stored as aware UTC datetimes.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError(
            path, "encoding", f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    text = text.removeprefix("\ufeff").strip()
    if not _HANDLER.FM_BOUNDARY.match(text):
        raise EntryError(path, "front matter", "missing: the file must start with a '---' line")
    try:
        fm_text, content = _HANDLER.split(text)
    except ValueError:
        raise EntryError(path, "front matter", "not closed by a '---' line") from None
    try:
        meta = _load_front_matter(fm_text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise EntryError(path, "front matter", f"invalid YAML{where}: {problem}") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise EntryError(path, "front matter", f"invalid YAML: {type(exc).__name__}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, Mapping):
        raise EntryError(
            path, "front matter", f"must be a mapping of keys to values, not {_kind(meta)}"
        )
    return _entry_from_meta(path, dict(meta), canonical_body(content))


def _entry_from_meta(path: str, meta: dict[Any, Any], body: str) -> Entry:
    stem = PurePosixPath(path).stem
    slug = meta.get("slug")
    if slug is None:
        raise EntryError(path, "slug", "missing")
    if not isinstance(slug, str):
        raise EntryError(path, "slug", f"must be text, not {_kind(slug)}")
    try:
        validate_slug(slug)
    except InvalidSlug as exc:
        raise EntryError(path, "slug", str(exc)) from None
    if slug != stem:
        raise EntryError(
            path, "slug", f"{safe_repr(slug)} does not match the file name {safe_repr(stem)}"
        )
    state = meta.get("state")
    if state is None:
        raise EntryError(path, "state", f"missing; expected one of {', '.join(STATES)}")
    if not isinstance(state, str) or not state.strip():
        raise EntryError(path, "state", f"must be a state name, not {_kind(state)}")
    rfc_id = meta.get("id")
    if rfc_id is not None and (type(rfc_id) is not int or rfc_id < 0):
        raise EntryError(path, "id", f"must be a non-negative integer or null, not {_kind(rfc_id)}")
    known = set(FIELD_ORDER)
    return Entry(
        slug=slug,
        title=_check_title(path, meta.get("title")),
        state=normalise_state(state),
        rfc_id=rfc_id,
        repo=_check_opt_str(path, "repo", meta.get("repo")),
        proposed_by=_check_opt_str(path, "proposed_by", meta.get("proposed_by")),
        proposed_at=_check_date(path, "proposed_at", meta.get("proposed_at")),
        graduated_at=_check_date(path, "graduated_at", meta.get("graduated_at")),
        graduated_by=_check_opt_str(path, "graduated_by", meta.get("graduated_by")),
        owners=_check_list(path, "owners", meta.get("owners")),
        arbiters=_check_list(path, "arbiters", meta.get("arbiters")),
        tags=_check_list(path, "tags", meta.get("tags")),
        body=body,
        extra={k: v for k, v in meta.items() if k not in known},
        key_order=tuple(meta),
    )


def _kind(value: object) -> str:
    """Describe a wrong value briefly: its YAML-ish type and a capped repr."""
    names = {bool: "a boolean", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "a mapping", type(None): "null"}
    name = names.get(type(value), type(value).__name__)
    if isinstance(value, (list, dict)):
        return name
    return f"{name} {safe_repr(value, 30)}"


def _check_title(path: str, title: object) -> str:
    if title is None:
        raise EntryError(path, "title", "missing")
    if not isinstance(title, str):
        raise EntryError(path, "title", f"must be text, not {_kind(title)}")
    title = title.strip()
    if not title:
        raise EntryError(path, "title", "is empty")
    if "\n" in title or "\r" in title:
        raise EntryError(path, "title", "must be a single line")
    return title


def _check_str(path: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EntryError(path, key, f"must be non-empty text, not {_kind(value)}")
    return value.strip()


def _check_opt_str(path: str, key: str, value: object) -> str | None:
    if value is None:
        return None
    return _check_str(path, key, value)


def _check_list(path: str, key: str, value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # "owners: ada" — be helpful, it means [ada]
        value = [value]
    if not isinstance(value, list):
        raise EntryError(path, key, f"must be a list of text, not {_kind(value)}")
    out: list[str] = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, str) or not item.strip():
            raise EntryError(path, key, f"item {i} must be non-empty text, not {_kind(item)}")
        out.append(item.strip())
    return out


def _check_date(path: str, key: str, value: object) -> datetime | None:
    """Accept datetime, date or an RFC 3339 string; return an aware UTC datetime (§2)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(0), UTC)
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise EntryError(
                path, key, f"{safe_repr(value, 40)} is not an RFC 3339 date-time"
            ) from None
    else:
        raise EntryError(path, key, f"must be an RFC 3339 date-time, not {_kind(value)}")
    if dt.tzinfo is None:  # a bare time in a UTC-only format means UTC
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is past year 9999 in UTC
        raise EntryError(path, key, f"{safe_repr(str(value), 40)} is out of range") from None


# ---------------------------------------------------------------- dumping


def format_datetime(dt: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` (§2); naive datetimes are taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes dates as ``2026-10-02T14:03:00Z`` and multi-line text quoted.

    It never writes anchors/aliases (the parser refuses them): a list shared by two
    fields is written out twice.
    """

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_datetime(dumper: yaml.SafeDumper, dt: datetime) -> yaml.Node:
    text = format_datetime(dt) if dt.tzinfo is not None else dt.isoformat()
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    # A line break in single-quoted or plain style could put a "---" line at column 0
    # and end the front matter early; double quotes escape it as "\n".
    style = '"' if any(c in text for c in "\n\r\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(datetime, _represent_datetime)
_Dumper.add_representer(str, _represent_str)


def dump_entry(entry: Entry) -> str:
    """Serialise an entry (§2): front matter then body, so that parse(dump(e)) == e.

    Keys keep the order they had in the file; unknown keys are kept (a metadata edit
    must not drop what it does not know). A known key absent from the original file is
    written only if it now has a value; a new entry gets every known key in §2 order.
    """
    validate_slug(entry.slug)
    known = entry.front_matter()
    present: dict[Any, Any] = {}
    original = entry.key_order
    for key in original:
        if key in known:
            present[key] = known[key]
        elif key in entry.extra:
            present[key] = entry.extra[key]
    for key in FIELD_ORDER:
        if key not in present:
            value = known[key]
            if not original or key in ("slug", "title", "state") or value not in (None, []):
                present[key] = value
    for key, value in entry.extra.items():
        if key not in present:
            present[key] = value
    fm = yaml.dump(
        present,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=1 << 30,
    )
    body = canonical_body(entry.body)
    return f"---\n{fm}---\n{body}\n" if body else f"---\n{fm}---\n"
