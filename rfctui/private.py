"""Files only the user can read (SPEC §11).

The cache holds the bodies of a possibly private repository; the actions log, drafts,
identity and UI state hold what the user typed and who they are. All of them are
created ``0600`` in directories ``0700`` whatever the umask, and an existing file of
ours is tightened when it is opened. SQLite creates its ``-wal``/``-shm``/``-journal``
files with the database file's own mode, so creating the database file ``0600`` first
keeps those private too; `private_file` also tightens any that already exist.

Stdlib only: the first-paint path and every core module may use it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "write_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) and make the leaf ``0700``.

    Parents that already exist are not ours to change (``~/.cache`` may be shared by
    policy); parents we create are ``0700`` too.
    """
    p = Path(path)
    missing = []
    probe = p
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=DIR_MODE)
        _chmod(d, DIR_MODE)
    _chmod(p, DIR_MODE)
    return p


def private_file(path: str | os.PathLike[str], *, sqlite: bool = False) -> Path:
    """Make sure ``path`` exists as a ``0600`` file in a ``0700`` directory.

    Creates an empty file when missing (mode ``0600`` whatever the umask) and tightens
    an existing one with ``chmod`` alone: an existing file is never opened here.
    ``sqlite=True`` also tightens the database's side files that exist already.
    """
    p = Path(path)
    private_dir(p.parent)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        # Never open (and so close) an existing file: closing any descriptor of a
        # database file drops every POSIX lock this process holds on it, including
        # those of SQLite connections already open here — another process could then
        # checkpoint or reset the WAL under them and corrupt the file. chmod takes no
        # descriptor.
        _chmod(p, FILE_MODE)
    else:
        try:
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
    if sqlite:
        for suffix in _SQLITE_SIDE_FILES:
            side = p.with_name(p.name + suffix)
            if side.exists():
                _chmod(side, FILE_MODE)
    return p


def write_private(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` atomically with ``data``, ``0600`` from the first byte.

    A temporary file in the same directory is written, flushed to disk and renamed over
    the target, so a kill at any moment leaves either the old or the new content.
    """
    p = Path(path)
    private_dir(p.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p


def _chmod(path: Path, mode: int) -> None:
    # A file we cannot chmod (another owner, a read-only mount) is left as it is: the
    # open that follows says what is wrong if it matters.
    with contextlib.suppress(OSError):
        os.chmod(path, mode)
