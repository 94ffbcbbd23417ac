"""The per-user SQLite cache and the actions log (SPEC §4.2, §6.4); see `cache`."""

from rfctui.db.cache import *  # noqa: F403
from rfctui.db.cache import (  # noqa: F401
    ACTIONS_SCHEMA_VERSION,
    BUSY_TIMEOUT_MS,
    EXPORT_SCHEMA,
    PR_COLUMNS,
    RFC_COLUMNS,
    __all__,
    _json_default,
)
