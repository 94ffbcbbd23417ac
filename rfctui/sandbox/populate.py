"""The bundled sample meta repository, built inside a :class:`Sandbox`.

Why it exists: the demo (``rfctui --demo``), the snapshot tests and the benchmarks need
a meta repository that looks like a real organisation's RFC index — every §3 state,
realistic markdown bodies, and pull requests of every §5 kind in every PR state — and
that is *real* git history, not canned JSON. So :func:`populate` commits the entries in
``sample/*.md`` straight into the git model (the repository's history before the bot
existed), then drives the sandbox's own HTTP API, exactly like the bot would (§6.1,
§6.2): branch + commit with the real person as author + pull request whose body ends in
an ``On-behalf-of:`` trailer.

Everything is deterministic: entries are committed in file-name order, pull requests in
the fixed order of :func:`_run_plan`; only the sandbox clock decides timestamps.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from rfctui.sandbox.state import SandboxUser, default_users

if TYPE_CHECKING:
    from rfctui.sandbox.core import Sandbox

#: Host used for in-process requests; ``html_url`` values are built from it.
BASE_URL = "http://sandbox.local"

#: People who appear in the sample: login -> full name. Mostly ada and grace act.
PEOPLE: dict[str, str] = {
    "admin": "Site Admin",
    "ada": "Ada Lovelace",
    "grace": "Grace Hopper",
    "linus": "Linus Torvalds",
    "margaret": "Margaret Hamilton",
    "ken": "Ken Thompson",
    "barbara": "Barbara Liskov",
}

#: §2 front-matter keys in their canonical order; unknown keys follow in file order.
FIELD_ORDER = (
    "slug",
    "title",
    "state",
    "id",
    "repo",
    "proposed_by",
    "proposed_at",
    "graduated_at",
    "graduated_by",
    "owners",
    "arbiters",
    "tags",
)
LIST_FIELDS = frozenset({"owners", "arbiters", "tags"})

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 ._/()+,'-]*[A-Za-z0-9.)]$|^[A-Za-z]$")
_YAML_WORDS = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"})


def email_of(login: str, sb: Sandbox | None = None) -> str:
    """The commit e-mail of a person: the sandbox user's own when there is one, so that
    Gitea-style commit-to-user matching works, else the sandbox's default pattern."""
    user = sb.user_by_login(login) if sb is not None else None
    return user.email if user is not None else f"{login}@sandbox.localhost"


def identity(login: str, sb: Sandbox | None = None) -> dict[str, str]:
    """A Gitea ``Identity`` (``author``/``committer`` of the contents API)."""
    return {"name": PEOPLE[login], "email": email_of(login, sb)}


def sample_users(bot: str = "rfc-bot") -> list[SandboxUser]:
    """DESIGN.md's default users plus the other people of the sample (read access)."""
    users = default_users(bot)
    known = {u.login for u in users}
    users += [SandboxUser(login, f"{login}-token", name, "read")
              for login, name in PEOPLE.items() if login not in known]
    return users


def trailer(login: str) -> str:
    """The §6.2 trailer line for ``login``."""
    return f"On-behalf-of: {PEOPLE[login]} <{login}>"


def compose(text: str, login: str) -> str:
    """``text`` + blank line + the trailer as the last line (§6.2).

    Sample text is ours, so it needs no neutralising; rfctui.trailer does that for
    user input.
    """
    return f"{text.rstrip()}\n\n{trailer(login)}"


