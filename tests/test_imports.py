"""Import rules, read from the source (AST), not from a running interpreter.

- `pipelines` never imports `dagster` or `assets` (the pipeline code runs without the orchestrator);
- the sources `pipelines.hub` and `pipelines.papers` never import each other (what both need is shared:
  pipelines/transport.py, pipelines/code_links.py, pipelines/storage/);
- no import cycle between the packages (and top-level modules) of `pipelines`;
- no module of `pipelines` or `assets` reads the environment when it is imported (settings are read at run
  time and passed down).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

SOURCES = ("hub", "papers", "code")


def _modules(package: str) -> dict[str, ast.Module]:
    """Every module of a top-level package, by dotted name, parsed."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return out


def _imports(name: str, tree: ast.Module) -> set[str]:
    """The absolute module names one module imports, anywhere in it (lazy imports in functions too)."""
    found: set[str] = set()
    package = name.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = package[: len(package) - node.level + (1 if _is_package(name) else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _is_package(name: str) -> bool:
    return (ROOT / Path(*name.split(".")) / "__init__.py").exists()


def _unit(module: str) -> str | None:
    """The package (or top-level module) of `pipelines` a module belongs to: pipelines.hub.step -> hub."""
    parts = module.split(".")
    if parts[0] != "pipelines" or len(parts) < 2:
        return None
    return parts[1]


def test_pipelines_never_import_dagster_or_assets():
    bad = [
        f"{name} imports {target}"
        for name, tree in _modules("pipelines").items()
        for target in _imports(name, tree)
        if target.split(".")[0] in ("dagster", "assets") or target.startswith("dagster_")
    ]
    assert not bad, bad


def test_the_sources_do_not_import_each_other():
    bad = []
    for name, tree in _modules("pipelines").items():
        unit = _unit(name)
        if unit not in SOURCES:
            continue
        for target in _imports(name, tree):
            other = _unit(target)
            if other in SOURCES and other != unit:
                bad.append(f"{name} imports {target}")
    assert not bad, bad


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of a directed graph, as a path, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def package_graph() -> dict[str, set[str]]:
    """Which packages (and top-level modules) of `pipelines` import which others."""
    graph: dict[str, set[str]] = {}
    modules = _modules("pipelines")
    for name, tree in modules.items():
        unit = _unit(name)
        if unit is None:
            continue
        for target in _imports(name, tree):
            other = _unit(target)
            if other is not None and other != unit and f"pipelines.{other}" in modules:
                graph.setdefault(unit, set()).add(other)
    return graph


def test_no_import_cycle_between_the_packages_of_pipelines():
    assert _cycle(package_graph()) is None, " -> ".join(_cycle(package_graph()) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


ENV_NAMES = {"environ", "getenv", "putenv", "unsetenv", "getenvb", "environb"}


def _reads_environment(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in ENV_NAMES:
            return True
        if isinstance(sub, ast.Name) and sub.id in ENV_NAMES:
            return True
        if (
            isinstance(sub, ast.ImportFrom)
            and sub.module == "os"
            and any(a.name in ENV_NAMES for a in sub.names)
        ):
            return True
    return False


def _import_time_code(tree: ast.Module) -> list[ast.AST]:
    """What runs when the module is imported: module and class bodies, decorators, default values and
    annotations of functions, but not function bodies."""
    out: list[ast.AST] = []

    def walk(statements: list[ast.stmt]) -> None:
        for stmt in statements:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                out.extend(stmt.decorator_list)
                out.extend(d for d in [*stmt.args.defaults, *stmt.args.kw_defaults] if d is not None)
            elif isinstance(stmt, ast.ClassDef):
                out.extend(stmt.decorator_list)
                out.extend(stmt.bases)
                walk(stmt.body)
            elif isinstance(stmt, ast.If | ast.Try | ast.With | ast.For | ast.While):
                for field in ("test", "iter", "items"):
                    value = getattr(stmt, field, None)
                    if value is not None:
                        out.extend(value if isinstance(value, list) else [value])
                walk(stmt.body)
                walk(getattr(stmt, "orelse", []))
                walk(getattr(stmt, "finalbody", []))
                for handler in getattr(stmt, "handlers", []):
                    walk(handler.body)
            else:
                out.append(stmt)

    walk(tree.body)
    return out


def _environment_at_import() -> list[str]:
    bad = []
    for package in ("pipelines", "assets"):
        for name, tree in _modules(package).items():
            if any(_reads_environment(node) for node in _import_time_code(tree)):
                bad.append(name)
    return bad


def test_no_module_reads_the_environment_at_import():
    assert not _environment_at_import()


def test_the_environment_rule_sees_module_level_reads_only():
    def reads(source: str) -> bool:
        return any(_reads_environment(n) for n in _import_time_code(ast.parse(source)))

    assert reads("import os\nX = os.environ.get('A')")
    assert reads("import os\nclass C:\n    x = os.getenv('A')")
    assert reads("import os\ndef f(x=os.environ['A']):\n    return x")
    assert reads("from os import environ\n")
    assert reads("import os\nif True:\n    os.environ['A'] = '1'")
    assert not reads("import os\ndef f():\n    return os.environ.get('A')")
