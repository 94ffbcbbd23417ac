"""Who is at the keyboard (SPEC §6.2): verified with the person's own token.

The bot's token does the writes, so the person must be proven separately: `GET /user`
with their token. The last verified identity per token is remembered (`IdentityFile`)
so an action typed while Gitea is unreachable is saved under the right name (§6.4).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rfctui.bot.errors import (
    LINE_MAX,
    ActionsDisabled,
    IdentityUnreachable,
    error_text,
    is_unreachable,
    status_of,
)
from rfctui.private import write_private
from rfctui.text import one_line

if TYPE_CHECKING:
    from rfctui.gitea import GiteaClient

__all__ = [
    "BOT_TOKEN_AS_USER",
    "LOGIN_CHARS",
    "Actor",
    "IdentityFile",
    "IdentitySource",
    "same_secret",
    "verify_actor",
]

BOT_TOKEN_AS_USER = "RFCTUI_USER_TOKEN is the bot's token; use your own"
LOGIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True, slots=True)
class Actor:
    """The person at the keyboard, as verified by `GET /user` with their own token."""

    login: str
    full_name: str
    # Not verified just now (Gitea unreachable): the last verified identity for this
    # token, or login "" if it was never verified. Such an actor only saves actions.
    offline: bool = field(default=False, compare=False)

    @property
    def display_name(self) -> str:
        return self.full_name or self.login


def _usable_login(login: str) -> bool:
    return bool(login) and set(login) <= LOGIN_CHARS


async def verify_actor(user_client: GiteaClient | None) -> Actor:
    """`GET /user` with the user's own token; anything else disables actions (§6.2).

    `user_client` is a `GiteaClient` built with the user's token, or None when no token
    is configured. Gitea unreachable raises `IdentityUnreachable` (an `ActionsDisabled`).
    """
    if user_client is None or not user_client.has_token:
        raise ActionsDisabled("actions need your own Gitea token: set RFCTUI_USER_TOKEN")
    try:
        user = await user_client.current_user()
    except Exception as exc:  # GiteaError and transport errors alike
        if status_of(exc) == 401:
            raise ActionsDisabled(
                "Gitea refused your token (401): check RFCTUI_USER_TOKEN"
            ) from None
        if is_unreachable(exc):
            raise IdentityUnreachable(
                f"cannot verify who you are: {error_text(exc)}"
            ) from None
        raise ActionsDisabled(f"cannot verify who you are: {error_text(exc)}") from None
    login = str(user.get("login") or "")
    if not _usable_login(login):
        raise ActionsDisabled("Gitea returned no usable login for your token")
    full_name = one_line(str(user.get("full_name") or ""), LINE_MAX) or login
    return Actor(login=login, full_name=full_name)


# ---------------------------------------------------------------- tokens


class _Revealable(Protocol):  # a `secret.Secret`, without importing the configuration
    def reveal(self) -> str: ...


Token = _Revealable | str | None


def _reveal(token: Token) -> str:
    """A token's text (a `Secret` or a plain string); never logged or shown."""
    if token is None or isinstance(token, str):
        return token or ""
    return token.reveal()


def same_secret(a: Token, b: Token) -> bool:
    """Whether two tokens are the same (constant time); an empty one matches nothing."""
    ta, tb = _reveal(a), _reveal(b)
    return bool(ta) and hmac.compare_digest(ta.encode(), tb.encode())


# ---------------------------------------------------------------- the identity file


class IdentitySource(Protocol):
    """What `IdentityFile` reads of a `config.Config` (structural: no import of it)."""

    @property
    def gitea_url(self) -> str: ...

    @property
    def actions_file(self) -> Path: ...


class IdentityFile:
    """The last verified actor per user token, so an action typed while Gitea is
    unreachable is saved under the right name (§6.4).

    Keyed by a SHA-256 fingerprint of server URL and token — never the token itself —
    in a 0600 JSON file next to the actions log. Best effort: any I/O error means
    "not known", never a failed action.
    """

    def __init__(self, config: IdentitySource, token: Token) -> None:
        self.path = Path(config.actions_file).with_suffix(".identity.json")
        material = f"{config.gitea_url}\n{_reveal(token)}".encode()
        self.key = hashlib.sha256(material).hexdigest()

    def __repr__(self) -> str:  # the fingerprint is not a secret, but keep it short
        return f"IdentityFile({str(self.path)!r})"

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load(self) -> Actor | None:
        """The identity last verified for this token, marked ``offline``; or None."""
        entry = self._read().get(self.key)
        if not isinstance(entry, dict):
            return None
        login = str(entry.get("login") or "")
        if not _usable_login(login):
            return None
        full_name = one_line(str(entry.get("full_name") or ""), LINE_MAX) or login
        return Actor(login, full_name, offline=True)

    def save(self, actor: Actor) -> None:
        data = self._read()
        record = {"login": actor.login, "full_name": actor.full_name}
        if data.get(self.key) == record:
            return
        data[self.key] = record
        try:  # 0600 in a 0700 directory whatever the umask (§11)
            write_private(self.path, json.dumps(data, sort_keys=True).encode())
        except OSError:
            pass
