"""Draft-write benchmark (issue 9 item 1; SPEC §9, §11): what a save costs, and where.

A form queues a save at most every `DRAFT_DELAY` seconds while you type; the write
(`Drafts.save`: JSON, a 0600 temporary file, fsync, rename) runs on `DraftWriter`'s
thread, so the UI thread pays only for reading the fields and queueing. This prints,
for bodies of several sizes, the median and worst time of:

- ``save``: one synchronous `Drafts.save` (what the writer's thread does);
- ``queue``: `DraftWriter.save` as the UI thread calls it (returns at once);
- ``load``: `Drafts.load`, which the form does on the UI thread when it opens.

Figures, not a test: nothing asserts a time. Usage::

    python bench/drafts.py              # 1 kB, 100 kB, 1 MB bodies, 50 runs each
    python bench/drafts.py --runs 200
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rfctui.drafts import Drafts, DraftWriter


def _time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times)


def _row(size: int, runs: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        store = Drafts(Path(tmp) / "drafts")
        fields = {"slug": "typed-config", "title": "Typed configuration",
                  "body": ("word " * (size // 5))[:size]}
        save = _time(lambda: store.save("propose", "", fields), runs)
        load = _time(lambda: store.load("propose", ""), runs)
        writer = DraftWriter(store)
        queue = _time(lambda: writer.save("propose", "", fields), runs)
        writer.flush(timeout=None)
    return (f"{size:>8}  {save[0]:>8.2f}/{save[1]:<9.2f}  {queue[0]:>6.3f}/{queue[1]:<7.3f}"
            f"  {load[0]:>6.2f}/{load[1]:<7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    print(f"{'body':>8}  {'save ms (med/max)':>18}  {'queue ms':>14}  {'load ms':>14}")
    for size in (1_000, 100_000, 1_000_000):
        print(_row(size, args.runs))

if __name__ == "__main__":
    main()
