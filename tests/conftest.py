"""Shared fixtures. Keep each fixture small and documented; append, don't reshuffle."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from rfctui.sandbox import Sandbox

FIXED_NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Sandbox:
    """A fresh in-process sandbox with the default users (DESIGN.md "Names used everywhere").

    Use ``sandbox.transport`` with ``httpx.Client``/``httpx.AsyncClient``.
    """
    return Sandbox()


@pytest.fixture
def served_sandbox() -> Iterator[tuple[Sandbox, str]]:
    """A fresh sandbox served over real HTTP on 127.0.0.1: ``(sandbox, base_url)``."""
    sb = Sandbox()
    with sb.serve(port=0) as base_url:
        yield sb, base_url
