"""`rfctui comment PR_NUMBER --body-file F|-`: comment on a pull request through the bot
(issue 12 §3; SPEC §6, §10).

The same path as `C` in the UI (`rfctui.session.Session.perform` with
``{"action": "comment", ...}``): the text is neutralised so it cannot forge a trailer,
the `On-behalf-of:` trailer naming you is its last line, and it is kept in the actions
log before it is sent, so a failure is retried with ``rfctui actions --retry ID``
(which never posts it twice).

Exit status: 0 posted (the comment's URL on stdout), 1 the comment could not be posted
(it is kept in the actions log for a retry) or the actions log cannot be opened,
2 bad input (empty text, no such PR, an unreadable file: nothing saved or sent),
3 actions disabled (no token of your own, or it is the bot's).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from rfctui.actions_cli import LINE, BodyFileError, failed, read_body, report
from rfctui.bot.errors import ValidationError
from rfctui.config import Config
from rfctui.session import Session
from rfctui.subcommand import SubcommandParser, Usage
from rfctui.text import emit, shorten

__all__ = ["Usage", "main", "parse"]



def _parser() -> SubcommandParser:
    p = SubcommandParser(
        prog="rfctui comment",
        description=(
            "Comment on a pull request of the meta repository. The bot posts it on your "
            "behalf: what you wrote (any line that looks like a trailer is quoted), then "
            "'On-behalf-of: Your Name <login>' as its last line. Kept in the actions log "
            "before it is sent."
        ),
        epilog=(
            "exit status: 0 posted (the comment's URL on stdout); 1 not posted, kept for "
            "`rfctui actions --retry ID`; 2 bad input (empty text, unknown PR), nothing "
            "saved or sent; 3 actions disabled (set RFCTUI_USER_TOKEN to your own token)"
        ),
    )
    p.add_argument("pr_number", type=int, metavar="PR_NUMBER", help="the pull request")
    p.add_argument("--body-file", metavar="F", required=True,
                   help="the comment (markdown); '-' reads stdin")
    return p


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The arguments, checked before any configuration is read (``--help`` exits 0)."""
    return _parser().parse_args(list(argv))


def main(
    argv: Sequence[str],
    config: Config,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    stdin: TextIO | None = None,
) -> int:
    """Post the comment; print its URL, or one line on stderr and the exit status."""
    out, err, stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin
    args = parse(argv)
    try:
        body = read_body(args.body_file, stdin)
    except BodyFileError as exc:
        raise Usage(f"comment: {exc}") from None
    session = Session(config)
    try:
        try:
            if not body.strip():  # pure check: an empty comment costs no request
                raise ValidationError({"body": "the comment is empty"})
            result = asyncio.run(session.perform(
                {"action": "comment", "pr_number": args.pr_number, "body": body}
            ))
        finally:  # a log moved aside etc., before the result or the error line
            for notice in session.take_notices():
                emit(f"rfctui: {shorten(notice.text, LINE)}", file=err)
    except Exception as exc:  # noqa: BLE001 — never a traceback: one line, an exit status
        return failed(exc, err)
    finally:
        session.close()
    # the note only when a retry found it already posted
    return report(result, out, err, note=result.reused_pr)
