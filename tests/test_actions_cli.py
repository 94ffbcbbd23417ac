"""`rfctui propose|edit|claim|metadata|actions` as a person would run them (SPEC §6, §8).

Each command runs in a subprocess against a sandbox served over real HTTP on
127.0.0.1, configured only through the environment, exactly like a shell script would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_env

from rfctui.sandbox import Sandbox

FIXED = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
# Until cli.py dispatches the subcommands, call actions_cli the way it will.
SHIM = (
    "import sys; from rfctui.config import load_config; from rfctui import actions_cli; "
    "sys.exit(actions_cli.main(sys.argv[1:], load_config()))"
)
HAS_CLI = (Path(__file__).parent.parent / "rfctui" / "cli.py").exists()


@pytest.fixture
def served(
    tmp_path: Path, typed_config_sandbox: Sandbox
) -> Iterator[tuple[Sandbox, str, dict[str, str]]]:
    sb = typed_config_sandbox
    env = cli_env(tmp_path)
    with sb.serve(port=0) as base_url:
        env["RFCTUI_GITEA_URL"] = base_url
        yield sb, base_url, env


def rfctui(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "rfctui", *args] if HAS_CLI else [
        sys.executable, "-c", SHIM, *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=120)


def _pr(sb: Sandbox, head: str) -> Any:
    [pr] = [p for p in sb.pulls.values() if p.head == head]
    return pr


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_propose_prints_the_pr_url(served: tuple[Sandbox, str, dict[str, str]]) -> None:
    sb, base, env = served
    proc = rfctui(env, "propose", "--slug", "new-idea", "--title", "A new idea",
                  "--body-file", "-", "--tag", "dx", "--tag", "config", "--arbiter", "grace",
                  stdin="The body, from stdin.\n")
    assert proc.returncode == 0, proc.stderr
    pr = _pr(sb, "propose/new-idea")
    assert proc.stdout == f"{base}/rfcs/meta/pulls/{pr.number}\n"
    assert pr.body.endswith("On-behalf-of: Ada Lovelace <ada>")
    assert "The body, from stdin." in pr.body


def test_edit_claim_and_metadata_print_their_urls(
    served: tuple[Sandbox, str, dict[str, str]], tmp_path: Path
) -> None:
    sb, base, env = served
    body = tmp_path / "body.md"
    body.write_text("A better body.\n")
    runs = {
        "edit/typed-config/1": rfctui(env, "edit", "typed-config", "--body-file", str(body)),
        "claim/typed-config": rfctui(env, "claim", "typed-config"),
        "metadata/typed-config": rfctui(env, "metadata", "typed-config", "--set",
                                        "state=parked", "--set", "tags=a,b"),
    }
    for head, proc in runs.items():
        assert proc.returncode == 0, (head, proc.stderr)
        assert proc.stdout == f"{base}/rfcs/meta/pulls/{_pr(sb, head).number}\n"
    meta = sb.git.flatten(sb.git.commit(sb.git.branches["metadata/typed-config"]).tree)
    text = sb.git.blob(meta["rfcs/typed-config.md"]).decode()
    assert "state: parked" in text and "tags: [a, b]" in text
    assert "custom_field: keep me" in text


def test_failed_action_is_listed_retried_and_discarded(
    served: tuple[Sandbox, str, dict[str, str]]
) -> None:
    sb, base, env = served
    # the bot's token is refused: the action fails after its row was written
    bad = env | {"RFCTUI_BOT_TOKEN": "not-the-bot-secret"}
    failed = rfctui(bad, "claim", "typed-config")
    line = _one_error_line(failed)
    assert failed.returncode == 1
    assert "401" in line and "rfctui actions --retry 1" in line
    listing = rfctui(env, "actions")
    assert listing.returncode == 0
    [row] = [ln for ln in listing.stdout.splitlines() if ln.strip().startswith("1 ")]
    assert "open_claim_pr" in row and "typed-config" in row and "failed" in row
    assert "401" in row
    # fix the cause, then retry from the stored payload
    retried = rfctui(env, "actions", "--retry", "1")
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout == f"{base}/rfcs/meta/pulls/{_pr(sb, 'claim/typed-config').number}\n"
    assert "no pending or failed actions" in rfctui(env, "actions").stdout
    # retrying it again: nothing to send, its URL again, exit 0 (issue 14 §4)
    again = rfctui(env, "actions", "--retry", "1")
    assert (again.returncode, again.stdout) == (0, retried.stdout), again.stderr
    assert "already done" in again.stderr
    # an entry Gitea does not have: nothing to retry, so no retry is offered
    missing = rfctui(env, "claim", "never-there")
    assert missing.returncode == 1
    assert "does not exist" in _one_error_line(missing) and "retry" not in missing.stderr
    assert "no pending or failed actions" in rfctui(env, "actions").stdout
    # a second failure, discarded
    assert rfctui(bad, "edit", "typed-config", "--body-file", "-", stdin="x").returncode == 1
    assert rfctui(env, "actions", "--discard", "3").returncode == 0
    assert "no pending or failed actions" in rfctui(env, "actions").stdout


@pytest.mark.parametrize(
    "args",
    [
        ("propose", "--slug", "../x", "--title", "T"),
        ("propose", "--slug", "A B", "--title", "T"),
        ("propose", "--slug", "a" * 70, "--title", "T"),
        ("propose", "--slug=-x", "--title", "T"),
        ("claim", "../x"),
        ("metadata", "--set", "state=parked", "--", "-x"),
        ("metadata", "typed-config", "--set", "state=limbo"),
        ("metadata", "typed-config", "--set", "slug=other"),
    ],
)
def test_bad_input_is_one_line_and_sends_nothing(
    served: tuple[Sandbox, str, dict[str, str]], args: tuple[str, ...]
) -> None:
    sb, _, env = served
    before = sb.requests_served
    proc = rfctui(env, *args)
    line = _one_error_line(proc)
    assert proc.returncode == 2
    assert line.startswith("rfctui") and "nothing was sent" in line
    assert sb.requests_served == before


def test_usage_errors_are_one_line(served: tuple[Sandbox, str, dict[str, str]]) -> None:
    _, _, env = served
    proc = rfctui(env, "propose", "--slug", "x")
    assert "--title" in _one_error_line(proc)
    assert proc.returncode == 2


def test_without_a_user_token_actions_are_disabled(
    served: tuple[Sandbox, str, dict[str, str]]
) -> None:
    sb, _, env = served
    env = {k: v for k, v in env.items() if k != "RFCTUI_USER_TOKEN"}
    proc = rfctui(env, "claim", "typed-config")
    assert _one_error_line(proc) == (
        "rfctui: actions need your own Gitea token: set RFCTUI_USER_TOKEN")
    assert proc.returncode == 3
    assert not [p for p in sb.pulls.values() if p.head == "claim/typed-config"]


def test_a_refused_bot_token_is_one_line_without_the_token(
    served: tuple[Sandbox, str, dict[str, str]]
) -> None:
    _, _, env = served
    env = env | {"RFCTUI_BOT_TOKEN": "not-the-bot-secret"}
    proc = rfctui(env, "claim", "typed-config")
    line = _one_error_line(proc)
    assert proc.returncode == 1
    assert "not-the-bot-secret" not in proc.stderr + proc.stdout
    listing = rfctui(env, "actions")
    assert "not-the-bot-secret" not in listing.stdout
    assert "401" in line or "token" in line


def test_a_moved_aside_log_is_said_and_a_done_action_is_not_discarded(
    served: tuple[Sandbox, str, dict[str, str]]
) -> None:
    from rfctui.config import load_config

    _, _, env = served
    path = load_config(environ=env).actions_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database at all" * 100)
    listing = rfctui(env, "actions")
    assert listing.returncode == 0
    assert "no pending or failed actions" in listing.stdout
    [notice] = listing.stderr.splitlines()
    assert notice.startswith("rfctui: ") and "actions log" in notice
    assert rfctui(env, "claim", "typed-config").returncode == 0
    proc = rfctui(env, "actions", "--discard", "1")
    assert proc.returncode == 1
    assert _one_error_line(proc) == (
        "rfctui: cannot discard action #1: it is done (PR #1); only pending or failed "
        "actions can be discarded")


@pytest.mark.skipif(not HAS_CLI, reason="needs rfctui --sync")
def test_an_entry_missing_from_the_synced_cache_is_bad_input(
    served: tuple[Sandbox, str, dict[str, str]]
) -> None:
    sb, _, env = served
    assert rfctui(env, "--sync").returncode == 0
    before = sb.requests_served
    proc = rfctui(env, "claim", "nonexistent")
    assert proc.returncode == 2
    assert _one_error_line(proc) == (
        "rfctui: nothing was sent: slug: no entry 'nonexistent' in the cache "
        "(run rfctui --sync if it is new)")
    assert sb.requests_served - before <= 1  # GET /user only: nothing saved, nothing written
    assert "no pending or failed actions" in rfctui(env, "actions").stdout


@pytest.mark.parametrize("verified_before", [True, False], ids=["known-actor", "never-verified"])
def test_a_proposal_typed_while_gitea_is_down_is_kept(
    served: tuple[Sandbox, str, dict[str, str]], verified_before: bool
) -> None:
    sb, base, env = served
    first = 1
    if verified_before:
        assert rfctui(env, "claim", "typed-config").returncode == 0
        first = 2
    sb.faults.down = True
    try:
        proc = rfctui(env, "propose", "--slug", "offline-idea", "--title", "Typed offline",
                      "--body-file", "-", stdin="Do not lose me.\n")
        assert _one_error_line(proc) == (
            f"rfctui: Gitea unreachable; kept as action #{first}: "
            f"rfctui actions --retry {first}")
        assert proc.returncode == 1
        listing = rfctui(env, "actions")
        assert f"{first:>4}  propose_rfc" in listing.stdout and "failed" in listing.stdout
    finally:
        sb.faults.down = False
    retried = rfctui(env, "actions", "--retry", str(first))
    assert retried.returncode == 0, retried.stderr
    pr = _pr(sb, "propose/offline-idea")
    assert pr.body.endswith("On-behalf-of: Ada Lovelace <ada>")
    assert "Do not lose me." in pr.body
    # The log names the person too, even when nobody was verified as it was saved (§6.3).
    from rfctui.db import open_actions

    [log_file] = Path(env["RFCTUI_DATA_DIR"]).glob("actions-*.sqlite")
    with open_actions(log_file, repair=False) as log:
        row = log.get(first)
        assert row is not None and row.status == "done" and row.on_behalf_of == "ada"
        assert row.payload["actor"] == {"login": "ada", "full_name": "Ada Lovelace"}
        assert log.actors()[("offline-idea", pr.number)] == "ada"
    token_files = "".join(
        p.read_text(errors="replace") for p in Path(env["RFCTUI_DATA_DIR"]).rglob("*.json"))
    assert "ada-token" not in token_files


# ---------------------------------------------------------------- issue 9: pre-flight, stacking


def _open_claim_for_grace(sb: Sandbox, base_url: str) -> int:
    """grace's claim PR, opened by the bot for her outside this rfctui (out of band)."""
    import asyncio

    from rfctui import trailer
    from rfctui.gitea import GiteaClient

    async def go() -> int:
        async with GiteaClient(base_url, "bot-token") as c:
            await c.create_branch("rfcs", "meta", "claim/typed-config", "main")
            pr = await c.create_pull(
                "rfcs", "meta", head="claim/typed-config", base="main",
                title="Claim typed-config for grace",
                body=trailer.compose("Claim.", "Grace Hopper", "grace"))
            return int(pr["number"])

    return asyncio.run(go())


