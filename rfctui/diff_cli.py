"""``rfctui diff PR_NUMBER [--json]``: what a pull request changes in its entry (issue 12 §1).

Headless and offline: `rfctui.session.Session.change` reads the cache only. The PR
head's file is fetched by ``rfctui --sync`` (once per head sha), so a diff once synced
works without Gitea; a head never fetched is exit 1 with "run rfctui --sync".

Plain output: a header line (PR, kind, slug, state, opened_by), one ``field: old → new``
line per changed front-matter key (unknown keys included), then the unified body diff —
every line through `rfctui.text.emit`, so a hostile body's ESC or bidi override is shown
escaped, never sent to the terminal (§7.4/§11). ``--json`` prints
`rfctui.changes.ChangeView.to_json` through `rfctui.text.emit_json`. Problems (a
malformed side) and overlap notes with other open PRs go to stderr.

Exit status: 0 shown, 1 the cache cannot be read or the head is not fetched yet, 2 bad
usage or a PR that is not in the cache.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from rfctui.subcommand import SubcommandParser, Usage
from rfctui.text import emit, emit_json, shorten

if TYPE_CHECKING:
    from rfctui.changes import ChangeView
    from rfctui.config import Config

__all__ = ["HELP", "Usage", "main", "parse", "parser", "render"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
HELP = (
    "exit status: 0 shown, 1 the cache cannot be read or the PR's head is not fetched yet "
    "(run rfctui --sync), 2 bad usage or a PR that is not in the cache.  Offline: reads "
    "the local cache (rfctui --sync fetches each PR head's file once)."
)



def parser() -> argparse.ArgumentParser:
    """The ``diff`` subcommand's arguments (``--help`` needs no configuration)."""
    p = SubcommandParser(
        prog="rfctui diff",
        description="What a pull request changes in its RFC entry, against main, from the "
        "local cache.",
        epilog=HELP,
    )
    p.add_argument("pr", metavar="PR_NUMBER", type=int, help="the pull request's number")
    p.add_argument("--json", action="store_true", help="print the change as JSON (schema 1)")
    return p


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``diff ...`` (argv without the word ``diff``); SystemExit on --help."""
    return parser().parse_args(list(argv))


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) if not isinstance(v, str) else v for v in value) + "]"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def render(view: ChangeView) -> list[str]:
    """The plain lines: header, ``field: old → new`` lines, then the unified body diff.

    Raw text here; `emit` escapes it on the way out."""
    lines = [
        f"PR #{view.pr}  {view.kind}  {view.slug}  {view.state}  by {view.opened_by}"
    ]
    change = view.change
    if change is None:
        return lines
    lines += [f"{f.name}: {_show(f.old)} → {_show(f.new)}" for f in change.fields]
    if change.body_changed:
        lines += change.body_diff.split("\n")
    else:
        lines.append("body: unchanged")
    return lines


def main(argv: Sequence[str], config: Config, out: TextIO, err: TextIO) -> int:
    """Run ``rfctui diff`` (argv without the word ``diff``) against ``config``."""
    args = parse(argv)
    from rfctui.db.errors import CacheError
    from rfctui.session import Session

    session = Session(config, repair_actions=False)
    try:
        try:
            view = session.change(args.pr)
        except LookupError as exc:
            raise Usage(f"diff: {exc} (run rfctui --sync, or check the number)") from None
        except CacheError as exc:
            emit(f"rfctui: {shorten(exc)}", file=err)
            return EXIT_FAIL
        for notice in session.take_notices():
            emit(f"rfctui: {shorten(notice.text)}", file=err)
    finally:
        session.close()
    if view.change is None:
        emit(
            f"rfctui: the head of #{view.pr} is not fetched yet: run `rfctui --sync`",
            file=err,
        )
        return EXIT_FAIL
    for problem in view.change.problems:
        emit(f"rfctui: {shorten(problem)}", file=err)
    for note in view.notes:
        emit(f"rfctui: {shorten(note)}", file=err)
    if args.json:
        emit_json(view.to_json(), file=out)
    else:
        for line in render(view):
            emit(line, file=out)
    return EXIT_OK
