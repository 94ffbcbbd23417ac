"""`rfctui doctor` against the sandbox over real HTTP (issue 14 §2).

Each broken setting is one ✗ that names the setting to change, exit 1, and no token in
the output; with everything right every line is ✓ and the exit is 0.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import cli_env

from rfctui import cli
from rfctui.sandbox import Sandbox

TOKENS = ("bot-token", "ada-token", "grace-token", "admin-token", "not-a-real-token")


@pytest.fixture
def served(
    tmp_path: Path, typed_config_sandbox: Sandbox
) -> Iterator[tuple[Sandbox, str, dict[str, str]]]:
    env = cli_env(tmp_path)
    with typed_config_sandbox.serve(port=0) as base_url:
        env["RFCTUI_GITEA_URL"] = base_url
        yield typed_config_sandbox, base_url, env


def rfctui(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rfctui", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def in_process(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """``rfctui ARGS`` in this process (no interpreter start-up), over the same HTTP."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("RFCTUI_")]:
            mp.delenv(key)
        for key, value in env.items():
            if key.startswith("RFCTUI_"):
                mp.setenv(key, value)
        code = cli.main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def doctor(env: dict[str, str]) -> tuple[int, list[dict[str, object]], str]:
    """(exit status, the JSON checks, the plain output)."""
    code, out, err = in_process(env, "doctor", "--json")
    plain_code, plain, plain_err = in_process(env, "doctor")
    assert code == plain_code, plain
    for text in (out, err, plain, plain_err):
        assert "Traceback" not in text
        for token in TOKENS:
            assert token not in text
    report = json.loads(out)
    assert report["schema"] == 1 and report["ok"] is (code == 0)
    return code, report["checks"], plain


def failing(checks: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(c["name"]): c for c in checks if not c["ok"]}


def test_all_well_after_a_sync(served: tuple[Sandbox, str, dict[str, str]]) -> None:
    _, base, env = served
    assert rfctui(env, "--sync").returncode == 0
    code, checks, plain = doctor(env)
    assert code == 0, plain
    proc = rfctui(env, "doctor")  # as a person runs it
    assert (proc.returncode, proc.stderr) == (0, "")

    def without_age(text: str) -> list[str]:
        return [re.sub(r"synced \d+s ago", "synced ?", line) for line in text.splitlines()]

    assert without_age(proc.stdout) == without_age(plain)
    assert [c["name"] for c in checks] == [
        "config", "server", "you", "repo", "bot", "bot-write", "cache", "actions", "drafts"]
    assert all(line.startswith("✓") for line in plain.splitlines()), plain
    assert "your token is ada" in plain and "the bot token is rfc-bot" in plain
    assert f"at {base}" in plain


def test_before_the_first_sync_the_cache_is_the_one_thing_to_do(
    served: tuple[Sandbox, str, dict[str, str]],
) -> None:
    _, _, env = served
    code, checks, plain = doctor(env)
    assert code == 1
    assert list(failing(checks)) == ["cache"]
    assert "fix: run rfctui --sync" in plain
    assert not (Path(env["RFCTUI_CACHE_DIR"])).exists() or not any(
        Path(env["RFCTUI_CACHE_DIR"]).rglob("*.sqlite*")), "the doctor created a cache"


@pytest.mark.parametrize(
    ("change", "name", "setting"),
    [
        ({"RFCTUI_BOT_TOKEN": "not-a-real-token"}, "bot", "RFCTUI_BOT_TOKEN"),
        ({"RFCTUI_BOT_TOKEN": "ada-token"}, "bot", "RFCTUI_BOT_TOKEN"),
        ({"RFCTUI_USER_TOKEN": "not-a-real-token"}, "you", "RFCTUI_USER_TOKEN"),
        ({"RFCTUI_ORG": "no-such-org"}, "repo", "RFCTUI_ORG"),
        ({"RFCTUI_META_REPO": "no-such-repo"}, "repo", "RFCTUI_META_REPO"),
    ],
    ids=["bot-token-refused", "bot-token-of-a-person", "user-token-refused", "org", "repo"],
)
def test_a_wrong_setting_is_one_cross_naming_it(
    served: tuple[Sandbox, str, dict[str, str]], change: dict[str, str], name: str,
    setting: str,
) -> None:
    _, _, env = served
    code, checks, plain = doctor(env | change)
    assert code == 1
    bad = failing(checks)
    assert name in bad, plain
    # a refused reader token also fails reads; the cache was never synced here
    assert set(bad) - {name} <= {"you", "repo", "cache"}
    assert setting in str(bad[name]["fix"]), plain


def test_a_url_with_an_extra_path_names_the_root(
    served: tuple[Sandbox, str, dict[str, str]],
) -> None:
    _, base, env = served
    code, checks, plain = doctor(env | {"RFCTUI_GITEA_URL": f"{base}/foo"})
    assert code == 1
    server = failing(checks)["server"]
    assert f"{base}/foo/api/v1/version answered 404" in str(server["text"])
    assert f"a Gitea answers at {base}" in str(server["text"])
    assert f"RFCTUI_GITEA_URL (or gitea_url) to {base}" in str(server["fix"])
    # nothing after an unreachable server is asked
    assert [c["name"] for c in checks] == ["config", "server", "cache", "actions", "drafts"]


def test_a_closed_port(served: tuple[Sandbox, str, dict[str, str]]) -> None:
    _, _, env = served
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, checks, plain = doctor(env | {"RFCTUI_GITEA_URL": f"http://127.0.0.1:{port}"})
    assert code == 1
    server = failing(checks)["server"]
    assert "connection refused" in str(server["text"])
    assert "RFCTUI_GITEA_URL" in str(server["fix"])


def test_without_any_configuration_it_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")} | {
        "RFCTUI_CONFIG": str(tmp_path / "none.toml"),
        "PYTHONPATH": os.pathsep.join(sys.path),
        "HOME": str(tmp_path),
    }
    env["RFCTUI_CONFIG"] = str(tmp_path / "none.toml")
    proc = rfctui(env, "doctor")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("✗ the configuration cannot be used")
    assert "fix:" in proc.stdout and "Traceback" not in proc.stderr
    helped = rfctui({k: v for k, v in env.items() if k != "RFCTUI_CONFIG"}, "doctor", "--help")
    assert helped.returncode == 0 and "exit status" in helped.stdout
