"""The UI's start-up read (rfctui.startup; SPEC §7.1, §4.2; issue 4).

The fast path reads the first screen with plain sqlite3 before Textual and peewee are
imported; it must show exactly what the long way (``open_cache`` + ``Cache``) shows,
and leave every file that is not plainly a cache of this version to the long way, which
repairs it and says so; deeper damage is caught by ``open_cache`` right after.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_db import _foreign_sqlite, _garbage, _truncated, _wrong_version
from ui_fixtures import BASE_URL, build_cache_dir, fixed_clock

import rfctui
from rfctui import startup
from rfctui.db import open_cache
from rfctui.rows import LIFECYCLE_STATES

ROOT = Path(rfctui.__file__).resolve().parent.parent


@pytest.mark.parametrize("rows", [3, 60])
def test_fast_path_shows_what_the_long_way_shows(tmp_path: Path, rows: int) -> None:
    cfg, _sb = build_cache_dir(tmp_path)
    fast = startup.read_first_screen(cfg, clock=fixed_clock, rows=rows)
    assert fast.cache is None and fast.notice is None  # no open_cache on the way
    cache = open_cache(cfg.cache_file, clock=fixed_clock)
    try:
        slow = startup.read_first_screen(cfg, clock=fixed_clock, cache=cache, rows=rows)
        assert fast.head == slow.head
        assert (fast.item, fast.detail, fast.pulls) == (slow.item, slow.detail, slow.pulls)
        # ... and the first screen is the head of the whole list, in the pane's order.
        everything = cache.list_items(now=fixed_clock())
        assert fast.head.items and all(i in everything for i in fast.head.items)
        assert fast.head.complete == (len(fast.head.items) == len(everything))
        assert fast.detail is not None or fast.item.kind == "pending"
    finally:
        cache.close()


def test_fast_path_needs_neither_peewee_nor_textual(tmp_path: Path) -> None:
    cfg, _sb = build_cache_dir(tmp_path)
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from rfctui.config import Config\n"
        "from rfctui.startup import read_first_screen\n"
        f"cfg = Config(gitea_url={BASE_URL!r}, cache_dir=Path({str(tmp_path)!r}))\n"
        "first = read_first_screen(cfg)\n"
        "print(json.dumps([len(first.head.items), first.cache is None,"
        " sorted(m for m in sys.modules if m.split('.')[0] in ('peewee', 'textual'))]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    shown, fast, imported = json.loads(out.stdout)
    assert shown > 0 and fast and imported == []


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_garbage, "file is not a database"),
        (_wrong_version, "schema version"),
        (_foreign_sqlite, "not an rfctui file"),
    ],
    ids=["garbage", "wrong-version", "foreign-sqlite"],
)
def test_files_that_are_not_our_cache_go_the_long_way(tmp_path: Path, spoil, reason: str) -> None:
    cfg, _sb = build_cache_dir(tmp_path)
    path = _fresh(cfg)
    spoil(path)
    before = path.read_bytes()
    first = startup.read_first_screen(cfg, clock=fixed_clock)
    try:
        assert first.cache is not None  # opened (and repaired) by open_cache
        assert first.notice and reason in first.notice and "moved aside" in first.notice
        assert first.head.items == [] and first.head.complete
        [aside] = path.parent.glob(path.name + ".corrupt-*")
        assert aside.read_bytes() == before  # kept, byte for byte
    finally:
        first.cache.close()


def _fresh(cfg: Any) -> Path:
    """The config's cache path with nothing there (no -wal/-shm either)."""
    path = Path(cfg.cache_file)
    for f in path.parent.glob(path.name + "*"):
        f.unlink()
    return path


