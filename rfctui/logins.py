"""Gitea logins compare case-insensitively (SPEC §9, §6.3).

Gitea stores a login with the case it was registered with but matches it ignoring case
(it keeps a ``lower_name`` column and looks users up by it), so ``RFC-Bot`` in a
configuration file and ``rfc-bot`` in an API answer are the same account. Every
comparison of logins in rfctui goes through these two functions; logins are still shown
as Gitea returns them. Stdlib only: the first-paint path uses it.
"""

from __future__ import annotations

__all__ = ["login_key", "same_login"]


def login_key(login: str | None) -> str:
    """The form two logins are compared in: lower-cased, as Gitea's ``lower_name``."""
    return (login or "").lower()


def same_login(a: str | None, b: str | None) -> bool:
    """True if `a` and `b` name the same Gitea account (neither empty)."""
    return bool(a) and bool(b) and login_key(a) == login_key(b)
