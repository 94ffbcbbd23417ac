"""What a bot action can raise (SPEC §6): one actionable, token-free line each.

A leaf of the bot package so the forms and the CLI can catch these without loading the
pipeline (or httpx).
"""

from __future__ import annotations

from collections.abc import Mapping

from rfctui.text import one_line

__all__ = [
    "ActionFailed",
    "ActionsDisabled",
    "IdentityUnreachable",
    "NothingToChange",
    "Refused",
    "ValidationError",
]

LINE_MAX = 400  # the longest one-line error a person sees


class ActionsDisabled(Exception):
    """No verified identity (§6.2): actions are off, reading still works. One line."""


class IdentityUnreachable(ActionsDisabled):
    """`GET /user` got no answer (network, timeout, 5xx): who you are is unknown *now*.

    `Session.identify` turns this into an offline actor that saves what was typed (§6.4).
    """


class ValidationError(ValueError):
    """Input rejected before anything was sent. `errors` maps a form field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Refused(ValidationError):
    """The cache, or one fresh read just before sending, already shows the action would
    fail (someone else's open PR on its branch, a pending idea, already an owner).

    Raised before the actions log row is written, so no failed action is left to retry;
    the CLI exits 2 and the UI reopens the form. `errors` is ``{"form": reason}`` and
    `str()` is the reason alone (one line naming the PR, e.g. ``#4 by grace``).
    """

    def __init__(self, reason: str) -> None:
        self.reason = one_line(str(reason), LINE_MAX)
        super().__init__({"form": self.reason})

    def __str__(self) -> str:
        return self.reason


class ActionFailed(Exception):
    """Gitea refused or could not be reached; the action is in the log as `failed`.

    `str()` is one actionable line without a token; `action_id` lets the caller offer
    retry/discard.
    """

    def __init__(
        self, message: str, action_id: int | None = None, *, offline: bool = False
    ) -> None:
        self.action_id = action_id
        self.offline = offline  # Gitea could not be reached: the same action may work later
        super().__init__(one_line(str(message), LINE_MAX))


class NothingToChange(ActionFailed):
    """Gitea already says what the action asks for: no branch, no PR, nothing to retry."""


# ---------------------------------------------------------------- reading an exception
# (package-internal helpers: the bot's modules share them; not re-exported)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status a `GiteaError` carries (None for anything else)."""
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def is_unreachable(exc: BaseException) -> bool:
    """No usable answer from Gitea: worth trying again later, unchanged."""
    from rfctui.gitea import GiteaTimeout, GiteaUnreachable

    status = status_of(exc)
    return isinstance(exc, GiteaUnreachable | GiteaTimeout) or (
        status is not None and status >= 500
    )


def error_text(exc: BaseException) -> str:
    """One line for any exception; Gitea errors already know how to say it safely."""
    return one_line(str(exc), LINE_MAX) or type(exc).__name__
