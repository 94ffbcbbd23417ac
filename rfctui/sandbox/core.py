"""The ``Sandbox``: repository state (a real git object model), users, pull requests,
persistence, and the two ways to reach its one request handler (``api.handle``): over
real HTTP on loopback (``serve``) or in-process as an httpx transport (``transport``).

Submodules import what they need from here or from ``state``; none imports the package
``rfctui.sandbox`` itself (its ``__init__`` only re-exports), so the package has no
import cycle.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rfctui.sandbox.faults import Faults
from rfctui.sandbox.git import GitRepo, Signature
from rfctui.sandbox.state import CommentState, PullState, SandboxUser, default_users

if TYPE_CHECKING:
    from rfctui.sandbox.api import Request, Response
    from rfctui.sandbox.transport import SandboxTransport

__all__ = ["SANDBOX_AUTHOR", "STATE_FILE", "Sandbox", "SeedError", "read_seed"]

SANDBOX_AUTHOR = ("Sandbox", "sandbox@localhost")
STATE_FILE = "sandbox-state.pickle"
STATE_VERSION = 1


class SeedError(ValueError):
    """A seed directory the sandbox refuses to read; the message is one line naming
    the offending file (the CLI prints it and exits 2)."""


# POSIX flags (getattr: importing the sandbox must not fail where one is missing).
_SEED_OPEN = os.O_RDONLY
for _flag in ("O_NOFOLLOW", "O_NONBLOCK", "O_CLOEXEC", "O_NOCTTY"):
    _SEED_OPEN |= getattr(os, _flag, 0)


def read_seed(root: Path) -> dict[str, bytes]:
    """``{posix path: bytes}`` of every regular file under ``root`` (``.git`` skipped).

    Why so careful: a seed directory may come from anywhere, and the sandbox must never
    read outside it. Every entry is opened relative to its parent's descriptor with
    ``O_NOFOLLOW`` and checked with ``fstat`` after opening, so a symlink (even one
    swapped in while we read), a fifo, a socket, a device, or a directory named like an
    entry file (``*.md``) is refused with :class:`SeedError` instead of being followed.
    """
    try:
        # The directory the user named may itself be a link; only what is inside is checked.
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
        top = os.open(root, flags)
    except OSError as exc:
        raise SeedError(f"seed directory not found or unreadable: {str(root)!r}") from exc
    files: dict[str, bytes] = {}
    try:
        _read_seed_dir(top, root, "", files)
    finally:
        os.close(top)
    return files


def _read_seed_dir(dir_fd: int, root: Path, prefix: str, files: dict[str, bytes]) -> None:
    with os.scandir(dir_fd) as it:
        names = sorted(entry.name for entry in it)
    for name in names:
        if name == ".git":
            continue
        rel = prefix + name

        def refuse(what: str, rel: str = rel) -> SeedError:
            return SeedError(f"seed file {str(root / rel)!r} is {what}; refusing to read it")

        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            raise refuse("a symlink (the sandbox never follows links)")
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise refuse("not a regular file or directory")
        if stat.S_ISDIR(st.st_mode) and name.endswith(".md"):
            raise refuse("a directory named like an entry file")
        try:
            fd = os.open(name, _SEED_OPEN, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # became a symlink since the stat
                raise refuse("a symlink (the sandbox never follows links)") from None
            raise
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                raise refuse("changing while it is read")
            if stat.S_ISDIR(now.st_mode):
                _read_seed_dir(fd, root, rel + "/", files)
            else:
                chunks = []
                while chunk := os.read(fd, 1 << 20):
                    chunks.append(chunk)
                files[rel] = b"".join(chunks)
        finally:
            os.close(fd)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Sandbox:
    """The stand-in Gitea. See DESIGN.md "rfctui/sandbox/" for the public surface.

    - ``users=None`` gives the DESIGN.md defaults (``bot`` names the writer).
    - ``seed_dir``: its files become the first commit on ``main``; without it ``main``
      starts with a README.md. Ignored when ``data_dir`` already holds state.
    - ``data_dir``: git objects, refs and PRs are saved atomically after every write
      and reloaded on start (users and faults are not persisted: they are config).
    - ``clock``: every timestamp (commits, PRs, repo) comes from it.
    - One ``RLock`` guards all state: the HTTP server is threaded, and tests may call
      ``commit_files`` while clients are talking to it.
    """

    def __init__(
        self,
        org: str = "rfcs",
        repo: str = "meta",
        users: list[SandboxUser] | None = None,
        bot: str = "rfc-bot",
        seed_dir: str | os.PathLike[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        faults: Faults | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.org = org
        self.repo = repo
        self.bot = bot
        self.default_branch = "main"
        self.faults = faults if faults is not None else Faults()
        self.clock: Callable[[], datetime] = clock or _utcnow
        # What the Date header says; None: the clock. The back-dated sample sets it so the
        # header reads its stepping clock without advancing it (issue 14 §5).
        self.date_clock: Callable[[], datetime] | None = None
        self.lock = threading.RLock()
        self.requests_served = 0
        self.internal_errors: list[str] = []  # "Type at file:line in func", newest last
        self.version = "1.26.4"
        self.users: dict[str, SandboxUser] = {}
        self.user_ids: dict[str, int] = {}
        for user in users if users is not None else default_users(bot):
            self.add_user(user)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.git = GitRepo()
        self.pulls: dict[int, PullState] = {}
        self.pull_refs: dict[int, str] = {}  # refs/pull/N/head
        self.next_index = 1
        self.next_pull_id = 1
        self.comments: dict[int, list[CommentState]] = {}  # issue index -> comments
        self.next_comment_id = 1
        self.created = self.now()
        self._mergeable_cache: dict[tuple[str, str], bool] = {}
        self._transport: SandboxTransport | None = None
        if self.data_dir is not None and (self.data_dir / STATE_FILE).exists():
            self._load()
        else:
            self._init_repo(Path(seed_dir) if seed_dir is not None else None)
            self.save()

    # -- users -------------------------------------------------------------------------
    def add_user(self, user: SandboxUser) -> None:
        """Register (or replace) a user; ids are stable in registration order."""
        with self.lock:
            others = [u for login, u in self.users.items() if login != user.login]
            if any(u.login.lower() == user.login.lower() for u in others):
                raise ValueError(f"duplicate login {user.login!r}")
            if any(u.token == user.token for u in others):
                raise ValueError(f"user {user.login!r} reuses another user's token")
            self.users[user.login] = user
            self.user_ids.setdefault(user.login, len(self.user_ids) + 2)  # org is id 1

    def user_by_token(self, token: str) -> SandboxUser | None:
        for user in self.users.values():
            if user.token == token:
                return user
        return None

    def user_by_login(self, login: str) -> SandboxUser | None:
        for user in self.users.values():
            if user.login.lower() == login.lower():
                return user
        return None

    def user_by_email(self, email: str) -> SandboxUser | None:
        for user in self.users.values():
            if user.email.lower() == email.lower():
                return user
        return None

    # -- time --------------------------------------------------------------------------
    def now(self) -> int:
        """Current unix seconds from ``clock`` (all timestamps come from here)."""
        return int(self.clock().timestamp())

    # -- repository bootstrap and out-of-band changes ---------------------------------------
    def _init_repo(self, seed_dir: Path | None) -> None:
        files: dict[str, bytes] = {}
        if seed_dir is not None:
            if not seed_dir.is_dir():
                raise SeedError(f"seed directory not found: {seed_dir}")
            files = read_seed(seed_dir)
            message = "Initial commit from seed\n"
        if not files:
            files = {
                "README.md": (
                    f"# {self.repo}\n\nThe {self.org} RFC meta repository (sandbox).\n"
                ).encode()
            }
            message = "Initial commit\n"
        tree = self.git.build_tree(files)
        sig = Signature(SANDBOX_AUTHOR[0], SANDBOX_AUTHOR[1], self.now())
        sha = self.git.write_commit(tree, [], sig, sig, message)
        self.git.branches[self.default_branch] = sha

    def set_branch(self, name: str, sha: str) -> None:
        """Move (or create) a branch; open PRs with that head follow it (§3.2 of the notes:
        a push to the head branch bumps ``updated_at``)."""
        with self.lock:
            self.git.branches[name] = sha
            for pr in self.pulls.values():
                if pr.state == "open" and pr.head == name and self.pull_refs.get(pr.number) != sha:
                    self.pull_refs[pr.number] = sha
                    base = self.git.branches.get(pr.base)
                    if base:
                        pr.merge_base = self.git.merge_base(base, sha) or pr.merge_base
                    pr.updated = self.now()

    def delete_branch(self, name: str) -> None:
        """Delete a branch; like Gitea (``CloseBranchPulls``) this closes every unmerged
        PR whose head is that branch. Their ``head.ref`` becomes ``refs/pull/N/head``."""
        with self.lock:
            del self.git.branches[name]
            now = self.now()
            for pr in self.pulls.values():
                if pr.state == "open" and name in (pr.head, pr.base):
                    pr.state, pr.closed_at, pr.updated = "closed", now, now

    def commit_files(
        self,
        branch: str,
        files: Mapping[str, bytes | None],
        message: str,
        author: tuple[str, str] = SANDBOX_AUTHOR,
    ) -> str:
        """Commit ``{path: bytes or None}`` (None deletes) on ``branch``, bypassing auth.

        The branch is created from the default branch if it does not exist yet.
        """
        with self.lock:
            parent = self.git.branches.get(branch) or self.git.branches[self.default_branch]
            current = self.git.flatten(self.git.commit(parent).tree)
            for path, data in files.items():
                path = path.strip("/")
                if data is None:
                    current.pop(path, None)
                else:
                    current[path] = self.git.put_blob(data)
            tree = self.git.build_tree(current)
            sig = Signature(author[0], author[1], self.now())
            if not message.endswith("\n"):
                message += "\n"
            sha = self.git.write_commit(tree, [parent], sig, sig, message)
            self.set_branch(branch, sha)
            self.save()
            return sha

    def populate_sample(self) -> None:
        """Fill the repository with the bundled sample (entries, branches and PRs)."""
        from rfctui.sandbox.populate import populate

        populate(self)

    # -- persistence -------------------------------------------------------------------------
    def save(self) -> None:
        """Write state atomically (temp file + ``os.replace``) when ``data_dir`` is set."""
        if self.data_dir is None:
            return
        with self.lock:
            state = {
                "version": STATE_VERSION,
                "objects": self.git.objects,
                "branches": self.git.branches,
                "tags": self.git.tags,
                "pulls": [asdict(p) for p in self.pulls.values()],
                "pull_refs": self.pull_refs,
                "next_index": self.next_index,
                "next_pull_id": self.next_pull_id,
                "comments": [asdict(c) for cs in self.comments.values() for c in cs],
                "next_comment_id": self.next_comment_id,
                "created": self.created,
                "default_branch": self.default_branch,
            }
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.data_dir)
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.data_dir / STATE_FILE)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def _load(self) -> None:
        assert self.data_dir is not None
        with open(self.data_dir / STATE_FILE, "rb") as fh:
            state = pickle.load(fh)  # noqa: S301 - our own file in our own data dir
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported sandbox state version in {self.data_dir}")
        self.git.objects = state["objects"]
        self.git.branches = state["branches"]
        self.git.tags = state["tags"]
        self.pulls = {p["number"]: PullState(**p) for p in state["pulls"]}
        self.pull_refs = state["pull_refs"]
        self.next_index = state["next_index"]
        self.next_pull_id = state["next_pull_id"]
        self.comments = {}
        for c in state.get("comments", ()):  # a state saved before comments has none
            self.comments.setdefault(c["index"], []).append(CommentState(**c))
        self.next_comment_id = state.get("next_comment_id", 1)
        self.created = state["created"]
        self.default_branch = state["default_branch"]

    def note_internal_error(self, exc: BaseException) -> None:
        """Remember (type and place only, last 20) a request that ended in a 500."""
        from rfctui.sandbox.api import describe_exception

        with self.lock:
            self.internal_errors.append(describe_exception(exc))
            del self.internal_errors[:-20]

    # -- entry points ----------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one ``api.Request`` with an ``api.Response`` (no latency, no ``down``)."""
        from rfctui.sandbox.api import handle

        return handle(self, request)

    @property
    def transport(self) -> SandboxTransport:
        """An httpx transport (sync and async) answering from this sandbox in-process."""
        if self._transport is None:
            from rfctui.sandbox.transport import SandboxTransport

            self._transport = SandboxTransport(self)
        return self._transport

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve over HTTP on loopback in a background thread; yields the base URL."""
        from rfctui.sandbox.server import SandboxServer

        server = SandboxServer(self, host, port)
        server.start()
        try:
            yield server.base_url
        finally:
            server.stop()

    def __repr__(self) -> str:
        return f"Sandbox(org={self.org!r}, repo={self.repo!r}, users={sorted(self.users)!r})"
