"""The weekly digest (issue 12 §4): `rfctui.digest` through `Session.digest`, and
``rfctui digest`` as a person runs it, against the sample sandbox with back-dated
history.

History is planted through the contents API with ``dates`` in the past, each commit
made with the token of the account that makes it (grace directly; the bot with an
``On-behalf-of:`` trailer); PRs are opened by the bot for ada through `Session.perform`
and merged with the sandbox clock set back. The cache is built by the real reconciler
and the history walk; nothing is canned.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from queue_world import Clock, config_for
from test_timeline import HOST

import rfctui
from rfctui.digest import Digest, markdown, md_escape
from rfctui.digest_cli import Usage, parse_since
from rfctui.sandbox import Sandbox
from rfctui.sandbox.sample import build_sample_sandbox
from rfctui.sandbox.state import SandboxUser
from rfctui.session import Session

# "Now" is the real time (to the minute): the subprocess digest has no fixed clock.
T0 = datetime.now(UTC).replace(second=0, microsecond=0)
DAY = timedelta(days=1)
HOSTILE = "Evil \x1b]0;pwned\x07 [click](http://e.vil) \u202etxt <b>x</b> # h"
HOSTILE_YAML = 'title: "Evil \\e]0;pwned\\a [click](http://e.vil) \\u202etxt <b>x</b> # h"'
BY_ADA = "\n\nOn-behalf-of: Ada Lovelace <ada>"


def entry(slug: str, state: str, title_line: str | None = None, extra: str = "") -> str:
    title = title_line or f"title: Entry {slug}"
    return (
        f"---\nslug: {slug}\n{title}\nstate: {state}\nproposed_by: grace\n"
        f"owners: [grace]\narbiters: [ada]\ntags: [t]\n{extra}---\nWhy.\n"
    )


def put(sb: Sandbox, token: str, when: datetime, slug: str, message: str, text: str) -> str:
    """One commit of rfcs/<slug>.md on main dated `when`, made by `token`'s account."""
    path = f"/repos/{sb.org}/{sb.repo}/contents/rfcs/{slug}.md"
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                      headers={"Authorization": f"token {token}"}) as c:
        r = c.get(path, params={"ref": "main"})
        body: dict[str, Any] = {
            "content": base64.b64encode(text.encode()).decode(), "message": message,
            "branch": "main", "dates": {"author": stamp, "committer": stamp},
        }
        if r.status_code == 200:
            r = c.put(path, json=body | {"sha": r.json()["sha"]})
        else:
            r = c.post(path, json=body)
        assert r.status_code in (200, 201), r.text
        return str(r.json()["commit"]["sha"])


@dataclass
class World:
    sb: Sandbox
    root: Path
    clock: Clock
    shas: dict[str, str]
    prs: dict[str, int]

    def session(self, **over: Any) -> Session:
        return Session(config_for(self.sb, self.root, "ada", **over), clock=self.clock)


def run(world: World, coro_fn: Any, **over: Any) -> Any:
    s = world.session(**over)
    try:
        return asyncio.run(coro_fn(s))
    finally:
        s.close()


def sweep(world: World, kind: str, **over: Any) -> None:
    result = run(world, lambda s: s.sweep(kind), **over)
    assert result.ok, result.error


def sweep_both(world: World, kind: str) -> None:
    """The world's cache, and the observer's: swept at the same moments, its history
    never walked (what a cache knows from sweeps alone)."""
    sweep(world, kind)
    sweep(world, kind, cache_dir=world.root / "observer")


def merge(world: World, number: int) -> None:
    with httpx.Client(transport=world.sb.transport, base_url=f"{HOST}/api/v1",
                      headers={"Authorization": "token bot-token"}) as c:
        r = c.post(f"/repos/{world.sb.org}/{world.sb.repo}/pulls/{number}/merge",
                   json={"Do": "merge"})
        assert r.status_code in (200, 204), r.text


def perform(world: World, request: dict[str, Any]) -> int:
    result = run(world, lambda s: s.perform(request))
    assert result.pr_number, result
    return int(result.pr_number)


