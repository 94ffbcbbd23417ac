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
from pathlib import Path
from typing import NoReturn, TextIO

from rfctui.bot.errors import ActionFailed, ActionsDisabled, ValidationError
from rfctui.config import Config
from rfctui.session import Session
from rfctui.text import emit, shorten

__all__ = ["Usage", "main", "parse"]

EXIT_FAILED, EXIT_USAGE, EXIT_DISABLED = 1, 2, 3
LINE = 400  # characters of one error line


class Usage(Exception):
    """An argument error: one line and exit 2 (`rfctui.cli` prints it)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise Usage(f"comment: {message} (see rfctui comment --help)")


def _parser() -> _Parser:
    p = _Parser(
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


def _read_body(spec: str, stdin: TextIO) -> str:
    if spec == "-":
        return stdin.read()
    try:
        return Path(spec).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8"
        raise Usage(f"comment: cannot read --body-file {spec!r}: {reason}") from None


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
    body = _read_body(args.body_file, stdin)
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
    except ValidationError as exc:
        emit(f"rfctui: nothing was sent: {shorten(exc, LINE)}", file=err)
        return EXIT_USAGE
    except ActionsDisabled as exc:
        emit(f"rfctui: {shorten(exc, LINE)}", file=err)
        return EXIT_DISABLED
    except ActionFailed as exc:
        aid = exc.action_id
        if aid and exc.offline:
            emit(f"rfctui: Gitea unreachable; kept as action #{aid}: "
                 f"rfctui actions --retry {aid}", file=err)
        else:
            hint = f" (saved as action #{aid}: rfctui actions --retry {aid})" if aid else ""
            emit(f"rfctui: {shorten(exc, LINE)}{hint}", file=err)
        return EXIT_FAILED
    except Exception as exc:  # never a traceback (one actionable line)
        emit(f"rfctui: {shorten(exc, LINE) or type(exc).__name__}", file=err)
        return EXIT_FAILED
    finally:
        session.close()
    for w in result.warnings:
        emit(f"warning: {shorten(w, LINE)}", file=err)
    if result.refresh_error:
        emit(f"warning: cache not refreshed: {shorten(result.refresh_error, LINE)}", file=err)
    if result.reused_pr:  # a retry found it already posted
        emit(f"rfctui: {shorten(result.note, LINE)}", file=err)
    emit(result.html_url or f"PR #{result.pr_number}", file=out)
    return 0
