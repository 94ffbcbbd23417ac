"""rfctui.gitea against the sandbox: in-process transport and real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from rfctui.config import Secret
from rfctui.gitea import (
    GiteaAuthError,
    GiteaClient,
    GiteaError,
    GiteaHTTPError,
    GiteaNotFound,
    GiteaTimeout,
    GiteaUnreachable,
    parse_link_header,
)
from rfctui.sandbox import Sandbox, SandboxUser, default_users

OWNER, R = "rfcs", "meta"
SECRET = "SECRET-TOKEN-8c1f0e"  # the bot's token in these tests: must never leak
FAST = {"backoff": 0.001, "seed": 7}


def _users() -> list[SandboxUser]:
    users = [u for u in default_users() if u.login != "rfc-bot"]
    return [SandboxUser("rfc-bot", SECRET, "RFC Bot", "write"), *users]


@pytest.fixture
def sb() -> Sandbox:
    sandbox = Sandbox(users=_users())
    sandbox.populate_sample()
    return sandbox


@pytest.fixture(params=["transport", "http"])
def base(request: pytest.FixtureRequest, sb: Sandbox) -> Iterator[tuple[str, Any]]:
    """(base_url, transport) for both ways of reaching the sandbox."""
    if request.param == "transport":
        yield "http://sandbox.local", sb.transport
    else:
        with sb.serve(port=0) as url:
            yield url, None


@pytest.fixture
async def client(base: tuple[str, Any]) -> AsyncIterator[GiteaClient]:
    url, transport = base
    async with GiteaClient(url, SECRET, transport=transport, **FAST) as c:
        yield c


def leaks(*texts: object) -> bool:
    return any(SECRET in str(t) for t in texts)


# ---------------------------------------------------------------- reads


async def test_reads(client: GiteaClient, sb: Sandbox) -> None:
    assert await client.version() == sb.version
    me = await client.current_user()
    assert me["login"] == "rfc-bot"
    assert (await client.get_user("ada"))["full_name"] == "Ada Lovelace"
    assert (await client.get_repo(OWNER, R))["full_name"] == "rfcs/meta"
    head = (await client.get_branch(OWNER, R, "main"))["commit"]["id"]
    assert head == sb.git.branches["main"]
    root = await client.get_tree(OWNER, R, "main")
    rfcs = next(e for e in root["tree"] if e["path"] == "rfcs")
    listing = await client.get_tree(OWNER, R, rfcs["sha"])
    first = listing["tree"][0]
    blob = await client.get_blob(OWNER, R, first["sha"])
    assert blob.startswith(b"---\n")
    contents = await client.get_contents(OWNER, R, f"rfcs/{first['path']}", ref="main")
    assert isinstance(contents, dict)
    assert base64.b64decode(contents["content"]) == blob
    directory = await client.get_contents(OWNER, R, "rfcs")
    assert isinstance(directory, list) and len(directory) == len(listing["tree"])
    commits = await client.list_commits(OWNER, R, sha="main", limit=3)
    assert commits[0]["sha"] == head and len(commits) <= 3


async def test_file_contents_batches_of_30(client: GiteaClient, sb: Sandbox) -> None:
    names = [f"rfcs/bulk-{i:03d}.md" for i in range(64)]
    sb.commit_files("main", {n: f"file {n}\n".encode() for n in names}, "bulk")
    asked = [*names, "rfcs/missing.md"]
    before, served = client.requests, sb.requests_served
    got = await client.get_file_contents(OWNER, R, "main", asked)
    assert client.requests - before == 3  # 30 + 30 + 5
    assert sb.requests_served - served == 3
    assert len(got) == len(asked) and got[-1] is None
    for name, item in zip(names, got, strict=False):
        assert item is not None and item["path"] == name
        assert base64.b64decode(item["content"]) == f"file {name}\n".encode()


# ---------------------------------------------------------------- writes


async def test_write_cycle(client: GiteaClient, sb: Sandbox) -> None:
    branch = await client.create_branch(OWNER, R, "propose/client-test", "main")
    assert branch["name"] == "propose/client-test"
    done = await client.change_files(
        OWNER, R,
        [{"operation": "create", "path": "rfcs/client-test.md", "content": b"hello\n"}],
        "Add client-test", branch="propose/client-test",
        author={"name": "Ada Lovelace", "email": "ada@sandbox.localhost"},
    )
    assert done["commit"]["sha"] == sb.git.branches["propose/client-test"]
    pr = await client.create_pull(OWNER, R, head="propose/client-test", base="main",
                                  title="Propose client-test", body="why")
    assert pr["user"]["login"] == "rfc-bot" and pr["state"] == "open"
    same = await client.get_pull_by_head(OWNER, R, "main", "propose/client-test")
    assert same["number"] == pr["number"]
    edited = await client.edit_pull(OWNER, R, pr["number"], title="Renamed")  # Gitea: 201
    assert edited["title"] == "Renamed"
    assert await client.merge_pull(OWNER, R, pr["number"]) is None  # 200, empty body
    assert (await client.get_pull(OWNER, R, pr["number"]))["merged"] is True
    await client.delete_branch(OWNER, R, "propose/client-test")
    with pytest.raises(GiteaNotFound):
        await client.get_branch(OWNER, R, "propose/client-test")


# ---------------------------------------------------------------- errors


async def test_error_types_and_messages(client: GiteaClient) -> None:
    with pytest.raises(GiteaNotFound) as nf:
        await client.get_pull_by_head(OWNER, R, "main", "propose/nothing-here")
    e = nf.value
    assert isinstance(e, GiteaHTTPError) and isinstance(e, GiteaError)
    assert e.status == 404 and e.message == "not found"
    assert str(e) == (
        "Gitea answered 404 for GET /repos/rfcs/meta/pulls/main/propose/nothing-here: not found"
    )
    assert e.url.endswith("/api/v1/repos/rfcs/meta/pulls/main/propose/nothing-here")

    with pytest.raises(GiteaHTTPError) as conflict:
        await client.create_branch(OWNER, R, "main", "main")
    assert conflict.value.status == 409 and "already exists" in conflict.value.message

    with pytest.raises(GiteaHTTPError) as bad:
        await client.get_tree(OWNER, R, "0" * 40)
    assert bad.value.status == 400 and "sha not found" in str(bad.value)


async def test_auth_errors_are_actionable(base: tuple[str, Any]) -> None:
    url, transport = base
    async with GiteaClient(url, "wrong-" + SECRET, transport=transport, **FAST,
                           auth_hint="check RFCTUI_USER_TOKEN") as c:
        with pytest.raises(GiteaAuthError) as info:
            await c.current_user()
    assert info.value.status == 401
    assert "check RFCTUI_USER_TOKEN" in str(info.value)
    assert not leaks(info.value, repr(info.value), info.value.url, c)
    async with GiteaClient(url, "ada-token", transport=transport, **FAST) as c:
        with pytest.raises(GiteaAuthError) as denied:
            await c.create_branch(OWNER, R, "propose/x", "main")
    assert denied.value.status == 403 and "permission" in str(denied.value)
    async with GiteaClient(url, None, transport=transport, **FAST) as c:
        assert not c.has_token
        with pytest.raises(GiteaAuthError, match="no token configured"):
            await c.current_user()


async def test_token_never_leaks(base: tuple[str, Any]) -> None:
    url, transport = base
    async with GiteaClient(url, Secret(SECRET), transport=transport, **FAST) as c:
        assert not leaks(repr(c), str(c), vars(c))
        # A token that ends up in a URL (a careless caller) is scrubbed from the error.
        with pytest.raises(GiteaNotFound) as info:
            await c.get_user(SECRET)
        e = info.value
        assert not leaks(str(e), repr(e), e.url, e.message, e.args)
        with pytest.raises(GiteaNotFound) as info2:
            await c.get_contents(OWNER, R, "rfcs/none.md", ref=SECRET)
        assert not leaks(str(info2.value), info2.value.url)


async def test_control_characters_stripped_and_message_truncated(client: GiteaClient) -> None:
    with pytest.raises(GiteaHTTPError) as info:
        await client.create_pull(OWNER, R, head="nope\x1b[2J" + "x" * 400, base="main", title="t")
    e = info.value
    assert e.status == 404
    assert "\x1b" not in str(e) and "\x1b" not in e.message
    assert len(e.message) <= 200 and str(e).isprintable()


# ---------------------------------------------------------------- retries


async def test_reads_retry_on_5xx(sb: Sandbox, base: tuple[str, Any]) -> None:
    url, transport = base
    sb.faults.error_rate = 0.5
    sb.faults.reseed(3)
    served = sb.requests_served
    async with GiteaClient(url, SECRET, transport=transport, retries=8, **FAST) as c:
        for _ in range(20):
            assert (await c.get_branch(OWNER, R, "main"))["name"] == "main"
        assert c.requests > 20  # some attempts failed and were retried
        assert c.requests == sb.requests_served - served


async def test_reads_give_up_after_retries(sb: Sandbox, base: tuple[str, Any]) -> None:
    url, transport = base
    sb.faults.error_rate = 1.0
    served = sb.requests_served
    async with GiteaClient(url, SECRET, transport=transport, retries=2, **FAST) as c:
        with pytest.raises(GiteaHTTPError) as info:
            await c.list_pulls(OWNER, R)
    assert c.requests == 3 and sb.requests_served - served == 3
    assert info.value.status in (500, 502, 503)
    assert str(info.value).startswith(f"Gitea answered {info.value.status} for GET "
                                      "/repos/rfcs/meta/pulls")


@pytest.mark.parametrize("write", ["create_branch", "create_pull", "change_files", "edit_pull",
                                   "merge_pull", "delete_branch"])
async def test_writes_never_retried(sb: Sandbox, base: tuple[str, Any], write: str) -> None:
    url, transport = base
    sb.faults.error_rate = 1.0
    calls = {
        "create_branch": lambda c: c.create_branch(OWNER, R, "propose/x", "main"),
        "create_pull": lambda c: c.create_pull(OWNER, R, head="propose/x", base="main", title="t"),
        "change_files": lambda c: c.change_files(
            OWNER, R, [{"operation": "create", "path": "rfcs/x.md", "content": b"x"}], "m"),
        "edit_pull": lambda c: c.edit_pull(OWNER, R, 1, title="t"),
        "merge_pull": lambda c: c.merge_pull(OWNER, R, 1),
        "delete_branch": lambda c: c.delete_branch(OWNER, R, "propose/x"),
    }
    served = sb.requests_served
    async with GiteaClient(url, SECRET, transport=transport, retries=5, **FAST) as c:
        with pytest.raises(GiteaHTTPError):
            await calls[write](c)
    assert c.requests == 1 and sb.requests_served - served == 1


async def test_file_contents_post_is_a_read_and_retried(sb: Sandbox) -> None:
    sb.faults.error_rate = 1.0
    async with GiteaClient("http://sandbox.local", SECRET, transport=sb.transport,
                           retries=2, **FAST) as c:
        with pytest.raises(GiteaHTTPError):
            await c.get_file_contents(OWNER, R, "main", ["README.md"])
    assert c.requests == 3


async def test_not_retried_on_4xx(client: GiteaClient) -> None:
    before = client.requests
    with pytest.raises(GiteaNotFound):
        await client.get_branch(OWNER, R, "no-such-branch")
    assert client.requests - before == 1


# ---------------------------------------------------------------- unreachable, timeouts


async def test_down_is_unreachable(sb: Sandbox, base: tuple[str, Any]) -> None:
    url, transport = base
    sb.faults.down = True
    async with GiteaClient(url, SECRET, transport=transport, retries=1, **FAST) as c:
        with pytest.raises(GiteaUnreachable) as info:
            await c.version()
    host = url.split("://", 1)[1]
    assert str(info.value).startswith(f"cannot reach Gitea at {host}: ")
    assert info.value.status is None and c.requests == 2
    assert not leaks(info.value, repr(info.value))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_connection_refused() -> None:
    port = _closed_port()
    async with GiteaClient(f"http://127.0.0.1:{port}", SECRET, retries=0) as c:
        with pytest.raises(GiteaUnreachable) as info:
            await c.current_user()
    assert str(info.value) == f"cannot reach Gitea at 127.0.0.1:{port}: connection refused"


async def test_timeout(sb: Sandbox) -> None:
    sb.faults.latency_ms = 400
    with sb.serve(port=0) as url:
        async with GiteaClient(url, SECRET, timeout=0.05, retries=1, **FAST) as c:
            with pytest.raises(GiteaTimeout) as info:
                await c.get_branch(OWNER, R, "main")
        assert c.requests == 2  # a timed-out read is retried once, then reported
        assert "did not answer GET /repos/rfcs/meta/branches/main within 0.05 s" in str(
            info.value
        )
        sb.faults.latency_ms = 0


# ---------------------------------------------------------------- pagination


async def _open_many(sb: Sandbox, n: int, url: str, transport: Any) -> set[int]:
    numbers: set[int] = set()
    async with GiteaClient(url, SECRET, transport=transport, **FAST) as c:
        for i in range(n):
            head = f"propose/many-{i:03d}"
            sb.commit_files(head, {f"rfcs/many-{i:03d}.md": f"{i}\n".encode()}, f"many {i}")
            pr = await c.create_pull(OWNER, R, head=head, base="main", title=f"Many {i}")
            numbers.add(pr["number"])
    return numbers


async def test_pagination_over_50(sb: Sandbox, base: tuple[str, Any]) -> None:
    url, transport = base
    opened = await _open_many(sb, 45, url, transport)
    total = len(sb.pulls)
    assert total > 50
    async with GiteaClient(url, SECRET, transport=transport, **FAST) as c:
        first = await c.list_pulls(OWNER, R, page=1, limit=100)  # clamped to 50 by Gitea
        assert len(first.items) == 50 and first.total == total and first.has_next
        last = await c.list_pulls(OWNER, R, page=2, limit=50)
        assert len(last.items) == total - 50 and not last.has_next
        before = c.requests
        seen = [pr["number"] async for pr in c.iter_pulls(OWNER, R, limit=50)]
        assert c.requests - before == 2
        assert len(seen) == len(set(seen)) == total and opened <= set(seen)
        small = [pr["number"] async for pr in c.iter_pulls(OWNER, R, state="open", limit=7)]
        assert len(small) == sum(1 for p in sb.pulls.values() if p.state == "open")


def test_parse_link_header() -> None:
    value = ('<http://h/api/v1/repos/o/r/pulls?limit=2&page=3>; rel="next",'
             '<http://h/api/v1/repos/o/r/pulls?limit=2&page=5>; rel="last",'
             '<http://h/api/v1/repos/o/r/pulls?limit=2&page=1>; rel="first"')
    links = parse_link_header(value)
    assert links["next"].endswith("page=3") and links["last"].endswith("page=5")
    assert parse_link_header(None) == {} and parse_link_header("") == {}


# ---------------------------------------------------------------- concurrency


class CountingTransport(httpx.AsyncBaseTransport):
    """Delegates to the sandbox and records how many requests were in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.now = 0
        self.peak = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_concurrency_is_bounded(sb: Sandbox) -> None:
    sb.faults.latency_ms = 20
    counting = CountingTransport(sb.transport)
    async with GiteaClient("http://sandbox.local", SECRET, transport=counting,
                           max_concurrency=3, **FAST) as c:
        await asyncio.gather(*(c.get_branch(OWNER, R, "main") for _ in range(12)))
        names = [f"rfcs/b-{i}.md" for i in range(150)]  # 5 concurrent batches
        await c.get_file_contents(OWNER, R, "main", names)
    assert counting.peak == 3 and c.max_in_flight == 3


