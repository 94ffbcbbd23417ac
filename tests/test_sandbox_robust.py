"""The sandbox answers every request the way Gitea would (issue 9 item 7).

Malformed, mistyped, absurdly nested or non-UTF-8 bodies get a Gitea-shaped error
(``{"message","url"}``, 4xx), never a dropped connection or a 500; anything the sandbox
fails at internally is a 500 JSON body without a token or a traceback; ``--seed`` never
follows a symlink or reads a non-regular file.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sandbox_openapi import assert_valid

from rfctui.sandbox import Sandbox, SeedError, api

REPO = "/api/v1/repos/rfcs/meta"
BOT = {"Authorization": "token bot-token"}
DEEP = 100_000


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def fresh_sandbox() -> Sandbox:
    """main with rfcs/a.md, a ``feature`` branch and PR #1 (feature -> main)."""
    sb = Sandbox()
    sb.commit_files("main", {"rfcs/a.md": b"A\n"}, "seed a")
    sb.commit_files("feature", {"rfcs/f.md": b"F\n"}, "feature work")
    with httpx.Client(transport=sb.transport, base_url="http://sb", headers=BOT) as c:
        r = c.post(f"{REPO}/pulls", json={"head": "feature", "base": "main", "title": "t"})
        assert r.status_code == 201, r.text
    return sb


def a_sha(sb: Sandbox) -> str:
    return sb.git.entry_at(sb.git.commit(sb.git.branches["main"]).tree, "rfcs/a.md").sha


#: Every endpoint that reads a JSON body: (method, path).
ENDPOINTS: dict[str, tuple[str, str]] = {
    "create-file": ("POST", f"{REPO}/contents/rfcs/new.md"),
    "update-file": ("PUT", f"{REPO}/contents/rfcs/a.md"),
    "delete-file": ("DELETE", f"{REPO}/contents/rfcs/a.md"),
    "change-files": ("POST", f"{REPO}/contents"),
    "file-contents": ("POST", f"{REPO}/file-contents"),
    "create-branch": ("POST", f"{REPO}/branches"),
    "create-pull": ("POST", f"{REPO}/pulls"),
    "edit-pull": ("PATCH", f"{REPO}/pulls/1"),
    "merge-pull": ("POST", f"{REPO}/pulls/1/merge"),
    "create-issue-comment": ("POST", f"{REPO}/issues/1/comments"),
}

#: Bodies no endpoint can accept: bad syntax, wrong top-level type, bad encoding, depth.
BAD_FOR_ALL: list[bytes] = [
    b"[" * DEEP + b"]" * DEEP,
    b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    b'{"files":' + b"[" * DEEP + b"]" * DEEP + b"}",
    b"[]",
    b"[{}]",
    b'"a string"',
    b"5",
    b"1" * 5000,
    b"true",
    b"{",
    b'{"title": NaN}',
    b'{"title": Infinity}',
    b"\xff\xfe{}",
    b'{"title": "\xc3\x28"}',
    b"\x00",
]

