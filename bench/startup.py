"""Startup, filter latency and memory of the UI at 10,000 cached entries (issue 4).

    python bench/startup.py            # 10,000 real-sized entries, 11 runs each
    python bench/startup.py --entries 2000 --runs 3
    python bench/startup.py --small    # the old small synthetic entries (~1.5 KB bodies)
    python bench/startup.py --write    # also write bench/results-startup.md

The cached entries are real-sized by default (``bench/realsize.py``: slugs, front matter
and bodies of the BASELINES §9 size distribution, mean 14.5 KB a file; generating
10,000 takes ~25 s); ``--small`` keeps the old synthetic ones (5 words a slug, 300-word
bodies) for comparison with earlier figures.

What it measures, side by side in one run:

* **first paint** — wall time from spawning a fresh Python process until the first
  screen refresh that shows the data has completed, measured the same way for both apps:
  - *bare*: a Textual app with one ``Label``; done at the first refresh after ``on_ready``
    (``call_after_refresh``);
  - *rfctui*: started as ``rfctui`` starts it (``cli._ui``): ``startup.begin(config)``
    (which starts the first screen's read on a thread and holds the cyclic GC until the
    first paint), then ``import rfctui.app`` and ``RfcApp(..., first_screen=...)`` over
    the 10k-entry cache with sync off; done at the first refresh after which the
    screen shows, together, the list's rows under their group headers, the status line
    read from the cache and the detail of the highlighted (first) row (checked after
    each ``RfcList.set_items``, ``DetailPane.show`` and ``StatusLine.render_status``,
    then ``call_after_refresh``). It includes importing rfctui and reading the cache
    (its full ``quick_check`` runs right after the paint, see rfctui/startup.py). The
    app paints the first screen from ``Reader.list_head`` and
    reads the whole list after that paint; so that this cannot pass off a partial
    screen, the child keeps running until the whole list is in and checks that the
    rows on screen (keys and header counts), the status line and the detail are exactly
    what the first paint showed — a mismatch fails the bench. Not required: the
    "Needs you" section (its own worker fills it after the list; left out of the
    comparison), the
    footer's keys (Textual's ``Footer`` is empty in its first frame anyway; rfctui
    fills it right after this paint) and the body's markdown blocks (Textual's
    ``Markdown`` mounts them a frame later in any case; rfctui creates the widget
    once the first frame is out).
  Both run ``app.run(headless=True)`` (the compositor renders; only the terminal write is
  skipped) at 160×50 and exit right after. The parent stamps ``time.monotonic()``
  (CLOCK_MONOTONIC, shared by processes) before spawning; the child reports the
  stamp at paint. Median of ``--runs`` alternating runs, after one warm-up run of each.
  The children run from compiled bytecode, as an installed package does: without
  ``PYTHONDONTWRITEBYTECODE`` and with ``PYTHONPYCACHEPREFIX`` in the run's temporary
  directory (the warm-up writes it; the source tree is not touched). Textual ships its
  ``.pyc`` files; rfctui's source would otherwise be compiled on every start (~20 ms).
  The same rfctui run is repeated with the cache file *cold*: its pages dropped from
  the OS page cache (``posix_fadvise(DONTNEED)``) first, as after a night or a reboot;
  Python's own files stay warm, for both apps alike.
* **filter keystroke** — in ``run_test`` (started as ``rfctui`` starts, see above) with
  the 10k list loaded and the filter box focused, typing ``state:idea owner:u07 a`` one
  key at a time with ``pilot.press``:
  the time from sending the key until the compositor finished the refresh that follows
  the filter handler (``call_after_refresh`` from the handler): median of 22. Pilot's
  ``press`` + ``pause`` wall time is shown too; it includes Pilot's wait for CPU idle,
  which the same loop on a bare ``Input`` app measures on its own. Also the synchronous
  filter handler alone (parse + filter 10k + rebuild rows).
* **peak RSS** — each child's own peak, ``VmHWM`` read by the child from
  ``/proc/self/status`` as it exits (an ``atexit`` hook). Not ``os.wait4``'s
  ``ru_maxrss``: Linux carries the parent's high-water mark into a spawned child
  (``exec`` keeps the larger of the old and the new address space's peak), and the
  parent here has just built the 10k cache, so that figure was the parent's, not the
  app's. ``wait4``'s figure is used only where ``/proc`` is missing.

The 10k cache is written straight through rfctui.db's write API (a bench, not the app).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYCACHE = ""  # PYTHONPYCACHEPREFIX of the children (set in main: a temporary directory)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TYPED = "state:idea owner:ada a"  # realsize logins; --small: SMALL_TYPED
SMALL_TYPED = "state:idea owner:u07 a"
WORDS = (
    "cache config logging tracing deploy build release schema api gateway auth token "
    "storage queue retry backoff metrics alerts review ownership catalog docs feature "
    "flags rollout canary database replica migration python rust typed async budget"
).split()
STATES = ("idea", "graduated", "parked", "declined", "superseded", "withdrawn", "draft")


def build_cache(path: Path, n: int, *, small: bool = False) -> None:
    """Write ``n`` entries, n/30 pending ideas and some open edit/claim/metadata PRs."""
    sys.path.insert(0, str(ROOT))
    from rfctui.db import open_cache

    rnd = random.Random(4)
    cache = open_cache(path, clock=lambda: NOW)
    rfcs = [] if small else _real_rows(n, rnd)
    for i in range(n if small else 0):
        words = rnd.sample(WORDS, 5)
        slug = f"{words[0]}-{words[1]}-{i:05d}"
        title = " ".join(words).capitalize() + (" [draft]" if i % 97 == 0 else "")
        body = ("## Why\n\n" + " ".join(rnd.choices(WORDS, k=150)) + "\n") * 2
        state = STATES[min(int(rnd.expovariate(0.8)), len(STATES) - 1)]
        at = NOW - timedelta(days=rnd.randint(1, 900))
        owners = [f"u{rnd.randint(0, 80):02d}" for _ in range(rnd.randint(0, 2))]
        rfcs.append(
            {
                "slug": slug,
                "title": title,
                "state": state,
                "rfc_id": i if state == "graduated" else None,
                "owners": owners,
                "arbiters": [f"u{rnd.randint(0, 80):02d}"],
                "tags": rnd.sample(WORDS, 2),
                "proposed_by": f"u{rnd.randint(0, 80):02d}",
                "proposed_at": at,
                "removed": i % 500 == 0,
                "state_since": at,
                "html_url": None,
                "path": f"rfcs/{slug}.md",
                "repo": None,
                "graduated_at": None,
                "graduated_by": None,
                "extra": {},
                "body_sha": f"{i:040x}",
                "last_entry_commit_at": at,
                "last_commit_sha": None,
                "updated_at": NOW,
                "search_text": f"{slug}\n{title}\n{body}".lower(),
                "body": body,
            }
        )
    _write(cache, rfcs, rnd, n)


def _real_rows(n: int, rnd: random.Random) -> list[dict[str, object]]:
    """Cache rows of ``n`` real-sized entries (`realsize.generate`), the columns as the
    reconciler writes them (`attribution.rfc_row`); ``search_text`` is kept for trees
    whose schema still stores it (a tree without the column ignores the key)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from realsize import generate

    from rfctui.db import search_text

    rows: list[dict[str, object]] = []
    for i, e in enumerate(generate(n)):
        m = e.meta
        at = NOW - timedelta(days=rnd.randint(1, 900))
        extra = {k: v for k, v in m.items() if k == "discussion" or k == "superseded_by"}
        rows.append({
            "slug": e.slug, "title": m["title"], "state": m["state"], "rfc_id": m["id"],
            "owners": list(m["owners"]), "arbiters": list(m["arbiters"]),
            "tags": list(m["tags"]), "proposed_by": m["proposed_by"],
            "proposed_at": m["proposed_at"], "removed": i % 500 == 0, "state_since": at,
            "html_url": None, "path": e.path, "repo": m["repo"],
            "graduated_at": m.get("graduated_at"), "graduated_by": m.get("graduated_by"),
            "extra": extra, "body_sha": f"{i:040x}", "last_entry_commit_at": at,
            "last_commit_sha": None, "updated_at": NOW,
            "search_text": search_text(e.slug, m["title"], e.body), "body": e.body,
        })
    return rows


