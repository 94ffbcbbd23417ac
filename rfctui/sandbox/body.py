"""JSON request bodies read the way Gitea's Go structs decode them (issue 9 item 7).

Why: Gitea binds every write body into a typed Go struct, so a wrong JSON type, bad
syntax or absurd nesting is a **422** ``[]: json: cannot unmarshal ...`` (notes §0
"Error bodies"), never a crash. The sandbox declares, per endpoint, the fields Gitea's
struct has and checks them here once, before any handler looks at them; handlers then
only see well-typed values. Go semantics kept on purpose:

- unknown keys are ignored; keys match case-insensitively (exact match first);
- ``null`` leaves the field unset (dropped from the result);
- only the first JSON value is decoded (trailing bytes are ignored, like
  ``json.Decoder.Decode``); an empty body is an empty struct;
- a lone UTF-16 surrogate escape becomes U+FFFD (Go's decoder does the same), so no
  unencodable text ever reaches the git model or a response.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["BodyError", "ListOf", "Struct", "read_json"]

STRING, BOOL, INT64, DATETIME = "string", "bool", "int64", "time.Time"
_SCALARS = (STRING, BOOL, INT64, DATETIME)
_SURROGATE = re.compile("[\ud800-\udfff]")
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_DECODER = json.JSONDecoder(
    parse_constant=lambda name: _refuse_constant(name),
    parse_int=lambda text: int(text) if len(text) <= 40 else float(text),
)


class BodyError(ValueError):
    """A body Gitea's binding refuses; ``message`` is the whole 422 message."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ListOf:
    """A Go slice of ``item``; ``go`` overrides the type name used in messages."""

    item: Kind
    go: str = ""

    @property
    def go_type(self) -> str:
        return self.go or f"[]{go_type(self.item)}"


@dataclass(frozen=True)
class Struct:
    """A Go struct: JSON key -> kind. ``aliases`` are extra accepted keys (Gitea's
    MergePullRequestForm takes both ``MergeTitleField`` and ``merge_title_field``)."""

    name: str
    fields: dict[str, Kind]
    aliases: dict[str, str] = field(default_factory=dict)
    _folded: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded: dict[str, str] = {}
        for name in (*self.fields, *self.aliases):
            folded.setdefault(name.casefold(), self.aliases.get(name, name))
        object.__setattr__(self, "_folded", folded)

    def key_for(self, key: str) -> str | None:
        """The canonical field for a JSON key: exact first, then case-folded (Go)."""
        if key in self.fields:
            return key
        if key in self.aliases:
            return self.aliases[key]
        return self._folded.get(key.casefold())


Kind = str | ListOf | Struct


def go_type(kind: Kind) -> str:
    if isinstance(kind, Struct):
        return f"structs.{kind.name}"
    if isinstance(kind, ListOf):
        return kind.go_type
    return kind


def json_type(value: Any) -> str:
    """The JSON kind Go names in ``cannot unmarshal <kind>``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def read_json(body: bytes, spec: Struct) -> dict[str, Any]:
    """Decode ``body`` into a dict holding only ``spec``'s fields, well typed.

    Raises :class:`BodyError` (422) for anything Gitea's binding would refuse.
    """
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"[]: Invalid JSON: not UTF-8 at byte {exc.start}") from None
    try:
        start = len(text) - len(text.lstrip(" \t\r\n"))
        data, _ = _DECODER.raw_decode(text, start)
    except RecursionError:
        raise BodyError("[]: Invalid JSON: exceeded max depth") from None
    except ValueError as exc:  # JSONDecodeError and the refused constants
        raise BodyError(f"[]: Invalid JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BodyError(
            f"[]: json: cannot unmarshal {json_type(data)} into Go value of type "
            f"{go_type(spec)}"
        )
    return _struct(data, spec, ())


def _struct(data: dict[str, Any], spec: Struct, path: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = spec.key_for(key)
        if name is None or value is None:
            continue
        out[name] = _value(value, spec.fields[name], spec, (*path, name))
    return out


def _value(value: Any, kind: Kind, owner: Struct, path: tuple[str, ...]) -> Any:
    """``value`` checked against ``kind``; ``owner``/``path`` only name it in errors."""

    def wrong() -> BodyError:
        return BodyError(
            f"[]: json: cannot unmarshal {json_type(value)} into Go struct field "
            f"{owner.name}.{'.'.join(path)} of type {go_type(kind)}"
        )

    if isinstance(kind, Struct):
        if not isinstance(value, dict):
            raise wrong()
        return _struct(value, kind, path)
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            raise wrong()
        return [
            _zero(kind.item) if item is None else _value(item, kind.item, owner, path)
            for item in value
        ]
    if kind == STRING or kind == DATETIME:
        if not isinstance(value, str):
            raise wrong()
        value = _SURROGATE.sub("\ufffd", value)
        if kind == DATETIME and value:
            check_datetime(value, f"{owner.name}.{'.'.join(path)}")
        return value
    if kind == BOOL:
        if not isinstance(value, bool):
            raise wrong()
        return value
    if kind == INT64:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not _INT64_MIN <= value <= _INT64_MAX
        ):
            raise wrong()
        return value
    raise AssertionError(f"unknown kind {kind!r}")  # a bug in a spec below


def _zero(kind: Kind) -> Any:
    """Go's zero value: what a ``null`` array element decodes to."""
    if isinstance(kind, Struct):
        return {}
    if isinstance(kind, ListOf):
        return []
    return {STRING: "", DATETIME: "", BOOL: False, INT64: 0}[kind]


