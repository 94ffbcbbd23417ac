"""Comments on a pull request, posted by the bot for the person at the keyboard
(issue 12 §3; SPEC §6, §10).

A comment is an action like the others (§6): the bot posts it, the text the person typed
is neutralised so it cannot forge a trailer, and the `On-behalf-of:` trailer is its last
line, in its own paragraph (§6.2). It is written to the actions log *before* the request
(§6.4), so nothing typed is lost when Gitea is down. Retrying is idempotent: a comment
carries a random marker (an HTML comment Gitea does not show), and a retry first lists
the PR's comments and takes one by the bot with exactly this body instead of posting
again — a POST whose answer was lost may well have landed.

Reading the thread back trusts a trailer only in a comment the **bot** posted (§6.3
extended to comments): a person who types `On-behalf-of:` in their own comment is
still shown as themselves.

Textual-free; `rfctui.bot.core.Bot` dispatches here (`perform`, `retry`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rfctui import entry as entry_mod
from rfctui import trailer
from rfctui.bot.errors import ActionFailed, ValidationError, error_text, is_unreachable, status_of
from rfctui.bot.identity import Actor
from rfctui.logins import same_login
from rfctui.results import ActionResult

if TYPE_CHECKING:
    from rfctui.bot.core import Bot

__all__ = [
    "COMMENT_KIND",
    "COMMENT_MAX",
    "CommentThread",
    "ThreadComment",
    "check_comment",
    "comment",
    "comment_body",
    "execute",
    "pending_comments",
    "thread",
]

COMMENT_KIND = "comment_pr"  # the §6.4 action kind (rfctui.db.actions.ACTION_KINDS)
COMMENT_MAX = 65_000  # characters the person may type (Gitea's column is TEXT)
_MARKER_RE = re.compile(r"\n*<!-- rfctui-comment [0-9a-f]{16} -->\s*\Z")


def check_comment(pr_number: object, text: str) -> int:
    """The pure checks before anything is saved or sent; the PR number as an int.

    An empty comment, or one of only spaces, is an error (the UI and the CLI say so
    and send nothing, log nothing).
    """
    errors: dict[str, str] = {}
    number = 0
    try:
        number = int(str(pr_number))
    except ValueError:
        errors["pr_number"] = f"not a pull request number: {entry_mod.safe_repr(pr_number)}"
    else:
        if number <= 0:
            errors["pr_number"] = f"not a pull request number: {number}"
    if not (text or "").strip():
        errors["body"] = "the comment is empty"
    elif len(text) > COMMENT_MAX:
        errors["body"] = f"the comment is {len(text)} characters; keep it under {COMMENT_MAX}"
    if errors:
        raise ValidationError(errors)
    return number


def comment_body(text: str, nonce: str, actor: Actor) -> str:
    """What the bot posts: the text neutralised (and unable to open raw HTML that would
    hide what follows), the marker, then the trailer last (§6.2).

    Deterministic for a given payload, so a retry can recognise an earlier post.
    """
    return trailer.compose(
        f"{trailer.defuse_html(text).rstrip()}\n\n<!-- rfctui-comment {nonce} -->",
        actor.display_name, actor.login,
    )


async def _pr_slug(bot: Bot, number: int) -> tuple[str, str]:
    """(slug, state) of PR `number`: from the cache, else one `GET` of the PR.

    A PR that is not one of ours (§5) or that Gitea does not have is refused before
    anything is saved. When neither the cache nor Gitea can say, it is refused too:
    the actions log needs the entry it belongs to.
    """
    pull = getattr(bot._existing, "pull", None)
    if pull is not None:
        row: object
        try:
            row = pull(number)
        except Exception:  # a cache that cannot be read never blocks: ask Gitea
            row = None
        slug: str = str(getattr(row, "slug", None) or "")
        if slug:
            return slug, str(getattr(row, "state", None) or "open")
    if bot.offline is not None:
        raise ValidationError({"pr_number": f"PR #{number} is not in the cache and Gitea "
                               f"cannot be reached to check it: {bot.offline}"})
    try:
        pr = await bot.client.get_pull(bot.owner, bot.repo, number)
    except Exception as exc:
        if status_of(exc) == 404:
            raise ValidationError({"pr_number": f"no pull request #{number}"}) from None
        raise ValidationError({"pr_number": f"PR #{number} is not in the cache and could "
                               f"not be checked: {error_text(exc)}"}) from None
    head = str((pr.get("head") or {}).get("ref") or "")
    parsed = entry_mod.parse_head_branch(head)
    if parsed is None:
        raise ValidationError({"pr_number": f"PR #{number} is not an RFC pull request"})
    state = "merged" if pr.get("merged") else str(pr.get("state") or "open")
    return parsed[1], state


async def comment(bot: Bot, actor: Actor, pr_number: object, text: str) -> ActionResult:
    """Post `text` on PR `pr_number` for `actor`: checks, the log row, then one POST."""
    number = check_comment(pr_number, text)
    slug, state = await _pr_slug(bot, number)
    warnings = [] if state == "open" else [f"PR #{number} is {state}"]
    who = {"login": actor.login, "full_name": actor.full_name} if actor.login else None
    payload = {"pr_number": number, "body": text, "nonce": secrets.token_hex(8), "actor": who}
    # §6.4: the row exists before the request.
    action_id = bot.actions.add(COMMENT_KIND, slug, actor.login, payload)
    if bot.offline is not None:
        bot._fail_offline(action_id, actor)
    return await execute(bot, action_id, actor, payload, look_first=False, warnings=warnings,
                         slug=slug)


async def execute(
    bot: Bot,
    action_id: int,
    actor: Actor,
    payload: Mapping[str, Any],
    *,
    look_first: bool = True,
    warnings: Sequence[str] = (),
    slug: str | None = None,
) -> ActionResult:
    """Post the stored comment; with `look_first` (a retry) reuse one already posted."""
    try:
        number = check_comment(payload.get("pr_number"), str(payload.get("body") or ""))
        nonce = str(payload.get("nonce") or "")
        if not re.fullmatch(r"[0-9a-f]{16}", nonce):
            raise ValidationError({"nonce": "the stored action is damaged (no marker)"})
        body = comment_body(str(payload["body"]), nonce, actor)
        posted: Mapping[str, Any] | None = None
        if look_first:
            for c in await bot.client.list_issue_comments(bot.owner, bot.repo, number):
                login = str((c.get("user") or {}).get("login") or "")
                if same_login(login, bot.bot_login) and c.get("body") == body:
                    posted = c
                    break
        reused = posted is not None
        if posted is None:
            posted = await bot.client.create_issue_comment(bot.owner, bot.repo, number, body)
    except ValidationError as exc:
        bot.actions.mark_failed(action_id, error_text(exc))
        raise ActionFailed(str(exc), action_id) from None
    except Exception as exc:  # GiteaError, transport errors
        msg = error_text(exc)
        bot.actions.mark_failed(action_id, msg)
        raise ActionFailed(msg, action_id, offline=is_unreachable(exc)) from None
    url = str(posted.get("html_url") or "")
    bot.actions.mark_done(action_id, number, url)
    refresh_error = None
    if bot.refresh is not None:  # the PR's update time moved (§4.1)
        try:
            await bot.refresh(slug, number)
        except Exception as exc:  # the comment exists; a failed refresh is not a failure
            refresh_error = error_text(exc)
    return ActionResult(
        action_id=action_id,
        pr_number=number,
        html_url=url,
        branch="",
        reused_pr=reused,
        warnings=tuple(warnings),
        refresh_error=refresh_error,
        note=f"already posted on PR #{number}" if reused else f"commented on PR #{number}",
    )


# ---------------------------------------------------------------- reading the thread


@dataclass(frozen=True, slots=True)
class ThreadComment:
    """One comment as shown: `author` is the real person (§6.3 rules for comments).

    `status` is ``posted`` for a comment Gitea has, ``pending`` or ``failed`` for one of
    this user's actions not (yet) posted; `action_id` names that action.
    """

    author: str
    text: str
    created_at: datetime | None
    status: str = "posted"
    via_bot: bool = False
    url: str = ""
    action_id: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CommentThread:
    """A PR's thread as `rfctui.session.Session.comments` returns it: never an exception,
    `error` is one line when Gitea could not be read (then only unsent comments)."""

    pr_number: int
    comments: tuple[ThreadComment, ...] = ()
    error: str | None = None
    offline: bool = False


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _strip_ours(body: str) -> str:
    """The person's text of a comment the bot wrote: no trailer block, no marker."""
    lines = body.replace("\r\n", "\n").rstrip().split("\n")
    start = len(lines)
    while start > 0 and lines[start - 1].strip():
        start -= 1
    text = "\n".join(lines[:start]).rstrip()
    return _MARKER_RE.sub("", text).rstrip().replace("&lt;", "<")  # as they typed it


