"""Every JSON body the sandbox serves validates against Gitea's own OpenAPI definitions.

The definitions are vendored verbatim in ``tests/openapi/gitea-subset.json`` (source and
MIT notice: ``tests/openapi/NOTICE.md``). Swagger 2.0 as Gitea generates it has no
``required`` lists and no nullability, so on its own it would accept ``{}``. To make the
check bite, the loader below applies two explicit tables, derived from how Gitea's Go
structs encode (``encoding/json``):

- **required** = every documented property, except those in :data:`OPTIONAL` (fields
  tagged ``omitempty`` in Gitea, or omitted on some endpoints, e.g. PR ``additions`` in
  list responses — API-NOTES §3.1);
- **nullable** = only the fields in :data:`NULLABLE`: Go pointers and slices that Gitea
  really leaves ``nil`` (``merged_at`` of an open PR, ``content`` of a directory entry,
  ``tree`` past the last page, ``added`` of a branch's PayloadCommit, ...). Every other
  field must have its documented JSON type; ``null`` fails.

Dates declared ``format: date-time`` must be RFC 3339. ``format: email`` is not checked:
Gitea emits ``""`` for an organisation's e-mail. Extra, undocumented properties are
allowed (Gitea itself emits some, e.g. ``User.username``).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from rfctui.sandbox import Sandbox
from rfctui.sandbox.sample import build_sample_sandbox

HERE = Path(__file__).resolve().parent
SUBSET = HERE / "openapi" / "gitea-subset.json"
SHARED_SWAGGER = HERE.parent.parent / "shared" / "gitea" / "swagger.v1.json"
BASE = "http://sandbox.local"
REPO = "/api/v1/repos/rfcs/meta"
FIXED_NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

#: Properties Gitea may leave out (``omitempty``) or that only some endpoints send.
OPTIONAL: dict[str, frozenset[str]] = {
    "APIError": frozenset({"url"}),  # the sudo refusal and some 403s carry only message
    "ContentsResponse": frozenset({
        "last_commit_sha", "last_committer_date", "last_author_date",  # omitempty
        "last_commit_message",  # only /contents-ext with includes=commit_message
        "lfs_oid", "lfs_size",  # omitempty, LFS pointers only
    }),
    "GitBlobResponse": frozenset({"lfs_oid", "lfs_size"}),  # omitempty
    "PullRequest": frozenset({"additions", "deletions", "changed_files"}),  # not in lists
    "Repository": frozenset({
        "permissions", "internal_tracker", "external_tracker", "external_wiki",  # omitempty
        "mirror_last_sync_at",  # new after v1.26; presumably set for mirrors only (unverified)
    }),
}

#: Properties Gitea emits as ``null`` (Go nil pointer or nil slice). ``x[]``: items.
NULLABLE: dict[str, frozenset[str]] = {
    "Commit": frozenset({"author", "committer", "files", "stats"}),  # no user for email
    "ContentsResponse": frozenset({
        "encoding", "content", "target", "download_url", "submodule_git_url",
    }),
    "FilesResponse": frozenset({"files[]"}),  # a deleted path is a null element
    "GitBlobResponse": frozenset({"content", "encoding"}),  # > 10 MiB blobs
    "GitTreeResponse": frozenset({"tree"}),  # a page past the end
    "Milestone": frozenset({"closed_at", "due_on"}),
    "PRBranchInfo": frozenset({"repo"}),  # head repository deleted
    "PayloadCommit": frozenset({"added", "removed", "modified", "verification"}),
    "PayloadCommitVerification": frozenset({"signer"}),
    "PullRequest": frozenset({
        "milestone", "assignee", "assignees", "requested_reviewers",
        "requested_reviewers_teams", "merged_at", "merge_commit_sha", "merged_by",
        "due_date", "closed_at",
    }),
    "RepoCommit": frozenset({"verification"}),  # verification=false
    "Repository": frozenset({"parent", "repo_transfer", "topics", "licenses"}),
}

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        raise ValueError(f"{value!r} is not RFC 3339")
    datetime.fromisoformat(value)
    return True


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


@cache
def definitions() -> dict[str, Any]:
    """The vendored definitions with the OPTIONAL/NULLABLE tables applied."""
    defs = copy.deepcopy(json.loads(SUBSET.read_text(encoding="utf-8"))["definitions"])
    for table in (OPTIONAL, NULLABLE):
        for name, fields in table.items():
            props = defs[name]["properties"]
            unknown = {f.removesuffix("[]") for f in fields} - set(props)
            assert not unknown, f"relaxation table names unknown fields {name}.{unknown}"
    for name, schema in defs.items():
        props = schema.get("properties")
        if not props:
            continue
        schema["required"] = sorted(set(props) - OPTIONAL.get(name, frozenset()))
        for field in NULLABLE.get(name, frozenset()):
            if field.endswith("[]"):
                key = field[:-2]
                props[key]["items"] = _nullable(props[key]["items"])
            else:
                props[field] = _nullable(props[field])
    return defs


def schema_for(name: str, *, array: bool = False, nullable_items: bool = False,
               require: tuple[str, ...] = ()) -> dict[str, Any]:
    ref: dict[str, Any] = {"$ref": f"#/definitions/{name}"}
    if require:
        ref = {"allOf": [ref, {"required": list(require)}]}
    if array:
        items = _nullable(ref) if nullable_items else ref
        return {"definitions": definitions(), "type": "array", "items": items}
    return {"definitions": definitions(), "allOf": [ref]}


def _leaves(err: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    """The specific failures inside an ``anyOf`` (skipping its "or null" branch)."""
    if not err.context:
        yield err
        return
    branches = [c for c in err.context if c.schema != {"type": "null"}] or err.context
    for sub in branches:
        yield from _leaves(sub)


def errors_for(body: Any, name: str, **kw: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(schema_for(name, **kw), format_checker=FORMATS)
    found = {
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:160]}"
        for top in validator.iter_errors(body)
        for e in _leaves(top)
    }
    return sorted(found)


def assert_valid(body: Any, name: str, **kw: Any) -> None:
    errors = errors_for(body, name, **kw)
    assert not errors, f"{name}: {len(errors)} schema error(s):\n" + "\n".join(errors[:25])


# ------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def sample() -> Sandbox:
    """The populated sample: every §5 PR kind and state, real history (read-only use)."""
    return build_sample_sandbox(clock=lambda: FIXED_NOW)


@pytest.fixture(scope="module")
def client(sample: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sample.transport, base_url=BASE,
                      headers={"Authorization": "token bot-token"}) as c:
        yield c


@pytest.fixture
def fresh() -> Iterator[tuple[Sandbox, httpx.Client]]:
    """A small sandbox per test for endpoints that change state."""
    sb = Sandbox(clock=lambda: FIXED_NOW)
    sb.commit_files("main", {"rfcs/a.md": b"---\nslug: a\n---\nA\n",
                             "rfcs/b.md": b"---\nslug: b\n---\nB\n"}, "seed",
                    author=("Ada Lovelace", "ada@sandbox.localhost"))
    with httpx.Client(transport=sb.transport, base_url=BASE,
                      headers={"Authorization": "token bot-token"}) as c:
        yield sb, c


def _json(resp: httpx.Response, status: int) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    return resp.json()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _pull_number(sample: Sandbox, head: str) -> int:
    for pr in sample.pulls.values():
        if pr.head == head:
            return pr.number
    raise AssertionError(f"no sample PR with head {head}")


# ------------------------------------------------------------------------ the subset itself


def test_vendored_subset_is_verbatim_gitea() -> None:
    """The vendored file is an untouched extract (re-run the extractor to compare)."""
    if not SHARED_SWAGGER.exists():
        pytest.skip("the full swagger document is not in this checkout")
    import importlib.util

    spec = importlib.util.spec_from_file_location("extract_subset",
                                                  HERE / "openapi" / "extract_subset.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    full = json.loads(SHARED_SWAGGER.read_text(encoding="utf-8"))
    vendored = json.loads(SUBSET.read_text(encoding="utf-8"))
    assert module.extract(full)["definitions"] == vendored["definitions"]


def test_validator_rejects_missing_and_mistyped_fields(client: httpx.Client) -> None:
    """A real body passes; the same body missing a required field or with a wrong type
    (or a null where Gitea never sends one) fails — so the checks below can fail."""
    pr = _json(client.get(f"{REPO}/pulls/1"), 200)
    assert_valid(pr, "PullRequest")
    for mutate in (
        lambda b: b.pop("number"),
        lambda b: b.__setitem__("number", "1"),
        lambda b: b.__setitem__("user", None),
        lambda b: b["head"].pop("sha"),
        lambda b: b["user"].__setitem__("id", True),
        lambda b: b.__setitem__("created_at", "yesterday"),
    ):
        broken = copy.deepcopy(pr)
        mutate(broken)
        assert errors_for(broken, "PullRequest"), "a broken body validated"


# ------------------------------------------------------------------------ read endpoints


def test_version(client: httpx.Client) -> None:
    assert_valid(_json(client.get("/api/v1/version"), 200), "ServerVersion")


@pytest.mark.parametrize("token", ["bot-token", "ada-token", "admin-token"])
def test_current_user(sample: Sandbox, token: str) -> None:
    with httpx.Client(transport=sample.transport, base_url=BASE,
                      headers={"Authorization": f"token {token}"}) as c:
        assert_valid(_json(c.get("/api/v1/user"), 200), "User")


@pytest.mark.parametrize("login", ["ada", "rfc-bot", "grace"])
def test_get_user(client: httpx.Client, login: str) -> None:
    assert_valid(_json(client.get(f"/api/v1/users/{login}"), 200), "User")


def test_repository(client: httpx.Client) -> None:
    body = _json(client.get(REPO), 200)
    assert_valid(body, "Repository")
    assert body["owner"]["login"] == "rfcs"


@pytest.mark.parametrize("query", ["", "?page=1&limit=5", "?page=99"])
def test_list_branches(client: httpx.Client, query: str) -> None:
    assert_valid(_json(client.get(f"{REPO}/branches{query}"), 200), "Branch", array=True)


@pytest.mark.parametrize("name", ["main", "propose/secret-rotation", "edit/typed-config/2"])
def test_get_branch(client: httpx.Client, name: str) -> None:
    assert_valid(_json(client.get(f"{REPO}/branches/{name}"), 200), "Branch")


@pytest.mark.parametrize("query", [
    "?sha=main&limit=5",
    "?sha=main&stat=false&verification=false&files=false",
    "?sha=main&path=rfcs/typed-config.md",
    "?sha=claim/local-dev-containers&page=2&limit=3",
])
def test_list_commits(client: httpx.Client, query: str) -> None:
    body = _json(client.get(f"{REPO}/commits{query}"), 200)
    assert body, "expected commits"
    assert_valid(body, "Commit", array=True)


@pytest.mark.parametrize("path", ["rfcs/typed-config.md", "README.md"])
@pytest.mark.parametrize("ref", ["", "?ref=main", "?ref=edit/typed-config/2"])
def test_get_file_contents(client: httpx.Client, path: str, ref: str) -> None:
    body = _json(client.get(f"{REPO}/contents/{path}{ref}"), 200)
    assert_valid(body, "ContentsResponse",
                 require=("last_commit_sha", "last_committer_date", "last_author_date"))
    assert body["type"] == "file" and body["encoding"] == "base64"


@pytest.mark.parametrize("url", [f"{REPO}/contents", f"{REPO}/contents/rfcs?ref=main"])
def test_get_directory_contents(client: httpx.Client, url: str) -> None:
    body = _json(client.get(url), 200)
    assert isinstance(body, list) and body
    assert_valid(body, "ContentsResponse", array=True)


@pytest.mark.parametrize("query", ["", "?recursive=true", "?recursive=1&per_page=7&page=2",
                                   "?page=50"])
def test_git_tree(client: httpx.Client, query: str) -> None:
    assert_valid(_json(client.get(f"{REPO}/git/trees/main{query}"), 200), "GitTreeResponse")


def test_git_tree_by_sha_and_blob(client: httpx.Client) -> None:
    root = _json(client.get(f"{REPO}/git/trees/main"), 200)
    rfcs = next(e for e in root["tree"] if e["path"] == "rfcs")
    sub = _json(client.get(f"{REPO}/git/trees/{rfcs['sha']}"), 200)
    assert_valid(sub, "GitTreeResponse")
    blob = _json(client.get(f"{REPO}/git/blobs/{sub['tree'][0]['sha']}"), 200)
    assert_valid(blob, "GitBlobResponse")


def test_file_contents_batch(client: httpx.Client) -> None:
    files = ["rfcs/typed-config.md", "rfcs/no-such-entry.md", "README.md"]
    got = _json(client.post(f"{REPO}/file-contents?ref=main", json={"files": files}), 200)
    assert_valid(got, "ContentsResponse", array=True, nullable_items=True)
    assert got[1] is None
    query = httpx.QueryParams({"ref": "main", "body": json.dumps({"files": files})})
    got = _json(client.get(f"{REPO}/file-contents", params=query), 200)
    assert_valid(got, "ContentsResponse", array=True, nullable_items=True)


@pytest.mark.parametrize("query", [
    "?state=all&sort=recentupdate&limit=50",
    "?state=open",
    "?state=closed&page=1&limit=3",
    "",
])
def test_list_pulls(client: httpx.Client, query: str) -> None:
    body = _json(client.get(f"{REPO}/pulls{query}"), 200)
    assert body
    assert_valid(body, "PullRequest", array=True)


@pytest.mark.parametrize("head", [
    "propose/secret-rotation",  # open
    "propose/error-budget-policy",  # merged
    "propose/company-wide-ide",  # closed
    "claim/docs-as-code",  # merged, head branch deleted afterwards
    "edit/on-call-handoff-notes/1",  # opened by ada herself
    "fix-typo",  # not ours
])
def test_get_pull_and_by_base_head(client: httpx.Client, sample: Sandbox, head: str) -> None:
    number = _pull_number(sample, head)
    single = _json(client.get(f"{REPO}/pulls/{number}"), 200)
    assert_valid(single, "PullRequest", require=("additions", "deletions", "changed_files"))
    by_head = _json(client.get(f"{REPO}/pulls/main/{head}"), 200)
    assert_valid(by_head, "PullRequest")


# ------------------------------------------------------------------------ write endpoints


def test_create_and_delete_branch(fresh: tuple[Sandbox, httpx.Client]) -> None:
    _, c = fresh
    body = _json(c.post(f"{REPO}/branches", json={"new_branch_name": "topic",
                                                   "old_ref_name": "main"}), 201)
    assert_valid(body, "Branch")
    assert c.delete(f"{REPO}/branches/topic").status_code == 204


def test_file_create_update_delete(fresh: tuple[Sandbox, httpx.Client]) -> None:
    _, c = fresh
    author = {"name": "Ada Lovelace", "email": "ada@sandbox.localhost"}
    created = _json(c.post(f"{REPO}/contents/rfcs/c.md", json={
        "content": _b64("C\n"), "message": "add c", "author": author}), 201)
    assert_valid(created, "FileResponse")
    updated = _json(c.put(f"{REPO}/contents/rfcs/c.md", json={
        "content": _b64("C2\n"), "sha": created["content"]["sha"], "message": "edit c",
        "new_branch": "edit/c/1"}), 200)
    assert_valid(updated, "FileResponse")
    put_created = _json(c.put(f"{REPO}/contents/rfcs/d.md", json={"content": _b64("D\n")}), 201)
    assert_valid(put_created, "FileResponse")
    deleted = _json(c.request("DELETE", f"{REPO}/contents/rfcs/c.md", json={
        "sha": created["content"]["sha"], "message": "drop c"}), 200)
    assert_valid(deleted, "FileDeleteResponse")
    assert deleted["content"] is None


def test_change_files(fresh: tuple[Sandbox, httpx.Client]) -> None:
    _, c = fresh
    body = _json(c.post(f"{REPO}/contents", json={
        "branch": "main", "new_branch": "propose/x", "message": "several",
        "author": {"name": "Grace Hopper", "email": "grace@sandbox.localhost"},
        "files": [
            {"operation": "create", "path": "rfcs/x.md", "content": _b64("X\n")},
            {"operation": "update", "path": "rfcs/a.md", "content": _b64("A2\n")},
            {"operation": "delete", "path": "rfcs/b.md"},
        ]}), 201)
    assert_valid(body, "FilesResponse")
    assert body["files"][2] is None


def test_pull_lifecycle(fresh: tuple[Sandbox, httpx.Client]) -> None:
    _, c = fresh
    _json(c.post(f"{REPO}/contents", json={"branch": "main", "new_branch": "claim/a",
                                           "files": [{"operation": "update",
                                                      "path": "rfcs/a.md",
                                                      "content": _b64("A3\n")}]}), 201)
    created = _json(c.post(f"{REPO}/pulls", json={"head": "claim/a", "base": "main",
                                                  "title": "Claim a", "body": "b"}), 201)
    assert_valid(created, "PullRequest")
    edited = _json(c.patch(f"{REPO}/pulls/{created['number']}", json={"title": "Claim A"}),
                   201)
    assert_valid(edited, "PullRequest")
    merged = c.post(f"{REPO}/pulls/{created['number']}/merge", json={"Do": "merge"})
    assert merged.status_code == 200 and merged.content == b""
    after = _json(c.get(f"{REPO}/pulls/{created['number']}"), 200)
    assert_valid(after, "PullRequest", require=("additions", "deletions", "changed_files"))
    assert after["merged"] is True and after["merged_by"] is not None


# ------------------------------------------------------------------------ errors


def test_error_bodies(fresh: tuple[Sandbox, httpx.Client]) -> None:
    sb, c = fresh
    cases: list[tuple[httpx.Response, int]] = []
    cases.append((c.get("/api/v1/repos/rfcs/nope"), 404))
    cases.append((c.get(f"{REPO}/git/trees/{'0' * 40}"), 400))
    cases.append((c.get(f"{REPO}/git/blobs/{'0' * 40}"), 400))
    cases.append((c.get(f"{REPO}/contents/rfcs/missing.md"), 404))
    cases.append((c.post(f"{REPO}/contents/rfcs/a.md", json={"content": _b64("x")}), 422))
    cases.append((c.post(f"{REPO}/branches", json={"new_branch_name": "main"}), 409))
    with httpx.Client(transport=sb.transport, base_url=BASE,
                      headers={"Authorization": "token wrong"}) as bad:
        cases.append((bad.get("/api/v1/version"), 401))
    with httpx.Client(transport=sb.transport, base_url=BASE,
                      headers={"Authorization": "token ada-token"}) as ada:
        cases.append((ada.post(f"{REPO}/branches", json={"new_branch_name": "x"}), 403))
    with httpx.Client(transport=sb.transport, base_url=BASE) as anon:
        cases.append((anon.get("/api/v1/user"), 401))
    _json(c.post(f"{REPO}/branches", json={"new_branch_name": "claim/b"}), 201)
    c.post(f"{REPO}/contents", json={"branch": "claim/b", "files": [
        {"operation": "update", "path": "rfcs/b.md", "content": _b64("B2\n")}]})
    pr = _json(c.post(f"{REPO}/pulls", json={"head": "claim/b", "base": "main",
                                             "title": "t"}), 201)
    cases.append((c.post(f"{REPO}/pulls", json={"head": "claim/b", "base": "main",
                                                "title": "t"}), 409))
    c.post(f"{REPO}/pulls/{pr['number']}/merge", json={"Do": "merge"})
    cases.append((c.post(f"{REPO}/pulls/{pr['number']}/merge", json={"Do": "merge"}), 405))
    cases.append((c.patch(f"{REPO}/pulls/{pr['number']}", json={"state": "open"}), 412))
    cases.append((c.post(f"{REPO}/pulls", json={"head": "main", "base": "main",
                                                "title": "t"}), 422))
    cases.append((c.post(f"{REPO}/pulls", json={"head": "no-such-branch", "base": "main",
                                                "title": "t"}), 404))
    cases.append((c.get(f"{REPO}/pulls/999"), 404))
    cases.append((c.get(f"{REPO}/pulls/999/merge"), 404))
    cases.append((c.get(f"{REPO}/pulls/main/no-such-branch"), 404))
    cases.append((c.get(f"{REPO}/raw/rfcs/missing.md"), 404))
    cases.append((c.get(f"{REPO}/branches/no-such-branch"), 404))
    cases.append((c.delete(f"{REPO}/branches/no-such-branch"), 404))
    cases.append((c.get(f"{REPO}/commits", params={"sha": "no-such-branch"}), 404))
    cases.append((c.get("/api/v1/users/nobody"), 404))
    for resp, status in cases:
        body = _json(resp, status)
        assert_valid(body, "APIError", require=("url",))
        assert body["message"], resp.request.url


def test_sudo_refusal_body(fresh: tuple[Sandbox, httpx.Client]) -> None:
    """The one error body without ``url`` (API-NOTES §5): still an APIError."""
    _, c = fresh
    body = _json(c.get("/api/v1/user", headers={"Sudo": "ada"}), 403)
    assert_valid(body, "APIError")


def test_non_json_endpoints_answer_as_gitea(fresh: tuple[Sandbox, httpx.Client]) -> None:
    """raw, archive, merge check and merge have no JSON schema; check their shapes."""
    _, c = fresh
    raw = c.get(f"{REPO}/raw/rfcs/a.md", params={"ref": "main"})
    assert raw.status_code == 200 and raw.content == b"---\nslug: a\n---\nA\n"
    archive = c.get(f"{REPO}/archive/main.tar.gz")
    assert archive.status_code == 200 and archive.content[:2] == b"\x1f\x8b"
    assert c.get(f"{REPO}/archive/main.zip").content[:2] == b"PK"


# ------------------------------------------------------------------------ real HTTP


def test_over_real_http(sample: Sandbox) -> None:
    """The same bodies over loopback HTTP (server.py), not only through the transport."""
    with sample.serve() as base_url, httpx.Client(
        base_url=base_url, headers={"Authorization": "token ada-token"}
    ) as c:
        assert_valid(_json(c.get("/api/v1/version"), 200), "ServerVersion")
        assert_valid(_json(c.get("/api/v1/user"), 200), "User")
        assert_valid(_json(c.get(REPO), 200), "Repository")
        assert_valid(_json(c.get(f"{REPO}/pulls?state=all&limit=50"), 200), "PullRequest",
                     array=True)
        assert_valid(_json(c.get(f"{REPO}/contents/rfcs?ref=main"), 200),
                     "ContentsResponse", array=True)
        assert_valid(_json(c.get(f"{REPO}/branches/main"), 200), "Branch")
        assert_valid(_json(c.get("/api/v1/repos/rfcs/nope"), 404), "APIError")
