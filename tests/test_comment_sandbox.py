"""The sandbox's issue comment endpoints (issue 12 §3): Gitea's shapes, checked against
the vendored OpenAPI subset like every other endpoint (tests/test_sandbox_openapi.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_sandbox_openapi import BASE, FIXED_NOW, assert_valid

from rfctui.sandbox import Sandbox
from rfctui.sandbox.sample import build_sample_sandbox

REPO = "/api/v1/repos/rfcs/meta"


@pytest.fixture
def world(tmp_path: Any) -> Iterator[tuple[Sandbox, httpx.Client, int]]:
    sb = build_sample_sandbox(clock=lambda: FIXED_NOW, data_dir=tmp_path / "sb")
    number = min(sb.pulls)
    with httpx.Client(transport=sb.transport, base_url=BASE,
                      headers={"Authorization": "token bot-token"}) as c:
        yield sb, c, number


def _json(resp: httpx.Response, status: int) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json")
    return resp.json()


def test_create_and_list_comments_have_gitea_shapes(
    world: tuple[Sandbox, httpx.Client, int],
) -> None:
    sb, c, number = world
    url = f"{REPO}/issues/{number}/comments"
    assert _json(c.get(url), 200) == []
    first = _json(c.post(url, json={"body": "first <b>"}), 201)
    assert_valid(first, "Comment")
    assert first["body"] == "first <b>"
    assert first["user"]["login"] == "rfc-bot"
    assert first["html_url"] == f"{BASE}/rfcs/meta/pulls/{number}#issuecomment-{first['id']}"
    assert first["pull_request_url"] == f"{BASE}/rfcs/meta/pulls/{number}"
    with httpx.Client(transport=sb.transport, base_url=BASE,
                      headers={"Authorization": "token ada-token"}) as ada:
        second = _json(ada.post(url, json={"body": "second"}), 201)  # readers may comment
    listed = _json(c.get(url), 200)
    assert_valid(listed, "Comment", array=True)
    assert [x["id"] for x in listed] == [first["id"], second["id"]]
    assert [x["user"]["login"] for x in listed] == ["rfc-bot", "ada"]
    # another PR's thread is its own
    other = max(sb.pulls)
    assert _json(c.get(f"{REPO}/issues/{other}/comments"), 200) == []


def test_comments_survive_a_restart(world: tuple[Sandbox, httpx.Client, int],
                                    tmp_path: Any) -> None:
    sb, c, number = world
    _json(c.post(f"{REPO}/issues/{number}/comments", json={"body": "kept"}), 201)
    again = Sandbox(clock=lambda: FIXED_NOW, data_dir=tmp_path / "sb")
    assert [x.body for x in again.comments[number]] == ["kept"]
    assert again.next_comment_id == sb.next_comment_id


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/issues/{n}/comments", {"body": ""}, 422),
        ("POST", "/issues/{n}/comments", {}, 422),
        ("POST", "/issues/{n}/comments", {"body": 5}, 422),
        ("POST", "/issues/9999/comments", {"body": "x"}, 404),
        ("GET", "/issues/9999/comments", None, 404),
        ("GET", "/issues/{n}/comments?since=yesterday", None, 422),
    ],
)
def test_bad_requests_answer_like_gitea(
    world: tuple[Sandbox, httpx.Client, int], method: str, path: str,
    body: dict[str, Any] | None, status: int,
) -> None:
    sb, c, number = world
    resp = c.request(method, REPO + path.format(n=number), json=body)
    got = _json(resp, status)
    assert_valid(got, "APIError")
    assert got["message"]
    assert sb.comments.get(number, []) == []


def test_anonymous_cannot_comment(world: tuple[Sandbox, httpx.Client, int]) -> None:
    sb, _c, number = world
    with httpx.Client(transport=sb.transport, base_url=BASE) as anon:
        resp = anon.post(f"{REPO}/issues/{number}/comments", json={"body": "x"})
    assert resp.status_code in (401, 404)
    assert sb.comments.get(number, []) == []