@pytest.mark.parametrize("synced", [True, False], ids=["from-cache", "fresh-read"])
def test_claim_over_someone_elses_open_claim_exits_2_and_leaves_nothing(
    served: tuple[Sandbox, str, dict[str, str]], synced: bool
) -> None:
    sb, base, env = served
    number = _open_claim_for_grace(sb, base)
    if synced:
        assert rfctui(env, "--sync").returncode == 0
    pulls_before = dict(sb.pulls)
    before = sb.requests_served
    proc = rfctui(env, "claim", "typed-config")
    assert proc.returncode == 2
    assert _one_error_line(proc) == (
        f"rfctui: nothing was sent: claim/typed-config already has open PR #{number} by "
        "grace; review or comment there")
    # from the cache: GET /user only; without it: GET /user and one fresh read
    assert sb.requests_served - before <= (1 if synced else 4)
    assert sb.pulls.keys() == pulls_before.keys()
    assert "no pending or failed actions" in rfctui(env, "actions").stdout


def test_a_second_metadata_change_says_it_was_added_to_the_open_pr(
    served: tuple[Sandbox, str, dict[str, str]]
) -> None:
    sb, base, env = served
    first = rfctui(env, "metadata", "typed-config", "--set", "state=parked")
    assert first.returncode == 0, first.stderr
    assert "added to your open PR" not in first.stderr
    second = rfctui(env, "metadata", "typed-config", "--set", "tags=config,dx")
    assert second.returncode == 0, second.stderr
    pr = _pr(sb, "metadata/typed-config")
    assert second.stdout == f"{base}/rfcs/meta/pulls/{pr.number}\n"
    assert second.stderr.splitlines() == [f"rfctui: added to your open PR #{pr.number}"]
    lines = pr.body.splitlines()
    assert "- `state`: idea → parked" in lines and "- `tags`: [config] → [config, dx]" in lines
    assert lines[-1] == "On-behalf-of: Ada Lovelace <ada>"


@pytest.mark.parametrize(
    "command", ["propose", "edit", "claim", "metadata", "actions", "comment", "queue",
                "diff", "log", "digest", "doctor"])
def test_every_help_works_with_no_configuration(tmp_path: Path, command: str) -> None:
    """``rfctui X --help`` on a fresh machine: no config file, no RFCTUI_* (§11); a
    description, every option explained and the exit codes (issue 14 §1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")} | {
        "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    proc = rfctui(env, command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    assert out.startswith(f"usage: rfctui {command}")
    assert "exit status" in out
    assert "no Gitea server configured" not in out
    for line in out.splitlines():  # every option has its explanation
        stripped = line.strip()
        if stripped.startswith("--") and "  " not in stripped:
            nxt = out.splitlines()[out.splitlines().index(line) + 1].strip()
            assert nxt and not nxt.startswith("-"), (command, line)


def test_a_usage_error_needs_no_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")} | {
        "HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = rfctui(env, "metadata", "typed-config")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "rfctui metadata: the following arguments are required: --set")
