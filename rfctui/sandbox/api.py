"""Routing and handlers: Gitea REST API v1 behaviour on plain request/response data.

Both the HTTP server and the httpx transport call ``handle``; nothing here knows about
sockets. Behaviour follows shared/gitea/API-NOTES.md (cited as "notes §n") where the
swagger document is vague or wrong.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import io
import json
import posixpath
import re
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import rfctui.sandbox.body as forms
from rfctui.sandbox.git import (
    HEX40,
    Commit,
    GitError,
    MergeConflict,
    Signature,
    TreeEntry,
    merge_files,
)
from rfctui.sandbox.state import CommentState, PullState

if TYPE_CHECKING:
    from rfctui.sandbox.core import Sandbox
    from rfctui.sandbox.state import SandboxUser

JSON_TYPE = "application/json;charset=utf-8"
CACHE_CONTROL = "max-age=0, private, must-revalidate"
ZERO_TIME = "0001-01-01T00:00:00Z"
DEFAULT_PAGE = 30
MAX_PAGE = 50
COMMITS_RANGE = 50
TREES_PER_PAGE = 1000
MAX_BLOB = 10 * 1024 * 1024
FILE_CONTENTS_MAX = 30
NOT_SIGNED = {
    "verified": False,
    "reason": "gpg.error.not_signed_commit",
    "signature": "",
    "signer": None,
    "payload": "",
}


@dataclass
class Request:
    """A transport-neutral HTTP request. ``path`` is the raw (percent-encoded) path."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    base_url: str = "http://127.0.0.1"

    @classmethod
    def from_target(
        cls,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        base_url: str,
    ) -> Request:
        path, _, qs = target.partition("?")
        return cls(
            method.upper(),
            path,
            parse_qsl(qs, keep_blank_values=True),
            {k.lower(): v for k, v in headers.items()},
            body,
            base_url.rstrip("/"),
        )

    def arg(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return default

    def args(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


class ApiError(Exception):
    """Becomes a Gitea error body ``{"message","url"}`` (or an empty body)."""

    def __init__(self, status: int, message: str | None = "", *, with_url: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.with_url = with_url


def not_found(message: str = "not found") -> ApiError:
    return ApiError(404, message)


# -- helpers -----------------------------------------------------------------------------
def fmt_time(unix: int | None) -> str | None:
    if unix is None:
        return None
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_bool(value: str | None, default: bool) -> bool:
    """``strconv.ParseBool`` semantics; unparsable means the default."""
    if value is None:
        return default
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    return default


def go_int(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def esc(path: str) -> str:
    return quote(path, safe="/")


def list_options(req: Request) -> tuple[int, int]:
    """``(page, limit)`` per notes §0: 1-based, default 30, silently clamped to 50."""
    page = max(1, go_int(req.arg("page")))
    limit = go_int(req.arg("limit"))
    if limit <= 0:
        limit = DEFAULT_PAGE
    return page, min(limit, MAX_PAGE)


def link_header(req: Request, total: int, page_size: int, page: int) -> str | None:
    """Gitea ``genAPILinks`` (notes §0): next, last, first, prev; bare "," separator."""
    page_size = max(page_size, 1)
    total_pages = 1 if total == 0 else -(-total // page_size)
    current = min(max(page, 1), total_pages)
    has_next = total > current * page_size
    is_last = True if total == 0 else (total > (current - 1) * page_size and not has_next)

    def url(p: int) -> str:
        pairs: dict[str, list[str]] = {}
        for k, v in req.query:
            pairs.setdefault(k, []).append(v)
        pairs["page"] = [str(p)]
        query = urlencode([(k, v) for k in sorted(pairs) for v in pairs[k]])
        return f"<{req.base_url}{req.path}?{query}>"

    links = []
    if has_next:
        links.append(f'{url(current + 1)}; rel="next"')
    if not is_last:
        links.append(f'{url(total_pages)}; rel="last"')
    if current != 1:
        links.append(f'{url(1)}; rel="first"')
    if current > 1:
        links.append(f'{url(current - 1)}; rel="prev"')
    return ",".join(links) or None


def list_headers(req: Request, total: int, page_size: int, page: int) -> list[tuple[str, str]]:
    """``X-Total-Count`` and, when there is more than one page, ``Link`` (notes §0)."""
    headers = [("X-Total-Count", str(total))]
    link = link_header(req, total, page_size, page)
    if link:
        headers.append(("Link", link))
    return headers


def json_body(req: Request, spec: forms.Struct) -> dict[str, Any]:
    """The body as Gitea's binding would see it (``forms.read_json``): only ``spec``'s
    fields, each of its Go type; anything else is the binding's 422."""
    try:
        return forms.read_json(req.body, spec)
    except forms.BodyError as exc:
        raise ApiError(exc.status, exc.message) from None


def str_field(data: dict[str, Any], name: str, go_name: str, required: bool = False) -> str:
    """A string field of a body read by ``json_body`` (so already a str or absent)."""
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):  # a spec in body.py disagrees with its handler
        raise ApiError(422, f"[{go_name}]: cannot unmarshal {type(value).__name__} into string")
    if required and not value:
        raise ApiError(422, f"[{go_name}]: Required")
    return value


def clean_path(path: str) -> str:
    """Gitea ``CleanGitTreePath``: normalise, and refuse any ``.git`` component."""
    cleaned = posixpath.normpath("/" + path).lstrip("/")
    if cleaned == ".":
        cleaned = ""
    for part in cleaned.split("/"):
        if part.lower() == ".git":
            raise ApiError(400, f"path contains a malformed path component [path: {path}]")
    return cleaned


# -- the context of one request ----------------------------------------------------------
class Ctx:
    def __init__(self, sb: Sandbox, req: Request, doer: SandboxUser | None) -> None:
        self.sb = sb
        self.req = req
        self.doer = doer
        self.base = req.base_url
        self.html = f"{self.base}/{sb.org}/{sb.repo}"
        self.api = f"{self.base}/api/v1/repos/{sb.org}/{sb.repo}"
        self.git = sb.git
        self._repo: dict[str, Any] | None = None

    # permissions
    def can_read(self) -> bool:
        return self.doer is not None and self.doer.can_read()

    def can_write(self) -> bool:
        return self.doer is not None and self.doer.can_write()

    def require_token(self) -> SandboxUser:
        if self.doer is None:
            raise ApiError(401, "token is required")
        return self.doer

    def require_write(
        self, message: str = "user should have a permission to write to a repo"
    ) -> SandboxUser:
        doer = self.require_token()
        if not doer.can_write():
            raise ApiError(403, message)
        return doer

    # -- JSON shapes ------------------------------------------------------------------------
    def user_json(
        self, user: SandboxUser, *, full: bool | None = None, anonymous: bool = False
    ) -> dict[str, Any]:
        """swagger ``User``. Private fields only for the user themself or an admin.

        ``anonymous`` mirrors Gitea's ``ToUser(ctx, u, nil)`` (commit authors, merged_by):
        rendered as if nobody were signed in, so the email is the no-reply placeholder.
        """
        uid = self.sb.user_ids.get(user.login, 0)
        viewer = None if anonymous else self.doer
        authed = (
            full
            if full is not None
            else (viewer is not None and (viewer.is_admin or viewer.login == user.login))
        )
        signed = viewer is not None
        email = user.email if signed else f"{uid}+{user.login.lower()}@noreply.localhost"
        return self._account_json(
            uid,
            user.login,
            user.email,
            login_name="" if not authed else user.login,
            full_name=user.full_name,
            email=email,
            language="en-US" if authed else "",
            is_admin=user.is_admin if authed else False,
            last_login=fmt_time(self.sb.created) if authed else ZERO_TIME,
            active=True if authed else False,
        )

    def org_json(self) -> dict[str, Any]:
        return self._account_json(1, self.sb.org, self.sb.org)

    def _account_json(
        self, uid: int, login: str, avatar_seed: str, **private: Any
    ) -> dict[str, Any]:
        """swagger ``User`` as Gitea renders it to a stranger (an organization is one too),
        with `private` overriding fields in place (the key order stays Gitea's)."""
        out: dict[str, Any] = {
            "id": uid,
            "login": login,
            "login_name": "",
            "source_id": 0,
            "full_name": "",
            "email": "",
            "avatar_url": f"{self.base}/avatars/{hashlib.md5(avatar_seed.encode()).hexdigest()}",
            "html_url": f"{self.base}/{login}",
            "language": "",
            "is_admin": False,
            "last_login": ZERO_TIME,
            "created": fmt_time(self.sb.created),
            "restricted": False,
            "active": False,
            "prohibit_login": False,
            "location": "",
            "website": "",
            "description": "",
            "visibility": "public",
            "followers_count": 0,
            "following_count": 0,
            "starred_repos_count": 0,
            "username": login,
        }
        out.update(private)
        return out

    def repo_json(self) -> dict[str, Any]:
        """swagger ``Repository``; ``permissions`` are the caller's. Built once per
        request (a PR list embeds it twice per item)."""
        if self._repo is None:
            self._repo = self._build_repo_json()
        return self._repo

    def _build_repo_json(self) -> dict[str, Any]:
        sb = self.sb
        default_head = self.git.branches.get(sb.default_branch)
        updated = self.git.commit(default_head).committer.when if default_head else sb.created
        open_prs = sum(1 for p in sb.pulls.values() if p.state == "open")
        doer = self.doer
        return {
            "id": 1,
            "owner": self.org_json(),
            "name": sb.repo,
            "full_name": f"{sb.org}/{sb.repo}",
            "description": "RFC meta repository",
            "empty": False,
            "private": True,
            "fork": False,
            "template": False,
            "parent": None,
            "mirror": False,
            "size": sum(len(d) for _, d in self.git.objects.values()) // 1024,
            "language": "",
            "languages_url": f"{self.api}/languages",
            "html_url": self.html,
            "url": self.api,
            "link": "",
            "ssh_url": f"git@{self.base.split('://', 1)[-1].split(':')[0]}:{sb.org}/{sb.repo}.git",
            "clone_url": f"{self.html}.git",
            "original_url": "",
            "website": "",
            "stars_count": 0,
            "forks_count": 0,
            "watchers_count": 0,
            "open_issues_count": 0,
            "open_pr_counter": open_prs,
            "release_counter": 0,
            "default_branch": sb.default_branch,
            "archived": False,
            "created_at": fmt_time(sb.created),
            "updated_at": fmt_time(updated),
            "archived_at": "1970-01-01T00:00:00Z",
            "permissions": {
                "admin": bool(doer and doer.is_admin),
                "push": bool(doer and doer.can_write()),
                "pull": bool(doer and doer.can_read()),
            },
            "has_code": True,
            "has_issues": True,
            "internal_tracker": {
                "enable_time_tracker": True,
                "allow_only_contributors_to_track_time": True,
                "enable_issue_dependencies": True,
            },
            "has_wiki": False,
            "has_pull_requests": True,
            "has_projects": False,
            "projects_mode": "all",
            "has_releases": False,
            "has_packages": False,
            "has_actions": False,
            "ignore_whitespace_conflicts": False,
            "allow_merge_commits": True,
            "allow_rebase": True,
            "allow_rebase_explicit": True,
            "allow_squash_merge": True,
            "allow_fast_forward_only_merge": True,
            "allow_rebase_update": True,
            "allow_merge_update": True,
            "allow_manual_merge": False,
            "autodetect_manual_merge": False,
            "default_delete_branch_after_merge": False,
            "default_merge_style": "merge",
            "default_update_style": "merge",
            "default_allow_maintainer_edit": False,
            "default_target_branch": sb.default_branch,
            "branch_count": len(self.git.branches),
            "avatar_url": "",
            "internal": False,
            "mirror_interval": "",
            "object_format_name": "sha1",
            "mirror_updated": ZERO_TIME,
            "repo_transfer": None,
            "topics": [],
            "licenses": [],
        }

    def signature_user(self, sig: Signature) -> dict[str, Any] | None:
        user = self.sb.user_by_email(sig.email)
        return self.user_json(user, anonymous=True) if user else None

    def commit_user(self, sig: Signature) -> dict[str, Any]:
        return {"name": sig.name, "email": sig.email, "date": fmt_time(sig.when)}

    def payload_commit(self, sha: str) -> dict[str, Any]:
        """swagger ``PayloadCommit`` (used by ``Branch``)."""
        c = self.git.commit(sha)

        def who(sig: Signature) -> dict[str, str]:
            user = self.sb.user_by_email(sig.email)
            return {"name": sig.name, "email": sig.email, "username": user.login if user else ""}

        return {
            "id": sha,
            "message": c.message,
            "url": f"{self.html}/commit/{sha}",
            "author": who(c.author),
            "committer": who(c.committer),
            "verification": dict(NOT_SIGNED),
            "timestamp": fmt_time(c.author.when),
            "added": None,
            "removed": None,
            "modified": None,
        }

    def branch_json(self, name: str) -> dict[str, Any]:
        can_push = self.can_write()
        return {
            "name": name,
            "commit": self.payload_commit(self.git.branches[name]),
            "protected": False,
            "required_approvals": 0,
            "enable_status_check": False,
            "status_check_contexts": [],
            "user_can_push": can_push,
            "user_can_merge": can_push,
            "effective_branch_protection_name": "",
        }

    def file_commit_json(self, sha: str) -> dict[str, Any]:
        """swagger ``FileCommitResponse`` (write responses)."""
        c = self.git.commit(sha)
        return {
            "url": f"{self.api}/git/commits/{sha}",
            "sha": sha,
            "created": ZERO_TIME,
            "html_url": f"{self.html}/commit/{sha}",
            "author": self.commit_user(c.author),
            "committer": self.commit_user(c.committer),
            "parents": [
                {"url": f"{self.api}/git/commits/{p}", "sha": p, "created": ZERO_TIME}
                for p in c.parents
            ],
            "message": c.message,
            "tree": {"url": f"{self.api}/git/trees/{c.tree}", "sha": c.tree, "created": ZERO_TIME},
        }

    def commit_json(
        self, sha: str, *, stat: bool, verification: bool, files: bool
    ) -> dict[str, Any]:
        """swagger ``Commit`` (the ``/commits`` list)."""
        c = self.git.commit(sha)
        created = fmt_time(c.committer.when)
        out: dict[str, Any] = {
            "url": f"{self.api}/git/commits/{sha}",
            "sha": sha,
            "created": created,
            "html_url": f"{self.html}/commit/{sha}",
            "commit": {
                "url": f"{self.api}/git/commits/{sha}",
                "author": self.commit_user(c.author),
                "committer": self.commit_user(c.committer),
                "message": c.message,
                # Gitea's ToCommit really puts the *commit* id here (GET git/trees/{commit}
                # resolves it to the root tree, so the link still works).
                "tree": {"url": f"{self.api}/git/trees/{sha}", "sha": sha, "created": created},
                "verification": dict(NOT_SIGNED) if verification else None,
            },
            "author": self.signature_user(c.author),
            "committer": self.signature_user(c.committer),
            "parents": [
                {"url": f"{self.api}/git/commits/{p}", "sha": p, "created": ZERO_TIME}
                for p in c.parents
            ],
            "files": None,
            "stats": None,
        }
        if files or stat:
            parent_tree = self.git.commit(c.parents[0]).tree if c.parents else None
            changes = self.git.changed_paths(parent_tree, c.tree)
            if files:
                # Gitea order: added, removed, modified (each group by path).
                out["files"] = [
                    {"filename": p, "status": s}
                    for group in ("added", "removed", "modified")
                    for p, s in changes.items()
                    if s == group
                ]
            if stat:
                adds = dels = 0
                old = self.git.flatten(parent_tree) if parent_tree else {}
                new = self.git.flatten(c.tree)
                for p in changes:
                    a, d = line_stats(self.sb, old.get(p), new.get(p))
                    adds += a
                    dels += d
                out["stats"] = {"total": adds + dels, "additions": adds, "deletions": dels}
        return out

    def contents_json(
        self,
        commit_sha: str,
        ref: str,
        ref_kind: str,
        path: str,
        entry: TreeEntry,
        *,
        with_content: bool,
        last: str | None = None,
    ) -> dict[str, Any]:
        """swagger ``ContentsResponse`` (notes §1.1)."""
        git = self.git
        if last is None:
            last = git.last_commit_for(commit_sha, path)
        last_c = git.commit(last) if last else None
        is_dir = entry.is_tree
        size = 0 if is_dir else len(git.blob(entry.sha))
        self_url = f"{self.api}/contents/{esc(path)}?ref={quote(ref, safe='')}"
        html_url = f"{self.html}/src/{ref_kind}/{esc(ref)}/{esc(path)}"
        git_url = f"{self.api}/git/{entry.type}s/{entry.sha}"
        out: dict[str, Any] = {
            "name": posixpath.basename(path),
            "path": path,
            "sha": entry.sha,
            "last_commit_sha": last or "",
            "last_committer_date": fmt_time(last_c.committer.when) if last_c else ZERO_TIME,
            "last_author_date": fmt_time(last_c.author.when) if last_c else ZERO_TIME,
            "type": "dir" if is_dir else "file",
            "size": size,
            "encoding": None,
            "content": None,
            "target": None,
            "url": self_url,
            "html_url": html_url,
            "git_url": git_url,
            "download_url": None
            if is_dir
            else f"{self.html}/raw/{ref_kind}/{esc(ref)}/{esc(path)}",
            "submodule_git_url": None,
            "_links": {"self": self_url, "git": git_url, "html": html_url},
        }
        if with_content and not is_dir and size <= MAX_BLOB:
            out["encoding"] = "base64"
            out["content"] = base64.b64encode(git.blob(entry.sha)).decode()
        return out

    def pull_json(self, pr: PullState, *, single: bool) -> dict[str, Any]:
        """swagger ``PullRequest`` (notes §3.2); list items omit the diff counters."""
        sb = self.sb
        git = self.git
        head_exists = pr.head in git.branches
        # The list reads refs/pull/N/head; the single form prefers the live branch.
        head_sha = sb.pull_refs.get(pr.number, "")
        if single and head_exists:
            head_sha = git.branches[pr.head]
        base_sha = git.branches.get(pr.base, "")
        repo = self.repo_json()
        poster = sb.user_by_login(pr.poster)
        merged_by = sb.user_by_login(pr.merged_by) if pr.merged_by else None
        html = f"{self.html}/pulls/{pr.number}"
        out: dict[str, Any] = {
            "id": pr.id,
            "url": html,
            "number": pr.number,
            "user": self.user_json(poster) if poster else None,
            "title": pr.title,
            "body": pr.body,
            "labels": [],
            "milestone": None,
            "assignee": None,
            "assignees": [] if single else None,
            "requested_reviewers": [] if single else None,
            "requested_reviewers_teams": [] if single else None,
            "state": pr.state,
            "draft": is_wip(pr.title),
            "is_locked": False,
            "comments": 0,
            "review_comments": 0,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            # Gitea: not WIP and the last conflict check passed; merged PRs keep "true".
            "mergeable": not is_wip(pr.title) and (pr.merged or mergeable(sb, pr)),
            "merged": pr.merged,
            "merged_at": fmt_time(pr.merged_at),
            "merge_commit_sha": pr.merge_commit_sha,
            "merged_by": self.user_json(merged_by, anonymous=True) if merged_by else None,
            "allow_maintainer_edit": False,
            "base": {
                "label": pr.base,
                "ref": pr.base,
                "sha": base_sha,
                "repo_id": 1,
                "repo": repo,
            },
            "head": {
                "label": pr.head,
                "ref": pr.head if head_exists else f"refs/pull/{pr.number}/head",
                "sha": head_sha,
                "repo_id": 1,
                "repo": repo,
            },
            "merge_base": pr.merge_base,
            "due_date": None,
            "created_at": fmt_time(pr.created),
            "updated_at": fmt_time(pr.updated),
            "closed_at": fmt_time(pr.closed_at),
            "pin_order": 0,
            "content_version": 0,
        }
        if single:
            adds = dels = 0
            changed = 0
            if head_sha and pr.merge_base:
                base_tree = git.commit(pr.merge_base).tree
                head_tree = git.commit(head_sha).tree
                old, new = git.flatten(base_tree), git.flatten(head_tree)
                changes = git.changed_paths(base_tree, head_tree)
                changed = len(changes)
                for p in changes:
                    a, d = line_stats(sb, old.get(p), new.get(p))
                    adds += a
                    dels += d
            out["additions"] = adds
            out["deletions"] = dels
            out["changed_files"] = changed
        return out


def is_wip(title: str) -> bool:
    t = title.lower()
    return t.startswith(("wip:", "[wip]"))  # WORK_IN_PROGRESS_PREFIXES default


def line_stats(sb: Sandbox, old: str | None, new: str | None) -> tuple[int, int]:
    """(additions, deletions) in lines between two blobs (either may be absent)."""
    a = sb.git.blob(old).decode("utf-8", "replace").splitlines() if old else []
    b = sb.git.blob(new).decode("utf-8", "replace").splitlines() if new else []
    adds = dels = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            dels += i2 - i1
        if tag in ("replace", "insert"):
            adds += j2 - j1
    return adds, dels


def mergeable(sb: Sandbox, pr: PullState) -> bool:
    head = sb.pull_refs.get(pr.number)
    base = sb.git.branches.get(pr.base)
    if not head or not base:
        return False
    key = (base, head)
    cached = sb._mergeable_cache.get(key)
    if cached is not None:
        return cached
    try:
        three_way(sb, base, head)
        ok = True
    except GitError:
        ok = False
    sb._mergeable_cache[key] = ok
    return ok


def three_way(sb: Sandbox, base_sha: str, head_sha: str) -> str:
    """Merge ``head_sha`` into ``base_sha`` file by file; returns the merged tree sha."""
    git = sb.git
    mb = git.merge_base(base_sha, head_sha)
    base_files = git.flatten(git.commit(mb).tree) if mb else {}
    merged = merge_files(
        base_files, git.flatten(git.commit(base_sha).tree), git.flatten(git.commit(head_sha).tree)
    )
    try:
        return git.build_tree(merged)
    except GitError as exc:
        raise MergeConflict([str(exc)]) from exc


# -- routing -----------------------------------------------------------------------------
Handler = Callable[[Ctx, "re.Match[str]"], Response]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
REPO_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str, *, repo: bool = True) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        (REPO_ROUTES if repo else ROUTES).append((method, re.compile(pattern + r"\Z"), fn))
        return fn

    return deco


def json_response(
    data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Go's encoder escapes HTML-significant characters; mirror it byte for byte.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    body = (text + "\n").encode()
    hdrs = [("Content-Type", JSON_TYPE)]
    hdrs.extend(headers or [])
    return Response(status, hdrs, body)


def error_response(ctx_base: str, err: ApiError) -> Response:
    if err.message is None:
        return Response(err.status, [], b"")
    body: dict[str, Any] = {"message": err.message}
    if err.with_url:
        body["url"] = f"{ctx_base}/api/swagger"
    return json_response(body, err.status)


def internal_error(base_url: str, exc: BaseException) -> Response:
    """Gitea's 500 ``{"message","url"}`` for a request the sandbox failed to serve.

    The message names only the exception type: never its text or a traceback, which
    could carry request data (a token in a header or a query). ``Sandbox.internal_errors``
    keeps a safe one-line note (type and place) for tests and debugging.
    """
    message = f"sandbox internal error ({type(exc).__name__})"
    return json_response({"message": message, "url": f"{base_url}/api/swagger"}, 500)


def describe_exception(exc: BaseException) -> str:
    """``"KeyError at api.py:123 in merge_pull"``: where it broke, not what it held."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return type(exc).__name__
    code = tb.tb_frame.f_code
    where = f"{posixpath.basename(code.co_filename)}:{tb.tb_lineno}"
    return f"{type(exc).__name__} at {where} in {code.co_name}"


def authenticate(sb: Sandbox, req: Request) -> SandboxUser | None:
    """Gitea token sources (notes §5); an unknown credential is a 401 everywhere."""
    token: str | None = None
    auth = req.headers.get("authorization", "").strip()
    if auth:
        parts = auth.split()
        if len(parts) == 2 and parts[0].lower() in ("token", "bearer"):
            token = parts[1]
        elif len(parts) == 2 and parts[0].lower() == "basic":
            try:
                user, _, secret = base64.b64decode(parts[1]).decode().partition(":")
            except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error, non-ASCII
                raise ApiError(401, "invalid username, password or token") from exc
            if secret in ("", "x-oauth-basic"):
                token = user
            else:
                found = sb.user_by_token(secret)
                if found is None or found.login.lower() != user.lower():
                    raise ApiError(401, "invalid username, password or token")
                return found
        else:
            raise ApiError(401, "invalid username, password or token")
    else:
        token = req.arg("token") or req.arg("access_token") or None
    if token is None:
        return None
    doer = sb.user_by_token(token)
    if doer is None:
        raise ApiError(401, "invalid username, password or token")
    return doer


def handle(sb: Sandbox, req: Request) -> Response:
    """Answer one request (faults: only the error draw; latency/down are per transport)."""
    with sb.lock:
        sb.requests_served += 1
    injected = sb.faults.draw_error()
    if injected is not None:
        if injected == 500:
            return _finish(
                req, json_response({"message": "", "url": f"{req.base_url}/api/swagger"}, 500)
            )
        text = {502: "Bad Gateway", 503: "Service Unavailable"}[injected]
        return _finish(
            req, Response(injected, [("Content-Type", "text/plain; charset=utf-8")], text.encode())
        )
    method = "GET" if req.method == "HEAD" else req.method
    try:
        with sb.lock:
            resp = _dispatch(sb, req, method)
    except ApiError as err:
        resp = error_response(req.base_url, err)
    except Exception as exc:  # noqa: BLE001 - every request gets an answer (issue 9 item 7)
        sb.note_internal_error(exc)
        resp = internal_error(req.base_url, exc)
    # HEAD keeps the GET body here so transports can send its Content-Length; they
    # must not send the body itself.
    return _finish(req, resp)


def _finish(req: Request, resp: Response) -> Response:
    names = {k.lower() for k, _ in resp.headers}
    if "cache-control" not in names:
        resp.headers.append(("Cache-Control", CACHE_CONTROL))
    return resp


def _dispatch(sb: Sandbox, req: Request, method: str) -> Response:
    path = req.path
    if not path.startswith("/api/v1/") and path != "/api/v1":
        raise not_found()
    rest = path[len("/api/v1") :]
    doer = authenticate(sb, req)
    sudo = req.headers.get("sudo") or req.arg("sudo")
    if sudo:
        if doer is None or not doer.is_admin:
            raise ApiError(403, "Only administrators allowed to sudo.", with_url=False)
        target = sb.user_by_login(sudo)
        if target is None:
            raise not_found()
        doer = target
    ctx = Ctx(sb, req, doer)
    m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?\Z", rest)
    if m:
        owner, name, sub = unquote(m.group(1)), unquote(m.group(2)), m.group(3) or ""
        if owner.lower() != sb.org.lower() or name.lower() != sb.repo.lower():
            raise not_found()
        if not ctx.can_read():  # private repo: invisible, never 403 (notes §5)
            raise not_found()
        table, target_path = REPO_ROUTES, sub.rstrip("/") if sub != "/" else ""
    else:
        table, target_path = ROUTES, rest
    allowed = False
    for verb, pattern, fn in table:
        match = pattern.match(target_path)
        if match:
            allowed = True
            if verb == method:
                return fn(ctx, match)
    if allowed:
        return Response(
            405, [("Content-Type", "text/plain; charset=utf-8")], b"Method Not Allowed\n"
        )
    raise not_found()


# -- misc endpoints ----------------------------------------------------------------------
@route("GET", r"/version", repo=False)
def get_version(ctx: Ctx, m: re.Match[str]) -> Response:
    return json_response({"version": ctx.sb.version})


@route("GET", r"/user", repo=False)
def get_me(ctx: Ctx, m: re.Match[str]) -> Response:
    doer = ctx.require_token()
    return json_response(ctx.user_json(doer, full=True))


@route("GET", r"/users/([^/]+)", repo=False)
def get_user(ctx: Ctx, m: re.Match[str]) -> Response:
    login = unquote(m.group(1))
    user = ctx.sb.user_by_login(login)
    if user is None:
        if login.lower() == ctx.sb.org.lower():
            return json_response(ctx.org_json())
        raise not_found("GetUserByName")  # Gitea's UserAssignmentAPI message
    return json_response(ctx.user_json(user))


@route("GET", r"/orgs/([^/]+)/repos", repo=False)
def list_org_repos(ctx: Ctx, m: re.Match[str]) -> Response:
    if unquote(m.group(1)).lower() != ctx.sb.org.lower():
        raise not_found()
    page, limit = list_options(ctx.req)
    repos = [ctx.repo_json()] if ctx.can_read() else []  # private: only for readers
    headers = list_headers(ctx.req, len(repos), limit, page)
    return json_response(repos[(page - 1) * limit : page * limit], headers=headers)


@route("GET", r"")
def get_repo(ctx: Ctx, m: re.Match[str]) -> Response:
    return json_response(ctx.repo_json())


# -- branches ----------------------------------------------------------------------------
@route("GET", r"/branches")
def list_branches(ctx: Ctx, m: re.Match[str]) -> Response:
    page, limit = list_options(ctx.req)
    q = (ctx.req.arg("q") or "").lower()
    names = sorted(n for n in ctx.git.branches if q in n.lower())
    items = [ctx.branch_json(n) for n in names[(page - 1) * limit : page * limit]]
    return json_response(items, headers=list_headers(ctx.req, len(names), limit, page))


@route("GET", r"/branches/(.+)")
def get_branch(ctx: Ctx, m: re.Match[str]) -> Response:
    name = unquote(m.group(1))
    if name not in ctx.git.branches:
        raise not_found()
    return json_response(ctx.branch_json(name))


BRANCH_NAME = re.compile(
    r"^(?!/)(?!.*//)(?!.*\.\.)(?!.*@\{)(?!.*\.lock(?:/|$))[^\x00-\x20~^:?*\[\\\x7f]+(?<![/.])$"
)


def valid_branch_name(name: str) -> bool:
    return bool(BRANCH_NAME.match(name)) and len(name) <= 100 and not name.startswith("-")


@route("POST", r"/branches")
def create_branch(ctx: Ctx, m: re.Match[str]) -> Response:
    ctx.require_write()
    data = json_body(ctx.req, forms.CREATE_BRANCH)
    new = str_field(data, "new_branch_name", "NewBranchName", required=True)
    if not valid_branch_name(new):
        raise ApiError(422, "[NewBranchName]: GitRefName")
    old_ref = str_field(data, "old_ref_name", "OldRefName")
    old_branch = str_field(data, "old_branch_name", "OldBranchName")
    git = ctx.git
    if old_ref:
        start = git.resolve_commit(old_ref)
        if start is None:
            raise ApiError(500, "")
    elif old_branch:
        start = git.branches.get(old_branch)
        if start is None:
            raise ApiError(404, "The old branch does not exist")
    else:
        start = git.branches[ctx.sb.default_branch]
    if new in git.branches:
        raise ApiError(409, "The branch already exists.")
    for existing in git.branches:
        if existing.startswith(new + "/") or new.startswith(existing + "/"):
            raise ApiError(409, "The branch with the same name already exists.")
    if new in git.tags:
        raise ApiError(409, f"The branch with the same tag already exists: {new}")
    ctx.sb.set_branch(new, start)
    ctx.sb.save()
    return json_response(ctx.branch_json(new), 201)


@route("DELETE", r"/branches/(.+)")
def delete_branch(ctx: Ctx, m: re.Match[str]) -> Response:
    ctx.require_write()
    name = unquote(m.group(1))
    sb = ctx.sb
    if name not in ctx.git.branches:
        raise not_found()
    if name == sb.default_branch or any(
        p.state == "open" and p.base == name for p in sb.pulls.values()
    ):
        raise ApiError(403, "can not delete default or pull request target branch")
    sb.delete_branch(name)
    sb.save()
    return Response(204, [], b"")


# -- commits -----------------------------------------------------------------------------
@route("GET", r"/commits")
def list_commits(ctx: Ctx, m: re.Match[str]) -> Response:
    req, git = ctx.req, ctx.git
    page, limit = list_options(req)
    sha = req.arg("sha") or ""
    start = git.branches[ctx.sb.default_branch] if not sha else git.resolve_commit(sha)
    if start is None:
        raise ApiError(404, f"object does not exist [id: {sha}, rel_path: ]")
    path = clean_path(req.arg("path") or "")
    if path:
        shas = git.path_log(start, path)
        if not shas:
            raise not_found()
        items = shas[(page - 1) * COMMITS_RANGE : page * COMMITS_RANGE]  # notes §4: limit ignored
    else:
        shas = git.log(start)
        items = shas[(page - 1) * limit : page * limit]
    not_sha = req.arg("not")
    if not_sha:
        excluded = git.resolve_commit(not_sha)
        if excluded:
            hidden = git.ancestors(excluded)
            items = [s for s in items if s not in hidden]
    total = len(shas)
    flags = {
        "stat": go_bool(req.arg("stat"), True),
        "verification": go_bool(req.arg("verification"), True),
        "files": go_bool(req.arg("files"), True),
    }
    body = [ctx.commit_json(s, **flags) for s in items]
    page_count = -(-total // limit)
    headers = [
        ("X-Total-Count", str(total)),
        ("X-Page", str(page)),
        ("X-PerPage", str(limit)),
        ("X-Total", str(total)),
        ("X-PageCount", str(page_count)),
        ("X-HasMore", "true" if page < page_count else "false"),
    ]
    link = link_header(req, total, limit, page)
    if link:
        headers.append(("Link", link))
    return json_response(body, headers=headers)


@route("GET", r"/git/commits/([^/]+)")
def get_single_commit(ctx: Ctx, m: re.Match[str]) -> Response:
    sha = unquote(m.group(1))
    if not re.fullmatch(r"[0-9a-f]{4,40}", sha):
        raise ApiError(422, f"no valid ref or sha: {sha}")
    commit = ctx.git.resolve_commit(sha)
    if commit is None:
        raise not_found(f"object does not exist [id: {sha}, rel_path: ]")
    req = ctx.req
    flags = {
        "stat": go_bool(req.arg("stat"), True),
        "verification": go_bool(req.arg("verification"), True),
        "files": go_bool(req.arg("files"), True),
    }
    return json_response(ctx.commit_json(commit, **flags))


@route("GET", r"/git/refs(?:/(.+))?")
def list_git_refs(ctx: Ctx, m: re.Match[str]) -> Response:
    """notes §7: refs whose name starts with ``refs/<filter>`` (branches, tags and the
    ``refs/pull/N/head`` of every PR), by name; upstream compares its one-object case
    with the un-prefixed filter, so the answer is always a list; none -> 404."""
    git = ctx.git
    prefix = f"refs/{unquote(m.group(1))}" if m.group(1) else "refs/"
    refs = [(f"refs/heads/{n}", sha) for n, sha in git.branches.items()]
    refs += [(f"refs/tags/{n}", sha) for n, sha in git.tags.items()]
    refs += [(f"refs/pull/{n}/head", sha) for n, sha in ctx.sb.pull_refs.items() if sha]
    hits = sorted((name, sha) for name, sha in refs if name.startswith(prefix))
    if not hits:
        raise not_found()
    return json_response([
        {"ref": name, "url": f"{ctx.api}/git/{quote(name)}",
         "object": {"sha": sha, "type": "commit", "url": f"{ctx.api}/git/commits/{sha}"}}
        for name, sha in hits
    ])


# -- contents (read) ---------------------------------------------------------------------
def resolve_ref_strict(ctx: Ctx, ref: str | None) -> tuple[str, str, str]:
    """``(commit sha, ref name, ref kind)``: branch, tag or FULL sha only (notes §1.1)."""
    git = ctx.git
    if not ref:
        name = ctx.sb.default_branch
        return git.branches[name], name, "branch"
    for prefix, table, kind in (
        ("refs/heads/", git.branches, "branch"),
        ("refs/tags/", git.tags, "tag"),
    ):
        name = ref[len(prefix) :] if ref.startswith(prefix) else ref
        if name in table:
            return table[name], name, kind
    if HEX40.match(ref) and git.kind(ref) == "commit":
        return ref, ref, "commit"
    raise not_found()  # resolveRefCommit: APIErrorNotFound(err) keeps the default message


def read_contents(ctx: Ctx, raw_path: str) -> Response:
    commit_sha, ref, kind = resolve_ref_strict(ctx, ctx.req.arg("ref"))
    path = clean_path(raw_path)
    entry = ctx.git.entry_at(ctx.git.commit(commit_sha).tree, path)
    if entry is None:
        raise not_found("GetContentsOrList")  # Gitea passes the func name as message
    if entry.is_tree:
        lasts = ctx.git.last_commits_in_dir(commit_sha, path)
        items = [
            ctx.contents_json(
                commit_sha,
                ref,
                kind,
                f"{path}/{e.name}" if path else e.name,
                e,
                with_content=False,
                last=lasts.get(e.name),
            )
            for e in ctx.git.tree(entry.sha)
        ]
        return json_response(items)
    return json_response(ctx.contents_json(commit_sha, ref, kind, path, entry, with_content=True))


@route("GET", r"/contents")
def get_contents_root(ctx: Ctx, m: re.Match[str]) -> Response:
    return read_contents(ctx, "")


@route("GET", r"/contents/(.+)")
def get_contents(ctx: Ctx, m: re.Match[str]) -> Response:
    return read_contents(ctx, unquote(m.group(1)))


# -- contents (write) --------------------------------------------------------------------
@dataclass
class FileOp:
    operation: str
    path: str
    content: bytes | None = None
    sha: str = ""
    from_path: str = ""


B64_ALPHABET = re.compile(r"[A-Za-z0-9+/]*={0,2}")
GIT_IDENT_CRUD = ".,:;<>\"' \t"


def decode_content(value: Any, go_name: str = "ContentBase64") -> bytes:
    """Go's ``base64.StdEncoding.DecodeString``: strict alphabet and padding, only CR
    and LF ignored; anything else is Gitea's 422 ``illegal base64 data``."""
    if not isinstance(value, str):
        raise ApiError(422, f"[{go_name}]: must be a base64 string")
    text = value.replace("\r", "").replace("\n", "")
    bad = B64_ALPHABET.match(text)
    end = bad.end() if bad else 0
    if end < len(text) or len(text) % 4:
        raise ApiError(422, f"illegal base64 data at input byte {min(end, len(text))}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, f"illegal base64 data at input byte {len(text)}") from None


def git_ident(text: str) -> str:
    """git's ``strbuf_addstr_without_crud``: no NUL, LF, ``<`` or ``>`` inside, no crud
    at the ends. Why: such a name would make the commit object unparsable for good."""
    for ch in "\0\n<>":
        text = text.replace(ch, "")
    return text.strip(GIT_IDENT_CRUD)


def identity(data: dict[str, Any], name: str) -> tuple[str, str] | None:
    value = data.get(name)
    if not isinstance(value, dict):
        return None
    n, e = git_ident(value.get("name") or ""), git_ident(value.get("email") or "")
    if not n and not e:
        return None
    return n, e


def change_files(ctx: Ctx, data: dict[str, Any], ops: list[FileOp]) -> tuple[str, str]:
    """Apply ``ops`` as one commit (notes §1.5); returns ``(commit sha, branch)``."""
    sb, git = ctx.sb, ctx.git
    doer = ctx.require_write("user should have a permission to write to the target branch")
    branch = str_field(data, "branch", "BranchName") or sb.default_branch
    new_branch = str_field(data, "new_branch", "NewBranchName")
    if new_branch and not valid_branch_name(new_branch):
        raise ApiError(422, "[NewBranchName]: GitRefName")
    parent = git.branches.get(branch)
    if parent is None:
        raise ApiError(404, f"branch does not exist [repo_id: 1 name: {branch}]")
    force = data.get("force_push") is True
    if new_branch and new_branch in git.branches and not force:
        raise ApiError(422, f"branch already exists [name: {new_branch}]")
    files = git.flatten(git.commit(parent).tree)

    def parent_is_file(path: str) -> str | None:
        parts = path.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in files:
                return prefix
        return None

    def check_sha(op: FileOp, current: str) -> None:
        if op.sha and op.sha != current:
            raise ApiError(422, f"sha does not match [given: {op.sha}, expected: {current}]")

    for op in ops:
        try:
            path = clean_path(op.path)
        except ApiError as exc:  # writes report ErrFilenameInvalid as 422, reads as 400
            raise ApiError(422, exc.message) from exc
        if not path or "\0" in path:  # git cannot store a NUL in a tree entry name
            raise ApiError(422, f"path contains a malformed path component [path: {op.path}]")
        if op.operation == "create" or (op.operation == "upload" and path not in files):
            if path in files or any(p.startswith(path + "/") for p in files):
                raise ApiError(422, f"repository file already exists [path: {path}]")
            if parent_is_file(path):
                raise ApiError(
                    422,
                    f"a file exists where you're trying to create a subdirectory [path: {path}]",
                )
            files[path] = git.put_blob(op.content or b"")
        elif op.operation in ("update", "upload", "rename"):
            source = clean_path(op.from_path) if op.from_path else path
            if source not in files:
                raise ApiError(404, f"repository file does not exist [path: {source}]")
            check_sha(op, files[source])
            blob = git.put_blob(op.content) if op.content is not None else files[source]
            if source != path:
                if path in files or any(p.startswith(path + "/") for p in files):
                    raise ApiError(422, f"repository file already exists [path: {path}]")
                del files[source]
                if parent_is_file(path):
                    raise ApiError(
                        422,
                        "a file exists where you're trying to create a subdirectory "
                        f"[path: {path}]",
                    )
            files[path] = blob
        elif op.operation == "delete":
            if path not in files:
                raise ApiError(404, f"repository file does not exist [path: {path}]")
            check_sha(op, files[path])
            del files[path]
        else:
            raise ApiError(422, f"[Operation]: invalid operation {op.operation!r}")
        op.path = path
    message = str_field(data, "message", "Message") or default_message(ops)
    if data.get("signoff") is True:
        pass  # appended below once the committer is known
    author = identity(data, "author")
    committer = identity(data, "committer")
    if author is None and committer is not None:
        author = committer
    if committer is None and author is not None:
        committer = author
    doer_id = (doer.full_name or doer.login, doer.email)

    def sig(ident: tuple[str, str] | None, date_key: str) -> Signature:
        name, email = ident or doer_id
        when = ctx.sb.now()
        dates = data.get("dates")
        if isinstance(dates, dict) and isinstance(dates.get(date_key), str) and dates[date_key]:
            try:
                when = forms.check_datetime(dates[date_key], f"Dates.{date_key}")
            except forms.BodyError as exc:
                raise ApiError(exc.status, exc.message) from None
        return Signature(name or doer_id[0], email or doer_id[1], when)

    a_sig, c_sig = sig(author, "author"), sig(committer, "committer")
    if data.get("signoff") is True:
        message = message.rstrip("\n") + f"\n\nSigned-off-by: {c_sig.name} <{c_sig.email}>"
    if not message.endswith("\n"):
        message += "\n"
    try:
        tree = git.build_tree(files)
    except GitError as exc:
        raise ApiError(422, str(exc)) from exc
    sha = git.write_commit(tree, [parent], a_sig, c_sig, message)
    target = new_branch or branch
    sb.set_branch(target, sha)
    sb.save()
    return sha, target


def default_message(ops: list[FileOp]) -> str:
    """Gitea ``changeFilesCommitMessage`` (en-US)."""
    groups: dict[str, list[str]] = {"Add": [], "Update": [], "Delete": []}
    for op in ops:
        key = {"create": "Add", "delete": "Delete"}.get(op.operation, "Update")
        groups[key].append(op.path)
    lines = [f"{k} {', '.join(v)}" for k, v in groups.items() if v]
    return "\n".join(lines)


def file_response(ctx: Ctx, sha: str, branch: str, path: str | None) -> dict[str, Any]:
    content = None
    if path is not None:
        entry = ctx.git.entry_at(ctx.git.commit(sha).tree, path)
        if entry is not None:
            content = ctx.contents_json(sha, branch, "branch", path, entry, with_content=True)
    return {
        "content": content,
        "commit": ctx.file_commit_json(sha),
        "verification": dict(NOT_SIGNED),
    }


@route("POST", r"/contents/(.+)")
def create_file(ctx: Ctx, m: re.Match[str]) -> Response:
    ctx.require_write("user should have a permission to write to the target branch")
    data = json_body(ctx.req, forms.CREATE_FILE)
    path = unquote(m.group(1))
    content = decode_content(str_field(data, "content", "ContentBase64", required=True))
    op = FileOp("create", path, content)
    sha, branch = change_files(ctx, data, [op])
    return json_response(file_response(ctx, sha, branch, op.path), 201)


@route("PUT", r"/contents/(.+)")
def update_file(ctx: Ctx, m: re.Match[str]) -> Response:
    ctx.require_write("user should have a permission to write to the target branch")
    data = json_body(ctx.req, forms.UPDATE_FILE)
    path = unquote(m.group(1))
    content = decode_content(str_field(data, "content", "ContentBase64", required=True))
    sha_given = str_field(data, "sha", "SHA")
    from_path = str_field(data, "from_path", "FromPath")
    # notes §1.5: on v1.26+ an empty sha means create (unless it is a move)
    will_create = not sha_given and not from_path
    op = FileOp("create" if will_create else "update", path, content, sha_given, from_path)
    sha, branch = change_files(ctx, data, [op])
    return json_response(file_response(ctx, sha, branch, op.path), 201 if will_create else 200)


@route("DELETE", r"/contents/(.+)")
def delete_file(ctx: Ctx, m: re.Match[str]) -> Response:
    ctx.require_write("user should have a permission to write to the target branch")
    data = json_body(ctx.req, forms.DELETE_FILE)
    path = unquote(m.group(1))
    sha_given = str_field(data, "sha", "SHA", required=True)
    op = FileOp("delete", path, None, sha_given)
    sha, branch = change_files(ctx, data, [op])
    return json_response(file_response(ctx, sha, branch, None))


@route("POST", r"/contents")
def change_many(ctx: Ctx, m: re.Match[str]) -> Response:
    ctx.require_write("user should have a permission to write to the target branch")
    data = json_body(ctx.req, forms.CHANGE_FILES)
    raw = data.get("files")
    if not isinstance(raw, list) or not raw:
        raise ApiError(422, "[Files]: Required")
    ops: list[FileOp] = []
    for item in raw:
        if not isinstance(item, dict):
            raise ApiError(422, "[Files]: each file must be an object")
        operation = str_field(item, "operation", "Operation", required=True)
        if operation not in ("create", "update", "upload", "rename", "delete"):
            raise ApiError(422, "[Operation]: In")
        path = str_field(item, "path", "Path", required=True)
        content = None
        if item.get("content"):
            content = decode_content(item["content"])
        elif operation in ("create", "update", "upload"):
            content = b""
        ops.append(
            FileOp(
                operation,
                path,
                content,
                str_field(item, "sha", "SHA"),
                str_field(item, "from_path", "FromPath"),
            )
        )
    sha, branch = change_files(ctx, data, ops)
    files: list[dict[str, Any] | None] = []
    for op in ops:
        if op.operation == "delete":
            files.append(None)
            continue
        entry = ctx.git.entry_at(ctx.git.commit(sha).tree, op.path)
        files.append(
            ctx.contents_json(sha, branch, "branch", op.path, entry, with_content=True)
            if entry
            else None
        )
    body = {"files": files, "commit": ctx.file_commit_json(sha), "verification": dict(NOT_SIGNED)}
    return json_response(body, 201)


# -- raw, trees, blobs, batch reads, archives --------------------------------------------
@route("GET", r"/raw/(.+)")
def get_raw(ctx: Ctx, m: re.Match[str]) -> Response:
    git, sb = ctx.git, ctx.sb
    full = unquote(m.group(1))
    ref = ctx.req.arg("ref")
    commit_sha: str | None = None
    path = full
    if ref:
        commit_sha = git.resolve_commit(ref, allow_short=False)
    else:
        parts = full.split("/")
        for i in range(len(parts) - 1, 0, -1):  # longest branch name first
            name = "/".join(parts[:i])
            if name in git.branches or name in git.tags:
                commit_sha = git.branches.get(name) or git.tags[name]
                path = "/".join(parts[i:])
                break
        if commit_sha is None and len(parts) > 1 and HEX40.match(parts[0]):
            if git.kind(parts[0]) == "commit":
                commit_sha, path = parts[0], "/".join(parts[1:])
    if commit_sha is None:  # notes §1.2: unknown ref silently means the default branch
        commit_sha = git.branches[sb.default_branch]
    path = clean_path(path)
    entry = git.entry_at(git.commit(commit_sha).tree, path)
    if entry is None:
        raise not_found()
    if entry.is_tree or entry.type != "blob":
        raise not_found("getBlobForEntry")
    etag = f'"{entry.sha}"'
    last = git.last_commit_for(commit_sha, path)
    when = git.commit(last).committer.when if last else sb.created
    last_modified = datetime.fromtimestamp(when, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    headers = [
        ("ETag", etag),
        ("Last-Modified", last_modified),
        ("Cache-Control", "private, max-age=300"),
        ("X-Gitea-Object-Type", "file"),
    ]
    inm = ctx.req.headers.get("if-none-match")
    ims = ctx.req.headers.get("if-modified-since")
    if inm:
        if etag in [t.strip() for t in inm.split(",")]:
            return Response(304, headers, b"")
    elif ims:  # Gitea's HandleGenericETagTimeCache: only without If-None-Match
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            since = None
        if since is not None and since.tzinfo is not None and when <= since.timestamp():
            return Response(304, headers, b"")
    data = git.blob(entry.sha)
    name = posixpath.basename(path)
    try:
        data.decode("utf-8")
        ctype = "text/plain; charset=utf-8"
    except UnicodeDecodeError:
        ctype = "application/octet-stream"
    headers += [
        ("Content-Type", ctype),
        ("Content-Disposition", f"inline; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return Response(200, headers, data)


def resolve_tree_ish(ctx: Ctx, ref: str) -> str:
    """Commit/tree sha, branch, tag or short sha -> tree sha; else 400 (notes §1.3)."""
    git = ctx.git
    if not ref:
        raise ApiError(400, "sha not provided")
    kind = git.kind(ref) if HEX40.match(ref) else None
    if kind == "tree":
        return ref
    if kind == "commit":
        return git.commit(ref).tree
    commit = git.resolve_commit(ref)
    if commit is None:
        raise ApiError(400, f"sha not found [{ref}]")
    return git.commit(commit).tree


@route("GET", r"/git/trees/([^/]+)")
def get_tree(ctx: Ctx, m: re.Match[str]) -> Response:
    git, req = ctx.git, ctx.req
    tree_sha = resolve_tree_ish(ctx, unquote(m.group(1)))
    recursive = go_bool(req.arg("recursive"), False)
    page = max(1, go_int(req.arg("page")))
    per_page = go_int(req.arg("per_page"))
    if per_page <= 0 or per_page > TREES_PER_PAGE:
        per_page = TREES_PER_PAGE
    if recursive:
        entries = git.walk(tree_sha)
    else:
        entries = [(e.name, e) for e in git.tree(tree_sha)]
    total = len(entries)
    body: dict[str, Any] = {
        "sha": tree_sha,
        "url": f"{ctx.api}/git/trees/{tree_sha}",
        "tree": None,
        "truncated": total > per_page,
        "page": page,
        "total_count": total,
    }
    start = per_page * (page - 1)
    if start < total:
        rows = []
        for path, e in entries[start : start + per_page]:
            if e.type == "tree":
                url = f"{ctx.api}/git/trees/{e.sha}"
            elif e.type == "commit":
                url = ""
            else:
                url = f"{ctx.api}/git/blobs/{e.sha}"
            size = len(git.blob(e.sha)) if e.type == "blob" else 0
            rows.append(
                {
                    "path": path,
                    "mode": e.display_mode,
                    "type": e.type,
                    "size": size,
                    "sha": e.sha,
                    "url": url,
                }
            )
        body["tree"] = rows
    return json_response(body, headers=[("X-Total-Count", str(total))])


@route("GET", r"/git/blobs/([^/]+)")
def get_blob(ctx: Ctx, m: re.Match[str]) -> Response:
    sha = unquote(m.group(1))
    if not HEX40.match(sha) or ctx.git.kind(sha) != "blob":
        raise ApiError(400, f"object does not exist [id: {sha}, rel_path: ]")
    data = ctx.git.blob(sha)
    big = len(data) > MAX_BLOB
    return json_response(
        {
            "content": None if big else base64.b64encode(data).decode(),
            "encoding": None if big else "base64",
            "url": f"{ctx.api}/git/blobs/{sha}",
            "sha": sha,
            "size": len(data),
        }
    )


def batch_contents(ctx: Ctx, paths: Any) -> Response:
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ApiError(422, "[Files]: must be a list of paths")
    commit_sha, ref, kind = resolve_ref_strict(ctx, ctx.req.arg("ref"))
    tree = ctx.git.commit(commit_sha).tree
    out: list[dict[str, Any] | None] = []
    for raw in paths[:FILE_CONTENTS_MAX]:
        try:
            path = clean_path(raw)
        except ApiError:
            out.append(None)
            continue
        entry = ctx.git.entry_at(tree, path) if path else None
        if entry is None or entry.is_tree:
            out.append(None)
            continue
        out.append(ctx.contents_json(commit_sha, ref, kind, path, entry, with_content=True))
    return json_response(out)


@route("GET", r"/file-contents")
def get_file_contents(ctx: Ctx, m: re.Match[str]) -> Response:
    raw = (ctx.req.arg("body") or "").encode("utf-8", "surrogatepass")
    try:
        data = forms.read_json(raw, forms.GET_FILES) if raw.strip() else None
    except forms.BodyError:
        data = None
    if data is None:
        raise ApiError(400, "invalid body parameter")
    return batch_contents(ctx, data.get("files") or [])


@route("POST", r"/file-contents")
def post_file_contents(ctx: Ctx, m: re.Match[str]) -> Response:
    return batch_contents(ctx, json_body(ctx.req, forms.GET_FILES).get("files") or [])


@route("GET", r"/archive/(.+)")
def get_archive(ctx: Ctx, m: re.Match[str]) -> Response:
    git, sb = ctx.git, ctx.sb
    spec = unquote(m.group(1))
    for ext in (".tar.gz", ".zip"):
        if spec.endswith(ext):
            ref = spec[: -len(ext)]
            break
    else:
        raise ApiError(400, f"unknown format: {spec}")
    commit_sha = git.resolve_commit(ref)
    if commit_sha is None:
        raise ApiError(404, f"repo ref not found: {ref}")
    commit = git.commit(commit_sha)
    prefix = f"{sb.repo}/"
    wanted = [clean_path(p) for p in ctx.req.args("path") if p]
    entries = [
        (p, e)
        for p, e in git.walk(commit.tree)
        if not wanted or any(p == w or p.startswith(w + "/") for w in wanted)
    ]
    mtime = commit.committer.when
    buf = io.BytesIO()
    if ext == ".zip":
        stamp = datetime.fromtimestamp(mtime, UTC).timetuple()[:6]
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(zipfile.ZipInfo(prefix, stamp), b"")
            for p, e in entries:
                info = zipfile.ZipInfo(prefix + p + ("/" if e.is_tree else ""), stamp)
                if e.is_tree:
                    zf.writestr(info, b"")
                else:
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, git.blob(e.sha))
        ctype = "application/zip"
    else:
        with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tf:

            def add_dir(name: str) -> None:
                info = tarfile.TarInfo(name)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
                tf.addfile(info)

            add_dir(prefix.rstrip("/"))
            for p, e in entries:
                if e.is_tree:
                    add_dir(prefix + p)
                else:
                    data = git.blob(e.sha)
                    member = tarfile.TarInfo(prefix + p)
                    member.size, member.mode, member.mtime = len(data), 0o644, mtime
                    tf.addfile(member, io.BytesIO(data))
        ctype = "application/gzip"
    filename = f"{sb.repo}-{ref.replace('/', '-')}{ext}"
    kind = ext.lstrip(".")
    headers = [
        ("Content-Type", ctype),
        ("Content-Disposition", f'attachment; filename="{filename}"'),
        ("Link", f'<{ctx.api}/archive/{commit_sha}.{kind}?rev={commit_sha}>; rel="immutable"'),
    ]
    return Response(200, headers, buf.getvalue())


# -- pulls -------------------------------------------------------------------------------
SORTS: dict[str, Callable[[PullState], tuple[int, ...]]] = {
    "oldest": lambda p: (p.created, p.id),
    "recentupdate": lambda p: (-p.updated, -p.created, -p.id),
    "leastupdate": lambda p: (p.updated, p.created, p.id),
    "recentclose": lambda p: (-(p.closed_at or 0), -p.created, -p.id),
}


def newest(p: PullState) -> tuple[int, ...]:
    return (-p.created, -p.id)


@route("GET", r"/pulls")
def list_pulls(ctx: Ctx, m: re.Match[str]) -> Response:
    req, sb = ctx.req, ctx.sb
    page, limit = list_options(req)
    state = req.arg("state")
    pulls = list(sb.pulls.values())
    if state in ("open", "closed"):  # notes §3.1: anything else means all
        pulls = [p for p in pulls if p.state == state]
    poster = req.arg("poster")
    if poster:
        user = sb.user_by_login(poster)
        if user is None:
            raise ApiError(400, f"user does not exist [uid: 0, name: {poster}]")
        pulls = [p for p in pulls if p.poster == user.login]
    base_branch = req.arg("base_branch")
    if base_branch:
        pulls = [p for p in pulls if p.base == base_branch]
    pulls.sort(key=SORTS.get(req.arg("sort") or "", newest))
    total = len(pulls)
    items = [ctx.pull_json(p, single=False) for p in pulls[(page - 1) * limit : page * limit]]
    return json_response(items, headers=list_headers(req, total, limit, page))


def strip_head_owner(head: str, sb: Sandbox) -> str:
    """``branch``, ``owner:branch`` or ``owner/repo:branch`` -> branch."""
    if ":" in head:
        owner, _, branch = head.partition(":")
        return branch
    return head


@route("POST", r"/pulls")
def create_pull(ctx: Ctx, m: re.Match[str]) -> Response:
    doer = ctx.require_token()
    sb, git = ctx.sb, ctx.git
    data = json_body(ctx.req, forms.CREATE_PULL)
    raw_head = str_field(data, "head", "Head", required=True)
    base = str_field(data, "base", "Base", required=True)
    title = str_field(data, "title", "Title", required=True)
    body = str_field(data, "body", "Body")
    head = strip_head_owner(raw_head, sb)
    if head == base:  # "rfcs:main" into main has no changes either
        raise ApiError(
            422, "Invalid PullRequest: There are no changes between the head and the base"
        )
    for name in (head, base):
        if name not in git.branches:
            raise ApiError(404, f'ref "{name}" does not exist')
    for p in sb.pulls.values():
        if p.state == "open" and p.head == head and p.base == base:
            raise ApiError(
                409,
                f"pull request already exists for these targets [id: {p.id}, issue_id: "
                f"{p.number}, head_repo_id: 1, base_repo_id: 1, head_branch: {head}, "
                f"base_branch: {base}]",
            )
    now = sb.now()
    head_sha = git.branches[head]
    number = sb.next_index
    sb.next_index += 1
    pr_id = sb.next_pull_id
    sb.next_pull_id += 1
    pr = PullState(
        number=number,
        id=pr_id,
        title=title,
        body=body,
        poster=doer.login,
        head=head,
        base=base,
        created=now,
        updated=now,
        merge_base=git.merge_base(git.branches[base], head_sha) or "",
    )
    sb.pulls[number] = pr
    sb.pull_refs[number] = head_sha
    sb.save()
    return json_response(ctx.pull_json(pr, single=True), 201)


def get_pr(ctx: Ctx, number: str) -> PullState:
    # Gitea's PathParamInt64 reads an unparsable index as 0: not found, never a crash.
    pr = ctx.sb.pulls.get(int(number)) if len(number) <= 19 else None
    if pr is None:
        raise not_found()
    return pr


@route("GET", r"/pulls/(\d+)")
def get_pull(ctx: Ctx, m: re.Match[str]) -> Response:
    return json_response(ctx.pull_json(get_pr(ctx, m.group(1)), single=True))


@route("PATCH", r"/pulls/(\d+)")
def edit_pull(ctx: Ctx, m: re.Match[str]) -> Response:
    doer = ctx.require_token()
    sb, git = ctx.sb, ctx.git
    pr = get_pr(ctx, m.group(1))
    if not doer.can_write() and doer.login != pr.poster:
        raise ApiError(403, None)  # Gitea: ctx.Status(403), empty body
    data = json_body(ctx.req, forms.EDIT_PULL)
    changed = False
    if "title" in data and data["title"] is not None:
        title = str_field(data, "title", "Title")
        if title and title != pr.title:
            pr.title, changed = title, True
    if "body" in data and data["body"] is not None:
        body = str_field(data, "body", "Body")
        if body != pr.body:
            pr.body, changed = body, True
    new_base = str_field(data, "base", "Base")
    if new_base and new_base != pr.base:
        if new_base not in git.branches:
            raise ApiError(404, f"new base '{new_base}' not exist")
        for other in sb.pulls.values():
            if (
                other is not pr
                and other.state == "open"
                and other.head == pr.head
                and other.base == new_base
            ):
                raise ApiError(
                    409,
                    f"pull request already exists for these targets [id: {other.id}, issue_id: "
                    f"{other.number}, head_repo_id: 1, base_repo_id: 1, head_branch: "
                    f"{other.head}, base_branch: {new_base}]",
                )
        pr.base, changed = new_base, True
        head = sb.pull_refs.get(pr.number)
        if head:
            pr.merge_base = git.merge_base(git.branches[new_base], head) or pr.merge_base
    state = data.get("state")
    if state is not None and state != pr.state:
        if pr.merged:
            raise ApiError(412, "cannot change state of this pull request, it was already merged")
        if state not in ("open", "closed"):
            raise ApiError(412, f"unknown state: {state}")
        if state == "open":
            for other in sb.pulls.values():
                if (
                    other is not pr
                    and other.state == "open"
                    and other.head == pr.head
                    and other.base == pr.base
                ):
                    raise ApiError(409, "A pull request already exists for these targets")
            pr.state, pr.closed_at = "open", None
            if pr.head in git.branches:
                sb.pull_refs[pr.number] = git.branches[pr.head]
        else:
            pr.state, pr.closed_at = "closed", sb.now()
        changed = True
    if changed:
        pr.updated = sb.now()
        sb.save()
    return json_response(ctx.pull_json(pr, single=True), 201)


@route("GET", r"/pulls/(\d+)/merge")
def is_merged(ctx: Ctx, m: re.Match[str]) -> Response:
    pr = get_pr(ctx, m.group(1))
    if pr.merged:
        return Response(204, [], b"")
    raise not_found()


MERGE_STYLES = ("merge", "rebase", "rebase-merge", "squash", "fast-forward-only", "manually-merged")


@route("POST", r"/pulls/(\d+)/merge")
def merge_pull(ctx: Ctx, m: re.Match[str]) -> Response:
    doer = ctx.require_token()
    sb, git = ctx.sb, ctx.git
    pr = get_pr(ctx, m.group(1))
    data = json_body(ctx.req, forms.MERGE_PULL)
    do = data.get("Do")
    if not isinstance(do, str) or not do:
        raise ApiError(422, "[Do]: Required")
    if do not in MERGE_STYLES:
        raise ApiError(422, "[Do]: In")
    if pr.merged:
        raise ApiError(405, "The PR is already merged")
    if pr.state == "closed":
        raise not_found()
    if not doer.can_write():
        raise ApiError(405, "User not allowed to merge PR")
    if is_wip(pr.title):
        raise ApiError(405, "Work in progress PRs cannot be merged")
    head_sha = sb.pull_refs[pr.number]
    expected = str_field(data, "head_commit_id", "HeadCommitID")
    if expected and expected != head_sha:
        raise ApiError(409, "head out of date")
    base_sha = git.branches.get(pr.base)
    if base_sha is None:
        raise ApiError(404, f"base branch does not exist [name: {pr.base}]")
    now = sb.now()
    sig = Signature(doer.full_name or doer.login, doer.email, now)
    title = str_field(data, "MergeTitleField", "MergeTitleField")
    extra = str_field(data, "MergeMessageField", "MergeMessageField")
    if do == "manually-merged":
        merge_sha = str_field(data, "MergeCommitID", "MergeCommitID") or head_sha
        new_base = None
    else:
        try:
            tree = three_way(sb, base_sha, head_sha)
        except MergeConflict as exc:
            raise ApiError(409, f"Merge Conflict: {', '.join(exc.paths)}") from exc
        ff_possible = git.is_ancestor(base_sha, head_sha)
        if do == "fast-forward-only":
            if not ff_possible:
                raise ApiError(409, "fast-forward-only merge is not possible")
            merge_sha = head_sha
        elif do == "rebase" and ff_possible:
            merge_sha = head_sha
        elif do == "rebase":
            # Approximation: the rebased head collapsed into one commit on the base
            # (real Gitea replays each commit; the resulting tree is the same).
            head_c = git.commit(head_sha)
            merge_sha = git.write_commit(tree, [base_sha], head_c.author, sig, head_c.message)
        elif do == "squash":
            msg = (title or f"{pr.title} (#{pr.number})") + ("\n\n" + extra if extra else "")
            head_c = git.commit(head_sha)
            merge_sha = git.write_commit(
                tree, [base_sha], head_c.author, sig, msg.rstrip("\n") + "\n"
            )
        else:
            msg = (
                title
                or f"Merge pull request '{pr.title}' (#{pr.number}) from {pr.head} into {pr.base}"
            )
            if extra:
                msg += "\n\n" + extra
            merge_sha = git.write_commit(
                tree, [base_sha, head_sha], sig, sig, msg.rstrip("\n") + "\n"
            )
        new_base = merge_sha
    pr.merged, pr.state = True, "closed"
    pr.merged_at = pr.closed_at = pr.updated = now
    pr.merged_by = doer.login
    pr.merge_commit_sha = merge_sha
    if new_base:
        sb.set_branch(pr.base, new_base)
    if data.get("delete_branch_after_merge") is True and pr.head in git.branches:
        if pr.head != sb.default_branch:
            sb.delete_branch(pr.head)
    sb.save()
    return Response(200, [], b"")


@route("GET", r"/pulls/([^/]+)/(.+)")
def get_pull_by_base_head(ctx: Ctx, m: re.Match[str]) -> Response:
    base = unquote(m.group(1))
    head = unquote(m.group(2))
    if ":" in head:
        head = head.split(":", 1)[1]
    hits = [p for p in ctx.sb.pulls.values() if p.base == base and p.head == head]
    if not hits:
        raise not_found()
    # Gitea's lookup (xorm ``Get`` without ORDER BY, API-NOTES §3.7) leaves the choice
    # undefined when several PRs share a head; the table order makes the OLDEST the
    # likely answer. Return that, so clients that assume "the open one" are caught.
    hits.sort(key=lambda p: p.number)
    return json_response(ctx.pull_json(hits[0], single=True))


# -- issue comments (a PR is an issue: same index) ----------------------------------------
def comment_json(ctx: Ctx, pr: PullState, c: CommentState) -> dict[str, Any]:
    """swagger ``Comment`` as Gitea's ``ToAPIComment`` writes it for a PR's comment:
    ``issue_url`` is empty and ``pull_request_url`` the PR's web page."""
    poster = ctx.sb.user_by_login(c.poster)
    page = f"{ctx.html}/pulls/{pr.number}"
    return {
        "id": c.id,
        "html_url": f"{page}#issuecomment-{c.id}",
        "pull_request_url": page,
        "issue_url": "",
        "user": ctx.user_json(poster) if poster is not None else None,
        "original_author": "",
        "original_author_id": 0,
        "body": c.body,
        "assets": [],
        "created_at": fmt_time(c.created),
        "updated_at": fmt_time(c.updated),
    }


def _time_arg(req: Request, name: str) -> int | None:
    raw = req.arg(name)
    if not raw:
        return None
    try:
        return int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise ApiError(422, f"invalid {name}: {raw}") from None


@route("GET", r"/issues/(\d+)/comments")
def list_issue_comments(ctx: Ctx, m: re.Match[str]) -> Response:
    """``issueGetComments``: every plain comment, oldest first, no paging (Gitea has
    none here); ``since``/``before`` filter on the update time."""
    pr = get_pr(ctx, m.group(1))
    since, before = _time_arg(ctx.req, "since"), _time_arg(ctx.req, "before")
    items = [
        comment_json(ctx, pr, c)
        for c in sorted(ctx.sb.comments.get(pr.number, []), key=lambda c: (c.created, c.id))
        if (since is None or c.updated >= since) and (before is None or c.updated <= before)
    ]
    return json_response(items, headers=[("X-Total-Count", str(len(items)))])


@route("POST", r"/issues/(\d+)/comments")
def create_issue_comment(ctx: Ctx, m: re.Match[str]) -> Response:
    """``issueCreateComment``: any signed-in reader may comment (201 ``Comment``)."""
    doer = ctx.require_token()
    sb = ctx.sb
    pr = get_pr(ctx, m.group(1))
    data = json_body(ctx.req, forms.CREATE_ISSUE_COMMENT)
    body = str_field(data, "body", "Body", required=True)
    now = sb.now()
    comment = CommentState(sb.next_comment_id, pr.number, doer.login, body, now, now)
    sb.next_comment_id += 1
    sb.comments.setdefault(pr.number, []).append(comment)
    sb.save()
    return json_response(comment_json(ctx, pr, comment), 201)


def commit_of(sb: Sandbox, sha: str) -> Commit:
    return sb.git.commit(sha)
