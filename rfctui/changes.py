"""What a pull request changes in an entry, against the entry on ``main`` (issue 12 §1).

Pure: two file texts in (``main``'s, None for a proposal; the PR head's, None when the
head has no such file), a `Change` out — no HTTP, no SQL, no Textual, so the change view,
``rfctui diff`` and the tests share one computation. Values are other people's text:
they are kept as data here (an ESC or a bidi override in a body stays a character in the
diff); escaping is the output's job (`rfctui.text.emit`, SPEC §7.4/§11).

A malformed side (not UTF-8, broken front matter, a wrong type) never raises: it becomes
one line in `Change.problems` and the raw texts are still diffed as lines, so a reviewer
sees what the PR would write.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rfctui.entry import (
    FIELD_ORDER,
    PR_KINDS,
    Entry,
    EntryError,
    dump_entry,
    entry_path,
    format_datetime,
    parse_entry,
)

if TYPE_CHECKING:
    from rfctui.rows import RFCDetail

__all__ = [
    "Change", "ChangeView", "FieldChange", "compute_change", "kind_word", "main_text",
    "overlaps",
]

_KIND_WORDS = {v: k for k, v in PR_KINDS.items()}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One front-matter key whose value differs; values JSON-able (dates as RFC 3339 text,
    None when the key is absent on that side)."""

    name: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Change:
    """A PR's effect on one entry.

    `kind`: the PR's kind as given (``propose``, ``edit``, ``claim``, ``metadata``), else
    inferred (``propose`` without a main side, ``delete`` without a head side, ``edit``
    when only the body moves, ``metadata`` otherwise). `fields` lists only keys that
    change, unknown keys included; `body_changed` False means the body was compared and
    is identical. `old_ranges` are the main-side body line ranges the diff touches
    (half-open, 0-based), what `overlaps` compares.
    """

    kind: str
    fields: list[FieldChange]
    body_diff: str
    body_changed: bool
    new_entry: Entry | None
    problems: list[str] = field(default_factory=list)
    old_ranges: tuple[tuple[int, int], ...] = ()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _fields_of(entry: Entry) -> dict[str, Any]:
    """Every front-matter key of `entry`: known ones in §2 order, then unknown ones."""
    out: dict[str, Any] = {k: _jsonable(v) for k, v in entry.front_matter().items()}
    for key, value in entry.extra.items():
        out[str(key)] = _jsonable(value)
    return out


def _parse(path: str, text: str | None, side: str, problems: list[str]) -> Entry | None:
    if text is None:
        return None
    try:
        return parse_entry(path, text.encode("utf-8", "surrogatepass"))
    except EntryError as exc:
        problems.append(f"{side}: {exc}")
    except Exception as exc:  # hostile input must never crash a review
        problems.append(f"{side}: {path}: unreadable ({type(exc).__name__})")
    return None


def _lines(text: str) -> list[str]:
    return text.splitlines() if text else []


