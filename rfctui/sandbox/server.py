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
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from rfctui.sandbox.api import Request, Response, internal_error, json_response

if TYPE_CHECKING:
    from rfctui.sandbox.core import Sandbox


MAX_REQUEST_BODY = 256 * 1024 * 1024  # far above any 10 MiB blob in base64


class BodyTooLarge(ValueError):
    """A request body over ``MAX_REQUEST_BODY``: answered 413, never buffered."""


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

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header from the sandbox clock (tests control time), written after
        the request was answered, as Gitea does; RFC 7231 form, second resolution."""
        sb = self.server.sandbox
        when = (sb.date_clock or sb.clock)().timestamp() if timestamp is None else timestamp
        return formatdate(when, usegmt=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Quiet: request lines can carry ``?token=`` and must never be logged."""

    def _serve(self) -> None:
        sb = self.server.sandbox
        if sb.faults.down:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        base_url = f"http://{host}"
        try:
            body = self._read_body()
        except OSError:  # the client went away mid-body
            self.close_connection = True
            return
        except ValueError as exc:  # unreadable framing: answer, then stop reading the socket
            self.close_connection = True
            status, message = (
                (413, "request body too large")
                if isinstance(exc, BodyTooLarge)
                else (400, "invalid request body framing (Content-Length / chunked)")
            )
            url = f"{base_url}/api/swagger"
            self._send(json_response({"message": message, "url": url}, status))
            return
        try:
            req = Request.from_target(
                self.command, self.path, dict(self.headers.items()), body, base_url
            )
            delay = sb.faults.delay_seconds
            if delay:
                time.sleep(delay)
            resp: Response = sb.handle(req)
        except Exception as exc:  # noqa: BLE001 - every request gets an answer
            sb.note_internal_error(exc)
            resp = internal_error(base_url, exc)
        self._send(resp)

    def _send(self, resp: Response) -> None:
        try:
            self.send_response(resp.status)
            for name, value in resp.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(resp.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and resp.body:
                self.wfile.write(resp.body)
        except OSError:  # the client gave up (timeout); nothing to tell it
            self.close_connection = True

    def _read_body(self) -> bytes:
        """Content-Length or chunked request bodies (httpx streams the latter)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                total += size
                if size < 0 or total > MAX_REQUEST_BODY:
                    raise BodyTooLarge if size >= 0 else ValueError("negative chunk size")
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_REQUEST_BODY:
            raise BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib answers what it cannot parse (bad request line, 414, 431, 501) with
        HTML; clients of the sandbox expect Gitea's JSON error shape everywhere."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # unparsable line: answer with a status line
            self.request_version = "HTTP/1.0"
        text = message or self.responses.get(code, ("error",))[0]
        host = "{}:{}".format(*self.server.server_address[:2])
        resp = json_response({"message": text, "url": f"http://{host}/api/swagger"}, code)
        try:
            self.send_response(code)
            for name, value in resp.headers:
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(resp.body)
        except OSError:
            pass

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
        address = self.httpd.server_address
        host, port = str(address[0]), address[1]  # an AF_INET/AF_INET6 address: str host
        host = f"[{host}]" if ":" in host else host
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
