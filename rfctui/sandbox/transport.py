"""The sandbox as an httpx transport: in-process tests without sockets.

One class serves both ``httpx.Client`` and ``httpx.AsyncClient`` so a test can pick
either; faults behave as over HTTP (``down`` -> ``httpx.ConnectError``).
"""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from typing import TYPE_CHECKING

import httpx

from rfctui.sandbox.api import Request, Response, internal_error

if TYPE_CHECKING:
    from rfctui.sandbox.core import Sandbox


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _to_request(self, request: httpx.Request, body: bytes) -> Request:
        url = request.url
        port = f":{url.port}" if url.port else ""
        base = f"{url.scheme}://{url.host}{port}"
        return Request.from_target(
            request.method,
            url.raw_path.decode("ascii"),
            dict(request.headers.items()),
            body,
            base,
        )

    def _to_response(self, resp: Response, request: httpx.Request) -> httpx.Response:
        headers = list(resp.headers)
        headers.append(("Content-Length", str(len(resp.body))))
        # Like Gitea (and server.py): the sandbox clock when the answer is written.
        when = (self.sandbox.date_clock or self.sandbox.clock)()
        headers.append(("Date", formatdate(when.timestamp(), usegmt=True)))
        body = b"" if request.method == "HEAD" else resp.body
        return httpx.Response(resp.status, headers=headers, content=body, request=request)

    def _check_down(self, request: httpx.Request) -> None:
        if self.sandbox.faults.down:
            raise httpx.ConnectError("sandbox is down (fault injection)", request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._check_down(request)
        body = request.read()
        delay = self.sandbox.faults.delay_seconds
        if delay:
            time.sleep(delay)
        return self._answer(request, body)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._check_down(request)
        body = await request.aread()
        delay = self.sandbox.faults.delay_seconds
        if delay:
            await asyncio.sleep(delay)
        return self._answer(request, body)

    def _answer(self, request: httpx.Request, body: bytes) -> httpx.Response:
        """Like the HTTP server: whatever goes wrong, the client gets a 500 JSON body."""
        try:
            resp = self.sandbox.handle(self._to_request(request, body))
        except Exception as exc:  # noqa: BLE001 - every request gets an answer
            self.sandbox.note_internal_error(exc)
            url = request.url
            resp = internal_error(f"{url.scheme}://{url.netloc.decode('ascii')}", exc)
        return self._to_response(resp, request)

    def close(self) -> None:
        """Nothing to release; the sandbox outlives its clients."""

    async def aclose(self) -> None:
        """Nothing to release; the sandbox outlives its clients."""
