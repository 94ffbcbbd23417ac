"""The reconciler's stateful test, long and randomized (issue 9 item 8; SPEC §4.0, §4.1).

CI runs ``tests/test_reconciler_stateful.py`` on 50 fixed histories (derandomized). This
runs the same state machine on random seeds for thousands of histories, prints each
seed with the histories and steps it ran, and on a divergence the shrunk failing steps
(hypothesis prints them) and the seed that reproduces it. A figure, not a test: it
asserts no time. Usage::

    python bench/stateful.py                          # 2,000 histories, 8 random seeds
    python bench/stateful.py --histories 400 --seeds 2
    python bench/stateful.py --seed 12345 --histories 250   # replay one seed
    RFCTUI_STATEFUL_EXAMPLES=2000 RFCTUI_STATEFUL_SEED=12345 \\
        python -m pytest tests/test_reconciler_stateful.py -k long -s   # the same, in pytest

Exit status 1 when any seed found a divergence.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

# The script's own folder is dropped from the path (nothing in bench/ is imported) and
# the tests' folder added: the state machine lives there.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "tests"))

from test_reconciler_stateful import run_random  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--histories", type=int, default=2000, help="in total (default 2000)")
    ap.add_argument("--seeds", type=int, default=8, help="random seeds to split them over")
    ap.add_argument("--seed", type=int, action="append", help="run these seeds instead")
    ap.add_argument("--steps", type=int, default=25, help="steps per history (default 25)")
    ap.add_argument("--no-shrink", action="store_true",
                    help="print the first failing history as found (shrinking can take minutes)")
    args = ap.parse_args(argv)
    seeds = args.seed or [random.SystemRandom().getrandbits(32) for _ in range(args.seeds)]
    per_seed = max(1, -(-args.histories // len(seeds)))
    t0 = time.monotonic()
    histories = steps = 0
    failed: list[int] = []
    for seed in seeds:
        print(f"seed {seed}: {per_seed} histories of up to {args.steps} steps ...", flush=True)
        stats = run_random(per_seed, seed, args.steps, shrink=not args.no_shrink)
        histories += stats.histories
        steps += stats.steps
        verdict = "ok" if stats.error is None else f"DIVERGENCE: {stats.error!r:.300}"
        print(f"seed {seed}: {stats.histories} histories, {stats.steps} steps, "
              f"{stats.seconds:.0f} s — {verdict}", flush=True)
        if stats.error is not None:  # the failing steps are in the exception's notes
            print("".join(traceback.format_exception(stats.error)), flush=True)
            failed.append(seed)
    print(f"total: {len(seeds)} seeds, {histories} histories, {steps} steps, "
          f"{time.monotonic() - t0:.0f} s; "
          + (f"FAILED seeds {failed} (replay: --seed N)" if failed else "all passed"),
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
