"""Untrusted text on every CLI output path (SPEC §7.4, §11; issue 9 item 4).

A file named ``evil\\n…\\x1b]52;…\\x07`` in the meta repository used to write a fake
summary line and an OSC 52 clipboard write to the terminal of whoever ran
``rfctui --sync``. Here such names, titles and errors are planted through the sandbox
served over real HTTP, the real script runs in a subprocess, and its raw bytes are
checked: no control byte, no bidi override, one record per line, the oddity visible.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfctui.config import load_config
from rfctui.db import open_actions
from rfctui.sandbox import Sandbox
from rfctui.text import emit, emit_json, terminal_safe

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import SUMMARY, env_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# The bidi controls a terminal line must never carry raw: the explicit embeddings,
# overrides and isolates (from unicodedata, not from the module under test) and the
# implicit marks LRM, RLM, ALM.
EXPLICIT_BIDI = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
MARKS = {"\u200e", "\u200f", "\u061c"}

# A file name that, printed raw, ends the "skipped" line, forges a summary line on the
# next one, writes the clipboard (OSC 52) and sets the window title (OSC 0).
EVIL_PATH = "rfcs/evil\nsynced (full): 999 entries\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07.md"
# Reordered text (RLO … isolate), an 8-bit CSI "clear screen", a CR and DEL.
EVIL_PATH2 = "rfcs/gnp.exe\u202e\u2066x\x9b2J\r\x7f.md"
# A valid entry whose title is hostile (YAML double-quoted escapes: \e is ESC, \a BEL).
EVIL_TITLE = "Evil \x1b]0;pwned\x07 \u202etxt.exe\u202c \x9b2J \x85 end"
EVIL_ENTRY = (
    b"---\nslug: hostile-title\n"
    b'title: "Evil \\e]0;pwned\\a \\u202etxt.exe\\u202c \\x9b2J \\N end"\n'
    b"state: idea\nproposed_by: ada\nowners: [ada]\narbiters: [grace]\ntags: [t]\n"
    b"---\nBody.\n"
)


def unsafe(ch: str) -> bool:
    """What must never reach a terminal raw (an oracle independent of rfctui.text)."""
    return (
        unicodedata.category(ch) in ("Cc", "Cs")
        or unicodedata.bidirectional(ch) in EXPLICIT_BIDI
        or ch in MARKS
        or ch in "\u2028\u2029"
    )


_DECODE = re.compile(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|([nrt\\]))")


def decode(shown: str) -> str:
    """Read `terminal_safe`'s output back: proof that it is unambiguous."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) or m.group(2):
            return chr(int(m.group(1) or m.group(2), 16))
        return {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}[m.group(3)]

    return _DECODE.sub(one, shown)


def assert_terminal_safe(raw: bytes) -> str:
    """The raw bytes a terminal would get carry no control and no bidi character."""
    for byte in (b"\x1b", b"\x07", b"\x9b", b"\x9d", b"\r", b"\x7f"):
        assert byte not in raw, (byte, raw)
    for ch in ("\x9b", "\x9d", "\x85", "\u202e", "\u2066"):
        assert ch.encode() not in raw, (ch, raw)
    text = raw.decode("utf-8")  # strict: a lone C1 byte would fail here too
    bad = [ch for ch in text if ch != "\n" and unsafe(ch)]
    assert not bad, (bad, text)
    return text


