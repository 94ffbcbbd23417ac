"""``rfctui queue [--as LOGIN] [--all] [--json]``: what is waiting on you (SPEC §9; issue 11).

Headless and offline: the queue comes from the local cache (run ``rfctui --sync`` to
refresh it) through `rfctui.session.Session.queue_verified`, the UI's own path. Without
``--as`` it is the verified user's queue: the identity last verified on this machine
needs no network; only when none is known is Gitea asked (``GET /user``).

Output: one aligned line per item — tier (``*`` when snoozed, with ``--all``), age in
days, reason words, slug, PR, title — through
`rfctui.text.emit` (titles and logins are other people's text: a control character is
shown escaped, never sent to the terminal, §7.4/§11); ``--json`` prints exactly
`rfctui.attention.to_json` through `rfctui.text.emit_json`. Notes (arbiters not fetched
yet, a malformed team file, an empty queue for somebody with no role) go to stderr.

Exit status: 0 the queue was shown (even empty), 1 the cache cannot be read, 2 bad
usage or configuration, 3 who you are cannot be told (no token, refused, never verified
and Gitea unreachable) — ``--as LOGIN`` still works then.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from rfctui.subcommand import SubcommandParser, Usage
from rfctui.text import emit, emit_json, shorten

if TYPE_CHECKING:
    from rfctui.config import Config
    from rfctui.triage import QueueResult

__all__ = ["EXIT_DISABLED", "HELP", "main", "parser", "render"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_DISABLED = 0, 1, 2, 3
HELP = (
    "exit status: 0 shown (even empty), 1 the cache cannot be read, 2 bad usage or "
    "configuration, 3 who you are cannot be verified (use --as LOGIN).  Reasons: decide, "
    "review (blocking); stale, needs_arbiter (action); idle_pr (waiting).  Offline: reads "
    "the local cache (refresh it with rfctui --sync)."
)
_TIER_WORDS = {"blocking": "blocking", "action": "action", "waiting": "waiting"}



def parser() -> argparse.ArgumentParser:
    """The ``queue`` subcommand's arguments (``--help`` needs no configuration)."""
    p = SubcommandParser(
        prog="rfctui queue",
        description="What needs you: RFC entries and pull requests waiting on a person, "
        "from the local cache.",
        epilog=HELP,
    )
    p.add_argument(
        "--as", dest="login", metavar="LOGIN",
        help="show LOGIN's queue instead of yours (no identity check needed)",
    )
    p.add_argument("--all", action="store_true", help="include snoozed rows (marked)")
    p.add_argument("--json", action="store_true", help="print the queue as JSON (schema 1)")
    return p


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``queue ...`` (argv without the word ``queue``); SystemExit on --help."""
    return parser().parse_args(list(argv))


def _age(days: int | None) -> str:
    return "-" if days is None else f"{days}d"


def render(result: QueueResult) -> list[str]:
    """The plain lines: tier, age, reason words, slug, PR, title — aligned in columns.

    The text is raw here (`emit` escapes it on the way out); widths are measured on the
    raw text, so a line with an escaped control character is one column wider, never
    two lines. The title comes last: it is the only column of any length.
    """
    rows = [
        (
            _TIER_WORDS.get(item.tier, item.tier) + ("*" if item.snoozed else ""),
            _age(item.age_days),
            item.text,
            item.slug,
            "" if item.pr_number is None else f"#{item.pr_number}",
            item.title,
        )
        for item in result.items
    ]
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for tier, age, text, slug, pr, title in rows:
        line = (
            f"{tier:<{widths[0]}}  {age:>{widths[1]}}  {text:<{widths[2]}}  "
            f"{slug:<{widths[3]}}  {pr:<{widths[4]}}  {title}"
        )
        lines.append(line.rstrip())
    return lines


def main(argv: Sequence[str], config: Config, out: TextIO, err: TextIO) -> int:
    """Run ``rfctui queue`` (argv without the word ``queue``) against ``config``."""
    args = parse(argv)
    from rfctui.bot.errors import ActionsDisabled
    from rfctui.session import Session

    login: str | None = args.login.strip() if args.login else None
    if args.login is not None and not login:
        raise Usage("queue: --as needs a login")
    session = Session(config, repair_actions=False)
    try:
        try:
            result = asyncio.run(session.queue_verified(login, include_snoozed=args.all))
        except ActionsDisabled as exc:
            emit(f"rfctui: {shorten(exc)}; `rfctui queue --as LOGIN` still works", file=err)
            return EXIT_DISABLED
        for notice in session.take_notices():
            emit(f"rfctui: {shorten(notice.text)}", file=err)
        status = session.cache().sync_status()
    finally:
        session.close()
    for note in result.notes:
        emit(f"rfctui: {shorten(note)}", file=err)
    if status.synced_at is None:
        emit("rfctui: the cache has never been synced: run `rfctui --sync` first", file=err)
    if args.json:
        emit_json(result.to_json(), file=out)
    else:
        for line in render(result):
            emit(line, file=out)
    if not result.items:
        if not result.has_roles:
            who = "you have" if login is None else f"{result.login} has"
            emit(
                f"rfctui: nothing waits on {result.login}: {who} no role on any entry or"
                " open pull request in the cache",
                file=err,
            )
        else:
            hidden = f" ({result.snoozed_hidden} snoozed; --all shows them)" if (
                result.snoozed_hidden
            ) else ""
            emit(f"rfctui: nothing waits on {result.login}{hidden}", file=err)
    elif result.snoozed_hidden:
        emit(f"rfctui: {result.snoozed_hidden} snoozed row(s) hidden; --all shows them", file=err)
    return EXIT_OK