# --------------------------------------------------------------------------- entries


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _TIMESTAMP.match(text):
        return text
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS and ": " not in text:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def render_entry(meta: Mapping[str, object], body: str) -> str:
    """Serialise an entry as §2 front matter + body.

    Canonical keys come first in §2 order (missing lists as ``[]``, missing scalars as
    ``null``); any other key keeps its place after them, so unknown keys survive.
    """
    lines = ["---"]
    for key in FIELD_ORDER:
        value = meta.get(key)
        if key in LIST_FIELDS:
            items = list(value or [])  # type: ignore[call-overload]
            lines.append(f"{key}: [{', '.join(_scalar(v) for v in items)}]")
        else:
            lines.append(f"{key}: {_scalar(value)}")
    for key, value in meta.items():
        if key in FIELD_ORDER:
            continue
        if isinstance(value, list | tuple):
            lines.append(f"{key}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            lines.append(f"{key}: {_scalar(value)}")
    lines.append("---")
    return "\n".join(lines) + "\n" + body.strip("\n") + "\n"


def split_entry(text: str) -> tuple[list[str], str]:
    """Front-matter lines (without the ``---`` fences) and the body of an entry."""
    if not text.startswith("---\n"):
        raise ValueError("entry does not start with front matter")
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise ValueError("front matter is not closed")
    return head.split("\n"), body


def front_value(text: str, key: str) -> str | None:
    """The raw YAML text of a top-level front-matter key (no YAML parser needed)."""
    for line in split_entry(text)[0]:
        name, sep, value = line.partition(":")
        if sep and name == key:
            return value.strip()
    return None


def parse_flow_list(raw: str | None) -> list[str]:
    """Parse a flow list of plain logins/tags as written by :func:`render_entry`."""
    if not raw or raw in ("[]", "null"):
        return []
    return [item.strip().strip('"') for item in raw.strip("[]").split(",") if item.strip()]


def set_front_value(text: str, key: str, raw: str) -> str:
    """Replace one front-matter line in place, keeping every other line byte-identical.

    Why line-based: a metadata edit must not reorder or drop keys it does not know (§2),
    and a line edit cannot.
    """
    lines, body = split_entry(text)
    out = []
    found = False
    for line in lines:
        name, sep, _ = line.partition(":")
        if sep and name == key:
            out.append(f"{key}: {raw}")
            found = True
        else:
            out.append(line)
    if not found:
        out.append(f"{key}: {raw}")
    return "---\n" + "\n".join(out) + "\n---\n" + body


def set_body(text: str, body: str) -> str:
    """Replace the markdown body of an entry, keeping the front matter as is."""
    lines, _ = split_entry(text)
    return "---\n" + "\n".join(lines) + "\n---\n" + body.strip("\n") + "\n"


def flow_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_scalar(i) for i in items) + "]"


def sample_files() -> dict[str, bytes]:
    """The bundled entries as ``{"rfcs/<slug>.md": bytes}``, sorted by path."""
    root = resources.files("rfctui.sandbox").joinpath("sample")
    files: dict[str, bytes] = {}
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".md"):
            files[f"rfcs/{item.name}"] = item.read_bytes()
    return files


def sample_dir() -> Path:
    """Filesystem path of the bundled entries (for ``--seed``-style use)."""
    return Path(__file__).with_name("sample")


# --------------------------------------------------------------------------- proposals

