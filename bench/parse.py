"""Entry parsing, old path (pure-Python YAML) against new (libyaml), side by side (issue 13).

A 10k real-sized resync spent 53 % of its time in YAML front matter, parsed by the
pure-Python `_Loader` although libyaml was installed. `rfctui.entry.parse_entry` now
loads front matter through a ``CSafeLoader`` subclass when it is sound to (see
`rfctui.entry._c_can_load`); ``USE_LIBYAML = False`` is the old path. Figures, not a
test: nothing here asserts a time.

Entries: `bench/realsize.py`'s generator when it is importable (file sizes of 640 real
RFCs, mean 14.5 KB), else a built-in stand-in with the same §2 front matter and
9–30 KB bodies. Each path parses the same N files ``--repeat`` times; the best run counts.

    python bench/parse.py                    # 2,000 entries, table on stdout
    python bench/parse.py --count 10000 --write   # also writes bench/results-parse.md
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import yaml  # noqa: E402

import rfctui.entry as entry_mod  # noqa: E402
from rfctui.entry import parse_entry  # noqa: E402

RESULTS = ROOT / "bench" / "results-parse.md"
_WORDS = ("the service request owner review change version release deploy cache config "
          "schema field endpoint header token user branch commit pipeline queue worker "
          "message event metric latency budget error retry timeout limit rollout flag "
          "feature test contract module decision cadence rotation catalog").split()
_PEOPLE = ("ada", "grace", "barbara", "linus", "margaret", "ken", "dennis", "frances")
_TAGS = ("api", "build", "ci", "config", "data", "deploy", "docs", "infra", "ops", "perf")
_STATES = ("idea", "graduated", "parked", "declined", "superseded", "withdrawn")


def _standin(count: int, seed: int) -> list[tuple[str, bytes]]:
    """Files with realistic §2 front matter (12–13 keys) and 9–30 KB markdown bodies."""
    out: list[tuple[str, bytes]] = []
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        slug = f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}-{i:05d}"
        state = rng.choice(_STATES)
        at = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(94_000_000))
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 8))).capitalize()
        lines = [
            "---", f"slug: {slug}", f"title: {title}", f"state: {state}",
            f"id: {i + 1 if state == 'graduated' else 'null'}",
            f"repo: {'rfcs/' + slug if state == 'graduated' else 'null'}",
            f"proposed_by: {rng.choice(_PEOPLE)}",
            f"proposed_at: {at.strftime('%Y-%m-%dT%H:%M:%SZ')}",
            f"graduated_at: {'null' if state != 'graduated' else '2026-01-02T03:04:05Z'}",
            "graduated_by: null",
            f"owners: [{', '.join(rng.sample(_PEOPLE, rng.randint(0, 3)))}]",
            f"arbiters: [{', '.join(rng.sample(_PEOPLE, rng.randint(0, 2)))}]",
            f"tags: [{', '.join(rng.sample(_TAGS, rng.randint(0, 4)))}]",
        ]
        if rng.random() < 0.2:
            lines.append(f"discussion: https://chat.example.org/t/{rng.randrange(10**6)}")
        lines.append("---")
        size = rng.randint(9_000, 30_000)
        body: list[str] = []
        n = 0
        while n < size:
            para = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(20, 80))) + "."
            if rng.random() < 0.15:
                para = f"## {para[:40].title()}"
            body.append(para)
            n += len(para) + 2
        out.append((f"rfcs/{slug}.md", ("\n".join(lines) + "\n" + "\n\n".join(body)
                                        + "\n").encode()))
    return out


def make_files(count: int, seed: int) -> tuple[str, list[tuple[str, bytes]]]:
    try:
        import realsize  # type: ignore[import-not-found]
    except ImportError:
        return "stand-in (9–30 KB bodies)", _standin(count, seed)
    return "bench/realsize.py", [(e.path, e.data) for e in realsize.generate(count, seed)]


def best_of(repeat: int, fns: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The best time of each function, interleaved round by round so that load from
    elsewhere on the machine falls on old and new alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def front_matter(data: bytes) -> str:
    text = data.decode().removeprefix("\ufeff").strip()
    return entry_mod._HANDLER.split(text)[0]


def run(count: int, seed: int, repeat: int) -> tuple[str, list[list[str]], str]:
    source, files = make_files(count, seed)
    fms = [front_matter(data) for _, data in files]
    sizes = [len(data) for _, data in files]
    fast_share = sum(entry_mod._load_c(t) is not entry_mod._MISS for t in fms) / len(fms)

    def parse_all() -> None:
        for path, data in files:
            parse_entry(path, data)

    def old() -> None:
        entry_mod.USE_LIBYAML = False
        try:
            parse_all()
        finally:
            entry_mod.USE_LIBYAML = True

    def split_only() -> None:
        for _, data in files:
            front_matter(data)

    # the same results on both paths, or the figures mean nothing
    entry_mod.USE_LIBYAML = False
    expect = [repr(parse_entry(p, d)) for p, d in files]
    entry_mod.USE_LIBYAML = True
    assert [repr(parse_entry(p, d)) for p, d in files] == expect

    rows: list[list[str]] = []
    t = best_of(repeat, {
        "old": old,
        "new": parse_all,
        "yaml old": lambda: [yaml.load(t, Loader=entry_mod._Loader) for t in fms],  # noqa: S506
        "yaml new": lambda: [entry_mod._load_front_matter(t) for t in fms],
        "split": split_only,
    })
    t_old, t_new, y_old, y_new, t_split = (t[k] for k in ("old", "new", "yaml old",
                                                          "yaml new", "split"))
    for name, a, b in (("parse_entry", t_old, t_new), ("front matter YAML only", y_old, y_new)):
        rows.append([name, f"{count / a:,.0f}", f"{count / b:,.0f}", f"{a / b:.1f}×",
                     f"{a * 1e6 / count:,.0f}", f"{b * 1e6 / count:,.0f}"])
    split_us = t_split * 1e6 / count
    note = (f"{source}; {count:,} files, mean {statistics.mean(sizes) / 1000:.1f} KB, "
            f"median {statistics.median(sizes) / 1000:.1f} KB, front matter mean "
            f"{statistics.mean(len(t) for t in fms):.0f} chars; libyaml path taken for "
            f"{fast_share:.0%}; decode + python-frontmatter split {split_us:,.0f} µs/entry "
            f"({t_split / t_new:.0%} of the new parse_entry); YAML share of the old "
            f"parse_entry {y_old / t_old:.0%}, of the new {y_new / t_new:.0%}; best of "
            f"{repeat}; Python {platform.python_version()}, libyaml "
            f"{yaml._yaml.get_version_string() if yaml.__with_libyaml__ else 'absent'}")
    return source, rows, note


def table(rows: list[list[str]]) -> str:
    head = ["what", "old entries/s", "new entries/s", "speed-up", "old µs/entry",
            "new µs/entry"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true", help=f"also write {RESULTS.name}")
    args = ap.parse_args(argv)
    if entry_mod._CLoader is None:
        print("libyaml is not installed: only the pure-Python path exists here")
        return 1
    _, rows, note = run(args.count, args.seed, args.repeat)
    text = table(rows) + "\n\n" + note + "\n"
    print(text)
    if args.write:
        RESULTS.write_text("# Entry parsing: pure-Python YAML vs libyaml (bench/parse.py)\n\n"
                           f"`python bench/parse.py --count {args.count}`\n\n" + text)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
