"""The ``rfctui`` command line (§8): headless sweeps over real HTTP, export, errors.

Sweeps and failures run the real script in a subprocess against a sandbox served on
127.0.0.1; argument handling runs in-process (faster, same code).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rfctui import __version__
from rfctui.cli import main
from rfctui.config import load_config
from rfctui.db import open_cache
from rfctui.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(
    r"^(resynced|synced|synced \(full\)): (\d+) entries, (\d+) pulls, (\d+) requests, "
    r"\d+\.\d s(, \d+ changed)?, (\d+) skipped$"
)


def env_for(tmp: Path, base_url: str, **extra: str) -> dict[str, str]:
    config = tmp / "config.toml"
    config.write_text("")
    config.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")}
    env.update(
        PYTHONPATH=str(ROOT),
        RFCTUI_GITEA_URL=base_url,
        RFCTUI_ORG="rfcs",
        RFCTUI_META_REPO="meta",
        RFCTUI_BOT_USER="rfc-bot",
        RFCTUI_BOT_TOKEN="bot-token",
        RFCTUI_CONFIG=str(config),
        RFCTUI_CACHE_DIR=str(tmp / "cache"),
        RFCTUI_DATA_DIR=str(tmp / "data"),
    )
    env.update(extra)
    return env


def rfctui(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rfctui", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox()
    sb.populate_sample()
    sb.commit_files("main", {"rfcs/broken.md": b"---\ntitle: [oops\n---\n"}, "broken entry")
    with sb.serve() as base_url:
        yield sb, base_url


def test_resync_sync_and_export_over_http(served: tuple[Sandbox, str], tmp_path: Path) -> None:
    sb, base_url = served
    env = env_for(tmp_path, base_url)
    run = rfctui(env, "--resync")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 1, run.stdout
    m = SUMMARY.match(lines[0])
    assert m and m.group(1) == "resynced", lines[0]
    assert int(m.group(2)) >= 30 and int(m.group(3)) >= 10 and m.group(6) == "1"
    assert "rfctui: skipped rfcs/broken.md: front matter: invalid YAML" in run.stderr
    assert "fetching entries" in run.stderr  # plain progress lines (not a TTY)
    assert "\r" not in run.stderr and "Traceback" not in run.stderr

    quick = rfctui(env, "--sync")
    m = SUMMARY.match(quick.stdout.strip())
    assert quick.returncode == 0 and m and m.group(1) == "synced", quick.stdout + quick.stderr
    assert m.group(4) == "2" and m.group(5) == ", 0 changed"
    full = rfctui(env, "--sync", "--full")
    m = SUMMARY.match(full.stdout.strip())
    assert full.returncode == 0 and m and m.group(1) == "synced (full)", full.stderr

    exported = rfctui(env, "--export", "json")
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["schema"] == 1 and data["synced_at"].endswith("Z")
    assert len([r for r in data["rfcs"] if not r["removed"]]) == int(
        SUMMARY.match(lines[0]).group(2)  # type: ignore[union-attr]
    )
    assert {p["pr_kind"] for p in data["pulls"]} == {
        "idea", "meta_body_edit", "meta_claim", "meta_metadata"}
    assert "bot-token" not in exported.stdout


def test_export_needs_no_network(tmp_path: Path) -> None:
    """--export with the server gone: still works from the cache."""
    sb = Sandbox()
    sb.populate_sample()
    with sb.serve() as base_url:
        env = env_for(tmp_path, base_url)
        assert rfctui(env, "--resync").returncode == 0
    run = rfctui(env, "--export", "json")  # server stopped now
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["rfcs"]) >= 30


def test_down_server_fails_in_one_line_and_keeps_the_cache(tmp_path: Path) -> None:
    sb = Sandbox()
    sb.populate_sample()
    with sb.serve() as base_url:
        env = env_for(tmp_path, base_url)
        assert rfctui(env, "--resync").returncode == 0
    before = rfctui(env, "--export", "json").stdout
    for args in (("--resync",), ("--sync",), ("--sync", "--full")):
        run = rfctui(env, *args)
        assert run.returncode == 1, run.stdout
        assert run.stdout == ""
        errors = [ln for ln in run.stderr.splitlines() if ln.startswith("rfctui:")]
        assert len(errors) == 1, run.stderr
        host = base_url.split("//", 1)[1]
        assert errors[0].startswith(f"rfctui: cannot reach Gitea at {host}")
        assert errors[0].endswith("; the cache is unchanged")
        assert "Traceback" not in run.stderr and "bot-token" not in run.stderr
    assert rfctui(env, "--export", "json").stdout == before


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"RFCTUI_GITEA_URL": "not a url"}, "gitea_url must look like"),
        ({"RFCTUI_GITEA_URL": ""}, "no Gitea server configured"),
        ({"RFCTUI_CONFIG": "/nonexistent/rfctui.toml"}, "does not exist"),
    ],
    ids=["bad-url", "no-url", "missing-config"],
)
def test_bad_config_is_one_line_exit_2(tmp_path: Path, extra: dict[str, str], needle: str) -> None:
    env = env_for(tmp_path, "http://127.0.0.1:9", **extra)
    run = rfctui(env, "--sync")
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and needle in run.stderr, run.stderr
    assert run.stderr.startswith("rfctui: ") and "Traceback" not in run.stderr


def test_world_readable_config_with_token_is_refused(tmp_path: Path) -> None:
    env = env_for(tmp_path, "http://127.0.0.1:9")
    cfg = Path(env["RFCTUI_CONFIG"])
    cfg.write_text('bot_token = "bot-token"\n')
    cfg.chmod(0o644)
    run = rfctui(env, "--export", "json")
    assert run.returncode == 2 and "bot-token" not in run.stderr
    assert run.stderr.count("\n") == 1, run.stderr


def test_corrupt_cache_is_reported_and_replaced(tmp_path: Path) -> None:
    env = env_for(tmp_path, "http://127.0.0.1:9")
    cache_file = load_config(environ=env).cache_file
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(b"garbage" * 100)
    run = rfctui(env, "--export", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["rfcs"] == []
    assert "was unreadable (file is not a database); moved aside to" in run.stderr
    assert any(".corrupt-" in p.name for p in cache_file.parent.iterdir())


def test_headless_flags_never_import_textual(tmp_path: Path) -> None:
    env = env_for(tmp_path, "http://127.0.0.1:9")
    code = ("import sys; from rfctui.cli import main; rc = main(['--export', 'json']); "
            "assert 'textual' not in sys.modules, 'textual imported'; raise SystemExit(rc)")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr


def test_actions_subcommand_is_dispatched(tmp_path: Path) -> None:
    env = env_for(tmp_path, "http://127.0.0.1:9")
    run = rfctui(env, "--org", "rfcs", "actions")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr


# ---------------------------------------------------------------- in-process


def call(*argv: str, **kw: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(argv), stdout=out, stderr=err, **kw)
    return rc, out.getvalue(), err.getvalue()


def test_version_and_help() -> None:
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["--version"]) == 0
    assert buf.getvalue().strip() == f"rfctui {__version__}"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["--help"]) == 0
    text = buf.getvalue()
    for flag in ("--resync", "--sync", "--full", "--export", "--gitea-url", "--org", "--repo",
                 "--config", "--demo", "--version"):
        assert flag in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--full"], "--full only goes with --sync"),
        (["--resync", "--sync"], "not allowed with"),
        (["--export", "csv"], "invalid choice"),
        (["--sync", "actions"], "cannot be combined"),
    ],
)
def test_usage_errors(argv: list[str], needle: str, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in env_for(tmp_path, "http://127.0.0.1:9").items():
        monkeypatch.setenv(k, v)
    rc, out, err = call(*argv)
    assert rc == 2 and out == "" and needle in err and err.count("\n") == 1, err


def test_sync_in_process_through_the_transport(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sb = Sandbox()
    sb.populate_sample()
    for k, v in env_for(tmp_path, "http://sandbox.local").items():
        monkeypatch.setenv(k, v)
    rc, out, err = call("--resync", config_flags={"transport": sb.transport})
    assert rc == 0, err
    assert SUMMARY.match(out.strip())
    sb.commit_files("main", {"rfcs/api-versioning.md": None}, "remove one")
    rc, out, err = call("--sync", config_flags={"transport": sb.transport})
    m = SUMMARY.match(out.strip())
    assert rc == 0 and m and m.group(5) == ", 1 changed", out + err
    with open_cache(load_config().cache_file) as c:
        assert c.rfc("api-versioning").removed  # type: ignore[union-attr]


def test_unexpected_error_is_one_line_unless_debug(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in env_for(tmp_path, "http://127.0.0.1:9").items():
        monkeypatch.setenv(k, v)

    def explode(*a: Any, **k: Any) -> Any:
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setattr("rfctui.db.Cache.export", explode)
    rc, out, err = call("--export", "json")
    assert rc == 1 and err == (  # the newline is shown, not obeyed (§11)
        "rfctui: unexpected error: RuntimeError: kaboom\\nsecond line "
        "(RFCTUI_DEBUG=1 shows the traceback)\n"
    )
    monkeypatch.setenv("RFCTUI_DEBUG", "1")
    rc, out, err = call("--export", "json")
    assert rc == 1 and "Traceback" in err and err.rstrip().endswith("kaboom\\nsecond line")


def test_ui_import_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in env_for(tmp_path, "http://127.0.0.1:9").items():
        monkeypatch.setenv(k, v)
    monkeypatch.setitem(sys.modules, "rfctui.app", None)  # import raises ImportError
    rc, out, err = call()
    assert rc == 1 and err.startswith("rfctui: the terminal UI cannot start (")
    assert err.count("\n") == 1


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_and_lines_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = Sandbox()
    sb.populate_sample()
    for k, v in env_for(tmp_path, "http://sandbox.local").items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), _Tty()
    rc = main(["--resync"], stdout=out, stderr=err, config_flags={"transport": sb.transport})
    assert rc == 0
    bar = err.getvalue()
    assert "\r[####################] 100% fetching entries" in bar
    assert bar.endswith("\r") and "\n" not in bar  # the bar is wiped, stdout has the summary
    assert SUMMARY.match(out.getvalue().strip())
    out, plain = io.StringIO(), io.StringIO()
    assert main(["--resync"], stdout=out, stderr=plain,
                config_flags={"transport": sb.transport}) == 0
    lines = plain.getvalue().splitlines()
    assert "\r" not in plain.getvalue() and len(lines) < 15
    assert any(re.fullmatch(r"fetching entries (\d+)/\1", ln) for ln in lines), lines


class _Tokens(httpx.AsyncBaseTransport):
    """Records the Authorization header of every request, then forwards it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.seen = inner, set[str]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.add(request.headers.get("authorization", ""))
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize(("user_token", "expected"), [("ada-token", "token ada-token"),
                                                      ("", "token bot-token")])
