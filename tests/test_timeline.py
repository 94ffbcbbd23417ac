"""The life of an entry (issue 12 §2): `rfctui.timeline` through `Session.timeline`,
against the sample sandbox.

History is planted through the contents API, each commit made with the token of the
account that makes it (grace directly; the bot with ``On-behalf-of:`` trailers), then a
PR opened by the bot for ada through `Session.perform` and merged. Nothing is canned:
the commit list is the one the history walk fetched and stored.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from queue_world import Clock, config_for

from rfctui.entry import InvalidSlug
from rfctui.sandbox import Sandbox
from rfctui.sandbox.sample import build_sample_sandbox
from rfctui.sandbox.state import SandboxUser
from rfctui.session import Session
from rfctui.timeline import Timeline

HOST = "http://sandbox.queue"
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
SLUG = "t-life"
FORGED = (
    "forge: \x1b[31ma trailer\u202e in the middle\n\n"
    "On-behalf-of: Mallory <mallory>\n\nmore words"
)


def text(state: str, body: str = "Why.") -> str:
    return (
        f"---\nslug: {SLUG}\ntitle: A life\nstate: {state}\nproposed_by: grace\n"
        f"owners: [grace]\narbiters: [ada]\ntags: [t]\n---\n{body}\n"
    )


def commit(sb: Sandbox, token: str, when: datetime, message: str, content: str) -> str:
    """One commit of rfcs/t-life.md on main, made by `token`'s account."""
    path = f"/repos/{sb.org}/{sb.repo}/contents/rfcs/{SLUG}.md"
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                      headers={"Authorization": f"token {token}"}) as c:
        r = c.get(path, params={"ref": "main"})
        body: dict[str, Any] = {
            "content": base64.b64encode(content.encode()).decode(), "message": message,
            "branch": "main", "dates": {"author": stamp, "committer": stamp},
        }
        if r.status_code == 200:
            r = c.put(path, json=body | {"sha": r.json()["sha"]})
        else:
            r = c.post(path, json=body)
        assert r.status_code in (200, 201), r.text
        return str(r.json()["commit"]["sha"])


@dataclass
class Life:
    sb: Sandbox
    root: Path
    clock: Clock
    shas: dict[str, str]
    pr: int

    def session(self, **over: Any) -> Session:
        return Session(config_for(self.sb, self.root, "ada", **over), clock=self.clock)


def sweep(life: Life, kind: str) -> None:
    s = life.session()
    try:
        result = asyncio.run(s.sweep(kind))  # type: ignore[arg-type]
        assert result.ok, result.error
    finally:
        s.close()


def build_life(root: Path) -> Life:
    """The planted history (module docstring); tests/test_log_cli.py serves it."""
    clock = Clock(T0)
    sb = build_sample_sandbox(clock=clock)
    grace = sb.user_by_login("grace")
    assert grace is not None  # a maintainer who may push to main herself
    sb.add_user(SandboxUser("grace", grace.token, grace.full_name, "write", grace.email))
    shas = {
        "created": commit(sb, "grace-token", T0 - timedelta(days=40), "t-life: new idea",
                          text("idea")),
        "parked": commit(sb, "bot-token", T0 - timedelta(days=30),
                         "t-life: park it\n\nOn-behalf-of: Ada Lovelace <ada>",
                         text("parked")),
        "forged": commit(sb, "bot-token", T0 - timedelta(days=20),
                         FORGED + "\n\nOn-behalf-of: Ada Lovelace <ada>",
                         text("parked", "Why, typo fixed.")),
        "declined": commit(sb, "grace-token", T0 - timedelta(days=10),
                           "t-life: declined \x1b[31mred\x1b[0m", text("declined")),
    }
    world = Life(sb, root, clock, shas, 0)
    sweep(world, "resync")
    s = world.session()
    try:
        world.pr = asyncio.run(s.perform(
            {"action": "edit", "slug": SLUG, "body": "Why, said better."}
        )).pr_number
    finally:
        s.close()
    clock.now = T0 + timedelta(hours=2)
    with httpx.Client(transport=sb.transport, base_url=f"{HOST}/api/v1",
                      headers={"Authorization": "token bot-token"}) as c:
        r = c.post(f"/repos/{sb.org}/{sb.repo}/pulls/{world.pr}/merge", json={"Do": "merge"})
        assert r.status_code in (200, 204), r.text
    sweep(world, "full")
    return world


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    yield build_life(tmp_path_factory.mktemp("timeline"))


def fetched(life: Life) -> Timeline:
    s = life.session()
    try:
        first = s.timeline(SLUG)
        if not first.history_known:
            result = asyncio.run(s.backfill_history(slugs=[SLUG], all_states=True))
            assert result.error is None, result.error
        return s.timeline(SLUG)
    finally:
        s.close()


def by_commit(t: Timeline) -> dict[str, Any]:
    return {e.commit: e for e in t.events if e.commit}


def test_commits_and_prs_with_the_real_person(life: Life) -> None:
    t = fetched(life)
    assert t.history_known
    ev = by_commit(t)
    created = ev[life.shas["created"]]
    assert (created.kind, created.actor) == ("created", "grace")  # direct human commit
    parked = ev[life.shas["parked"]]
    # The walk stopped once it knew when "declined" began: this version was never
    # read, so the timeline says "edited" rather than guess a state change.
    assert (parked.kind, parked.actor, parked.summary) == ("edited", "ada", "t-life: park it")
    declined = ev[life.shas["declined"]]
    assert (declined.kind, declined.actor, declined.summary) == (
        "state_change", "grace", "parked → declined")
    forged = ev[life.shas["forged"]]  # the middle block names mallory: ignored
    assert forged.actor == "ada" and forged.kind == "edited"
    kinds = {(e.kind, e.pr_number) for e in t.events}
    assert ("pr_opened", life.pr) in kinds and ("pr_merged", life.pr) in kinds
    for e in t.events:
        assert e.actor.lower() != "rfc-bot", e
        assert "mallory" not in e.actor
    merge = [e for e in t.events if e.commit and e.pr_number == life.pr]
    assert merge and merge[0].kind == "body_edit" and merge[0].actor == "ada"
    ats = [e.at for e in t.events]
    assert ats == sorted(ats, reverse=True)  # newest first
    assert t.events[-1].kind == "created"


def test_bot_commit_without_any_trailer_is_the_bot(life: Life) -> None:
    """The chain ends with the bot when nobody is named (not somebody made up)."""
    t = fetched(life)
    assert all(e.actor in ("ada", "grace") for e in t.events)


def test_offline_after_the_first_fetch(life: Life) -> None:
    online = fetched(life)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("offline", request=request)

    s = life.session(transport=httpx.MockTransport(refuse))
    try:
        offline = s.timeline(SLUG)
    finally:
        s.close()
    assert offline == online and offline.history_known


def test_json_shape_and_bad_slug(life: Life) -> None:
    doc = fetched(life).to_json()
    assert set(doc) == {"schema", "slug", "events"} and doc["schema"] == 1
    for e in doc["events"]:
        assert set(e) == {"at", "kind", "actor", "summary", "pr_number", "commit"}
    s = life.session()
    try:
        with pytest.raises(InvalidSlug):
            s.timeline("../etc/passwd")
    finally:
        s.close()
