"""`rfctui propose|edit|claim|metadata|actions` for scripting (SPEC §6, §8).

Why a thin layer: the command line must take exactly the UI's code path (one
`rfctui.session.Session`: `perform`, `retry`), so this module only parses arguments,
hands the request to the session, and turns the outcome into the PR's URL on stdout or
one line on stderr with a non-zero exit.

Exit status: 0 success, 1 the action failed (it stays in the actions log for
`rfctui actions --retry ID`), 2 bad input or refused by pre-flight (nothing was sent or
logged: e.g. ``claim/x already has open PR #4 by grace``), 3 actions disabled. A change
added to your open PR prints ``rfctui: added to your open PR #N`` on stderr, the URL on
stdout as always.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from rfctui.bot.checks import check_edit, check_metadata, check_propose, parse_metadata_value
from rfctui.bot.errors import ActionFailed, ActionsDisabled, ValidationError
from rfctui.config import Config
from rfctui.entry import InvalidSlug, validate_slug
from rfctui.results import ActionResult
from rfctui.session import Session
from rfctui.text import emit, shorten

if TYPE_CHECKING:
    from rfctui.db import ActionsLog

__all__ = ["COMMANDS", "main"]

COMMANDS = ("propose", "edit", "claim", "metadata", "actions")
EXIT_FAILED, EXIT_USAGE, EXIT_DISABLED = 1, 2, 3
LINE = 400  # characters of one error line


class _Usage(Exception):
    """An argument error, reported on one line instead of argparse's usage dump."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Usage(f"{self.prog}: {message}")


