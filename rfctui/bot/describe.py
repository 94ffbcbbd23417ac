"""What one bot action writes (SPEC §5, §6.2): its branch, file change, commit message
and PR description, as a `Plan` built from the stored payload alone.

Pure: the same payload gives the same plan, which is what makes a retry converge on the
PR the first attempt opened (§6.4). The description of a metadata PR lists every change
on its branch compared with main, so a change stacked onto an open PR is never hidden
from the reviewer (issue 9).
"""

from __future__ import annotations

import base64
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rfctui import entry as entry_mod
from rfctui.bot.checks import BASE, TITLE_MAX, check_metadata
from rfctui.bot.errors import LINE_MAX, ActionFailed, NothingToChange
from rfctui.bot.identity import Actor
from rfctui.entry import Entry, EntryError, validate_slug
from rfctui.logins import same_login
from rfctui.text import one_line

__all__ = ["FileOp", "Payload", "Plan", "file_op", "intended", "must_exist", "plan_action"]

# An action's stored payload (§6.4): JSON as the actions log keeps it (hence Any).
Payload = dict[str, Any]
# One `change_files` operation (API-NOTES): path, operation, base64 content, blob sha.
FileOp = dict[str, str | None]


@dataclass
class Plan:
    """The idempotent shape of one action: head branch, file path and how to change it."""

    kind: str
    slug: str
    subject: str
    commit_body: str
    pr_title: str
    pr_body: str
    transform: Callable[[str | None], str]  # current file text (None: absent) -> new text
    must_exist: bool = True
    branch: str = ""
    warnings: list[str] = field(default_factory=list)
    # (main's text, the branch's text) -> (PR title, PR description without trailer):
    # the PR lists every change on its branch, so a second action stacked onto it is
    # never hidden from the reviewer (issue 9). None: the description is fixed.
    describe: Callable[[str | None, str], tuple[str, str]] | None = None
    # A PR title starting with this was written by the bot and may be rewritten.
    title_stem: str = ""


def plan_action(prefix: str, actor: Actor, payload: Mapping[str, Any]) -> Plan:
    """The `Plan` for one action from its stored payload (raises `ActionFailed`)."""
    slug = validate_slug(str(payload.get("slug", "")))
    who = f"{actor.display_name} ({actor.login})"
    if prefix == "propose":
        title = str(payload["title"])
        body = str(payload.get("body") or "")
        proposed_at = datetime.fromisoformat(str(payload["proposed_at"]))
        new = entry_mod.new_idea(
            slug, title, actor.login, proposed_at,
            body=body, tags=payload.get("tags") or (), arbiters=payload.get("arbiters") or (),
        )
        text = entry_mod.dump_entry(new)

        def make_new(current: str | None) -> str:
            if current is not None and current != text:
                raise ActionFailed(f"rfcs/{slug}.md already exists; pick another slug")
            return text

        safe_title = " ".join(title.split())
        return Plan(
            "propose", slug,
            subject=f"Propose RFC idea: {safe_title}",
            commit_body=f"Adds rfcs/{slug}.md in state idea, proposed by {who}.",
            pr_title=f"Propose RFC idea: {safe_title}",
            pr_body=_pr_body(
                f"Proposes a new RFC idea `{slug}`: {safe_title}", body, who
            ),
            transform=make_new,
            must_exist=False,
        )
    if prefix == "edit":
        body = str(payload["body"])

        def edit(e: Entry) -> None:
            e.body = body

        return Plan(
            "edit", slug,
            subject=f"Edit body of {slug}",
            commit_body=f"Replaces the body of rfcs/{slug}.md for {who}.",
            pr_title=f"Edit body of {slug}",
            pr_body=_pr_body(f"Replaces the body of `{slug}` with:", body, who),
            transform=_rewrite(slug, edit),
        )
    if prefix == "claim":

        def claim(e: Entry) -> None:
            if not any(same_login(actor.login, o) for o in e.owners):
                e.owners = [*e.owners, actor.login]

        return Plan(
            "claim", slug,
            subject=f"Claim {slug} for {actor.login}",
            commit_body=f"Adds {actor.login} to the owners of rfcs/{slug}.md.",
            pr_title=f"Claim {slug} for {actor.login}",
            pr_body=_pr_body(f"{who} claims `{slug}`: adds them to `owners`.", "", who),
            transform=_rewrite(slug, claim),
        )
    if prefix == "metadata":
        changes = check_metadata(slug, payload.get("changes") or {})

        def update(e: Entry) -> None:
            for key, value in changes.items():
                attr = "rfc_id" if key == "id" else key
                if key in entry_mod.FIELD_ORDER:
                    setattr(e, attr, value)
                else:
                    e.extra[key] = value

        summary = "\n".join(
            f"- `{k}`: {_show(v)}" for k, v in changes.items()
        )
        stem = f"Update metadata of {slug}"

        def describe(main_text: str | None, branch_text: str) -> tuple[str, str]:
            lines, keys = _entry_changes(slug, main_text, branch_text)
            listed = "\n".join(lines) or f"- nothing differs from {BASE} any more"
            intro = f"Changes the front matter of `{slug}` (every change on this branch):"
            return _metadata_title(stem, keys), _pr_body(intro, listed, who)

        return Plan(
            "metadata", slug,
            subject=_metadata_title(stem, list(changes)),
            commit_body=f"Changes front matter of rfcs/{slug}.md:\n{summary}",
            pr_title=stem,
            pr_body="",
            transform=_rewrite(slug, update),
            describe=describe,
            title_stem=stem,
        )
    raise ActionFailed(f"unknown action {prefix!r}")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def must_exist(plan: Plan, path: str, main_text: str | None) -> None:
    if plan.must_exist and main_text is None:
        # Not offered for retry (kept for audit): retrying would find the same.
        raise NothingToChange(f"{path} does not exist on {BASE}; nothing to change")