# ---------------------------------------------------------------- the function


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("evil\n\x1b]52;c;ZXZpbA==\x07name", r"evil\n\x1b]52;c;ZXZpbA==\x07name"),
        ("a\x1b]0;title\x1b\\b", r"a\x1b]0;title\x1b\b"),  # ST: "\\b" is no escape
        ("x\x9b2J\x9d\x85", r"x\x9b2J\x9d\x85"),
        ("abc\u202edcb\u2066x\u2069\u200e\u200f\u061c",
         r"abc\u202edcb\u2066x\u2069\u200e\u200f\u061c"),
        ("cr\rtab\tdel\x7fnul\x00", r"cr\rtab\tdel\x7fnul\x00"),
        ("sep\u2028para\u2029", r"sep\u2028para\u2029"),
        ("lone \ud800 surrogate", r"lone \ud800 surrogate"),
        # Printable text is unchanged, any script, emoji, markup, most backslashes …
        ("Ünïcödé 日本語 😀 [bold]x[/] C:\\Users\\Ada a\\b",
         "Ünïcödé 日本語 😀 [bold]x[/] C:\\Users\\Ada a\\b"),
        # … but a backslash that would read as the start of an escape is doubled.
        ("a literal \\x1b and \\n and \\\\", "a literal \\\\x1b and \\\\n and \\\\\\"),
        ("\\\x1b", r"\\\x1b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_terminal_safe_examples(raw: object, shown: str) -> None:
    assert terminal_safe(raw) == shown
    if isinstance(raw, str):
        assert decode(shown) == raw


@given(st.text())
def test_terminal_safe_is_one_safe_line_that_reads_back(s: str) -> None:
    out = terminal_safe(s)
    assert "\n" not in out and "\r" not in out
    assert not [ch for ch in out if unsafe(ch)], repr(out)
    assert decode(out) == s  # injective: two different names never look the same


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs"))))
def test_terminal_safe_leaves_printable_text_alone(s: str) -> None:
    if not any(unsafe(ch) for ch in s) and "\\" not in s:
        assert terminal_safe(s) == s


def test_every_control_and_bidi_code_point_is_escaped() -> None:
    """Exhaustive over Unicode for the oracle's classes (not a sample)."""
    missed = [
        hex(cp) for cp in range(0x110000)
        if unsafe(chr(cp)) and not terminal_safe(chr(cp)).startswith("\\")
    ]
    assert missed == []


def test_emit_writes_one_escaped_line_and_survives_a_narrow_encoding() -> None:
    buf = io.StringIO()
    emit("a\x1b[2Jb\nc", file=buf)
    emit("bar", file=buf, end="", redraw=True)
    assert buf.getvalue() == "a\\x1b[2Jb\\nc\n\rbar"
    raw = io.BytesIO()
    ascii_stream = io.TextIOWrapper(raw, encoding="ascii")
    emit("héllo \u202e", file=ascii_stream)  # would raise UnicodeEncodeError if printed
    assert raw.getvalue() == b"h\\xe9llo \\u202e\n"


def test_emit_json_is_the_same_data_and_terminal_safe() -> None:
    data = {"title": EVIL_TITLE, "path": EVIL_PATH, "lone": "\udcff", "fine": "日本 😀"}
    buf = io.StringIO()
    emit_json(data, file=buf)
    text = assert_terminal_safe(buf.getvalue().encode("utf-8"))
    assert json.loads(text) == data
    assert "日本 😀" in text  # readable UTF-8, not \\u-escaped wholesale


def test_cli_modules_write_only_through_emit() -> None:
    """No ``print``, ``.write`` or ``json.dump`` in the CLI modules: every command,
    including ones added later, reaches the terminal through `emit` (§11)."""
    for name in ("cli.py", "actions_cli.py"):
        tree = ast.parse((ROOT / "rfctui" / name).read_text(encoding="utf-8"))
        bypass = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "print":
                bypass.append(f"{name}:{node.lineno} print()")
            elif isinstance(func, ast.Attribute) and func.attr in (
                "write", "writelines", "dump", "print_exc", "print_exception", "print_tb",
            ):
                bypass.append(f"{name}:{node.lineno} .{func.attr}()")
        assert bypass == [], "use rfctui.text.emit / emit_json instead"


# ---------------------------------------------------------------- the real script


def run(env: dict[str, str], *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "rfctui", *args], env=env, input=stdin,
                          capture_output=True, timeout=120)


def plant(base_url: str, path: str, content: bytes) -> None:
    """Commit a file on main through the sandbox's contents API (as Gitea would take it)."""
    url = f"{base_url}/api/v1/repos/rfcs/meta/contents/{quote(path, safe='/')}"
    r = httpx.post(url, headers={"Authorization": "token bot-token"}, json={
        "content": base64.b64encode(content).decode(), "message": "plant", "branch": "main"})
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    sb = Sandbox()
    sb.populate_sample()
    with sb.serve() as base_url:
        plant(base_url, EVIL_PATH, b"---\ntitle: x\n---\n")
        plant(base_url, EVIL_PATH2, b"not an entry")
        plant(base_url, "rfcs/hostile-title.md", EVIL_ENTRY)
        yield base_url


def test_sweeps_show_hostile_file_names_escaped(hostile: str, tmp_path: Path) -> None:
    env = env_for(tmp_path, hostile)
    for args in (("--resync",), ("--sync",), ("--sync", "--full")):
        proc = run(env, *args)
        assert proc.returncode == 0, proc.stderr
        out = assert_terminal_safe(proc.stdout)
        err = assert_terminal_safe(proc.stderr)
        # stdout: the one real summary; the forged one never starts a line anywhere.
        assert len(out.splitlines()) == 1 and SUMMARY.match(out.strip()), out
        assert "2 skipped" in out
        for line in (out + err).splitlines():
            assert not line.startswith("synced (full): 999"), line
        skipped = [ln for ln in err.splitlines() if ln.startswith("rfctui: skipped ")]
        assert len(skipped) == 2, err  # one record each, on one line
        evil = next(ln for ln in skipped if "evil" in ln)
        assert evil.startswith(
            r"rfctui: skipped rfcs/evil\nsynced (full): 999 entries"
            r"\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07.md: "
        ), evil
        other = next(ln for ln in skipped if "gnp" in ln)
        assert other.startswith(r"rfctui: skipped rfcs/gnp.exe\u202e\u2066x\x9b2J\r\x7f.md: ")
        # Visible and unambiguous: the escaped path reads back as the real file name.
        shown = evil.removeprefix("rfctui: skipped ").split(".md: ", 1)[0] + ".md"
        assert decode(shown) == EVIL_PATH
        assert "Traceback" not in err