def _write(cache: Any, rfcs: list[dict[str, object]], rnd: random.Random, n: int) -> None:
    prs = []
    number = 1
    for i in range(0, n, 30):
        slug = f"pending-idea-{i:05d}"
        prs.append(_pr(number, slug, "idea", f"propose/{slug}", rnd))
        number += 1
    for i in range(0, n, 7):
        slug = str(rfcs[i]["slug"])
        for kind, head in (("meta_body_edit", f"edit/{slug}/1"), ("meta_claim", f"claim/{slug}")):
            prs.append(_pr(number, slug, kind, head, rnd))
            number += 1
    with cache.write():
        cache.upsert_rfcs(rfcs)
        cache.upsert_prs(prs)
        cache.set_state(
            {
                "synced_at": NOW.isoformat().replace("+00:00", "Z"),
                "last_kind": "full",
                "last_ok": "1",
            }
        )
    cache.close()


def _pr(number: int, slug: str, kind: str, head: str, rnd: random.Random) -> dict[str, object]:
    at = NOW - timedelta(days=rnd.randint(1, 60))
    return {
        "repo": "rfcs/meta",
        "pr_number": number,
        "rfc_slug": slug,
        "pr_kind": kind,
        "title": f"Proposal {slug}",
        "description": "Why.\n\nOn-behalf-of: U <u01>",
        "state": "open",
        "opened_by": f"u{rnd.randint(0, 80):02d}",
        "user_login": "rfc-bot",
        "opened_at": at,
        "merged_at": None,
        "closed_at": None,
        "updated_at": at,
        "head_branch": head,
        "base_branch": "main",
        "head_sha": None,
        "html_url": f"http://gitea.invalid/rfcs/meta/pulls/{number}",
    }


