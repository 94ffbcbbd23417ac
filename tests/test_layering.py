"""Layering (docs/DESIGN.md "Layering"; issues 3 and 10).

At run time: every module under rfctui except the UI layer is imported in a fresh
interpreter with textual blocked; so are the headless command-line paths (``--version``,
``--help``, ``--resync``, ``--sync``, ``--export json``), run for real against a sandbox.

On the source: no import cycle among rfctui modules, and every import between them is
allowed by the table `TABLE` (function-level imports count; ``TYPE_CHECKING`` ones do
not). The checker is itself tested on planted trees.
"""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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


# ------------------------------------------------------------------------- AST layering
# Issue 10: no import cycle among rfctui modules and every import allowed by the table
# below, checked on the source, so an import hidden inside a function counts as much as
# one at the top of a file. Only imports under ``if TYPE_CHECKING:`` are left out (they
# never run). docs/DESIGN.md "Layering" shows the same table.

TABLE_ROOT = "rfctui"


@dataclass(frozen=True)
class Row:
    """One row of the layering table.

    ``members``: module names; ``"rfctui.db.*"`` means the package and every submodule of
    it, so a new file in a package falls in its package's row. ``may_import``: names of
    other rows, or single modules (``"rfctui.bot.errors"``). A row may always import its
    own members (the cycle check still applies) and the root package ``rfctui``, which
    holds only ``__version__``.
    """

    members: tuple[str, ...]
    may_import: tuple[str, ...] = ()


# Rows are listed bottom-up: a row names only rows above it in this list.
LEAVES = ("text", "entry", "trailer", "private", "logins", "results", "rows", "secret",
          "editor")  # editor: ctrl+o's choice of editor (issue 14 §4)
TABLE: dict[str, Row] = {
    "root": Row(("rfctui",)),
    **{leaf: Row((f"rfctui.{leaf}",)) for leaf in LEAVES},
    "attention": Row(("rfctui.attention",), ("text",)),
    # What a PR changes (issue 12 §1): pure, two file texts in.
    "changes": Row(("rfctui.changes",), ("entry", "text", "logins")),
    "teamfile": Row(("rfctui.teamfile",), ("attention", "text")),
    "drafts": Row(("rfctui.drafts",), ("entry", "private", "text")),
    "gitea": Row(("rfctui.gitea",), ("secret",)),
    "config": Row(("rfctui.config",), ("secret", "private", "teamfile")),
    # Personal marks (snoozes, last seen, UI state): files in the data directory.
    "marks": Row(("rfctui.marks",), ("private", "attention", "config")),
    # The queue from the cache: facts in one read, thresholds from the team file.
    "triage": Row(("rfctui.triage",),
                  ("attention", "teamfile", "entry", "rows", "db", "logins", "text")),
    "filtering": Row(("rfctui.filtering",), ("rows", "logins")),
    "db": Row(("rfctui.db.*",), ("entry", "rows", "text", "private", "logins")),
    "reconcile": Row(("rfctui.reconcile", "rfctui.attribution", "rfctui.sweep_reads",
                      "rfctui.sweep_apply", "rfctui.resync_stream"),
                     ("db", "entry", "gitea", "rows", "text", "trailer", "results",
                      "logins")),
    # True time in state (issue 11 §2): the history walk, run by the session.
    "history": Row(("rfctui.history",),
                   ("db", "entry", "gitea", "rows", "text", "results", "logins")),
    # The life of an entry (issue 12 §2): from the cache, with the §6.3 attribution.
    "timeline": Row(("rfctui.timeline",),
                    ("rfctui.attribution", "db", "entry", "logins", "rows", "text",
                     "trailer")),
    # Cross-references in a body (issue 12 §5): pure text in, targets out.
    "xrefs": Row(("rfctui.xrefs",), ("entry", "text")),
    "worddiff": Row(("rfctui.worddiff",), ("text",)),  # diff rows + word highlights (§10)
    # The weekly digest (issue 12 §4): from the cache, with the timeline's attribution.
    "digest": Row(("rfctui.digest",),
                  ("db", "entry", "logins", "rows", "text", "timeline", "attention",
                   "rfctui.attribution", "trailer")),
    # The bot never imports the reconciler: the session hands it what it needs.
    "bot": Row(("rfctui.bot.*",),
               ("entry", "gitea", "text", "trailer", "results", "logins", "rows",
                "private")),
    # What is wrong with the set-up (issue 14 §2): reads, never writes. The session
    # asks it why a sweep's repository answered 404 (a wrong URL path, issue 14 §2).
    "doctor": Row(("rfctui.doctor",), ("config", "gitea", "db", "drafts", "logins", "text")),
    "session": Row(("rfctui.session",),
                   ("config", "db", "gitea", "reconcile", "bot", "results", "logins",
                    "text", "marks", "triage", "history", "timeline", "changes", "digest",
                    "xrefs", "trailer", "doctor")),
    "startup": Row(("rfctui.startup",), ("config", "rows", "db", "session")),
    # The in-process stand-in Gitea imports nothing of rfctui; only the demo uses it.
    "sandbox": Row(("rfctui.sandbox.*",)),
    "demo": Row(("rfctui.demo",), ("config", "private", "sandbox")),
}
# The UI may use anything of the core (never the command line, which starts it); the
# widgets only draw what they are given: no cache, no network, no session.
CORE_ROWS = tuple(name for name in TABLE if name not in ("root", "sandbox"))
TABLE |= {
    "widgets": Row(("rfctui.widgets.*",),
                   tuple(n for n in CORE_ROWS if n not in ("db", "gitea", "session"))),
    "ui": Row(("rfctui.app", "rfctui.messages", "rfctui.screens.*"), (*CORE_ROWS, "widgets")),
    # The command line goes through the session; it names only the error types of the
    # layers below it, and starts the UI (rfctui.app).
    "cli": Row(("rfctui.cli", "rfctui.actions_cli", "rfctui.queue_cli", "rfctui.diff_cli",
                "rfctui.log_cli", "rfctui.digest_cli", "rfctui.comment_cli",
                "rfctui.doctor_cli", "rfctui.subcommand"),
               ("session", "config", "text", "startup", "demo", "entry", "results",
                "triage", "attention", "changes", "digest", "timeline", "doctor",
                "rfctui.bot.errors", "rfctui.bot.checks", "rfctui.db.errors", "rfctui.app")),
    "main": Row(("rfctui.__main__",), ("cli",)),
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} (line {self.line})"


