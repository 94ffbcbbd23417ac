"""The core never imports textual (DESIGN.md "Layering"; issue 3).

Every module under rfctui except the UI layer is imported in a fresh interpreter with
textual blocked; so are the headless command-line paths (``--version``, ``--help``,
``--resync``, ``--sync``, ``--export json``), run for real against a sandbox.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import rfctui
from rfctui.sandbox import Sandbox

# The UI layer: the only places allowed to import textual.
UI_MODULES = {"rfctui.app", "rfctui.messages"}
UI_PACKAGES = ("rfctui.widgets", "rfctui.screens")
# Modules that run something when imported.
SKIP = {"rfctui.__main__", "rfctui.sandbox.__main__"}

MARK = "TEXTUAL-IMPORTED"
BLOCKER = f"""
import importlib.abc, sys, traceback
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "textual" or name.startswith("textual."):
            sys.stderr.write("{MARK} " + name + "\\n" + "".join(traceback.format_stack()[-8:]))
            raise ImportError("textual is blocked outside the UI layer")
        return None
sys.meta_path.insert(0, _Block())
"""


def core_modules() -> list[str]:
    names = ["rfctui"]
    for info in pkgutil.walk_packages(rfctui.__path__, "rfctui."):
        name = info.name
        if name in UI_MODULES or name in SKIP:
            continue
        if any(name == p or name.startswith(p + ".") for p in UI_PACKAGES):
            continue
        names.append(name)
    return sorted(names)


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code],
        capture_output=True, text=True, timeout=120, env=env,
        cwd=Path(rfctui.__file__).parent.parent,
    )


def test_the_list_covers_the_core() -> None:
    mods = core_modules()
    for expected in ("rfctui.entry", "rfctui.trailer", "rfctui.config", "rfctui.gitea",
                     "rfctui.db", "rfctui.sandbox"):
        assert expected in mods
    assert not any(m.startswith(("rfctui.widgets", "rfctui.screens")) for m in mods)


@pytest.mark.parametrize("module", core_modules())
def test_core_module_does_not_import_textual(module: str) -> None:
    code = (
        f"import importlib; importlib.import_module({module!r})\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        f"assert not leaked, leaked\n"
    )
    done = run_python(code)
    assert MARK not in done.stderr, f"{module} imports textual:\n{done.stderr}"
    assert done.returncode == 0, done.stderr


def test_blocker_works() -> None:
    """The check itself can fail: the UI module is caught importing textual."""
    done = run_python("import rfctui.app\n")
    assert MARK in done.stderr and done.returncode != 0


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    sb = Sandbox()
    sb.populate_sample()
    with sb.serve(port=0) as url:
        yield url


HEADLESS = [["--version"], ["--help"], ["--resync"], ["--sync"], ["--sync", "--full"],
            ["--export", "json"]]


@pytest.mark.parametrize("argv", HEADLESS, ids=" ".join)
def test_headless_cli_paths_do_not_import_textual(
    argv: list[str], served: str, tmp_path: Path
) -> None:
    if not (Path(rfctui.__file__).parent / "cli.py").exists():
        pytest.skip("rfctui/cli.py not written yet")
    config = tmp_path / "config.toml"
    config.write_text("")
    config.chmod(0o600)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RFCTUI_")},
        "RFCTUI_CONFIG": str(config),
        "RFCTUI_GITEA_URL": served,
        "RFCTUI_BOT_TOKEN": "bot-token",
        "RFCTUI_USER_TOKEN": "ada-token",
        "RFCTUI_CACHE_DIR": str(tmp_path / "cache"),
        "RFCTUI_DATA_DIR": str(tmp_path / "data"),
    }
    code = (
        "import runpy\n"
        f"sys.argv = ['rfctui', *{argv!r}]\n"
        "try:\n"
        "    runpy.run_module('rfctui', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "else:\n"
        "    code = 0\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not leaked, leaked\n"
        "sys.exit(code)\n"
    )
    done = run_python(code, env)
    assert MARK not in done.stderr, f"rfctui {' '.join(argv)} imports textual:\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    # The whole path must have run (an early exit would prove nothing about lazy imports).
    assert done.returncode == 0, done.stderr
    if argv == ["--version"]:
        assert rfctui.__version__ in done.stdout
    if argv == ["--export", "json"]:
        assert '"rfcs"' in done.stdout
