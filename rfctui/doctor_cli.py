"""``rfctui doctor [--json]``: what is wrong with this set-up (issue 14 §2).

Runs even when the configuration cannot be read — that is then its one ✗ — so a new
user can always start here. Output: one line per check, ``✓`` or ``✗`` and what was
found, and for each ✗ an indented ``fix:`` line naming the setting to change. Lines go
through `rfctui.text.emit` (a server's version string or a login is other people's
text, §7.4/§11); ``--json`` prints ``{"schema": 1, "ok", "checks": [{"name", "ok",
"text", "fix"}]}``. No token is ever printed: only the names of the settings.

Exit status: 0 every check passed, 1 at least one ✗, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from rfctui.subcommand import SubcommandParser, Usage
from rfctui.text import emit, emit_json

if TYPE_CHECKING:
    from rfctui.config import Config
    from rfctui.doctor import Report

__all__ = ["HELP", "Usage", "main", "main_unconfigured", "parse", "parser"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
HELP = (
    "checks, in order: the config file; the Gitea server (reachable, really a Gitea, "
    "the right URL path); your token (RFCTUI_USER_TOKEN); the org and meta repository; "
    "the bot token (RFCTUI_BOT_TOKEN) and its write access; the cache, the actions log "
    "and drafts.  Each ✗ says what to change.  No token is ever printed.  "
    "exit status: 0 all well, 1 something to fix, 2 bad usage.  "
    "example: rfctui doctor --json"
)



def parser() -> argparse.ArgumentParser:
    """The ``doctor`` subcommand's arguments (``--help`` needs no configuration)."""
    p = SubcommandParser(
        prog="rfctui doctor",
        description="Check the set-up: one line per check, ✓ or ✗ with the fix.",
        epilog=HELP,
    )
    p.add_argument("--json", action="store_true",
                   help="print the checks as JSON (schema 1), e.g. for a script")
    return p


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``doctor ...`` (argv without the word ``doctor``); SystemExit on --help."""
    return parser().parse_args(list(argv))


def _print(report: Report, as_json: bool, out: TextIO) -> int:
    if as_json:
        emit_json(report.to_json(), file=out)
    else:
        for check in report.checks:
            emit(f"{'✓' if check.ok else '✗'} {check.text}", file=out)
            if not check.ok and check.fix:
                emit(f"    fix: {check.fix}", file=out)
    return EXIT_OK if report.ok else EXIT_FAIL


def main(argv: Sequence[str], config: Config, out: TextIO, err: TextIO) -> int:
    """Run every check against ``config``."""
    from rfctui.doctor import diagnose

    args = parse(argv)
    return _print(asyncio.run(diagnose(config)), args.json, out)


def main_unconfigured(argv: Sequence[str], error: str, out: TextIO, err: TextIO) -> int:
    """The configuration could not be read: that is the report."""
    from rfctui.config import default_config_file
    from rfctui.doctor import config_failure

    args = parse(argv)
    return _print(config_failure(error, default_config_file()), args.json, out)