#: Per endpoint: bodies with a field of the wrong JSON type, bad base64, bad dates...
A_SHA = "<a.md sha>"
BAD_FIELDS: dict[str, list[Any]] = {
    "create-file": [
        {"content": 5},
        {"content": ["QQ=="]},
        {"content": "@@@"},
        {"content": "QQ"},
        {"content": "Q==="},
        {"content": "QQ==", "branch": 5},
        {"content": "QQ==", "message": {"a": 1}},
        {"content": "QQ==", "author": "me"},
        {"content": "QQ==", "author": {"name": ["x"]}},
        {"content": "QQ==", "dates": {"author": "yesterday"}},
        {"content": "QQ==", "dates": {"author": "0001-01-01T00:00:00+05:00"}},
        {"content": "QQ==", "dates": {"committer": "9999-12-31T23:59:59-05:00"}},
        {"content": "QQ==", "dates": "2026-01-01T00:00:00Z"},
        {"content": "QQ==", "signoff": "yes"},
        {"content": "QQ==", "force_push": 1},
    ],
    "update-file": [
        {"content": "QQ==", "sha": 5},
        {"content": "QQ==", "sha": A_SHA, "from_path": []},
        {"content": "*", "sha": A_SHA},
        {"content": True, "sha": A_SHA},
        {"content": "QQ==", "sha": A_SHA, "new_branch": 1e999},
    ],
    "delete-file": [
        {"sha": 5},
        {"sha": ["x"]},
        {"sha": A_SHA, "message": 1},
        {"sha": A_SHA, "committer": [1, 2]},
    ],
    "change-files": [
        {"files": "abc"},
        {"files": {}},
        {"files": [5]},
        {"files": [[]]},
        {"files": [{"operation": "create", "path": 5}]},
        {"files": [{"operation": ["create"], "path": "x.md"}]},
        {"files": [{"operation": "create", "path": "x.md", "content": "%%%"}]},
        {"files": [{"operation": "create", "path": "x.md", "content": 12}]},
        {"files": [{"operation": "create", "path": "a\u0000b", "content": ""}]},
        {"files": [{"operation": "create", "path": "x.md"}], "force_push": "true"},
        {"files": [{"operation": "create", "path": "x.md"}], "dates": {"author": 5}},
    ],
    "file-contents": [
        {"files": "abc"},
        {"files": [1, 2]},
        {"files": {"a": 1}},
        {"files": [["rfcs/a.md"]]},
    ],
    "create-branch": [
        {"new_branch_name": 5},
        {"new_branch_name": {"a": 1}},
        {"new_branch_name": "x", "old_branch_name": []},
        {"new_branch_name": "x", "old_ref_name": False},
    ],
    "create-pull": [
        {"head": 5, "base": "main", "title": "t"},
        {"head": "feature", "base": "main", "title": ["t"]},
        {"head": "feature", "base": "main", "title": "t", "body": 1},
        {"head": "feature", "base": "main", "title": "t", "assignees": "ada"},
        {"head": "feature", "base": "main", "title": "t", "milestone": "one"},
        {"head": "feature", "base": "main", "title": "t", "labels": [1.5]},
    ],
    "edit-pull": [
        {"title": 5},
        {"state": ["closed"]},
        {"state": {"a": [[1]]}},
        {"body": {}},
        {"base": True},
        {"milestone": "x"},
        {"milestone": 1e999},
        {"milestone": 2**70},
        {"labels": "x"},
        {"due_date": "soon"},
    ],
    "merge-pull": [
        {"Do": "merge", "MergeTitleField": 5},
        {"Do": "squash", "merge_message_field": [1]},
        {"Do": ["merge"]},
        {"do": 1},
        {"Do": "merge", "head_commit_id": {}},
        {"Do": "merge", "delete_branch_after_merge": "yes"},
        {"Do": "manually-merged", "merge_commit_id": 7},
        {"Do": "merge", "force_merge": None, "merge_when_checks_succeed": "no"},
    ],
    "create-issue-comment": [
        {"body": 5},
        {"body": ["x"]},
        {"body": {}},
        {"body": None},
        {"body": ""},
        {},
    ],
}

TABLE: list[tuple[str, bytes]] = [
    (name, body) for name in ENDPOINTS for body in BAD_FOR_ALL
] + [
    (name, json.dumps(body).encode()) for name, bodies in BAD_FIELDS.items() for body in bodies
]


def _label(case: tuple[str, bytes]) -> str:
    name, body = case
    return f"{name}:{body[:40]!r}"


def assert_gitea_error(resp: httpx.Response, *, low: int = 400, high: int = 499) -> dict:
    """A Gitea error answer: status in range, JSON ``{"message","url"}`` (APIError)."""
    assert low <= resp.status_code <= high, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str), body
    assert_valid(body, "APIError", require=("url",))
    return body


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, httpx.Client]]:
    """One sandbox over real HTTP for the whole table: every case must be refused, so
    none of them changes its state (checked at the end of each case)."""
    sb = fresh_sandbox()
    with sb.serve() as base, httpx.Client(base_url=base, headers=BOT, timeout=30) as c:
        yield sb, c


