"""User actions as pull requests made by the bot account (SPEC §5, §6).

The package's parts, lowest first: `errors` (what an action raises), `identity` (who
is at the keyboard, §6.2), `checks` (pure validation and the cache's pre-flight, shared
with the forms and the CLI), `describe` (an action's branch, commit and PR text),
`branches` (reads of the head branch and its PRs) and `core` (`Bot`, the outbox
pipeline, §6.4). `rfctui.session.Session.bot()` wires a `Bot` to the cache, the
actions log and the reconciler's refresh; nothing here imports the reconciler.
"""

from __future__ import annotations

from rfctui.bot.checks import (
    BASE,
    DUPLICATE_RATIO,
    LIST_KEYS,
    LOCKED_KEYS,
    SCALAR_KEYS,
    TITLE_MAX,
    CacheReads,
    RowSource,
    check_edit,
    check_metadata,
    check_propose,
    has_listed_rows,
    parse_metadata_value,
    preflight,
)
from rfctui.bot.core import KINDS, Bot, Refresh
from rfctui.bot.errors import (
    ActionFailed,
    ActionsDisabled,
    IdentityUnreachable,
    NothingToChange,
    Refused,
    ValidationError,
)
from rfctui.bot.identity import (
    BOT_TOKEN_AS_USER,
    Actor,
    IdentityFile,
    same_secret,
    verify_actor,
)
from rfctui.results import ActionResult

__all__ = [
    "BASE",
    "BOT_TOKEN_AS_USER",
    "DUPLICATE_RATIO",
    "KINDS",
    "LIST_KEYS",
    "LOCKED_KEYS",
    "SCALAR_KEYS",
    "TITLE_MAX",
    "ActionFailed",
    "ActionResult",
    "ActionsDisabled",
    "Actor",
    "Bot",
    "CacheReads",
    "IdentityFile",
    "IdentityUnreachable",
    "NothingToChange",
    "Refresh",
    "Refused",
    "RowSource",
    "ValidationError",
    "check_edit",
    "check_metadata",
    "check_propose",
    "has_listed_rows",
    "parse_metadata_value",
    "preflight",
    "same_secret",
    "verify_actor",
]
