"""The sandbox's plain records: users and pull requests.

A leaf of the sandbox package: the request handlers (``api``), the sample builder and the
``Sandbox`` itself all use these, so they live below all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PERMISSIONS", "CommentState", "PullState", "SandboxUser", "default_users"]

PERMISSIONS = ("none", "read", "write", "admin")


@dataclass(frozen=True)
class SandboxUser:
    """A user known to the sandbox. ``permission`` is on the one repository:
    ``none`` / ``read`` / ``write``; ``admin`` means site admin (can do everything)."""

    login: str
    token: str = field(repr=False)
    full_name: str = ""
    permission: str = "read"
    email: str = ""

    def __post_init__(self) -> None:
        if self.permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {PERMISSIONS}, not {self.permission!r}")
        if not self.email:
            object.__setattr__(self, "email", f"{self.login}@sandbox.localhost")

    def can_read(self) -> bool:
        return self.permission in ("read", "write", "admin")

    def can_write(self) -> bool:
        return self.permission in ("write", "admin")

    @property
    def is_admin(self) -> bool:
        return self.permission == "admin"


def default_users(bot: str = "rfc-bot") -> list[SandboxUser]:
    """The users fixed in DESIGN.md ("Names used everywhere")."""
    return [
        SandboxUser(bot, "bot-token", "RFC Bot", "write"),
        SandboxUser("ada", "ada-token", "Ada Lovelace", "read"),
        SandboxUser("grace", "grace-token", "Grace Hopper", "read"),
        SandboxUser("admin", "admin-token", "Site Admin", "admin"),
    ]


@dataclass
class PullState:
    """One pull request. Times are unix seconds (Gitea stores second resolution)."""

    number: int
    id: int
    title: str
    body: str
    poster: str
    head: str
    base: str
    created: int
    updated: int
    merge_base: str
    state: str = "open"
    merged: bool = False
    merged_at: int | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    closed_at: int | None = None


@dataclass
class CommentState:
    """One comment on an issue or pull request (Gitea keeps PR comments on the issue
    with the PR's index). Times are unix seconds."""

    id: int
    index: int
    poster: str
    body: str
    created: int
    updated: int