def _parser() -> _Parser:
    p = _Parser(prog="rfctui", description="Act on RFCs through the bot.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    pp = sub.add_parser("propose", help="propose a new RFC idea (opens propose/<slug>)")
    pp.add_argument("--slug", required=True, help="lowercase letters, digits and hyphens")
    pp.add_argument("--title", required=True)
    pp.add_argument("--body-file", metavar="F", help="markdown body; '-' reads stdin")
    pp.add_argument("--tag", action="append", default=[], metavar="X")
    pp.add_argument("--arbiter", action="append", default=[], metavar="LOGIN")
    pe = sub.add_parser("edit", help="replace an entry's body (opens edit/<slug>/<n>)")
    pe.add_argument("slug", help="the entry (rfcs/<slug>.md)")
    pe.add_argument("--body-file", metavar="F", required=True, help="'-' reads stdin")
    pc = sub.add_parser("claim", help="add yourself to an entry's owners (opens claim/<slug>)")
    pc.add_argument("slug", help="the entry (rfcs/<slug>.md)")
    pm = sub.add_parser("metadata", help="change front matter (opens metadata/<slug>)")
    pm.add_argument("slug", help="the entry (rfcs/<slug>.md)")
    pm.add_argument(
        "--set", action="append", required=True, metavar="KEY=VALUE", dest="sets",
        help="e.g. state=parked, tags=a,b (lists are comma-separated; empty = null/[])",
    )
    pa = sub.add_parser("actions", help="list pending/failed actions; retry or discard one")
    g = pa.add_mutually_exclusive_group()
    g.add_argument("--retry", type=int, metavar="ID")
    g.add_argument("--discard", type=int, metavar="ID")
    return p


def _read_body(spec: str | None, stdin: TextIO) -> str:
    if spec is None:
        return ""
    if spec == "-":
        return stdin.read()
    try:
        return Path(spec).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8"
        raise _Usage(f"rfctui: cannot read --body-file {spec!r}: {reason}") from None


def _parse_sets(sets: Sequence[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _Usage(f"rfctui metadata: --set needs KEY=VALUE, got {item!r}")
        key = key.strip()
        try:
            changes[key] = parse_metadata_value(key, value)
        except ValidationError as exc:
            raise _Usage(f"rfctui metadata: {exc}") from None
    return changes


def _check_slug(slug: str) -> None:
    try:
        validate_slug(slug)
    except InvalidSlug as exc:
        raise ValidationError({"slug": str(exc)}) from None


def _tell_notices(session: Session, err: TextIO) -> None:
    """Say each notice once: a file moved aside, or one that cannot be opened."""
    for notice in session.take_notices():
        emit(f"rfctui: {shorten(notice.text, LINE)}", file=err)


def _list_actions(log: ActionsLog | None, out: TextIO) -> int:
    rows = [*log.pending(), *log.failed()] if log is not None else []
    if not rows:
        emit("no pending or failed actions", file=out)
        return 0
    emit(f"{'ID':>4}  {'KIND':<18} {'SLUG':<28} {'STATUS':<8} ERROR", file=out)
    for row in sorted(rows, key=lambda r: r.id):
        emit(
            f"{row.id:>4}  {row.kind:<18} {row.slug:<28} "
            f"{row.status:<8} {shorten(row.error or '', LINE)}",
            file=out,
        )
    return 0


def _discard(session: Session, action_id: int, out: TextIO, err: TextIO) -> int:
    log = session.actions_log()
    row = log.get(action_id) if log is not None else None
    if row is None:
        emit(f"rfctui: no action #{action_id} in the log", file=err)
        return EXIT_FAILED
    if row.status not in ("pending", "failed", "discarded"):  # a done action attributes
        pr = f" (PR #{row.pr_number})" if row.pr_number is not None else ""  # its PR
        emit(f"rfctui: cannot discard action #{action_id}: it is {row.status}{pr}; only "
             "pending or failed actions can be discarded", file=err)
        return EXIT_FAILED
    session.discard(action_id)  # the log checks again, atomically (ActionStateError)
    emit(f"discarded action #{action_id}", file=out)
    return 0


def main(
    argv: Sequence[str],
    config: Config | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one action subcommand; print the PR's URL or one error line (§8).

    `config` may be None for ``--help``, which needs no server.
    """
    stdin, out, err = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    session: Session | None = None
    try:
        try:
            args = _parser().parse_args(list(argv))
        except SystemExit as exc:  # --help printed; config is not needed for that
            return int(exc.code or 0)
        request = _request(args, stdin)  # pure checks: bad input costs no request
        if config is None:
            raise _Usage("rfctui: no configuration (run it as `rfctui ...`)")
        session = Session(config)
        try:
            if request is not None:
                result = asyncio.run(session.perform(request))
            elif args.discard is not None:
                return _discard(session, args.discard, out, err)
            elif args.retry is not None:
                result = asyncio.run(session.retry(args.retry))
            else:
                log = session.actions_log()
                if log is None and config.actions_file.exists():
                    _tell_notices(session, err)  # it exists but cannot be opened
                    return EXIT_FAILED
                return _list_actions(log, out)
        finally:  # before the result or the error line
            _tell_notices(session, err)
        return _report(result, out, err)
    except _Usage as exc:
        emit(shorten(exc, LINE), file=err)
        return EXIT_USAGE
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
            return EXIT_FAILED
        hint = f" (saved as action #{aid}: rfctui actions --retry {aid})"
        emit(f"rfctui: {shorten(exc, LINE)}{hint if aid else ''}", file=err)
        return EXIT_FAILED
    except Exception as exc:  # never a traceback (HELPERS: one actionable line)
        emit(f"rfctui: {shorten(exc, LINE) or type(exc).__name__}", file=err)
        return EXIT_FAILED
    finally:
        if session is not None:
            session.close()


def _request(args: argparse.Namespace, stdin: TextIO) -> dict[str, Any] | None:
    """The action's request for `Session.perform` after the pure checks (§6), or None
    for ``actions``. Raises `ValidationError` / `_Usage` before anything is sent."""
    if args.command == "propose":
        body = _read_body(args.body_file, stdin)
        check_propose(args.slug, args.title, args.tag, args.arbiter)
        return {"action": "propose", "slug": args.slug, "title": args.title, "body": body,
                "tags": tuple(args.tag), "arbiters": tuple(args.arbiter)}
    if args.command == "edit":
        body = _read_body(args.body_file, stdin)
        check_edit(args.slug, body)
        return {"action": "edit", "slug": args.slug, "body": body}
    if args.command == "claim":
        _check_slug(args.slug)
        return {"action": "claim", "slug": args.slug}
    if args.command == "metadata":
        changes = check_metadata(args.slug, _parse_sets(args.sets))
        return {"action": "metadata", "slug": args.slug, "changes": changes}
    return None


def _report(result: ActionResult, out: TextIO, err: TextIO) -> int:
    for w in result.warnings:
        emit(f"warning: {shorten(w, LINE)}", file=err)
    if result.refresh_error:
        emit(f"warning: cache not refreshed: {shorten(result.refresh_error, LINE)}", file=err)
    if result.note:  # e.g. "added to your open PR #7" (a stacked change)
        emit(f"rfctui: {shorten(result.note, LINE)}", file=err)
    emit(result.html_url or f"PR #{result.pr_number}", file=out)
    return 0
