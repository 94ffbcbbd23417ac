"""The sandbox over real HTTP on 127.0.0.1: pagination, auth, errors, faults, the
server's connection handling and the command line."""

from __future__ import annotations

import asyncio
import base64
import http.client
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from rfctui.sandbox import Sandbox

REPO = "/api/v1/repos/rfcs/meta"
BOT = {"Authorization": "token bot-token"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com", ""])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"), Sandbox().serve(host=host):
        pass


def test_stop_cuts_keep_alive_connections() -> None:
    sb = Sandbox()
    with httpx.Client(timeout=5) as c:
        with sb.serve() as base:
            assert c.get(f"{base}/api/v1/version").status_code == 200
        with pytest.raises(httpx.TransportError):
            c.get(f"{base}/api/v1/version")


def test_ipv6_loopback_allowed() -> None:
    try:
        with Sandbox().serve(host="::1") as base, httpx.Client(base_url=base) as c:
            assert base.startswith("http://[::1]:")
            assert c.get("/api/v1/version").status_code == 200
    except OSError:
        pytest.skip("no IPv6 loopback here")


def test_binds_loopback_only(served_sandbox: tuple[Sandbox, str]) -> None:
    _, base = served_sandbox
    assert urlsplit(base).hostname == "127.0.0.1"


