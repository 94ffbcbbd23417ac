"""``rfctui log SLUG [--json]``: the life of one entry (issue 12 §2).

Offline once fetched: the timeline comes from the cache (`Session.timeline`). The
entry's commit list is fetched once from Gitea (`Session.backfill_history` for that one
slug, every state) when it was never stored — entries in a resting state are not walked
by the time-in-state work — and kept in the cache; later runs ask nothing.

Output: one aligned line per event, newest first — date, kind, person, PR, commit,
summary — through `rfctui.text.emit` (commit messages and titles are other people's
text: a control character is shown escaped, never sent to the terminal, §7.4/§11);
``--json`` prints ``{"schema": 1, "slug", "events": [...]}`` through
`rfctui.text.emit_json`.

Exit status: 0 shown, 1 the cache cannot be read or the history cannot be fetched,
2 bad usage or configuration, or an unknown slug.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from rfctui.entry import InvalidSlug, validate_slug
from rfctui.subcommand import SubcommandParser, Usage
from rfctui.text import emit, emit_json, shorten

if TYPE_CHECKING:
    from rfctui.config import Config
    from rfctui.timeline import Timeline

__all__ = ["HELP", "Usage", "main", "parse", "parser", "render"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
HELP = (
    "exit status: 0 shown, 1 the cache cannot be read or the history cannot be fetched, "
    "2 bad usage or configuration, or an unknown slug.  The entry's commit list is "
    "fetched from Gitea once, then read from the local cache (offline)."
)



def parser() -> argparse.ArgumentParser:
    """The ``log`` subcommand's arguments (``--help`` needs no configuration)."""
    p = SubcommandParser(
        prog="rfctui log",
        description="The life of an RFC entry: its commits on main and its pull requests, "
        "newest first, each with the real person behind it.",
        epilog=HELP,
    )
    p.add_argument("slug", metavar="SLUG", help="the entry's slug")
    p.add_argument("--json", action="store_true", help="print the timeline as JSON (schema 1)")
    return p


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``log ...`` (argv without the word ``log``); SystemExit on --help."""
    args = parser().parse_args(list(argv))
    try:
        validate_slug(args.slug)
    except InvalidSlug as exc:
        raise Usage(f"log: {shorten(exc)}") from None
    return args


def _date(event_at: object) -> str:
    from datetime import datetime

    return event_at.strftime("%Y-%m-%d %H:%M") if isinstance(event_at, datetime) else "-"


def render(timeline: Timeline) -> list[str]:
    """The plain lines, aligned; the summary (any length) comes last. Text is raw here
    (`emit` escapes it on the way out)."""
    rows = [
        (
            _date(e.at), e.kind, e.actor,
            "" if e.pr_number is None else f"#{e.pr_number}",
            (e.commit or "")[:10], e.summary,
        )
        for e in timeline.events
    ]
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return [
        "  ".join(f"{col:<{widths[i]}}" for i, col in enumerate(r[:5])).rstrip()
        + f"  {r[5]}".rstrip()
        for r in rows
    ]


def main(argv: Sequence[str], config: Config, out: TextIO, err: TextIO) -> int:
    """Run ``rfctui log`` (argv without the word ``log``) against ``config``."""
    args = parse(argv)
    slug: str = args.slug
    from rfctui.session import Session

    session = Session(config, repair_actions=False)
    try:
        cache = session.cache()
        if cache.rfc(slug) is None and not cache.pulls_for(slug):
            raise Usage(
                f"log: no entry {slug!r} in the cache (refresh it with rfctui --sync)"
            )
        timeline = session.timeline(slug)
        if not timeline.history_known and cache.rfc(slug) is not None:
            result = asyncio.run(session.backfill_history(slugs=[slug], all_states=True))
            timeline = session.timeline(slug)
            if not timeline.history_known:
                why = result.error or "Gitea listed no commit for it"
                emit(f"rfctui: cannot read the history of {slug}: {shorten(why)}", file=err)
                return EXIT_FAIL
        for notice in session.take_notices():
            emit(f"rfctui: {shorten(notice.text)}", file=err)
    finally:
        session.close()
    if args.json:
        emit_json(timeline.to_json(), file=out)
    else:
        for line in render(timeline):
            emit(line, file=out)
    return EXIT_OK
