"""Real-sized RFC entries for benchmarks: sizes, front matter and bodies like real ones.

Why: benchmarks on small synthetic bodies ("Some detail. " × 20, ~300 bytes) understate
parse time, cache size, diff cost and UI memory several times over. BASELINES.md §9
measured 640 real RFC texts turned into entries: file size mean 14.5 KB, median 9.4 KB,
p10 2.8 KB, p90 30.7 KB, p99 75 KB, max 172 KB. This module draws file sizes from a
log-normal fitted to that median and mean (mu = ln 9,400, sigma ≈ 0.931, which puts
p10 ≈ 2.9 KB, p90 ≈ 31 KB, p99 ≈ 82 KB), clipped to [1 KB, 172 KB]; in a set of
`MAX_AT` entries or more the largest draw is set to exactly 172 KB, so the real max
appears once. Each file gets SPEC §2 front matter (10–14 keys: every `FIELD_ORDER` key,
``superseded_by`` for a superseded entry, sometimes an unknown ``discussion`` key; lists
of 0–5 logins or tags) and a markdown body of varied prose (a ~1,000-word vocabulary drawn
with Zipf-like weights, so gzip and diff figures stay honest) with headings, code
blocks, tables, bullet and numbered lists, links and inline code.

Deterministic: the same ``seed`` gives the same bytes on every run and machine (only
`random.Random` is used). Entry ``i`` depends on ``(seed, i)`` alone — a larger
``count`` keeps the first entries, except for the one draw promoted to the max.

Public API (what bench/sweep.py and bench/startup.py are meant to import, issue 13)::

    from realsize import generate, build_sandbox, size_report
    entries = generate(1000, seed=7)          # list[RealEntry]: slug, path, meta, body
    entries[0].data                           # the file's bytes
    world = build_sandbox(1000, prs=200)      # sandbox.Sandbox seeded with them (+ PRs)
    print(size_report([len(e.data) for e in entries]))

    python bench/realsize.py --count 1000     # prints mean/median/p10/p90/p99/max
"""

from __future__ import annotations

import argparse
import contextlib
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from rfctui.sandbox import Sandbox  # noqa: E402
from rfctui.sandbox.git import MODE_FILE, MODE_TREE, Signature, TreeEntry  # noqa: E402

__all__ = [
    "DEFAULT_SEED",
    "MAX_AT",
    "MAX_BYTES",
    "MIN_BYTES",
    "PR_KINDS",
    "SIZE_FACTS",
    "RealEntry",
    "RealWorld",
    "StepClock",
    "api_client",
    "build_sandbox",
    "claim_entry",
    "draw_sizes",
    "edit_entry",
    "generate",
    "make_entry",
    "metadata_entry",
    "move_head",
    "open_pull",
    "percentiles",
    "size_report",
    "warm_mergeable",
]

OWNER, REPO, BOT, BOT_TOKEN = "rfcs", "meta", "rfc-bot", "bot-token"
DEFAULT_SEED = 2026
# BASELINES.md §9: the real distribution this module imitates (bytes per file).
SIZE_FACTS: dict[str, int] = {
    "mean": 14_500, "median": 9_400, "p10": 2_800, "p90": 30_700, "p99": 75_000,
    "max": 172_000,
}
MU = math.log(SIZE_FACTS["median"])
SIGMA = math.sqrt(2 * math.log(SIZE_FACTS["mean"] / SIZE_FACTS["median"]))
MIN_BYTES, MAX_BYTES = 1_000, SIZE_FACTS["max"]
TAIL_FROM, TAIL_POWER = 45_000.0, 0.85
MAX_AT = 500  # from this many entries on, the largest draw becomes exactly MAX_BYTES
PR_KINDS = ("edit", "metadata", "claim", "propose")
STATE_WEIGHTS = {"idea": 35, "graduated": 25, "parked": 15, "declined": 10,
                 "superseded": 8, "withdrawn": 7}
PEOPLE = ("ada", "grace", "barbara", "linus", "margaret", "ken", "dennis", "frances",
          "edsger", "alan", "donald", "radia", "sophie", "john", "guido", "yukihiro")
TAGS = ("api", "build", "ci", "config", "data", "deploy", "docs", "infra", "logging",
        "observability", "ops", "perf", "process", "release", "security", "storage",
        "testing", "tooling", "ux", "compatibility")

# ----------------------------------------------------------------------------- words