#: New ideas proposed through ``propose/<slug>`` PRs: slug -> (title, actor, tags, body).
PROPOSALS: dict[str, tuple[str, str, list[str], str]] = {
    "secret-rotation": (
        "Rotate service credentials automatically",
        "ada",
        ["security", "operations"],
        "## Idea\n\nDatabase passwords and API keys used by services rotate every 30 days,"
        " driven by the secret store, with no deploy needed.\n\n"
        "- Services read credentials through the secret store's client, never from"
        " files baked into images.\n- Two credentials are valid during a rotation window.\n",
    ),
    "flaky-test-quarantine": (
        "Quarantine flaky tests automatically",
        "grace",
        ["testing", "ci"],
        "## Idea\n\nA test that fails and then passes on retry in the same pipeline is"
        " moved to a quarantine list and the owning team gets a ticket.\n\n"
        "| signal | action |\n| --- | --- |\n| 1 flaky run | note on the PR |\n"
        "| 3 flaky runs in 7 days | quarantine + ticket |\n",
    ),
    "dependency-update-bot": (
        "A bot that opens dependency update PRs",
        "grace",
        ["security", "dx"],
        "## Idea\n\nA bot opens grouped, weekly dependency update pull requests for"
        " every service, with the changelog excerpt in the description.\n\n"
        "```yaml\nschedule: weekly\ngroup: [minor, patch]\nautomerge: patch\n```\n",
    ),
    "incident-review-template": (
        "One template for incident reviews",
        "ada",
        ["operations", "process"],
        "## Idea\n\nAll incident reviews use one blameless template: timeline, impact,"
        " contributing factors, follow-ups with owners and dates.\n",
    ),
    "error-budget-policy": (
        "Error budgets for tier 1 services",
        "grace",
        ["reliability", "process"],
        "## Idea\n\nEach tier 1 service has an availability SLO and a monthly error"
        " budget. When the budget is spent, feature releases pause until reliability"
        " work brings the service back within budget.\n\n"
        "| tier | SLO | monthly budget |\n| --- | --- | --- |\n"
        "| 1 | 99.9 % | 43 min |\n| 2 | 99.5 % | 3 h 36 min |\n",
    ),
    "company-wide-ide": (
        "One mandated IDE for all engineers",
        "ada",
        ["dx"],
        "## Idea\n\nStandardise on one IDE with a shared configuration so onboarding"
        " guides can assume it.\n",
    ),
}

#: Fixed proposal timestamps (§2 wants RFC 3339 UTC; fixed keeps the sample stable).
_PROPOSED_AT = {
    "secret-rotation": "2026-11-18T09:12:00Z",
    "flaky-test-quarantine": "2026-11-19T14:30:00Z",
    "dependency-update-bot": "2026-11-21T10:05:00Z",
    "incident-review-template": "2026-11-24T16:40:00Z",
    "error-budget-policy": "2026-11-10T11:00:00Z",
    "company-wide-ide": "2026-11-12T08:45:00Z",
}


def proposal_text(slug: str) -> str:
    """The entry file a ``propose/<slug>`` PR adds (state ``idea``, §5)."""
    title, actor, tags, body = PROPOSALS[slug]
    meta = {
        "slug": slug,
        "title": title,
        "state": "idea",
        "proposed_by": actor,
        "proposed_at": _PROPOSED_AT[slug],
        "owners": [actor],
        "arbiters": ["grace"] if actor != "grace" else ["ada"],
        "tags": tags,
    }
    return render_entry(meta, body)


# --------------------------------------------------------------------------- populate


class SampleError(RuntimeError):
    """A sandbox API call made while building the sample failed (one line, no token)."""


@dataclass
class SampleResult:
    """What :func:`populate` created, for tests: head branch -> PR number, by state."""

    entries: list[str] = field(default_factory=list)
    pulls: dict[str, int] = field(default_factory=dict)
    open: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


def _check_slug(slug: str) -> None:
    """§2: a slug must match before it reaches a path or a branch name (the sandbox may
    not import rfctui.entry, so the rule is repeated here)."""
    if not SLUG_RE.match(slug):
        raise SampleError(f"invalid slug {slug[:80]!r}")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class _Api:
    """A thin synchronous client for the sandbox's own HTTP API (no rfctui imports)."""

    def __init__(self, sb: Sandbox, token: str) -> None:
        self._client = httpx.Client(
            transport=sb.transport,
            base_url=BASE_URL,
            headers={"Authorization": f"token {token}"},
            timeout=30.0,
        )
        self.sb = sb
        self.repo_path = f"/api/v1/repos/{sb.org}/{sb.repo}"

    def close(self) -> None:
        self._client.close()

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = ()) -> Any:
        url = self.repo_path + path
        resp = self._client.request(method, url, json=body)
        if resp.status_code >= 300 and resp.status_code not in ok:
            try:
                message = resp.json().get("message", "")
            except ValueError:
                message = resp.text[:200]
            raise SampleError(f"{method} {url} -> {resp.status_code}: {message}")
        if not resp.content:
            return None
        return resp.json()

    def file_text(self, path: str, ref: str = "main") -> tuple[str, str]:
        """(text, blob sha) of a file on ``ref``."""
        data = self.call("GET", f"/contents/{path}?ref={ref}")
        return base64.b64decode(data["content"]).decode("utf-8"), data["sha"]

    def change(
        self,
        branch: str,
        files: list[dict[str, Any]],
        message: str,
        author: str,
        new_branch: str | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "branch": branch,
            "files": files,
            "message": message,
            "author": identity(author, self.sb),
            "committer": identity(author, self.sb),
        }
        if new_branch:
            body["new_branch"] = new_branch
        self.call("POST", "/contents", body)

    def open_pull(self, head: str, title: str, body: str) -> int:
        pr = self.call("POST", "/pulls", {"head": head, "base": "main", "title": title,
                                          "body": body})
        return int(pr["number"])


