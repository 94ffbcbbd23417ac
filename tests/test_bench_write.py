"""Bench scripts write their results files only when asked (``--write``; issue 13).

A bench run is a measurement, not a change to the repository: ``python bench/x.py``
must leave ``bench/results-*.md`` as committed. This reads every script's syntax tree
(nothing is run, so it takes milliseconds): every call that writes a file —
``write_text``/``write_bytes``, ``open(..., "w"/"a"/"x")``, ``json.dump`` to a path —
must sit under an ``if`` whose test reads a ``write`` flag when what it writes to is in
the repository: its path is built from ``__file__``, a ``results-`` name, or a
module-level name bound to one of those (``ROOT``, ``HERE``, ``RESULTS``). Writes to paths
the caller passed or to temporary directories (a URL file, a child's config, generated
data) are not results. Every script that names a ``results-*.md`` file offers
``--write``, and none offers the old opt-out ``--no-write``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(BENCH.glob("*.py"))



def _repo_names(tree: ast.Module) -> set[str]:
    """Module-level names bound to a path in the repository (transitively)."""
    names: set[str] = set()
    changed = True
    while changed:
        changed = False
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = ast.unparse(stmt.value)
                for t in targets:
                    if (isinstance(t, ast.Name) and t.id not in names
                            and _in_repo(value, names)):
                        names.add(t.id)
                        changed = True
    return names


def _in_repo(source: str, names: set[str]) -> bool:
    words = set(source.replace(".", " ").replace("(", " ").replace(")", " ").split())
    return "__file__" in source or "results-" in source or bool(words & names)


def _writes(tree: ast.AST) -> list[tuple[ast.Call, str]]:
    """Every file-writing call and the source of what it writes to."""
    found: list[tuple[ast.Call, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("write_text", "write_bytes"):
            found.append((node, ast.unparse(func.value)))
        elif isinstance(func, ast.Attribute) and func.attr == "open" and _mode_writes(node, 0):
            found.append((node, ast.unparse(func.value)))
        elif isinstance(func, ast.Name) and func.id == "open" and _mode_writes(node, 1):
            found.append((node, ast.unparse(node.args[0]) if node.args else "?"))
    return found


def _mode_writes(call: ast.Call, pos: int) -> bool:
    mode: ast.expr | None = call.args[pos] if len(call.args) > pos else None
    for kw in call.keywords:
        if kw.arg == "mode":
            mode = kw.value
    return isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax")


def _guarded(tree: ast.AST, call: ast.Call) -> bool:
    """Whether ``call`` is inside the body of an ``if`` that tests a write flag."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        test = ast.unparse(node.test)
        if "write" in test and not test.startswith("not "):
            for stmt in node.body:
                if any(sub is call for sub in ast.walk(stmt)):
                    return True
    return False


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_results_written_only_with_write(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    tree = ast.parse(text)
    repo = _repo_names(tree)
    unguarded = [
        f"line {call.lineno}: {target}"
        for call, target in _writes(tree)
        if _in_repo(target, repo) and not _guarded(tree, call)
    ]
    assert not unguarded, f"{script.name} writes a file without --write: {unguarded}"
    if "results-" in text:
        assert '"--write"' in text, f"{script.name} names a results file but has no --write"
    assert "--no-write" not in text, f"{script.name} still writes by default (--no-write)"


def test_the_check_sees_an_unguarded_write() -> None:
    """The checker itself: an unguarded results write is found, a guarded one is not."""
    bad = ast.parse('RESULTS.write_text(text)\nif args.write:\n    RESULTS.write_text(t)\n')
    calls = _writes(bad)
    assert [_guarded(bad, c) for c, _ in calls] == [False, True]
    mod = ast.parse('ROOT = Path(__file__).parent\nOUT = ROOT / "x.md"\nTMP = Path("/tmp")\n')
    assert _repo_names(mod) == {"ROOT", "OUT"}
    assert _in_repo("(ROOT / 'bench' / 'results-startup.md')", {"ROOT"})
    assert not _in_repo("Path(args.url_file)", {"ROOT", "OUT"})
    opened = ast.parse('with open(path, "w") as f:\n    pass\nopen(path)\n')
    assert [t for _c, t in _writes(opened)] == ["path"]


def test_every_bench_script_is_checked() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"sweep.py", "startup.py", "attention_queue.py", "triage.py", "history.py",
            "drafts.py", "baseline.py", "stateful.py", "sandbox_latency.py", "review.py",
            "parse.py", "resync.py"} <= names
