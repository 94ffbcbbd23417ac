"""The sandbox through its httpx transport: git model fidelity and every endpoint.

Pitfall numbers ("P1".."P15") refer to the "Top pitfalls" list in
shared/gitea/API-NOTES.md; each one has at least one test here or in
test_sandbox_http.py.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from rfctui.sandbox import Faults, Sandbox, SandboxUser
from rfctui.sandbox.git import GitRepo, MergeConflict, Signature, hash_object, merge_files

BASE = "http://gitea.test"
REPO = "/api/v1/repos/rfcs/meta"


class Clock:
    """A settable clock: every sandbox timestamp comes from it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: int = 1) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sb(clock: Clock) -> Sandbox:
    return Sandbox(
        users=[
            SandboxUser("rfc-bot", "bot-token", "RFC Bot", "write"),
            SandboxUser("ada", "ada-token", "Ada Lovelace", "read"),
            SandboxUser("admin", "admin-token", "Site Admin", "admin"),
            SandboxUser("eve", "eve-token", "Eve", "none"),
        ],
        clock=clock,
    )


def client_for(sb: Sandbox, token: str | None = "bot-token") -> httpx.Client:
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.Client(transport=sb.transport, base_url=BASE, headers=headers)


@pytest.fixture
def bot(sb: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sb) as c:
        yield c


@pytest.fixture
def ada(sb: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sb, "ada-token") as c:
        yield c


@pytest.fixture
def anon(sb: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sb, None) as c:
        yield c


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode()


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def err(resp: httpx.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["url"] == f"{BASE}/api/swagger"
    return body["message"]


def run_git(cwd: Path, *args: str, stdin: bytes | None = None, env: dict | None = None) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True, env=env
    )
    return out.stdout.decode().strip()


# -- git model


@pytest.mark.parametrize("data", [b"", b"hello\n", b"# T\n\n\xe2\x9c\x93 caf\xc3\xa9\n" * 50])
def test_blob_sha_matches_git_hash_object(tmp_path: Path, data: bytes) -> None:
    expected = run_git(tmp_path, "hash-object", "--stdin", stdin=data)
    assert GitRepo().put_blob(data) == expected == hash_object("blob", data)


def test_tree_and_commit_sha_match_real_git(tmp_path: Path) -> None:
    files = {
        "README.md": b"readme\n",
        "rfcs/a.md": b"a\n",
        "rfcs/b-c.md": b"b\n",
        "rfcs-x": b"sorts before rfcs/ as a file, after as a dir\n",
        "rfcs.d/z.md": b"z\n",
        "deep/er/file.txt": b"deep\n",
    }
    run_git(tmp_path, "init", "-q")
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    run_git(tmp_path, "add", "-A")
    expected_tree = run_git(tmp_path, "write-tree")
    repo = GitRepo()
    tree = repo.build_tree(files)
    assert tree == expected_tree
    assert repo.entry_at(tree, "rfcs").sha == run_git(tmp_path, "rev-parse", f"{tree}:rfcs")
    env = {
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": "1700000000 +0000",
        "GIT_COMMITTER_NAME": "RFC Bot",
        "GIT_COMMITTER_EMAIL": "bot@example.com",
        "GIT_COMMITTER_DATE": "1700000001 +0000",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(tmp_path),
    }
    expected_commit = run_git(tmp_path, "commit-tree", tree, "-m", "Add things", env=env)
    sha = repo.write_commit(
        tree,
        [],
        Signature("Ada Lovelace", "ada@example.com", 1700000000),
        Signature("RFC Bot", "bot@example.com", 1700000001),
        "Add things\n",
    )
    assert sha == expected_commit


def test_git_mktree_agrees_with_sort_order(tmp_path: Path) -> None:
    repo = GitRepo()
    blob = repo.put_blob(b"x")
    sub = repo.build_tree({"inner": b"x"})
    # "a.b" (file) vs "a" (dir): git sorts the dir as "a/" which is after "a.b".
    listing = f"100644 blob {blob}\ta.b\n040000 tree {sub}\ta\n100644 blob {blob}\ta0\n"
    run_git(tmp_path, "init", "-q")
    run_git(tmp_path, "hash-object", "-w", "--stdin", stdin=b"x")
    (tmp_path / "inner").write_bytes(b"x")
    run_git(tmp_path, "add", "inner")
    assert run_git(tmp_path, "write-tree") == sub
    expected = run_git(tmp_path, "mktree", stdin=listing.encode())
    assert repo.build_tree({"a.b": b"x", "a/inner": b"x", "a0": b"x"}) == expected


def test_merge_files_three_way() -> None:
    base = {"a": "1", "b": "1", "c": "1"}
    ours = {"a": "2", "b": "1", "c": "1", "n": "9"}
    theirs = {"a": "1", "b": "3", "d": "4"}
    assert merge_files(base, ours, theirs) == {"a": "2", "b": "3", "d": "4", "n": "9"}
    with pytest.raises(MergeConflict) as info:
        merge_files(base, {"a": "2"} | {"b": "1"}, {"a": "5", "b": "1"})
    assert info.value.paths == ["a"]


def test_log_path_and_merge_base(sb: Sandbox, clock: Clock) -> None:
    root = sb.git.branches["main"]
    clock.tick()
    a = sb.commit_files("topic", {"x.md": b"x"}, "x")
    clock.tick()
    b = sb.commit_files("main", {"y.md": b"y"}, "y")
    assert sb.git.merge_base(a, b) == root
    assert sb.git.path_log(a, "x.md") == [a]
    assert sb.git.log(a) == [a, root]
    assert sb.git.last_commit_for(b, "README.md") == root


# -- auth (P15)