class _Builder:
    """Runs the fixed PR plan; each step records its head branch and final state."""

    def __init__(self, sb: Sandbox, bot_token: str) -> None:
        self.sb = sb
        self.bot = _Api(sb, bot_token)
        self.result = SampleResult()

    def record(self, head: str, number: int) -> None:
        self.result.pulls[head] = number
        self.result.open.append(head)

    def finish(self, head: str, how: str) -> None:
        """Merge or close the PR opened for ``head``."""
        number = self.result.pulls[head]
        if how == "merge":
            self.bot.call("POST", f"/pulls/{number}/merge", {"Do": "merge"})
            self.result.merged.append(head)
        else:
            self.bot.call("PATCH", f"/pulls/{number}", {"state": "closed"})
            self.result.closed.append(head)
        self.result.open.remove(head)

    def propose(self, slug: str) -> str:
        _check_slug(slug)
        title, actor, _, _ = PROPOSALS[slug]
        head = f"propose/{slug}"
        self.bot.change(
            "main",
            [{"operation": "create", "path": f"rfcs/{slug}.md",
              "content": _b64(proposal_text(slug))}],
            compose(f"Propose RFC idea: {title}\n\nAdds rfcs/{slug}.md in state idea,"
                    f" proposed by {PEOPLE[actor]}.", actor),
            actor,
            new_branch=head,
        )
        body = compose(f"Proposes a new RFC idea `{slug}`: {title}", actor)
        self.record(head, self.bot.open_pull(head, f"Propose RFC idea: {title}", body))
        return head

    def _update(self, api: _Api, head: str, path: str, text: str, sha: str, message: str,
                actor: str) -> None:
        api.change(
            "main",
            [{"operation": "update", "path": path, "content": _b64(text), "sha": sha}],
            message,
            actor,
            new_branch=head,
        )

    def edit(self, slug: str, n: int, actor: str, addition: str, summary: str,
             api: _Api | None = None) -> str:
        """Append ``addition`` to the body of ``slug`` on ``edit/<slug>/<n>``."""
        _check_slug(slug)
        api = api or self.bot
        head = f"edit/{slug}/{n}"
        path = f"rfcs/{slug}.md"
        text, sha = api.file_text(path)
        _, body = split_entry(text)
        new = set_body(text, body.rstrip("\n") + "\n\n" + addition.strip("\n"))
        by_bot = api is self.bot
        message = f"Edit body of {slug}\n\n{summary[:1].upper()}{summary[1:]}."
        self._update(api, head, path, new, sha, compose(message, actor) if by_bot else message,
                     actor)
        pr_body = f"Edits the body of `{slug}`: {summary}."
        title = f"Edit body of {slug}" if by_bot else f"{slug}: {summary}"
        number = api.open_pull(head, title, compose(pr_body, actor) if by_bot else pr_body)
        self.record(head, number)
        return head

    def claim(self, slug: str, actor: str) -> str:
        _check_slug(slug)
        head = f"claim/{slug}"
        path = f"rfcs/{slug}.md"
        text, sha = self.bot.file_text(path)
        owners = parse_flow_list(front_value(text, "owners"))
        new = set_front_value(text, "owners", flow_list([*owners, actor]))
        self._update(self.bot, head, path, new, sha,
                     compose(f"Claim {slug} for {actor}\n\nAdds {actor} to the owners of"
                             f" rfcs/{slug}.md.", actor), actor)
        body = compose(f"{PEOPLE[actor]} claims `{slug}`: adds them to `owners`.", actor)
        self.record(head, self.bot.open_pull(head, f"Claim {slug} for {actor}", body))
        return head

    def metadata(self, slug: str, actor: str, key: str, values: list[str]) -> str:
        _check_slug(slug)
        head = f"metadata/{slug}"
        path = f"rfcs/{slug}.md"
        text, sha = self.bot.file_text(path)
        new = set_front_value(text, key, flow_list(values))
        summary = f"- `{key}`: {flow_list(values)}"
        self._update(self.bot, head, path, new, sha,
                     compose(f"Update metadata of {slug}\n\nChanges front matter of"
                             f" rfcs/{slug}.md:\n{summary}", actor), actor)
        body = compose(f"Changes the front matter of `{slug}`:\n\n{summary}", actor)
        self.record(head, self.bot.open_pull(head, f"Update metadata of {slug}", body))
        return head