@pytest.mark.parametrize("case", TABLE, ids=[_label(c) for c in TABLE])
def test_malformed_bodies_get_gitea_errors_over_http(
    served: tuple[Sandbox, httpx.Client], case: tuple[str, bytes]
) -> None:
    sb, c = served
    name, body = case
    method, path = ENDPOINTS[name]
    body = body.replace(A_SHA.encode(), a_sha(sb).encode())
    before = (dict(sb.git.branches), len(sb.git.objects), sb.pulls[1].state,
              sb.next_comment_id)
    resp = c.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert_gitea_error(resp)
    assert sb.internal_errors == []
    assert (dict(sb.git.branches), len(sb.git.objects), sb.pulls[1].state,
            sb.next_comment_id) == before


def test_table_covers_every_write_route() -> None:
    """A new body-reading route must join the table above."""
    body_routes = {
        (verb, pattern.pattern)
        for verb, pattern, _ in api.REPO_ROUTES
        if verb in ("POST", "PUT", "PATCH", "DELETE")
    }
    covered = set()
    for method, path in ENDPOINTS.values():
        sub = path[len(REPO):]
        covered |= {(v, p) for v, p in body_routes if v == method and re.match(p, sub)}
    # DELETE /branches/{name} reads no body (Gitea ignores one too).
    assert body_routes - covered == {("DELETE", r"/branches/(.+)\Z")}


@pytest.mark.parametrize("transport", ["http", "transport"])
def test_deep_nesting_answers_422(transport: str) -> None:
    sb = fresh_sandbox()
    body = b"[" * DEEP + b"]" * DEEP
    obj = b'{"new_branch_name":' * DEEP + b'"x"' + b"}" * DEEP
    if transport == "http":
        with sb.serve() as base, httpx.Client(base_url=base, headers=BOT, timeout=30) as c:
            replies = [c.post(f"{REPO}/branches", content=body),
                       c.post(f"{REPO}/branches", content=obj)]
    else:
        with httpx.Client(transport=sb.transport, base_url="http://sb", headers=BOT) as c:
            replies = [c.post(f"{REPO}/branches", content=body),
                       c.post(f"{REPO}/branches", content=obj)]
    for resp in replies:
        assert resp.status_code == 422
        assert "depth" in assert_gitea_error(resp)["message"]


def test_wrong_type_message_is_gos() -> None:
    sb = fresh_sandbox()
    with httpx.Client(transport=sb.transport, base_url="http://sb", headers=BOT) as c:
        resp = c.post(f"{REPO}/pulls/1/merge", json={"Do": "merge", "MergeTitleField": 5})
    assert assert_gitea_error(resp)["message"] == (
        "[]: json: cannot unmarshal number into Go struct field "
        "MergePullRequestForm.MergeTitleField of type string"
    )
    assert sb.pulls[1].merged is False


def test_go_decoding_rules_accept_what_gitea_accepts() -> None:
    """Case-insensitive keys, null = unset, trailing bytes ignored, lone surrogate
    escapes become U+FFFD (and the state stays servable afterwards)."""
    sb = fresh_sandbox()
    with httpx.Client(transport=sb.transport, base_url="http://sb", headers=BOT) as c:
        r = c.post(f"{REPO}/branches", content=b'{"New_Branch_Name": "x1", "old_ref_name": null}')
        assert r.status_code == 201 and r.json()["name"] == "x1"
        r = c.post(f"{REPO}/branches", content=b'{"new_branch_name": "x2"} trailing')
        assert r.status_code == 201
        r = c.patch(f"{REPO}/pulls/1", content=b'{"title": "bad \\ud800 half"}')
        assert r.status_code == 201 and r.json()["title"] == "bad \ufffd half"
        assert c.get(f"{REPO}/pulls").status_code == 200
        r = c.post(f"{REPO}/contents/rfcs/n.md", json={
            "content": b64(b"N\n")[:2] + "\r\n" + b64(b"N\n")[2:],
            "author": {"name": "Eve <x>\nInjected", "email": "<e@x>"},
        })
        assert r.status_code == 201, r.text
        assert r.json()["commit"]["author"] == {
            "name": "Eve xInjected", "email": "e@x", "date": r.json()["commit"]["author"]["date"]
        }
        assert c.get(f"{REPO}/commits").status_code == 200