def discover(root: Path, package: str = TABLE_ROOT) -> dict[str, Module]:
    """Every module of the package whose directory is ``root``, by dotted name."""
    modules: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = Module(".".join(parts), path, is_package)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom | ast.Call]:
    """Import statements anywhere (functions, try blocks, classes), TYPE_CHECKING aside;
    also ``importlib.import_module("…")`` / ``__import__("…")`` with a literal name."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children: list[ast.AST] = list(node.orelse)
    else:
        children = list(ast.iter_child_nodes(node))
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    elif isinstance(node, ast.Call) and _literal_import(node) is not None:
        yield node
    for child in children:
        yield from _import_nodes(child)


def _literal_import(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return None
    arg = call.args[0]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def _known(name: str, modules: Mapping[str, Module]) -> str | None:
    """The module ``name`` loads from the tree: itself, or its longest known prefix."""
    parts = name.split(".")
    while parts:
        if (candidate := ".".join(parts)) in modules:
            return candidate
        parts.pop()
    return None


def _targets(
    module: Module, node: ast.Import | ast.ImportFrom | ast.Call, modules: Mapping[str, Module]
) -> list[str]:
    if isinstance(node, ast.Call):
        literal = _literal_import(node)
        found = _known(literal, modules) if literal else None
        return [found] if found else []
    if isinstance(node, ast.Import):
        return [t for alias in node.names if (t := _known(alias.name, modules))]
    if node.level:  # relative: from the module's own package, one level up per extra dot
        base = module.name.split(".")
        if not module.is_package:
            base.pop()
        del base[len(base) - (node.level - 1):]
        if node.module:
            base.append(node.module)
        origin = ".".join(base)
    else:
        origin = node.module or ""
    targets = []
    for alias in node.names:  # `from pkg import submodule` imports the submodule
        if f"{origin}.{alias.name}" in modules:
            targets.append(f"{origin}.{alias.name}")
        elif found := _known(origin, modules):
            targets.append(found)
    return targets


def collect_edges(modules: Mapping[str, Module]) -> list[Edge]:
    """Every import of one module of the tree by another (self-imports aside)."""
    edges = set()
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
        for node in _import_nodes(tree):
            for target in _targets(module, node, modules):
                if target != module.name:
                    edges.add(Edge(module.name, target, node.lineno))
    return sorted(edges, key=lambda e: (e.source, e.target, e.line))


def find_cycles(edges: Iterable[Edge]) -> list[list[Edge]]:
    """One shortest cycle per strongly connected component (Tarjan), as a list of edges."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
        graph.setdefault(edge.target, {})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                strongconnect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    cycles = []
    for component in components:
        start = min(component)
        # Breadth-first from start back to start inside the component: a shortest cycle.
        came: dict[str, Edge] = {}
        frontier = [start]
        while frontier and start not in came:
            following = []
            for node in frontier:
                for succ, edge in sorted(graph[node].items()):
                    if succ in component and succ not in came:
                        came[succ] = edge
                        following.append(succ)
            frontier = following
        cycle = [came[start]]
        while cycle[0].source != start:
            cycle.insert(0, came[cycle[0].source])
        cycles.append(cycle)
    return sorted(cycles, key=lambda c: c[0].source)


