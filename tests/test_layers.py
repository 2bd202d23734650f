"""The import graph: imports run downwards only, and no project modules import each other.

Layers, from the top: `bp/` (routes, then each blueprint's `services/`), `services/` (what
several domains share), `lib/` (framework glue), then `models/` and `config/`, which import
nothing of the project. Services (`services/`, `bp/*/services/`) import no web framework, not
even through the modules they import: they take a session and plain values, never a request.
Every project .py file outside `tests/` is parsed; an import counts wherever it stands (module
level, inside a function, under `if TYPE_CHECKING:`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Not project source: tests, installed packages, caches, built front-end assets.
SKIPPED_DIRS = {"tests", "node_modules", "__pycache__", "artifacts", "static", "frontend"}
# Higher imports lower. Packages not named here (app.py, manage.py, devtools/, benchmarks/,
# migrations/, sumup_standin/) sit above them all.
RANKS = {"path_setup": 0, "config": 0, "models": 0, "lib": 1, "services": 2, "bp": 3}
TOP = 4
WEB_FRAMEWORK = {"quart", "werkzeug", "flask", "hypercorn"}


@dataclass(frozen=True)
class Import:
    """One import statement of one module, resolved to the project module it reaches."""

    importer: str
    target: str
    path: str
    line: int


def project_files(root: Path) -> Iterator[Path]:
    """Every project .py file, tests and hidden folders (.venv, .data) left out."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in parts[:-1]):
            continue
        yield path


def module_name(root: Path, path: Path) -> str:
    """`bp/cart/api.py` → `bp.cart.api`; `bp/cart/__init__.py` → `bp.cart`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(
    modules: set[str], importer: str, is_package: bool, node: ast.Import | ast.ImportFrom
) -> Iterator[str]:
    """The project modules an import statement loads (none for the standard library etc.)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield from _longest_module(modules, alias.name)
        return
    base = node.module or ""
    if node.level:
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    for alias in node.names:
        submodule = f"{base}.{alias.name}" if base else alias.name
        if submodule in modules:
            yield submodule
        else:
            yield from _longest_module(modules, base)


def _longest_module(modules: set[str], dotted: str) -> Iterator[str]:
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            yield candidate
            return


def external_imports(sources: dict[str, tuple[str, str, bool]]) -> dict[str, set[str]]:
    """The top-level packages outside the project that each module imports."""
    modules = {name.split(".")[0] for name in sources}
    found: dict[str, set[str]] = {}
    for importer, (path, text, _) in sources.items():
        names: set[str] = set()
        for node in ast.walk(ast.parse(text, filename=path)):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[importer] = names - modules
    return found


