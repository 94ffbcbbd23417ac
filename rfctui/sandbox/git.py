"""A small in-memory git object model with real object ids.

Why real ids: clients (and the reconciler, API-NOTES §9) rely on content addressing —
an unchanged ``rfcs/`` subtree must keep its tree sha, and a blob sha must equal
``git hash-object``. So blobs, trees and commits are serialised exactly as git does
and hashed with SHA-1; nothing here is a look-alike.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

HEX40 = re.compile(r"^[0-9a-f]{40}$")
SHORT_HEX = re.compile(r"^[0-9a-f]{4,40}$")

MODE_FILE = "100644"
MODE_EXEC = "100755"
MODE_LINK = "120000"
MODE_TREE = "40000"  # git writes tree modes without the leading zero
MODE_SUBMODULE = "160000"


class GitError(Exception):
    """Raised for unknown objects, bad refs and other model misuse."""


@dataclass(frozen=True, slots=True)
class Signature:
    """A git identity line: ``Name <email> <unix> <tz>``."""

    name: str
    email: str
    when: int
    tz: str = "+0000"

    def line(self) -> str:
        return f"{self.name} <{self.email}> {self.when} {self.tz}"

    @classmethod
    def parse(cls, text: str) -> Signature:
        m = re.match(r"^(.*) <(.*)> (-?\d+) ([+-]\d{4})$", text)
        if not m:
            raise GitError(f"bad signature line: {text!r}")
        return cls(m.group(1), m.group(2), int(m.group(3)), m.group(4))


@dataclass(frozen=True, slots=True)
class TreeEntry:
    mode: str  # raw git mode ("40000" for trees)
    name: str
    sha: str

    @property
    def is_tree(self) -> bool:
        return self.mode == MODE_TREE

    @property
    def type(self) -> str:
        if self.mode == MODE_TREE:
            return "tree"
        if self.mode == MODE_SUBMODULE:
            return "commit"
        return "blob"

    @property
    def display_mode(self) -> str:
        """Mode as Gitea prints it (``%06o``)."""
        return self.mode.rjust(6, "0")


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


def hash_object(kind: str, data: bytes) -> str:
    """The object id git assigns to ``data`` of type ``kind``."""
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


def _tree_sort_key(entry: TreeEntry) -> bytes:
    # git compares names bytewise, with directories compared as if they ended in "/".
    name = entry.name.encode()
    return name + b"/" if entry.is_tree else name


def serialize_tree(entries: Iterable[TreeEntry]) -> bytes:
    out = bytearray()
    for e in sorted(entries, key=_tree_sort_key):
        out += f"{e.mode} {e.name}\0".encode() + bytes.fromhex(e.sha)
    return bytes(out)


def parse_tree(data: bytes) -> list[TreeEntry]:
    entries: list[TreeEntry] = []
    i = 0
    while i < len(data):
        sp = data.index(b" ", i)
        nul = data.index(b"\0", sp)
        mode = data[i:sp].decode()
        name = data[sp + 1 : nul].decode()
        sha = data[nul + 1 : nul + 21].hex()
        entries.append(TreeEntry(mode, name, sha))
        i = nul + 21
    return entries


def serialize_commit(
    tree: str, parents: Iterable[str], author: Signature, committer: Signature, message: str
) -> bytes:
    lines = [f"tree {tree}"]
    lines += [f"parent {p}" for p in parents]
    lines.append(f"author {author.line()}")
    lines.append(f"committer {committer.line()}")
    return ("\n".join(lines) + "\n\n" + message).encode()


def parse_commit(sha: str, data: bytes) -> Commit:
    text = data.decode()
    header, _, message = text.partition("\n\n")
    tree = ""
    parents: list[str] = []
    author = committer = None
    for line in header.split("\n"):
        key, _, value = line.partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            author = Signature.parse(value)
        elif key == "committer":
            committer = Signature.parse(value)
    if author is None or committer is None:
        raise GitError(f"commit {sha} lacks author or committer")
    return Commit(sha, tree, tuple(parents), author, committer, message)


class GitRepo:
    """Object store (sha -> (type, bytes)) plus branch and tag refs.

    Parsed trees and commits are memoised: objects are immutable, so the caches never
    need invalidation, which keeps per-request history walks cheap.
    """

    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, bytes]] = {}
        self.branches: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self._trees: dict[str, list[TreeEntry]] = {}
        self._index: dict[str, dict[str, TreeEntry]] = {}
        self._commits: dict[str, Commit] = {}
        self._last_touch: dict[tuple[str, str], str | None] = {}

    # -- objects ---------------------------------------------------------------------
    def put(self, kind: str, data: bytes) -> str:
        sha = hash_object(kind, data)
        self.objects.setdefault(sha, (kind, data))
        return sha

    def put_blob(self, data: bytes) -> str:
        return self.put("blob", data)

    def has(self, sha: str) -> bool:
        return sha in self.objects

    def kind(self, sha: str) -> str | None:
        obj = self.objects.get(sha)
        return obj[0] if obj else None

    def _payload(self, sha: str, kind: str) -> bytes:
        """The stored bytes of object `sha` if it is a `kind`; else git's "does not exist"."""
        obj = self.objects.get(sha)
        if obj is None or obj[0] != kind:
            raise GitError(f"object does not exist [id: {sha}]")
        return obj[1]

    def blob(self, sha: str) -> bytes:
        return self._payload(sha, "blob")

    def tree(self, sha: str) -> list[TreeEntry]:
        cached = self._trees.get(sha)
        if cached is not None:
            return cached
        entries = parse_tree(self._payload(sha, "tree"))
        self._trees[sha] = entries
        return entries

    def commit(self, sha: str) -> Commit:
        cached = self._commits.get(sha)
        if cached is not None:
            return cached
        c = parse_commit(sha, self._payload(sha, "commit"))
        self._commits[sha] = c
        return c

    def write_tree(self, entries: Iterable[TreeEntry]) -> str:
        return self.put("tree", serialize_tree(entries))

    def write_commit(
        self,
        tree: str,
        parents: Iterable[str],
        author: Signature,
        committer: Signature,
        message: str,
    ) -> str:
        return self.put("commit", serialize_commit(tree, parents, author, committer, message))

    # -- trees -------------------------------------------------------------------------
    def entry_at(self, tree_sha: str, path: str) -> TreeEntry | None:
        """The entry at ``path`` (slash separated) below ``tree_sha``, or None."""
        parts = [p for p in path.split("/") if p]
        if not parts:
            return TreeEntry(MODE_TREE, "", tree_sha)
        current = tree_sha
        entry: TreeEntry | None = None
        for i, part in enumerate(parts):
            index = self._index.get(current)
            if index is None:
                index = {e.name: e for e in self.tree(current)}
                self._index[current] = index
            found = index.get(part)
            if found is None:
                return None
            entry = found
            if i < len(parts) - 1:
                if not found.is_tree:
                    return None
                current = found.sha
        return entry

    def flatten(self, tree_sha: str, prefix: str = "") -> dict[str, str]:
        """``{path: blob sha}`` for every non-tree entry below ``tree_sha``."""
        out: dict[str, str] = {}
        for e in self.tree(tree_sha):
            path = f"{prefix}{e.name}"
            if e.is_tree:
                out.update(self.flatten(e.sha, path + "/"))
            else:
                out[path] = e.sha
        return out

    def walk(self, tree_sha: str, prefix: str = "") -> list[tuple[str, TreeEntry]]:
        """Pre-order ``(full path, entry)`` list, trees included (``ls-tree -t -r``)."""
        out: list[tuple[str, TreeEntry]] = []
        for e in self.tree(tree_sha):
            path = f"{prefix}{e.name}"
            out.append((path, e))
            if e.is_tree:
                out.extend(self.walk(e.sha, path + "/"))
        return out

    def build_tree(self, files: Mapping[str, bytes | str]) -> str:
        """Write a tree from ``{path: bytes or blob sha}``; returns the root tree sha."""
        root: dict[str, Any] = {}  # name -> blob sha (str) or a sub-tree (dict)
        for path, value in files.items():
            parts = [p for p in path.split("/") if p]
            if not parts:
                raise GitError(f"empty path {path!r}")
            node = root
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise GitError(f"a file exists where a directory is needed [path: {path}]")
                node = child
            if isinstance(node.get(parts[-1]), dict):
                raise GitError(f"a directory exists where a file is needed [path: {path}]")
            sha = self.put_blob(value) if isinstance(value, bytes) else value
            node[parts[-1]] = sha
        return self._write_node(root)

    def _write_node(self, node: dict[str, Any]) -> str:
        entries = []
        for name, value in node.items():
            if isinstance(value, dict):
                entries.append(TreeEntry(MODE_TREE, name, self._write_node(value)))
            else:
                entries.append(TreeEntry(MODE_FILE, name, value))
        return self.write_tree(entries)

    # -- refs and history ----------------------------------------------------------------
    def resolve_commit(self, ref: str, *, allow_short: bool = True) -> str | None:
        """Branch, then tag, then commit id (full, or a unique short prefix)."""
        for prefix, table in (("refs/heads/", self.branches), ("refs/tags/", self.tags)):
            name = ref[len(prefix) :] if ref.startswith(prefix) else ref
            if name in table:
                return table[name]
        if HEX40.match(ref):
            return ref if self.kind(ref) == "commit" else None
        if allow_short and SHORT_HEX.match(ref):
            hits = [s for s, (k, _) in self.objects.items() if k == "commit" and s.startswith(ref)]
            if len(hits) == 1:
                return hits[0]
        return None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor in self.ancestors(descendant)

    def ancestors(self, sha: str) -> set[str]:
        """All commits reachable from ``sha`` (inclusive)."""
        seen: set[str] = set()
        stack = [sha]
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            stack.extend(self.commit(s).parents)
        return seen

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor (one that is no other common ancestor's ancestor).

        The common set is closed under ancestry, so the non-best members are exactly
        the parents of common members: linear, not quadratic, in history size.
        """
        common = self.ancestors(a) & self.ancestors(b)
        if not common:
            return None
        shadowed = {p for c in common for p in self.commit(c).parents}
        best = sorted(common - shadowed, key=lambda s: (-self.commit(s).committer.when, s))
        return best[0]

    def log(self, start: str) -> list[str]:
        """Commits reachable from ``start``, newest committer date first (``git log``)."""
        commits = [self.commit(s) for s in self.ancestors(start)]
        order = {s: i for i, s in enumerate(self._topo(start))}
        commits.sort(key=lambda c: (-c.committer.when, order[c.sha]))
        return [c.sha for c in commits]

    def _topo(self, start: str) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        stack = deque([start])
        while stack:
            s = stack.popleft()
            if s in seen:
                continue
            seen.add(s)
            out.append(s)
            stack.extend(self.commit(s).parents)
        return out

    def _path_id(self, commit_sha: str, path: str) -> str | None:
        entry = self.entry_at(self.commit(commit_sha).tree, path)
        return f"{entry.mode}:{entry.sha}" if entry else None

    def touches(self, commit_sha: str, path: str) -> bool:
        """True if ``commit_sha`` changed ``path`` relative to every parent (git's
        default history simplification: a merge identical to one parent is skipped)."""
        mine = self._path_id(commit_sha, path)
        parents = self.commit(commit_sha).parents
        if not parents:
            return mine is not None
        return all(self._path_id(p, path) != mine for p in parents)

    def path_log(self, start: str, path: str) -> list[str]:
        """``git log -- path``: commits touching ``path``, newest first."""
        return [s for s in self.log(start) if self.touches(s, path)]

    def last_commit_for(self, start: str, path: str) -> str | None:
        """The newest commit reachable from ``start`` that touched ``path``.

        Follows a parent in which ``path`` is unchanged (git's TREESAME rule). Every
        commit visited on the way gets the same answer memoised, so after one more
        commit on a branch a directory listing costs one step per entry.
        """
        if not path:
            return start
        key = (start, path)
        if key in self._last_touch:
            return self._last_touch[key]
        visited: list[str] = []
        result: str | None = None
        current = start
        mine = self._path_id(start, path)
        while True:
            memo = self._last_touch.get((current, path), "")
            if memo != "":
                result = memo
                break
            visited.append(current)
            commit = self.commit(current)
            if not commit.parents:
                result = current if mine is not None else None
                break
            nxt = next((p for p in commit.parents if self._path_id(p, path) == mine), None)
            if nxt is None:
                result = current
                break
            current = nxt
        for sha in visited:
            self._last_touch[(sha, path)] = result
        return result

    def last_commits_in_dir(self, start: str, dir_path: str) -> dict[str, str | None]:
        """``last_commit_for`` for every child of ``dir_path`` in one history walk.

        Why: a directory listing asks this for each entry; per-entry walks are
        quadratic in history length. Commits whose directory tree equals the first
        parent's are skipped outright; at merges a changed entry falls back to the
        per-path walk so the TREESAME rule still holds.
        """
        prefix = f"{dir_path}/" if dir_path else ""
        top = self.entry_at(self.commit(start).tree, dir_path)
        if top is None or not top.is_tree:
            return {}
        pending = {e.name: (e.mode, e.sha) for e in self.tree(top.sha)}
        results: dict[str, str | None] = {}
        current = start
        current_dir: str | None = top.sha
        while pending:
            commit = self.commit(current)
            if not commit.parents:
                results.update(dict.fromkeys(pending, current))
                break
            parent = commit.parents[0]
            parent_dir = self.entry_at(self.commit(parent).tree, dir_path)
            parent_sha = parent_dir.sha if parent_dir is not None and parent_dir.is_tree else None
            if parent_sha != current_dir:
                before = (
                    {e.name: (e.mode, e.sha) for e in self.tree(parent_sha)} if parent_sha else {}
                )
                for name in [n for n, ident in pending.items() if before.get(n) != ident]:
                    if len(commit.parents) > 1:
                        results[name] = self.last_commit_for(current, prefix + name)
                    else:
                        results[name] = current
                    del pending[name]
            current, current_dir = parent, parent_sha
            if current_dir is None:
                results.update(dict.fromkeys(pending, commit.sha))
                break
        for name, sha in results.items():
            self._last_touch[(start, prefix + name)] = sha
        return results

    def changed_paths(self, old_tree: str | None, new_tree: str) -> dict[str, str]:
        """``{path: "added"|"modified"|"removed"}`` between two root trees."""
        old = self.flatten(old_tree) if old_tree else {}
        new = self.flatten(new_tree)
        out: dict[str, str] = {}
        for p, s in new.items():
            if p not in old:
                out[p] = "added"
            elif old[p] != s:
                out[p] = "modified"
        for p in old:
            if p not in new:
                out[p] = "removed"
        return dict(sorted(out.items()))


class MergeConflict(GitError):
    def __init__(self, paths: list[str]) -> None:
        super().__init__("merge conflict: " + ", ".join(paths))
        self.paths = paths


def merge_files(
    base: Mapping[str, str], ours: Mapping[str, str], theirs: Mapping[str, str]
) -> dict[str, str]:
    """File-level three-way merge of ``{path: blob sha}`` maps.

    A path changed on only one side takes that side; changed identically on both is
    fine; changed differently on both is a conflict (Gitea answers 409 there).
    """
    result: dict[str, str] = {}
    conflicts: list[str] = []
    for path in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if o == t:
            value = o
        elif o == b:
            value = t
        elif t == b:
            value = o
        else:
            conflicts.append(path)
            continue
        if value is not None:
            result[path] = value
    if conflicts:
        raise MergeConflict(conflicts)
    return result
