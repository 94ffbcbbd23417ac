"""An async client for the Gitea REST API endpoints rfctui needs (SPEC §4.1, §6.1).

Contract: ``shared/gitea/API-NOTES.md``. What this layer adds on top of httpx:

- one error family (`GiteaError`) whose ``str()`` is one actionable line and never holds
  a token, with unreachable / timed out / HTTP errors told apart;
- bounded concurrency (an `asyncio.Semaphore` around every request attempt);
- retries with exponential backoff and seedable jitter, for reads only (GET/HEAD, and
  the read-only ``POST /file-contents``) on 5xx, 429, timeouts and connection errors —
  a write is never retried, since a retried POST could open a second pull request;
- a request counter (`GiteaClient.requests`, every attempt) for the sweep statistics;
- pagination (`PullPage`, `iter_pulls`) from ``X-Total-Count`` and ``Link``.

The token travels only in the ``Authorization: token …`` header of each request; it is
not stored in the httpx client's default headers and is scrubbed from any text an error
carries.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import random
import re
import socket
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from rfctui import __version__
from rfctui.secret import Secret

__all__ = [
    "API_PREFIX",
    "FILE_CONTENTS_BATCH",
    "GiteaAuthError",
    "GiteaClient",
    "GiteaError",
    "GiteaHTTPError",
    "GiteaNotFound",
    "GiteaTimeout",
    "GiteaUnreachable",
    "PullPage",
    "parse_link_header",
]

API_PREFIX = "/api/v1"
FILE_CONTENTS_BATCH = 30  # Gitea's DEFAULT_PAGING_NUM caps /file-contents (API-NOTES §1.1)
PULLS_MAX_LIMIT = 50  # MAX_RESPONSE_ITEMS: larger limits are clamped silently (§0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MESSAGE_MAX = 200
_CTRL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")
_SECRET_PARAMS = frozenset({"token", "access_token", "sudo", "password"})


# ---------------------------------------------------------------- errors


class GiteaError(Exception):
    """A request to Gitea failed. ``str()`` is one line; nothing in it is a secret.

    `status` is the HTTP status (None when no answer came), `message` is Gitea's own
    message (control characters stripped, truncated), `url` the request URL without
    credentials or secret query parameters.
    """

    def __init__(
        self, status: int | None, message: str, url: str, *, method: str = "", summary: str = ""
    ) -> None:
        self.status = status
        self.message = message
        self.url = url
        self.method = method
        self.summary = summary or message
        super().__init__(self.summary)

    def __str__(self) -> str:
        return self.summary

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, url={self.url!r})"


class GiteaUnreachable(GiteaError):
    """No connection (refused, DNS, network down, connection dropped)."""


class GiteaTimeout(GiteaError):
    """Gitea did not answer within the client's timeout."""


class GiteaHTTPError(GiteaError):
    """Gitea answered with an error status."""


class GiteaAuthError(GiteaHTTPError):
    """401/403: the token is missing, wrong, or lacks permission."""


class GiteaNotFound(GiteaHTTPError):
    """404: the object does not exist (or is invisible to this token)."""


def _clean(text: str, secrets: Iterable[str] = ()) -> str:
    """One line, no control characters, no secret, at most `_MESSAGE_MAX` characters."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    text = " ".join(_CTRL_RE.sub(" ", text).split())
    if len(text) > _MESSAGE_MAX:
        text = text[: _MESSAGE_MAX - 1] + "…"
    return text


def _safe_url(url: httpx.URL | str, secrets: Iterable[str] = ()) -> str:
    """The URL without userinfo and without secret-looking query parameters."""
    parts = urlsplit(str(url))
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    query = "&".join(
        kv for kv in parts.query.split("&")
        if kv and kv.split("=", 1)[0].lower() not in _SECRET_PARAMS
    )
    clean = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    for s in secrets:
        if s:
            clean = clean.replace(s, "***").replace(quote(s, safe=""), "***")
    return clean


def _is_html(response: httpx.Response) -> bool:
    """An HTML page where JSON was expected: not a Gitea API (a web site, a proxy)."""
    ctype = response.headers.get("content-type", "").lower()
    if "html" in ctype:
        return True
    head = response.content[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _gitea_message(response: httpx.Response) -> str:
    """Gitea's ``{"message": ...}``, else the start of the body, else the reason phrase.

    An HTML page is not quoted (it says nothing useful on one line).
    """
    if _is_html(response):
        return "got an HTML page"
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        data = None
    message = data.get("message") if isinstance(data, dict) else None
    if isinstance(message, str) and message:
        return message
    text = response.text[:_MESSAGE_MAX * 2] if response.content else ""
    return text.strip() or response.reason_phrase or ""


def _connect_reason(exc: BaseException) -> str | None:
    """Why a connection failed, in words, from the OS error under httpx's wrapper."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, socket.gaierror):
            return "host name not found"
        if isinstance(cur, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cur, OSError) and cur.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
        if isinstance(cur, ConnectionResetError | BrokenPipeError):
            return "the connection was dropped"
        cur = cur.__cause__ or cur.__context__
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
        return "host name not found"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "the connection was dropped"
    return None


