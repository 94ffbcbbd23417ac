"""Is the sandbox itself ever the bottleneck? (issue 2, "Done when")

Serves a sandbox over real HTTP on 127.0.0.1 with added latency per request
(``Faults(latency_ms=20)``) and times N GETs sent one after another, then the same N
GETs at a fixed concurrency. With 20 ms and N = 100 the sequential run cannot beat
100 x 20 ms = 2 s, and a concurrent run is "ideal" at N / concurrency x 20 ms = 0.2 s;
anything close to that ideal means the server overlaps requests (threads, keep-alive,
no Nagle delay, a deep listen backlog) instead of serialising them.

    python bench/sandbox_latency.py [--latency-ms 20] [--requests 100] [--concurrency 10]

Prints a table; asserts nothing (timing belongs in benchmarks, not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass

import httpx

from rfctui.sandbox import Faults, Sandbox

PATH = "/api/v1/repos/rfcs/meta/branches/main"
HEADERS = {"Authorization": "token bot-token"}


@dataclass
class Row:
    mode: str
    requests: int
    seconds: float
    ideal: float

    def cells(self) -> list[str]:
        rate = self.requests / self.seconds if self.seconds else float("inf")
        return [self.mode, str(self.requests), f"{self.seconds:.3f}", f"{rate:.1f}",
                f"{self.ideal:.3f}", f"{self.seconds / self.ideal:.2f}x"]


def run_sequential(base_url: str, n: int) -> float:
    """N GETs, each waiting for the previous answer, over one keep-alive connection."""
    with httpx.Client(base_url=base_url, headers=HEADERS) as client:
        client.get(PATH).raise_for_status()  # warm-up: connect outside the timing
        start = time.perf_counter()
        for _ in range(n):
            client.get(PATH).raise_for_status()
        return time.perf_counter() - start


async def _concurrent(base_url: str, n: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS, limits=limits) as client:

        async def one() -> None:
            async with gate:
                (await client.get(PATH)).raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - start


def run_concurrent(base_url: str, n: int, concurrency: int) -> float:
    """N GETs with at most ``concurrency`` in flight (new connections included)."""
    return asyncio.run(_concurrent(base_url, n, concurrency))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args(argv)
    n, conc, delay = args.requests, args.concurrency, args.latency_ms / 1000.0

    sb = Sandbox(faults=Faults(latency_ms=args.latency_ms))
    rows: list[Row] = []
    with sb.serve() as base_url:
        served = sb.requests_served
        rows.append(Row("sequential", n, run_sequential(base_url, n), n * delay))
        rows.append(Row(f"concurrent x{conc}", n, run_concurrent(base_url, n, conc),
                        -(-n // conc) * delay))
        served = sb.requests_served - served

    header = ["mode", "requests", "wall s", "req/s", "ideal s", "vs ideal"]
    table = [header, *(r.cells() for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"sandbox over HTTP on 127.0.0.1, latency {args.latency_ms:g} ms per request, "
          f"GET {PATH}")
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(w) if j == 0 else cell.rjust(w)
                        for j, (cell, w) in enumerate(zip(row, widths, strict=True))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"requests served by the sandbox: {served} (incl. 1 warm-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
