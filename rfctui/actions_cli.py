"""`rfctui propose|edit|claim|metadata|actions` for scripting (SPEC §6, §8).

Why a thin layer: the command line must take exactly the UI's code path (`bot.Bot`), so
this module only parses arguments, builds the clients from the configuration, and turns
the outcome into the PR's URL on stdout or one line on stderr with a non-zero exit.

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
from typing import Any, NoReturn, TextIO

from rfctui.bot import (
    ActionFailed,
    ActionResult,
    ActionsDisabled,
    Actor,
    Bot,
    ValidationError,
    bot_session,
    check_edit,
    check_metadata,
    check_propose,
    parse_metadata_value,
)
from rfctui.entry import InvalidSlug, validate_slug
from rfctui.private import private_dir
from rfctui.text import emit

__all__ = ["COMMANDS", "main"]

COMMANDS = ("propose", "edit", "claim", "metadata", "actions")
EXIT_FAILED, EXIT_USAGE, EXIT_DISABLED = 1, 2, 3


class _Usage(Exception):
    """An argument error, reported on one line instead of argparse's usage dump."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Usage(f"{self.prog}: {message}")


def _parser() -> _Parser:
    p = _Parser(prog="rfctui", description="Act on RFCs through the bot (SPEC §6).")
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


def _one_line(text: object) -> str:
    """``text`` cut to 400 characters; `emit` shows its control characters escaped (§11)."""
    line = str(text)
    return line if len(line) <= 400 else line[:399] + "…"


def _cfg(config: Any, name: str, default: Any = None) -> Any:
    return getattr(config, name, default)


def _open_actions(config: Any, err: TextIO | None = None) -> Any:
    from rfctui import db

    path = _cfg(config, "actions_file")
    if path is not None:
        private_dir(Path(path).parent)  # 0700 whatever the umask (§11)
    log = db.open_actions(path)
    if getattr(log, "notice", None):  # the old file was moved aside: say so, once
        emit(f"rfctui: {_one_line(log.notice)}", file=err or sys.stderr)
    return log


def _row(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)


def _list_actions(log: Any, out: TextIO) -> int:
    rows = [*log.pending(), *log.failed()]
    if not rows:
        emit("no pending or failed actions", file=out)
        return 0
    emit(f"{'ID':>4}  {'KIND':<18} {'SLUG':<28} {'STATUS':<8} ERROR", file=out)
    for row in sorted(rows, key=lambda r: _row(r, "id") or 0):
        emit(
            f"{_row(row, 'id'):>4}  {_row(row, 'kind') or '':<18} {_row(row, 'slug') or '':<28} "
            f"{_row(row, 'status') or '':<8} {_one_line(_row(row, 'error') or '')}",
            file=out,
        )
    return 0


async def _with_bot(config: Any, run: Any, log: Any) -> ActionResult:
    """Run `run(bot, actor)` in a verified session (same path as the UI)."""
    cache = _open_cache(config)
    try:
        async with bot_session(config, log, cache=cache) as (bot, actor):
            return await run(bot, actor)
    finally:
        if cache is not None and hasattr(cache, "close"):
            cache.close()


def _open_cache(config: Any) -> Any | None:
    """The read cache, for duplicate checks and the targeted refresh; optional."""
    path = _cfg(config, "cache_file")
    if path is None:
        return None
    try:
        from rfctui import db

        private_dir(Path(path).parent)  # 0700 whatever the umask (§11)
        return db.open_cache(path)
    except Exception:  # no cache is fine: the action itself only needs Gitea
        return None


def main(
    argv: Sequence[str],
    config: Any = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one action subcommand; print the PR's URL or one error line (§8).

    `config` may be None for ``--help``, which needs no server.
    """
    stdin, out, err = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        try:
            args = _parser().parse_args(list(argv))
        except SystemExit as exc:  # --help printed; config is not needed for that
            return int(exc.code or 0)
        # Pure checks first: bad input never costs a request, not even GET /user.
        if args.command == "propose":
            body = _read_body(args.body_file, stdin)
            check_propose(args.slug, args.title, args.tag, args.arbiter)

            async def run(bot: Bot, actor: Actor) -> ActionResult:
                return await bot.propose(
                    actor, args.slug, args.title, body, tuple(args.tag), tuple(args.arbiter)
                )
        elif args.command == "edit":
            body = _read_body(args.body_file, stdin)
            check_edit(args.slug, body)

            async def run(bot: Bot, actor: Actor) -> ActionResult:
                return await bot.edit_body(actor, args.slug, body)
        elif args.command == "claim":
            _check_slug(args.slug)

            async def run(bot: Bot, actor: Actor) -> ActionResult:
                return await bot.claim(actor, args.slug)
        elif args.command == "metadata":
            changes = check_metadata(args.slug, _parse_sets(args.sets))

            async def run(bot: Bot, actor: Actor) -> ActionResult:
                return await bot.edit_metadata(actor, args.slug, changes)
        else:  # actions
            log = _open_actions(config, err)
            if args.discard is not None:
                if log.get(args.discard) is None:
                    emit(f"rfctui: no action #{args.discard} in the log", file=err)
                    return EXIT_FAILED
                from rfctui.db import ActionStateError

                try:
                    log.discard(args.discard)
                except ActionStateError:
                    row = log.get(args.discard)
                    number = _row(row, "pr_number")
                    pr = f" (PR #{number})" if number is not None else ""
                    emit(f"rfctui: cannot discard action #{args.discard}: it is "
                          f"{_row(row, 'status')}{pr}; only pending or failed actions can "
                          "be discarded", file=err)
                    return EXIT_FAILED
                emit(f"discarded action #{args.discard}", file=out)
                return 0
            if args.retry is None:
                return _list_actions(log, out)
            retry_id = args.retry

            async def run(bot: Bot, actor: Actor) -> ActionResult:
                return await bot.retry(retry_id, actor)

            result = asyncio.run(_with_bot(config, run, log))
            return _report(result, out, err)
        log = _open_actions(config, err)
        result = asyncio.run(_with_bot(config, run, log))
        return _report(result, out, err)
    except _Usage as exc:
        emit(_one_line(exc), file=err)
        return EXIT_USAGE
    except ValidationError as exc:
        emit(f"rfctui: nothing was sent: {_one_line(exc)}", file=err)
        return EXIT_USAGE
    except ActionsDisabled as exc:
        emit(f"rfctui: {_one_line(exc)}", file=err)
        return EXIT_DISABLED
    except ActionFailed as exc:
        aid = exc.action_id
        if aid and getattr(exc, "offline", False):
            emit(f"rfctui: Gitea unreachable; kept as action #{aid}: "
                  f"rfctui actions --retry {aid}", file=err)
            return EXIT_FAILED
        hint = f" (saved as action #{aid}: rfctui actions --retry {aid})"
        emit(f"rfctui: {_one_line(exc)}{hint if aid else ''}", file=err)
        return EXIT_FAILED
    except Exception as exc:  # never a traceback (HELPERS: one actionable line)
        emit(f"rfctui: {_one_line(exc) or type(exc).__name__}", file=err)
        return EXIT_FAILED


def _report(result: ActionResult, out: TextIO, err: TextIO) -> int:
    for w in result.warnings:
        emit(f"warning: {_one_line(w)}", file=err)
    if result.refresh_error:
        emit(f"warning: cache not refreshed: {_one_line(result.refresh_error)}", file=err)
    if getattr(result, "note", ""):  # e.g. "added to your open PR #7" (a stacked change)
        emit(f"rfctui: {_one_line(result.note)}", file=err)
    emit(result.html_url or f"PR #{result.pr_number}", file=out)
    return 0
