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
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from rfctui import __version__
from rfctui.text import emit, emit_json

__all__ = ["SUBCOMMANDS", "main"]

SUBCOMMANDS = ("propose", "edit", "claim", "metadata", "actions")
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
            "`rfctui propose --help`).  Configuration: a TOML file (--config, "
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


def _one_line(text: object, limit: int = 500) -> str:
    """``text`` cut to ``limit`` characters; `emit` escapes it when it is written.

    Not `rfctui.text.one_line`, which removes control characters: on the command line
    they are shown escaped (§11), so a newline in an error reads ``\\n``.
    """
    line = str(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


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
        return EXIT_USAGE, _one_line(exc)
    try:
        from rfctui.gitea import GiteaError
    except ImportError:  # pragma: no cover - gitea.py is part of the package
        GiteaError = ()  # type: ignore[assignment,misc]  # noqa: N806
    if GiteaError and isinstance(exc, GiteaError):
        return EXIT_FAIL, _one_line(exc)
    try:
        from rfctui.db import CacheError
    except ImportError:  # pragma: no cover
        CacheError = ()  # type: ignore[assignment,misc]  # noqa: N806
    if CacheError and isinstance(exc, CacheError):
        return EXIT_FAIL, _one_line(exc)
    hint = "" if _debug() else " (RFCTUI_DEBUG=1 shows the traceback)"
    return EXIT_FAIL, f"unexpected error: {type(exc).__name__}: {_one_line(exc)}{hint}"


def _main(argv: list[str], out: TextIO, err: TextIO, extra_flags: dict[str, Any]) -> int:
    head, sub = _split_subcommand(argv)
    parser = _parser()
    try:
        args = parser.parse_args(head)
    except SystemExit as exc:  # --help / --version printed and asked to exit
        return int(exc.code or 0)
    if args.full and not args.sync:
        raise _Usage("--full only goes with --sync")
    config = _load_config(args, extra_flags)
    if sub is not None:
        if args.resync or args.sync or args.export:
            raise _Usage(f"{sub[0]} cannot be combined with --resync, --sync or --export")
        from rfctui import actions_cli

        return int(actions_cli.main(sub, config) or 0)
    if args.export:
        return _export(config, out, err)
    if args.resync:
        return _sweep(config, "resync", out, err)
    if args.sync:
        return _sweep(config, "full_sweep" if args.full else "quick_sweep", out, err)
    return _ui(config, err)


def _load_config(args: argparse.Namespace, extra: dict[str, Any]) -> Any:
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


def _open_cache(config: Any, err: TextIO) -> Any:
    from rfctui.db import open_cache

    cache = open_cache(Path(config.cache_file))
    if cache.notice:
        emit(f"rfctui: {cache.notice}", file=err)
    return cache


def _export(config: Any, out: TextIO, err: TextIO) -> int:
    """``--export json``: the cache as JSON, no network (schema in the README).

    Ends quietly when the reader goes away (``rfctui --export json | head``).
    """
    from rfctui.db import open_cache

    cache = open_cache(Path(config.cache_file))
    try:
        if cache.notice:  # nothing is rebuilt here: no network
            emit(f"rfctui: {cache.notice}; it is empty until `rfctui --resync`", file=err)
        data = cache.export()
    finally:
        cache.close()
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

    def __call__(self, p: Any) -> None:
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


def _sweep(config: Any, kind: str, out: TextIO, err: TextIO) -> int:
    """``--resync`` / ``--sync [--full]``: one sweep with progress and a summary line."""
    from rfctui.cache import Reconciler
    from rfctui.config import reader_client
    from rfctui.db import CacheError, open_actions

    cache = _open_cache(config, err)
    actions = None
    progress = _ProgressPrinter(err)
    try:
        actions_file = Path(config.actions_file)
        if actions_file.exists():  # read-only use: who opened a PR (§6.3); never written
            try:  # repair=False: moving the outbox aside is not a sync's business
                actions = open_actions(actions_file, repair=False)
            except CacheError as exc:
                emit(f"rfctui: {_one_line(exc)}; PRs are attributed without it", file=err)

        async def run() -> Any:
            async with reader_client(config) as client:  # reads: the user's token (§6.1)
                rec = Reconciler(
                    client, cache, config.org, config.meta_repo, config.bot_user,
                    actions=actions, progress=progress,
                )
                return await getattr(rec, kind)()

        result = asyncio.run(run())
    finally:
        progress.close()
        cache.close()
        if actions is not None:
            actions.close()
    for path, reason in result.skipped:
        emit(f"rfctui: skipped {path}: {_one_line(reason)}", file=err)
    if not result.ok:
        emit(f"rfctui: {_one_line(result.error)}; the cache is unchanged", file=err)
        return EXIT_FAIL
    verb = {"resync": "resynced", "quick_sweep": "synced", "full_sweep": "synced (full)"}[kind]
    changed = "" if kind == "resync" else f", {result.rows_changed} changed"
    emit(
        f"{verb}: {result.entries} entries, {result.pulls} pulls, "
        f"{result.requests} requests, {result.seconds:.1f} s{changed}, "
        f"{len(result.skipped)} skipped",
        file=out,
    )
    return EXIT_OK


# ---------------------------------------------------------------- the UI


def _ui(config: Any, err: TextIO) -> int:
    """Start reading the first screen, then import Textual and hand over (§7.1).

    The cache is checked (and if need be repaired) on that thread, while Textual is
    imported; the app shows its notices.
    """
    from rfctui import startup

    first = startup.begin(config)
    try:
        from rfctui.app import run_app
    except ImportError as exc:
        emit(
            f"rfctui: the terminal UI cannot start ({_one_line(exc)}); headless commands "
            "still work: rfctui --sync, --resync, --export json",
            file=err,
        )
        startup.end()
        return EXIT_FAIL
    try:
        return int(run_app(config, first_screen=first) or 0)
    finally:
        startup.end()