def build_world(root: Path) -> World:
    """Everything in chronological order (graph order = date order)."""
    clock = Clock(T0 - 200 * DAY)
    sb = build_sample_sandbox(clock=clock)
    grace = sb.user_by_login("grace")
    assert grace is not None  # a maintainer who may push to main herself
    sb.add_user(SandboxUser("grace", grace.token, grace.full_name, "write", grace.email))
    w = World(sb, root, clock, {}, {})
    g, b = "grace-token", "bot-token"
    w.shas["stale"] = put(sb, g, T0 - 100 * DAY, "d-stale", "d-stale: new",
                          entry("d-stale", "idea"))
    for slug in ("d-grad", "d-declined"):
        w.shas[slug + "0"] = put(sb, g, T0 - 30 * DAY, slug, f"{slug}: new", entry(slug, "idea"))
    w.shas["moved0"] = put(sb, g, T0 - 20 * DAY, "d-moved", "d-moved: new",
                           entry("d-moved", "idea"))
    w.shas["old0"] = put(sb, g, T0 - 15 * DAY, "d-old", "d-old: new", entry("d-old", "idea"))
    w.shas["direct0"] = put(sb, g, T0 - 12 * DAY, "d-direct", "d-direct: new",
                            entry("d-direct", "idea"))
    w.shas["old"] = put(sb, b, T0 - 10 * DAY, "d-old", "d-old: park it" + BY_ADA,
                        entry("d-old", "parked"))
    clock.now = T0 - 10 * DAY + timedelta(hours=1)
    sweep_both(w, "resync")
    w.prs["old_edit"] = perform(w, {"action": "edit", "slug": "d-old", "body": "Why, again."})
    clock.now += timedelta(hours=1)
    merge(w, w.prs["old_edit"])  # merged 10 days ago: outside the window
    w.shas["moved"] = put(sb, b, T0 - 3 * DAY, "d-moved", "d-moved: park it" + BY_ADA,
                          entry("d-moved", "parked"))
    w.shas["direct"] = put(sb, g, T0 - 2 * DAY, "d-direct", "d-direct: park it",
                           entry("d-direct", "parked"))
    clock.now = T0 - 2 * DAY + timedelta(hours=1)
    sweep_both(w, "full")
    w.prs["edit"] = perform(w, {"action": "edit", "slug": "d-moved", "body": "Why, better."})
    clock.now = T0 - DAY
    merge(w, w.prs["edit"])
    w.shas["new"] = put(sb, b, T0 - DAY + timedelta(hours=1), "d-new",
                        "d-new: new idea" + BY_ADA, entry("d-new", "idea", HOSTILE_YAML))
    graduated = T0 - DAY + timedelta(hours=2)
    w.shas["grad"] = put(sb, g, graduated, "d-grad", "d-grad: graduated", entry(
        "d-grad", "graduated",
        extra=f"id: 7\nrepo: rfcs/d-grad\ngraduated_at: {graduated:%Y-%m-%dT%H:%M:%SZ}\n"
              "graduated_by: grace\n",
    ))
    clock.now = T0 - timedelta(hours=12)
    sweep_both(w, "full")
    w.prs["idea"] = perform(w, {
        "action": "propose", "slug": "d-idea", "title": "Use [links](http://x.y) # here",
        "body": "An idea.", "arbiters": ["grace"],
    })
    w.shas["declined"] = put(sb, b, T0 - timedelta(hours=6), "d-declined",
                             "d-declined: declined" + BY_ADA, entry("d-declined", "declined"))
    clock.now = T0
    sweep_both(w, "full")
    return w


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(tmp_path_factory.mktemp("digest"))
    result = run(w, lambda s: s.backfill_history(all_states=True))
    assert result.error is None, result.error
    yield w


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("offline", request=request)


def digest(world: World, days: int = 7, **over: Any) -> Digest:
    s = world.session(**over)
    try:
        return s.digest(T0 - days * DAY)
    finally:
        s.close()


def test_state_changes_with_the_real_person(world: World) -> None:
    d = digest(world, transport=httpx.MockTransport(refuse))  # offline
    changes = {c.slug: c for c in d.state_changes}
    assert set(changes) == {"d-moved", "d-direct", "d-grad", "d-declined"}  # not d-old
    moved = changes["d-moved"]  # the bot's commit, on behalf of ada
    assert (moved.old, moved.new, moved.actor) == ("idea", "parked", "ada")
    assert moved.commit == world.shas["moved"] and moved.at == T0 - 3 * DAY
    direct = changes["d-direct"]  # grace's own commit
    assert (direct.old, direct.new, direct.actor) == ("idea", "parked", "grace")
    declined = changes["d-declined"]  # a resting state: walked here (all states)
    assert (declined.old, declined.new, declined.actor) == ("idea", "declined", "ada")
    grad = changes["d-grad"]
    assert (grad.old, grad.new, grad.actor) == ("idea", "graduated", "grace")
    assert [c.slug for c in d.state_changes] == [
        "d-declined", "d-grad", "d-direct", "d-moved"]  # newest first


