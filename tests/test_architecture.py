"""The house's rules that a reader cannot check at a glance: no import cycles, no imports hidden in
functions, no runtime files in git, and no process writing outside ``var/``.

The layers themselves are import-linter's contract (pyproject.toml, ``lint-imports`` in
``make test``); these tests cover what that contract does not.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("risk_registry", "positions", "controls", "assessments", "integrity_warnings", "config")
# Imported inside a function on purpose, for a reason other than a cycle (each says why at the import).
LAZY_ALLOWED = {"weasyprint", "pypdf", "fontTools"}


def _product_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            files.append(path)
    return files


def test_no_import_sits_inside_a_function():
    """An import inside a function hides a dependency (usually one that would be a cycle or point
    up a layer): the cycle says a layer is wrong, so the code moves instead."""
    found = []
    for path in _product_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if path.name == "apps.py" and node.name == "ready":
                continue  # Django's documented place to connect signal receivers
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    module = inner.module if isinstance(inner, ast.ImportFrom) else inner.names[0].name
                    if (module or "").split(".")[0] not in LAZY_ALLOWED:
                        found.append(f"{path.relative_to(ROOT)}:{inner.lineno} {module}")
    assert found == []


def _cycles(graph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        result.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & modules))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return result


def test_no_import_cycles_between_modules():
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    modules = {m for m in graph.modules if ".tests" not in m and ".migrations" not in m}
    assert _cycles(graph, modules) == []


def test_git_tracks_no_runtime_files():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    runtime = [
        name
        for name in tracked.splitlines()
        if name.split("/")[0] in ("var", "control", ".venv")
        or name.endswith((".sqlite3", ".exchange", ".part", ".pyc"))
        or "celerybeat-schedule" in name
    ]
    assert runtime == []


@pytest.mark.integration
def test_the_file_broker_writes_under_var_only(tmp_path):
    """kombu's filesystem transport (the broker of `make run`) writes its exchange table to
    ``control_folder``, ./control by default: ours is under var/broker, whatever the working
    directory of the process."""
    var = tmp_path / "var"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    script = (
        "from kombu import Connection, Exchange, Queue\n"
        "from config.services import broker_settings\n"
        f"b = broker_settings(None, {str(var / 'broker')!r})\n"
        "with Connection(b.url, transport_options=b.transport_options) as c:\n"
        "    q = Queue('probe', Exchange('probe', type='fanout'), routing_key='probe')\n"
        "    p = c.Producer()\n"
        "    p.publish({'x': 1}, exchange=q.exchange, routing_key='probe', declare=[q])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, check=True, timeout=60)
    assert list(cwd.iterdir()) == []
    assert (var / "broker" / "control").is_dir() and any((var / "broker" / "control").iterdir())


def test_browser_tests_wait_before_they_iterate_a_locator():
    """``locator.all()`` does not wait for the page: after a click that navigates it can give an empty
    list, and a loop over it checks nothing (CI failed once on that). ``tests.browser.every`` waits
    for the first match; a browser test calls it instead of ``.all()`` on a locator."""
    found = []
    for path in sorted((ROOT / "tests").glob("test_browser*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "all"):
                continue
            receiver = node.func.value
            while isinstance(receiver, ast.Attribute | ast.Call):
                target = receiver.func if isinstance(receiver, ast.Call) else receiver
                if isinstance(target, ast.Attribute) and target.attr.startswith(("locator", "get_by_")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                    break
                receiver = target.value if isinstance(target, ast.Attribute) else target
                if isinstance(receiver, ast.Name):
                    break
    assert found == []
