"""Real HTTP on loopback for the sandbox.

Why these settings (shared/BASELINES.md): the stdlib listen backlog of 5 turns a burst
of connects into one-second SYN retries, and Nagle adds ~40 ms per response; so the
backlog is raised, TCP_NODELAY is set, and responses always carry Content-Length so
HTTP/1.1 keep-alive works.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from rfctui.sandbox.api import Request, Response

if TYPE_CHECKING:
    from rfctui.sandbox import Sandbox


def check_loopback(host: str) -> None:
    """Refuse anything but a loopback address: the sandbox has fixed, public tokens."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the sandbox only binds to loopback (127.0.0.1), not {host!r}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True
    sandbox: Sandbox

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.active: set[socket.socket] = set()
        self.active_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        """Track open connections so ``stop()`` can cut keep-alive clients off."""
        with self.active_lock:
            self.active.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.active_lock:
                self.active.discard(request)

    def drop_connections(self) -> None:
        with self.active_lock:
            conns = list(self.active)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: clients that hang up mid-answer (timeouts, fault tests) are normal."""

    def verify_request(self, request: socket.socket, client_address: object) -> bool:  # type: ignore[override]
        # "down": accept and immediately drop, so clients see a reset / closed connection.
        if self.sandbox.faults.down:
            with contextlib.suppress(OSError):
                request.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
            return False
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "Gitea-Sandbox"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Quiet: request lines can carry ``?token=`` and must never be logged."""

    def _serve(self) -> None:
        sb = self.server.sandbox
        if sb.faults.down:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = self._read_body()
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        req = Request.from_target(
            self.command, self.path, dict(self.headers.items()), body, f"http://{host}"
        )
        delay = sb.faults.delay_seconds
        if delay:
            time.sleep(delay)
        resp: Response = sb.handle(req)
        try:
            self.send_response(resp.status)
            for name, value in resp.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD" and resp.body:
                self.wfile.write(resp.body)
        except OSError:  # the client gave up (timeout); nothing to tell it
            self.close_connection = True

    def _read_body(self) -> bytes:
        """Content-Length or chunked request bodies (httpx streams the latter)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815


class SandboxServer:
    """A ThreadingHTTPServer running in a daemon thread; ``stop()`` shuts it down."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        check_loopback(host)
        self.sandbox = sandbox
        self.httpd = _Server((host, port), _Handler)
        self.httpd.sandbox = sandbox
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-http",
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> None:
        """Stop accepting, close the listener, and cut idle keep-alive connections so
        no client keeps talking to a sandbox that has left its ``with`` block."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.drop_connections()
        if self.thread is not None:
            self.thread.join(timeout=5)