def read_imports(sources: dict[str, tuple[str, str, bool]]) -> list[Import]:
    """Imports between project modules; `sources` maps a module to (path, text, is_package)."""
    modules = set(sources)
    found: list[Import] = []
    for importer, (path, text, is_package) in sources.items():
        for node in ast.walk(ast.parse(text, filename=path)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in resolve(modules, importer, is_package, node):
                    if target != importer:
                        found.append(Import(importer, target, path, node.lineno))
    return found


def rank(module: str) -> int:
    return RANKS.get(module.split(".")[0], TOP)


def is_service(module: str) -> bool:
    """`services` and below, and `bp.<blueprint>.services` and below."""
    parts = module.split(".")
    return parts[0] == "services" or (
        len(parts) >= 3 and parts[0] == "bp" and parts[2] == "services"
    )


def layer_violations(imports: Iterable[Import]) -> list[str]:
    """Imports that climb: into a higher layer, or across the bottom packages."""
    problems = []
    for imp in imports:
        low, high = rank(imp.importer), rank(imp.target)
        top_package, target_package = imp.importer.split(".")[0], imp.target.split(".")[0]
        if low < high:
            why = f"{top_package}/ may not import {target_package}/"
        elif low == high == 0 and top_package != target_package:
            why = f"{top_package}/ imports nothing of the project"
        else:
            continue
        problems.append(f"{imp.path}:{imp.line}: {imp.importer} -> {imp.target} ({why})")
    return problems


def services_on_the_web(imports: Iterable[Import], external: dict[str, set[str]]) -> list[str]:
    """Service modules that reach a web framework, with the path of imports that gets there."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, set()).add(imp.target)
    problems = []
    for module in sorted(name for name in external if is_service(name)):
        # Breadth first, so the path reported is a shortest one.
        paths = {module: [module]}
        queue = [module]
        while queue:
            current = queue.pop(0)
            framework = sorted(external.get(current, set()) & WEB_FRAMEWORK)
            if framework:
                route = " -> ".join([*paths[current], framework[0]])
                problems.append(f"{module}: {route}")
                break
            for target in sorted(graph.get(current, ())):
                if target not in paths:
                    paths[target] = [*paths[current], target]
                    queue.append(target)
    return problems


def cycles(imports: Iterable[Import]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan's SCC)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def project_sources(root: Path = ROOT) -> dict[str, tuple[str, str, bool]]:
    return {
        module_name(root, path): (
            str(path.relative_to(root)),
            path.read_text(encoding="utf-8"),
            path.name == "__init__.py",
        )
        for path in project_files(root)
    }


def project_imports(root: Path = ROOT) -> list[Import]:
    return read_imports(project_sources(root))


def test_the_graph_is_read_from_the_whole_project() -> None:
    importers = {imp.importer.split(".")[0] for imp in project_imports()}
    assert {"app", "bp", "services", "lib", "models", "manage"} <= importers


def test_imports_run_downwards_only() -> None:
    problems = layer_violations(project_imports())
    assert not problems, "imports that climb:\n" + "\n".join(problems)


def test_services_never_reach_the_web_framework() -> None:
    sources = project_sources()
    problems = services_on_the_web(read_imports(sources), external_imports(sources))
    assert not problems, "services that reach Quart:\n" + "\n".join(problems)


def test_no_modules_import_each_other() -> None:
    loops = cycles(project_imports())
    assert not loops, "import cycles:\n" + "\n".join(" <-> ".join(loop) for loop in loops)


def _sources(**modules: str) -> dict[str, tuple[str, str, bool]]:
    """Synthetic modules: `bp__cart` is the package bp.cart, `bp__cart__api` a module in it."""
    result = {}
    for name, text in modules.items():
        dotted = name.replace("__", ".")
        is_package = name.endswith("_pkg")
        dotted = dotted.removesuffix("_pkg")
        result[dotted] = (dotted.replace(".", "/") + ".py", text, is_package)
    return result


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        ({"services__a": "from bp.x import f", "bp__x": ""}, "services/ may not import bp/"),
        ({"lib__a": "def f():\n    import services.b", "services__b": ""}, "lib/ may not"),
        ({"models__a": "from lib import b", "lib__b": ""}, "models/ may not import lib/"),
        ({"config__a": "from models.b import C", "models__b": ""}, "imports nothing"),
    ],
)
def test_a_climbing_import_is_caught(modules: dict[str, str], expected: str) -> None:
    problems = layer_violations(read_imports(_sources(**modules)))
    assert len(problems) == 1 and expected in problems[0], problems


def test_downward_and_sideways_imports_pass() -> None:
    sources = _sources(
        bp__cart__routes="from bp.cart.services.a import f\nfrom services.b import g",
        bp__cart__services__a="from bp.order.services.c import h\nimport lib.d",
        bp__order__services__c="",
        services__b="from lib.d import x\nfrom models.e import M\nfrom config.f import S",
        lib__d="from config.f import S",
        models__e="",
        config__f="",
    )
    assert layer_violations(read_imports(sources)) == []


def test_a_service_reaching_quart_through_another_module_is_caught() -> None:
    sources = _sources(
        bp__cart__services__a="from bp.cart.routes import x",
        bp__cart__routes="from quart import request\nfrom lib.b import y",
        services__c="from lib.b import y",
        lib__b="import sqlalchemy",
        bp__order__services__d="def f():\n    from werkzeug import Response",
    )
    problems = services_on_the_web(read_imports(sources), external_imports(sources))
    assert problems == [
        "bp.cart.services.a: bp.cart.services.a -> bp.cart.routes -> quart",
        "bp.order.services.d: bp.order.services.d -> werkzeug",
    ]


def test_a_cycle_is_caught_whether_direct_through_a_package_or_inside_a_function() -> None:
    sources = _sources(
        bp__cart__api="from bp.cart.refund_api import r",
        bp__cart__refund_api="def f():\n    from bp.cart.api import bp",
        bp__order_pkg="from bp.order import routes",
        bp__order__routes="from bp.order import bp",
        services__a="from . import b",
        services__b="from services.a import x",
    )
    assert cycles(read_imports(sources)) == [
        ["bp.cart.api", "bp.cart.refund_api"],
        ["bp.order", "bp.order.routes"],
        ["services.a", "services.b"],
    ]
