"""One way to write an endpoint: the route takes the kit's request context, ``ctx: CtxDep``.

There were three (issue #19): the kit's context (``conveyor_kit.context.RequestContext``, through each
service's ``entrypoints/deps.py``); per-file ``Caller``/``Pool``/``Admin``/``Store``/``Now`` aliases of
``Annotated[..., Depends(...)]``; and ``request: Request`` with a ``Caller`` and ``pool_from(request)``.
The caller, the pool, the event store and the clock come from the context now (``ctx.principal``,
``ctx.pool``, ``ctx.store``, ``ctx.now()``; ``ctx.require_admin()`` for admins' routes). A route may
still take ``request: Request`` for what only the request has (its raw body, its ``Accept`` header).

So no entrypoints module defines such an alias (nor one by another name that asks for the caller, like
``Reader`` or ``Operator``), and no route takes a parameter annotated with one or asks FastAPI for the
caller itself (``Depends(current_principal)``, ``Depends(require_roles(...))``).
Routes without a caller (a webhook's or a calendar feed's secret URL) have no context to take and may
ask for the pool and the clock inline.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINTS = sorted(ROOT.glob("services/*/src/*/entrypoints/*.py"))
ALIASES = frozenset({"Caller", "Pool", "Admin", "Store", "Now"})
CALLER_DEPENDENCIES = frozenset({"current_principal", "require_roles"})
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "api_route", "websocket"})


def _name(node: ast.AST) -> str | None:
    """``x`` for ``x`` and for ``a.b.x``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_annotated(node: ast.AST) -> bool:
    return isinstance(node, ast.Subscript) and _name(node.value) == "Annotated"


def _asks_for_the_caller(annotation: ast.AST) -> bool:
    """``Annotated[..., Depends(current_principal)]`` or ``Depends(require_roles(...))``."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Call) and _name(node.func) == "Depends" and node.args:
            dependency = node.args[0]
            called = dependency.func if isinstance(dependency, ast.Call) else dependency
            if _name(called) in CALLER_DEPENDENCIES:
                return True
    return False


def _aliases(tree: ast.Module) -> dict[str, int]:
    """Module-level ``X = Annotated[...]`` (or ``X: T = Annotated[...]``) named Caller, Pool, Admin, Store or
    Now, or under any name asking for the caller (``Reader``, ``Operator``), with their lines."""
    found = {}
    for node in tree.body:
        targets: list[ast.expr]
        value: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        if value is not None and _is_annotated(value):
            for target in targets:
                if isinstance(target, ast.Name) and (target.id in ALIASES or _asks_for_the_caller(value)):
                    found[target.id] = node.lineno
    return found


def alias_definitions(tree: ast.Module) -> list[str]:
    """``name:line`` of each alias a route could take instead of the context."""
    return [f"{name}:{line}" for name, line in _aliases(tree).items()]


def route_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions decorated ``@router.get(...)`` and the like, or given to ``router.add_api_route(path, f)``,
    at any depth (a router built in a function declares its routes inside it)."""
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    registered: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "add_api_route":
            endpoint = [k.value for k in node.keywords if k.arg == "endpoint"] + node.args[1:2]
            registered.update(name for e in endpoint if (name := _name(e)))
    return [
        f
        for f in functions
        if f.name in registered
        or any(isinstance(d, ast.Call) and _name(d.func) in ROUTE_METHODS for d in f.decorator_list)
    ]


def parameters_not_from_the_context(tree: ast.Module) -> list[str]:
    """``route(param):line`` for each route parameter annotated with an alias (of those names, or one of the
    module's asking for the caller) or asking for the caller inline."""
    aliases = ALIASES | _aliases(tree).keys()
    found = []
    for route in route_functions(tree):
        arguments = route.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            annotation = arg.annotation
            if annotation is None:
                continue
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                annotation = ast.parse(annotation.value, mode="eval").body
            if _name(annotation) in aliases or _asks_for_the_caller(annotation):
                found.append(f"{route.name}({arg.arg}):{arg.lineno}")
    return found


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_walk_finds_every_services_routes() -> None:
    services = {path.parts[len(ROOT.parts) + 1] for path in ENTRYPOINTS}
    routes = [r for path in ENTRYPOINTS for r in route_functions(ast.parse(path.read_text(), str(path)))]
    assert services == {"automation", "entities", "notifications", "pipelines", "reporting"}
    assert len(routes) > 100


def test_no_entrypoints_module_defines_its_own_caller_pool_admin_store_or_now() -> None:
    found = {_relative(p): hits for p in ENTRYPOINTS if (hits := alias_definitions(ast.parse(p.read_text(), str(p))))}
    assert found == {}, "take ctx: CtxDep (entrypoints/deps.py) instead of aliases of your own"


def test_every_route_takes_the_caller_and_the_means_from_the_context() -> None:
    found = {
        _relative(p): hits
        for p in ENTRYPOINTS
        if (hits := parameters_not_from_the_context(ast.parse(p.read_text(), str(p))))
    }
    assert found == {}, "take ctx: CtxDep and use ctx.principal, ctx.pool, ctx.store, ctx.now(), ctx.require_admin()"


SAMPLE = """
from typing import Annotated

from conveyor_kit.auth import Principal, current_principal, require_roles
from conveyor_kit.clock import Clock, clock_from
from conveyor_kit.database import Pool as KitPool
from fastapi import APIRouter, Depends, Request

from pipelines.entrypoints.deps import CtxDep
from somewhere import Admin

router = APIRouter()
Caller = Annotated[Principal, Depends(current_principal)]
Now: object = Annotated[Clock, Depends(clock_from)]
Store = "not an alias, only a name"
IfMatch = Annotated[str | None, Depends(lambda: None)]
Reader = Annotated[Principal, Depends(current_principal)]


@router.get("/old")
async def old(caller: Caller, clock: "Now", request: Request) -> None: ...


@router.post("/inline")
async def inline(principal: Annotated[Principal, Depends(require_roles("admin"))]) -> None: ...


async def registered(admin: Admin) -> None: ...


router.add_api_route("/registered", registered, methods=["GET"])


def helper(pool: KitPool, caller: Caller) -> None: ...


def routes() -> APIRouter:
    inner = APIRouter()

    @inner.get("/nested")
    async def nested(ctx: CtxDep, request: Request, if_match: IfMatch = None) -> None: ...

    @inner.get("/nested-old")
    async def nested_old(who: Annotated[Principal, Depends(current_principal)], reader: Reader) -> None: ...

    return inner
"""


def test_the_checks_catch_the_old_styles_and_pass_the_context() -> None:
    """The checks themselves: aliases, routes taking them (decorated, registered, nested, with a string
    annotation) and a caller asked for inline are found; ``ctx: CtxDep``, a plain ``Request``, another
    alias and a helper that is no route are not."""
    tree = ast.parse(SAMPLE)

    assert alias_definitions(tree) == ["Caller:13", "Now:14", "Reader:17"]
    assert sorted(r.name for r in route_functions(tree)) == ["inline", "nested", "nested_old", "old", "registered"]
    assert parameters_not_from_the_context(tree) == [
        "old(caller):21",
        "old(clock):21",
        "inline(principal):25",
        "registered(admin):28",
        "nested_old(who):44",
        "nested_old(reader):44",
    ]