# ---------------------------------------------------------------- pagination


@dataclass(frozen=True, slots=True)
class PullPage:
    """One page of pull requests: items, ``X-Total-Count`` (None if absent), whether a
    next page exists (``Link: rel="next"``)."""

    items: list[dict[str, Any]]
    total: int | None
    has_next: bool


_LINK_RE = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]*)*)')


def parse_link_header(value: str | None) -> dict[str, str]:
    """``Link`` header -> ``{rel: url}``. Gitea joins entries with a bare ``,`` (§0)."""
    out: dict[str, str] = {}
    if not value:
        return out
    for m in _LINK_RE.finditer(value):
        url, params = m.group(1), m.group(2)
        for p in params.split(";"):
            key, _, val = p.strip().partition("=")
            if key.strip().lower() == "rel":
                for rel in val.strip().strip('"').split():
                    out.setdefault(rel.lower(), url)
    return out


def server_date(response: httpx.Response) -> datetime | None:
    """The ``Date`` header (RFC 7231, whole seconds) as aware UTC; absent or junk -> None."""
    try:
        when = parsedate_to_datetime(response.headers.get("date") or "")
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _total(response: httpx.Response) -> int | None:
    raw = response.headers.get("x-total-count")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------- client


def _seg(value: str, what: str) -> str:
    """One URL path segment; refuses empty and dot segments (httpx would resolve them)."""
    if not isinstance(value, str) or value in ("", ".", "..") or "\x00" in value:
        raise ValueError(f"invalid {what}: {value!r:.60}")
    return quote(value, safe="")