_BASE = """
the a of to and in is that for it as with be on by this are or from at which not an
we can should will must may when each if than its but all one more new only also
into any other our their there these they these those would could has have been was
service services system systems request requests response responses client clients
server servers team teams owner owners review reviews change changes version versions
release releases deploy deployment deployments build builds cache caches config
configuration schema schemas field fields endpoint endpoints header headers token
tokens user users account accounts repository repositories branch branches commit
commits pipeline pipelines job jobs queue queues worker workers message messages event
events log logs metric metrics trace traces span spans alert alerts dashboard latency
throughput budget error errors failure failures retry retries timeout timeouts limit
limits quota quotas region regions replica replicas database databases table tables
index indexes query queries migration migrations rollout rollback canary flag flags
feature features test tests fixture fixtures coverage contract contracts interface
interfaces library libraries package packages dependency dependencies module modules
document documents policy policies process proposal proposals decision decisions
owner maintainers reviewer reviewers approval approvals window windows cadence week
weeks month months quarter day days hour hours minute minutes second seconds cost
costs risk risks benefit benefits tradeoff tradeoffs option options alternative
alternatives question questions answer answers problem problems goal goals scope
summary motivation design detail details plan plans step steps phase phases stage
stages example examples case cases rule rules exception exceptions default defaults
value values key keys name names path paths file files directory format formats
input output state states status transition transitions lifecycle history record
records audit storage network traffic load balancer gateway proxy mesh cluster node
nodes container containers image images runtime memory disk cpu thread threads
process lock locks transaction transactions consistency durability availability
security secret secrets permission permissions role roles access identity session
sessions encryption signature signatures certificate certificates rotation
compatibility deprecation sunset support upgrade upgrades downgrade backport patch
patches bug bugs incident incidents postmortem oncall handoff runbook runbooks
ownership catalog inventory sbom license licenses vendor vendors cloud provider
make makes made use uses used keep keeps kept add adds added remove removes removed
rename renames renamed move moves moved split splits merge merges merged publish
publishes published require requires required allow allows allowed reject rejects
rejected accept accepts accepted measure measures measured report reports reported
track tracks tracked store stores stored read reads write writes written send sends
sent receive receives received run runs ran start starts started stop stops stopped
fail fails failed recover recovers recovered propose proposes proposed decide decides
decided agree agrees agreed expect expects expected document documented describe
describes described replace replaces replaced introduce introduces introduced
support supports supported depend depends depended handle handles handled
small large simple complex current existing previous next first last early late
clear explicit implicit optional mandatory public private internal external shared
separate single multiple several many few most least every whole partial stable
unstable safe unsafe fast slow cheap expensive manual automatic periodic daily weekly
monthly strict lenient typed untyped structured unstructured readable consistent
today currently already still often rarely usually always never again instead
however therefore because although unless until while before after during between
across within without through about above below against around per via
""".split()


def _vocabulary() -> list[str]:
    """~1,000 distinct words: the base list plus regular derived forms (some odd ones too;
    it is the distribution of tokens that matters for compression, not the spelling)."""
    seen: dict[str, None] = {}
    for w in _BASE:
        seen.setdefault(w, None)
    stems = [w for w in _BASE[100:_BASE.index("small")]
             if len(w) > 3 and not w.endswith(("s", "ed", "ing", "ly"))]
    for w in stems:
        for suf in ("s", "ing", "ed"):
            seen.setdefault((w[:-1] if w.endswith("e") and suf != "s" else w) + suf, None)
    return list(seen)


VOCAB = _vocabulary()
# Zipf-like weights: rank r gets 1 / (r + 2.7); frequent function words come first.
_CUM: list[float] = []
_acc = 0.0
for _r in range(len(VOCAB)):
    _acc += 1.0 / (_r + 2.7)
    _CUM.append(_acc)
IDENTS = [w for w in VOCAB if len(w) > 3]
LANGS = ("python", "yaml", "http", "sql", "shell", "json", "toml", "go", "")
SECTIONS = ("Summary", "Motivation", "Background", "Goals", "Non-goals", "Design",
            "Detailed design", "Migration", "Rollout", "Compatibility", "Security",
            "Operational concerns", "Testing", "Alternatives", "Prior art", "Costs",
            "Unresolved questions", "Open questions", "Future work", "Timeline")


# ----------------------------------------------------------------------------- sizes


