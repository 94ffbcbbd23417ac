"""The UI at 10,000 real-sized entries (issue 13): memory, filter keystrokes, detail body.

    python bench/ui_scale.py                       # this tree, and main's side by side
    python bench/ui_scale.py --before /work/main --before-python /work/venv/bin/python
    python bench/ui_scale.py --no-before --runs 1  # only this tree
    python bench/ui_scale.py --write               # also bench/results-ui-scale.md

Each tree runs the UI headless (``App.run_test`` at 160×50, started as ``rfctui`` starts
it: ``startup.begin`` then ``RfcApp(..., first_screen=...)``, sync off) in its own child
process, over a cache of 10,000 entries from bench/realsize.py (file sizes like real RFC
texts: median 9.4 KB, p90 31 KB, max 172 KB). The entries are generated once and kept
in ``--data`` (a JSON file of cache rows, reused across runs); each tree writes its own
cache from them with its own ``rfctui.db`` (main's cache is schema 3, with a stored
lower-cased copy; this tree's is schema 4), also kept and reused.

What each child prints:

* **peak RSS** — ``VmHWM`` of the child (``/proc/self/status``) after the whole list and
  its filter index are in and 20 filter keystrokes were typed.
* **filter keystroke** — typing `TYPED` one key at a time (one- and two-letter queries
  over the bodies first, then longer words, a field, a miss, backspaces): from
  ``pilot.press`` until the refresh after the list got that query's rows
  (``RfcList.set_items`` then ``call_after_refresh``). Median and p90 of the 20.
* **detail first screenful** — the cursor moved (``RfcList.select_slug``) to the entry
  with the median, p90 and largest body: until the refresh after the detail pane shows
  that entry's markdown blocks (its first ones; includes the detail's 20 ms debounce and
  the cache read).
* **key while a 172 KB body renders** — right after the largest body's first blocks
  show, ``down`` is pressed on the list (``App.simulate_key``): until the refresh after
  the cursor moved. And the longest stall of the event loop (a 5 ms timer's largest
  gap) during the 1.5 s after the largest entry was selected.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
# 20 keys: 1- and 2-letter queries over bodies, a word, a field, a miss, backspaces.
TYPED = ["r", "e", "t", "r", "y", "space", "s", "t", "a", "t", "e", ":", "i", "d", "e", "a",
         "space", "q", "backspace", "backspace"]
RESULTS = ROOT / "bench" / "results-ui-scale.md"

BUILD = r"""
import json, sys
from datetime import datetime
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from rfctui import rows as R
from rfctui.db import open_cache
data = json.loads(Path(sys.argv[1]).read_text())
def dt(v):
    return datetime.fromisoformat(v) if isinstance(v, str) else v
from rfctui.config import Config
cfg = Config(gitea_url="http://gitea.invalid", cache_dir=Path(sys.argv[2]))
cache = open_cache(cfg.cache_file)
rfcs = []
for r in data["rfcs"]:
    r = dict(r)
    for k in ("proposed_at", "state_since", "last_entry_commit_at", "updated_at",
              "graduated_at"):
        r[k] = dt(r[k])
    if R.SCHEMA_VERSION < 4:
        r["search_text"] = R.search_text(r["slug"], r["title"], r["body"])
    rfcs.append(r)
prs = []
for p in data["prs"]:
    p = dict(p)
    for k in ("opened_at", "updated_at"):
        p[k] = dt(p[k])
    prs.append(p)
with cache.write():
    cache.upsert_rfcs(rfcs)
    cache.upsert_prs(prs)
    cache.set_state({"synced_at": data["now"], "last_kind": "full", "last_ok": "1"})
cache.close()
print("BUILT", len(rfcs))
"""

CHILD = r"""
import asyncio, statistics, sys, time
cache_dir = sys.argv[1]; typed = sys.argv[2].split(","); slugs = sys.argv[3].split(",")
from pathlib import Path

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

