"""The ``rfctui`` command line (SPEC §8).

``rfctui`` runs the UI; ``--resync``, ``--sync [--full]`` and ``--export json`` run
headless and never import Textual (the UI is imported lazily, only when it runs); the
action subcommands (``propose``, ``edit``, ``claim``, ``metadata``, ``actions``) are
handed to `rfctui.actions_cli`.

Errors a person sees are one line on stderr and an exit status: 2 for configuration
or usage, 1 for everything else (Gitea, the cache, a bug). Never a traceback, unless
``RFCTUI_DEBUG=1`` asks for one.

Every line goes out through `rfctui.text.emit` (``emit_json`` for the export): file
names, reasons and error text come from other people or from Gitea, and a control
character in them is shown escaped, never sent to the terminal (§7.4, §11).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from rfctui import __version__
from rfctui.text import emit, emit_json, shorten

if TYPE_CHECKING:
    from rfctui.config import Config
    from rfctui.results import Progress
    from rfctui.session import Session, SweepKind

__all__ = ["SUBCOMMANDS", "main"]

SUBCOMMANDS = (
    "propose", "edit", "claim", "metadata", "actions", "queue", "log", "diff", "digest",
    "comment", "doctor",
)
_VALUE_FLAGS = ("--gitea-url", "--org", "--repo", "--config", "--export")
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Usage(Exception):
    """A usage error from argparse, reported as one line (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, not argparse's usage dump
        raise _Usage(f"{message} (see rfctui --help)")


def _parser() -> _Parser:
    p = _Parser(
        prog="rfctui",
        description="Triage an organisation's RFC process, kept in Gitea, from the terminal.",
        epilog=(
            "actions: rfctui propose|edit|claim|metadata|actions ... (see "
            "`rfctui propose --help`).  What needs you: rfctui queue [--as LOGIN] [--all] "
            "[--json] (exit 3: identity unknown).  The life of an entry: rfctui log SLUG "
            "[--json].  What a PR changes: rfctui diff PR_NUMBER [--json].  "
            "The week's proposal minutes: rfctui digest [--since 7d] [--format md|json].  "
            "Comment on a PR: "
            "rfctui comment PR_NUMBER --body-file F|-.  "
            "What is wrong with the set-up: rfctui doctor [--json].  "
            "Configuration: a TOML file (--config, "
            "RFCTUI_CONFIG), RFCTUI_* environment variables, then these flags.  "
            "RFCTUI_DEBUG=1 shows tracebacks."
        ),
    )
    p.add_argument("--version", action="version", version=f"rfctui {__version__}")
    p.add_argument("--gitea-url", metavar="URL", help="Gitea server, e.g. https://gitea.example.com")
    p.add_argument("--org", help="organisation that holds the meta repository")
    p.add_argument("--repo", dest="meta_repo", metavar="REPO", help="the meta repository")
    p.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    p.add_argument(
        "--demo", action="store_true",
        help="try it against a local sandbox seeded with sample entries (no Gitea needed)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--resync", action="store_true",
        help="discard the cache and rebuild it from Gitea, headless",
    )
    mode.add_argument("--sync", action="store_true", help="one sweep, headless (quick)")
    mode.add_argument(
        "--export", choices=["json"], metavar="json",
        help="print the cache as JSON on stdout (no network)",
    )
    p.add_argument("--full", action="store_true", help="with --sync: a full sweep")
    return p


def _split_subcommand(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """(global flags, subcommand argv) — the subcommand is the first bare word."""
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in SUBCOMMANDS:
            return argv[:i], argv[i:]
        if tok == "--":
            break
        if tok in _VALUE_FLAGS:
            i += 2
            continue
        i += 1
    return argv, None


def _debug() -> bool:
    return os.environ.get("RFCTUI_DEBUG", "").strip() not in ("", "0", "false", "no")


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    config_flags: dict[str, Any] | None = None,
) -> int:
    """Entry point of the ``rfctui`` script; returns the exit status.

    `config_flags` lets tests add flags that have no command-line form (``transport``).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(args_list, out, err, config_flags or {})
    except _Usage as exc:
        emit(f"rfctui: {exc}", file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        emit("rfctui: interrupted", file=err)
        return 130
    except Exception as exc:  # the last line of defence: one line, never a traceback
        code, message = _describe(exc)
        if _debug():  # line by line: the frames quote the exception's text (§11)
            for line in traceback.format_exc().splitlines():
                emit(line, file=err)
        emit(f"rfctui: {message}", file=err)
        return code


def _describe(exc: BaseException) -> tuple[int, str]:
    """Exit status and one line for an exception that reached the top."""
    from rfctui.config import ConfigError

    if isinstance(exc, ConfigError):
        return EXIT_USAGE, shorten(exc)
    from rfctui.db.errors import CacheError

    # A cache that cannot be opened. (Gitea's errors never get here: a sweep reports
    # them in its result and the action commands catch them.)
    if isinstance(exc, CacheError):
        return EXIT_FAIL, shorten(exc)
    hint = "" if _debug() else " (RFCTUI_DEBUG=1 shows the traceback)"
    return EXIT_FAIL, f"unexpected error: {type(exc).__name__}: {shorten(exc)}{hint}"


def _main(argv: list[str], out: TextIO, err: TextIO, extra_flags: dict[str, Any]) -> int:
    head, sub = _split_subcommand(argv)
    parser = _parser()
    try:
        args = parser.parse_args(head)
    except SystemExit as exc:  # --help / --version printed and asked to exit
        return int(exc.code or 0)
    if args.full and not args.sync:
        raise _Usage("--full only goes with --sync")
    if sub is not None and sub[0] in READ_COMMANDS:
        return _read_command(sub[0], args, sub[1:], out, err, extra_flags)
    if sub is not None:
        if args.resync or args.sync or args.export:
            raise _Usage(f"{sub[0]} cannot be combined with --resync, --sync or --export")
        from rfctui import actions_cli

        early = actions_cli.preparse(sub, err)  # --help needs no configuration (§11)
        if early is not None:
            return early
        return actions_cli.main(sub, _load_config(args, extra_flags))
    config = _load_config(args, extra_flags)
    if args.export:
        return _export(config, out, err)
    if args.resync:
        return _sweep(config, "resync", out, err)
    if args.sync:
        return _sweep(config, "full" if args.full else "quick", out, err)
    return _ui(config, err)


# Read-only subcommands, each a module with `parse(argv)`, `main(argv, config, out, err)`
# and `Usage`: the cache's views (issue 11 queue; issue 12 diff and log).
# Imported when used (the headless paths stay light); literal names, so the layering test
# sees these imports.
READ_COMMANDS: dict[str, Callable[[], Any]] = {
    "queue": lambda: importlib.import_module("rfctui.queue_cli"),
    "diff": lambda: importlib.import_module("rfctui.diff_cli"),
    "log": lambda: importlib.import_module("rfctui.log_cli"),
    "digest": lambda: importlib.import_module("rfctui.digest_cli"),
    # not a read, but the same shape: --help and the arguments before any configuration
    "comment": lambda: importlib.import_module("rfctui.comment_cli"),
    "doctor": lambda: importlib.import_module("rfctui.doctor_cli"),
}


def _read_command(
    name: str,
    args: argparse.Namespace,
    argv: list[str],
    out: TextIO,
    err: TextIO,
    extra: dict[str, Any],
) -> int:
    """``rfctui queue|diff|log``: the arguments are checked (and ``--help`` shown) before
    any configuration is read, so ``--help`` works on a fresh machine (§11)."""
    command = READ_COMMANDS[name]()
    if args.resync or args.sync or args.export:
        raise _Usage(f"{name} cannot be combined with --resync, --sync or --export")
    try:
        command.parse(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    except command.Usage as exc:
        raise _Usage(str(exc)) from None
    from rfctui.config import ConfigError

    try:
        config = _load_config(args, extra)
    except ConfigError as exc:
        if not hasattr(command, "main_unconfigured"):  # doctor reports it as a check
            raise
        return int(command.main_unconfigured(argv, str(exc), out, err))
    try:
        return int(command.main(argv, config, out, err))
    except command.Usage as exc:
        raise _Usage(str(exc)) from None


def _load_config(args: argparse.Namespace, extra: dict[str, Any]) -> Config:
    if args.demo:
        from rfctui.demo import start_demo

        return start_demo()
    from rfctui.config import load_config

    flags: dict[str, Any] = {
        k: v
        for k, v in {
            "gitea_url": args.gitea_url,
            "org": args.org,
            "meta_repo": args.meta_repo,
            "config": args.config,
        }.items()
        if v is not None
    }
    flags.update(extra)
    return load_config(flags)


# ---------------------------------------------------------------- headless modes


def _session(config: Config) -> Session:
    """The one session of a headless run. It never moves a damaged actions log aside:
    a sweep only reads the log (who opened a PR, §6.3); the outbox is not its business.
    """
    from rfctui.session import Session

    return Session(config, repair_actions=False)


def _export(config: Config, out: TextIO, err: TextIO) -> int:
    """``--export json``: the cache as JSON, no network (schema in the README).

    Ends quietly when the reader goes away (``rfctui --export json | head``).
    """
    session = _session(config)
    try:
        cache = session.cache()
        notices = session.take_notices()
        for notice in notices:  # nothing is rebuilt here: no network
            emit(f"rfctui: {notice.text}; it is empty until `rfctui --resync`", file=err)
        data = cache.export()
        if not notices and cache.never_filled():  # exit 0, the empty export: say why
            emit(f"rfctui: nothing cached yet for {config.org}/{config.meta_repo} at "
                 f"{config.gitea_url or 'the demo'}: run `rfctui --sync` first; the export "
                 "is empty", file=err)
    finally:
        session.close()  # a cache this created (none existed) is not left behind
    try:
        emit_json(data, file=out)
    except BrokenPipeError:
        _quiet_broken_pipe(out)
        return EXIT_OK
    return EXIT_OK


def _quiet_broken_pipe(out: TextIO) -> None:
    """The reader closed the pipe: stop without a message (as `cat` would).

    stdout is pointed at /dev/null so the interpreter's final flush does not raise
    (and print) a second BrokenPipeError at exit.
    """
    if out is sys.stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


class _ProgressPrinter:
    """A stderr progress bar on a terminal; one plain line per phase otherwise."""

    WIDTH = 20

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        try:
            self.tty = stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.last: tuple[str, bool] | None = None
        self.dirty = False

    def __call__(self, p: Progress) -> None:
        total = max(int(p.total), 1)
        done = min(max(int(p.done), 0), total)
        if self.tty:
            filled = self.WIDTH * done // total
            bar = "#" * filled + "." * (self.WIDTH - filled)
            line = f"[{bar}] {100 * done // total:3d}% {p.phase} {done}/{total}"
            emit(line.ljust(71), file=self.stream, end="", redraw=True)
            self.dirty = True
        else:  # a log, not an animation: a line when a long phase starts and when it ends
            key = (p.phase, done == total)
            if key != self.last and (done == total or total > 1):
                self.last = key
                emit(f"{p.phase} {done}/{total}", file=self.stream)

    def close(self) -> None:
        if self.tty and self.dirty:
            emit(" " * 71, file=self.stream, end="", redraw=True)
            emit("", file=self.stream, end="", redraw=True)


_VERBS = {"resync": "resynced", "quick": "synced", "full": "synced (full)"}


def _sweep(config: Config, kind: SweepKind, out: TextIO, err: TextIO) -> int:
    """``--resync`` / ``--sync [--full]``: one sweep with progress and a summary line."""
    session = _session(config)
    progress = _ProgressPrinter(err)
    try:
        # Opened up front, so a repaired cache or an unreadable actions log is said
        # before the sweep starts (a cache that cannot be opened at all ends here).
        session.cache()
        session.actions_log()  # read-only use: who opened a PR (§6.3); never written
        for notice in session.take_notices():
            tail = "; PRs are attributed without it" if notice.actions_log else ""
            emit(f"rfctui: {shorten(notice.text)}{tail}", file=err)
        result = asyncio.run(session.sweep(kind, progress=progress))
        # True time in state (rfctui.history): entries a sweep could only estimate;
        # 0 requests when none needs it. Never fails the sweep.
        history = asyncio.run(session.backfill_history(progress)) if result.ok else None
    finally:
        progress.close()
        session.close()
    for path, reason in result.skipped:
        emit(f"rfctui: skipped {path}: {shorten(reason)}", file=err)
    if not result.ok:
        emit(f"rfctui: {shorten(result.error)}; the cache is unchanged", file=err)
        return EXIT_FAIL
    changed = "" if kind == "resync" else f", {result.rows_changed} changed"
    emit(
        f"{_VERBS[kind]}: {result.entries} entries, {result.pulls} pulls, "
        f"{result.requests} requests, {result.seconds:.1f} s{changed}, "
        f"{len(result.skipped)} skipped",
        file=out,
    )
    if history is not None and (history.failed or history.error):
        emit(f"rfctui: time in state not read for {history.failed} entries "
             f"({shorten(history.error or 'failed')}); they keep their last-commit time "
             "and are read again next time", file=err)
    return EXIT_OK


# ---------------------------------------------------------------- the UI


def _ui(config: Config, err: TextIO) -> int:
    """Start reading the first screen, then import Textual and hand over (§7.1).

    The cache is checked (and if need be repaired) on that thread, while Textual is
    imported, through the session the app is then handed; the app shows its notices.
    """
    from concurrent.futures import wait

    from rfctui import startup
    from rfctui.session import Session

    session = Session(config)
    first = startup.begin(session)
    try:
        from rfctui.app import run_app
    except ImportError as exc:
        emit(
            f"rfctui: the terminal UI cannot start ({shorten(exc)}); headless commands "
            "still work: rfctui --sync, --resync, --export json",
            file=err,
        )
        startup.end()
        wait([first])  # the read uses the session's cache: never close it under the read
        session.close()
        return EXIT_FAIL
    try:
        return int(run_app(session, first_screen=first) or 0)
    finally:
        startup.end()
        wait([first])
        session.close()
