"""``python -m rfctui.sandbox``: run the stand-in Gitea until SIGINT/SIGTERM.

The base URL is the first line on stdout (flushed) so scripts can read it and start
talking; nothing else is printed on stdout.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from rfctui.sandbox.core import Sandbox
from rfctui.sandbox.faults import Faults
from rfctui.sandbox.state import SandboxUser, default_users


def parse_user(spec: str) -> tuple[str, str, str]:
    parts = spec.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        # The value is not echoed back: it holds a token.
        raise argparse.ArgumentTypeError("--user wants LOGIN:TOKEN[:Full Name]")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def build_users(specs: list[tuple[str, str, str]], bot: str) -> list[SandboxUser]:
    """``--user`` entries get read access, except ``--bot`` (write) and ``admin`` (admin)."""
    if not specs:
        return default_users(bot)
    users = []
    for login, token, full_name in specs:
        permission = "write" if login == bot else "admin" if login == "admin" else "read"
        users.append(SandboxUser(login, token, full_name, permission))
    return users


def main(argv: Sequence[str] | None = None) -> int:
    users = "\n".join(
        f"  {u.login:<8} token {u.token:<12} {u.full_name} ({u.permission})"
        for u in default_users()
    )
    ap = argparse.ArgumentParser(
        prog="python -m rfctui.sandbox",
        description="Run a local stand-in Gitea (for trying rfctui and for its tests) until "
        "interrupted. The base URL is the first line on stdout; nothing else is printed "
        "there.",
        epilog=f"default users (without --user):\n{users}\n\n"
        "example:\n  python -m rfctui.sandbox --sample --port 3000\n"
        "  RFCTUI_GITEA_URL=http://127.0.0.1:3000 RFCTUI_USER_TOKEN=ada-token \\\n"
        "      RFCTUI_BOT_TOKEN=bot-token rfctui",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--host", default="127.0.0.1", help="loopback address only")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--org", default="rfcs", help="the organisation (default rfcs)")
    ap.add_argument("--repo", default="meta", help="the meta repository (default meta)")
    ap.add_argument(
        "--seed",
        metavar="DIR",
        help="DIR's regular files become the first commit on main (links, fifos, devices refused)",
    )
    ap.add_argument(
        "--user", action="append", type=parse_user, default=[], metavar="LOGIN:TOKEN[:Full Name]",
        help="a user instead of the defaults, repeatable (--bot gets write, admin admin)",
    )
    ap.add_argument("--bot", default="rfc-bot", help="the user with write access")
    ap.add_argument("--latency-ms", type=float, default=0,
                    help="added to every answer, e.g. 20 (a real network's latency)")
    ap.add_argument("--error-rate", type=float, default=0.0,
                    help="share of requests answered 500, 0 to 1 (a flaky Gitea)")
    ap.add_argument("--fault-seed", type=int, default=0,
                    help="seed of which requests fail, for a repeatable run")
    ap.add_argument("--data", metavar="DIR", help="keep state in DIR across restarts")
    ap.add_argument("--sample", action="store_true", help="load the bundled sample repository")
    args = ap.parse_args(argv)
    if not 0.0 <= args.error_rate <= 1.0:
        ap.error("--error-rate must be between 0 and 1")
    try:
        sb = Sandbox(
            org=args.org,
            repo=args.repo,
            users=build_users(args.user, args.bot),
            bot=args.bot,
            seed_dir=args.seed,
            data_dir=args.data,
            faults=Faults(
                latency_ms=args.latency_ms, error_rate=args.error_rate, seed=args.fault_seed
            ),
        )
        if args.sample and len(sb.pulls) == 0:
            try:
                sb.populate_sample()
            except ImportError:
                print("sandbox: the bundled sample is not available", file=sys.stderr)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        with sb.serve(host=args.host, port=args.port) as base_url:
            print(base_url, flush=True)
            while not stop.wait(0.5):
                pass
    except (ValueError, OSError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
