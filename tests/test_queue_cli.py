"""``rfctui queue`` as a person runs it: a subprocess against a served sandbox (issue 11).

The planted world of tests/queue_world.py is served over real HTTP on 127.0.0.1; the
subprocess syncs its own cache (``rfctui --sync``) and then asks for queues.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from queue_world import World, build_world

import rfctui
from rfctui.attention import Snooze
from rfctui.config import Config
from rfctui.marks import Marks

ITEM_KEYS = {"slug", "reason", "tier", "text", "since", "age_days", "pr_number", "snoozed",
             "new_since_seen"}


@dataclass
class Served:
    world: World
    url: str
    env: dict[str, str]
    data_dir: Path

    def run(self, *args: str, login: str | None = "ada",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        e = dict(env if env is not None else self.env)
        if login:
            e["RFCTUI_USER_TOKEN"] = f"{login}-token"
        return subprocess.run(
            [sys.executable, "-m", "rfctui", *args], capture_output=True, env=e, timeout=120,
            cwd=Path(rfctui.__file__).parent.parent,
        )


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")}
    env |= {"XDG_CONFIG_HOME": str(tmp / "xdg-config"), "XDG_CACHE_HOME": str(tmp / "xdg-c"),
            "XDG_DATA_HOME": str(tmp / "xdg-d"), "NO_COLOR": "1"}
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("queue-cli")
    world = build_world(root)
    with world.sb.serve(port=0) as url:
        env = base_env(root) | {
            "RFCTUI_GITEA_URL": url, "RFCTUI_ORG": world.sb.org,
            "RFCTUI_META_REPO": world.sb.repo, "RFCTUI_BOT_TOKEN": "bot-token",
            "RFCTUI_CACHE_DIR": str(root / "cli-cache"),
            "RFCTUI_DATA_DIR": str(root / "cli-data"),
        }
        s = Served(world, url, env, root / "cli-data")
        done = s.run("--sync", "--full")
        assert done.returncode == 0, done.stderr
        yield s


def queue_json(served: Served, *args: str, login: str | None = "ada") -> dict:  # type: ignore[type-arg]
    done = served.run("queue", "--json", *args, login=login)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) == {"schema", "login", "generated_at", "items"} and doc["schema"] == 1
    for item in doc["items"]:
        assert set(item) == ITEM_KEYS
    return doc  # type: ignore[no-any-return]


def rows(doc: dict) -> set[tuple[str, str, int | None]]:  # type: ignore[type-arg]
    return {(i["reason"], i["slug"], i["pr_number"]) for i in doc["items"]}


def test_help_needs_no_configuration(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "rfctui", "queue", "--help"],
                          capture_output=True, env=base_env(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "--as LOGIN" in out and "--all" in out and "--json" in out
    assert "exit status" in out and "3 who you are cannot be verified" in out
    main_help = subprocess.run([sys.executable, "-m", "rfctui", "--help"],
                               capture_output=True, env=base_env(tmp_path), timeout=60)
    assert b"rfctui queue" in main_help.stdout


def test_as_shows_someone_elses_queue(served: Served) -> None:
    prs = served.world.prs
    grace = queue_json(served, "--as", "grace")
    assert grace["login"] == "grace"
    assert {("decide", "q-decide", None), ("review", "q-decide", prs["claim-decide"]),
            ("decide", "q-pend-ada", prs["pend-ada"]),
            ("needs_arbiter", "q-pend-none", prs["pend-none"])} <= rows(grace)
    assert not any(slug == "q-parked" and r == "stale" for r, slug, _ in rows(grace))
    ada = queue_json(served)  # the verified user (ada's token)
    assert ada["login"] == "ada"
    assert {("stale", "q-parked", None), ("decide", "q-hostile", None)} <= rows(ada)


def test_plain_lines_are_aligned_and_hostile_text_is_escaped(served: Served) -> None:
    done = served.run("queue", "--as", "ada")
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout and b"\x1b" not in done.stderr
    assert "\u202e".encode() not in done.stdout
    lines = done.stdout.decode().splitlines()
    assert lines and all(line.split()[0] in ("blocking", "action", "waiting") for line in lines)
    slug_at = {line.index(" q-") for line in lines if " q-" in line}
    assert len(slug_at) == 1  # one column for the slugs
    hostile = [line for line in lines if "q-hostile" in line]
    assert hostile and "Evil" in hostile[0] and "red" in hostile[0]
    as_json = served.run("queue", "--json", "--as", "ada")
    assert b"\x1b" not in as_json.stdout


def test_a_known_identity_needs_no_network(served: Served) -> None:
    assert served.run("queue").returncode == 0  # verifies ada once, remembers her
    before = served.world.sb.requests_served
    done = served.run("queue", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["login"] == "ada"
    assert served.world.sb.requests_served == before


def test_all_includes_snoozed_rows(served: Served) -> None:
    assert served.run("queue").returncode == 0  # ada known on this machine
    cfg = Config(gitea_url=served.url, org=served.world.sb.org,
                 meta_repo=served.world.sb.repo, data_dir=served.data_dir)
    marks = Marks(cfg)
    marks.snooze(Snooze("stale:q-parked", datetime(2999, 1, 1, tzinfo=UTC)))
    try:
        hidden = served.run("queue", "--json")
        assert ("stale", "q-parked", None) not in rows(json.loads(hidden.stdout))
        assert b"snoozed" in hidden.stderr and b"--all" in hidden.stderr
        shown = queue_json(served, "--all")
        snoozed = [i for i in shown["items"] if i["slug"] == "q-parked" and i["reason"] == "stale"]
        assert len(snoozed) == 1 and snoozed[0]["snoozed"] is True
        plain = served.run("queue", "--all").stdout.decode().splitlines()
        assert any(line.startswith("action*") and "q-parked" in line for line in plain)
        # ada's snoozes are hers: grace's queue seen from here is whole
        assert ("stale", "q-parked", None) in rows(queue_json(served, "--as", "ada", login="grace"))
    finally:
        marks.unsnooze("stale:q-parked")


def test_a_login_with_no_role_gets_an_empty_queue(served: Served) -> None:
    done = served.run("queue", "--as", "nobody-at-all")
    assert done.returncode == 0 and done.stdout == b""
    err = done.stderr.decode()
    assert "nothing waits on nobody-at-all" in err and "no role" in err
    assert len(err.strip().splitlines()) == 1
    assert queue_json(served, "--as", "nobody-at-all")["items"] == []


def test_an_identity_that_cannot_be_verified_exits_3_and_as_still_works(
    served: Served, tmp_path: Path,
) -> None:
    env = served.env | {"RFCTUI_DATA_DIR": str(tmp_path / "fresh-data")}
    done = served.run("queue", login=None, env=env)
    assert done.returncode == 3 and done.stdout == b""
    err = done.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "--as" in err[0] and "Traceback" not in err[0]
    refused = served.run("queue", login="nosuchuser", env=env)  # a token Gitea refuses
    assert refused.returncode == 3 and len(refused.stderr.strip().splitlines()) == 1
    assert served.run("queue", "--as", "ada", login=None, env=env).returncode == 0
    # never verified here and Gitea unreachable: the reason in one line, exit 3
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = env | {"RFCTUI_GITEA_URL": f"http://127.0.0.1:{port}"}
    down = served.run("queue", login="ada", env=gone)
    assert down.returncode == 3 and len(down.stderr.strip().splitlines()) == 1
    assert b"cannot verify who you are" in down.stderr
    assert served.run("queue", "--as", "ada", login="ada", env=gone).returncode == 0


def test_usage_errors_are_one_line(served: Served) -> None:
    for args in (("queue", "--bogus"), ("queue", "--as"), ("--sync", "queue")):
        done = served.run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and b"Traceback" not in done.stderr