def _covers(pattern: str, name: str) -> bool:
    if pattern.endswith(".*"):
        return name == pattern[:-2] or name.startswith(pattern[:-1])
    return name == pattern


def row_of(name: str, table: Mapping[str, Row] = TABLE) -> str | None:
    """The row a module falls in: its exact name first, else its innermost package."""
    best: tuple[int, str] | None = None
    for row_name, row in table.items():
        for pattern in row.members:
            if _covers(pattern, name):
                rank = (10_000 if not pattern.endswith(".*") else len(pattern), row_name)
                best = max(best, rank) if best else rank
    return best[1] if best else None


def allowed(edge: Edge, table: Mapping[str, Row] = TABLE) -> bool:
    source, target = row_of(edge.source, table), row_of(edge.target, table)
    if source is None or target is None:
        return False
    if source == target or target == "root":
        return True
    return any(
        entry == target if entry in table else _covers(entry, edge.target)
        for entry in table[source].may_import
    )


def layering_problems(root: Path, table: Mapping[str, Row] = TABLE) -> list[str]:
    """Everything wrong with the tree under ``root``, one line each (empty: all good)."""
    modules = discover(root)
    edges = collect_edges(modules)
    problems = [f"{name} has no row in the layering table (test_layering.TABLE)"
                for name in modules if row_of(name, table) is None]
    problems += ["import cycle: " + ", ".join(map(str, cycle)) for cycle in find_cycles(edges)]
    problems += [
        f"forbidden import: {edge} — row {row_of(edge.source, table)!r} may not import "
        f"row {row_of(edge.target, table)!r}"
        for edge in edges
        if row_of(edge.source, table) and row_of(edge.target, table) and not allowed(edge, table)
    ]
    return problems


def test_table_names_only_rows_and_modules() -> None:
    """A typo in the table would silently allow nothing (or everything): refuse it."""
    for name, row in TABLE.items():
        for entry in row.may_import:
            assert entry in TABLE or entry.startswith("rfctui."), (name, entry)
            assert entry != name, f"row {name!r} names itself"


def test_no_import_cycles_and_every_import_is_in_the_table() -> None:
    problems = layering_problems(Path(rfctui.__file__).parent)
    assert not problems, "\n".join(problems)


MAX_LINES = 800


