"""`rfctui comment PR_NUMBER --body-file F|-` as a person would run it (issue 12 §3).

Each command runs in a subprocess against a sandbox served over real HTTP on
127.0.0.1, configured only through the environment (tests/test_actions_cli.py's way).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import cli_env
from test_actions_cli import _one_error_line, rfctui

from rfctui import trailer
from rfctui.sandbox import Sandbox

FORGED = "Agreed.\nOn-behalf-of: Site Admin <admin>\n\nOn-behalf-of: Site Admin <admin>\n"


@pytest.fixture
def served(
    tmp_path: Path, typed_config_sandbox: Sandbox
) -> Iterator[tuple[Sandbox, str, dict[str, str], int]]:
    """The sandbox over HTTP with one open PR (grace's claim of typed-config)."""
    sb = typed_config_sandbox
    sb.commit_files("claim/typed-config", {"rfcs/typed-config.md": b"---\nslug: typed-config"
                    b"\ntitle: T\nstate: idea\nowners: [grace]\n---\n"}, "Claim",
                    author=("Grace Hopper", "grace@x"))
    with httpx.Client(transport=sb.transport, base_url="http://sandbox.local",
                      headers={"Authorization": "token grace-token"}) as c:
        pr = c.post("/api/v1/repos/rfcs/meta/pulls", json={
            "head": "claim/typed-config", "base": "main", "title": "Claim typed-config"})
        pr.raise_for_status()
    env = cli_env(tmp_path)
    with sb.serve(port=0) as base_url:
        env["RFCTUI_GITEA_URL"] = base_url
        yield sb, base_url, env, int(pr.json()["number"])


def test_help_needs_no_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")} | {
        "RFCTUI_CONFIG": str(tmp_path / "missing.toml"), "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-m", "rfctui", "comment", "--help"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "PR_NUMBER" in proc.stdout and "--body-file" in proc.stdout
    assert "exit status" in proc.stdout and "On-behalf-of" in proc.stdout
    top = subprocess.run([sys.executable, "-m", "rfctui", "--help"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert "rfctui comment PR_NUMBER" in " ".join(top.stdout.split())


def test_comment_from_stdin_prints_its_url_with_the_trailer_last(
    served: tuple[Sandbox, str, dict[str, str], int],
) -> None:
    sb, base, env, number = served
    proc = rfctui(env, "comment", str(number), "--body-file", "-", stdin=FORGED)
    assert proc.returncode == 0, proc.stderr
    [posted] = sb.comments[number]
    assert proc.stdout == f"{base}/rfcs/meta/pulls/{number}#issuecomment-{posted.id}\n"
    assert posted.poster == "rfc-bot"
    assert posted.body.endswith("\n\nOn-behalf-of: Ada Lovelace <ada>")
    assert trailer.on_behalf_of(posted.body) == "ada"
    assert "> On-behalf-of: Site Admin &lt;admin>" in posted.body
    assert proc.stderr == ""


def test_comment_from_a_file(served: tuple[Sandbox, str, dict[str, str], int],
                             tmp_path: Path) -> None:
    sb, base, env, number = served
    body = tmp_path / "c.md"
    body.write_text("From a file.\n")
    proc = rfctui(env, "comment", str(number), "--body-file", str(body))
    assert proc.returncode == 0, proc.stderr
    assert sb.comments[number][0].body.startswith("From a file.\n")


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["{n}", "--body-file", "-"], "  \n", "the comment is empty"),
        (["999", "--body-file", "-"], "hello", "no pull request #999"),
        (["{n}", "--body-file", "/no/such/file"], "", "cannot read --body-file"),
        (["{n}"], "", "--body-file"),
        (["abc", "--body-file", "-"], "x", "invalid int value"),
    ],
)
def test_bad_input_is_exit_2_and_nothing_is_sent_or_kept(
    served: tuple[Sandbox, str, dict[str, str], int], args: list[str], stdin: str, says: str,
) -> None:
    sb, _base, env, number = served
    proc = rfctui(env, "comment", *[a.format(n=number) for a in args], stdin=stdin)
    line = _one_error_line(proc)
    assert proc.returncode == 2 and says in line, line
    assert sb.comments.get(number, []) == []
    assert "no pending or failed actions" in rfctui(env, "actions").stdout


def test_failed_comment_is_kept_and_retried_once(
    served: tuple[Sandbox, str, dict[str, str], int],
) -> None:
    sb, _base, env, number = served
    assert rfctui(env, "--sync").returncode == 0  # the cache knows the PR: no read needed
    bad = env | {"RFCTUI_BOT_TOKEN": "not-the-bot-secret"}
    failed = rfctui(bad, "comment", str(number), "--body-file", "-", stdin="Kept for later.")
    line = _one_error_line(failed)
    assert failed.returncode == 1 and "rfctui actions --retry 1" in line
    listing = rfctui(env, "actions")
    assert "comment_pr" in listing.stdout and "typed-config" in listing.stdout
    retried = rfctui(env, "actions", "--retry", "1")
    assert retried.returncode == 0, retried.stderr
    [posted] = sb.comments[number]
    assert retried.stdout.strip().endswith(f"#issuecomment-{posted.id}")
    again = rfctui(env, "actions", "--retry", "1")  # done: its URL again, exit 0, no post
    assert (again.returncode, again.stdout) == (0, retried.stdout)
    assert "already done" in again.stderr
    assert len(sb.comments[number]) == 1


def test_unknown_to_the_cache_and_gitea_unreadable_is_refused(
    served: tuple[Sandbox, str, dict[str, str], int],
) -> None:
    """The log row needs the PR's entry: with no synced cache and no answer from Gitea,
    nothing is kept (exit 2); the text is still in the person's file."""
    sb, _base, env, number = served
    bad = env | {"RFCTUI_BOT_TOKEN": "not-the-bot-secret"}
    proc = rfctui(bad, "comment", str(number), "--body-file", "-", stdin="x")
    assert proc.returncode == 2 and "could not be checked" in _one_error_line(proc)
    assert "no pending or failed actions" in rfctui(env, "actions").stdout


def test_without_your_own_token_actions_are_disabled(
    served: tuple[Sandbox, str, dict[str, str], int],
) -> None:
    sb, _base, env, number = served
    env = {k: v for k, v in env.items() if k != "RFCTUI_USER_TOKEN"}
    proc = rfctui(env, "comment", str(number), "--body-file", "-", stdin="hi")
    assert proc.returncode == 3, proc.stderr
    _one_error_line(proc)
    assert sb.comments.get(number, []) == []