def _entry_rng(seed: int, i: int, salt: str = "") -> random.Random:
    """The generator for entry ``i``: depends on (seed, i, salt) only."""
    return random.Random(f"{seed}:{i}:{salt}")


def _tail(x: float) -> float:
    """Real texts thin out faster than a log-normal above ~p95 (its p99 would be
    ~82 KB against the real 75 KB): sizes above `TAIL_FROM` grow with exponent
    `TAIL_POWER`, which puts p99 near 75 KB and leaves the body of the curve alone."""
    return x if x <= TAIL_FROM else TAIL_FROM * (x / TAIL_FROM) ** TAIL_POWER


def draw_sizes(count: int, seed: int = DEFAULT_SEED) -> list[int]:
    """``count`` file sizes in bytes: log-normal(MU, SIGMA) clipped to [MIN_BYTES,
    MAX_BYTES]; from `MAX_AT` entries on, the largest becomes exactly MAX_BYTES."""
    rng = random.Random(f"sizes:{seed}")
    out = [int(min(MAX_BYTES, max(MIN_BYTES, _tail(rng.lognormvariate(MU, SIGMA)))))
           for _ in range(count)]
    if count >= MAX_AT:
        out[max(range(count), key=out.__getitem__)] = MAX_BYTES
    return out


def percentiles(sizes: Sequence[int]) -> dict[str, float]:
    """mean, median, p10, p90, p99, max (nearest-rank percentiles), bytes."""
    s = sorted(sizes)
    if not s:
        return {k: 0.0 for k in SIZE_FACTS}

    def pct(p: float) -> float:
        return float(s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))])

    return {"mean": statistics.fmean(s), "median": float(statistics.median(s)),
            "p10": pct(10), "p90": pct(90), "p99": pct(99), "max": float(s[-1])}