def test_unparsable_pull_index_is_404() -> None:
    sb = fresh_sandbox()
    with httpx.Client(transport=sb.transport, base_url="http://sb", headers=BOT) as c:
        assert_gitea_error(c.get(f"{REPO}/pulls/{'9' * 5000}"), low=404, high=404)
        assert_gitea_error(c.patch(f"{REPO}/pulls/{'9' * 30}", json={}), low=404, high=404)


def test_non_ascii_basic_auth_is_401(served_sandbox: tuple[Sandbox, str]) -> None:
    _, base = served_sandbox
    with httpx.Client(base_url=base) as c:
        basic = "Basic \u00e9\u00e9\u00e9\u00e9".encode("latin-1")
        resp = c.get("/api/v1/version", headers={"Authorization": basic})
    assert_gitea_error(resp, low=401, high=401)


# ------------------------------------------------------------------ the 500 catch-all


@pytest.mark.parametrize("transport", ["http", "transport"])
def test_unexpected_exception_is_a_500_without_secrets(
    transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: api.Ctx) -> dict:
        raise KeyError(f"leaked {self.req.headers.get('authorization')}")

    monkeypatch.setattr(api.Ctx, "repo_json", broken)
    sb = Sandbox()
    if transport == "http":
        with sb.serve() as base, httpx.Client(base_url=base, headers=BOT) as c:
            resp = c.get(REPO)
            assert c.get("/api/v1/version").status_code == 200  # the server lives on
    else:
        with httpx.Client(transport=sb.transport, base_url="http://sb", headers=BOT) as c:
            resp = c.get(REPO)
    body = assert_gitea_error(resp, low=500, high=500)
    assert "bot-token" not in resp.text and "Traceback" not in resp.text
    assert "leaked" not in resp.text and body["message"].endswith("(KeyError)")
    assert len(sb.internal_errors) == 1 and sb.internal_errors[0].startswith("KeyError at ")
    assert "bot-token" not in sb.internal_errors[0]