def thread(comments: Iterable[Mapping[str, Any]], bot_login: str) -> list[ThreadComment]:
    """Gitea's comments, each attributed to the real person.

    A comment by the bot whose final trailer block names someone is that person's (and
    shown without the block); a trailer in anyone else's comment is not trusted.
    """
    out: list[ThreadComment] = []
    for c in comments:
        body = str(c.get("body") or "")
        login = str((c.get("user") or {}).get("login") or c.get("original_author") or "?")
        via_bot = False
        if same_login(login, bot_login):
            who = trailer.on_behalf_of(body)
            if who:
                login, via_bot, body = who, True, _strip_ours(body)
        out.append(ThreadComment(author=login, text=body,
                                 created_at=_parse_time(c.get("created_at")),
                                 via_bot=via_bot, url=str(c.get("html_url") or "")))
    return out


def pending_comments(rows: Iterable[object], pr_number: int) -> list[ThreadComment]:
    """This user's pending or failed comment actions on PR `pr_number` (actions log rows)."""
    out: list[ThreadComment] = []
    for row in rows:
        if getattr(row, "kind", None) != COMMENT_KIND:
            continue
        status = str(getattr(row, "status", ""))
        payload = getattr(row, "payload", None) or {}
        if status not in ("pending", "failed") or payload.get("pr_number") != pr_number:
            continue
        out.append(ThreadComment(
            author=str(getattr(row, "on_behalf_of", "") or "you"),
            text=str(payload.get("body") or ""),
            created_at=getattr(row, "created_at", None),
            status=status,
            via_bot=True,
            action_id=getattr(row, "id", None),
            error=getattr(row, "error", None),
        ))
    return out