def size_report(sizes: Sequence[int]) -> str:
    """A markdown table of the generated sizes against BASELINES.md §9."""
    got = percentiles(sizes)
    lines = [f"{len(sizes):,} files, {sum(sizes) / 1e6:.1f} MB in all", "",
             "| statistic | generated bytes | real (BASELINES §9) | ratio |",
             "| --- | ---: | ---: | ---: |"]
    for key, real in SIZE_FACTS.items():
        lines.append(f"| {key} | {got[key]:,.0f} | {real:,} | {got[key] / real:.2f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- text


def _words(rng: random.Random, n: int) -> list[str]:
    return rng.choices(VOCAB, cum_weights=_CUM, k=n)


def _sentence(rng: random.Random) -> str:
    words = _words(rng, rng.randint(6, 22))
    if rng.random() < 0.25:
        words.insert(rng.randrange(1, len(words)), f"`{rng.choice(IDENTS)}_{rng.choice(IDENTS)}`")
    if rng.random() < 0.08:
        w = rng.choice(IDENTS)
        words.append(f"[{w} notes](https://docs.example.org/{w}/{rng.randrange(10_000)})")
    if rng.random() < 0.2 and len(words) > 8:
        words[rng.randrange(3, len(words) - 3)] += ","
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice(".........?!")


def _paragraph(rng: random.Random, n: int | None = None) -> str:
    text = " ".join(_sentence(rng) for _ in range(n or rng.randint(2, 7)))
    lines, start = [], 0
    while len(text) - start > 88:  # wrapped at 88 columns like the sample entries
        cut = text.rfind(" ", start, start + 89)
        if cut <= start:
            cut = text.find(" ", start + 89)
            if cut < 0:
                break
        lines.append(text[start:cut])
        start = cut + 1
    lines.append(text[start:])
    return "\n".join(lines)


def _title(rng: random.Random) -> str:
    words = [w for w in _words(rng, 12) if len(w) > 3][: rng.randint(3, 7)] or ["proposal"]
    return " ".join(words).capitalize()


def _list(rng: random.Random) -> str:
    numbered = rng.random() < 0.3
    items = []
    for k in range(rng.randint(2, 7)):
        text = " ".join(_words(rng, rng.randint(4, 16)))
        if rng.random() < 0.3:
            text = f"**{rng.choice(IDENTS)}**: {text}"
        items.append(f"{k + 1}. {text}" if numbered else f"- {text}")
    return "\n".join(items)


def _code(rng: random.Random) -> str:
    lang = rng.choice(LANGS)
    lines = []
    for _ in range(rng.randint(3, 18)):
        a, b, c = rng.choice(IDENTS), rng.choice(IDENTS), rng.choice(IDENTS)
        n = rng.randrange(1, 9_999)
        lines.append(rng.choice((
            f"{a}_{b} = {c}({n})",
            f"    {a}.{b}({c}_{n % 97}, timeout={n % 60})",
            f"{a}: {b}-{c}",
            f"  {a}_{b}: {n}",
            f"GET /api/v{n % 4 + 1}/{a}/{b}?{c}={n}",
            f"SELECT {a}, {b} FROM {c} WHERE {a}_id = {n};",
            f"$ rfc {a} --{b} {c}-{n}",
            f'"{a}": {{"{b}": {n}, "{c}": true}},',
            f"# {' '.join(_words(rng, rng.randint(3, 9)))}",
        )))
    return f"```{lang}\n" + "\n".join(lines) + "\n```"


def _table(rng: random.Random) -> str:
    cols = rng.randint(2, 5)
    head = [rng.choice(IDENTS).capitalize() for _ in range(cols)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * cols]
    for _ in range(rng.randint(2, 9)):
        cells = [rng.choice((" ".join(_words(rng, rng.randint(1, 5))),
                             str(rng.randrange(1, 100_000)), f"`{rng.choice(IDENTS)}`",
                             rng.choice(("yes", "no", "n/a", "tbd"))))
                 for _ in range(cols)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _block(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.55:
        return "p", _paragraph(rng)
    if r < 0.72:
        return "list", _list(rng)
    if r < 0.87:
        return "code", _code(rng)
    if r < 0.95:
        return "table", _table(rng)
    return "quote", "> " + _sentence(rng)


def make_body(rng: random.Random, target: int) -> str:
    """A markdown body of about ``target`` bytes (UTF-8; ASCII here): sections with
    ``##``/``###`` headings and a mix of blocks; the last paragraph is cut to a
    sentence so the size lands within a line or so of the target."""
    parts: list[str] = []
    size = 0
    sections = iter(rng.sample(SECTIONS, len(SECTIONS)))
    since_heading = 99
    while size < target:
        if since_heading >= rng.randint(2, 6):
            name = next(sections, None) or _title(rng)
            level = "##" if not parts or rng.random() < 0.7 else "###"
            parts.append(f"{level} {name}")
            size += len(parts[-1]) + 2
            since_heading = 0
        kind, block = _block(rng)
        if size + len(block) + 2 > target and kind != "p":
            kind, block = "p", _paragraph(rng)  # the last block is prose, cut to fit
        if size + len(block) + 2 > target:
            room = target - size
            cut = block.rfind(". ", 0, max(0, room))
            block = block[: cut + 1] if cut > 40 else block[: max(40, room)].rstrip()
        parts.append(block)
        size += len(block) + 2
        since_heading += 1
    return "\n\n".join(parts) + "\n"


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _flow(items: Sequence[str]) -> str:
    return "[" + ", ".join(items) + "]"


@dataclass
class RealEntry:
    """One generated entry: ``meta`` in `FIELD_ORDER` (+ extras), rendered by `data`."""

    index: int
    slug: str
    meta: dict[str, Any]
    body: str

    @property
    def path(self) -> str:
        return f"rfcs/{self.slug}.md"

    @property
    def state(self) -> str:
        return str(self.meta["state"])

    @property
    def data(self) -> bytes:
        """The file: ``---`` front matter (flow lists, RFC 3339 dates) ``---`` body."""
        lines = ["---"]
        for key, value in self.meta.items():
            if value is None:
                text = "null"
            elif isinstance(value, list):
                text = _flow(value)
            elif isinstance(value, datetime):
                text = _ts(value)
            else:
                text = str(value)
            lines.append(f"{key}: {text}")
        lines.append("---")
        return ("\n".join(lines) + "\n" + self.body).encode()

    def replaced(self, *, body: str | None = None, **meta: Any) -> RealEntry:
        """A copy with ``meta`` keys set (None values kept as null) and/or a new body."""
        new = dict(self.meta)
        new.update(meta)
        return RealEntry(self.index, self.slug, new, self.body if body is None else body)


def slug_for(i: int, seed: int = DEFAULT_SEED) -> str:
    """A §2 slug: two words and the index (always unique, always valid)."""
    rng = _entry_rng(seed, i, "slug")
    words = [w for w in rng.sample(IDENTS, 6) if w.isalpha()][:2] or ["entry"]
    return "-".join([*words, f"{i:05d}"])


def make_entry(i: int, size: int, seed: int = DEFAULT_SEED, *, slug: str | None = None,
               state: str | None = None) -> RealEntry:
    """Entry ``i`` with a file of about ``size`` bytes (front matter included)."""
    rng = _entry_rng(seed, i)
    slug = slug or slug_for(i, seed)
    state = state or rng.choices(list(STATE_WEIGHTS), weights=list(STATE_WEIGHTS.values()))[0]
    proposed = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(3 * 365 * 86_400))
    graduated = state == "graduated"
    meta: dict[str, Any] = {
        "slug": slug,
        "title": _title(rng),
        "state": state,
        "id": i + 1 if graduated else None,
        "repo": f"{OWNER}/rfc-{i + 1:04d}-{slug}"[:90] if graduated else None,
        "proposed_by": rng.choice(PEOPLE),
        "proposed_at": proposed,
        "graduated_at": proposed + timedelta(days=rng.randint(7, 200)) if graduated else None,
        "graduated_by": rng.choice(PEOPLE[:4]) if graduated else None,
        "owners": rng.sample(PEOPLE, rng.choice((0, 1, 1, 1, 2, 2, 3, 5))),
        "arbiters": rng.sample(PEOPLE[:6], rng.choice((0, 1, 1, 2, 2, 3))),
        "tags": rng.sample(TAGS, rng.choice((0, 1, 1, 2, 2, 3, 4, 5))),
    }
    if state == "superseded":
        meta["superseded_by"] = slug_for(rng.randrange(max(1, i + 1)) + 100_000, seed)
    if state == "idea" and rng.random() < 0.3:  # 10 keys: no graduation fields yet
        del meta["graduated_at"], meta["graduated_by"]
    if rng.random() < 0.15:  # an unknown key a real repository grew (kept by rfctui)
        meta["discussion"] = f"https://forum.example.org/t/{slug}/{rng.randrange(99_999)}"
    head = RealEntry(i, slug, meta, "")
    body = make_body(rng, max(200, size - len(head.data)))
    return head.replaced(body=body)


def generate(count: int, seed: int = DEFAULT_SEED) -> list[RealEntry]:
    """``count`` entries whose file sizes follow `draw_sizes` (deterministic)."""
    return [make_entry(i, size, seed) for i, size in enumerate(draw_sizes(count, seed))]


# ------------------------------------------------------------------- PR variants (§5)


def edit_entry(entry: RealEntry, rng: random.Random) -> RealEntry:
    """A body edit like a person's: one to four paragraphs rewritten, a paragraph added
    under a heading, sometimes a block removed; the front matter is unchanged."""
    blocks = entry.body.rstrip("\n").split("\n\n")
    prose = [k for k, b in enumerate(blocks) if b[:1].isalpha()]
    for k in rng.sample(prose, min(len(prose), rng.randint(1, 4))):
        blocks[k] = _paragraph(rng)
    heads = [k for k, b in enumerate(blocks) if b.startswith("#")] or [0]
    blocks.insert(rng.choice(heads) + 1, _paragraph(rng))
    if len(blocks) > 6 and rng.random() < 0.4:
        del blocks[rng.randrange(3, len(blocks))]
    return entry.replaced(body="\n\n".join(blocks) + "\n")


def metadata_entry(entry: RealEntry, rng: random.Random) -> RealEntry:
    """A metadata PR: new title and/or tags (body unchanged)."""
    tags = sorted(set(entry.meta.get("tags") or []) | {rng.choice(TAGS)})
    return entry.replaced(title=_title(rng) if rng.random() < 0.5 else entry.meta["title"],
                          tags=tags)


def claim_entry(entry: RealEntry, login: str) -> RealEntry:
    """A claim PR: ``login`` added to the owners."""
    owners = list(entry.meta.get("owners") or [])
    return entry.replaced(owners=[*owners, login] if login not in owners else owners)


# ----------------------------------------------------------------------------- sandbox


class StepClock:
    """A settable sandbox clock that moves one second per call (Gitea's ``updated_at``
    has 1 s resolution, so two writes never share a time)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@contextlib.contextmanager
def api_client(sb: Sandbox, token: str = BOT_TOKEN) -> Iterator[httpx.Client]:
    """An in-process client (the sandbox's transport, no network, no latency)."""
    with httpx.Client(transport=sb.transport, base_url="http://sandbox.local/api/v1",
                      headers={"Authorization": f"token {token}"}, timeout=120) as c:
        yield c


def _branch_commit(sb: Sandbox, branch: str, path: str, data: bytes, message: str) -> str:
    """Commit one ``rfcs/`` file on ``branch`` (created off main, or on top of itself),
    straight into the git model: replaces one entry of the ``rfcs`` subtree instead of
    rebuilding the whole tree (`Sandbox.commit_files`) — the same commit, much cheaper
    with thousands of entries (the path bench/sweep.py takes)."""
    git = sb.git
    base = git.branches.get(branch) or git.branches["main"]
    root = git.tree(git.commit(base).tree)
    name = path.removeprefix("rfcs/")
    rfcs = next((e for e in root if e.name == "rfcs"), None)
    entries = [e for e in (git.tree(rfcs.sha) if rfcs else []) if e.name != name]
    entries.append(TreeEntry(MODE_FILE, name, git.put_blob(data)))
    new_root = git.write_tree([e for e in root if e.name != "rfcs"]
                              + [TreeEntry(MODE_TREE, "rfcs", git.write_tree(entries))])
    sig = Signature("RFC Bot", "rfc-bot@example.org", sb.now())
    sha = git.write_commit(new_root, [base], sig, sig, message + "\n")
    sb.set_branch(branch, sha)
    return sha


def _trailer(text: str, login: str) -> str:
    return f"{text}\n\nOn-behalf-of: {login.capitalize()} <{login}>"


def open_pull(sb: Sandbox, api: httpx.Client, kind: str, entry: RealEntry,
              rng: random.Random, *, new_index: int = 0, seed: int = DEFAULT_SEED,
              size: int | None = None) -> tuple[int, str, RealEntry]:
    """A §5 PR of ``kind`` on ``entry`` (for ``propose``: a new real-sized idea,
    ``new_index`` picks it), opened by the bot through the API; returns (number, head
    branch, the entry as the head has it)."""
    login = rng.choice(PEOPLE)
    if kind == "propose":
        size = size or draw_sizes(1, seed + new_index)[0]
        head = make_entry(new_index, size, seed, slug=f"idea-{slug_for(new_index, seed)}"[:64],
                          state="idea")
        branch = f"propose/{head.slug}"
    elif kind == "edit":
        head = edit_entry(entry, rng)
        branch = f"edit/{entry.slug}/{rng.randrange(1, 1_000_000)}"
    elif kind == "claim":
        head = claim_entry(entry, login)
        branch = f"claim/{entry.slug}"
    elif kind == "metadata":
        head = metadata_entry(entry, rng)
        branch = f"metadata/{entry.slug}"
    else:
        raise ValueError(f"unknown PR kind {kind!r}")
    _branch_commit(sb, branch, head.path, head.data, _trailer(f"{kind} {head.slug}", login))
    r = api.post(f"/repos/{OWNER}/{REPO}/pulls", json={
        "head": branch, "base": "main", "title": f"{kind}: {head.meta['title']}"[:200],
        "body": _trailer(f"Please {kind} {head.slug}.", login),
    })
    r.raise_for_status()
    return int(r.json()["number"]), branch, head


def move_head(sb: Sandbox, branch: str, head: RealEntry, rng: random.Random) -> RealEntry:
    """Push one more commit on a PR's head branch (a further body edit)."""
    moved = edit_entry(head, rng)
    _branch_commit(sb, branch, moved.path, moved.data, "address review comments")
    return moved


def warm_mergeable(sb: Sandbox) -> None:
    """List the open PRs once in-process: the sandbox computes mergeability on the
    first listing after ``main`` moves (real Gitea does it in a background queue), so
    no timed request pays for it."""
    with api_client(sb) as api:
        page = 1
        while True:
            r = api.get(f"/repos/{OWNER}/{REPO}/pulls",
                        params={"state": "open", "page": page, "limit": 50})
            r.raise_for_status()
            if 'rel="next"' not in r.headers.get("link", ""):
                break
            page += 1


@dataclass
class OpenPull:
    """A PR the builder left open: its number, head branch and head entry."""

    number: int
    kind: str
    branch: str
    head: RealEntry


@dataclass
class RealWorld:
    """A sandbox seeded with real-sized entries; ``entries`` is main as it is now."""

    sb: Sandbox
    clock: StepClock
    entries: dict[str, RealEntry]
    pulls: list[OpenPull] = field(default_factory=list)
    seed: int = DEFAULT_SEED

    @property
    def sizes(self) -> list[int]:
        return [len(e.data) for e in self.entries.values()]


def build_sandbox(count: int, *, prs: int = 0, seed: int = DEFAULT_SEED,
                  history: bool = True, kinds: Sequence[str] = PR_KINDS,
                  progress: Callable[[str], None] | None = None) -> RealWorld:
    """A `Sandbox` whose ``main`` holds `generate(count, seed)` under ``rfcs/``, and
    ``prs`` open pull requests of ``kinds`` in rotation (each on its own entry).

    Entries go straight into git with `Sandbox.commit_files` in chunks of 500 (as
    bench/sweep.py does); PRs are branch commits plus a ``POST /pulls`` by the bot on the
    in-process transport (no latency). ``history=True`` adds two back-dated rounds so
    entries have a life to walk (rfctui log, the history backfill): a third of the
    ideas parked and a quarter of all entries' bodies edited (`edit_entry`). Finally the
    open PRs' mergeability is computed once (`warm_mergeable`).
    """
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    clock = StepClock(datetime(2025, 1, 10, tzinfo=UTC))
    sb = Sandbox(clock=clock)
    entries = {e.slug: e for e in generate(count, seed)}
    order = list(entries)
    for start in range(0, count, 500):
        chunk = order[start:start + 500]
        sb.commit_files("main", {entries[s].path: entries[s].data for s in chunk},
                        f"Import entries {start}..{start + len(chunk) - 1}",
                        author=("RFC Bot", "rfc-bot@example.org"))
    say(f"setup: {count} entries committed ({time.perf_counter() - t0:.1f} s)")
    rng = random.Random(f"world:{seed}")
    if history and count:
        clock.now = datetime(2025, 6, 1, tzinfo=UTC)
        parked = [s for s in order if entries[s].state == "idea" and rng.random() < 0.33]
        for s in parked:
            entries[s] = entries[s].replaced(state="parked")
        sb.commit_files("main", {entries[s].path: entries[s].data for s in parked},
                        "Park ideas nobody works on", author=("Grace Hopper", "grace@x"))
        clock.now = datetime(2026, 9, 1, tzinfo=UTC)
        edited = rng.sample(order, count // 4)
        for s in edited:
            entries[s] = edit_entry(entries[s], rng)
        sb.commit_files("main", {entries[s].path: entries[s].data for s in edited},
                        "Clarify bodies", author=("Ada Lovelace", "ada@x"))
        say(f"setup: history rounds ({time.perf_counter() - t0:.1f} s)")
    clock.now = datetime(2026, 11, 1, tzinfo=UTC)
    world = RealWorld(sb, clock, entries, seed=seed)
    targets = rng.sample(order, min(prs, count))
    with api_client(sb) as api:
        for k in range(prs):
            kind = kinds[k % len(kinds)]
            entry = entries[targets[k % len(targets)]] if targets else None
            if entry is None and kind != "propose":
                kind = "propose"
            number, branch, head = open_pull(
                sb, api, kind, entry or make_entry(0, 2000, seed), rng,
                new_index=200_000 + k, seed=seed)
            world.pulls.append(OpenPull(number, kind, branch, head))
            if (k + 1) % 100 == 0:
                say(f"setup: {k + 1}/{prs} PRs ({time.perf_counter() - t0:.1f} s)")
    warm_mergeable(sb)
    say(f"setup: {count} entries, {prs} open PRs in {time.perf_counter() - t0:.1f} s")
    return world


# ----------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="entries to generate")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--sample", action="store_true",
                        help="also print the first entry whose size is near the median")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    entries = generate(args.count, args.seed)
    seconds = time.perf_counter() - t0
    sizes = [len(e.data) for e in entries]
    print(f"Real-sized entries, seed {args.seed}: generated in {seconds:.2f} s.\n")
    print(size_report(sizes))
    states: dict[str, int] = {}
    for e in entries:
        states[e.state] = states.get(e.state, 0) + 1
    print("\nstates: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    if args.sample and entries:
        med = statistics.median(sizes)
        pick = min(entries, key=lambda e: abs(len(e.data) - med))
        print("\n" + pick.data.decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
