"""A first sweep that goes wrong (issue 14 §2, §3), as a person meets it: ``rfctui
--sync`` / ``--export json`` in a subprocess against the sandbox over real HTTP.

- a wrong path in the Gitea URL (``http://host/foo``) names the URL that answered 404
  and the server root where a Gitea answers, instead of blaming org/repo;
- a sweep against a target that never answered leaves no empty cache file behind, and
  a cache that holds data is never removed;
- ``--export json`` with nothing cached says so on stderr, exit 0, the empty export.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import cli_env

from rfctui.sandbox import Sandbox

TOKENS = ("bot-token", "ada-token", "grace-token", "admin-token")


@pytest.fixture
def served(tmp_path: Path, typed_config_sandbox: Sandbox) -> Iterator[tuple[str, dict[str, str]]]:
    env = cli_env(tmp_path)
    with typed_config_sandbox.serve(port=0) as base_url:
        env["RFCTUI_GITEA_URL"] = base_url
        yield base_url, env


def rfctui(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "rfctui", *args], capture_output=True,
                          text=True, env=env, timeout=120)
    for text in (proc.stdout, proc.stderr):
        assert "Traceback" not in text
        assert not any(token in text for token in TOKENS)
    return proc


def cache_files(env: dict[str, str]) -> list[str]:
    root = Path(env["RFCTUI_CACHE_DIR"])
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- §2 a wrong URL path


def test_a_url_path_is_reported_with_the_url_and_the_root(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    proc = rfctui(env | {"RFCTUI_GITEA_URL": f"{base}/foo"}, "--sync")
    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert f"{base}/foo/api/v1/repos/rfcs/meta/" in line and " answered 404" in line
    assert f"a Gitea answers at {base}: set RFCTUI_GITEA_URL (or gitea_url) to {base}" in line
    assert "RFCTUI_ORG" not in line and "RFCTUI_META_REPO" not in line  # not blamed
    assert "?" not in line.split(" answered 404")[0]  # the path, without paging
    assert len(proc.stderr.splitlines()) == 1


def test_a_missing_repository_still_names_org_and_repo(
    served: tuple[str, dict[str, str]],
) -> None:
    """The URL is right: the 404 is about the repository, and the wording says so."""
    _, env = served
    proc = rfctui(env | {"RFCTUI_META_REPO": "no-such-repo"}, "--sync")
    assert proc.returncode == 1
    assert "RFCTUI_ORG / RFCTUI_META_REPO (rfcs/no-such-repo)" in proc.stderr
    assert "a Gitea answers at" not in proc.stderr


def test_a_url_with_no_gitea_anywhere_says_so(
    served: tuple[str, dict[str, str]], tmp_path: Path,
) -> None:
    """A plain web server (no Gitea at the URL nor at its root): named as such."""
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"message": "not found"}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/foo"
        _, env = served
        proc = rfctui(env | {"RFCTUI_GITEA_URL": url}, "--sync")
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 1
    assert f"no Gitea answers at {url}/api/v1/version" in proc.stderr
    assert "check RFCTUI_GITEA_URL" in proc.stderr


# ---------------------------------------------------------------- §3 no empty cache


def test_a_target_that_never_answered_leaves_no_cache(
    served: tuple[str, dict[str, str]],
) -> None:
    _, env = served
    env = env | {"RFCTUI_GITEA_URL": f"http://127.0.0.1:{closed_port()}"}
    proc = rfctui(env, "--sync")
    assert proc.returncode == 1 and "connection refused" in proc.stderr
    assert cache_files(env) == []  # no .sqlite, no -wal, no -shm


def test_a_wrong_url_path_leaves_no_cache(served: tuple[str, dict[str, str]]) -> None:
    base, env = served
    assert rfctui(env | {"RFCTUI_GITEA_URL": f"{base}/foo"}, "--sync").returncode == 1
    assert cache_files(env) == []


def test_a_cache_with_data_is_kept_when_a_later_sweep_fails(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    assert rfctui(env, "--sync").returncode == 0
    kept = cache_files(env)
    assert any(name.endswith(".sqlite") for name in kept)
    # the same cache file (the URL's path is not part of the target), a failing sweep:
    # the cache stays with its data
    down = rfctui(env | {"RFCTUI_GITEA_URL": f"{base}/foo"}, "--sync")
    assert down.returncode == 1
    assert cache_files(env) == kept
    export = json.loads(rfctui(env, "--export", "json").stdout)
    assert [r["slug"] for r in export["rfcs"]] == ["typed-config"]


def test_an_existing_empty_cache_is_not_removed(served: tuple[str, dict[str, str]]) -> None:
    """Only a file the failed run itself created goes: one that was there stays."""
    _, env = served
    env = env | {"RFCTUI_GITEA_URL": f"http://127.0.0.1:{closed_port()}"}
    rfctui(env, "--sync")
    assert cache_files(env) == []
    # an empty cache that was there before this run (made by an older rfctui)
    from rfctui.config import load_config
    from rfctui.db import open_cache

    config = load_config({}, environ=env)
    open_cache(config.cache_file).close()
    before = cache_files(env)
    assert before
    assert rfctui(env, "--sync").returncode == 1
    assert cache_files(env) == before


# ---------------------------------------------------------------- §3 export


def test_export_with_nothing_cached_says_so(served: tuple[str, dict[str, str]]) -> None:
    _, env = served
    proc = rfctui(env, "--export", "json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"schema": 1, "synced_at": None, "rfcs": [],
                                       "pulls": []}
    assert "nothing cached yet for rfcs/meta" in proc.stderr
    assert "rfctui --sync" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert cache_files(env) == []  # exporting nothing created nothing


def test_export_after_a_sync_is_quiet(served: tuple[str, dict[str, str]]) -> None:
    _, env = served
    assert rfctui(env, "--sync").returncode == 0
    proc = rfctui(env, "--export", "json")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert json.loads(proc.stdout)["rfcs"]