README = """# RFC index

One markdown entry per RFC lives in `rfcs/<slug>.md` (YAML front matter + body).
Changes arive as pull requests, usually opened by rfc-bot on behalf of a person.
"""


def populate(sb: Sandbox, *, backdate_days: int = 0) -> SampleResult:
    """Fill ``sb`` with the sample meta repository and its pull requests.

    History first, out of band (``sb.commit_files``, authored by the people): a README,
    then one commit per entry in file-name order; graduated entries get a second commit
    that graduates them. Then, through the HTTP API as the bot (§6.1, §6.2), pull
    requests of every §5 kind in every state, plus one opened by ada herself and one on
    a head branch rfctui must ignore (``fix-typo``).

    ``backdate_days`` (the demo; issue 14 §5): the history is spread over that many days
    before the sandbox clock's now instead of all happening "now", so the demo shows
    ages, time in state and stale markers. See `_backdated`. 0 (tests, benches) keeps
    every timestamp at the sandbox clock, as before.
    """
    real_clock = sb.clock
    faults = sb.faults
    saved = (faults.latency_ms, faults.error_rate, faults.down)
    # The sample is setup, not a scenario: injected faults would only make it fail or
    # slow. With error_rate 0 no random draw is consumed, so the seeded sequence a test
    # relies on starts fresh afterwards.
    faults.latency_ms, faults.error_rate, faults.down = 0, 0.0, False
    builder = _Builder(sb, _token(sb, sb.bot))
    try:
        if backdate_days > 0:
            builder.result.entries = _backdated_history(sb, backdate_days)
        else:
            builder.result.entries = _commit_history(sb)
        _run_plan(sb, builder)
    finally:
        sb.clock = real_clock
        sb.date_clock = None
        builder.bot.close()
        faults.latency_ms, faults.error_rate, faults.down = saved
    return builder.result


# Entries the PR plan (`_run_plan`) merges a change into: back-dated before the PRs.
_MERGED_BY_PLAN = ("typed-config", "docs-as-code")


