"""The per-user SQLite cache and the actions log (SPEC §4.2, §6.4).

Two files, two lifetimes:

* the **cache** (`open_cache`, `cache.py`) mirrors Gitea (§4.0) and can be thrown away
  at any time; the reconciler is its only writer (§4.1), the UI only reads it;
* the **actions log** (`open_actions`, `actions.py`) is the audit trail and outbox of
  user actions (§6.4); it cannot be rebuilt from Gitea, so it lives in its own file and
  ``--resync`` never touches it.

`files.py` opens both safely (private, checked, moved aside when bad); `schema.py` holds
the tables. Importing this package imports peewee: the UI's start-up reads the cache
through `rfctui.rows` and imports this only after the first paint.
"""

from rfctui.db.actions import (
    ACTION_KINDS,
    ACTION_STATUSES,
    ACTIONS_SCHEMA_VERSION,
    ActionRow,
    ActionsLog,
    ActionStateError,
    open_actions,
)
from rfctui.db.cache import EXPORT_SCHEMA, Cache, comparable_export, open_cache
from rfctui.db.files import BUSY_TIMEOUT_MS, CacheError
from rfctui.db.schema import (
    PR_COLUMNS,
    RFC_COLUMNS,
    Action,
    CachedPR,
    CachedRFC,
    HeadFile,
    SyncState,
    json_default,
)
from rfctui.rows import (
    MISSING,
    SCHEMA_VERSION,
    STALE_STATES,
    ListHead,
    ListItem,
    PRRow,
    RFCDetail,
    SyncStatus,
    format_dt,
    parse_dt,
    search_text,
)

__all__ = [
    "ACTIONS_SCHEMA_VERSION",
    "ACTION_KINDS",
    "ACTION_STATUSES",
    "BUSY_TIMEOUT_MS",
    "EXPORT_SCHEMA",
    "MISSING",
    "PR_COLUMNS",
    "RFC_COLUMNS",
    "SCHEMA_VERSION",
    "STALE_STATES",
    "Action",
    "ActionRow",
    "ActionStateError",
    "ActionsLog",
    "Cache",
    "CacheError",
    "CachedPR",
    "CachedRFC",
    "HeadFile",
    "ListHead",
    "ListItem",
    "PRRow",
    "RFCDetail",
    "SyncState",
    "SyncStatus",
    "comparable_export",
    "format_dt",
    "json_default",
    "open_actions",
    "open_cache",
    "parse_dt",
    "search_text",
]

# The old private name, still used by the reconciler's entry rows; prefer json_default.
_json_default = json_default