def test_export_of_a_hostile_title_is_terminal_safe_json(hostile: str, tmp_path: Path) -> None:
    env = env_for(tmp_path, hostile)
    assert run(env, "--resync").returncode == 0
    proc = run(env, "--export", "json")
    assert proc.returncode == 0, proc.stderr
    text = assert_terminal_safe(proc.stdout)
    [row] = [r for r in json.loads(text)["rfcs"] if r["slug"] == "hostile-title"]
    assert row["title"] == EVIL_TITLE  # the data is intact for a JSON reader


def test_actions_table_and_errors_show_hostile_text_escaped(
    hostile: str, tmp_path: Path
) -> None:
    env = env_for(tmp_path, hostile, RFCTUI_USER_TOKEN="ada-token")
    log_path = load_config(environ=env).actions_file
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open_actions(log_path) as log:  # a row as another program (or tampering) left it
        aid = log.add("propose_rfc", "fine-slug", "ada", {"title": "t"})
        log.Action.update(
            status="failed", kind="propose_rfc\x1b]0;k\x07",
            slug="evil\nfake-row\x1b[2J", error="Gitea said: \x1b]52;c;ZXZpbA==\x07\nrfctui: ok",
        ).where(log.Action.id == aid).execute()
    proc = run(env, "actions")
    assert proc.returncode == 0, proc.stderr
    out = assert_terminal_safe(proc.stdout)
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].split() == ["ID", "KIND", "SLUG", "STATUS", "ERROR"]
    assert r"evil\nfake-row\x1b[2J" in lines[1] and r"propose_rfc\x1b]0;k\x07" in lines[1]
    assert lines[1].endswith(r"Gitea said: \x1b]52;c;ZXZpbA==\x07\nrfctui: ok"), lines[1]

    # Error lines: bad input echoed back, and a hostile org name in a server error.
    for args, stdin in (
        (("propose", "--slug", "ok-slug", "--title", "T\x1b]0;x\x07\nrfctui: done",
          "--body-file", "-"), b"body"),
        (("edit", "evil\x1b]52;c;eA==\x07", "--body-file", "-"), b"body"),
        (("--org", "ev\x1b]0;il\x07\u202e", "claim", "typed-config"), b""),
        (("--org", "ev\x1b]0;il\x07\u202e", "--sync"), b""),
        (("actions", "--retry", str(aid)), b""),
    ):
        proc = run(env, *args, stdin=stdin)
        assert proc.returncode != 0, args
        err = assert_terminal_safe(proc.stderr)
        assert_terminal_safe(proc.stdout)
        lines = [ln for ln in err.splitlines() if ln.startswith("rfctui")]
        assert len(lines) == 1 and "Traceback" not in err, (args, err)


def test_config_error_echoing_a_hostile_path_is_escaped(tmp_path: Path) -> None:
    """ConfigError quotes the path as given: the one line shows its ESC/BEL, not obeys."""
    env = env_for(tmp_path, "http://127.0.0.1:9")
    proc = run(env, "--config", "/nope/\x1b]0;x\x07\nrfctui: fine.toml", "--sync")
    assert proc.returncode == 2
    err = assert_terminal_safe(proc.stderr)
    assert err == "rfctui: config file /nope/\\x1b]0;x\\x07\\nrfctui: fine.toml does not exist\n"


def test_exception_text_is_escaped_with_and_without_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text inside an exception (a server's, a file name) reaches the one error line
    escaped, and so does every line of the RFCTUI_DEBUG traceback."""
    from rfctui.cli import main

    for k, v in env_for(tmp_path, "http://127.0.0.1:9").items():
        monkeypatch.setenv(k, v)

    def explode(*a: object, **k: object) -> object:
        raise OSError("cannot read \x1b]52;c;ZXZpbA==\x07\u202e\nrfctui: fine")

    monkeypatch.setattr("rfctui.db.Cache.export", explode)
    for debug in ("0", "1"):
        monkeypatch.setenv("RFCTUI_DEBUG", debug)
        out, err = io.StringIO(), io.StringIO()
        assert main(["--export", "json"], stdout=out, stderr=err) == 1
        text = assert_terminal_safe(err.getvalue().encode())
        last = text.splitlines()[-1]
        assert last.startswith(
            r"rfctui: unexpected error: OSError: cannot read \x1b]52;c;ZXZpbA==\x07\u202e"
            r"\nrfctui: fine"
        ), text
        assert ("Traceback" in text) == (debug == "1")
