"""Shared fixtures. Keep each fixture small and documented; append, don't reshuffle."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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


# A graduated-to-be entry with an unknown key, on main in `typed_config_sandbox`; the bot
# and actions-CLI tests edit, claim and re-tag it. Import it (``from conftest import``)
# where a test needs the original text.
TYPED_CONFIG_ENTRY = textwrap.dedent(
    """\
    ---
    slug: typed-config
    title: Typed configuration loading
    state: idea
    proposed_by: grace
    proposed_at: 2026-01-02T10:00:00Z
    owners: []
    arbiters: [grace]
    tags: [config]
    custom_field: keep me
    ---
    Why we need typed configuration.
    """
)


@pytest.fixture
def typed_config_sandbox() -> Sandbox:
    """A sandbox at ``FIXED_NOW`` with ``rfcs/typed-config.md`` (TYPED_CONFIG_ENTRY) on main."""
    sb = Sandbox(clock=lambda: FIXED_NOW)
    sb.commit_files(
        "main", {"rfcs/typed-config.md": TYPED_CONFIG_ENTRY.encode()}, "Add typed-config"
    )
    return sb


def idea_entry(slug: str, title: str, body: str = "Body.") -> bytes:
    """A valid §2 entry file in state idea (by ada, arbiter grace): sweep/cache test data."""
    return (
        f"---\nslug: {slug}\ntitle: {title}\nstate: idea\nproposed_by: ada\n"
        f"owners: [ada]\narbiters: [grace]\ntags: [t]\n---\n{body}\n"
    ).encode()


@pytest.fixture(autouse=True)
def _private_state_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A `Config` without ``state_dir`` (issue 14 §3: the UI's remembered state) never
    writes into the real ``~/.local/state``: ``XDG_STATE_HOME`` points at a temp dir."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state-home")))


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of an ``rfctui`` subprocess configured as a person's shell would
    be: ada's and the bot's tokens, an empty private config file, the cache and data in
    ``tmp_path``, nothing of this machine's RFCTUI_*. The caller adds RFCTUI_GITEA_URL."""
    config = tmp_path / "config.toml"
    config.write_text("")
    config.chmod(0o600)
    return {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")} | {
        "RFCTUI_CONFIG": str(config),
        "RFCTUI_BOT_TOKEN": "bot-token",
        "RFCTUI_USER_TOKEN": "ada-token",
        "RFCTUI_CACHE_DIR": str(tmp_path / "cache"),
        "RFCTUI_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