def _backdated_history(sb: Sandbox, days: int) -> list[str]:
    """`_commit_history` spread over the past ``days`` days (deterministic; the demo).

    Each entry is added on its own day (from a hash of its slug, so age does not follow
    the file names) and a graduated one graduates about halfway from then to now; the
    commits are made in date order, each at its own time. Then ``sb.clock`` is left
    stepping (`populate` puts the real one back): the pull requests start about three
    months ago and the clock advances 2 days with every timestamp the sandbox asks for,
    so early PRs (pending ideas among them) are past the 60-day stale threshold and
    later ones are recent; it never passes an hour before the real now.
    """
    end = sb.clock()
    now = [end - timedelta(days=days + 1)]
    sb.clock = lambda: now[0]
    sb.commit_files("main", {"README.md": README.encode()}, "Start the RFC index",
                    author=(PEOPLE["grace"], email_of("grace", sb)))
    events: list[tuple[float, int, str, bytes, str, str]] = []
    slugs: list[str] = []
    for path, data in sample_files().items():
        text = data.decode("utf-8")
        slug = path.removeprefix("rfcs/").removesuffix(".md")
        _check_slug(slug)
        slugs.append(slug)
        proposer = front_value(text, "proposed_by") or "ada"
        title = (front_value(text, "title") or slug).strip('"')
        ago = 8 + zlib.crc32(slug.encode()) % max(days - 8, 1)
        if slug in _MERGED_BY_PLAN:  # before the PRs that merge into it (one time line)
            ago = max(ago, min(days, 100))
        if front_value(text, "state") == "graduated":
            as_idea = text
            for key, raw in (("state", "idea"), ("id", "null"), ("repo", "null"),
                             ("graduated_at", "null"), ("graduated_by", "null")):
                as_idea = set_front_value(as_idea, key, raw)
            events.append((ago, len(events), path, as_idea.encode(),
                           f"Add {slug}: {title}", proposer))
            events.append((ago / 2, len(events), path, data,
                           f"Graduate {slug} as RFC-{front_value(text, 'id')}",
                           front_value(text, "graduated_by") or "grace"))
        else:
            events.append((ago, len(events), path, data, f"Add {slug}: {title}", proposer))
    for when, _seq, path, data, message, login in sorted(events, key=lambda e: (-e[0], e[1])):
        now[0] = max(now[0] + timedelta(minutes=1), end - timedelta(days=when))
        sb.commit_files("main", {path: data}, message,
                        author=(PEOPLE[login], email_of(login, sb)))
    # The PRs have their own time line over the last ~3 months, so their merges onto
    # main may be dated before other entries' later commits; each entry's own commits
    # stay in order (`_MERGED_BY_PLAN`), which is what time in state reads.
    pr_now = [end - timedelta(days=min(days, 90))]

    def stepping() -> datetime:
        pr_now[0] = min(pr_now[0] + timedelta(days=2), end - timedelta(hours=1))
        return pr_now[0]

    sb.clock = stepping
    sb.date_clock = lambda: pr_now[0]  # a Date header reads the clock, never steps it
    return slugs


def _commit_history(sb: Sandbox) -> list[str]:
    sb.commit_files("main", {"README.md": README.encode()}, "Start the RFC index",
                    author=(PEOPLE["grace"], email_of("grace", sb)))
    slugs: list[str] = []
    for path, data in sample_files().items():
        text = data.decode("utf-8")
        slug = path.removeprefix("rfcs/").removesuffix(".md")
        _check_slug(slug)
        slugs.append(slug)
        proposer = front_value(text, "proposed_by") or "ada"
        title = (front_value(text, "title") or slug).strip('"')
        if front_value(text, "state") == "graduated":
            graduated_by = front_value(text, "graduated_by") or "grace"
            as_idea = text
            for key, raw in (("state", "idea"), ("id", "null"), ("repo", "null"),
                             ("graduated_at", "null"), ("graduated_by", "null")):
                as_idea = set_front_value(as_idea, key, raw)
            sb.commit_files("main", {path: as_idea.encode()}, f"Add {slug}: {title}",
                            author=(PEOPLE[proposer], email_of(proposer, sb)))
            rfc_id = front_value(text, "id")
            sb.commit_files("main", {path: data}, f"Graduate {slug} as RFC-{rfc_id}",
                            author=(PEOPLE[graduated_by], email_of(graduated_by, sb)))
        else:
            sb.commit_files("main", {path: data}, f"Add {slug}: {title}",
                            author=(PEOPLE[proposer], email_of(proposer, sb)))
    return slugs