async def settled(app):
    from textual.worker import WorkerCancelled
    for _ in range(20):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:  # a body's chunks, cancelled by a cursor move
            await asyncio.sleep(0.01)

async def main():
    from rfctui import startup
    from rfctui.config import Config
    cfg = Config(gitea_url="http://gitea.invalid", cache_dir=Path(cache_dir),
                 quick_interval=0, full_interval=0)
    first = startup.begin(cfg)
    from rfctui.app import RfcApp
    from rfctui.widgets.rfc_list import RfcList
    painted = []
    orig_set = RfcList.set_items
    def set_items(self, items, **kw):
        orig_set(self, items, **kw)
        q = self.screen.query_text if hasattr(self.screen, "query_text") else None
        self.call_after_refresh(lambda: painted.append((time.perf_counter(), q)))
    RfcList.set_items = set_items
    app = RfcApp(cfg, sync=False, first_screen=first)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        while len(screen.items) < 10000:
            await pilot.pause(0.05)
        await settled(app)
        await pilot.pause(0.5)
        await settled(app)
        await pilot.pause()
        print(f"ITEMS {len(screen.items)}")
        print(f"RSS_LOADED {hwm():.1f}")
        await pilot.press("slash")
        await pilot.pause()
        box = screen.query_one("#filter")
        times = []
        for key in typed:
            painted.clear()
            t = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            for _ in range(200):
                if any(q == box.value for _t, q in painted):
                    break
                await asyncio.sleep(0.002)
            stamp = next(s for s, q in painted if q == box.value)
            times.append(stamp - t)
        print(f"KEYS {' '.join(f'{x:.6f}' for x in times)}")
        print(f"SHOWN {screen.query_one('StatusLine').shown} for {box.value!r}")
        print(f"RSS_TYPED {hwm():.1f}")
        box.value = ""
        await pilot.pause()
        await settled(app)
        await pilot.pause()
        rfc_list = screen.query_one(RfcList)
        rfc_list.focus()
        await pilot.pause()
        from textual.widgets import Markdown
        detail = screen.query_one("#detail")

        old_blocks = set()

        def shows(slug):
            # The entry's first blocks are mounted (none of the last entry's are left).
            item = detail.item
            if item is None or item.slug != slug:
                return False
            md = detail.query(Markdown)
            if not md:
                return False
            blocks = [c for c in md.first().children if c.is_mounted]
            return bool(blocks) and not any(id(c) in old_blocks for c in blocks)

        async def first_screenful(slug):
            done = asyncio.Event()
            md = detail.query(Markdown)
            old_blocks.clear()
            old_blocks.update(id(c) for c in (md.first().children if md else ()))
            t = time.perf_counter()
            rfc_list.select_slug(slug)
            stamp = []
            while not shows(slug):
                await asyncio.sleep(0.001)
            app.call_after_refresh(lambda: (stamp.append(time.perf_counter()), done.set()))
            await done.wait()
            return stamp[0] - t

        firsts = {}
        for name, slug in zip(("median", "p90", "largest"), slugs):
            got = []
            for _ in range(3):
                rfc_list.select_slug(slugs[3])  # a small entry in between
                await pilot.pause(0.3)
                await settled(app)
                await pilot.pause()
                got.append(await first_screenful(slug))
                await pilot.pause(0.3)
                await settled(app)
                await pilot.pause()
            firsts[name] = statistics.median(got)
        print("FIRST " + " ".join(f"{n}={v:.6f}" for n, v in firsts.items()))

        # A key while the largest body renders.
        keys, stalls = [], []
        for _ in range(3):
            rfc_list.select_slug(slugs[3])
            await pilot.pause(0.3)
            await settled(app)
            await pilot.pause()
            gaps = []
            last = [time.perf_counter()]
            def tick():
                now = time.perf_counter(); gaps.append(now - last[0]); last[0] = now
            timer = app.set_interval(0.005, tick)
            await first_screenful(slugs[2])
            before = rfc_list.cursor
            t = time.perf_counter()
            app.simulate_key("down")
            while rfc_list.cursor == before:
                await asyncio.sleep(0.001)
            done = asyncio.Event(); stamp = []
            app.call_after_refresh(lambda: (stamp.append(time.perf_counter()), done.set()))
            await done.wait()
            keys.append(stamp[0] - t)
            # Back on the largest entry, and let it render while the timer watches.
            rfc_list.select_slug(slugs[2])
            await asyncio.sleep(1.5)
            timer.stop()
            stalls.append(max(gaps))
            await settled(app)
            await pilot.pause()
        print(f"KEYWHILE {statistics.median(keys):.6f}")
        print(f"STALL {statistics.median(stalls):.6f}")
        print(f"RSS_END {hwm():.1f}")

