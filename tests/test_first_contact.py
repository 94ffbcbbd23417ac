"""What a new user meets first (issue 14): help without a server, the sandbox's help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_sandbox_help_lists_the_users_and_no_markup(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")} | {
        "HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-m", "rfctui.sandbox", "--help"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""
    out = proc.stdout
    assert "``" not in out and ":func:" not in out
    for login, token in (("rfc-bot", "bot-token"), ("ada", "ada-token"),
                         ("grace", "grace-token"), ("admin", "admin-token")):
        [line] = [ln for ln in out.splitlines() if ln.strip().startswith(login + " ")]
        assert token in line


def test_the_readme_screenshots_come_from_the_demo_data() -> None:
    """``python tests/screenshots.py`` draws the demo's sample (issue 14 §4): no test
    fixture row (the hostile entry) in the pictures a new user looks at first."""
    shots = Path(__file__).parent.parent / "screenshots"
    main = (shots / "main.svg").read_text(encoding="utf-8")
    assert "hostile" not in main and "Boom" not in main
    assert "dependency" in main  # a pending idea of the sample
    for name in ("main", "detail", "filter", "help", "queue", "change-view", "timeline"):
        assert (shots / f"{name}.svg").is_file(), name