# ------------------------------------------------------------------ child processes

CHILD_BARE = """
import sys, time
t0 = float(sys.argv[1])
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("hello")
    def on_ready(self):
        self.call_after_refresh(self.done)
    def done(self):
        print(f"PAINT {time.monotonic() - t0:.6f}", flush=True)
        self.exit()
Bare().run(headless=True, size=(160, 50))
"""

CHILD_RFCTUI = """
import sys, time
t0 = float(sys.argv[1]); cache_dir = sys.argv[2]
from pathlib import Path
from rfctui.config import Config
from rfctui import startup
# As `rfctui` does (cli._ui): the first screen's read starts before Textual is imported.
cfg = Config(gitea_url="http://gitea.invalid", cache_dir=Path(cache_dir),
             state_dir=Path(cache_dir) / "state", quick_interval=0, full_interval=0)
first = startup.begin(cfg)
from rfctui.app import RfcApp
from rfctui.screens.main import MainScreen
from rfctui.widgets.detail import DetailPane
from rfctui.widgets.rfc_list import RfcList
from rfctui.widgets.status import StatusLine
seen = {}

def first_screen(screen):
    # The list's rows (group headers and items), the status line read from the cache
    # and the detail of the highlighted (first) row: all on screen together.
    lst = screen.query_one(RfcList)
    item = lst.highlighted_item
    return bool(lst.rows) and screen.query_one(StatusLine).loaded and item is not None \\
        and screen.query_one(DetailPane).item == item

def shown(screen):
    lst = screen.query_one(RfcList)
    height = lst.scrollable_content_region.height
    # The "Needs you" section is computed after the list, by its own worker: not part
    # of the first screen, and it may or may not be in by the time the list is.
    rows = [(r.key, r.count) for r in lst.rows if r.key[0] not in ("queue", "queue-note")
            and r.key != ("group", "queue")][:height]
    return rows, str(screen.query_one(StatusLine).render()), screen.query_one(DetailPane).item

def check(widget):
    screen = widget.screen
    if not seen and isinstance(screen, MainScreen) and first_screen(screen):
        seen["pending"] = True
        screen.call_after_refresh(painted, screen)

def painted(screen):
    print(f"PAINT {time.monotonic() - t0:.6f}", flush=True)
    seen["first"] = shown(screen)
    screen.set_interval(0.01, lambda: verify(screen))

def verify(screen):
    # Once the whole list is in: the first paint showed exactly what it shows now.
    if not screen._loaded_once or getattr(screen, "_partial", False) or seen.get("done"):
        return
    seen["done"] = True
    ok = shown(screen) == seen["first"]
    print("CHECK " + ("ok" if ok else f"mismatch {seen['first']!r} != {shown(screen)!r}"),
          flush=True)
    screen.app.exit()

def after(cls, name):
    orig = getattr(cls, name)
    def wrapper(self, *args, **kw):
        result = orig(self, *args, **kw)
        check(self)
        return result
    setattr(cls, name, wrapper)

after(RfcList, "set_items")
after(DetailPane, "show")
after(StatusLine, "render_status")
orig_mount = MainScreen.on_mount
def on_mount(self):
    orig_mount(self)
    self.call_after_refresh(
        lambda: print(f"SHELL {time.monotonic() - t0:.6f}", flush=True)
    )
MainScreen.on_mount = on_mount
RfcApp(cfg, sync=False, first_screen=first).run(headless=True, size=(160, 50))
"""