asyncio.run(main())
"""


def make_data(path: Path, count: int) -> list[str]:
    """Generate the entries (bench/realsize.py) as cache rows; returns the probe slugs."""
    sys.path.insert(0, str(ROOT / "bench"))
    import realsize

    entries = realsize.generate(count)
    rfcs, prs = [], []
    for e in entries:
        m = e.meta
        at = m.get("proposed_at") or NOW
        rfcs.append({
            "slug": e.slug, "title": m.get("title") or e.slug, "state": m.get("state"),
            "rfc_id": m.get("id"), "owners": m.get("owners") or [],
            "arbiters": m.get("arbiters") or [], "tags": m.get("tags") or [],
            "proposed_by": m.get("proposed_by"), "proposed_at": at.isoformat(),
            "removed": False, "state_since": at.isoformat(), "html_url": None,
            "path": e.path, "repo": m.get("repo"),
            "graduated_at": m["graduated_at"].isoformat() if m.get("graduated_at") else None,
            "graduated_by": m.get("graduated_by"), "extra": {},
            "body_sha": f"{e.index:040x}", "last_entry_commit_at": at.isoformat(),
            "last_commit_sha": None, "updated_at": NOW.isoformat(), "body": e.body,
        })
    for n, e in enumerate(entries[::50], start=1):
        prs.append({
            "repo": "rfcs/meta", "pr_number": n, "rfc_slug": e.slug,
            "pr_kind": "meta_body_edit", "title": f"Edit {e.slug}",
            "description": "Why.\n\nOn-behalf-of: U <ada>", "state": "open",
            "opened_by": "ada", "user_login": "rfc-bot", "opened_at": NOW.isoformat(),
            "merged_at": None, "closed_at": None, "updated_at": NOW.isoformat(),
            "head_branch": f"edit/{e.slug}/1", "base_branch": "main", "head_sha": None,
            "html_url": f"http://gitea.invalid/rfcs/meta/pulls/{n}",
        })
    by_size = sorted(entries, key=lambda e: len(e.body))
    n = len(by_size)
    probes = [by_size[n // 2].slug, by_size[int(n * 0.9)].slug, by_size[-1].slug,
              by_size[n // 10].slug]
    sizes = [len(by_size[n // 2].body), len(by_size[int(n * 0.9)].body),
             len(by_size[-1].body)]
    path.write_text(json.dumps({"rfcs": rfcs, "prs": prs, "now": NOW.isoformat(),
                                "probes": probes, "sizes": sizes}))
    return probes


def run(python: str, tree: Path, code: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_ANIMATIONS")}
    env["PYTHONPATH"] = str(tree)
    out = subprocess.run([python, "-c", code, *args], cwd=tree, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"child failed in {tree}:\n{out.stderr[-3000:]}")
    return out.stdout


def field(out: str, name: str) -> str:
    for line in out.splitlines():
        if line.startswith(name + " "):
            return line[len(name) + 1:]
    raise SystemExit(f"no {name} in:\n{out}")


def measure(python: str, tree: Path, data: Path, work: Path, label: str,
            probes: list[str], runs: int) -> dict[str, float]:
    cache_dir = work / f"cache-{label}"
    if not (cache_dir / "done").exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        run(python, tree, BUILD, str(data), str(cache_dir), str(tree))
        (cache_dir / "done").write_text("ok")
    results: list[dict[str, float]] = []
    for _ in range(runs):
        out = run(python, tree, CHILD, str(cache_dir), ",".join(TYPED), ",".join(probes))
        keys = sorted(float(x) for x in field(out, "KEYS").split())
        first = dict(kv.split("=") for kv in field(out, "FIRST").split())
        results.append({
            "rss_loaded": float(field(out, "RSS_LOADED")),
            "rss": float(field(out, "RSS_TYPED")),
            "key_median": statistics.median(keys) * 1000,
            "key_p90": keys[int(len(keys) * 0.9) - 1] * 1000,
            "key_max": keys[-1] * 1000,
            "first_median": float(first["median"]) * 1000,
            "first_p90": float(first["p90"]) * 1000,
            "first_largest": float(first["largest"]) * 1000,
            "key_while": float(field(out, "KEYWHILE")) * 1000,
            "stall": float(field(out, "STALL")) * 1000,
        })
        print(f"  {label}: {field(out, 'SHOWN')}", file=sys.stderr)
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


ROWS = [
    ("rss_loaded", "peak RSS, whole list + filter index (MB)", "—"),
    ("rss", "peak RSS, + 20 filter keystrokes (MB)", "≤ 250 (goal 150)"),
    ("key_median", "filter keystroke, median (ms)", "≤ 25 (goal 16)"),
    ("key_p90", "filter keystroke, p90 (ms)", "—"),
    ("key_max", "filter keystroke, max (ms)", "—"),
    ("first_median", "detail first screenful, median entry (ms)", "—"),
    ("first_p90", "detail first screenful, p90 entry (ms)", "≤ 150"),
    ("first_largest", "detail first screenful, largest entry (ms)", "≤ 300"),
    ("key_while", "a key while the largest body renders (ms)", "≤ 50"),
    ("stall", "longest event-loop stall, largest body (ms)", "—"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path,
                    default=Path(tempfile.gettempdir()) / "rfctui-ui-scale")
    ap.add_argument("--before", type=Path, default=Path("/work/main"))
    ap.add_argument("--before-python", default="/work/venv/bin/python")
    ap.add_argument("--no-before", action="store_true")
    ap.add_argument("--no-after", action="store_true")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    args = ap.parse_args()
    work = args.data / str(args.entries)
    work.mkdir(parents=True, exist_ok=True)
    data = work / "rows.json"
    if data.exists():
        probes = json.loads(data.read_text())["probes"]
    else:
        probes = make_data(data, args.entries)
    sizes = json.loads(data.read_text())["sizes"]
    cols: dict[str, dict[str, float]] = {}
    if not args.no_before:
        cols["main"] = measure(args.before_python, args.before, data, work, "before",
                               probes, args.runs)
    if not args.no_after:
        cols["this tree"] = measure(sys.executable, ROOT, data, work, "after", probes,
                                    args.runs)
    head = f"| {args.entries:,} real-sized entries, median of {args.runs} | " + " | ".join(
        cols) + " | target |"
    lines = [
        f"Body sizes probed: median {sizes[0]:,} B, p90 {sizes[1]:,} B, largest {sizes[2]:,} B.",
        "", head, "|---|" + "---|" * (len(cols) + 1)]
    for key, name, target in ROWS:
        lines.append(f"| {name} | " + " | ".join(f"{c[key]:.1f}" for c in cols.values())
                     + f" | {target} |")
    text = "\n".join(lines)
    print(text)
    if args.write:
        RESULTS.write_text("# bench/ui_scale.py\n\n`python bench/ui_scale.py`\n\n"
                           + text + "\n")


if __name__ == "__main__":
    main()
