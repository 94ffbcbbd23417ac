"""The bundled sample meta repository (rfctui/sandbox/sample): valid entries in every §3
state, and real pull requests of every §5 kind in every state, made through the API."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from rfctui.sandbox import Faults, Sandbox
from rfctui.sandbox.sample import (
    PEOPLE,
    PROPOSALS,
    build_sample_sandbox,
    populate,
    proposal_text,
    sample_files,
)

try:  # the entry parser is another module; use it when it is there.
    from rfctui.entry import parse_entry, parse_head_branch
except ImportError:  # pragma: no cover - only while entry.py is being written
    parse_entry = None  # type: ignore[assignment]
    parse_head_branch = None  # type: ignore[assignment]

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
STATES = ("idea", "graduated", "parked", "declined", "superseded", "withdrawn")
RFC3339_UTC = re.compile(r"^2026-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LOGINS = {"ada", "grace", "linus", "margaret", "ken", "barbara"}
KNOWN_KEYS = {"slug", "title", "state", "id", "repo", "proposed_by", "proposed_at",
              "graduated_at", "graduated_by", "owners", "arbiters", "tags"}
FIXED_NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BASE = "http://sandbox.local"
REPO = "/api/v1/repos/rfcs/meta"
BRANCH_KINDS = (
    (re.compile(r"^propose/([a-z0-9-]+)$"), "idea"),
    (re.compile(r"^edit/([a-z0-9-]+)/[1-9][0-9]*$"), "meta_body_edit"),
    (re.compile(r"^claim/([a-z0-9-]+)$"), "meta_claim"),
    (re.compile(r"^metadata/([a-z0-9-]+)$"), "meta_metadata"),
)


class _RawLoader(yaml.SafeLoader):
    """Keep timestamps as the strings written in the file, so their form can be checked."""


_RawLoader.add_constructor("tag:yaml.org,2002:timestamp",
                           lambda loader, node: loader.construct_scalar(node))


def _front(data: bytes) -> tuple[dict[str, Any], str]:
    text = data.decode("utf-8")
    assert text.startswith("---\n")
    head, sep, body = text[4:].partition("\n---\n")
    assert sep, "front matter not closed"
    meta = yaml.load(head, Loader=_RawLoader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(meta, dict)
    return meta, body


def _kind(branch: str) -> str | None:
    if parse_head_branch is not None:
        parsed = parse_head_branch(branch)
        return parsed[0] if parsed else None
    for pattern, kind in BRANCH_KINDS:
        if pattern.match(branch):
            return kind
    return None


ENTRIES = sample_files()


# ------------------------------------------------------------------------ entries


@pytest.mark.parametrize("path", sorted(ENTRIES))
def test_entry_is_valid(path: str) -> None:
    meta, body = _front(ENTRIES[path])
    slug = meta["slug"]
    assert SLUG_RE.match(slug) and path == f"rfcs/{slug}.md"
    assert isinstance(meta["title"], str) and meta["title"].strip()
    assert meta["state"] in (*STATES, "proposed")
    assert RFC3339_UTC.match(meta["proposed_at"])
    assert meta["proposed_by"] in LOGINS
    for key in ("owners", "arbiters"):
        assert set(meta[key]) <= LOGINS, (key, meta[key])
    assert meta["arbiters"], "every sample entry has an arbiter"
    assert all(isinstance(t, str) and SLUG_RE.match(t) for t in meta["tags"])
    assert body.strip().startswith("## "), "bodies start with a heading"
    if meta["state"] == "graduated":
        assert isinstance(meta["id"], int)
        assert re.match(r"^rfcs/[a-z0-9-]+$", meta["repo"])
        assert RFC3339_UTC.match(meta["graduated_at"])
        assert meta["graduated_by"] in LOGINS
        assert meta["graduated_at"] > meta["proposed_at"]
    else:
        assert meta["id"] is None and meta["repo"] is None and meta["graduated_at"] is None
    if meta["state"] == "parked":
        assert meta["waiting_on"]
    if meta["state"] == "superseded":
        assert f"rfcs/{meta['superseded_by']}.md" in ENTRIES
    if parse_entry is not None:
        entry = parse_entry(path, ENTRIES[path])
        assert entry.slug == slug and entry.title == meta["title"]
        assert entry.state == ("idea" if meta["state"] == "proposed" else meta["state"])
        assert entry.owners == meta["owners"] and entry.tags == meta["tags"]
        extra = {k: v for k, v in meta.items() if k not in KNOWN_KEYS}
        assert dict(entry.extra) == extra


def test_sample_covers_every_state_and_edge() -> None:
    metas = [_front(data)[0] for data in ENTRIES.values()]
    states = Counter(m["state"] for m in metas)
    assert 28 <= len(metas) <= 32
    assert set(STATES) <= set(states), states
    assert states["idea"] + states["proposed"] >= 9 and states["graduated"] >= 8
    assert states["proposed"] == 1, "exactly one entry uses the `proposed` alias"
    unknown = [m["slug"] for m in metas
               if set(m) - KNOWN_KEYS - {"waiting_on", "superseded_by"}]
    assert len(unknown) == 1, unknown
    assert any(m["owners"] == [] for m in metas), "some entries are unclaimed"
    owners = Counter(o for m in metas for o in m["owners"])
    assert owners.most_common(2)[0][0] in ("ada", "grace")
    bodies = b"".join(ENTRIES.values())
    assert b"\n| --- |" in bodies and b"\n```" in bodies and b"\n- " in bodies


def test_proposals_render_valid_idea_entries() -> None:
    for slug in PROPOSALS:
        data = proposal_text(slug).encode()
        meta, _ = _front(data)
        assert meta["slug"] == slug and meta["state"] == "idea"
        assert f"rfcs/{slug}.md" not in ENTRIES
        if parse_entry is not None:
            assert parse_entry(f"rfcs/{slug}.md", data).state == "idea"


# ------------------------------------------------------------------------ populated


@pytest.fixture(scope="module")
def sample() -> Sandbox:
    return build_sample_sandbox(clock=lambda: FIXED_NOW)


@pytest.fixture(scope="module")
def api(sample: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sample.transport, base_url=BASE,
                      headers={"Authorization": "token ada-token"}) as c:
        yield c


@pytest.fixture(scope="module")
def pulls(api: httpx.Client) -> list[dict[str, Any]]:
    resp = api.get(f"{REPO}/pulls", params={"state": "all", "limit": 50})
    assert resp.status_code == 200
    assert int(resp.headers["X-Total-Count"]) == len(resp.json()) < 50
    return resp.json()


def _state(pr: dict[str, Any]) -> str:
    return "merged" if pr["merged"] else pr["state"]


def _main_file(api: httpx.Client, path: str) -> bytes | None:
    resp = api.get(f"{REPO}/raw/{path}", params={"ref": "main"})
    return resp.content if resp.status_code == 200 else None


def test_pull_kinds_and_states(pulls: list[dict[str, Any]]) -> None:
    seen = Counter((_kind(pr["head"]["label"]), _state(pr)) for pr in pulls)
    assert seen[("idea", "open")] >= 3
    assert seen[("idea", "merged")] >= 1 and seen[("idea", "closed")] >= 1
    for kind in ("meta_body_edit", "meta_claim"):
        assert seen[(kind, "open")] >= 1 and seen[(kind, "merged")] >= 1, kind
    assert seen[("meta_metadata", "open")] >= 1 and seen[("meta_metadata", "closed")] >= 1
    assert seen[(None, "open")] == 1, "exactly one PR on a head branch that is not ours"
    assert all(pr["base"]["ref"] == "main" for pr in pulls)


def test_bot_pulls_carry_the_trailer(sample: Sandbox, api: httpx.Client,
                                     pulls: list[dict[str, Any]]) -> None:
    trailer = re.compile(r"\n\nOn-behalf-of: (?P<name>[^<\n]+) <(?P<login>[a-z]+)>$")
    by_bot = [pr for pr in pulls if pr["user"]["login"] == sample.bot]
    assert len(by_bot) == len(pulls) - 2  # ada's own PR and the admin's fix-typo
    for pr in by_bot:
        m = trailer.search(pr["body"])
        assert m, pr["body"]
        assert PEOPLE[m["login"]] == m["name"]
        commits = api.get(f"{REPO}/commits", params={"sha": pr["head"]["sha"], "limit": 1,
                                                     "stat": "false", "files": "false"})
        head = commits.json()[0]["commit"]
        assert head["message"].rstrip("\n").endswith(f"\n\nOn-behalf-of: {m['name']} "
                                                     f"<{m['login']}>")
        assert head["author"]["name"] == m["name"], "the commit names the real person"


def test_human_and_foreign_pulls(sample: Sandbox, pulls: list[dict[str, Any]]) -> None:
    humans = {pr["head"]["label"]: pr for pr in pulls if pr["user"]["login"] != sample.bot}
    ada = humans["edit/on-call-handoff-notes/1"]
    assert ada["user"]["login"] == "ada" and "On-behalf-of" not in ada["body"]
    assert _kind("fix-typo") is None and humans["fix-typo"]["state"] == "open"
    assert sample.user_by_login("ada").permission == "read", "write was only lent"


def test_merged_changes_reached_main(api: httpx.Client) -> None:
    proposed = _main_file(api, "rfcs/error-budget-policy.md")
    assert proposed is not None and b"\nstate: idea\n" in proposed
    assert _main_file(api, "rfcs/company-wide-ide.md") is None  # closed, never merged
    assert _main_file(api, "rfcs/secret-rotation.md") is None  # still pending
    claimed = _main_file(api, "rfcs/docs-as-code.md")
    assert claimed is not None and b"\nowners: [ada]\n" in claimed
    assert api.get(f"{REPO}/branches/claim/docs-as-code").status_code == 404
    edited = _main_file(api, "rfcs/typed-config.md")
    assert edited is not None and b"## Migration plan" in edited
    assert b"## Prior art" not in edited  # edit 2 is still open
    flags = _main_file(api, "rfcs/feature-flags.md")
    assert flags is not None and b"\narbiters: [grace]\n" in flags  # metadata PR closed
    assert _main_file(api, "README.md") is not None


def test_populate_is_deterministic(sample: Sandbox) -> None:
    other = build_sample_sandbox(clock=lambda: FIXED_NOW)
    assert other.git.branches == sample.git.branches
    summary = [(p.number, p.head, p.state, p.merged) for p in sample.pulls.values()]
    assert summary == [(p.number, p.head, p.state, p.merged) for p in other.pulls.values()]


def test_data_dir_is_not_populated_twice(tmp_path: Path) -> None:
    first = build_sample_sandbox(data_dir=tmp_path, clock=lambda: FIXED_NOW)
    again = build_sample_sandbox(data_dir=tmp_path, clock=lambda: FIXED_NOW)
    assert len(again.pulls) == len(first.pulls)
    assert again.git.branches == first.git.branches


def test_populate_into_a_plain_sandbox() -> None:
    """populate() also works with DESIGN.md's default users only (no extra people)."""
    sb = Sandbox(clock=lambda: FIXED_NOW)
    result = populate(sb)
    assert len(result.entries) == len(ENTRIES)
    assert set(result.open) | set(result.merged) | set(result.closed) == set(result.pulls)
    assert len(result.pulls) == len(sb.pulls)


def test_populate_ignores_then_restores_faults() -> None:
    faults = Faults(latency_ms=40, error_rate=1.0, seed=7)
    sb = build_sample_sandbox(faults=faults, clock=lambda: FIXED_NOW)
    assert sb.pulls and sb.faults is faults
    assert (faults.latency_ms, faults.error_rate, faults.down) == (40, 1.0, False)


def test_sandbox_field_order_matches_the_entry_module() -> None:
    """The sandbox keeps its own copy of §2's key order (it does not import rfctui.entry,
    so it stays an independent stand-in for Gitea); the two copies must not drift."""
    from rfctui import entry
    from rfctui.sandbox import sample

    assert tuple(sample.FIELD_ORDER) == entry.FIELD_ORDER