def test_no_module_outside_the_sandbox_is_over_800_lines() -> None:
    """A module that grows past this holds several concepts: split it along its seams
    (a package whose __init__ re-exports). The sandbox, a test double, is exempt."""
    root = Path(rfctui.__file__).parent
    long = {
        name: n
        for name, module in discover(root).items()
        if not name.startswith("rfctui.sandbox")
        and (n := len(module.path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def test_the_sandbox_package_never_imports_itself() -> None:
    """Submodules of rfctui.sandbox import the defining submodule, not the package
    (whose __init__ only re-exports): that is what keeps the package acyclic."""
    modules = discover(Path(rfctui.__file__).parent)
    edges = collect_edges(modules)
    assert not [str(e) for e in edges if e.target == "rfctui.sandbox"
                and e.source.startswith("rfctui.sandbox.")]


def _plant(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "rfctui" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / "rfctui"


CLEAN_TREE = {
    "__init__.py": '__version__ = "0"\n',
    "text.py": "import os\n",
    "entry.py": "from . import text\n",  # a leaf importing a leaf: forbidden unless planted
    "drafts.py": "from .entry import x\nfrom rfctui import text\n",
    "gitea.py": "from rfctui import __version__\nfrom rfctui.secret import Secret\n",
    "secret.py": "",
    "db/__init__.py": "from .cache import Cache\n",
    "db/cache.py": """
        from typing import TYPE_CHECKING
        from ..entry import parse
        from . import schema
        if TYPE_CHECKING:
            from rfctui.session import Session  # never runs: not an edge
        else:
            pass
        """,
    "db/schema.py": "import rfctui.rows\n",
    "rows.py": "",
    "session.py": "import rfctui.db.cache\nfrom rfctui.gitea import GiteaClient\n",
    "widgets/__init__.py": "",
    "widgets/table.py": "from rfctui.rows import ListRow\n",
}


def test_checker_passes_a_clean_tree_and_resolves_every_form(tmp_path: Path) -> None:
    tree = {**CLEAN_TREE, "entry.py": ""}
    root = _plant(tmp_path, tree)
    assert layering_problems(root) == []
    edges = {(e.source, e.target) for e in collect_edges(discover(root))}
    assert ("rfctui.drafts", "rfctui.entry") in edges  # relative, level 1
    assert ("rfctui.db.cache", "rfctui.entry") in edges  # relative, level 2
    assert ("rfctui.db.cache", "rfctui.db.schema") in edges  # from package import submodule
    assert ("rfctui.db", "rfctui.db.cache") in edges  # relative from a package __init__
    assert ("rfctui.db.schema", "rfctui.rows") in edges  # plain `import a.b`
    assert ("rfctui.session", "rfctui.db.cache") in edges
    assert ("rfctui.gitea", "rfctui") in edges  # the root package (__version__)
    assert not any(t == "rfctui.session" for _, t in edges)  # TYPE_CHECKING only


def test_checker_catches_a_forbidden_edge(tmp_path: Path) -> None:
    root = _plant(tmp_path, CLEAN_TREE)  # entry imports text: both leaves
    assert layering_problems(root) == [
        "forbidden import: rfctui.entry -> rfctui.text (line 1) — row 'entry' may not "
        "import row 'text'"
    ]


def test_checker_catches_a_planted_cycle_through_a_function_level_import(
    tmp_path: Path,
) -> None:
    tree = {
        **CLEAN_TREE,
        "entry.py": "",
        # db may import rows; rows importing db back inside a function closes a cycle
        # (and is forbidden: rows is a leaf).
        "rows.py": """
            def later():
                from rfctui.db import schema
                return schema
            """,
        "widgets/table.py": "from rfctui.db import Cache\n",  # widgets never import db
    }
    problems = layering_problems(_plant(tmp_path, tree))
    assert problems == [
        "import cycle: rfctui.db.schema -> rfctui.rows (line 1), "
        "rfctui.rows -> rfctui.db.schema (line 3)",
        "forbidden import: rfctui.rows -> rfctui.db.schema (line 3) — row 'rows' may not "
        "import row 'db'",
        "forbidden import: rfctui.widgets.table -> rfctui.db (line 1) — row 'widgets' may "
        "not import row 'db'",
    ]


def test_checker_wants_a_row_for_every_module(tmp_path: Path) -> None:
    root = _plant(tmp_path, {**CLEAN_TREE, "entry.py": "", "newthing.py": "", "db/new.py": ""})
    # A new module of a package falls in its package's row; a new top-level one has none.
    assert layering_problems(root) == [
        "rfctui.newthing has no row in the layering table (test_layering.TABLE)"
    ]
