"""``rfctui --demo``: the real UI against a throw-away sandbox (SPEC §8, issue 4).

One command, no Gitea and no config: the bundled sample repository is served by the
sandbox on 127.0.0.1 (a background thread), the cache, data and config directories are
temporary, and everything is stopped and removed when the process exits. Textual-free.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from pathlib import Path

from rfctui.config import Config, Secret
from rfctui.private import private_dir

__all__ = ["DEMO_HISTORY_DAYS", "DEMO_USER", "start_demo", "stop_demo"]

# Who the demo says you are: a sandbox user with read access (DESIGN.md names).
DEMO_USER = ("ada", "ada-token")
BOT = ("rfc-bot", "bot-token")
# How far back the demo's sample history reaches (the entries' ages spread over it).
DEMO_HISTORY_DAYS = 300

_stack: contextlib.ExitStack | None = None


def start_demo(*, quick_interval: float = 30, full_interval: float = 600) -> Config:
    """Start the sample sandbox on loopback and return a Config pointing at it.

    Idempotent within a process: a second call stops the first demo.
    """
    global _stack
    stop_demo()
    from rfctui.sandbox.sample import build_sample_sandbox

    root = Path(tempfile.mkdtemp(prefix="rfctui-demo-"))
    stack = contextlib.ExitStack()
    stack.callback(shutil.rmtree, root, True)
    try:
        # Back-dated history (issue 14 §5): ages, time in state and stale markers show.
        sandbox = build_sample_sandbox(backdate_days=DEMO_HISTORY_DAYS)
        base_url = stack.enter_context(sandbox.serve(host="127.0.0.1", port=0))
    except BaseException:
        stack.close()
        raise
    _stack = stack
    atexit.register(stop_demo)
    for sub in ("cache", "data", "config"):
        private_dir(root / sub)  # 0700 whatever the umask (§11)
    return Config(
        gitea_url=base_url,
        org=sandbox.org,
        meta_repo=sandbox.repo,
        bot_user=BOT[0],
        bot_token=Secret(BOT[1]),
        user_token=Secret(DEMO_USER[1]),
        cache_dir=root / "cache",
        data_dir=root / "data",
        state_dir=root / "state",  # the UI's remembered state goes with the demo too
        quick_interval=quick_interval,
        full_interval=full_interval,
        demo=True,
        config_file=root / "config" / "config.toml",
    )


def stop_demo() -> None:
    """Stop the sandbox server and remove the temporary directories."""
    global _stack
    stack, _stack = _stack, None
    if stack is not None:
        stack.close()
