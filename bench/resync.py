"""Cold ``rfctui --resync`` on real-sized entries: wall time, peak RSS, cache size (issue 13).

Two processes, so that what is measured is the resync alone:

- ``serve``: builds `realsize.build_sandbox(count, prs=…)` (bodies like real RFCs, mean
  14.5 KB) and serves it over HTTP on 127.0.0.1 until killed; writes its URL to a file;
- ``measure``: runs ``<python> -m rfctui --resync`` as a child against that URL with a
  fresh cache directory and reads the CHILD's own peak RSS (its ``VmHWM``, which the
  child reads from ``/proc/self/status`` as it exits: ``os.wait4``'s ``ru_maxrss``
  would also carry this parent's peak into it), its wall time and the cache file's size.
  ``--profile`` runs the child under cProfile and prints the top 20 by own time.
  ``--write`` also writes the table to ``bench/results-resync.md`` (never otherwise).

Usage (the server and the measured tree may differ: pass the other venv's python and
repository root to compare branches)::

    python bench/resync.py serve --count 10000 --prs 300 --url-file /tmp/rs.url &
    python bench/resync.py proxy --upstream-file /tmp/rs.url --url-file /tmp/px.url &
    python bench/resync.py measure --url-file /tmp/px.url --runs 1   # warms the proxy
    python bench/resync.py measure --url-file /tmp/px.url --python /work/venv13/bin/python \
        --root /work/i13 --runs 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-resync.md"


def serve(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(HERE))
    from realsize import build_sandbox  # noqa: PLC0415

    world = build_sandbox(args.count, prs=args.prs, history=False,
                          progress=lambda m: print(m, file=sys.stderr, flush=True))
    sizes = world.sizes
    print(f"entries {len(sizes)}, mean {sum(sizes) / max(1, len(sizes)) / 1000:.1f} KB",
          file=sys.stderr, flush=True)
    with world.sb.serve() as url:
        Path(args.url_file).write_text(url)
        print(f"serving {url}", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)


def proxy(args: argparse.Namespace) -> int:
    """A caching HTTP proxy in front of the sandbox: the first request of each kind is
    forwarded and recorded, every repeat is answered from memory. The sandbox computes
    ``last_commit_sha`` per file in pure Python (about 100 s for 10,000 entries on 2
    cores), which would otherwise dominate what is measured: the client's own work.
    ``--latency-ms`` delays every answer (cached or not), so a resync and the serial
    baseline (``bench/baseline.py --url``) can be compared at 20 ms without the sandbox's
    CPU in either (issue 13's ratio on 1,000 entries)."""
    import http.server  # noqa: PLC0415
    import threading  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    upstream = Path(args.upstream_file).read_text().strip().rstrip("/")
    store: dict[tuple[str, str, bytes], tuple[int, list[tuple[str, str]], bytes]] = {}
    lock = threading.Lock()
    local = threading.local()
    keep = {"content-type", "x-total-count", "link", "date", "x-hasmore"}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes: without TCP_NODELAY, Nagle
        # holds the body until the client's delayed ACK (40 ms) on a kept-alive
        # connection, and every answer costs 40 ms more (measured: 65 ms a request
        # at --latency-ms 20).
        disable_nagle_algorithm = True

        def log_message(self, *a: object) -> None:
            pass

        def _any(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            key = (self.command, self.path, body)
            with lock:
                hit = store.get(key)
            if hit is None:
                client = getattr(local, "client", None)
                if client is None:
                    client = local.client = httpx.Client(timeout=600)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("authorization", "content-type", "accept")}
                r = client.request(self.command, upstream + self.path, content=body,
                                   headers=hdrs)
                hit = (r.status_code, [(k, v) for k, v in r.headers.items()
                                       if k.lower() in keep], r.content)
                if self.command == "GET" or self.path.split("?")[0].endswith("/file-contents"):
                    with lock:
                        store[key] = hit
            status, headers, data = hit
            if args.latency_ms:  # per request, like Faults.latency_ms (threads: concurrent)
                time.sleep(args.latency_ms / 1000)
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    Path(args.url_file).write_text(url)
    print(f"proxy {url} -> {upstream}", file=sys.stderr, flush=True)
    server.serve_forever()
    return 0


# The child: ``rfctui --resync`` without the history backfill that follows it (issue 11's
# time-in-state walk, one request per entry: not the resync's cost, and ~10,000 requests
# that would swamp it); `--with-history` keeps it.
CHILD = """
import atexit, os, runpy, sys
def _hwm():  # the child's own peak RSS, for the parent (see the module docstring)
    with open("/proc/self/status") as f:
        kb = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
    with open(os.environ["BENCH_HWM_FILE"], "w") as f:
        f.write(str(kb))
if os.path.exists("/proc/self/status") and os.environ.get("BENCH_HWM_FILE"):
    atexit.register(_hwm)
from rfctui.session import Session
async def _no_backfill(self, *args, **kwargs):
    return None
if "--with-history" not in sys.argv:
    Session.backfill_history = _no_backfill
sys.argv = ["rfctui", "--resync"]
"""
RUN = """
runpy.run_module("rfctui", run_name="__main__", alter_sys=True)
"""
PROFILE = """
import cProfile, pstats
prof = cProfile.Profile()
writer_profiles = []
try:  # the resync's writer thread (parse + SQLite, rfctui.db.stream) has its own profile
    from rfctui.db import stream as _stream
    _work = _stream.TxnStream._work
    def _profiled(self):
        p = cProfile.Profile()
        writer_profiles.append(p)
        p.runcall(_work, self)
    _stream.TxnStream._work = _profiled
except ImportError:  # a tree without it (main): everything runs on the event loop
    pass
try:
    prof.runcall(runpy.run_module, "rfctui", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
st = pstats.Stats(prof, stream=sys.stderr)
for p in writer_profiles:
    st.add(p)
print(f"-- both threads, {len(writer_profiles)} writer profile(s) added --", file=sys.stderr)
st.sort_stats("tottime").print_stats(20)
if writer_profiles:
    print("-- the writer thread alone, cumulative --", file=sys.stderr)
    pstats.Stats(writer_profiles[0], stream=sys.stderr).sort_stats("cumulative").print_stats(15)
"""


def measure_once(
    args: argparse.Namespace, url: str, profile: bool
) -> tuple[float, int, int, float, str]:
    with tempfile.TemporaryDirectory(prefix="rfctui-resync-") as tmp:
        t = Path(tmp)
        config = t / "config.toml"
        config.write_text("")
        config.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")}
        env.update(RFCTUI_GITEA_URL=url, RFCTUI_ORG="rfcs", RFCTUI_META_REPO="meta",
                   RFCTUI_BOT_USER="rfc-bot", RFCTUI_BOT_TOKEN="bot-token",
                   RFCTUI_USER_TOKEN="ada-token", RFCTUI_CONFIG=str(config),
                   RFCTUI_CACHE_DIR=str(t / "cache"), RFCTUI_DATA_DIR=str(t / "data"),
                   BENCH_HWM_FILE=str(t / "hwm"))
        code = CHILD + (PROFILE if profile else RUN)
        argv = [args.python, "-c", code] + (["--with-history"] if args.with_history else [])
        t0 = time.perf_counter()
        child = subprocess.Popen(argv, env=env, cwd=args.root, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE if not profile else None)
        out = child.stdout.read() if child.stdout else b""
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
        if child.stderr is not None:
            err = child.stderr.read()
            if status != 0:
                sys.stderr.write(err.decode(errors="replace")[-3000:])
        if status != 0:
            raise SystemExit(f"resync failed ({status}): {out.decode(errors='replace')[-500:]}")
        size = sum(p.stat().st_size for p in (t / "cache").rglob("*") if p.is_file())
        cpu = usage.ru_utime + usage.ru_stime
        hwm = t / "hwm"
        rss = int(hwm.read_text()) * 1024 if hwm.exists() else usage.ru_maxrss * 1024
        said = out.decode(errors="replace").strip()
        print(said, file=sys.stderr, flush=True)
        return wall, rss, size, cpu, said


def measure(args: argparse.Namespace) -> int:
    url = Path(args.url_file).read_text().strip()
    if args.profile:
        measure_once(args, url, profile=True)
        return 0
    lines = ["| run | wall s | CPU s | peak RSS MB | cache MB | load avg | rfctui said |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    print("\n".join(lines))
    for i in range(args.runs):
        wall, rss, size, cpu, said = measure_once(args, url, profile=False)
        lines.append(f"| {i + 1} | {wall:.2f} | {cpu:.2f} | {rss / 1e6:.0f} | "
                     f"{size / 1e6:.0f} | {os.getloadavg()[0]:.1f} | "
                     f"{said.splitlines()[-1] if said else ''} |")
        print(lines[-1], flush=True)
    if args.write:
        RESULTS.write_text(
            f"# bench/resync.py results\n\nCold `rfctui --resync` (the child, history "
            f"backfill {'included' if args.with_history else 'off'}), tree {args.root}, "
            f"server: a `realsize` sandbox behind the caching proxy, "
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} CPUs, "
            f"0 ms latency. Peak RSS: the child's own VmHWM.\n\n" + "\n".join(lines) + "\n",
            encoding="utf-8")
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--count", type=int, default=10_000)
    s.add_argument("--prs", type=int, default=300)
    s.add_argument("--url-file", required=True)
    x = sub.add_parser("proxy")
    x.add_argument("--upstream-file", required=True)
    x.add_argument("--url-file", required=True)
    x.add_argument("--latency-ms", type=int, default=0,
                   help="delay every answer by this much (the 20 ms of bench/sweep.py)")
    m = sub.add_parser("measure")
    m.add_argument("--url-file", required=True)
    m.add_argument("--python", default=sys.executable)
    m.add_argument("--root", default=str(HERE.parent))
    m.add_argument("--runs", type=int, default=3)
    m.add_argument("--profile", action="store_true")
    m.add_argument("--write", action="store_true", help=f"also write {RESULTS.name}")
    m.add_argument("--with-history", action="store_true",
                   help="also run the history backfill rfctui --resync runs after it")
    args = p.parse_args()
    return {"serve": serve, "proxy": proxy, "measure": measure}[args.cmd](args)


if __name__ == "__main__":
    raise SystemExit(main())
