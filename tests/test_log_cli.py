"""``rfctui log SLUG`` as a person runs it: a subprocess against a served sandbox
(issue 12 §2). The history of tests/test_timeline.py is served over real HTTP on
127.0.0.1; the subprocess syncs its own cache, fetches the entry's commit list once,
and answers offline afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from test_queue_cli import Served, base_env
from test_timeline import SLUG, build_life

EVENT_KEYS = {"at", "kind", "actor", "summary", "pr_number", "commit"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("log-cli")
    life = build_life(root)
    with life.sb.serve(port=0) as url:
        env = base_env(root) | {
            "RFCTUI_GITEA_URL": url, "RFCTUI_ORG": life.sb.org,
            "RFCTUI_META_REPO": life.sb.repo, "RFCTUI_BOT_TOKEN": "bot-token",
            "RFCTUI_CACHE_DIR": str(root / "cli-cache"),
            "RFCTUI_DATA_DIR": str(root / "cli-data"),
        }
        s = Served(life, url, env, root / "cli-data")  # type: ignore[arg-type]
        done = s.run("--sync", "--full")
        assert done.returncode == 0, done.stderr
        yield s


def test_json_shape_and_people(served: Served) -> None:
    done = served.run("log", SLUG, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) == {"schema", "slug", "events"}
    assert doc["schema"] == 1 and doc["slug"] == SLUG
    assert doc["events"]
    for e in doc["events"]:
        assert set(e) == EVENT_KEYS
        assert e["actor"].lower() != "rfc-bot"
    kinds = [e["kind"] for e in doc["events"]]
    assert kinds[-1] == "created" and "state_change" in kinds and "pr_merged" in kinds
    assert {e["actor"] for e in doc["events"]} == {"ada", "grace"}
    # offline once fetched: Gitea unreachable, same answer
    served.world.sb.faults.down = True
    try:
        again = served.run("log", SLUG, "--json")
    finally:
        served.world.sb.faults.down = False
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == doc


def test_plain_output_is_terminal_safe(served: Served) -> None:
    done = served.run("log", SLUG)
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout and b"\x1b" not in done.stderr
    lines = done.stdout.decode().splitlines()
    assert any("parked → declined" in line and "grace" in line for line in lines)
    hostile = [line for line in lines if "in the middle" in line]  # ESC and bidi in it
    assert hostile and "\u202e" not in hostile[0], lines


def test_unknown_and_bad_slug_exit_2(served: Served) -> None:
    assert served.run("log", "no-such-entry").returncode == 2
    bad = served.run("log", "../etc")
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr


def test_help_needs_no_configuration(served: Served, tmp_path: object) -> None:
    done = served.run("log", "--help", login=None, env=base_env(served.data_dir))
    assert done.returncode == 0
    assert b"exit status: 0" in done.stdout and b"2 bad usage" in done.stdout


def test_history_fetch_failure_is_exit_1_then_fetched_once(served: Served) -> None:
    """A graduated entry was never walked: its list is fetched on first ask; Gitea down
    then is exit 1 in one line, and the next run (Gitea up) fetches and shows it."""
    served.world.sb.faults.down = True
    try:
        down = served.run("log", "api-versioning")
    finally:
        served.world.sb.faults.down = False
    assert down.returncode == 1, down.stderr
    assert b"Traceback" not in down.stderr and len(down.stderr.splitlines()) == 1
    up = served.run("log", "api-versioning", "--json")
    assert up.returncode == 0, up.stderr
    events = json.loads(up.stdout)["events"]
    assert events and events[-1]["kind"] == "created"
