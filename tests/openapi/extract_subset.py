"""Regenerate ``gitea-subset.json`` from Gitea's full OpenAPI (swagger 2.0) document.

How the vendored subset was made (see NOTICE.md for source and licence)::

    python tests/openapi/extract_subset.py /work/shared/gitea/swagger.v1.json

It copies the definitions the sandbox returns (ROOTS) plus every definition they
reference through ``$ref: #/definitions/X``, transitively, byte-for-byte as Gitea
publishes them. Nothing is edited here: the test (tests/test_sandbox_openapi.py) applies
its few, documented relaxations at load time so the vendored file stays verbatim.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

#: Response bodies the rfcs sandbox serves (issue #2's endpoint list).
ROOTS = (
    "APIError",
    "Branch",
    "Comment",
    "Commit",
    "ContentsResponse",
    "FileDeleteResponse",
    "FileResponse",
    "FilesResponse",
    "GitBlobResponse",
    "GitTreeResponse",
    "PullRequest",
    "Repository",
    "ServerVersion",
    "User",
)

HERE = Path(__file__).resolve().parent


def _refs(node: Any, found: set[str]) -> None:
    """Collect the definition names referenced anywhere below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def extract(swagger: dict[str, Any], roots: tuple[str, ...] = ROOTS) -> dict[str, Any]:
    """Return a swagger-shaped document holding ``roots`` and their $ref closure."""
    definitions = swagger["definitions"]
    todo, seen = list(roots), set[str]()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs(definitions[name], found)
        todo.extend(found - seen)
    return {
        "swagger": swagger.get("swagger", "2.0"),
        "info": {
            "title": swagger["info"].get("title", "Gitea API"),
            "version": swagger["info"].get("version", ""),
            "x-subset-of": "go-gitea/gitea templates/swagger/v1_json.tmpl @ 298d73cde6",
            "x-roots": list(roots),
        },
        "definitions": {name: definitions[name] for name in sorted(seen)},
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1] if len(argv) > 1 else "/work/shared/gitea/swagger.v1.json")
    subset = extract(json.loads(source.read_text(encoding="utf-8")))
    out = HERE / "gitea-subset.json"
    out.write_text(json.dumps(subset, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(subset['definitions'])} definitions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
