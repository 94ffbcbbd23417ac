"""Private files (SPEC §11): 0600 files in 0700 directories whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rfctui.private import private_dir, private_file, write_private


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(old)


def test_private_dir_creates_parents_0700(tmp_path: Path, loose_umask: None) -> None:
    d = private_dir(tmp_path / "a" / "b")
    assert _mode(d) == 0o700
    assert _mode(tmp_path / "a") == 0o700
    (tmp_path / "c").mkdir(mode=0o755)
    os.chmod(tmp_path / "c", 0o755)
    assert _mode(private_dir(tmp_path / "c")) == 0o700


def test_private_file_tightens_existing_and_sqlite_side_files(
    tmp_path: Path, loose_umask: None
) -> None:
    db = tmp_path / "x.sqlite"
    db.write_bytes(b"")
    wal = tmp_path / "x.sqlite-wal"
    wal.write_bytes(b"")
    os.chmod(db, 0o644)
    os.chmod(wal, 0o644)
    private_file(db, sqlite=True)
    assert _mode(db) == 0o600
    assert _mode(wal) == 0o600
    fresh = private_file(tmp_path / "new" / "f")
    assert _mode(fresh) == 0o600 and _mode(fresh.parent) == 0o700


def test_write_private_is_atomic_and_0600(tmp_path: Path, loose_umask: None) -> None:
    target = tmp_path / "d" / "draft.json"
    write_private(target, b"one")
    assert target.read_bytes() == b"one" and _mode(target) == 0o600
    write_private(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["draft.json"]  # no temp left


def test_sqlite_side_files_follow_the_database_mode(tmp_path: Path, loose_umask: None) -> None:
    import sqlite3

    db = private_file(tmp_path / "c.sqlite", sqlite=True)
    conn = sqlite3.connect(db)
    conn.execute("pragma journal_mode=wal")
    conn.execute("create table t(x)")
    conn.execute("insert into t values (1)")
    conn.commit()
    for side in ("c.sqlite-wal", "c.sqlite-shm"):
        assert _mode(tmp_path / side) == 0o600, side
    conn.close()


def test_private_file_keeps_sqlite_locks_of_open_connections(tmp_path: Path) -> None:
    """Closing any descriptor of a database file drops every POSIX lock this process
    holds on it, so `private_file` must never open an existing file: here another
    process must still be unable to take the database out of WAL mode (which needs
    the exclusive lock our open connection's shared lock forbids). A kill -9 test of
    the reconciler corrupted its cache this way (SQLite's "posix advisory locks
    cancelled by a separate close()")."""
    import sqlite3
    import subprocess
    import sys

    db = private_file(tmp_path / "c.sqlite", sqlite=True)
    conn = sqlite3.connect(db)
    conn.execute("pragma journal_mode=wal")
    conn.execute("create table t(x)")
    conn.commit()
    conn.execute("select * from t").fetchall()  # the connection holds its shared lock
    private_file(db, sqlite=True)  # as open_cache does for a second handle
    probe = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], timeout=0.2)\n"
        "print(c.execute('pragma journal_mode=delete').fetchone()[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(db)], capture_output=True,
                          text=True, timeout=30)
    conn.close()
    assert done.stdout.strip() != "delete", "our connection's lock was dropped"
    assert "database is locked" in done.stderr, done.stderr
