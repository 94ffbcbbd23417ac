"""A sample sandbox with the queue's cases planted through its API (issue 11 tests).

Shared by tests/test_triage.py, tests/test_marks.py and tests/test_queue_cli.py. Entries
go onto ``main`` through the contents API with back-dated commits (its ``dates``
option); pull requests are opened by the bot on behalf of real people through
`rfctui.session.Session.perform` (the UI's and the CLI's own path), so every fact the
queue reads was written by the reconciler from what Gitea said.

Planted (``T0`` is when the PRs are opened; the sample's own entries are left as they
are, tests look only at the ``q-`` slugs):

============================  ===========================================================
``q-decide``                  idea by linus (owner), arbiter grace, proposed T0-5d
``q-parked``                  parked, owner ada, arbiter margaret, committed T0-200d
``q-lonely``                  idea by barbara (owner), no arbiter, proposed T0-3d
``q-hostile``                 idea by ken (owner), arbiter ada; title holds ESC and bidi
PR propose ``q-pend-ada``     pending idea by ada naming grace as arbiter
PR propose ``q-pend-none``    pending idea by grace naming no arbiter
PR edit ``q-parked``          by grace (ada owns the entry)
PR claim ``q-decide``         by ken (linus owns, grace arbitrates)
============================  ===========================================================
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from rfctui.config import Config, Secret
from rfctui.sandbox import Sandbox
from rfctui.sandbox.sample import build_sample_sandbox
from rfctui.session import Session

HOST = "http://sandbox.queue"
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
HOSTILE_TITLE = "Evil \x1b[31mred\x1b[0m \u202etxt.exe title"
PEOPLE = ("ada", "grace", "linus", "barbara", "ken", "margaret")


class Clock:
    """One clock for the sandbox (commit and PR times) and the sessions (the queue's now)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def entry_text(
    slug: str, title: str, state: str, by: str, owners: list[str], arbiters: list[str],
    proposed_at: datetime,
) -> str:
    def names(xs: list[str]) -> str:
        return "[" + ", ".join(xs) + "]"

    safe_title = title.replace("\\", "\\\\").replace('"', '\\"').replace("\x1b", "\\e")
    safe_title = safe_title.replace("\u202e", "\\u202e")
    return (
        f'---\nslug: {slug}\ntitle: "{safe_title}"\nstate: {state}\nproposed_by: {by}\n'
        f"proposed_at: {proposed_at.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        f"owners: {names(owners)}\narbiters: {names(arbiters)}\ntags: [queue]\n---\n"
        f"Why {slug}.\n"
    )


def commit_file(
    sb: Sandbox, path: str, text: str, when: datetime, branch: str = "main",
    sha: str | None = None,
) -> None:
    """Write ``path`` on ``branch`` as the bot, commit dated ``when`` (contents API)."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    body: dict[str, Any] = {
        "content": base64.b64encode(text.encode()).decode(),
        "message": f"plant {path}",
        "branch": branch,
        "dates": {"author": stamp, "committer": stamp},
    }
    with httpx.Client(
        transport=sb.transport, base_url=f"{HOST}/api/v1",
        headers={"Authorization": "token bot-token"},
    ) as c:
        url = f"/repos/{sb.org}/{sb.repo}/contents/{path}"
        if sha is None:
            r = c.get(url, params={"ref": branch})
            if r.status_code == 200:
                sha = r.json()["sha"]
        if sha is None:
            r = c.post(url, json=body)
        else:
            r = c.put(url, json=body | {"sha": sha})
        assert r.status_code in (200, 201), r.text


def config_for(sb: Sandbox, root: Path, login: str | None, **over: Any) -> Config:
    """A configuration on the sandbox: ``login``'s own token (None: no user token)."""
    fields: dict[str, Any] = {
        "gitea_url": HOST, "org": sb.org, "meta_repo": sb.repo, "bot_user": "rfc-bot",
        "bot_token": Secret("bot-token"),
        "user_token": Secret(f"{login}-token") if login else None,
        "cache_dir": root / "cache", "data_dir": root / f"data-{login or 'none'}",
        "state_dir": root / f"state-{login or 'none'}",
        "transport": sb.transport,
    }
    return Config(**(fields | over))


@dataclass
class World:
    sb: Sandbox
    clock: Clock
    root: Path
    prs: dict[str, int]

    def session(self, login: str | None = "ada", **over: Any) -> Session:
        return Session(config_for(self.sb, self.root, login, **over), clock=self.clock)

    def sync(self, kind: str = "quick") -> None:
        s = self.session(None)
        try:
            result = asyncio.run(s.sweep(kind))  # type: ignore[arg-type]
            assert result.ok, result.error
        finally:
            s.close()


def _perform(world: World, login: str, request: dict[str, Any]) -> int:
    s = world.session(login)
    try:
        return asyncio.run(s.perform(request)).pr_number
    finally:
        s.close()


def build_world(root: Path) -> World:
    clock = Clock(T0 - timedelta(days=200))
    sb = build_sample_sandbox(clock=clock)
    plant = [
        ("q-parked", "Parked long ago", "parked", "ada", ["ada"], ["margaret"], 200),
        ("q-decide", "Needs a decision", "idea", "linus", ["linus"], ["grace"], 5),
        ("q-lonely", "Nobody arbitrates", "idea", "barbara", ["barbara"], [], 3),
        ("q-hostile", HOSTILE_TITLE, "idea", "ken", ["ken"], ["ada"], 2),
    ]
    for slug, title, state, by, owners, arbiters, days in plant:
        when = T0 - timedelta(days=days)
        clock.now = T0  # the sandbox's own clock never dates these commits
        commit_file(
            sb, f"rfcs/{slug}.md", entry_text(slug, title, state, by, owners, arbiters, when),
            when,
        )
    clock.now = T0
    world = World(sb, clock, root, {})
    world.sync("resync")
    world.prs["pend-ada"] = _perform(world, "ada", {
        "action": "propose", "slug": "q-pend-ada", "title": "Ada's pending idea",
        "body": "Why.", "tags": (), "arbiters": ("grace",),
    })
    world.prs["pend-none"] = _perform(world, "grace", {
        "action": "propose", "slug": "q-pend-none", "title": "Grace's pending idea",
        "body": "Why.", "tags": (), "arbiters": (),
    })
    world.prs["edit-parked"] = _perform(world, "grace", {
        "action": "edit", "slug": "q-parked", "body": "A better reason.",
    })
    world.prs["claim-decide"] = _perform(world, "ken", {"action": "claim", "slug": "q-decide"})
    world.sync("full")
    return world