def _run_plan(sb: Sandbox, b: _Builder) -> None:
    """The fixed PR plan (§5 kinds x open/merged/closed). Order matters for merges."""
    # propose/<slug>: one merged (becomes an entry), one closed, four pending ideas.
    b.finish(b.propose("error-budget-policy"), "merge")
    b.finish(b.propose("company-wide-ide"), "close")
    for slug in ("secret-rotation", "flaky-test-quarantine", "dependency-update-bot",
                 "incident-review-template"):
        b.propose(slug)

    # edit/<slug>/<n>: n counts up per slug; 1 merged, then 2 open on top of it.
    b.finish(b.edit("typed-config", 1, "ada",
                    "## Migration plan\n\n1. Ship the loader library.\n"
                    "2. Convert the five services with the most config incidents.\n"
                    "3. Make the loader the default in the service template.",
                    "add a migration plan"), "merge")
    b.edit("typed-config", 2, "grace",
           "## Prior art\n\n- pydantic-settings (Python)\n- envconfig (Go)\n"
           "- Spring `@ConfigurationProperties` (JVM)", "list prior art")
    b.edit("trace-context-propagation", 1, "grace",
           "## Sampling\n\nHead-based sampling at 10 % at the edge; errors are always"
           " kept.", "describe sampling")

    # claim/<slug>: one merged (its branch then deleted, as Gitea can), one open.
    claimed = b.claim("docs-as-code", "ada")
    b.finish(claimed, "merge")
    b.bot.call("DELETE", f"/branches/{claimed}")
    b.claim("local-dev-containers", "grace")

    # metadata/<slug>: one open (tags), one closed (arbiters).
    b.metadata("read-replica-routing", "grace", "tags",
               ["databases", "performance", "reliability"])
    b.finish(b.metadata("feature-flags", "ada", "arbiters", ["grace", "ken"]), "close")

    # A PR opened by a person with her own token (§6.3: Gitea names her, not the bot).
    _human_pull(sb, b)

    # Not ours (§5): a README typo fix on a free-form branch, opened by the site admin.
    admin = _Api(sb, _token(sb, "admin"))
    try:
        text, sha = admin.file_text("README.md")
        fixed = text.replace("arive", "arrive")
        admin.change("main", [{"operation": "update", "path": "README.md",
                               "content": _b64(fixed), "sha": sha}],
                     "Fix typo in README", "admin", new_branch="fix-typo")
        b.record("fix-typo", admin.open_pull("fix-typo", "Fix typo in README",
                                              "arive -> arrive"))
    finally:
        admin.close()


def _human_pull(sb: Sandbox, b: _Builder) -> None:
    """ada edits an entry and opens the PR herself (needs write; granted for the step)."""
    restore = _grant_write(sb, "ada")
    api = _Api(sb, _token(sb, "ada"))
    try:
        b.edit("on-call-handoff-notes", 1, "ada",
               "## Example\n\n> Open: INC-2291 (search latency), mitigated, watching.\n"
               "> Noisy: `disk-usage-warn` on log-03, fired 6 times, not actionable.",
               "add an example note", api=api)
    finally:
        api.close()
        restore()


def _token(sb: Sandbox, login: str) -> str:
    user = sb.user_by_login(login)
    if user is None:
        raise SampleError(f"the sample needs a sandbox user {login!r}")
    return user.token


def _grant_write(sb: Sandbox, login: str) -> Callable[[], None]:
    """Give ``login`` write access; return the function that restores the original."""
    from dataclasses import replace

    original = sb.user_by_login(login)
    if original is None:
        raise SampleError(f"the sample needs a sandbox user {login!r}")
    if not original.can_write():
        sb.add_user(replace(original, permission="write"))
    return lambda: sb.add_user(original)
