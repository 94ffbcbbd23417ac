"""The files rfctui writes are private (SPEC §11; issue 9 item 6).

Under a usual umask (022) the cache, the actions log (with their WAL/SHM files), the
files moved aside and the identity file are ``0600`` in ``0700`` directories. An
actions log from a newer rfctui is refused and left exactly where it was (§6.4: it
cannot be rebuilt from Gitea).
"""

from __future__ import annotations

import io
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from rfctui import actions_cli
from rfctui.config import Config, Secret
from rfctui.db import ACTIONS_SCHEMA_VERSION, SCHEMA_VERSION, CacheError, open_actions, open_cache
from rfctui.sandbox import Sandbox
from rfctui.session import Session

BASE_URL = "http://gitea.test"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _sqlite_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + s) for s in ("", "-wal", "-shm")]


def test_cache_files_and_directories_are_private(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "rfctui" / "x.sqlite"
    with open_cache(path) as cache:
        with cache.write():
            cache.set_state({"probe": "1"})
        files = _sqlite_files(path)
        assert all(f.exists() for f in files)  # WAL and SHM exist while it is open
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert _mode(path.parent) == 0o700
    assert _mode(path.parent.parent) == 0o700  # a parent rfctui created


def test_actions_log_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "actions.sqlite"
    with open_actions(path) as log:
        log.add("open_claim_pr", "typed-config", "ada", {"slug": "typed-config"})
        files = _sqlite_files(path)
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert _mode(path.parent) == 0o700


def test_an_old_loose_cache_is_tightened_and_what_is_moved_aside_stays_private(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.sqlite"
    open_cache(good).close()
    os.chmod(good, 0o644)
    os.chmod(tmp_path, 0o755)
    open_cache(good).close()
    assert _mode(good) == 0o600 and _mode(tmp_path) == 0o700

    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not sqlite at all" * 100)
    os.chmod(bad, 0o644)
    with open_cache(bad) as cache:
        assert cache.notice and "moved aside" in cache.notice
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("bad.sqlite.corrupt-")]
    assert aside and all(_mode(p) == 0o600 for p in aside)
    assert _mode(bad) == 0o600


async def test_identity_file_is_private(typed_config_sandbox: Sandbox, tmp_path: Path) -> None:
    config = Config(gitea_url=BASE_URL, bot_token=Secret("bot-token"),
                    user_token=Secret("ada-token"), cache_dir=tmp_path / "cache",
                    data_dir=tmp_path / "data", transport=typed_config_sandbox.transport)
    session = Session(config)
    async with session.bot() as (_bot, actor):
        assert actor.login == "ada"
    session.close()
    identity = Path(config.actions_file).with_suffix(".identity.json")
    assert identity.exists() and "ada" in identity.read_text()
    assert _mode(identity) == 0o600 and _mode(identity.parent) == 0o700
    assert [p.name for p in identity.parent.iterdir() if p.name.endswith(".tmp")] == []


def _newer_actions_log(path: Path) -> bytes:
    with open_actions(path) as log:
        log.add("open_claim_pr", "typed-config", "ada", {"slug": "typed-config"})
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {ACTIONS_SCHEMA_VERSION + 1}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("repair", [True, False])
def test_an_actions_log_from_a_newer_rfctui_is_refused_and_left_alone(
    tmp_path: Path, repair: bool
) -> None:
    path = tmp_path / "actions.sqlite"
    before = _newer_actions_log(path)
    with pytest.raises(CacheError) as info:
        open_actions(path, repair=repair)
    message = str(info.value)
    assert "\n" not in message and "newer rfctui" in message and "left as it is" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if "corrupt" in p.name) == []


def test_the_cli_refuses_a_newer_actions_log_with_one_line(tmp_path: Path) -> None:
    config = Config(gitea_url=BASE_URL, cache_dir=tmp_path / "cache", data_dir=tmp_path / "data")
    path = Path(config.actions_file)
    before = _newer_actions_log(path)
    out, err = io.StringIO(), io.StringIO()
    code = actions_cli.main(["actions"], config, stdout=out, stderr=err)
    assert code != 0
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and "newer rfctui" in lines[0], err.getvalue()
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if "corrupt" in p.name] == []


def test_a_cache_from_a_newer_rfctui_is_still_rebuilt(tmp_path: Path) -> None:
    """The cache is rebuildable from Gitea: moving it aside loses nothing."""
    path = tmp_path / "cache.sqlite"
    open_cache(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with open_cache(path) as cache:
        assert cache.notice and "moved aside" in cache.notice
