"""``rfctui diff`` as a person runs it: a subprocess against a served sandbox (issue 12 §1).

The planted world of tests/queue_world.py gains a metadata PR and a hostile body edit;
it is served over real HTTP on 127.0.0.1 only while the subprocess syncs its own cache
(``rfctui --sync --full``, which fetches each open PR's head file). Every ``diff`` below
runs after the server is stopped: the change view works offline once fetched.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from queue_world import World, build_world
from test_queue_cli import Served, base_env

HOSTILE_BODY = "Evil \x1b[31mred\x1b[0m \u202etxt.exe body"


def _perform(world: World, login: str, request: dict[str, Any]) -> int:
    s = world.session(login)
    try:
        result = asyncio.run(s.perform(request))
        assert result.pr_number, result
        return int(result.pr_number)
    finally:
        s.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("diff-cli")
    world = build_world(root)
    world.prs["meta-lonely"] = _perform(world, "barbara", {
        "action": "metadata", "slug": "q-lonely",
        "changes": {"state": "parked", "tags": ["queue", "dx"]},
    })
    world.prs["edit-hostile"] = _perform(world, "ken", {
        "action": "edit", "slug": "q-hostile", "body": f"Why q-hostile.\n{HOSTILE_BODY}",
    })
    world.prs["meta-decide"] = _perform(world, "linus", {
        "action": "metadata", "slug": "q-decide", "changes": {"owners": ["linus", "grace"]},
    })
    world.sync("full")
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
    yield s  # the server is stopped: everything below is offline


def test_help_needs_no_configuration(served: Served, tmp_path: Any) -> None:
    done = served.run("diff", "--help", env=base_env(tmp_path), login=None)
    assert done.returncode == 0
    text = done.stdout.decode()
    assert "PR_NUMBER" in text and "exit status: 0" in text and "2 bad usage" in text


def test_metadata_pr_lists_changed_fields_offline(served: Served) -> None:
    done = served.run("diff", str(served.world.prs["meta-lonely"]))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[0].startswith(f"PR #{served.world.prs['meta-lonely']}  metadata  q-lonely  open")
    assert "state: idea → parked" in lines
    assert "tags: [queue] → [queue, dx]" in lines
    assert "body: unchanged" in lines
    assert not any(line.startswith("owners:") for line in lines)


def test_json_shape_exact(served: Served) -> None:
    n = served.world.prs["edit-parked"]
    done = served.run("diff", str(n), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert list(doc) == ["schema", "pr", "slug", "kind", "state", "opened_by", "fields",
                         "body_diff"]
    assert doc["schema"] == 1 and doc["pr"] == n and doc["slug"] == "q-parked"
    assert doc["kind"] == "edit" and doc["state"] == "open" and doc["opened_by"] == "grace"
    assert doc["fields"] == []
    assert "+A better reason." in doc["body_diff"].splitlines()
    assert "-Why q-parked." in doc["body_diff"].splitlines()
    claim = json.loads(served.run("diff", str(served.world.prs["claim-decide"]), "--json")
                       .stdout)
    assert claim["kind"] == "claim"
    assert claim["fields"] == [{"name": "owners", "old": ["linus"], "new": ["linus", "ken"]}]


def test_hostile_body_is_escaped(served: Served) -> None:
    n = served.world.prs["edit-hostile"]
    for extra in ((), ("--json",)):
        done = served.run("diff", str(n), *extra)
        assert done.returncode == 0, done.stderr
        assert b"\x1b" not in done.stdout and b"\x1b" not in done.stderr
        assert "\u202e".encode() not in done.stdout
    plain = served.run("diff", str(n)).stdout.decode()
    assert "txt.exe body" in plain and "[31mred" in plain
    doc = json.loads(served.run("diff", str(n), "--json").stdout)
    assert f"+{HOSTILE_BODY}" in doc["body_diff"].splitlines()  # data kept, only escaped


def test_unknown_pr_and_usage(served: Served) -> None:
    done = served.run("diff", "99999")
    assert done.returncode == 2 and b"99999" in done.stderr
    assert served.run("diff").returncode == 2
    assert served.run("diff", "abc").returncode == 2


def test_proposal_then_head_not_fetched(served: Served) -> None:
    n = served.world.prs["pend-none"]
    doc = json.loads(served.run("diff", str(n), "--json").stdout)
    assert doc["kind"] == "propose" and doc["slug"] == "q-pend-none"
    fields = {f["name"]: (f["old"], f["new"]) for f in doc["fields"]}
    assert fields["title"] == (None, "Grace's pending idea")
    assert fields["state"] == (None, "idea")
    assert doc["body_diff"].splitlines()[0] == "--- /dev/null"
    # Forget the fetched head (as if the sync had not reached it): exit 1, told to sync.
    from rfctui.db import open_cache

    caches = sorted((served.data_dir.parent / "cli-cache").rglob("*.sqlite*"))
    path = next(p for p in caches if p.suffix == ".sqlite")
    with open_cache(path) as cache, cache.write():
        cache.HeadFile.delete().where(cache.HeadFile.pr_number == n).execute()
    done = served.run("diff", str(n))
    assert done.returncode == 1
    assert b"not fetched yet" in done.stderr and b"rfctui --sync" in done.stderr


def test_two_prs_on_one_entry_are_noted(served: Served) -> None:
    claim, meta = served.world.prs["claim-decide"], served.world.prs["meta-decide"]
    done = served.run("diff", str(meta))
    assert done.returncode == 0, done.stderr
    assert "owners: [linus] → [linus, grace]" in done.stdout.decode().splitlines()
    assert f"#{meta} and #{claim} both change owners" in done.stderr.decode()  # viewed first
    other = served.run("diff", str(claim)).stderr.decode()
    assert f"#{claim} and #{meta} both change owners" in other