def test_pulls_link_header_exact(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    for i in range(7):
        sb.git.branches[f"p/{i}"] = sb.git.branches["main"]
    with httpx.Client(base_url=base, headers=BOT) as c:
        for i in range(7):
            r = c.post(f"{REPO}/pulls", json={"head": f"p/{i}", "base": "main", "title": f"{i}"})
            assert r.status_code == 201

        def link(page: int) -> str:
            return f"<{base}{REPO}/pulls?limit=3&page={page}&sort=oldest&state=all>"

        def get(page: int) -> httpx.Response:
            # deliberately unsorted keys: Gitea re-encodes them sorted
            return c.get(f"{REPO}/pulls?state=all&sort=oldest&page={page}&limit=3")

        first = get(1)
        assert first.headers["x-total-count"] == "7"
        assert [p["number"] for p in first.json()] == [1, 2, 3]
        assert first.headers["link"] == f'{link(2)}; rel="next",{link(3)}; rel="last"'
        middle = get(2)
        assert middle.headers["link"] == (
            f'{link(3)}; rel="next",{link(3)}; rel="last",'
            f'{link(1)}; rel="first",{link(1)}; rel="prev"'
        )
        last = get(3)
        assert [p["number"] for p in last.json()] == [7]
        assert last.headers["link"] == f'{link(1)}; rel="first",{link(2)}; rel="prev"'
        past = get(9)
        assert past.json() == []
        assert past.headers["link"] == f'{link(1)}; rel="first",{link(2)}; rel="prev"'
        single = c.get(f"{REPO}/pulls", params={"limit": 50})
        assert "link" not in single.headers and len(single.json()) == 7


def test_commits_link_and_hasmore(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    for i in range(4):
        sb.commit_files("main", {"f.md": str(i).encode()}, f"c{i}")
    with httpx.Client(base_url=base, headers=BOT) as c:
        r = c.get(f"{REPO}/commits", params={"limit": 2, "stat": "false"})
        assert r.headers["x-hasmore"] == "true" and r.headers["x-total"] == "5"
        assert r.headers["link"].startswith(f"<{base}{REPO}/commits?limit=2&page=2&stat=false>")
        r = c.get(f"{REPO}/commits", params={"limit": 2, "page": 3})
        assert r.headers["x-hasmore"] == "false" and len(r.json()) == 1


def test_auth_and_error_bodies(served_sandbox: tuple[Sandbox, str]) -> None:
    _, base = served_sandbox
    swagger = f"{base}/api/swagger"
    with httpx.Client(base_url=base) as anon:
        r = anon.get(REPO)
        assert (r.status_code, r.json()) == (404, {"message": "not found", "url": swagger})
        assert r.headers["content-type"] == "application/json;charset=utf-8"
        r = anon.get("/api/v1/user")
        assert (r.status_code, r.json()["message"]) == (401, "token is required")
        r = anon.get("/api/v1/version", headers={"Authorization": "token nope"})
        assert r.status_code == 401
        assert r.json() == {"message": "invalid username, password or token", "url": swagger}
        r = anon.get("/api/v1/version", headers={"Authorization": "Bearer"})
        assert r.status_code == 401
        r = anon.get("/api/v1/user", params={"token": "grace-token"})
        assert r.json()["login"] == "grace"
        basic = base64.b64encode(b"ada:ada-token").decode()
        r = anon.get("/api/v1/user", headers={"Authorization": f"Basic {basic}"})
        assert r.json()["login"] == "ada"
    with httpx.Client(base_url=base, headers={"Authorization": "bearer ada-token"}) as ada:
        r = ada.put(f"{REPO}/contents/x.md", json={"content": b64("x")})
        assert r.status_code == 403
        assert r.json()["message"] == "user should have a permission to write to the target branch"
        r = ada.delete(f"{REPO}/branches/main")
        assert r.status_code == 403
        assert ada.get(f"{REPO}/nonexistent").status_code == 404
        assert ada.get("/api/v1/repos/rfcs/other").status_code == 404


def test_write_and_merge_end_to_end(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    with httpx.Client(base_url=base, headers=BOT) as c:
        r = c.post(
            f"{REPO}/contents/rfcs/new.md",
            json={"content": b64("new"), "new_branch": "propose/new", "message": "Propose"},
        )
        assert r.status_code == 201
        blob = r.json()["content"]["sha"]
        pr = c.post(f"{REPO}/pulls", json={"head": "propose/new", "base": "main", "title": "New"})
        assert pr.status_code == 201
        n = pr.json()["number"]
        merged = c.post(f"{REPO}/pulls/{n}/merge", json={"Do": "merge"})
        assert merged.status_code == 200 and merged.content == b""
        assert merged.headers["content-length"] == "0"
        raw = c.get(f"{REPO}/raw/rfcs/new.md")
        assert raw.content == b"new" and raw.headers["etag"] == f'"{blob}"'
        again = c.get(f"{REPO}/raw/rfcs/new.md", headers={"If-None-Match": f'"{blob}"'})
        assert again.status_code == 304
        assert c.post(f"{REPO}/pulls/{n}/merge", json={"Do": "merge"}).status_code == 405
        assert c.get(f"{REPO}/archive/main.zip").content[:2] == b"PK"


def test_chunked_request_body(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    payload = b'{"new_branch_name": "chunky"}'

    def stream():  # a generator body makes httpx send Transfer-Encoding: chunked
        yield payload[:10]
        yield payload[10:]

    with httpx.Client(base_url=base, headers=BOT) as c:
        r = c.post(f"{REPO}/branches", content=stream())
        assert r.status_code == 201, r.text
        assert r.request.headers.get("transfer-encoding") == "chunked"
        assert c.get(f"{REPO}/branches/chunky").status_code == 200  # connection still in sync


def test_head_request_and_keep_alive(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for _ in range(3):  # one TCP connection, several requests (HTTP/1.1 keep-alive)
            conn.request("GET", "/api/v1/version")
            resp = conn.getresponse()
            assert resp.status == 200 and resp.version == 11
            assert resp.read() == b'{"version":"1.26.4"}\n'
        conn.request("HEAD", f"{REPO}/raw/README.md", headers=BOT)
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == b""
        assert int(resp.headers["Content-Length"]) > 0
    finally:
        conn.close()


def test_error_rate_over_http(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    sb.faults.error_rate = 1.0
    with httpx.Client(base_url=base) as c:
        codes = {c.get("/api/v1/version").status_code for _ in range(30)}
    assert codes <= {500, 502, 503} and len(codes) > 1
    sb.faults.error_rate = 0.0
    with httpx.Client(base_url=base) as c:
        assert c.get("/api/v1/version").status_code == 200


def test_down_drops_connections_and_recovers(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    sb.faults.down = True
    with httpx.Client(base_url=base, timeout=5) as c:
        with pytest.raises(httpx.TransportError):
            c.get("/api/v1/version")
    sb.faults.down = False
    sb.faults.latency_ms = 5
    with httpx.Client(base_url=base, timeout=5) as c:
        assert c.get("/api/v1/version").status_code == 200


def test_fifty_concurrent_clients(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    results: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def worker(i: int) -> None:
        barrier.wait()  # a burst of new connections at once
        with httpx.Client(base_url=base, headers=BOT, timeout=30) as c:
            codes = [c.get(f"{REPO}/git/trees/main").status_code]
            codes.append(c.post(f"{REPO}/branches", json={"new_branch_name": f"t/{i}"}).status_code)
            codes.append(c.get(f"{REPO}/branches/t/{i}").status_code)
        with lock:
            results.extend(codes)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [200] * 100 + [201] * 50
    assert len([b for b in sb.git.branches if b.startswith("t/")]) == 50


def test_fifty_concurrent_async_requests(served_sandbox: tuple[Sandbox, str]) -> None:
    sb, base = served_sandbox
    sb.faults.latency_ms = 2

    async def go() -> list[int]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=base, headers=BOT, limits=limits) as c:
            resps = await asyncio.gather(*(c.get(f"{REPO}/pulls") for _ in range(50)))
        return [r.status_code for r in resps]

    before = sb.requests_served
    assert asyncio.run(go()) == [200] * 50
    assert sb.requests_served == before + 50


def _start_cli(*args: str, env: dict | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rfctui.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    return proc, line


def test_cli_serves_and_exits_cleanly(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    (seed / "rfcs").mkdir(parents=True)
    (seed / "rfcs" / "a.md").write_text("A")
    data = tmp_path / "data"
    proc, base = _start_cli(
        "--port",
        "0",
        "--org",
        "acme",
        "--repo",
        "rfcs-meta",
        "--seed",
        str(seed),
        "--user",
        "bot:bt:The Bot",
        "--user",
        "zed:zt",
        "--bot",
        "bot",
        "--data",
        str(data),
        "--latency-ms",
        "1",
    )
    try:
        assert base.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        with httpx.Client(base_url=base, headers={"Authorization": "token bt"}) as c:
            assert c.get("/api/v1/user").json()["full_name"] == "The Bot"
            raw = c.get("/api/v1/repos/acme/rfcs-meta/raw/rfcs/a.md")
            assert raw.content == b"A"
            r = c.post("/api/v1/repos/acme/rfcs-meta/branches", json={"new_branch_name": "kept"})
            assert r.status_code == 201
        with httpx.Client(base_url=base, headers={"Authorization": "token zt"}) as z:
            r = z.post("/api/v1/repos/acme/rfcs-meta/branches", json={"new_branch_name": "no"})
            assert r.status_code == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    # --data keeps state across restarts
    proc, base = _start_cli("--org", "acme", "--repo", "rfcs-meta", "--data", str(data))
    try:
        with httpx.Client(base_url=base, headers={"Authorization": "token bot-token"}) as c:
            assert c.get("/api/v1/repos/acme/rfcs-meta/branches/kept").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_cli_refuses_public_host() -> None:
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "rfctui.sandbox", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "loopback" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_does_not_echo_a_malformed_user_token() -> None:
    """A bad --user value holds a token: the usage error must not repeat it."""
    proc = subprocess.run(
        [sys.executable, "-m", "rfctui.sandbox", "--user", "s3cr3t-t0ken"],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2
    assert "--user wants LOGIN:TOKEN" in proc.stderr
    assert "s3cr3t-t0ken" not in proc.stderr + proc.stdout
