"""The bot's reads of its head branches and their PRs (SPEC §5, §6.3; API-NOTES §3).

Each step of an action first asks what already exists — the branch, its file, the open
PR for the head and whom it was opened for — so a retry reuses an earlier attempt and a
PR is never shared between two people. `BranchReads` is the half of `Bot` that does
that; it writes nothing but the deletion of a leftover branch nobody's PR uses.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from rfctui import trailer
from rfctui.bot.checks import BASE, RowSource
from rfctui.bot.describe import Plan, intended, must_exist
from rfctui.bot.errors import ActionFailed, status_of
from rfctui.bot.identity import Actor
from rfctui.logins import same_login

if TYPE_CHECKING:
    from rfctui.gitea import GiteaClient

__all__ = ["ActionsLogLike", "BranchReads", "Pull"]

# A pull request as Gitea's JSON has it (API-NOTES §3).
Pull = dict[str, Any]


class ActionsLogLike(Protocol):
    """The parts of `db.ActionsLog` the bot needs (§6.4).

    `mark_pending`, `set_actor` and `find_pr_actor` are used when present, and
    `discard` is needed only by `Bot.discard` (a test's log may keep less).
    """

    def add(self, kind: str, slug: str, on_behalf_of: str, payload: dict[str, Any]) -> int: ...

    def mark_failed(self, action_id: int, error: str) -> None: ...

    def mark_done(self, action_id: int, pr_number: int, pr_url: str | None = None) -> None: ...

    def get(self, action_id: int) -> object | None: ...

    def discard(self, action_id: int) -> None: ...


class BranchReads:
    """What `Bot` knows of a head branch, its file and its PRs (mixin: `Bot` sets these)."""

    client: GiteaClient
    owner: str
    repo: str
    bot_login: str
    actions: ActionsLogLike
    _existing: RowSource | None

    async def _conflicting_pull(self, exc: BaseException, head: str) -> Pull | None:
        """The open PR a 409 on create was about: by its `issue_id`, else by listing."""
        m = re.search(r"issue_id: (\d+)", str(getattr(exc, "message", "") or exc))
        if m:
            try:
                pr = await self.client.get_pull(self.owner, self.repo, int(m.group(1)))
            except Exception as err:
                if status_of(err) != 404:
                    raise
            else:
                if isinstance(pr, dict) and is_open(pr):
                    return pr
        return (await self._open_pull_for(head))[0]

    async def _read(self, path: str, ref: str) -> str | None:
        """The file's text at `ref`, or None if absent."""
        return (await self._read_sha(path, ref))[0]

    async def _read_sha(self, path: str, ref: str) -> tuple[str | None, str | None]:
        """The file's text and blob sha at `ref`; (None, None) if absent."""
        try:
            data = await self.client.get_contents(self.owner, self.repo, path, ref=ref)
        except Exception as exc:
            if status_of(exc) == 404:
                return None, None
            raise
        if not isinstance(data, dict) or data.get("type", "file") != "file":
            raise ActionFailed(f"{path} on {ref} is not a file")
        raw = base64.b64decode(data.get("content") or "")
        try:
            return raw.decode("utf-8"), data.get("sha")
        except UnicodeDecodeError:
            raise ActionFailed(f"{path} on {ref} is not UTF-8 text") from None

    async def _pull_for(self, head: str) -> Pull | None:
        try:
            pr = await self.client.get_pull_by_head(self.owner, self.repo, BASE, head)
        except Exception as exc:
            if status_of(exc) == 404:
                return None
            raise
        return pr if isinstance(pr, dict) else None

    async def _branch_tip(self, name: str) -> str | None:
        """The branch's head commit sha, or None when there is no such branch."""
        try:
            data = await self.client.get_branch(self.owner, self.repo, name)
        except Exception as exc:
            if status_of(exc) == 404:
                return None
            raise
        commit = data.get("commit") if isinstance(data, Mapping) else None
        return str((commit or {}).get("id") or "") or None

    async def _open_pull_for(
        self, head: str
    ) -> tuple[Pull | None, Pull | None]:
        """(the OPEN PR for `head` into main, some PR for `head` in any state).

        `pulls/{base}/{head}` returns *one* PR of any state, and which one is undefined
        when several share the head (API-NOTES §3.7): an open answer is the open PR
        (Gitea allows only one per head and base), anything else is confirmed by
        listing the open PRs.
        """
        any_pr = await self._pull_for(head)
        if any_pr is None:
            return None, None
        if is_open(any_pr):
            return any_pr, any_pr
        async for pr in self.client.iter_pulls(self.owner, self.repo, state="open"):
            ref = (pr.get("head") or {}).get("ref")
            base = (pr.get("base") or {}).get("ref")
            if ref == head and base in (None, BASE) and is_open(pr):
                return pr, any_pr
        return None, any_pr

    def _pr_owner(self, slug: str, pr: Mapping[str, Any]) -> str:
        """Whom an open PR was opened for, in §6.3's order: a Gitea author other than
        the bot; else our actions log; else the final trailer block; else the bot."""
        user = pr_login(pr)
        if user and not same_login(user, self.bot_login):
            return user
        find = getattr(self.actions, "find_pr_actor", None)
        if find is not None and pr.get("number") is not None:
            who = find(slug, int(pr["number"]))
            if who:
                return str(who)
        return trailer.on_behalf_of(str(pr.get("body") or "")) or self.bot_login

    async def _single_branch(
        self,
        plan: Plan,
        actor: Actor,
        main_text: str | None,
        tip: str | None,
        pulls: tuple[Pull | None, Pull | None] | None = None,
    ) -> tuple[Pull | None, bool]:
        """`propose/claim/metadata/<slug>`: one branch per slug (§5).

        An open PR on it opened for someone else is theirs: refuse rather than pile a
        second person's change onto it. A branch is deleted (and the action starts
        again from main) only when no PR is open on it AND its tip is exactly the head
        of its closed or merged PR — never on the strength of a lookup that may have
        returned an older PR while a newer one is open. A PR-less branch (an
        interrupted attempt, maybe someone else's) is built on only if its file is
        main's or exactly this action's; otherwise it is replaced from main.
        """
        head = plan.branch
        if tip is None:
            # No branch, no open PR: deleting a head branch closes its PRs.
            return None, False
        open_pr, any_pr = pulls if pulls is not None else await self._open_pull_for(head)
        if open_pr is not None:
            owner = self._pr_owner(plan.slug, open_pr)
            if not same_login(owner, actor.login):
                raise ActionFailed(
                    f"{head} already has open PR #{open_pr.get('number')} opened for "
                    f"{owner}; review or comment there"
                )
            return open_pr, True
        if any_pr is not None and head_sha(any_pr) == tip:  # a leftover branch
            await self.client.delete_branch(self.owner, self.repo, head)
            return None, False
        current = await self._read(f"rfcs/{plan.slug}.md", head)
        if current == main_text or current == intended(plan, main_text):
            return None, True
        # No open PR uses it, so nobody's review is lost: start again from main.
        await self.client.delete_branch(self.owner, self.repo, head)
        return None, False

    def _taken_edit_numbers(self, slug: str, actor: Actor) -> set[int]:
        """`n`s the cache already knows are not this actor's to reuse: a closed or merged
        edit PR, or an open one opened for someone else. Skipping them saves two
        requests each; anything the cache does not know is asked of Gitea."""
        src = self._existing
        pulls_for = getattr(src, "pulls_for", None)
        if pulls_for is None:
            return set()
        try:
            rows = list(pulls_for(slug))
        except Exception:
            return set()
        taken: set[int] = set()
        prefix = f"edit/{slug}/"
        for row in rows:
            branch = str(getattr(row, "head_branch", "") or "")
            if not branch.startswith(prefix) or not branch[len(prefix):].isdigit():
                continue
            if getattr(row, "state", None) != "open" or not same_login(
                getattr(row, "opened_by", None), actor.login
            ):
                taken.add(int(branch[len(prefix):]))
        return taken

    async def _edit_branch(
        self, plan: Plan, actor: Actor, path: str
    ) -> tuple[str, Pull | None, bool, str | None, str | None]:
        """Pick `edit/<slug>/<n>`: the first n a previous attempt of this edit by this
        actor left (same content; an open PR only if it is theirs, §6.3), else the next
        free n (no branch and no PR ever used it). Returns the branch, its open PR,
        whether it exists, and main's text and blob sha (read alongside the first n)."""
        taken = self._taken_edit_numbers(plan.slug, actor)
        candidates = (n for n in range(1, 1000) if n not in taken)

        async def probe(n: int) -> tuple[str | None, Pull | None]:
            head = f"edit/{plan.slug}/{n}"
            tip, pr = await asyncio.gather(self._branch_tip(head), self._pull_for(head))
            return tip, pr

        first = next(candidates)
        (main_text, main_sha), state = await asyncio.gather(
            self._read_sha(path, BASE), probe(first)
        )
        must_exist(plan, path, main_text)
        intended = plan.transform(main_text)
        n = first
        while True:
            head = f"edit/{plan.slug}/{n}"
            tip, pr = state
            if pr is None and tip is None:
                return head, None, False, main_text, main_sha
            pr_open = pr is not None and is_open(pr)
            mine = not pr_open or (
                pr is not None and same_login(self._pr_owner(plan.slug, pr), actor.login)
            )
            if tip is not None and mine and (pr is None or pr_open):
                current = await self._read(path, head)
                if current is not None and (
                    current == intended or (pr is None and current == main_text)
                ):
                    return head, pr if pr_open else None, True, main_text, main_sha
            n = next(candidates, 0)
            if not n:
                raise ActionFailed(f"too many edit branches for {plan.slug}")
            state = await probe(n)


# ---------------------------------------------------------------- a PR's JSON


def is_open(pr: Mapping[str, Any]) -> bool:
    return pr.get("state") == "open" and not pr.get("merged")


def head_sha(pr: Mapping[str, Any]) -> str | None:
    head = pr.get("head")
    return str(head.get("sha") or "") or None if isinstance(head, Mapping) else None


def pr_login(pr: Mapping[str, Any]) -> str:
    user = pr.get("user") or {}
    return str(user.get("login") or "") if isinstance(user, Mapping) else ""