def test_version_is_public_but_bad_token_is_401(sb: Sandbox, anon: httpx.Client) -> None:
    assert ok(anon.get("/api/v1/version")) == {"version": "1.26.4"}
    with client_for(sb, "wrong") as c:
        assert err(c.get("/api/v1/version"), 401) == "invalid username, password or token"
        assert err(c.get(REPO), 401) == "invalid username, password or token"


@pytest.mark.parametrize("scheme", ["token", "Bearer", "TOKEN", "bearer"])
def test_token_schemes_case_insensitive(sb: Sandbox, scheme: str) -> None:
    with httpx.Client(transport=sb.transport, base_url=BASE) as c:
        resp = c.get("/api/v1/user", headers={"Authorization": f"{scheme} ada-token"})
        assert ok(resp)["login"] == "ada"


def test_get_user_requires_token(anon: httpx.Client, ada: httpx.Client) -> None:
    assert err(anon.get("/api/v1/user"), 401) == "token is required"
    me = ok(ada.get("/api/v1/user"))
    assert me["login"] == me["username"] == "ada"
    assert me["full_name"] == "Ada Lovelace"
    assert me["login_name"] == "ada"
    assert me["is_admin"] is False


def test_users_endpoint(ada: httpx.Client, anon: httpx.Client) -> None:
    bot = ok(ada.get("/api/v1/users/rfc-bot"))
    assert bot["full_name"] == "RFC Bot" and bot["id"] > 1
    assert bot["login_name"] == ""  # private fields only for self/admin
    assert "noreply" in ok(anon.get("/api/v1/users/rfc-bot"))["email"]
    err(ada.get("/api/v1/users/nobody"), 404)


def test_private_repo_is_404_for_anonymous_and_outsiders(sb: Sandbox, anon: httpx.Client) -> None:
    assert err(anon.get(REPO), 404) == "not found"
    err(anon.get(f"{REPO}/contents/README.md"), 404)
    with client_for(sb, "eve-token") as eve:
        err(eve.get(REPO), 404)
        err(eve.get(f"{REPO}/pulls"), 404)


def test_read_user_cannot_write(ada: httpx.Client) -> None:
    msg = err(ada.post(f"{REPO}/contents/x.md", json={"content": b64("x")}), 403)
    assert msg == "user should have a permission to write to the target branch"
    msg = err(ada.post(f"{REPO}/branches", json={"new_branch_name": "x"}), 403)
    assert msg == "user should have a permission to write to a repo"


def test_sudo_only_for_admins(sb: Sandbox, ada: httpx.Client) -> None:
    resp = ada.get("/api/v1/user", headers={"Sudo": "rfc-bot"})
    assert resp.status_code == 403
    assert resp.json() == {"message": "Only administrators allowed to sudo."}
    with client_for(sb, "admin-token") as admin:
        assert ok(admin.get("/api/v1/user", headers={"Sudo": "ada"}))["login"] == "ada"


def test_repository_shape(bot: httpx.Client, ada: httpx.Client) -> None:
    repo = ok(bot.get(REPO))
    assert repo["full_name"] == "rfcs/meta" and repo["private"] is True
    assert repo["default_branch"] == "main"
    assert repo["permissions"] == {"admin": False, "push": True, "pull": True}
    assert repo["html_url"] == f"{BASE}/rfcs/meta"
    assert ok(ada.get(REPO))["permissions"] == {"admin": False, "push": False, "pull": True}


def test_json_headers(bot: httpx.Client) -> None:
    resp = bot.get(REPO)
    assert resp.headers["content-type"] == "application/json;charset=utf-8"
    assert resp.headers["cache-control"] == "max-age=0, private, must-revalidate"
    assert "etag" not in resp.headers  # P13: no ETag on JSON endpoints


# -- branches


def test_branch_crud_with_slashes(bot: httpx.Client, sb: Sandbox) -> None:
    created = ok(bot.post(f"{REPO}/branches", json={"new_branch_name": "propose/x"}), 201)
    assert created["name"] == "propose/x"
    assert created["commit"]["id"] == sb.git.branches["main"]
    assert ok(bot.get(f"{REPO}/branches/propose/x"))["name"] == "propose/x"
    names = [b["name"] for b in ok(bot.get(f"{REPO}/branches"))]
    assert names == ["main", "propose/x"]
    assert err(bot.post(f"{REPO}/branches", json={"new_branch_name": "propose/x"}), 409) == (
        "The branch already exists."
    )
    err(bot.post(f"{REPO}/branches", json={"new_branch_name": "propose"}), 409)
    assert err(bot.post(f"{REPO}/branches", json={}), 422) == "[NewBranchName]: Required"
    err(bot.post(f"{REPO}/branches", json={"new_branch_name": "a", "old_branch_name": "no"}), 404)
    err(bot.post(f"{REPO}/branches", json={"new_branch_name": "b", "old_ref_name": "no"}), 500)
    main_sha = sb.git.branches["main"]
    made = ok(
        bot.post(f"{REPO}/branches", json={"new_branch_name": "c", "old_ref_name": main_sha}), 201
    )
    assert made["commit"]["id"] == main_sha
    resp = bot.delete(f"{REPO}/branches/propose/x")
    assert resp.status_code == 204 and resp.content == b""
    err(bot.get(f"{REPO}/branches/propose/x"), 404)
    err(bot.delete(f"{REPO}/branches/propose/x"), 404)
    err(bot.delete(f"{REPO}/branches/main"), 403)


# -- commits (P11, P12)


