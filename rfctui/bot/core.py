"""User actions as pull requests made by the bot account (SPEC §5, §6).

Why an outbox: what a maintainer typed must survive a flaky network, a Gitea error or a
killed process, so every action writes its full payload to the actions log (§6.4)
*before* the first Gitea call and only then branches, commits and opens the PR. Each
step checks what already exists (branch, commit content, open PR for the head) so that
a retry from the stored payload converges on exactly one PR.

Why the trailer: the bot does the writes, but the commit and the PR must name the real
person (§6.2). User text is neutralised first so it cannot forge that line, and the
trailer is always the last line of both the commit message and the PR body.

Textual-free, and it never imports the reconciler: the targeted refresh after a success
(§4.1) is injected (`Refresh`), so `Session.bot()` wires the two together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rfctui import entry as entry_mod
from rfctui import trailer
from rfctui.bot.branches import ActionsLogLike, BranchReads, Pull
from rfctui.bot.checks import (
    BASE,
    RowSource,
    check_edit,
    check_metadata,
    check_propose,
    preflight,
    slug_error,
    source_rows,
    taken,
)
from rfctui.bot.comment import COMMENT_KIND
from rfctui.bot.comment import comment as post_comment
from rfctui.bot.comment import execute as execute_comment
from rfctui.bot.describe import Payload, Plan, file_op, must_exist, plan_action
from rfctui.bot.errors import (
    ActionFailed,
    NothingToChange,
    Refused,
    ValidationError,
    error_text,
    is_unreachable,
    status_of,
)
from rfctui.bot.identity import Actor
from rfctui.logins import login_key, same_login
from rfctui.results import ActionResult

if TYPE_CHECKING:
    from rfctui.gitea import GiteaClient

__all__ = ["KINDS", "Bot", "Refresh"]

# §6.4 action kinds, keyed by the §5 head-branch prefix.
KINDS: dict[str, str] = {
    "propose": "propose_rfc",
    "edit": "open_body_edit_pr",
    "claim": "open_claim_pr",
    "metadata": "open_metadata_pr",
}
# The reconciler's targeted refresh (§4.1): (slug or None, PR number); its result unused.
Refresh = Callable[[str | None, int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class _Fresh:
    """One fresh read of a single branch just before the log row: its tip and, when it
    exists, (its open PR, some PR for it) as `_open_pull_for` answers."""

    tip: str | None
    pulls: tuple[Pull | None, Pull | None] = (None, None)


class Bot(BranchReads):
    """The bot client (§6.1): the only writer to Gitea. It never writes cached rows.

    `client` is a `GiteaClient` with the *bot* token. `existing` is a synced cache
    (`checks.CacheReads`, e.g. `db.Cache`), a callable returning its rows, or rows
    (objects with `slug`, `title`, `kind`, `owners`), for validation before sending.
    `refresh(slug, pr_number)` is the reconciler's targeted refresh (§4.1), awaited
    after success; it is injected so the bot never imports the reconciler.
    """

    def __init__(
        self,
        client: GiteaClient,
        owner: str,
        repo: str,
        bot_login: str,
        actions: ActionsLogLike,
        refresh: Refresh | None = None,
        *,
        existing: RowSource | None = None,
        bot_name: str | None = None,
        clock: Callable[[], datetime] | None = None,
        host: str | None = None,
        users: dict[str, bool] | None = None,
    ) -> None:
        self.client = client
        self.owner = owner
        self.repo = repo
        self.bot_login = bot_login
        self.bot_name = bot_name or bot_login
        self.actions = actions
        self.refresh = refresh
        self._existing = existing
        self.clock = clock or (lambda: datetime.now(UTC))
        self.host = host or self._client_host()
        # Set by `Session.bot()` when Gitea could not be reached to verify the actor:
        # actions are then saved (§6.4) and failed at once, for a retry later.
        self.offline: str | None = None
        # login_key -> does Gitea have that user (one GET /users/{login} per login;
        # a caller may share one dict across the bots it makes).
        self.users: dict[str, bool] = users if users is not None else {}

    def __repr__(self) -> str:  # never a token, never the client's repr
        return f"Bot({self.owner}/{self.repo} as {self.bot_login})"

    def _client_host(self) -> str:
        return urlsplit(str(self.client.base_url or "")).hostname or "localhost"

    def _rows(self) -> list[object]:
        return source_rows(self._existing)

    def _noreply(self, login: str) -> str:
        return f"{login}@users.noreply.{self.host}"

    # ------------------------------------------------------------ public actions

    def check_propose(
        self, slug: str, title: str, tags: Sequence[str] = (), arbiters: Sequence[str] = ()
    ) -> list[str]:
        """Validate against the cache without sending anything; return warnings."""
        return check_propose(slug, title, tags, arbiters, self._rows())

    def _check_known(self, slug: str) -> object | None:
        """The cache's row for an entry, if it has one.

        A synced cache (`existing` given) that has neither the entry nor a pending idea
        for it refuses before anything is saved or sent: such an action could never
        succeed, so it must not become a failed action offering a retry. With no synced
        cache, Gitea decides (§4.0) and a missing file is not offered for retry.
        """
        rows = self._rows()
        pending = False
        for row in rows:
            if getattr(row, "slug", None) != slug or getattr(row, "removed", False):
                continue
            if getattr(row, "kind", "rfc") == "pending":
                pending = True
            else:
                return row
        if rows and not pending:
            raise ValidationError(
                {"slug": f"no entry {slug!r} in the cache (run rfctui --sync if it is new)"}
            )
        return None

    async def propose(
        self,
        actor: Actor,
        slug: str,
        title: str,
        body: str = "",
        tags: Sequence[str] = (),
        arbiters: Sequence[str] = (),
    ) -> ActionResult:
        """Open `propose/<slug>` adding `rfcs/<slug>.md` in state `idea` (§5)."""
        tags, arbiters = list(tags), list(arbiters)
        warnings = self.check_propose(slug, title, tags, arbiters)
        payload = {
            "slug": slug,
            "title": title.strip(),
            "body": body,
            "tags": tags,
            "arbiters": arbiters,
            "proposed_at": entry_mod.format_datetime(self.clock().replace(microsecond=0)),
        }
        return await self._start("propose", actor, slug, payload, warnings, logins=arbiters)

    async def edit_body(self, actor: Actor, slug: str, body: str) -> ActionResult:
        """Open `edit/<slug>/<n>` replacing only the body (§5)."""
        check_edit(slug, body)
        self._check_known(slug)
        self._preflight(actor, {"action": "edit", "slug": slug})
        return await self._start("edit", actor, slug, {"slug": slug, "body": body}, [])

    async def claim(self, actor: Actor, slug: str) -> ActionResult:
        """Open `claim/<slug>` adding the actor to `owners` (§5)."""
        if msg := slug_error(slug):
            raise ValidationError({"slug": msg})
        self._check_known(slug)
        self._preflight(actor, {"action": "claim", "slug": slug})
        return await self._start("claim", actor, slug, {"slug": slug}, [])

    async def edit_metadata(
        self, actor: Actor, slug: str, changes: Mapping[str, object]
    ) -> ActionResult:
        """Open `metadata/<slug>` changing front matter only, unknown keys kept (§2, §5).

        While the actor's own metadata PR for `slug` is open, the change is added to it
        and its description rewritten to list every change (`ActionResult.stacked`).
        """
        clean = check_metadata(slug, changes)
        self._check_known(slug)
        self._preflight(actor, {"action": "metadata", "slug": slug})
        logins = [str(v) for k in ("owners", "arbiters")
                  for v in _as_list(clean.get(k))]
        return await self._start("metadata", actor, slug, {"slug": slug, "changes": clean}, [],
                                 logins=logins)

    def _preflight(self, actor: Actor, request: Mapping[str, object]) -> None:
        """`preflight` against the synced cache: raise `Refused` before anything is
        saved or sent. Without a verified login (offline, never verified) whose PR is
        whose cannot be told, so only a verified or remembered actor is checked."""
        if self._existing is None or not actor.login:
            return
        try:
            reason = preflight(actor, request, self._existing)
        except Exception:  # a cache that cannot be read never blocks an action
            return
        if reason:
            raise Refused(reason)

    async def _fresh(self, prefix: str, actor: Actor, slug: str) -> _Fresh | None:
        """ONE fresh read of `claim|metadata/<slug>` just before the log row (the cache
        may be a minute old): someone else's PR opened on it meanwhile is `Refused`.

        No branch means no open PR (deleting a head branch closes its PRs), so a fresh
        action costs only the branch lookup `_run` needs anyway. Any error here (Gitea
        down, a refused token) is left to the action itself, which then fails and is
        kept for a retry: a read must never lose what was typed.
        """
        if prefix not in ("claim", "metadata") or self.offline is not None:
            return None
        head = f"{prefix}/{slug}"
        try:
            tip = await self._branch_tip(head)
            if tip is None:
                return _Fresh(None)
            pulls = await self._open_pull_for(head)
        except Exception:
            return None
        open_pr = pulls[0]
        if open_pr is not None:
            owner = self._pr_owner(slug, open_pr)
            if not same_login(owner, actor.login):
                raise Refused(taken(head, open_pr.get("number"), owner))
        return _Fresh(tip, pulls)

    async def _user_warnings(self, logins: Iterable[str], actor: Actor) -> list[str]:
        """"no Gitea user 'xyz'" for each typed login Gitea does not know (a 404).

        One `GET /users/{login}` per login, remembered in `self.users`; logins the cache
        already names (owners, arbiters, proposers), the actor and the bot are not asked.
        Advisory: an error asks again next time and warns of nothing.
        """
        wanted: dict[str, str] = {}
        for login in logins:
            key = login_key(login)
            if key and key not in wanted and key not in (
                login_key(actor.login), login_key(self.bot_login)
            ):
                wanted[key] = login
        if not wanted:
            return []
        todo = [k for k in wanted if k not in self.users]
        if todo:
            try:
                known = {login_key(x) for r in self._rows() for x in (
                    *tuple(getattr(r, "owners", ()) or ()),
                    *tuple(getattr(r, "arbiters", ()) or ()),
                    getattr(r, "proposed_by", None) or "",
                )}
            except Exception:
                known = set()
            todo = [k for k in todo if k not in known]

        async def ask(key: str) -> None:
            try:
                await self.client.get_user(wanted[key])
            except Exception as exc:
                if status_of(exc) == 404:
                    self.users[key] = False
                return
            self.users[key] = True

        if todo:
            await asyncio.gather(*(ask(k) for k in todo))
        return [f"no Gitea user {wanted[k]!r}" for k in wanted if self.users.get(k) is False]

    async def retry(self, action_id: int, actor: Actor | None = None) -> ActionResult:
        """Re-run a pending or failed action from its stored payload (§6.4), idempotently."""
        row = self.actions.get(action_id)
        if row is None:
            raise ActionFailed(f"no action #{action_id} in the log")
        status = _field(row, "status")
        if status == "done":
            number = _field(row, "pr_number")
            raise ActionFailed(f"action #{action_id} is already done (PR #{number})")
        payload = dict(_field(row, "payload") or {})
        who = payload.get("actor") or {}
        if status == "discarded":
            raise ActionFailed(f"action #{action_id} was discarded")
        stored = Actor(str(who.get("login") or _field(row, "on_behalf_of") or ""),
                       str(who.get("full_name") or _field(row, "on_behalf_of") or ""))
        if not stored.login:  # saved while nobody could be verified (Gitea unreachable)
            if actor is None or not actor.login or self.offline is not None:
                if self.offline is not None:
                    self._fail_offline(action_id, stored)
                raise ActionFailed(f"action #{action_id} needs who you are verified first")
            stored = actor
            payload["actor"] = {"login": actor.login, "full_name": actor.full_name}
            if hasattr(self.actions, "set_actor"):  # the log names them too (§6.3, §6.4)
                self.actions.set_actor(action_id, actor.login, actor.full_name)
        elif actor is not None and not same_login(actor.login, stored.login):
            raise ActionFailed(
                f"action #{action_id} was made on behalf of {stored.login}; "
                f"only they can retry it"
            )
        kind = str(_field(row, "kind"))
        prefix = "comment" if kind == COMMENT_KIND else (
            {v: k for k, v in KINDS.items()}.get(kind))
        if prefix is None:
            raise ActionFailed(f"action #{action_id} has an unknown kind {_field(row, 'kind')!r}")
        if self.offline is not None:
            self._fail_offline(action_id, stored)
        if hasattr(self.actions, "mark_pending"):
            self.actions.mark_pending(action_id)
        if prefix == "comment":  # issue 12 §3: rfctui.bot.comment
            return await execute_comment(self, action_id, stored, payload,
                                         slug=str(_field(row, "slug") or "") or None)
        return await self._execute(action_id, prefix, stored, payload, [])

    async def perform(self, actor: Actor, request: Mapping[str, Any]) -> ActionResult:
        """Run a form's request (``{"action": "propose" | "edit" | "claim" | "metadata" |
        "comment", ...}``), so the UI and the CLI share one dispatch."""
        action = request.get("action")
        slug = str(request.get("slug", ""))
        if action == "propose":
            return await self.propose(
                actor, slug, str(request.get("title", "")), str(request.get("body", "")),
                tuple(request.get("tags") or ()), tuple(request.get("arbiters") or ()),
            )
        if action == "edit":
            return await self.edit_body(actor, slug, str(request.get("body", "")))
        if action == "claim":
            return await self.claim(actor, slug)
        if action == "metadata":
            return await self.edit_metadata(actor, slug, dict(request.get("changes") or {}))
        if action == "comment":
            return await post_comment(self, actor, request.get("pr_number"),
                                      str(request.get("body", "")))
        raise ValidationError({"action": f"unknown action {action!r}"})

    def discard(self, action_id: int) -> None:
        """Forget a pending/failed action (the UI asks for confirmation first)."""
        self.actions.discard(action_id)

    # ------------------------------------------------------------ the pipeline

    async def _start(
        self,
        prefix: str,
        actor: Actor,
        slug: str,
        payload: Payload,
        warnings: list[str],
        *,
        logins: Iterable[str] = (),
    ) -> ActionResult:
        who = {"login": actor.login, "full_name": actor.full_name} if actor.login else None
        payload = {**payload, "actor": who}
        fresh: _Fresh | None = None
        if self.offline is None:
            # Reads only, before the row: a conflict found now is refused like the
            # cache's (nothing left to retry); see `_fresh` for why nothing is lost.
            fresh, more = await asyncio.gather(
                self._fresh(prefix, actor, slug), self._user_warnings(logins, actor)
            )
            warnings = [*warnings, *more]
        # §6.4: the row exists before the first write (and any step of the action).
        action_id = self.actions.add(KINDS[prefix], slug, actor.login, payload)
        if self.offline is not None:
            self._fail_offline(action_id, actor)
        return await self._execute(action_id, prefix, actor, payload, warnings, fresh)

    def _fail_offline(self, action_id: int, actor: Actor) -> None:
        """Gitea is unreachable: keep the action as failed, to retry later (§6.4)."""
        note = "" if actor.login else "; who you are is verified when you retry"
        message = f"Gitea unreachable: {self.offline}{note}"
        self.actions.mark_failed(action_id, message)
        raise ActionFailed(message, action_id, offline=True)

    async def _execute(
        self,
        action_id: int,
        prefix: str,
        actor: Actor,
        payload: Payload,
        warnings: list[str],
        fresh: _Fresh | None = None,
    ) -> ActionResult:
        try:
            plan = plan_action(prefix, actor, payload)
            number, url, reused, stacked = await self._run(plan, actor, fresh)
        except ValidationError as exc:
            self.actions.mark_failed(action_id, error_text(exc))
            raise ActionFailed(str(exc), action_id) from None
        except NothingToChange as exc:
            # Kept for audit, but not offered for retry: there is nothing to do.
            self.actions.mark_failed(action_id, str(exc))
            if hasattr(self.actions, "discard"):
                self.actions.discard(action_id)
            raise
        except ActionFailed as exc:
            self.actions.mark_failed(action_id, str(exc))
            exc.action_id = action_id
            raise
        except Exception as exc:  # GiteaError, transport errors, a malformed entry
            msg = error_text(exc)
            self.actions.mark_failed(action_id, msg)
            raise ActionFailed(msg, action_id, offline=is_unreachable(exc)) from None
        self.actions.mark_done(action_id, number, url)
        refresh_error = None
        if self.refresh is not None:
            try:
                # a proposal's file is only on its branch: refresh just the PR
                await self.refresh(None if plan.kind == "propose" else plan.slug, number)
            except Exception as exc:  # the PR exists; a failed refresh is not a failed action
                refresh_error = error_text(exc)
        return ActionResult(
            action_id=action_id,
            pr_number=number,
            html_url=url,
            branch=plan.branch,
            reused_pr=reused,
            warnings=tuple(warnings),
            refresh_error=refresh_error,
            stacked=stacked,
            note=(f"added to your open PR #{number}" if stacked
                  else f"already in your open PR #{number}" if reused else ""),
        )


    async def _run(
        self, plan: Plan, actor: Actor, fresh: _Fresh | None = None
    ) -> tuple[int, str, bool, bool]:
        """Branch+commit → PR, each step reusing what an earlier attempt left.

        Independent reads run together (main's file and the head's state), and a new
        branch is created by the commit itself (`new_branch`), so a fresh action costs
        two reads, one commit and one PR. `fresh` is `_start`'s read of the head, not
        asked again. Returns (number, url, reused, stacked): stacked when this action
        added to the actor's PR already open (a commit, or its description rewritten).
        """
        c, o, r = self.client, self.owner, self.repo
        path = f"rfcs/{plan.slug}.md"
        if plan.kind == "edit":
            plan.branch, open_pr, branch_exists, main_text, main_sha = (
                await self._edit_branch(plan, actor, path)
            )
        else:
            plan.branch = f"{plan.kind}/{plan.slug}"
            if fresh is not None:
                (main_text, main_sha), tip = await self._read_sha(path, BASE), fresh.tip
            else:
                (main_text, main_sha), tip = await asyncio.gather(
                    self._read_sha(path, BASE), self._branch_tip(plan.branch)
                )
            must_exist(plan, path, main_text)
            open_pr, branch_exists = await self._single_branch(
                plan, actor, main_text, tip, fresh.pulls if fresh is not None else None
            )
        head = plan.branch
        message = trailer.compose(f"{plan.subject}\n\n{plan.commit_body}",
                                  actor.display_name, actor.login)
        author = {"name": actor.display_name, "email": self._noreply(actor.login)}
        committer = {"name": self.bot_name, "email": self._noreply(self.bot_login)}
        committed = False
        # 1. a new branch and its commit in one request
        if not branch_exists:
            intended = plan.transform(main_text)
            if intended == main_text:
                if plan.kind == "claim":
                    raise NothingToChange(f"{actor.login} already owns {plan.slug}")
                raise NothingToChange(f"nothing to change: {path} on {BASE} already says that")
            try:
                await c.change_files(o, r, [file_op(path, intended, main_text, main_sha)],
                                     message, branch=BASE, new_branch=head,
                                     author=author, committer=committer)
            except Exception as exc:
                # 422 "branch already exists": another attempt made it meanwhile
                if status_of(exc) != 422 or "already exists" not in str(exc):
                    raise
                branch_exists = True
        # 2. an existing branch: commit only if it lacks the intended content
        if branch_exists:
            current, sha = await self._read_sha(path, head)
            base_text = current if current is not None else main_text
            intended = plan.transform(base_text)
            if current != intended:
                await c.change_files(o, r, [file_op(path, intended, current, sha)],
                                     message, branch=head, author=author,
                                     committer=committer)
                committed = True
        # 3. the PR (an open one for this head is reused, never duplicated) and what it
        # says: every change on the branch, this one included (issue 9)
        if open_pr is not None:
            redone = await self._redescribe(plan, actor, open_pr, main_text, intended)
            return (int(open_pr["number"]), str(open_pr.get("html_url") or ""), True,
                    committed or redone)
        title, pr_body = plan.pr_title, plan.pr_body
        if plan.describe is not None:
            title, pr_body = plan.describe(main_text, intended)
        body = trailer.compose(trailer.defuse_html(pr_body), actor.display_name, actor.login)
        try:
            pr = await c.create_pull(o, r, head=head, base=BASE, title=title, body=body)
            return int(pr["number"]), str(pr.get("html_url") or ""), False, False
        except Exception as exc:
            if status_of(exc) != 409:
                raise
            # 409 names the open PR for this head (API-NOTES §3.3): reuse it if it is
            # this actor's, never someone else's.
            theirs = await self._conflicting_pull(exc, head)
            if theirs is None:
                raise
            owner = self._pr_owner(plan.slug, theirs)
            if not same_login(owner, actor.login):
                raise ActionFailed(
                    f"{head} already has open PR #{theirs.get('number')} opened for "
                    f"{owner}; review or comment there"
                ) from None
            redone = await self._redescribe(plan, actor, theirs, main_text, intended)
            return (int(theirs["number"]), str(theirs.get("html_url") or ""), True,
                    committed or redone)

    async def _redescribe(
        self, plan: Plan, actor: Actor, pr: Mapping[str, Any], main_text: str | None,
        branch_text: str,
    ) -> bool:
        """Rewrite an open PR's description (and a title the bot wrote) to list every
        change on its branch compared with main, trailer block last (§6.2); True if a
        PATCH was sent. A title a person changed in Gitea is kept."""
        if plan.describe is None:
            return False
        title, text = plan.describe(main_text, branch_text)
        fields: dict[str, str] = {}
        body = trailer.compose(trailer.defuse_html(text), actor.display_name, actor.login)
        if body != str(pr.get("body") or ""):
            fields["body"] = body
        current = str(pr.get("title") or "")
        if title != current and plan.title_stem and current.startswith(plan.title_stem):
            fields["title"] = title
        if not fields:
            return False
        await self.client.edit_pull(self.owner, self.repo, int(pr["number"]), **fields)
        return True


# ---------------------------------------------------------------- helpers


def _field(row: object, name: str) -> Any:  # a log row's JSON payload is Any
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