def file_op(path: str, text: str, current: str | None, sha: str | None) -> FileOp:
    """A `change_files` operation turning `current` (None: absent) into `text`."""
    op: FileOp = {"path": path, "content": _b64(text)}
    if current is None:
        op["operation"] = "create"
    else:
        op["operation"] = "update"
        op["sha"] = sha
    return op


def intended(plan: Plan, text: str | None) -> str | None:
    """What the action would make of `text` (None when it cannot apply to it)."""
    try:
        return plan.transform(text)
    except ActionFailed:
        return None


def _rewrite(slug: str, change: Callable[[Entry], None]) -> Callable[[str | None], str]:
    """A `Plan.transform` for an existing entry: parse the current text, let `change`
    edit the Entry in place, write it back (edit, claim and metadata differ only there)."""

    def transform(current: str | None) -> str:
        e = _parse(slug, current)
        change(e)
        return entry_mod.dump_entry(e)

    return transform


def _parse(slug: str, text: str | None) -> Entry:
    if text is None:
        raise ActionFailed(f"rfcs/{slug}.md does not exist")
    try:
        return entry_mod.parse_entry(f"rfcs/{slug}.md", text.encode("utf-8"))
    except EntryError as exc:
        raise ActionFailed(f"cannot change a malformed entry: {exc}") from None


def _show(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "[]"
    if isinstance(value, datetime):
        return entry_mod.format_datetime(value)
    return "null" if value is None else one_line(str(value), LINE_MAX)


def _metadata_title(stem: str, keys: Sequence[str]) -> str:
    """``Update metadata of <slug>: state, tags``: the title names every changed field."""
    if not keys:
        return stem
    title = f"{stem}: {', '.join(keys)}"
    return title if len(title) <= TITLE_MAX else f"{stem}: {len(keys)} fields"


def _entry_changes(
    slug: str, old_text: str | None, new_text: str
) -> tuple[list[str], list[str]]:
    """Markdown bullets for what `new_text` changes in `old_text` (front matter
    ``old → new`` in file order, then ``body: +A −R lines``), and the changed keys."""
    new = _parse(slug, new_text)
    old = _parse(slug, old_text) if old_text is not None else None
    after = {**new.front_matter(), **new.extra}
    before = {**old.front_matter(), **old.extra} if old is not None else {}
    lines: list[str] = []
    keys: list[str] = []
    for key in dict.fromkeys([*after, *before]):
        a, b = before.get(key), after.get(key)
        if a != b and not (a in (None, []) and b in (None, [])):
            keys.append(str(key))
            lines.append(f"- `{key}`: {_show(a)} → {_show(b)}")
    old_body = old.body if old is not None else ""
    if old_body != new.body:
        added = removed = 0
        matcher = difflib.SequenceMatcher(
            None, old_body.splitlines(), new.body.splitlines(), autojunk=False
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                removed += i2 - i1
            if tag in ("replace", "insert"):
                added += j2 - j1
        keys.append("body")
        lines.append(f"- body: +{added} \u2212{removed} lines")
    return lines, keys


def _pr_body(intro: str, text: str, who: str) -> str:
    """A PR description: what the bot does, the user's text, on whose behalf.

    Not neutralised here: `trailer.compose` neutralises the whole description once.
    """
    parts = [intro]
    if text.strip():
        parts.append(text.strip())
    parts.append(f"Opened by the RFC bot on behalf of {who}.")
    return "\n\n".join(parts)

