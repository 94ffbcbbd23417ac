"""What every ``rfctui WORD`` subcommand shares (SPEC §8, §11): a usage error is one
line and exit 2, never argparse's usage dump, and names the ``--help`` to read."""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["SubcommandParser", "Usage"]


class Usage(Exception):
    """An argument error or bad input, one line (exit 2; `rfctui.cli` prints it)."""


class SubcommandParser(argparse.ArgumentParser):
    """``prog`` is ``"rfctui WORD"``; an error reads ``WORD: … (see rfctui WORD --help)``."""

    def error(self, message: str) -> NoReturn:
        word = self.prog.removeprefix("rfctui ")
        raise Usage(f"{word}: {message} (see {self.prog} --help)")