CHILD_PHASES = """
import sys, time
cache_dir = sys.argv[1]
from pathlib import Path
t = time.perf_counter()
import textual.app
t_textual = time.perf_counter() - t
t = time.perf_counter()
import rfctui.app
t_rfctui = time.perf_counter() - t
from rfctui.config import Config
from rfctui.filtering import index_texts
from rfctui.startup import read_first_screen
from rfctui.widgets.rfc_list import build_rows
cfg = Config(gitea_url="http://gitea.invalid", cache_dir=Path(cache_dir),
             state_dir=Path(cache_dir) / "state")
marks = {"import textual.app": t_textual, "import rfctui.app (beyond textual)": t_rfctui}
t = time.perf_counter(); first = read_first_screen(cfg)
assert first.cache is None  # the fast path
marks["first screen: header checks + list_head + detail (its own thread)"] = (
    time.perf_counter() - t)
t = time.perf_counter()
from rfctui.db import open_cache
cache = open_cache(cfg.cache_file)
marks["after the paint: import rfctui.db + open_cache (incl. quick_check)"] = (
    time.perf_counter() - t)
t = time.perf_counter(); items = cache.list_items()
marks["after the paint: cache.list_items()"] = time.perf_counter() - t
t = time.perf_counter(); cache.sync_status()
marks["after the paint: cache.sync_status()"] = time.perf_counter() - t
t = time.perf_counter(); index_texts(items)
marks["after the paint: filter index"] = time.perf_counter() - t
t = time.perf_counter(); build_rows(items, set())
marks["after the paint: build display rows (10k)"] = time.perf_counter() - t
for k, v in marks.items():
    print(f"PHASE {v:.6f} {k}")
"""

