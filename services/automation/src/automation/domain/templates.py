"""Message templates: Jinja2 in its sandbox, over the item, its people and the process variables.

A template is checked when it is saved: it may only name ``item``, ``assignee``, ``head``,
``observers``, ``author`` and ``vars`` (and its own loop variables), read keys that do not start
with ``_``, and use a short list of filters and tests. Calls, imports, includes, macros, blocks and
assignments are refused, so ``{{ ''.__class__.__mro__ }}`` or ``{{ cycler.__init__.__globals__ }}``
never reach rendering; rendering still happens in ``SandboxedEnvironment`` as a second wall.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from conveyor_kit.bounded import TooLarge, join_within
from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

NAMES = frozenset({"item", "assignee", "head", "observers", "author", "vars"})
FILTERS = frozenset(
    {"default", "d", "upper", "lower", "title", "capitalize", "trim", "round", "int", "float", "join", "length",
     "first", "last", "replace", "truncate", "e", "escape", "string", "abs", "sort", "unique"}
)  # fmt: skip
TESTS = frozenset({"defined", "undefined", "none", "number", "string", "even", "odd", "in", "eq", "ne"})
MAX_LENGTH = 20_000
# What one render may produce: far beyond any message, far below what hurts the service.
MAX_OUTPUT = 100_000

_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Const,
    nodes.Filter, nodes.Test, nodes.If, nodes.CondExpr, nodes.Compare, nodes.Operand, nodes.And, nodes.Or,
    nodes.Not, nodes.Concat, nodes.Add, nodes.Sub, nodes.For, nodes.List, nodes.Tuple, nodes.Neg, nodes.Pos,
    nodes.Keyword,
)  # fmt: skip

_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)

# How many checked and compiled templates a process keeps. A robot's templates are checked each time
# the robot is read (every event on its stage) and compiled each time it renders; parsing and compiling
# them again cost about 6 % of the automation service's CPU under load (bench/README.md, system).
# A source is an immutable string, so what was found about it holds for as long as it is kept.
KEPT_TEMPLATES = 256


class UnsafeTemplate(ValueError):
    """The template reaches for something outside the item, its people and the process variables."""


def check(source: str) -> str:
    """Return ``source`` if it is a template we will render; raise UnsafeTemplate otherwise."""
    _compiled(source)
    return source


@functools.lru_cache(maxsize=KEPT_TEMPLATES)
def _compiled(source: str) -> Template:
    """The compiled template of a source that passed the check. A refusal raises, and is not kept:
    the next use of that source is checked again (and refused again)."""
    _refuse_unsafe(source)
    return _ENV.from_string(source)


def _refuse_unsafe(source: str) -> None:
    if len(source) > MAX_LENGTH:
        raise UnsafeTemplate(f"a template is at most {MAX_LENGTH} characters")
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as error:
        raise UnsafeTemplate(f"line {error.lineno}: {error.message}") from None
    allowed = set(NAMES)
    for loop in tree.find_all(nodes.For):
        targets = [loop.target, *loop.target.find_all(nodes.Name)]
        allowed.update(n.name for n in targets if isinstance(n, nodes.Name))
        allowed.add("loop")
    for node in tree.find_all(nodes.Node):
        _check_node(node, allowed)
    _check_loops(tree)


def _check_loops(tree: nodes.Template) -> None:
    """A loop runs over the item's data, once: a loop over a constant or inside another loop multiplies
    work without bound (``{% for a in 'xxxxxxxxxx' %}`` seven deep is ten million rounds)."""
    for loop in tree.find_all(nodes.For):
        if not any(True for _ in loop.iter.find_all(nodes.Name)) and not isinstance(loop.iter, nodes.Name):
            raise UnsafeTemplate("a loop must run over the item's data, not over a constant")
        for inner in (*loop.body, *loop.else_):
            if isinstance(inner, nodes.For) or any(True for _ in inner.find_all(nodes.For)):
                raise UnsafeTemplate("loops inside loops are not allowed")


def _check_node(node: nodes.Node, allowed: set[str]) -> None:
    if not isinstance(node, _NODES):
        raise UnsafeTemplate(f"{type(node).__name__} is not allowed in templates")
    if isinstance(node, nodes.Name) and node.name not in allowed:
        raise UnsafeTemplate(f"unknown name {node.name!r}: templates see {', '.join(sorted(NAMES))}")
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        raise UnsafeTemplate(f"attribute {node.attr!r} is not allowed")
    if isinstance(node, nodes.Getitem):
        key = node.arg
        if not isinstance(key, nodes.Const) or (isinstance(key.value, str) and key.value.startswith("_")):
            raise UnsafeTemplate("only plain keys may be read with [...]")
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        raise UnsafeTemplate(f"filter {node.name!r} is not allowed")
    if isinstance(node, nodes.Test) and node.name not in TESTS:
        raise UnsafeTemplate(f"test {node.name!r} is not allowed")
    if isinstance(node, nodes.Filter | nodes.Test) and (node.dyn_args or node.dyn_kwargs):
        raise UnsafeTemplate("*args and **kwargs are not allowed")
    if isinstance(node, nodes.Const) and isinstance(node.value, str) and node.value.startswith("__"):
        raise UnsafeTemplate("text starting with __ is not allowed as a value")


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render a checked template with only the known names."""
    template = _compiled(source)
    visible = {name: context[name] for name in NAMES if name in context}
    try:
        return join_within(template.generate(visible), MAX_OUTPUT)
    except TooLarge as error:
        raise UnsafeTemplate(str(error)) from None
