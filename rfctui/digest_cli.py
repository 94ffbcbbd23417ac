"""``rfctui digest [--since 7d] [--format md|json]``: the weekly "proposal minutes"
(issue 12 §4), from the local cache only (offline; refresh it with ``rfctui --sync``).

Output: ``md`` (default) is markdown a chair can paste — a heading, then state changes,
new ideas, merged edits, new entries, stale entries and who did what as bullet lists.
Other people's text (titles, states, logins) has its markdown-active punctuation
backslash-escaped (`rfctui.digest.md_escape`), so a hostile title cannot forge a
heading, a link, an image, an HTML tag or a mention in the pasted post, and every line
goes through `rfctui.text.emit` (no control character reaches the terminal, §7.4/§11).
``json`` prints ``{"schema": 1, "since", "until", "synced_at", "notes", "state_changes",
"new_ideas", "merged", "new_entries", "stale", "people"}`` through
`rfctui.text.emit_json`.

``--since``: ``Nh``, ``Nd``, ``Nw`` (hours, days, weeks before now) or an ISO date or
time (``2026-11-30``, ``2026-11-30T09:00:00Z``; without a zone, UTC).

Exit status: 0 shown (even empty), 1 the cache cannot be read, 2 bad usage or
configuration.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from rfctui.subcommand import SubcommandParser, Usage
from rfctui.text import emit, emit_json, shorten

if TYPE_CHECKING:
    from rfctui.config import Config

__all__ = ["HELP", "Usage", "main", "parse", "parse_since", "parser"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
HELP = (
    "exit status: 0 shown (even empty), 1 the cache cannot be read, 2 bad usage or "
    "configuration.  Offline: reads the local cache only (refresh it with rfctui --sync); "
    "entries whose history was never read are named in a note, not fetched."
)
_RELATIVE = re.compile(r"(\d{1,5})([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}



def parser() -> argparse.ArgumentParser:
    """The ``digest`` subcommand's arguments (``--help`` needs no configuration)."""
    p = SubcommandParser(
        prog="rfctui digest",
        description="What happened in the RFC process since a date, as markdown to paste "
        "(state changes, new ideas, merged edits, new and stale entries, who did what).",
        epilog=HELP,
    )
    p.add_argument("--since", default="7d", metavar="WHEN",
                   help="Nh, Nd, Nw before now, or an ISO date/time in UTC (default 7d)")
    p.add_argument("--format", choices=("md", "json"), default="md",
                   help="md: markdown (default); json: schema 1")
    return p


def parse_since(value: str, now: datetime) -> datetime:
    """``--since`` as an aware UTC datetime; `Usage` (one line) when it is not one."""
    text = value.strip()
    match = _RELATIVE.fullmatch(text)
    if match is not None:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise Usage(
            f"digest: --since {shorten(value, 60)!r} is not Nh, Nd, Nw or an ISO date"
            " (e.g. 7d, 2w, 2026-11-30)"
        ) from None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if when > now:
        raise Usage(f"digest: --since {shorten(value, 60)!r} is in the future")
    return when


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``digest ...`` (argv without the word ``digest``); SystemExit on --help."""
    args = parser().parse_args(list(argv))
    parse_since(args.since, datetime.now(UTC))
    return args


def main(argv: Sequence[str], config: Config, out: TextIO, err: TextIO) -> int:
    """Run ``rfctui digest`` (argv without the word ``digest``) against ``config``.
    A cache that cannot be read raises `rfctui.db.CacheError` (the CLI: exit 1)."""
    args = parse(argv)
    from rfctui.digest import markdown
    from rfctui.session import Session

    session = Session(config, repair_actions=False)
    try:
        now = session.clock()
        digest = session.digest(parse_since(args.since, now), now)
        for notice in session.take_notices():
            emit(f"rfctui: {shorten(notice.text)}", file=err)
    finally:
        session.close()
    if args.format == "json":
        emit_json(digest.to_json(), file=out)
    else:
        for line in markdown(digest):
            emit(line, file=out)
    return EXIT_OK