def freelist_lies(path: Path) -> None:
    """Damage only the header's freelist count: every read works, quick_check fails."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with path.open("r+b") as f:
        f.seek(36)
        f.write(struct.pack(">I", 7))


def test_a_file_that_reads_but_fails_quick_check_is_caught_right_after(
    tmp_path: Path,
) -> None:
    """quick_check reads the whole file (seconds on a cold disk), so the first screen
    does not wait for it: open_cache runs it next, and moves the file aside."""
    cfg, _sb = build_cache_dir(tmp_path)
    path = Path(cfg.cache_file)
    freelist_lies(path)
    before = path.read_bytes()
    first = startup.read_first_screen(cfg, clock=fixed_clock)
    assert first.cache is None and first.head.items  # the first screen, at once
    cache = open_cache(path, clock=fixed_clock)  # what the app does right after
    try:
        assert cache.notice and "quick_check failed" in cache.notice
        assert "moved aside" in cache.notice and cache.list_items() == []
        [aside] = path.parent.glob(path.name + ".corrupt-*")
        assert aside.read_bytes() == before
    finally:
        cache.close()


def test_a_truncated_file_never_shows_as_a_cache(tmp_path: Path) -> None:
    """Cut in half: either a read fails up front (the long way), or the check right
    after the first screen does; either way it ends moved aside with a notice."""
    cfg, _sb = build_cache_dir(tmp_path)
    path = _fresh(cfg)
    _truncated(path)
    first = startup.read_first_screen(cfg, clock=fixed_clock)
    cache = first.cache or open_cache(path, clock=fixed_clock)
    try:
        notice = first.notice or cache.notice
        assert notice and "moved aside" in notice
        assert cache.list_items() == []
    finally:
        cache.close()


def test_no_cache_yet_is_created_the_long_way(tmp_path: Path) -> None:
    cfg, _sb = build_cache_dir(tmp_path)
    _fresh(cfg)
    first = startup.read_first_screen(cfg, clock=fixed_clock)
    try:
        assert first.cache is not None and first.notice is None
        assert first.head.items == [] and first.item is None
        assert Path(cfg.cache_file).is_file()
    finally:
        first.cache.close()


def test_the_first_screen_is_read_in_lifecycle_order(tmp_path: Path) -> None:
    cfg, _sb = build_cache_dir(tmp_path)
    first = startup.read_first_screen(cfg, clock=fixed_clock, rows=500)
    kinds = [i.kind for i in first.head.items]
    # Pending ideas (the triage queue) first, then entries group by group.
    assert kinds == sorted(kinds, key=lambda k: k != "pending")
    states = [i.state for i in first.head.items if i.kind == "rfc"]
    order = {s: n for n, s in enumerate(LIFECYCLE_STATES)}
    ranks = [order.get(s, len(order)) for s in states]
    assert ranks == sorted(ranks)


def test_begin_holds_the_collector_until_end(tmp_path: Path) -> None:
    cfg, _sb = build_cache_dir(tmp_path)
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        future = startup.begin(cfg)
        assert not gc.isenabled()
        assert future.result(timeout=30).head.items
        startup.end()
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        startup.end()  # idempotent: nothing left to do
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_group_sizes_come_from_the_index_not_the_table(tmp_path: Path) -> None:
    """The first screen never scans the entries' pages (bodies): 10,000 entries are
    tens of megabytes, their index a few hundred kilobytes (bench/startup.py)."""
    cfg, _sb = build_cache_dir(tmp_path)
    conn = sqlite3.connect(cfg.cache_file)
    try:
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT state, removed, COUNT(*),"
                " MAX(length(slug)) FROM cached_rfc GROUP BY state, removed"
            )
        )
        assert "COVERING INDEX" in plan, plan
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT slug FROM cached_rfc WHERE state = 'idea'"
                " ORDER BY slug LIMIT 60"
            )
        )
        assert "USING" in plan and "INDEX" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        conn.close()


FIRST_PAINT_CHILD = """
import json, sys
from pathlib import Path
from rfctui import startup
from rfctui.config import Config
cfg = Config(gitea_url=sys.argv[1], cache_dir=Path(sys.argv[2]),
             quick_interval=0, full_interval=0)
first = startup.begin(cfg)  # as `rfctui` starts (cli._ui)
from rfctui.app import RfcApp
from rfctui.screens.main import MainScreen

HEAVY = ("peewee", "rfctui.db", "markdown_it", "textual.widgets._markdown",
         "textual.widgets._data_table", "rfctui.screens.forms", "rfctui.bot", "httpx")

def painted(self):
    loaded = sorted(m for m in sys.modules if m in HEAVY)
    print(json.dumps([loaded, len(self.query_one("RfcList").rows)]), flush=True)
    self._painted.set()  # as the real one does: the load worker goes on, and ends
    self.app.exit()

MainScreen._first_paint_done = painted
RfcApp(cfg, sync=False, first_screen=first).run(headless=True, size=(120, 40))
"""


def test_nothing_heavy_is_imported_before_the_first_paint(tmp_path: Path) -> None:
    """The first paint waits for none of these (issue 4: within 1.5× a bare app): the
    cache's peewee layer, the Markdown parser, the forms, the bot, the HTTP client."""
    cfg, _sb = build_cache_dir(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT_CHILD, BASE_URL, str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    loaded, rows = json.loads(out.stdout.strip().splitlines()[-1])
    assert rows > 0 and loaded == []