def compute_change(
    main_text: str | None,
    head_text: str | None,
    *,
    slug: str = "entry",
    kind: str | None = None,
) -> Change:
    """Compare the entry file on ``main`` with the one at a PR head (issue 12 §1).

    Both sides parse: fields compare key by key and the *bodies* are diffed. A side that
    does not parse: a problem line, no field table, and the whole files are diffed.
    """
    try:
        path = entry_path(slug)
    except ValueError:
        path = "rfcs/entry.md"
    problems: list[str] = []
    old = _parse(path, main_text, "main", problems)
    new = _parse(path, head_text, "head", problems)
    broken = (main_text is not None and old is None) or (head_text is not None and new is None)
    if kind is None:
        kind = "propose" if main_text is None else "delete" if head_text is None else ""
    fields: list[FieldChange] = []
    if broken:
        old_lines, new_lines = _lines(main_text or ""), _lines(head_text or "")
        label = path
    else:
        old_f = _fields_of(old) if old is not None else {}
        new_f = _fields_of(new) if new is not None else {}
        order = [k for k in FIELD_ORDER] + [
            k for k in [*old_f, *new_f] if k not in FIELD_ORDER
        ]
        seen: set[str] = set()
        for key in order:
            if key in seen:
                continue
            seen.add(key)
            before, after = old_f.get(key), new_f.get(key)
            if before != after and not (before in (None, []) and after in (None, [])):
                fields.append(FieldChange(key, before, after))
        old_lines = _lines(old.body) if old is not None else []
        new_lines = _lines(new.body) if new is not None else []
        label = f"{path} (body)"
    diff = difflib.unified_diff(
        old_lines, new_lines,
        fromfile=f"main:{label}" if main_text is not None else "/dev/null",
        tofile=f"head:{label}" if head_text is not None else "/dev/null",
        lineterm="",
    )
    body_diff = "\n".join(diff)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    ranges = tuple(
        (i1, max(i2, i1 + 1)) for tag, i1, i2, _j1, _j2 in matcher.get_opcodes() if tag != "equal"
    )
    if not kind:
        kind = "metadata" if fields else "edit"
    return Change(
        kind=kind,
        fields=fields,
        body_diff=body_diff,
        body_changed=old_lines != new_lines,
        new_entry=new,
        problems=problems,
        old_ranges=ranges,
    )


def overlaps(changes: Sequence[tuple[int, Change]]) -> list[str]:
    """Notes where two PRs on one entry change the same field or overlapping body lines
    (each PR is compared with ``main``, so these are the places a second merge conflicts
    or silently overrides the first)."""
    notes: list[str] = []
    for i, (pr_a, a) in enumerate(changes):
        for pr_b, b in changes[i + 1 :]:
            shared = sorted({f.name for f in a.fields} & {f.name for f in b.fields})
            for name in shared:
                notes.append(f"#{pr_a} and #{pr_b} both change {name}")
            if a.body_changed and b.body_changed and any(
                s1 < e2 and s2 < e1 for s1, e1 in a.old_ranges for s2, e2 in b.old_ranges
            ):
                notes.append(f"#{pr_a} and #{pr_b} change overlapping body lines")
    return notes


@dataclass(frozen=True, slots=True)
class ChangeView:
    """One PR's change view as `rfctui.session.Session.change` reads it from the cache.

    `change` is None when the PR head's file was never fetched (``rfctui --sync``
    fetches it, once per head sha); `notes` are `overlaps` with the other open PRs on
    the same entry whose heads are cached.
    """

    pr: int
    slug: str
    kind: str
    state: str
    opened_by: str
    title: str
    change: Change | None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``rfctui diff --json`` (issue 12 §1): schema 1, exactly these keys."""
        change = self.change
        return {
            "schema": 1,
            "pr": self.pr,
            "slug": self.slug,
            "kind": self.kind,
            "state": self.state,
            "opened_by": self.opened_by,
            "fields": [
                {"name": f.name, "old": f.old, "new": f.new}
                for f in (change.fields if change is not None else [])
            ],
            "body_diff": change.body_diff if change is not None else "",
        }


def kind_word(pr_kind: str) -> str:
    """The branch prefix a stored ``pr_kind`` came from (``meta_claim`` -> ``claim``)."""
    return _KIND_WORDS.get(pr_kind, pr_kind)


def main_text(detail: RFCDetail | None) -> str | None:
    """The entry file on ``main`` rebuilt from its cached row (`rfctui.entry.dump_entry`:
    parse(dump(e)) == e, unknown keys kept); None for no entry or one removed from main.
    The cache keeps the parsed fields, not the file, and a change is compared field by
    field and on the body, so the rebuilt text is exact where it matters."""
    if detail is None or detail.removed:
        return None
    return dump_entry(Entry(
        slug=detail.slug, title=detail.title, state=detail.state,
        rfc_id=detail.rfc_id, repo=detail.repo, proposed_by=detail.proposed_by,
        proposed_at=detail.proposed_at, graduated_at=detail.graduated_at,
        graduated_by=detail.graduated_by, owners=list(detail.owners),
        arbiters=list(detail.arbiters), tags=list(detail.tags), body=detail.body,
        extra=dict(detail.extra),
    ))