CHILD_KEYS = """
import asyncio, statistics, sys, time
mode = sys.argv[1]; cache_dir = sys.argv[2]; typed = sys.argv[3]
from pathlib import Path

async def rfctui():
    from rfctui import startup
    from rfctui.config import Config
    cfg = Config(gitea_url="http://gitea.invalid", cache_dir=Path(cache_dir),
                 # The filter typed here is remembered: never in the paint runs' state.
                 state_dir=Path(cache_dir) / "state-keys",
                 quick_interval=0, full_interval=0)
    first = startup.begin(cfg)  # as `rfctui` starts (cli._ui)
    from rfctui.app import RfcApp
    from rfctui.screens.main import MainScreen
    painted = []
    orig = MainScreen._apply_filter
    def apply_filter(self, **kw):
        orig(self, **kw)
        self.call_after_refresh(lambda: painted.append(time.perf_counter()))
    MainScreen._apply_filter = apply_filter
    app = RfcApp(cfg, sync=False, first_screen=first)
    async with app.run_test(size=(160, 50)) as pilot:
        while not app.screen.items:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        print(f"ITEMS {len(app.screen.items)}")
        await pilot.press("slash")
        await pilot.pause()
        times, to_paint = [], []
        for ch in typed:
            painted.clear()
            t = time.perf_counter()
            await pilot.press(ch)
            await pilot.pause()
            times.append(time.perf_counter() - t)
            to_paint.append(painted[0] - t)
        print(f"KEYS {' '.join(f'{x:.6f}' for x in times)}")
        print(f"PAINTED {' '.join(f'{x:.6f}' for x in to_paint)}")
        print(f"SHOWN {app.screen.query_one('StatusLine').shown}")
        screen = app.screen
        sync_times = []
        for i in range(1, len(typed) + 1):
            screen.query_text = typed[:i]
            t = time.perf_counter()
            orig(screen)
            sync_times.append(time.perf_counter() - t)
        print(f"SYNC {' '.join(f'{x:.6f}' for x in sync_times)}")

async def bare():
    from textual.app import App
    from textual.widgets import Input
    class Bare(App):
        def compose(self):
            yield Input()
    app = Bare()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        times = []
        for ch in typed:
            t = time.perf_counter()
            await pilot.press(ch)
            await pilot.pause()
            times.append(time.perf_counter() - t)
        print(f"KEYS {' '.join(f'{x:.6f}' for x in times)}")

asyncio.run(rfctui() if mode == "rfctui" else bare())
"""


# Prepended to every child: its own peak RSS, printed as it exits (see the docstring:
# wait4's ru_maxrss would include this parent's, which holds the data it just built).
HWM = """
import atexit as _atexit, os as _os
def _hwm():
    try:
        with open("/proc/self/status") as f:
            kb = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return
    _os.write(1, f"\\nHWM {kb}\\n".encode())
_atexit.register(_hwm)
"""


def spawn(code: str, *args: str) -> tuple[str, float]:
    """Run ``code`` in a fresh interpreter: (its stdout, its own peak RSS in MB)."""
    env = dict(os.environ)
    for var in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_ANIMATIONS", "PYTHONDONTWRITEBYTECODE"):
        env.pop(var, None)
    env["PYTHONPATH"] = str(ROOT)
    # Compiled bytecode, as an installed package has: both apps start from .pyc files
    # (written to a private directory on the warm-up run, never into the source tree).
    if PYCACHE:
        env["PYTHONPYCACHEPREFIX"] = PYCACHE
    r, w = os.pipe()
    t0 = time.monotonic()
    argv = [sys.executable, "-c", HWM + code, *(a.replace("{t0}", repr(t0)) for a in args)]
    pid = os.posix_spawn(
        sys.executable,
        argv,
        env,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, w, 1),
            (os.POSIX_SPAWN_CLOSE, r),
            (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0),
        ],
    )
    os.close(w)
    chunks = []
    while data := os.read(r, 65536):
        chunks.append(data)
    os.close(r)
    _pid, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {code[:60]}…")
    out = b"".join(chunks).decode()
    hwm = [line for line in out.splitlines() if line.startswith("HWM ")]
    if hwm:
        return out, int(hwm[-1].split()[1]) / 1024
    return out, usage.ru_maxrss / 1024  # no /proc: includes the parent's peak


