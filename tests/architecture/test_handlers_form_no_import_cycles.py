"""Handlers do not import each other in circles, never hide an import inside a function, and know
nothing of HTTP.

Two handlers that need each other's work (a move follows tunnels, a tunnel moves the item; an action
starts a process, a process runs actions) ask through their service's `follow_ups` and its routing
table instead. An import inside a function is how such a cycle used to hide, so none is allowed in
a handlers package. A handler runs behind Kafka reactions and timers as much as behind routes, so it
raises domain errors (`conveyor_kit.domain_errors`) and the HTTP edge maps them: no handler imports
`conveyor_kit.problems` or FastAPI, and no reaction catches an HTTP problem.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src" / p.name / "handlers").is_dir())


def handler_modules(service: str) -> dict[str, ast.Module]:
    package = ROOT / "services" / service / "src" / service / "handlers"
    return {f"{service}.handlers.{path.stem}": ast.parse(path.read_text()) for path in package.glob("*.py")}


def imported(tree: ast.AST) -> set[str]:
    """Every module an import statement anywhere in ``tree`` names (``from a import b`` names ``a`` and ``a.b``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imports_inside_functions(tree: ast.Module) -> list[int]:
    return [
        inner.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_no_two_handlers_import_each_other_even_through_others(service: str) -> None:
    modules = handler_modules(service)
    graph = {name: sorted(imported(tree) & modules.keys() - {name}) for name, tree in modules.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        pytest.fail(f"handlers import each other: {' -> '.join(cycle.args[1])}; ask through follow_ups instead")


@pytest.mark.parametrize("service", SERVICES)
def test_no_handler_imports_inside_a_function(service: str) -> None:
    modules = handler_modules(service).items()
    hidden = {name: lines for name, tree in modules if (lines := imports_inside_functions(tree))}
    assert hidden == {}, "imports inside functions hide cycles; import at the top, or ask through follow_ups"


HTTP_MODULES = ("conveyor_kit.problems", "fastapi", "starlette")


@pytest.mark.parametrize("service", SERVICES)
def test_no_handler_knows_http(service: str) -> None:
    http = {
        name: sorted(m for m in imported(tree) if m.startswith(HTTP_MODULES))
        for name, tree in handler_modules(service).items()
    }
    assert {name: found for name, found in http.items() if found} == {}, "raise conveyor_kit.domain_errors instead"


def test_the_checks_see_a_cycle_and_a_hidden_import() -> None:
    """The checks themselves: the two cycles this rule was written for are found in their old shape."""
    move_item = ast.parse("from pipelines.handlers.follow_tunnels import follow_tunnels\n")
    follow_tunnels = ast.parse("async def follow():\n    from pipelines.handlers.move_item import move_item\n")
    modules = {"pipelines.handlers.move_item": move_item, "pipelines.handlers.follow_tunnels": follow_tunnels}
    graph = {name: sorted(imported(tree) & modules.keys() - {name}) for name, tree in modules.items()}

    with pytest.raises(CycleError):
        tuple(TopologicalSorter(graph).static_order())
    assert imports_inside_functions(follow_tunnels) == [2]
    assert imports_inside_functions(move_item) == []