def test_constructor_rejects_bad_urls() -> None:
    with pytest.raises(ValueError):
        GiteaClient("gitea.example.com", SECRET)
    c = GiteaClient("https://gitea.example.com/api/v1/", SECRET)
    assert c.base_url == "https://gitea.example.com" and not leaks(repr(c))


async def test_dot_segments_refused(client: GiteaClient) -> None:
    before = client.requests
    with pytest.raises(ValueError):
        await client.get_repo("..", "meta")
    with pytest.raises(ValueError):
        await client.get_contents(OWNER, R, "rfcs/../../x")
    assert client.requests == before


@pytest.fixture
def web_site(tmp_path: Any) -> Iterator[str]:
    """A real HTTP server that is not Gitea (python's http.server on 127.0.0.1)."""
    import functools
    import http.server
    import threading

    (tmp_path / "api" / "v1").mkdir(parents=True)
    (tmp_path / "api" / "v1" / "version").write_text("<!DOCTYPE html><html>" + "x" * 500)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_web_site_is_not_a_gitea_api(web_site: str) -> None:
    async with GiteaClient(web_site, SECRET, retries=0) as c:
        with pytest.raises(GiteaError) as ok_page:
            await c.version()  # 200 with an HTML page
        with pytest.raises(GiteaNotFound) as missing:
            await c.get_repo(OWNER, R)  # 404 with an HTML page
    for info in (ok_page, missing):
        msg = str(info.value)
        assert msg.startswith(f"{web_site} is not a Gitea API (got an HTML page"), msg
        assert "<" not in msg and "xxx" not in msg and "\n" not in msg
