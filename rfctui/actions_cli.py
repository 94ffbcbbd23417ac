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
import textwrap
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


_EXITS = (
    "exit status: 0 done (the pull request's URL on stdout), 1 the action failed (kept in "
    "the actions log: rfctui actions --retry ID), 2 bad input or refused before sending "
    "(nothing sent or kept), 3 actions disabled (set RFCTUI_USER_TOKEN to your own token)."
)


def _sub(sub: Any, name: str, summary: str, examples: str, exits: str = _EXITS) -> _Parser:
    """One subcommand: a one-line description, examples and the exit codes (§11: all of it
    readable with no configuration)."""
    return sub.add_parser(  # type: ignore[no-any-return]
        name, help=summary, description=textwrap.fill(summary, 79),
        epilog=f"examples:\n{examples}\n\n{textwrap.fill(exits, 79)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> _Parser:
    p = _Parser(prog="rfctui", description="Act on RFCs through the bot.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    pp = _sub(sub, "propose",
              "Propose a new RFC idea: the bot opens propose/<slug> with rfcs/<slug>.md "
              "(state idea, proposed by you).",
              "  rfctui propose --slug typed-config --title 'Typed configuration' \\\n"
              "      --body-file idea.md --tag config --arbiter grace\n"
              "  echo 'Why we need it' | rfctui propose --slug x --title X --body-file -")
    pp.add_argument("--slug", required=True,
                    help="the entry's name: lowercase letters, digits and inner hyphens, "
                    "1-64 characters (e.g. typed-config)")
    pp.add_argument("--title", required=True, help="one line, e.g. 'Typed configuration'")
    pp.add_argument("--body-file", metavar="F",
                    help="the markdown body from file F; '-' reads stdin (default: empty)")
    pp.add_argument("--tag", action="append", default=[], metavar="X",
                    help="a tag, repeatable: --tag config --tag dx")
    pp.add_argument("--arbiter", action="append", default=[], metavar="LOGIN",
                    help="a Gitea login who decides, repeatable: --arbiter grace")
    pe = _sub(sub, "edit",
              "Replace an entry's body: the bot opens edit/<slug>/<n> (front matter "
              "unchanged).",
              "  rfctui edit typed-config --body-file new-body.md\n"
              "  $EDITOR body.md && rfctui edit typed-config --body-file - < body.md")
    pe.add_argument("slug", help="the entry (rfcs/<slug>.md), e.g. typed-config")
    pe.add_argument("--body-file", metavar="F", required=True,
                    help="the new markdown body from file F; '-' reads stdin")
    pc = _sub(sub, "claim",
              "Add yourself to an entry's owners: the bot opens claim/<slug>.",
              "  rfctui claim typed-config")
    pc.add_argument("slug", help="the entry (rfcs/<slug>.md), e.g. typed-config")
    pm = _sub(sub, "metadata",
              "Change an entry's front matter: the bot opens metadata/<slug> (keys rfctui "
              "does not know are kept).",
              "  rfctui metadata typed-config --set state=parked\n"
              "  rfctui metadata typed-config --set tags=config,dx --set owners=")
    pm.add_argument("slug", help="the entry (rfcs/<slug>.md), e.g. typed-config")
    pm.add_argument(
        "--set", action="append", required=True, metavar="KEY=VALUE", dest="sets",
        help="repeatable; lists are comma-separated (tags=a,b), an empty value is "
        "null or [] (owners=), state is one of idea, graduated, parked, declined, "
        "superseded, withdrawn",
    )
    pa = _sub(sub, "actions",
              "List the actions not yet done (pending or failed); retry or discard one.",
              "  rfctui actions\n  rfctui actions --retry 3\n  rfctui actions --discard 3",
              "exit status: 0 listed, retried or discarded (retrying an action already done "
              "prints its URL), 1 the retry failed or no such action, 2 bad usage, "
              "3 actions disabled.")
    g = pa.add_mutually_exclusive_group()
    g.add_argument("--retry", type=int, metavar="ID",
                   help="send action ID again (never a second pull request)")
    g.add_argument("--discard", type=int, metavar="ID",
                   help="stop offering action ID (it stays in the log for audit)")
    return p


def preparse(argv: Sequence[str], err: TextIO) -> int | None:
    """Check the arguments before any configuration is read: ``--help`` and a usage
    error need no server (§11). None: go on; else the exit status (help shown, or the
    error said in one line)."""
    try:
        _parser().parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    except _Usage as exc:
        emit(shorten(exc, LINE), file=err)
        return EXIT_USAGE
    return None


class BodyFileError(Exception):
    """``--body-file`` cannot be read: one line naming the file (the caller's usage error)."""


def read_body(spec: str | None, stdin: TextIO) -> str:
    """The text of ``--body-file`` (``-``: stdin; None: empty) for every action command."""
    if spec is None:
        return ""
    if spec == "-":
        return stdin.read()
    try:
        return Path(spec).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8"
        raise BodyFileError(f"cannot read --body-file {spec!r}: {reason}") from None


def _read_body(spec: str | None, stdin: TextIO) -> str:
    try:
        return read_body(spec, stdin)
    except BodyFileError as exc:
        raise _Usage(f"rfctui: {exc}") from None


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


def _already_done(session: Session, action_id: int) -> str | None:
    """The URL (or ``PR #N``) of an action that is already done, else None."""
    log = session.actions_log()
    row = log.get(action_id) if log is not None else None
    if row is None or row.status != "done":
        return None
    return row.pr_url or (f"PR #{row.pr_number}" if row.pr_number is not None else "done")


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
                done = _already_done(session, args.retry)
                if done is not None:  # nothing to send: say where it went (exit 0)
                    emit(f"rfctui: action #{args.retry} is already done", file=err)
                    emit(done, file=out)
                    return 0
                result = asyncio.run(session.retry(args.retry))
            else:
                log = session.actions_log()
                if log is None and config.actions_file.exists():
                    _tell_notices(session, err)  # it exists but cannot be opened
                    return EXIT_FAILED
                return _list_actions(log, out)
        finally:  # before the result or the error line
            _tell_notices(session, err)
        return report(result, out, err)
    except _Usage as exc:
        emit(shorten(exc, LINE), file=err)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 — never a traceback: one line, an exit status
        return failed(exc, err)
    finally:
        if session is not None:
            session.close()


def failed(exc: Exception, err: TextIO) -> int:
    """One line on stderr and the exit status for an action that did not complete: bad
    input (2, nothing sent), actions disabled (3), failed and kept for a retry (1)."""
    if isinstance(exc, ValidationError):
        emit(f"rfctui: nothing was sent: {shorten(exc, LINE)}", file=err)
        return EXIT_USAGE
    if isinstance(exc, ActionsDisabled):
        emit(f"rfctui: {shorten(exc, LINE)}", file=err)
        return EXIT_DISABLED
    if isinstance(exc, ActionFailed):
        aid = exc.action_id
        if aid and exc.offline:
            emit(f"rfctui: Gitea unreachable; kept as action #{aid}: "
                 f"rfctui actions --retry {aid}", file=err)
            return EXIT_FAILED
        hint = f" (saved as action #{aid}: rfctui actions --retry {aid})"
        emit(f"rfctui: {shorten(exc, LINE)}{hint if aid else ''}", file=err)
        return EXIT_FAILED
    emit(f"rfctui: {shorten(exc, LINE) or type(exc).__name__}", file=err)
    return EXIT_FAILED


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


def report(result: ActionResult, out: TextIO, err: TextIO, *, note: bool = True) -> int:
    """Warnings and the note on stderr, the URL on stdout; exit 0. ``note=False`` leaves
    the note out (a comment's "commented on PR #N" says what the URL already says)."""
    for w in result.warnings:
        emit(f"warning: {shorten(w, LINE)}", file=err)
    if result.refresh_error:
        emit(f"warning: cache not refreshed: {shorten(result.refresh_error, LINE)}", file=err)
    if note and result.note:  # e.g. "added to your open PR #7" (a stacked change)
        emit(f"rfctui: {shorten(result.note, LINE)}", file=err)
    emit(result.html_url or f"PR #{result.pr_number}", file=out)
    return 0
