"""The database layer's errors, apart so that callers name them without the rest.

The command line (`rfctui.cli`, `rfctui.actions_cli`) only needs to recognise these; the
layering table lets it import this module, not the cache or the actions log.
"""

from __future__ import annotations

__all__ = ["ActionStateError", "CacheError"]


class CacheError(RuntimeError):
    """The cache (or actions log) cannot be opened even after moving it aside; one line."""


class ActionStateError(CacheError):
    """An actions-log operation that the row's status does not allow (one line)."""