def _multi(value: str, what: str) -> str:
    """A path of segments (a branch name or a file path) with ``/`` kept."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"invalid {what}: {value!r:.60}")
    return "/".join(_seg(part, what) for part in value.split("/"))


class GiteaClient:
    """Async Gitea API client. Use as ``async with GiteaClient(url, token) as client:``.

    `base_url` is the server root (``https://gitea.example.com``; a trailing
    ``/api/v1`` is accepted). `token` may be a `Secret`, a plain str or None
    (anonymous). `transport` lets tests and ``--demo`` use the in-process sandbox.
    `auth_hint` completes 401/403 messages (e.g. "check RFCTUI_USER_TOKEN").
    """

    def __init__(
        self,
        base_url: str,
        token: Secret | str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        max_concurrency: int = 8,
        retries: int = 2,
        backoff: float = 0.2,
        backoff_max: float = 5.0,
        seed: int | None = None,
        auth_hint: str | None = None,
    ) -> None:
        root = str(base_url or "").rstrip("/").removesuffix(API_PREFIX).rstrip("/")
        parts = urlsplit(root)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a Gitea URL: {_safe_url(root)!r}")
        self.base_url = _safe_url(root)
        self.host = urlsplit(self.base_url).netloc
        if isinstance(token, str):
            token = Secret(token) if token else None
        self._token: Secret | None = token if token else None
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.max_concurrency = max(1, max_concurrency)
        self.auth_hint = auth_hint or (
            "check the token (RFCTUI_USER_TOKEN for you, RFCTUI_BOT_TOKEN for the bot)"
        )
        self.requests = 0  # every attempt, retries included
        self.in_flight = 0
        self.max_in_flight = 0  # the high-water mark of concurrent requests
        # The newest ``Date`` of any answer so far: Gitea's clock had reached it before
        # any request sent afterwards (rfctui.sweep_reads.pull_floor).
        self.server_date: datetime | None = None
        self._sem = asyncio.Semaphore(self.max_concurrency)
        self._rng = random.Random(seed)
        self._http = httpx.AsyncClient(
            base_url=self.base_url + API_PREFIX,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": f"rfctui/{__version__}"},
            limits=httpx.Limits(max_connections=self.max_concurrency),
            follow_redirects=True,
        )

    def __repr__(self) -> str:
        return f"GiteaClient({self.base_url!r}, token={'***' if self._token else None})"

    @property
    def has_token(self) -> bool:
        """Whether requests are authenticated (the bot and `verify_actor` ask)."""
        return self._token is not None

    async def __aenter__(self) -> GiteaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    close = aclose

    # ------------------------------------------------------------ core

    def _secrets(self) -> tuple[str, ...]:
        return (self._token.reveal(),) if self._token else ()

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Exponential backoff with jitter; a 429's ``Retry-After`` is honoured (capped)."""
        if response is not None and response.status_code == 429:
            try:
                return min(self.backoff_max, max(0.0, float(response.headers["retry-after"])))
            except (KeyError, ValueError):
                pass
        base = self.backoff * 2.0**attempt
        return min(self.backoff_max, base * (0.5 + self._rng.random()))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        retry: bool | None = None,
        ok: Sequence[int] = (200,),
    ) -> httpx.Response:
        """One logical request: retried (reads only) and mapped to `GiteaError`."""
        if retry is None:
            retry = method in ("GET", "HEAD")
        headers = {"Authorization": f"token {self._token.reveal()}"} if self._token else {}
        attempts = 1 + (self.retries if retry else 0)
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(attempts):
            last = attempt == attempts - 1
            response: httpx.Response | None = None
            async with self._sem:
                self.requests += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    response = await self._http.request(
                        method, path, params=clean_params, json=json_body, headers=headers
                    )
                except httpx.TimeoutException as exc:
                    if last:
                        raise self._timeout_error(method, path, exc) from None
                except httpx.TransportError as exc:
                    if last:
                        raise self._unreachable_error(method, path, exc) from None
                except httpx.HTTPError as exc:  # undecodable answer, redirect loop: no retry
                    raise GiteaError(
                        None, type(exc).__name__, self._full_url(path), method=method,
                        summary=f"Gitea at {self.host} sent an unusable answer to "
                        f"{self._short(method, path)} ({type(exc).__name__})",
                    ) from None
                finally:
                    self.in_flight -= 1
            if response is not None:
                when = server_date(response)
                if when is not None and (self.server_date is None or when > self.server_date):
                    self.server_date = when
                if response.status_code in ok:
                    return response
                if last or response.status_code not in RETRY_STATUSES:
                    raise self._http_error(method, response)
            await asyncio.sleep(self._delay(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover

    def _short(self, method: str, path_or_url: str) -> str:
        """``GET /repos/o/r/pulls`` — method and API path, no query."""
        path = urlsplit(str(path_or_url)).path
        path = path.split(API_PREFIX, 1)[-1] if API_PREFIX in path else path
        return f"{method} {_clean(path, self._secrets())}"

    def _full_url(self, path: str) -> str:
        return _safe_url(f"{self.base_url}{API_PREFIX}{path}", self._secrets())

    def _timeout_error(self, method: str, path: str, exc: Exception) -> GiteaTimeout:
        what = self._short(method, path)
        return GiteaTimeout(
            None, "timed out", self._full_url(path), method=method,
            summary=f"Gitea at {self.host} did not answer {what} within {self.timeout:g} s",
        )

    def _unreachable_error(self, method: str, path: str, exc: Exception) -> GiteaUnreachable:
        why = _connect_reason(exc) or _clean(str(exc), self._secrets()) or type(exc).__name__
        return GiteaUnreachable(
            None, why, self._full_url(path), method=method,
            summary=f"cannot reach Gitea at {self.host}: {why}",
        )

    def _http_error(self, method: str, response: httpx.Response) -> GiteaHTTPError:
        status = response.status_code
        message = _clean(_gitea_message(response), self._secrets())
        url = _safe_url(response.request.url, self._secrets())
        what = self._short(method, str(response.request.url))
        summary = f"Gitea answered {status} for {what}"
        if _is_html(response):
            summary = (
                f"{self.base_url} is not a Gitea API (got an HTML page, {status}, for "
                f"{what}); is gitea_url the Gitea server's root?"
            )
        elif message:
            summary += f": {message}"
        cls: type[GiteaHTTPError] = GiteaHTTPError
        if status in (401, 403):
            cls = GiteaAuthError
            if status == 401 and self._token is None:
                summary += " — no token configured: " + self.auth_hint
            elif status == 401:
                summary += " — " + self.auth_hint
            else:
                summary += " — the token's account lacks permission for this"
        elif status == 404:
            cls = GiteaNotFound
        return cls(status, message, url, method=method, summary=summary)

    async def _json(self, method: str, path: str, **kw: Any) -> Any:
        return self._decode(method, path, await self._send(method, path, **kw))

    # Gitea's JSON is typed by its API, not checked here: this only names the shape the
    # endpoint documents (a JSON object).
    async def _object(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        return cast("dict[str, Any]", await self._json(method, path, **kw))


    def _decode(self, method: str, path: str, response: httpx.Response) -> Any:
        """The JSON body (None when empty); garbage becomes a `GiteaHTTPError`."""
        if not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            if _is_html(response):
                summary = f"{self.base_url} is not a Gitea API (got an HTML page)"
            else:
                summary = (
                    f"Gitea answered {self._short(method, path)} with something "
                    "that is not JSON"
                )
            raise GiteaHTTPError(
                response.status_code, "not JSON", _safe_url(response.request.url),
                method=method, summary=summary,
            ) from None

    def _repo(self, owner: str, repo: str) -> str:
        return f"/repos/{_seg(owner, 'owner')}/{_seg(repo, 'repo')}"

    # ------------------------------------------------------------ users, server

    async def current_user(self) -> dict[str, Any]:
        """``GET /user``: the token's own account (§6.2 identity)."""
        return await self._object("GET", "/user")

    async def get_user(self, login: str) -> dict[str, Any]:
        """``GET /users/{login}``."""
        return await self._object("GET", f"/users/{_seg(login, 'login')}")

    async def version(self) -> str:
        """``GET /version`` -> e.g. ``"1.26.4"``."""
        data = await self._json("GET", "/version")
        return str((data or {}).get("version", ""))

    async def get_repo(self, owner: str, repo: str) -> dict[str, Any]:
        """``GET /repos/{o}/{r}``."""
        return await self._object("GET", self._repo(owner, repo))

    # ------------------------------------------------------------ branches

    async def get_branch(self, owner: str, repo: str, name: str) -> dict[str, Any]:
        """``GET /repos/{o}/{r}/branches/{name}``; ``commit.id`` is the head sha (§2)."""
        return await self._object(
            "GET", f"{self._repo(owner, repo)}/branches/{_multi(name, 'branch')}"
        )

    async def create_branch(
        self, owner: str, repo: str, new: str, old_ref: str | None = None
    ) -> dict[str, Any]:
        """``POST /repos/{o}/{r}/branches`` (201); 409 if it exists. Never retried."""
        body: dict[str, Any] = {"new_branch_name": new}
        if old_ref:
            body["old_ref_name"] = old_ref
        return await self._object(
            "POST", f"{self._repo(owner, repo)}/branches", json_body=body, ok=(201,)
        )

    async def delete_branch(self, owner: str, repo: str, name: str) -> None:
        """``DELETE /repos/{o}/{r}/branches/{name}`` (204). Never retried."""
        await self._send(
            "DELETE", f"{self._repo(owner, repo)}/branches/{_multi(name, 'branch')}",
            ok=(204, 200),
        )

    # ------------------------------------------------------------ git data, contents

    async def get_tree(
        self, owner: str, repo: str, sha: str, recursive: bool = False,
        page: int = 1, per_page: int = 1000,
    ) -> dict[str, Any]:
        """``GET /repos/{o}/{r}/git/trees/{sha}`` (``sha`` may be a branch name, §1.3)."""
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if recursive:
            params["recursive"] = "true"
        return await self._object(
            "GET", f"{self._repo(owner, repo)}/git/trees/{_seg(sha, 'sha')}", params=params
        )

    async def get_blob(self, owner: str, repo: str, sha: str) -> bytes:
        """``GET /repos/{o}/{r}/git/blobs/{sha}``, base64-decoded.

        Blobs over Gitea's 10 MiB API limit come back without content: a `GiteaError`.
        """
        path = f"{self._repo(owner, repo)}/git/blobs/{_seg(sha, 'sha')}"
        data = await self._json("GET", path)
        content = (data or {}).get("content")
        if content is None:
            raise GiteaError(
                None, "blob too large", self._full_url(path), method="GET",
                summary=f"blob {sha[:12]} is larger than Gitea serves through its API",
            )
        return base64.b64decode(content)

    async def get_contents(
        self, owner: str, repo: str, path: str, ref: str | None = None
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """``GET /repos/{o}/{r}/contents/{path}?ref=``: a file (dict) or a directory (list)."""
        found: dict[str, Any] | list[dict[str, Any]] = await self._json(
            "GET", f"{self._repo(owner, repo)}/contents/{_multi(path, 'path')}",
            params={"ref": ref},
        )
        return found

    async def get_file_contents(
        self, owner: str, repo: str, ref: str | None, paths: Sequence[str]
    ) -> list[dict[str, Any] | None]:
        """Many files at one ref: ``POST /repos/{o}/{r}/file-contents?ref=`` (Gitea 1.24+).

        Body ``{"files": [...]}``; at most 30 paths per request, batches sent
        concurrently; the result lines up with `paths` (None for a missing file). Gitea
        may return fewer files than asked when the response grows large: the rest is
        asked for again. This POST only reads, so it is retried like a GET.
        """
        paths = list(paths)
        batches = [paths[i:i + FILE_CONTENTS_BATCH]
                   for i in range(0, len(paths), FILE_CONTENTS_BATCH)]
        results = await asyncio.gather(
            *(self._file_contents_batch(owner, repo, ref, b) for b in batches)
        )
        return [item for batch in results for item in batch]

    async def _file_contents_batch(
        self, owner: str, repo: str, ref: str | None, paths: list[str]
    ) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        while len(out) < len(paths):
            todo = paths[len(out):]
            got = await self._json(
                "POST", f"{self._repo(owner, repo)}/file-contents", params={"ref": ref},
                json_body={"files": todo}, retry=True,
            )
            if not isinstance(got, list) or not got:
                raise GiteaHTTPError(
                    200, "unexpected answer", self._full_url(f"{self._repo(owner, repo)}"
                                                             "/file-contents"),
                    method="POST", summary="Gitea answered /file-contents with no files",
                )
            out.extend(item if isinstance(item, dict) else None for item in got[: len(todo)])
        return out

    async def change_files(
        self,
        owner: str,
        repo: str,
        files: Sequence[Mapping[str, Any]],
        message: str,
        branch: str = "main",
        new_branch: str | None = None,
        author: Mapping[str, str] | None = None,
        committer: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One commit touching several files: ``POST /repos/{o}/{r}/contents`` (201).

        Each file is Gitea's ``{operation, path, content?, sha?, from_path?}``; `content`
        is base64 text, or bytes which are encoded here. Never retried.
        """
        ops = []
        for f in files:
            op = dict(f)
            if isinstance(op.get("content"), bytes | bytearray):
                op["content"] = base64.b64encode(op["content"]).decode("ascii")
            ops.append(op)
        body: dict[str, Any] = {"files": ops, "message": message, "branch": branch}
        if new_branch:
            body["new_branch"] = new_branch
        if author:
            body["author"] = dict(author)
        if committer:
            body["committer"] = dict(committer)
        return await self._object(
            "POST", f"{self._repo(owner, repo)}/contents", json_body=body, ok=(201, 200)
        )

    # ------------------------------------------------------------ pull requests

    async def list_pulls(
        self, owner: str, repo: str, state: str = "all", sort: str = "recentupdate",
        page: int = 1, limit: int = 50,
    ) -> PullPage:
        """``GET /repos/{o}/{r}/pulls?state=&sort=&page=&limit=`` (state always sent, §3.1).

        `limit` above 50 is clamped by Gitea; `has_next` comes from ``Link: rel="next"``
        (or, without a Link header, from ``X-Total-Count``).
        """
        response = await self._send(
            "GET", f"{self._repo(owner, repo)}/pulls",
            params={"state": state, "sort": sort, "page": page, "limit": limit},
        )
        items = self._decode("GET", f"{self._repo(owner, repo)}/pulls", response) or []
        total = _total(response)
        link = response.headers.get("link")
        if link is not None:
            has_next = "next" in parse_link_header(link)
        else:
            per = min(limit, PULLS_MAX_LIMIT)
            has_next = total is not None and page * per < total and len(items) >= per
        return PullPage(items=list(items), total=total, has_next=has_next)

    async def iter_pulls(
        self, owner: str, repo: str, state: str = "all", sort: str = "recentupdate",
        limit: int = 50,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every pull request, page after page, while Gitea says there is a next page."""
        page = 1
        while True:
            batch = await self.list_pulls(owner, repo, state, sort, page, limit)
            for item in batch.items:
                yield item
            if not batch.has_next or not batch.items:
                return
            page += 1

    async def get_pull(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        """``GET /repos/{o}/{r}/pulls/{number}``."""
        return await self._object("GET", f"{self._repo(owner, repo)}/pulls/{int(number)}")

    async def get_pull_by_head(
        self, owner: str, repo: str, base: str, head: str
    ) -> dict[str, Any]:
        """``GET /repos/{o}/{r}/pulls/{base}/{head}``: the PR for that pair in any state.

        404 (`GiteaNotFound`) when there is none. Branch names keep their ``/``.
        """
        return await self._object(
            "GET",
            f"{self._repo(owner, repo)}/pulls/{_seg(base, 'base')}/{_multi(head, 'head')}",
        )

    async def get_git_refs(self, owner: str, repo: str, prefix: str) -> list[dict[str, Any]]:
        """``GET /repos/{o}/{r}/git/refs/{prefix}``: the refs named ``refs/<prefix>…``.

        Gitea matches by prefix and answers a list (some builds answer one object for
        an exact match: made a list here); 404 (`GiteaNotFound`) when none matches.
        """
        got = await self._json(
            "GET", f"{self._repo(owner, repo)}/git/refs/{_multi(prefix, 'ref')}"
        )
        if isinstance(got, dict):
            return [got]
        return [r for r in (got or []) if isinstance(r, dict)]

    async def create_pull(
        self, owner: str, repo: str, *, head: str, base: str, title: str, body: str = ""
    ) -> dict[str, Any]:
        """``POST /repos/{o}/{r}/pulls`` (201); 409 if an open PR has this head. Not retried."""
        return await self._object(
            "POST", f"{self._repo(owner, repo)}/pulls",
            json_body={"head": head, "base": base, "title": title, "body": body}, ok=(201,),
        )

    async def edit_pull(
        self, owner: str, repo: str, number: int, **fields: Any
    ) -> dict[str, Any]:
        """``PATCH /repos/{o}/{r}/pulls/{number}`` — Gitea answers **201** (§3.5)."""
        return await self._object(
            "PATCH", f"{self._repo(owner, repo)}/pulls/{int(number)}",
            json_body=fields, ok=(201, 200),
        )

    async def merge_pull(
        self, owner: str, repo: str, number: int, do: str = "merge", **fields: Any
    ) -> None:
        """``POST /repos/{o}/{r}/pulls/{number}/merge`` — 200 with an empty body (§3.6)."""
        await self._send(
            "POST", f"{self._repo(owner, repo)}/pulls/{int(number)}/merge",
            json_body={"Do": do, **fields}, ok=(200, 204),
        )

    # ------------------------------------------------------------ issue comments

    async def list_issue_comments(
        self, owner: str, repo: str, index: int
    ) -> list[dict[str, Any]]:
        """``GET /repos/{o}/{r}/issues/{index}/comments``: a PR's thread (a PR is an
        issue with the same index). Gitea pages nothing here: one request, oldest first."""
        got = await self._json("GET", f"{self._repo(owner, repo)}/issues/{int(index)}/comments")
        return [c for c in (got or []) if isinstance(c, dict)]

    async def create_issue_comment(
        self, owner: str, repo: str, index: int, body: str
    ) -> dict[str, Any]:
        """``POST /repos/{o}/{r}/issues/{index}/comments`` (201 ``Comment``). Not retried:
        a lost answer could mean a posted comment (the bot checks before re-posting)."""
        return await self._object(
            "POST", f"{self._repo(owner, repo)}/issues/{int(index)}/comments",
            json_body={"body": body}, ok=(201,),
        )

    async def list_commits(
        self, owner: str, repo: str, sha: str | None = None, path: str | None = None,
        page: int = 1, limit: int = 50, files: bool = False,
    ) -> list[dict[str, Any]]:
        """``GET /repos/{o}/{r}/commits`` with the heavy parts off (stat, verification,
        and files unless `files`: each commit's ``[{filename, status}]``)."""
        commits: list[dict[str, Any]] = await self._json(
            "GET", f"{self._repo(owner, repo)}/commits",
            params={"sha": sha, "path": path, "page": page, "limit": limit,
                    "stat": "false", "verification": "false",
                    "files": "true" if files else "false"},
        )
        return commits
