"""The sweep rfctui replaced, implemented faithfully as the benchmark baseline (issue 3).

The old design used plain, synchronous httpx and, on *every* sweep:

1. listed ``rfcs/`` with ``GET contents/rfcs`` (the directory listing),
2. read every file one request at a time (``GET contents/rfcs/<f>?ref=main``, base64),
3. listed *all* open pull requests, then *all* closed ones (``limit=50``, page by page).

That is ``N + 1 + open pages + closed pages`` requests in series, growing with the
repository's history whatever changed. It builds the same kind of in-memory view the
cache holds so that the work done is comparable, and counts its requests.

Run on its own against any Gitea (or ``rfctui.sandbox``)::

    python bench/baseline.py --url http://127.0.0.1:3000 --org rfcs --repo meta
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

API_PREFIX = "/api/v1"


def api_root(base_url: str) -> str:
    """``base_url`` with the ``/api/v1`` prefix exactly once (callers pass either form)."""
    root = base_url.rstrip("/")
    return root if root.endswith(API_PREFIX) else root + API_PREFIX


@dataclass
class BaselineResult:
    """What one old-style sweep cost and what it saw."""

    requests: int
    seconds: float
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _parse(path: str, data: bytes) -> dict[str, Any] | None:
    """Parse an entry the way the cache does, so both sides do the same CPU work."""
    try:
        from rfctui.entry import parse_entry
    except ImportError:  # entry.py not there yet: front matter only
        import frontmatter

        post = frontmatter.loads(data.decode("utf-8"))
        return {"slug": post.get("slug"), "title": post.get("title"), "body": post.content}
    try:
        entry = parse_entry(path, data)
    except ValueError:
        return None
    return {"slug": entry.slug, "title": entry.title, "state": entry.state, "body": entry.body}


def baseline_sweep(
    base_url: str,
    owner: str,
    repo: str,
    token: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
    progress: Callable[[str], None] | None = None,
) -> BaselineResult:
    """One sweep of the old design: every entry and every PR, sequentially."""
    count = 0

    def on_request(_request: httpx.Request) -> None:
        nonlocal count
        count += 1

    headers = {"Authorization": f"token {token}"} if token else {}
    result = BaselineResult(requests=0, seconds=0.0)
    started = time.perf_counter()
    with httpx.Client(
        base_url=api_root(base_url),
        headers=headers,
        timeout=timeout,
        transport=transport,
        event_hooks={"request": [on_request]},
    ) as client:
        listing = client.get(f"/repos/{owner}/{repo}/contents/rfcs", params={"ref": "main"})
        listing.raise_for_status()
        files = [f for f in listing.json() if f["type"] == "file" and f["name"].endswith(".md")]
        for i, item in enumerate(files, 1):
            resp = client.get(
                f"/repos/{owner}/{repo}/contents/rfcs/{item['name']}", params={"ref": "main"}
            )
            resp.raise_for_status()
            body = resp.json()
            data = base64.b64decode(body["content"] or "")
            parsed = _parse(body["path"], data)
            if parsed is None:
                result.skipped.append(body["path"])
            else:
                parsed["body_sha"] = body["sha"]
                result.entries[item["name"][: -len(".md")]] = parsed
            if progress and i % 500 == 0:
                progress(f"baseline: {i}/{len(files)} entries read")
        for state in ("open", "closed"):
            page = 1
            while True:
                resp = client.get(
                    f"/repos/{owner}/{repo}/pulls",
                    params={"state": state, "page": page, "limit": 50},
                )
                resp.raise_for_status()
                items = resp.json()
                for pr in items:
                    result.pulls[pr["number"]] = {
                        "title": pr["title"],
                        "state": "merged" if pr.get("merged") else pr["state"],
                        "head_branch": pr["head"]["ref"],
                        "user": pr["user"]["login"],
                    }
                if 'rel="next"' not in resp.headers.get("link", "") or not items:
                    break
                page += 1
    result.requests = count
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Gitea base URL")
    parser.add_argument("--org", default="rfcs")
    parser.add_argument("--repo", default="meta")
    parser.add_argument("--token", default=None, help="API token (default: anonymous)")
    args = parser.parse_args(argv)
    res = baseline_sweep(args.url, args.org, args.repo, args.token, progress=print)
    print(
        f"baseline: {len(res.entries)} entries, {len(res.pulls)} pulls, "
        f"{res.requests} requests, {res.seconds:.2f} s, {len(res.skipped)} skipped",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