def test_commits_paging_and_path(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    for i in range(6):
        clock.tick()
        sb.commit_files("main", {f"rfcs/f{i % 2}.md": f"v{i}".encode()}, f"change {i}")
    resp = bot.get(f"{REPO}/commits", params={"limit": 3, "page": 1})
    items = ok(resp)
    assert len(items) == 3
    assert resp.headers["x-total-count"] == "7"
    assert resp.headers["x-hasmore"] == "true"
    assert resp.headers["x-pagecount"] == "3"
    assert items[0]["commit"]["message"] == "change 5\n"
    last = ok(bot.get(f"{REPO}/commits", params={"limit": 3, "page": 3}))
    assert [c["commit"]["message"] for c in last] == ["Initial commit\n"]
    # P12: with path, limit is ignored (page size 50)
    resp = bot.get(f"{REPO}/commits", params={"path": "rfcs/f0.md", "limit": 1})
    assert len(ok(resp)) == 3
    assert resp.headers["x-total-count"] == "3"
    err(bot.get(f"{REPO}/commits", params={"path": "nope.md"}), 404)
    err(bot.get(f"{REPO}/commits", params={"sha": "no-such-branch"}), 404)


def test_commit_item_shape_and_flags(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    clock.tick()
    sha = sb.commit_files(
        "main", {"a.md": b"one\ntwo\n"}, "add a", author=("RFC Bot", "rfc-bot@sandbox.localhost")
    )
    full = ok(bot.get(f"{REPO}/commits", params={"limit": 1}))[0]
    assert full["sha"] == sha
    assert full["files"] == [{"filename": "a.md", "status": "added"}]
    assert full["stats"] == {"total": 2, "additions": 2, "deletions": 0}
    assert full["author"]["login"] == "rfc-bot"  # user matched by email
    assert full["commit"]["verification"]["verified"] is False
    assert full["created"] == "2026-03-01T09:00:01Z"
    lean = ok(
        bot.get(
            f"{REPO}/commits",
            params={"limit": 1, "stat": "false", "verification": "false", "files": "false"},
        )
    )[0]
    assert lean["files"] is None and lean["stats"] is None
    assert lean["commit"]["verification"] is None


# -- contents read (P6, P7)


def test_contents_file_and_dir(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    body = ("long line " * 20 + "\n") * 5
    clock.tick()
    sha = sb.commit_files("main", {"rfcs/a.md": body.encode(), "rfcs/b.md": b"b"}, "two")
    f = ok(bot.get(f"{REPO}/contents/rfcs/a.md"))
    assert f["type"] == "file" and f["encoding"] == "base64"
    assert "\n" not in f["content"]  # P6: no line breaks
    assert base64.b64decode(f["content"]).decode() == body
    assert f["sha"] == hash_object("blob", body.encode())
    assert f["last_commit_sha"] == sha
    assert f["url"] == f"{BASE}{REPO}/contents/rfcs/a.md?ref=main"
    assert f["download_url"] == f"{BASE}/rfcs/meta/raw/branch/main/rfcs/a.md"
    listing = ok(bot.get(f"{REPO}/contents/rfcs"))
    assert [e["name"] for e in listing] == ["a.md", "b.md"]
    assert all(e["content"] is None and e["last_commit_sha"] == sha for e in listing)
    root = ok(bot.get(f"{REPO}/contents"))
    rfcs = next(e for e in root if e["name"] == "rfcs")
    assert (
        rfcs["type"] == "dir"
        and rfcs["sha"] == sb.git.entry_at(sb.git.commit(sha).tree, "rfcs").sha
    )


def test_contents_ref_rules(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    first = sb.git.branches["main"]
    clock.tick()
    sb.commit_files("main", {"README.md": b"changed"}, "change")
    old = ok(bot.get(f"{REPO}/contents/README.md", params={"ref": first}))
    assert base64.b64decode(old["content"]) != b"changed"
    err(bot.get(f"{REPO}/contents/README.md", params={"ref": first[:10]}), 404)  # P7
    err(bot.get(f"{REPO}/contents/README.md", params={"ref": "nope"}), 404)
    sb.git.tags["v1"] = first
    assert ok(bot.get(f"{REPO}/contents/README.md", params={"ref": "v1"}))["sha"] == old["sha"]
    assert err(bot.get(f"{REPO}/contents/missing.md"), 404) == "GetContentsOrList"
    err(bot.get(f"{REPO}/contents/.git/config"), 400)


# -- contents write (P8, P9)


def test_create_update_delete_file(bot: httpx.Client, sb: Sandbox) -> None:
    made = ok(bot.post(f"{REPO}/contents/rfcs/x.md", json={"content": b64("x1")}), 201)
    assert made["commit"]["message"] == "Add rfcs/x.md\n"
    assert made["commit"]["created"] == "0001-01-01T00:00:00Z"
    assert made["content"]["last_commit_sha"] == made["commit"]["sha"]
    assert sb.git.branches["main"] == made["commit"]["sha"]
    assert err(bot.post(f"{REPO}/contents/rfcs/x.md", json={"content": b64("x")}), 422) == (
        "repository file already exists [path: rfcs/x.md]"
    )
    err(bot.post(f"{REPO}/contents/rfcs/x.md/sub", json={"content": b64("x")}), 422)
    err(bot.post(f"{REPO}/contents/.git/hooks/x", json={"content": b64("x")}), 422)
    # P8: PUT without sha creates (201) and 422s when the file exists
    ok(bot.put(f"{REPO}/contents/rfcs/y.md", json={"content": b64("y")}), 201)
    err(bot.put(f"{REPO}/contents/rfcs/y.md", json={"content": b64("y")}), 422)
    blob = made["content"]["sha"]
    stale = err(
        bot.put(f"{REPO}/contents/rfcs/x.md", json={"content": b64("x2"), "sha": "0" * 40}), 422
    )
    assert stale.startswith("sha does not match")
    upd = ok(bot.put(f"{REPO}/contents/rfcs/x.md", json={"content": b64("x2"), "sha": blob}), 200)
    assert upd["commit"]["message"] == "Update rfcs/x.md\n"
    err(bot.put(f"{REPO}/contents/rfcs/none.md", json={"content": b64("n"), "sha": blob}), 404)
    gone = ok(
        bot.request("DELETE", f"{REPO}/contents/rfcs/x.md", json={"sha": upd["content"]["sha"]})
    )
    assert gone["content"] is None
    assert gone["commit"]["message"] == "Delete rfcs/x.md\n"
    err(bot.request("DELETE", f"{REPO}/contents/rfcs/y.md", json={}), 422)
    err(bot.request("DELETE", f"{REPO}/contents/rfcs/x.md", json={"sha": blob}), 404)


def test_write_branches_and_identities(bot: httpx.Client, sb: Sandbox) -> None:
    body = {
        "content": b64("p"),
        "new_branch": "propose/p",
        "message": "Propose p",
        "author": {"name": "Ada Lovelace", "email": "ada@example.com"},
    }
    made = ok(bot.post(f"{REPO}/contents/rfcs/p.md", json=body), 201)
    commit = sb.git.commit(made["commit"]["sha"])
    assert commit.author.name == commit.committer.name == "Ada Lovelace"  # one given: both
    assert commit.message == "Propose p\n"
    assert made["content"]["url"].endswith("?ref=propose%2Fp")  # url.QueryEscape
    assert "rfcs/p.md" not in sb.git.flatten(sb.git.commit(sb.git.branches["main"]).tree)
    assert err(bot.post(f"{REPO}/contents/rfcs/q.md", json=body), 422) == (
        "branch already exists [name: propose/p]"
    )
    missing = {"content": b64("q"), "branch": "nope"}
    assert err(bot.post(f"{REPO}/contents/rfcs/q.md", json=missing), 404).startswith(
        "branch does not exist"
    )
    plain = ok(bot.post(f"{REPO}/contents/q.md", json={"content": b64("q")}), 201)
    c = sb.git.commit(plain["commit"]["sha"])
    assert (c.author.name, c.author.email) == ("RFC Bot", "rfc-bot@sandbox.localhost")


def test_change_many_files(bot: httpx.Client, sb: Sandbox) -> None:
    sb.commit_files("main", {"rfcs/a.md": b"a", "rfcs/b.md": b"b", "rfcs/c.md": b"c"}, "seed")
    body = {
        "branch": "main",
        "files": [
            {"operation": "create", "path": "rfcs/n.md", "content": b64("n")},
            {"operation": "update", "path": "rfcs/a.md", "content": b64("a2")},  # no sha: P9
            {"operation": "delete", "path": "rfcs/b.md"},
            {"operation": "rename", "path": "rfcs/d.md", "from_path": "rfcs/c.md"},
            {"operation": "upload", "path": "rfcs/u.md", "content": b64("u")},
        ],
    }
    resp = ok(bot.post(f"{REPO}/contents", json=body), 201)
    assert [f and f["path"] for f in resp["files"]] == [
        "rfcs/n.md",
        "rfcs/a.md",
        None,
        "rfcs/d.md",
        "rfcs/u.md",
    ]
    assert (
        resp["commit"]["message"]
        == "Add rfcs/n.md\nUpdate rfcs/a.md, rfcs/d.md, rfcs/u.md\nDelete rfcs/b.md\n"
    )
    files = sb.git.flatten(sb.git.commit(sb.git.branches["main"]).tree)
    assert sorted(files) == ["README.md", "rfcs/a.md", "rfcs/d.md", "rfcs/n.md", "rfcs/u.md"]
    assert files["rfcs/d.md"] == hash_object("blob", b"c")
    bad = {
        "files": [
            {"operation": "update", "path": "rfcs/a.md", "content": b64("z"), "sha": "1" * 40}
        ]
    }
    err(bot.post(f"{REPO}/contents", json=bad), 422)
    err(bot.post(f"{REPO}/contents", json={"files": []}), 422)


# -- raw, trees, blobs


def test_raw(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    first = sb.git.branches["main"]
    clock.tick()
    sb.commit_files("propose/x", {"rfcs/x.md": b"on branch"}, "x")
    resp = bot.get(f"{REPO}/raw/README.md")
    blob = sb.git.entry_at(sb.git.commit(first).tree, "README.md").sha
    assert resp.status_code == 200 and resp.headers["etag"] == f'"{blob}"'
    assert resp.headers["x-gitea-object-type"] == "file"
    assert bot.get(f"{REPO}/raw/propose/x/rfcs/x.md").content == b"on branch"
    assert bot.get(f"{REPO}/raw/rfcs/x.md", params={"ref": "propose/x"}).content == b"on branch"
    assert bot.get(f"{REPO}/raw/{first}/README.md").headers["etag"] == f'"{blob}"'
    # P7: an unknown ref silently falls back to the default branch
    assert bot.get(f"{REPO}/raw/README.md", params={"ref": "nope"}).status_code == 200
    err(bot.get(f"{REPO}/raw/rfcs/x.md", params={"ref": "nope"}), 404)
    cached = bot.get(f"{REPO}/raw/README.md", headers={"If-None-Match": f'"{blob}"'})
    assert cached.status_code == 304 and cached.content == b""  # P13
    since = resp.headers["last-modified"]
    assert bot.get(f"{REPO}/raw/README.md", headers={"If-Modified-Since": since}).status_code == 304
    stale = {"If-None-Match": '"other"', "If-Modified-Since": since}
    assert bot.get(f"{REPO}/raw/README.md", headers=stale).status_code == 200
    err(bot.get(f"{REPO}/raw/propose/x/rfcs"), 404)


def test_trees(bot: httpx.Client, sb: Sandbox) -> None:
    files = {f"rfcs/e{i:02}.md": f"{i}".encode() for i in range(12)}
    head = sb.commit_files("main", files | {"docs/a/b.md": b"b"}, "many")
    tree_sha = sb.git.commit(head).tree
    by_branch = ok(bot.get(f"{REPO}/git/trees/main"))
    assert by_branch["sha"] == tree_sha  # P4: always the tree sha
    assert ok(bot.get(f"{REPO}/git/trees/{head}"))["sha"] == tree_sha
    assert ok(bot.get(f"{REPO}/git/trees/{head[:8]}"))["sha"] == tree_sha
    assert ok(bot.get(f"{REPO}/git/trees/{tree_sha}"))["sha"] == tree_sha
    assert [e["path"] for e in by_branch["tree"]] == ["README.md", "docs", "rfcs"]
    rfcs = next(e for e in by_branch["tree"] if e["path"] == "rfcs")
    assert rfcs["mode"] == "040000" and rfcs["type"] == "tree"
    assert rfcs["url"] == f"{BASE}{REPO}/git/trees/{rfcs['sha']}"
    rec = bot.get(f"{REPO}/git/trees/main", params={"recursive": "true", "per_page": 5})
    page1 = ok(rec)
    assert rec.headers["x-total-count"] == "17"
    assert page1["total_count"] == 17 and page1["truncated"] is True
    assert [e["path"] for e in page1["tree"]] == [
        "README.md",
        "docs",
        "docs/a",
        "docs/a/b.md",
        "rfcs",
    ]  # P5: dirs listed too, full paths
    page4 = ok(
        bot.get(f"{REPO}/git/trees/main", params={"recursive": "1", "per_page": 5, "page": 4})
    )
    assert [e["path"] for e in page4["tree"]] == ["rfcs/e10.md", "rfcs/e11.md"]
    past = ok(bot.get(f"{REPO}/git/trees/main", params={"page": 9}))
    assert past["tree"] is None  # P5
    big = ok(bot.get(f"{REPO}/git/trees/main", params={"per_page": 5000, "recursive": "true"}))
    assert len(big["tree"]) == 17 and big["truncated"] is False
    assert err(bot.get(f"{REPO}/git/trees/{'0' * 40}"), 400).startswith("sha not found")
    err(bot.get(f"{REPO}/git/trees/no-such-branch"), 400)  # P4: 400, not 404


def test_blobs(bot: httpx.Client, sb: Sandbox) -> None:
    sb.commit_files("main", {"x.bin": b"\x00\x01binary"}, "bin")
    sha = hash_object("blob", b"\x00\x01binary")
    blob = ok(bot.get(f"{REPO}/git/blobs/{sha}"))
    assert blob == {
        "content": b64(b"\x00\x01binary"),
        "encoding": "base64",
        "url": f"{BASE}{REPO}/git/blobs/{sha}",
        "sha": sha,
        "size": 8,
    }
    err(bot.get(f"{REPO}/git/blobs/{'f' * 40}"), 400)
    err(bot.get(f"{REPO}/git/blobs/nothex"), 400)
    tree = sb.git.commit(sb.git.branches["main"]).tree
    err(bot.get(f"{REPO}/git/blobs/{tree}"), 400)


def test_file_contents_batch(bot: httpx.Client, sb: Sandbox) -> None:
    sb.commit_files("main", {f"rfcs/{i}.md": f"{i}".encode() for i in range(35)}, "lots")
    paths = ["rfcs/1.md", "rfcs/missing.md", "rfcs", "rfcs/2.md"]
    got = ok(bot.get(f"{REPO}/file-contents", params={"body": json.dumps({"files": paths})}))
    assert [g and g["path"] for g in got] == ["rfcs/1.md", None, None, "rfcs/2.md"]
    assert base64.b64decode(got[0]["content"]) == b"1"
    assert got[0]["last_commit_sha"] == sb.git.branches["main"]
    posted = ok(
        bot.post(f"{REPO}/file-contents", json={"files": [f"rfcs/{i}.md" for i in range(35)]})
    )
    assert len(posted) == 30  # one page of DEFAULT_PAGING_NUM
    assert err(bot.get(f"{REPO}/file-contents"), 400) == "invalid body parameter"
    err(bot.post(f"{REPO}/file-contents", params={"ref": "abc1234"}, json={"files": []}), 404)


@pytest.mark.parametrize("ext", [".tar.gz", ".zip"])
def test_archive(bot: httpx.Client, sb: Sandbox, ext: str) -> None:
    sb.commit_files("main", {"rfcs/a.md": b"A"}, "a")
    resp = bot.get(f"{REPO}/archive/main{ext}")
    assert resp.status_code == 200
    if ext == ".zip":
        with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
            assert zf.read("meta/rfcs/a.md") == b"A"
            assert "meta/README.md" in zf.namelist()
    else:
        with tarfile.open(fileobj=io.BytesIO(resp.content), mode="r:gz") as tf:
            assert tf.extractfile("meta/rfcs/a.md").read() == b"A"  # type: ignore[union-attr]
    assert resp.headers["link"].endswith('rel="immutable"')
    err(bot.get(f"{REPO}/archive/nope{ext}"), 404)
    err(bot.get(f"{REPO}/archive/main.rar"), 400)


# -- pulls (P1-P3, P14)


def make_branch(sb: Sandbox, name: str, path: str | None = None, data: bytes = b"x") -> str:
    return sb.commit_files(name, {path or f"rfcs/{name.replace('/', '-')}.md": data}, name)


def open_pr(c: httpx.Client, head: str, title: str | None = None, base: str = "main") -> dict:
    return ok(
        c.post(f"{REPO}/pulls", json={"head": head, "base": base, "title": title or head}), 201
    )


def test_create_and_get_pull(bot: httpx.Client, sb: Sandbox) -> None:
    head_sha = make_branch(sb, "propose/a")
    pr = open_pr(bot, "propose/a", "Add a")
    assert pr["number"] == 1 and pr["state"] == "open" and pr["merged"] is False
    assert pr["url"] == pr["html_url"] == f"{BASE}/rfcs/meta/pulls/1"  # P14
    assert pr["head"]["label"] == pr["head"]["ref"] == "propose/a"
    assert pr["head"]["sha"] == head_sha
    assert pr["base"]["label"] == "main"
    assert pr["user"]["login"] == "rfc-bot"
    assert pr["mergeable"] is True
    assert (pr["additions"], pr["deletions"], pr["changed_files"]) == (1, 0, 1)
    assert pr["assignees"] == [] and pr["closed_at"] is None and pr["merged_at"] is None
    again = ok(bot.get(f"{REPO}/pulls/1"))
    assert again["title"] == "Add a"
    err(bot.get(f"{REPO}/pulls/99"), 404)
    # P3
    msg = err(
        bot.post(f"{REPO}/pulls", json={"head": "propose/a", "base": "main", "title": "t"}), 409
    )
    assert "issue_id: 1" in msg
    err(bot.post(f"{REPO}/pulls", json={"head": "main", "base": "main", "title": "t"}), 422)
    err(bot.post(f"{REPO}/pulls", json={"head": "nope", "base": "main", "title": "t"}), 404)
    err(bot.post(f"{REPO}/pulls", json={"head": "propose/a", "base": "main"}), 422)
    assert ok(bot.get(f"{REPO}/pulls/main/propose/a"))["number"] == 1
    assert ok(bot.get(f"{REPO}/pulls/main/rfcs:propose/a"))["number"] == 1
    err(bot.get(f"{REPO}/pulls/main/propose/zzz"), 404)


def test_read_user_can_open_pull(ada: httpx.Client, sb: Sandbox) -> None:
    make_branch(sb, "claim/a")
    pr = open_pr(ada, "claim/a")
    assert pr["user"]["login"] == "ada"  # P15: PR authorship follows whoever acts
    err(ada.post(f"{REPO}/pulls/{pr['number']}/merge", json={"Do": "merge"}), 405)


def test_list_pulls_state_sort_and_shape(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    for name in ("p/a", "p/b", "p/c"):
        clock.tick()
        make_branch(sb, name)
        open_pr(bot, name)
    clock.tick()
    ok(bot.patch(f"{REPO}/pulls/1", json={"state": "closed"}), 201)
    everything = ok(bot.get(f"{REPO}/pulls"))  # P1: no state means ALL
    assert [p["number"] for p in everything] == [3, 2, 1]
    assert [p["number"] for p in ok(bot.get(f"{REPO}/pulls", params={"state": "weird"}))] == [
        3,
        2,
        1,
    ]
    assert [p["number"] for p in ok(bot.get(f"{REPO}/pulls", params={"state": "open"}))] == [3, 2]
    assert [p["number"] for p in ok(bot.get(f"{REPO}/pulls", params={"state": "closed"}))] == [1]
    recent = ok(bot.get(f"{REPO}/pulls", params={"state": "all", "sort": "recentupdate"}))
    assert [p["number"] for p in recent] == [1, 3, 2]
    least = ok(bot.get(f"{REPO}/pulls", params={"state": "all", "sort": "leastupdate"}))
    assert [p["number"] for p in least] == [2, 3, 1]
    oldest = ok(bot.get(f"{REPO}/pulls", params={"sort": "oldest"}))
    assert [p["number"] for p in oldest] == [1, 2, 3]
    item = everything[0]
    assert "additions" not in item and "changed_files" not in item  # P14
    assert item["assignees"] is None and item["requested_reviewers"] is None
    resp = bot.get(f"{REPO}/pulls", params={"state": "all"})
    assert resp.headers["x-total-count"] == "3"
    assert "link" not in resp.headers  # single page: no Link (P11)


def test_list_pulls_limit_clamped(bot: httpx.Client, sb: Sandbox) -> None:
    for i in range(53):
        sb.git.branches[f"h{i}"] = sb.git.branches["main"]
        open_pr(bot, f"h{i}")
    resp = bot.get(f"{REPO}/pulls", params={"state": "all", "limit": 100})
    assert len(ok(resp)) == 50  # P11: clamped silently
    assert resp.headers["x-total-count"] == "53"
    assert len(ok(bot.get(f"{REPO}/pulls", params={"state": "all"}))) == 30  # default 30
    assert len(ok(bot.get(f"{REPO}/pulls", params={"limit": 50, "page": 2}))) == 3


def test_edit_pull(bot: httpx.Client, ada: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    make_branch(sb, "p/e")
    pr = open_pr(bot, "p/e", "Old")
    clock.tick(5)
    edited = ok(bot.patch(f"{REPO}/pulls/1", json={"title": "New", "body": "b"}), 201)  # P2
    assert edited["title"] == "New" and edited["body"] == "b"
    assert edited["updated_at"] > pr["updated_at"]
    closed = ok(bot.patch(f"{REPO}/pulls/1", json={"state": "closed"}), 201)
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert ok(bot.patch(f"{REPO}/pulls/1", json={"state": "open"}), 201)["closed_at"] is None
    resp = ada.patch(f"{REPO}/pulls/1", json={"title": "hijack"})
    assert resp.status_code == 403 and resp.content == b""
    err(bot.patch(f"{REPO}/pulls/1", json={"base": "nope"}), 404)
    err(bot.patch(f"{REPO}/pulls/1", json={"state": "weird"}), 412)


def test_merge_pull(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    head = make_branch(sb, "p/m", "rfcs/m.md", b"merged body")
    clock.tick()
    sb.commit_files("main", {"other.md": b"o"}, "base moved")
    open_pr(bot, "p/m")
    err(bot.post(f"{REPO}/pulls/1/merge", json={}), 422)
    resp = bot.post(f"{REPO}/pulls/1/merge", json={"Do": "merge"})
    assert resp.status_code == 200 and resp.content == b""  # P2
    main = sb.git.commit(sb.git.branches["main"])
    assert len(main.parents) == 2 and main.parents[1] == head
    assert "rfcs/m.md" in sb.git.flatten(main.tree) and "other.md" in sb.git.flatten(main.tree)
    pr = ok(bot.get(f"{REPO}/pulls/1"))
    assert pr["merged"] is True and pr["state"] == "closed"
    assert pr["merge_commit_sha"] == main.sha and pr["merged_by"]["login"] == "rfc-bot"
    assert (
        err(bot.post(f"{REPO}/pulls/1/merge", json={"Do": "merge"}), 405)
        == "The PR is already merged"
    )
    assert bot.get(f"{REPO}/pulls/1/merge").status_code == 204
    err(bot.patch(f"{REPO}/pulls/1", json={"state": "open"}), 412)
    make_branch(sb, "p/closed")
    open_pr(bot, "p/closed")
    ok(bot.patch(f"{REPO}/pulls/2", json={"state": "closed"}), 201)
    err(bot.post(f"{REPO}/pulls/2/merge", json={"do": "merge"}), 404)  # P2


def test_merge_styles_and_conflicts(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    make_branch(sb, "p/sq", "rfcs/sq.md", b"sq")
    open_pr(bot, "p/sq", "Squash me")
    ok(bot.post(f"{REPO}/pulls/1/merge", json={"Do": "squash", "delete_branch_after_merge": True}))
    main = sb.git.commit(sb.git.branches["main"])
    assert len(main.parents) == 1 and main.message.startswith("Squash me (#1)")
    assert "p/sq" not in sb.git.branches
    assert ok(bot.get(f"{REPO}/pulls/1"))["head"]["ref"] == "refs/pull/1/head"  # P14
    clock.tick()
    make_branch(sb, "p/c", "README.md", b"theirs")
    clock.tick()
    sb.commit_files("main", {"README.md": b"ours"}, "conflicting")
    pr = open_pr(bot, "p/c")
    assert pr["mergeable"] is False
    err(bot.post(f"{REPO}/pulls/{pr['number']}/merge", json={"Do": "merge"}), 409)
    make_branch(sb, "p/rb", "rfcs/rb.md", b"rb")
    clock.tick()
    sb.commit_files("main", {"rfcs/other.md": b"o"}, "main moves on")
    rb = open_pr(bot, "p/rb")
    ok(bot.post(f"{REPO}/pulls/{rb['number']}/merge", json={"Do": "rebase"}))
    rebased = sb.git.commit(sb.git.branches["main"])
    assert len(rebased.parents) == 1 and rebased.message == "p/rb\n"
    assert {"rfcs/rb.md", "rfcs/other.md"} <= set(sb.git.flatten(rebased.tree))
    make_branch(sb, "p/ff", "rfcs/ff.md", b"ff")
    ff = open_pr(bot, "p/ff")
    ok(bot.post(f"{REPO}/pulls/{ff['number']}/merge", json={"Do": "fast-forward-only"}))
    assert sb.git.branches["main"] == sb.git.branches["p/ff"]


def test_head_tracks_pushes(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    make_branch(sb, "edit/a/1")
    pr = open_pr(bot, "edit/a/1")
    clock.tick(30)
    new_head = sb.commit_files("edit/a/1", {"rfcs/a.md": b"more"}, "push")
    after = ok(bot.get(f"{REPO}/pulls/{pr['number']}"))
    assert after["head"]["sha"] == new_head
    assert after["updated_at"] == "2026-03-01T09:00:30Z" != pr["updated_at"]
    sb.commit_files("main", {"z.md": b"z"}, "base push")
    assert ok(bot.get(f"{REPO}/pulls/{pr['number']}"))["updated_at"] == after["updated_at"]
    assert bot.delete(f"{REPO}/branches/edit/a/1").status_code == 204
    gone = ok(bot.get(f"{REPO}/pulls?state=all"))[0]
    assert gone["head"]["ref"] == f"refs/pull/{pr['number']}/head"
    assert gone["head"]["sha"] == new_head and gone["head"]["label"] == "edit/a/1"
    # Gitea's CloseBranchPulls: deleting the head branch closes the open PR
    assert gone["state"] == "closed" and gone["merged"] is False


# -- faults, state, seeding


def test_fault_errors_are_deterministic() -> None:
    def statuses(seed: int) -> list[int]:
        sb = Sandbox(faults=Faults(error_rate=0.5, seed=seed))
        with client_for(sb) as c:
            return [c.get("/api/v1/version").status_code for _ in range(40)]

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) - {200} <= {500, 502, 503} and set(first) - {200}
    assert 200 in first


def test_down_raises_connect_error(sb: Sandbox) -> None:
    sb.faults.down = True
    with client_for(sb) as c, pytest.raises(httpx.ConnectError):
        c.get("/api/v1/version")

    async def go() -> None:
        async with httpx.AsyncClient(transport=sb.transport, base_url=BASE) as ac:
            with pytest.raises(httpx.ConnectError):
                await ac.get("/api/v1/version")
            sb.faults.down = False
            sb.faults.latency_ms = 1
            assert (await ac.get("/api/v1/version")).status_code == 200

    asyncio.run(go())


def test_single_commit_and_org_repos(bot: httpx.Client, anon: httpx.Client, sb: Sandbox) -> None:
    head = sb.git.branches["main"]
    assert ok(bot.get(f"{REPO}/git/commits/{head}"))["sha"] == head
    assert ok(bot.get(f"{REPO}/git/commits/{head[:7]}"))["sha"] == head
    err(bot.get(f"{REPO}/git/commits/{'a' * 40}"), 404)
    err(bot.get(f"{REPO}/git/commits/main!"), 422)
    resp = bot.get("/api/v1/orgs/rfcs/repos")
    assert [r["full_name"] for r in ok(resp)] == ["rfcs/meta"]
    assert resp.headers["x-total-count"] == "1"
    assert ok(anon.get("/api/v1/orgs/rfcs/repos")) == []


def test_requests_served_counts(sb: Sandbox, bot: httpx.Client) -> None:
    before = sb.requests_served
    bot.get("/api/v1/version")
    bot.get(REPO)
    assert sb.requests_served == before + 2


def test_persistence_round_trip(tmp_path: Path, clock: Clock) -> None:
    first = Sandbox(data_dir=tmp_path, clock=clock)
    with client_for(first) as c:
        ok(
            c.post(f"{REPO}/contents/rfcs/p.md", json={"content": b64("p"), "new_branch": "p/p"}),
            201,
        )
        open_pr(c, "p/p")
    again = Sandbox(data_dir=tmp_path, clock=clock)
    assert again.git.branches == first.git.branches
    with client_for(again) as c:
        assert ok(c.get(f"{REPO}/pulls/1"))["head"]["ref"] == "p/p"
        assert open_pr(c, "main", base="p/p")["number"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["sandbox-state.pickle"]


def test_seed_dir_becomes_first_commit(tmp_path: Path) -> None:
    (tmp_path / "rfcs").mkdir()
    (tmp_path / "rfcs" / "a.md").write_bytes(b"A")
    (tmp_path / "README.md").write_bytes(b"R")
    sb = Sandbox(seed_dir=tmp_path)
    head = sb.git.commit(sb.git.branches["main"])
    assert head.parents == ()
    assert (head.author.name, head.author.email) == ("Sandbox", "sandbox@localhost")
    assert sb.git.flatten(head.tree) == {
        "README.md": hash_object("blob", b"R"),
        "rfcs/a.md": hash_object("blob", b"A"),
    }


def test_default_users_per_design(sandbox: Sandbox) -> None:
    users = {u.login: (u.full_name, u.token, u.permission) for u in sandbox.users.values()}
    assert users == {
        "rfc-bot": ("RFC Bot", "bot-token", "write"),
        "ada": ("Ada Lovelace", "ada-token", "read"),
        "grace": ("Grace Hopper", "grace-token", "read"),
        "admin": ("Site Admin", "admin-token", "admin"),
    }
    assert "bot-token" not in repr(sandbox) and "bot-token" not in repr(sandbox.users["rfc-bot"])


def test_pull_shape_details(bot: httpx.Client, sb: Sandbox, clock: Clock) -> None:
    make_branch(sb, "p/wip")
    wip = open_pr(bot, "p/wip", "WIP: not yet")
    assert wip["draft"] is True and wip["mergeable"] is False
    err(bot.post(f"{REPO}/pulls/{wip['number']}/merge", json={"Do": "merge"}), 405)
    make_branch(sb, "p/ok")
    good = open_pr(bot, "p/ok", "Fine")
    ok(bot.post(f"{REPO}/pulls/{good['number']}/merge", json={"Do": "merge"}))
    merged = ok(bot.get(f"{REPO}/pulls/{good['number']}"))
    assert merged["mergeable"] is True  # Gitea keeps the last status
    assert merged["merged_by"]["email"].endswith("@noreply.localhost")  # ToUser(.., nil)
    assert merged["user"]["email"] == "rfc-bot@sandbox.localhost"
    # a closed PR's refs/pull/N/head stops following its branch; the single GET does not
    ok(bot.patch(f"{REPO}/pulls/{wip['number']}", json={"state": "closed"}), 201)
    pushed = sb.commit_files("p/wip", {"rfcs/more.md": b"more"}, "push after close")
    listed = next(p for p in ok(bot.get(f"{REPO}/pulls")) if p["number"] == wip["number"])
    assert listed["head"]["sha"] == wip["head"]["sha"] != pushed
    assert ok(bot.get(f"{REPO}/pulls/{wip['number']}"))["head"]["sha"] == pushed


def test_history_agrees_with_real_git(
    tmp_path: Path, bot: httpx.Client, sb: Sandbox, clock: Clock
) -> None:
    """Objects written into a real repository: git accepts every one, and ``git log``
    agrees with the sandbox on last-commit-per-path, path logs and merge bases,
    across merges."""
    for i in range(3):
        clock.tick()
        sb.commit_files("main", {f"rfcs/m{i}.md": f"{i}".encode()}, f"main {i}")
        clock.tick()
        sb.commit_files(f"p/{i}", {f"rfcs/p{i}.md": b"p", "rfcs/m0.md": f"p{i}".encode()}, "p")
    for i in range(3):
        clock.tick()
        pr = open_pr(bot, f"p/{i}")
        resp = bot.post(f"{REPO}/pulls/{pr['number']}/merge", json={"Do": "merge"})
        assert resp.status_code in (200, 409)
    head = sb.git.branches["main"]
    run_git(tmp_path, "init", "-q")
    for sha, (kind, data) in sb.git.objects.items():
        assert run_git(tmp_path, "hash-object", "-t", kind, "-w", "--stdin", stdin=data) == sha
    run_git(tmp_path, "fsck", "--strict", "--no-dangling", head)
    listing = ok(bot.get(f"{REPO}/contents/rfcs"))
    for item in listing:
        expected = run_git(tmp_path, "log", "-1", "--format=%H", head, "--", item["path"])
        assert item["last_commit_sha"] == expected, item["path"]
        assert sb.git.last_commit_for(head, item["path"]) == expected
        log = run_git(tmp_path, "log", "--format=%H", head, "--", item["path"]).split()
        assert sb.git.path_log(head, item["path"]) == log
    assert sb.git.log(head) == run_git(tmp_path, "log", "--format=%H", head).split()
    base = run_git(tmp_path, "merge-base", head, sb.git.branches["p/2"])
    assert sb.git.merge_base(head, sb.git.branches["p/2"]) == base
