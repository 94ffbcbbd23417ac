"""A running sweep and ``rfctui --resync`` on the same cache at once (SPEC §4.2; issue 3).

Several processes may open the cache together (a running UI and a headless resync):
neither may fail with "database is locked", and afterwards the cache is consistent.
The sweep runs in a thread of this process; the resync is the real CLI in a subprocess.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
from conftest import idea_entry as entry

from rfctui.config import load_config
from rfctui.db import open_cache
from rfctui.gitea import GiteaClient
from rfctui.reconcile import Reconciler
from rfctui.sandbox import Sandbox

OWNER, REPO, BOT, BOT_TOKEN = "rfcs", "meta", "rfc-bot", "bot-token"


def seed(sb: Sandbox, n: int, n_prs: int) -> None:
    sb.commit_files("main", {f"rfcs/c{i:04d}.md": entry(f"c{i:04d}", f"Entry {i}")
                             for i in range(n)}, "seed", author=("Ada", "ada@x"))
    with httpx.Client(transport=sb.transport, base_url="http://sandbox.local/api/v1",
                      headers={"Authorization": f"token {BOT_TOKEN}"}) as api:
        for i in range(n_prs):
            branch = f"claim/c{i:04d}"
            sb.commit_files(branch, {f"rfcs/c{i:04d}.md": entry(f"c{i:04d}", f"Claimed {i}")},
                            "claim")
            api.post(f"/repos/{OWNER}/{REPO}/pulls", json={
                "head": branch, "base": "main", "title": f"Claim {i}",
                "body": "Mine.\n\nOn-behalf-of: Grace Hopper <grace>"}).raise_for_status()


def cli_env(tmp: Path, base_url: str) -> dict[str, str]:
    config = tmp / "config.toml"
    config.write_text("")
    config.chmod(0o600)
    return dict(
        os.environ,
        RFCTUI_GITEA_URL=base_url,
        RFCTUI_ORG=OWNER,
        RFCTUI_META_REPO=REPO,
        RFCTUI_BOT_USER=BOT,
        RFCTUI_BOT_TOKEN=BOT_TOKEN,
        RFCTUI_CONFIG=str(config),
        RFCTUI_CACHE_DIR=str(tmp / "cache"),
        RFCTUI_DATA_DIR=str(tmp / "data"),
    )


def test_sweep_and_cli_resync_share_the_cache(tmp_path: Path) -> None:
    sb = Sandbox()
    seed(sb, 400, 30)
    with sb.serve() as base_url:
        sb.faults.latency_ms = 1  # keep sweeps long enough to overlap
        env = cli_env(tmp_path, base_url)
        path = load_config(environ=env).cache_file
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        stop = threading.Event()
        results: list[Any] = []
        errors: list[BaseException] = []

        def sweeper() -> None:
            async def loop() -> None:
                n = 0
                while not stop.is_set():
                    cache = open_cache(path)
                    try:
                        async with GiteaClient(base_url, BOT_TOKEN) as client:
                            rec = Reconciler(client, cache, OWNER, REPO, BOT)
                            kind = ("resync", "full_sweep", "quick_sweep")[n % 3]
                            results.append(await getattr(rec, kind)())
                    finally:
                        cache.close()
                    n += 1
                    if n % 2:  # something for the next sweep to write
                        sb.commit_files("main", {f"rfcs/c{n % 50:04d}.md":
                                                 entry(f"c{n % 50:04d}", f"Round {n}")},
                                        f"round {n}")

            try:
                asyncio.run(loop())
            except BaseException as exc:  # reported below, with the CLI's outcome
                errors.append(exc)

        thread = threading.Thread(target=sweeper)
        thread.start()
        runs = []
        overlapped = 0
        try:
            while len(results) < 1 and thread.is_alive():  # the sweeper is under way
                threading.Event().wait(0.01)
            for _ in range(3):
                before = len(results)
                runs.append(subprocess.run(
                    [sys.executable, "-m", "rfctui", "--resync"], env=env,
                    capture_output=True, text=True, timeout=120))
                overlapped += len(results) > before
        finally:
            stop.set()
            thread.join(120)
        assert not errors, errors
        assert overlapped == 3, "a CLI resync ran while no sweep finished: no overlap"
        for run in runs:
            assert "locked" not in run.stderr + run.stdout, run.stderr
            assert run.returncode == 0, run.stderr
        assert results and all(r.ok for r in results), [r.error for r in results if not r.ok]
        assert not any("locked" in (r.error or "") for r in results)

        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        cache = open_cache(path)
        try:
            assert not getattr(cache, "notice", None)

            async def final() -> Any:
                async with GiteaClient(base_url, BOT_TOKEN) as client:
                    return await Reconciler(client, cache, OWNER, REPO, BOT).full_sweep()

            assert asyncio.run(final()).ok
            export = cache.export()
            live = {r["slug"]: r for r in export["rfcs"] if not r["removed"]}
            assert len(live) == 400
            main_tree = sb.git.commit(sb.git.branches["main"]).tree
            files = sb.git.flatten(main_tree)
            for slug, row in live.items():
                assert row["body_sha"] == files[f"rfcs/{slug}.md"], slug
            assert len(export["pulls"]) == 30
        finally:
            cache.close()
