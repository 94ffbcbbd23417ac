"""Which editor `ctrl+o` runs (issue 14 §4): the pure choice, like git's.

git falls back from ``$GIT_EDITOR``/``$VISUAL``/``$EDITOR`` to ``editor`` (Debian's
alternatives link) and then ``vi``; a form should not refuse to open an editor on a
machine that has one just because no variable names it. Here: ``$VISUAL``, ``$EDITOR``,
then the first of ``editor``, ``nano``, ``vi`` found on ``PATH``. A leaf: stdlib only.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping

__all__ = ["FALLBACKS", "NO_EDITOR", "choose_editor"]

FALLBACKS = ("editor", "nano", "vi")
NO_EDITOR = ("No editor: set $VISUAL or $EDITOR (none of editor, nano, vi is on PATH).")


def choose_editor(environ: Mapping[str, str] | None = None) -> list[str] | None:
    """The command to run (the file name is appended by the caller), or None.

    A variable's value is split like a shell word list (``"code --wait"``); an empty or
    blank variable counts as unset, as in git. The fallbacks are looked up on the
    ``PATH`` of ``environ`` and returned as absolute paths.
    """
    env = os.environ if environ is None else environ
    for var in ("VISUAL", "EDITOR"):
        value = (env.get(var) or "").strip()
        if value:
            try:
                argv = shlex.split(value)
            except ValueError:  # an unbalanced quote: take it as one program name
                argv = [value]
            if argv:
                return argv
    path = env.get("PATH", os.defpath)
    for name in FALLBACKS:
        found = shutil.which(name, path=path)
        if found:
            return [found]
    return None