def check_datetime(value: str, where: str) -> int:
    """RFC 3339 (Go's ``time.Time`` JSON form) -> unix seconds; 422 otherwise.

    Also refuses instants the replies cannot print (outside years 1..9999 in UTC).
    """
    if not _RFC3339.fullmatch(value):
        raise BodyError(f"[]: parsing time for {where}: not an RFC 3339 date-time")
    text = re.sub(r"(\.\d{6})\d+", r"\1", value).upper().replace("Z", "+00:00")
    try:
        unix = int(datetime.fromisoformat(text).timestamp())
        datetime.fromtimestamp(unix, UTC)  # years 1..9999 in UTC, as every reply prints
        return unix
    except (ValueError, OverflowError, OSError):
        raise BodyError(f"[]: parsing time for {where}: out of range") from None


# -- the structs Gitea binds each write endpoint to (swagger.v1.json definitions) --------
IDENTITY = Struct("Identity", {"name": STRING, "email": STRING})
COMMIT_DATES = Struct("CommitDateOptions", {"author": DATETIME, "committer": DATETIME})
_FILE_OPTIONS: dict[str, Kind] = {
    "message": STRING,
    "branch": STRING,
    "new_branch": STRING,
    "author": IDENTITY,
    "committer": IDENTITY,
    "dates": COMMIT_DATES,
    "signoff": BOOL,
    "force_push": BOOL,
}
CREATE_FILE = Struct("CreateFileOptions", {**_FILE_OPTIONS, "content": STRING})
UPDATE_FILE = Struct(
    "UpdateFileOptions",
    {**_FILE_OPTIONS, "content": STRING, "sha": STRING, "from_path": STRING},
)
DELETE_FILE = Struct("DeleteFileOptions", {**_FILE_OPTIONS, "sha": STRING})
CHANGE_FILE_OPERATION = Struct(
    "ChangeFileOperation",
    {"operation": STRING, "path": STRING, "content": STRING, "sha": STRING, "from_path": STRING},
)
CHANGE_FILES = Struct(
    "ChangeFilesOptions",
    {
        **_FILE_OPTIONS,
        "files": ListOf(CHANGE_FILE_OPERATION, go="[]*structs.ChangeFileOperation"),
    },
)
GET_FILES = Struct("GetFilesOptions", {"files": ListOf(STRING)})
CREATE_BRANCH = Struct(
    "CreateBranchRepoOption",
    {"new_branch_name": STRING, "old_branch_name": STRING, "old_ref_name": STRING},
)
_PULL_COMMON: dict[str, Kind] = {
    "title": STRING,
    "body": STRING,
    "base": STRING,
    "assignee": STRING,
    "assignees": ListOf(STRING),
    "labels": ListOf(INT64),
    "milestone": INT64,
    "due_date": DATETIME,
    "allow_maintainer_edit": BOOL,
}
CREATE_PULL = Struct(
    "CreatePullRequestOption",
    {
        **_PULL_COMMON,
        "head": STRING,
        "reviewers": ListOf(STRING),
        "team_reviewers": ListOf(STRING),
    },
)
EDIT_PULL = Struct(
    "EditPullRequestOption",
    {**_PULL_COMMON, "state": STRING, "unset_due_date": BOOL, "content_version": INT64},
)
CREATE_ISSUE_COMMENT = Struct("CreateIssueCommentOption", {"body": STRING})
MERGE_PULL = Struct(
    "MergePullRequestForm",
    {
        "Do": STRING,
        "MergeTitleField": STRING,
        "MergeMessageField": STRING,
        "MergeCommitID": STRING,
        "head_commit_id": STRING,
        "force_merge": BOOL,
        "merge_when_checks_succeed": BOOL,
        "delete_branch_after_merge": BOOL,
    },
    aliases={
        "merge_title_field": "MergeTitleField",
        "merge_message_field": "MergeMessageField",
        "merge_commit_id": "MergeCommitID",
    },
)