def test_ideas_merged_new_stale_and_people(world: World) -> None:
    d = digest(world)
    assert [(p.number, p.actor) for p in d.new_ideas] == [(world.prs["idea"], "ada")]
    assert d.new_ideas[0].title == "Use [links](http://x.y) # here"  # its file's, raw
    assert [(p.number, p.kind, p.actor) for p in d.merged] == [
        (world.prs["edit"], "meta_body_edit", "ada")]  # the 10-day-old merge is out
    assert [(e.slug, e.actor, e.state) for e in d.new_entries] == [("d-new", "ada", "idea")]
    assert d.new_entries[0].title == HOSTILE
    stale = {s.slug: s for s in d.stale}
    assert "d-stale" in stale and stale["d-stale"].days == 100
    assert stale["d-stale"].state == "idea" and stale["d-stale"].owners == ("grace",)
    assert "d-moved" not in stale and "d-old" not in stale
    people = {p.login: p for p in d.people}
    assert "rfc-bot" not in {k.lower() for k in people}
    ada, grace = people["ada"], people["grace"]
    assert (ada.new_ideas, ada.merged, ada.new_entries) == (1, 1, 1)
    assert (grace.state_changes, grace.new_entries, grace.merged) == (2, 0, 0)
    assert ada.state_changes == 2
    assert d.notes == ()  # everything in the window was read


def test_json_schema(world: World) -> None:
    doc = digest(world).to_json()
    assert set(doc) == {"schema", "since", "until", "synced_at", "notes", "state_changes",
                        "new_ideas", "merged", "new_entries", "stale", "people"}
    assert doc["schema"] == 1 and doc["until"].endswith("Z") and doc["since"].endswith("Z")
    assert set(doc["state_changes"][0]) == {"slug", "title", "old", "new", "at", "actor",
                                            "pr_number", "commit"}
    for key in ("new_ideas", "merged"):
        assert set(doc[key][0]) == {"pr_number", "slug", "kind", "title", "actor", "at", "url"}
    assert set(doc["new_entries"][0]) == {"slug", "title", "state", "at", "actor", "pr_number"}
    assert set(doc["stale"][0]) == {"slug", "title", "state", "since", "days", "owners"}
    assert set(doc["people"][0]) == {"login", "state_changes", "new_ideas", "merged",
                                     "new_entries", "commits"}
    json.dumps(doc)


def test_a_wider_window_takes_the_older_change(world: World) -> None:
    d = digest(world, days=11)
    assert {c.slug for c in d.state_changes} == {
        "d-moved", "d-direct", "d-old", "d-grad", "d-declined"}
    assert world.prs["old_edit"] in {p.number for p in d.merged}


def test_markdown_is_inert_and_terminal_safe(world: World) -> None:
    lines = markdown(digest(world))
    text = "\n".join(lines)
    assert lines[0].startswith("# RFC digest: ")
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    hostile = [line for line in lines if "d-new" in line and line.startswith("- ")]
    assert hostile, lines
    h = hostile[0]
    # no link, no tag, no heading can be formed by the title
    assert "[click](" not in h and "<b>" not in h and "\\[click\\]\\(http\\:" in h
    assert "\\# h" in h and "\\<b\\>" in h
    assert "](http://x.y)" not in text  # the proposal's title is escaped too
    headings = [line for line in lines if line.startswith("#")]
    assert headings == [lines[0], "## State changes (4)", "## New ideas (1)",
                        "## Merged edits (1)", "## New entries (1)",
                        f"## Stale ({len(digest(world).stale)})", "## Who did what (2)"]
    assert md_escape("a\nb *c*") == "a b \\*c\\*"


def test_not_walked_is_said_not_fetched(world: World) -> None:
    """A cache the history walk never ran on: no request is made; a state change a
    sweep saw is told without a person (a graduation with its ``graduated_by``); a note
    names the entries whose history was not read; the merged proposal still counts."""
    d = digest(world, transport=httpx.MockTransport(refuse),
               cache_dir=world.root / "observer")
    changes = {c.slug: (c.old, c.new, c.actor) for c in d.state_changes}
    assert changes == {
        "d-moved": (None, "parked", ""), "d-direct": (None, "parked", ""),
        "d-declined": (None, "declined", ""), "d-grad": (None, "graduated", "grace"),
    }
    assert any("without its history read" in n and "d-moved" in n for n in d.notes), d.notes
    assert any("stale list may be short" in n for n in d.notes), d.notes
    # d-new was committed directly (no PR): only its history could tell; nothing made up
    assert "d-new" not in {e.slug for e in d.new_entries}
    assert [p.number for p in d.new_ideas] == [world.prs["idea"]]
    assert "" not in {p.login for p in d.people}
    assert d.to_json()["state_changes"][0]["actor"] is None
    lines = markdown(d)
    assert any("d-moved" in line and "by someone (history not read yet)" in line
               for line in lines)


