"""The package's structure rules: no import cycles, a framework-neutral flow layer.

``lint-imports`` (import-linter, configured in pyproject.toml and run by CI)
checks the layer contracts; these tests check what it does not: cycles among
the package's modules, counting imports inside functions (only
``if TYPE_CHECKING:`` blocks are exempt), and that importing the flow layer
loads no Flask at run time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import flask_google_flow

PACKAGE = Path(flask_google_flow.__file__).parent
NAME = "flask_google_flow"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _imported(module: str, is_package: bool, node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            prefix = ".".join([*base, node.module] if node.module else base)
        else:
            prefix = node.module or ""
        return [prefix, *(f"{prefix}.{alias.name}" for alias in node.names)]
    return []


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in the file)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            for target in _imported(module, path.name == "__init__.py", node):
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # A package importing its own submodule, or a module its parent, is no cycle.
                if target and target != module and not module.startswith(target + "."):
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for vertex in sorted(graph):
        if vertex not in index:
            visit(vertex)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_cycle_detection_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_graph_counts_imports_inside_functions():
    graph = import_graph()
    # ext.extension builds the blueprint from ext.views; fake_google imports _wsgi lazily.
    assert f"{NAME}.ext.views" in graph[f"{NAME}.ext.extension"]
    assert f"{NAME}.testing._wsgi" in graph[f"{NAME}.testing.fake_google"]


def test_flow_layer_loads_no_flask():
    # blinker is not checked here: oauthlib itself imports it (its signals).
    code = (
        "import sys, flask_google_flow.flow, flask_google_flow.interactive, "
        "flask_google_flow.cli, flask_google_flow.helpers\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'werkzeug', 'flask_session'} "
        "or m.startswith('flask_google_flow.ext') or m.startswith('flask_google_flow.testing'))\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )
    assert result.stdout.strip() == ""
