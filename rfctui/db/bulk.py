"""Bulk row writes on the raw ``sqlite3`` connection (issue 13: resync at 10,000 entries).

Why: peewee builds one SQL statement per ``insert_many`` chunk in Python, converting
every value through its field objects; at 10,000 entries that was most of the write
time. Here each model gets one ``INSERT OR REPLACE`` with ``?`` placeholders and a
per-column converter computed once (the same stored forms as `rfctui.db.schema`:
RFC 3339 text for datetimes, compact JSON for lists and dicts, 0/1 for booleans), run
by ``executemany`` on the connection of the caller's open transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import peewee as pw

from rfctui.db.schema import Base, JSONField, UTCDateTimeField, dumps
from rfctui.rows import format_dt

__all__ = ["RowWriter", "replace_rows"]

_Convert = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _json(value: Any) -> Any:
    return None if value is None else dumps(value)


def _bool(value: Any) -> Any:
    return None if value is None else int(bool(value))


class RowWriter:
    """``INSERT OR REPLACE`` of column dicts into one model's table (the unique index is
    the key, as peewee's ``on_conflict_replace``); a missing column takes the field's
    default; ``id`` is never written (SQLite assigns it)."""

    def __init__(self, model: type[Base]) -> None:
        fields = [f for f in model._meta.sorted_fields if not isinstance(f, pw.AutoField)]
        self.names = tuple(f.name for f in fields)
        self.columns = tuple(f.column_name for f in fields)
        self._convert: tuple[_Convert, ...] = tuple(self._converter(f) for f in fields)
        self._defaults: tuple[Callable[[], Any], ...] = tuple(self._default(f) for f in fields)
        self._special = tuple(
            (i, conv) for i, conv in enumerate(self._convert) if conv is not _identity
        )
        marks = ", ".join("?" for _ in fields)
        cols = ", ".join(f'"{c}"' for c in self.columns)
        self.table = model._meta.table_name
        self.sql = f'INSERT OR REPLACE INTO "{self.table}" ({cols}) VALUES ({marks})'


    @staticmethod
    def _converter(field: pw.Field) -> _Convert:
        if isinstance(field, UTCDateTimeField):
            return format_dt
        if isinstance(field, JSONField):
            return _json
        if isinstance(field, pw.BooleanField):
            return _bool
        return _identity

    @staticmethod
    def _default(field: pw.Field) -> Callable[[], Any]:
        default = field.default
        if callable(default):
            return default  # type: ignore[no-any-return]
        return lambda: default

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """One row's parameters, in column order (converters only where one is needed:
        this runs once per row of a 10,000-entry resync)."""
        try:
            out = [row[n] for n in self.names]
        except KeyError:
            out = [row[n] if n in row else d() for n, d in zip(self.names, self._defaults,
                                                               strict=True)]
        for i, conv in self._special:
            out[i] = conv(out[i])
        return tuple(out)

    def write(self, conn: sqlite3.Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write `rows` (inside the caller's transaction); returns how many."""
        params = [self.values(r) for r in rows]
        if params:
            conn.executemany(self.sql, params)
        return len(params)


_WRITERS: dict[str, RowWriter] = {}  # by table name: every file's bound model is alike


def replace_rows(
    conn: sqlite3.Connection, model: type[Base], rows: Iterable[Mapping[str, Any]]
) -> int:
    """`RowWriter.write` with one writer per table, built on first use."""
    writer = _WRITERS.get(model._meta.table_name)
    if writer is None:
        writer = _WRITERS[model._meta.table_name] = RowWriter(model)
    return writer.write(conn, rows)