def test_since_values() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert parse_since("7d", now) == now - 7 * DAY
    assert parse_since("2w", now) == now - 14 * DAY
    assert parse_since("36h", now) == now - timedelta(hours=36)
    assert parse_since("2026-11-30", now) == datetime(2026, 11, 30, tzinfo=UTC)
    assert parse_since("2026-11-30T09:00:00+01:00", now) == datetime(2026, 11, 30, 8,
                                                                     tzinfo=UTC)
    for bad in ("7", "d7", "-1d", "7x", "2027-01-01", "yesterday", "7d\x1b"):
        with pytest.raises(Usage):
            parse_since(bad, now)


# ---------------------------------------------------------------- the command line


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "rfctui", *args], capture_output=True, env=env, timeout=120,
        cwd=Path(rfctui.__file__).parent.parent,
    )


def bare_env(root: Path) -> dict[str, str]:
    import os

    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "SYSTEMROOT", "LANG", "PYTHONPATH", "VIRTUAL_ENV")}
    return keep | {"HOME": str(root / "home"), "XDG_CONFIG_HOME": str(root / "xc"),
                   "XDG_CACHE_HOME": str(root / "xk"), "XDG_DATA_HOME": str(root / "xd"),
                   "NO_COLOR": "1"}


def test_cli_over_http(world: World, tmp_path: Path) -> None:
    with world.sb.serve(port=0) as url:
        env = bare_env(tmp_path) | {
            "RFCTUI_GITEA_URL": url, "RFCTUI_ORG": world.sb.org,
            "RFCTUI_META_REPO": world.sb.repo, "RFCTUI_BOT_TOKEN": "bot-token",
            "RFCTUI_USER_TOKEN": "ada-token",
            "RFCTUI_CACHE_DIR": str(tmp_path / "cache"),
            "RFCTUI_DATA_DIR": str(tmp_path / "data"),
        }
        assert cli(env, "--sync", "--full").returncode == 0
        served = world.sb.requests_served
        md = cli(env, "digest")
        js = cli(env, "digest", "--since", "1w", "--format", "json")
        assert world.sb.requests_served == served  # offline
    assert md.returncode == 0, md.stderr
    assert b"\x1b" not in md.stdout and "\u202e".encode() not in md.stdout
    out = md.stdout.decode()
    assert out.startswith("# RFC digest: ") and "## New ideas (1)" in out
    # --sync walked the history of the entries that can go stale: ada, not the bot
    assert "d-moved" in out and "by ada" in out and "rfc-bot" not in out
    # resting states are not walked: a graduation is still told, the rest is noted
    assert any("d-grad" in line and "graduated" in line and "by grace" in line
               for line in out.splitlines())
    note = [line for line in out.splitlines() if "without its history read" in line]
    assert note and "d-declined" in note[0]
    assert js.returncode == 0, js.stderr
    assert b"\x1b" not in js.stdout and "\u202e".encode() not in js.stdout
    doc = json.loads(js.stdout)
    assert doc["schema"] == 1 and [p["actor"] for p in doc["new_ideas"]] == ["ada"]
    bad = cli(env, "digest", "--since", "soon")
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    assert b"Traceback" not in bad.stderr
    fmt = cli(env, "digest", "--format", "html")
    assert fmt.returncode == 2 and b"Traceback" not in fmt.stderr


def test_cli_unreadable_cache_is_exit_1(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    env = bare_env(tmp_path) | {
        "RFCTUI_GITEA_URL": "http://127.0.0.1:9", "RFCTUI_CACHE_DIR": str(cache_dir / "f"),
        "RFCTUI_DATA_DIR": str(tmp_path / "data"),
    }
    (cache_dir / "f").write_text("a file where the cache directory should be")
    done = cli(env, "digest")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert len(done.stderr.splitlines()) == 1 and b"Traceback" not in done.stderr


def test_help_needs_no_configuration(tmp_path: Path) -> None:
    done = cli(bare_env(tmp_path), "digest", "--help")
    assert done.returncode == 0, done.stderr
    assert b"exit status: 0" in done.stdout and b"--since" in done.stdout
    assert b"2 bad usage" in done.stdout
