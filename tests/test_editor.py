"""`ctrl+o`'s editor choice (issue 14 §4): $VISUAL, $EDITOR, then editor/nano/vi on PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rfctui.editor import NO_EDITOR, choose_editor


def _fake(bin_dir: Path, *names: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)


def test_visual_wins_over_editor_and_path(tmp_path: Path) -> None:
    _fake(tmp_path, "editor", "vi")
    env = {"VISUAL": "code --wait", "EDITOR": "nano", "PATH": str(tmp_path)}
    assert choose_editor(env) == ["code", "--wait"]


def test_editor_when_no_visual(tmp_path: Path) -> None:
    _fake(tmp_path, "vi")
    assert choose_editor({"EDITOR": "emacs -nw", "PATH": str(tmp_path)}) == ["emacs", "-nw"]


def test_blank_variables_count_as_unset(tmp_path: Path) -> None:
    _fake(tmp_path, "vi")
    env = {"VISUAL": "  ", "EDITOR": "", "PATH": str(tmp_path)}
    assert choose_editor(env) == [str(tmp_path / "vi")]


@pytest.mark.parametrize(("present", "chosen"), [
    (("editor", "nano", "vi"), "editor"),
    (("nano", "vi"), "nano"),
    (("vi",), "vi"),
])
def test_path_fallback_order(tmp_path: Path, present: tuple[str, ...], chosen: str) -> None:
    _fake(tmp_path / "bin", *present)
    assert choose_editor({"PATH": str(tmp_path / "bin")}) == [str(tmp_path / "bin" / chosen)]


def test_fallback_searches_every_path_entry(tmp_path: Path) -> None:
    _fake(tmp_path / "a", "vi")
    _fake(tmp_path / "b", "nano")
    path = os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])
    assert choose_editor({"PATH": path}) == [str(tmp_path / "b" / "nano")]  # nano before vi


def test_non_executable_is_not_an_editor(tmp_path: Path) -> None:
    (tmp_path / "vi").write_text("not a program")
    (tmp_path / "vi").chmod(0o644)
    assert choose_editor({"PATH": str(tmp_path)}) is None


def test_none_found(tmp_path: Path) -> None:
    assert choose_editor({"PATH": str(tmp_path)}) is None
    assert "$VISUAL" in NO_EDITOR and "$EDITOR" in NO_EDITOR