def evict(path: Path) -> bool:
    """Drop the cache file's pages from the OS page cache (no root needed); False where
    the OS cannot."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for name in (path, path.with_name(path.name + "-wal")):
        if name.exists():
            fd = os.open(name, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def field(out: str, name: str) -> list[float]:
    for line in out.splitlines():
        if line.startswith(name + " "):
            return [float(x) for x in line.split()[1:]]
    raise SystemExit(f"no {name} in child output:\n{out}")


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--small", action="store_true",
                    help="the old small synthetic entries instead of real-sized ones")
    ap.add_argument("--write", action="store_true",
                    help="also write bench/results-startup.md (never written otherwise)")
    args = ap.parse_args()
    typed = SMALL_TYPED if args.small else TYPED

    global PYCACHE
    with tempfile.TemporaryDirectory(prefix="rfctui-bench-") as tmp:
        cache_dir = Path(tmp)
        PYCACHE = str(cache_dir / "pycache")
        from rfctui.config import Config

        cfg = Config(gitea_url="http://gitea.invalid", cache_dir=cache_dir)
        t = time.perf_counter()
        build_cache(cfg.cache_file, args.entries, small=args.small)
        built = time.perf_counter() - t
        cache_mb = sum(p.stat().st_size for p in cache_dir.glob("*") if p.is_file()) / 1e6
        print(f"cache with {args.entries:,} {'small' if args.small else 'real-sized'} "
              f"entries built in {built:.1f} s ({cache_mb:.0f} MB)", file=sys.stderr)

        bare, rfc, shell, bare_rss, rfc_rss, cold = [], [], [], [], [], []
        spawn(CHILD_BARE, "{t0}")  # warm-up: writes the bytecode of both apps
        spawn(CHILD_RFCTUI, "{t0}", str(cache_dir))
        for _ in range(args.runs):
            out, rss = spawn(CHILD_BARE, "{t0}")
            bare.append(field(out, "PAINT")[0])
            bare_rss.append(rss)
            out, rss = spawn(CHILD_RFCTUI, "{t0}", str(cache_dir))
            rfc.append(field(out, "PAINT")[0])
            if "CHECK ok" not in out:
                raise SystemExit(f"the first paint differs from the loaded list:\n{out}")
            shell.append(field(out, "SHELL")[0])
            rfc_rss.append(rss)
            if evict(cfg.cache_file):  # the first start of the day: the file is on disk only
                out, _rss = spawn(CHILD_RFCTUI, "{t0}", str(cache_dir))
                if "CHECK ok" not in out:
                    raise SystemExit(f"the first paint differs from the loaded list:\n{out}")
                cold.append(field(out, "PAINT")[0])

        out, keys_rss = spawn(CHILD_KEYS, "rfctui", str(cache_dir), typed)
        keys = field(out, "KEYS")
        painted = field(out, "PAINTED")
        sync = field(out, "SYNC")
        shown = field(out, "SHOWN")[0] if "SHOWN None" not in out else float("nan")
        out_b, bare_keys_rss = spawn(CHILD_KEYS, "bare", str(cache_dir), typed)
        phase_runs = [spawn(CHILD_PHASES, str(cache_dir))[0] for _ in range(3)]
        bare_keys = field(out_b, "KEYS")

    ratio = med(rfc) / med(bare)
    rows = [
        (
            "first paint, bare Textual app (1 Label)",
            f"{med(bare) * 1000:.0f} ms [{min(bare) * 1000:.0f}–{max(bare) * 1000:.0f}]",
            "",
        ),
        (
            "rfctui: first paint of the screen (list still loading)",
            f"{med(shell) * 1000:.0f} ms [{min(shell) * 1000:.0f}–{max(shell) * 1000:.0f}]",
            f"{med(shell) / med(bare):.2f}× bare",
        ),
        (
            f"first paint, rfctui with {args.entries:,} cached entries",
            f"{med(rfc) * 1000:.0f} ms [{min(rfc) * 1000:.0f}–{max(rfc) * 1000:.0f}]",
            f"{ratio:.2f}× bare (target ≤ 1.5×) {'✅' if ratio <= 1.5 else '❌'}",
        ),
        *(
            [(
                "same, the cache file cold (evicted from the page cache before each run)",
                f"{med(cold) * 1000:.0f} ms [{min(cold) * 1000:.0f}–{max(cold) * 1000:.0f}]",
                f"{med(cold) / med(bare):.2f}× bare",
            )]
            if cold
            else []
        ),
        (
            f"filter keystroke at 10k: key sent → list repainted (median of {len(painted)})",
            f"{med(painted) * 1000:.1f} ms [{min(painted) * 1000:.1f}–{max(painted) * 1000:.1f}]",
            f"target ≤ 50 ms {'✅' if med(painted) <= 0.05 else '❌'}",
        ),
        (
            "same, until Pilot reports idle (includes its CPU-idle wait)",
            f"{med(keys) * 1000:.1f} ms",
            "",
        ),
        (
            "Pilot press → idle on a bare Input (Pilot's own cost)",
            f"{med(bare_keys) * 1000:.1f} ms",
            "",
        ),
        (
            "filter handler alone (parse, filter 10k, rebuild rows)",
            f"{med(sync) * 1000:.1f} ms [{min(sync) * 1000:.1f}–{max(sync) * 1000:.1f}]",
            f"final query shows {shown:.0f} items",
        ),
        (
            "peak RSS, rfctui first paint",
            f"{max(rfc_rss):.0f} MB",
            f"target ≤ 250 MB {'✅' if max(rfc_rss) <= 250 else '❌'}",
        ),
        ("peak RSS, rfctui after 22 filter keystrokes", f"{keys_rss:.0f} MB", ""),
        ("peak RSS, bare app", f"{max(bare_rss):.0f} MB", ""),
    ]
    table = ["| measure | value | note |", "| --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    phases: dict[str, list[float]] = {}
    for out in phase_runs:
        for line in out.splitlines():
            if line.startswith("PHASE "):
                _tag, secs, name = line.split(" ", 2)
                phases.setdefault(name, []).append(float(secs))
    table += [
        "",
        "Where rfctui's first paint goes (each phase alone, in a fresh process, median of 3):",
        "",
        "| phase | ms |",
        "| --- | --- |",
    ]
    table += [f"| {name} | {med(v) * 1000:.0f} |" for name, v in phases.items()]
    text = "\n".join(table)
    py = sys.version.split()[0]
    load = os.getloadavg()[0]
    data = ("small synthetic entries (`--small`)" if args.small else
            "real-sized entries (bench/realsize.py, mean 14.5 KB a file)")
    flags = " --small" if args.small else ""
    head = (f"`python bench/startup.py --entries {args.entries} --runs {args.runs}{flags}` — "
            f"{data}, cache file {cache_mb:.0f} MB, Python {py}, {os.cpu_count()} CPUs, "
            f"{datetime.now(UTC):%Y-%m-%d}, load average {load:.1f} at the end. "
            "Peak RSS is each child's own VmHWM (since 2026-12-07; earlier figures were "
            "wait4's ru_maxrss, which includes this parent's peak).")
    print(head + "\n\n" + text)
    if args.write:
        (ROOT / "bench" / "results-startup.md").write_text(
            "# bench/startup.py results\n\n" + head + " "
            "Method: see the script's docstring. Since 2026-11-29 first paint requires the first "
            "row's detail too and is checked against the fully loaded list, and both apps run "
            "from bytecode; by this method the app before `Cache.list_head` (the parent of "
            "0dbdcb9) painted in 516 ms (3.37× a 153 ms bare app), and before `rfctui.startup` "
            "(the parent of 6caf568) in 533 ms (1.85× a 287 ms bare app, 2026-12-02).\n\n"
            + text + "\n"
        )
        print("wrote bench/results-startup.md", file=sys.stderr)

if __name__ == "__main__":
    main()