def test_headless_sweeps_read_with_the_users_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_token: str, expected: str
) -> None:
    """The bot token is for writes (§6.1); without a user token reading still works."""
    sb = Sandbox()
    sb.populate_sample()
    for k, v in env_for(tmp_path, "http://sandbox.local", RFCTUI_USER_TOKEN=user_token).items():
        monkeypatch.setenv(k, v)
    tokens = _Tokens(sb.transport)
    rc, out, err = call("--resync", config_flags={"transport": tokens})
    assert rc == 0, err
    assert tokens.seen == {expected}


def test_export_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``rfctui --export json | head -1``: no error message, no traceback."""
    env = env_for(tmp_path, "http://127.0.0.1:9")
    with open_cache(load_config(environ=env).cache_file) as c, c.write():
        c.upsert_rfcs([{"slug": f"s{i}", "title": "t" * 100, "state": "idea", "path": "p",
                        "body_sha": "x", "body": "b" * 2000} for i in range(300)])
    proc = subprocess.Popen([sys.executable, "-m", "rfctui", "--export", "json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"{\n"
    proc.stdout.close()  # the reader goes away before the 600 kB are written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and err == ""


def test_export_of_a_corrupt_cache_says_it_is_empty(tmp_path: Path) -> None:
    env = env_for(tmp_path, "http://127.0.0.1:9")
    cache_file = load_config(environ=env).cache_file
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(b"garbage" * 100)
    run = rfctui(env, "--export", "json")
    assert run.returncode == 0 and run.stderr.count("\n") == 1
    assert "rebuilt" not in run.stderr and "empty until `rfctui --resync`" in run.stderr


def test_sync_never_moves_the_actions_log_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--sync only reads the log (attribution); a bad outbox is reported, not replaced."""
    sb = Sandbox()
    sb.populate_sample()
    for k, v in env_for(tmp_path, "http://sandbox.local").items():
        monkeypatch.setenv(k, v)
    log = load_config().actions_file
    log.parent.mkdir(parents=True)
    log.write_bytes(b"garbage" * 100)
    rc, out, err = call("--resync", config_flags={"transport": sb.transport})
    assert rc == 0, err
    warnings = [ln for ln in err.splitlines() if "actions log" in ln]
    assert len(warnings) == 1 and "left as it is" in warnings[0], err
    assert sorted(p.name for p in log.parent.iterdir()) == [log.name]


def test_ui_starts_reading_the_first_screen_before_textual(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rfctui` hands the app a first-screen read begun before the UI was imported."""
    for k, v in env_for(tmp_path, "http://127.0.0.1:9").items():
        monkeypatch.setenv(k, v)
    seen: dict[str, Any] = {}

    def fake_run_app(config: Any, *, first_screen: Any = None, **kw: Any) -> int:
        seen["first"] = first_screen.result(timeout=30)
        return 0

    monkeypatch.setattr("rfctui.app.run_app", fake_run_app)
    rc, _out, err = call()
    assert rc == 0 and err == ""
    first = seen["first"]
    # No cache yet: the long way created an empty one, and the app is handed it.
    assert first.head.items == [] and first.cache is not None
    assert first.cache.path == load_config().cache_file
    first.cache.close()