def _raw_http(base: str, payload: bytes) -> bytes:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(payload)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"POST /api/v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /api/v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
        (b"POST /api/v1/version HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"zz\r\n", 400),
        (b"POST /api/v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n",
         413),
        (b"GARBAGE\r\n\r\n", 400),
        (b"BREW /api/v1/version HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    ],
)
def test_unreadable_http_requests_get_json_errors(
    served_sandbox: tuple[Sandbox, str], payload: bytes, status: int
) -> None:
    _, base = served_sandbox
    raw = _raw_http(base, payload)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(status).encode(), raw[:200]
    assert b"application/json" in head
    assert isinstance(json.loads(body)["message"], str)


# ------------------------------------------------------------------ random JSON (hypothesis)

FIELD_NAMES = sorted(
    {
        "content", "sha", "from_path", "branch", "new_branch", "message", "author",
        "committer", "dates", "signoff", "force_push", "files", "operation", "path",
        "new_branch_name", "old_branch_name", "old_ref_name", "head", "base", "title",
        "body", "state", "milestone", "labels", "assignees", "due_date", "Do",
        "MergeTitleField", "merge_message_field", "head_commit_id", "merge_commit_id",
        "delete_branch_after_merge", "name", "email",
    }
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["main", "feature", "merge", "create", "rfcs/a.md", "QQ==",
                       "2026-01-01T00:00:00Z", "closed", "open", "\ud800"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(ENDPOINTS)), value=JSON_VALUES)
def test_random_json_never_breaks_the_sandbox(name: str, value: Any) -> None:
    """Whatever JSON arrives, the answer is a proper HTTP reply, errors are Gitea's
    shape and never a 500, and the sandbox keeps serving its lists afterwards."""
    sb = fresh_sandbox()
    method, path = ENDPOINTS[name]
    body = json.dumps(value, ensure_ascii=True).encode()
    with httpx.Client(transport=sb.transport, base_url="http://sb", headers=BOT) as c:
        resp = c.request(method, path, content=body)
        if resp.status_code >= 400:
            assert_gitea_error(resp)
        assert sb.internal_errors == []
        for url in (f"{REPO}/pulls?state=all", f"{REPO}/branches", f"{REPO}/commits"):
            assert c.get(url).status_code == 200


# ------------------------------------------------------------------ --seed


def _seed(tmp_path: Path) -> Path:
    seed = tmp_path / "seed"
    (seed / "rfcs").mkdir(parents=True)
    (seed / "rfcs" / "a.md").write_text("A")
    (tmp_path / "secret.txt").write_text("outside the seed")
    return seed


def test_seed_refuses_a_symlink_pointing_outside(tmp_path: Path) -> None:
    seed = _seed(tmp_path)
    (seed / "rfcs" / "leak.md").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(SeedError, match="leak.md") as info:
        Sandbox(seed_dir=seed)
    assert "symlink" in str(info.value) and "\n" not in str(info.value)


def test_seed_refuses_a_symlinked_directory(tmp_path: Path) -> None:
    seed = _seed(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.md").write_text("B")
    (seed / "more").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SeedError, match="more"):
        Sandbox(seed_dir=seed)


def test_seed_refuses_a_fifo(tmp_path: Path) -> None:
    seed = _seed(tmp_path)
    os.mkfifo(seed / "rfcs" / "pipe.md")
    with pytest.raises(SeedError, match="pipe.md.*not a regular file"):
        Sandbox(seed_dir=seed)


def test_seed_refuses_a_directory_named_like_an_entry(tmp_path: Path) -> None:
    seed = _seed(tmp_path)
    (seed / "rfcs" / "odd.md").mkdir()
    (seed / "rfcs" / "odd.md" / "inner.txt").write_text("x")
    with pytest.raises(SeedError, match="odd.md"):
        Sandbox(seed_dir=seed)


def test_seed_still_reads_nested_regular_files_and_skips_git(tmp_path: Path) -> None:
    seed = _seed(tmp_path)
    (seed / "docs" / "deep").mkdir(parents=True)
    (seed / "docs" / "deep" / "c.txt").write_bytes(b"\x00\xff")
    (seed / ".git").mkdir()
    (seed / ".git" / "HEAD").symlink_to(tmp_path / "secret.txt")  # never looked at
    sb = Sandbox(seed_dir=seed)
    files = sb.git.flatten(sb.git.commit(sb.git.branches["main"]).tree)
    assert sorted(files) == ["docs/deep/c.txt", "rfcs/a.md"]
    assert sb.git.blob(files["docs/deep/c.txt"]) == b"\x00\xff"


def test_seed_directory_named_through_a_link_is_read(tmp_path: Path) -> None:
    """Only what is *inside* the seed is checked; the directory the user names may be a
    link (e.g. a checkout reached through a symlinked home)."""
    seed = _seed(tmp_path)
    link = tmp_path / "seed-link"
    link.symlink_to(seed, target_is_directory=True)
    sb = Sandbox(seed_dir=link)
    assert sorted(sb.git.flatten(sb.git.commit(sb.git.branches["main"]).tree)) == ["rfcs/a.md"]


def test_cli_seed_with_symlink_exits_2_naming_the_file(tmp_path: Path) -> None:
    seed = _seed(tmp_path)
    (seed / "rfcs" / "leak.md").symlink_to(tmp_path / "secret.txt")
    proc = subprocess.run(
        [sys.executable, "-m", "rfctui.sandbox", "--seed", str(seed)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "leak.md" in lines[0] and "symlink" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
