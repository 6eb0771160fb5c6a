"""A small expression language for conditions: Python's syntax, a whitelist of its nodes, no host access.

``status == "won" and amount > 1000``, ``item.fields.industry in ["housing", "energy"]``,
``not assignee_id``. Names are looked up in the variables given (never in builtins); ``a.b`` reads
key ``b`` of a mapping; names and keys starting with ``_`` are refused. There are no lambdas, no
comprehensions, no imports and no attribute access to Python objects, so an expression can read the
values it is given and nothing else. The only calls are the date functions by name (``hours(1)``,
``days(n)``, ``date("2026-12-03T10:00:00Z")``): ``item.meeting_at - hours(1)`` is an instant, two
instants compare as instants, and ISO 8601 texts beside an instant or a duration read as instants.
The working-time functions count on the tenant's work calendar (``domain.working_time``):
``next_working_time(now, "09:00")`` (the next working morning), ``next_working_time(now)``,
``add_working_time(item.created_at, hours(2))`` (an instant) and ``in_working_time(hours(2))`` (the
duration from now to two working hours on, for a BPMN timer's ``timeDuration``). ``now`` is the time
of the step, unless the variables have a ``now`` of their own.
A result that is an instant is given back as ISO 8601 text (a duration as ``PT<seconds>S``), so it
fits a timer and a JSON document alike. Parsing happens when a condition is saved.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from automation.domain import working_context, working_functions

MAX_LENGTH = 2000
MAX_NODES = 200


class UnsafeExpression(ValueError):
    """The expression uses something outside the language (a call, a dunder, an import...)."""


_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Mult: operator.mul,
}
_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.BinOp, ast.Compare,
    ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.Subscript, ast.List, ast.Tuple, ast.IfExp, ast.Call,
    *_COMPARE, *_ARITHMETIC,
)  # fmt: skip
# The whole set of functions, with how many arguments each takes: durations from numbers, an instant
# from text, and working time. Nothing else can be called.
_DURATIONS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
_ARITY: dict[str, tuple[int, ...]] = {**{name: (1,) for name in _DURATIONS}, "date": (1,), **working_functions.ARITY}
FUNCTIONS = frozenset(_ARITY)


def parse(source: str) -> ast.Expression:
    """Parse and check an expression; raise UnsafeExpression naming what is not allowed."""
    if len(source) > MAX_LENGTH:
        raise UnsafeExpression(f"an expression is at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise UnsafeExpression(f"not an expression: {error.msg}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise UnsafeExpression("the expression is too long")
    for node in nodes:
        if not isinstance(node, _ALLOWED):
            raise UnsafeExpression(f"{type(node).__name__} is not allowed in expressions")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeExpression(f"name {node.id!r} is not allowed")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise UnsafeExpression(f"attribute {node.attr!r} is not allowed")
        if isinstance(node, ast.Constant) and not isinstance(node.value, str | int | float | bool | type(None)):
            raise UnsafeExpression("only text, numbers, true/false and None are constants")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and len(node.args) in _ARITY[node.func.id]
            and not node.keywords
        ):
            raise UnsafeExpression(
                f"Call is not allowed except {'/'.join(sorted(FUNCTIONS))} (one argument; "
                "next_working_time one or two, add_working_time two)"
            )
    return tree


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> ast.Expression:
    """``parse``, once per text: a gateway's condition is evaluated on every pass (the tree is only read)."""
    return parse(source)


def evaluate(source: str | ast.Expression, variables: Mapping[str, Any]) -> Any:
    """The expression's value over ``variables`` (missing names and keys read as None)."""
    tree = _parsed(source) if isinstance(source, str) else source
    value = _eval(tree.body, variables)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"PT{int(value.total_seconds())}S"
    return value


def _eval(node: ast.expr, env: Mapping[str, Any]) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id="now") if "now" not in env:
            context = working_context.current()
            return context.now if context is not None else None
        case ast.Name(id=name):
            return env.get(name)
        case ast.Attribute(value=inner, attr=attr):
            return _key(_eval(inner, env), attr)
        case ast.Subscript(value=inner, slice=index):
            return _key(_eval(inner, env), _eval(index, env))
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_eval(e, env) for e in elts]
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_truth(_eval(v, env)) for v in values)
        case ast.BoolOp(values=values):
            return any(_truth(_eval(v, env)) for v in values)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return not _truth(_eval(operand, env))
        case ast.UnaryOp(operand=operand):
            value = _eval(operand, env)
            return -value if isinstance(value, timedelta) else -_number(value)
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _eval(body if _truth(_eval(test, env)) else orelse, env)
        case ast.BinOp(left=left, op=arithmetic, right=right):
            return _arithmetic(arithmetic, _eval(left, env), _eval(right, env))
        case ast.Call(func=ast.Name(id=function), args=[argument]) if function in _DURATIONS or function == "date":
            return _call(function, _eval(argument, env))
        case ast.Call(func=ast.Name(id=function), args=arguments):
            try:
                return working_functions.call(function, [_eval(argument, env) for argument in arguments])
            except working_functions.Refused as error:
                raise UnsafeExpression(str(error)) from None
        case ast.Compare(left=left, ops=ops, comparators=rights):
            current = _eval(left, env)
            for comparison, right_node in zip(ops, rights, strict=True):
                right = _eval(right_node, env)
                if not compare(type(comparison), current, right):
                    return False
                current = right
            return True
    raise UnsafeExpression(f"{type(node).__name__} is not allowed in expressions")


def compare(op: type[ast.cmpop], left: Any, right: Any) -> bool:
    """Compare two values the way conditions do: numbers (also written as text) by value, None never
    orders against anything."""
    left, right = _coerce(left, right)
    if op in (ast.In, ast.NotIn):
        container = right if isinstance(right, list | tuple | str | dict) else [right]
        return _COMPARE[op](left, container)
    try:
        return _COMPARE[op](left, right)
    except TypeError:
        return False


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, bool) or isinstance(right, bool):
        return left, right
    if isinstance(left, datetime) or isinstance(right, datetime):
        start, end = instant(left), instant(right)
        if start is not None and end is not None:
            return start, end
    if isinstance(left, int | float | Decimal) or isinstance(right, int | float | Decimal):
        as_left, as_right = _maybe_number(left), _maybe_number(right)
        if as_left is not None and as_right is not None:
            return as_left, as_right
    return left, right


def _maybe_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _number(value: Any) -> Decimal:
    number = _maybe_number(value)
    if number is None:
        raise UnsafeExpression(f"{value!r} is not a number")
    return number


def _call(function: str, argument: Any) -> Any:
    if function == "date":
        found = instant(argument)
        if found is None:
            raise UnsafeExpression(f"{argument!r} is not a date")
        return found
    try:
        return timedelta(seconds=float(_number(argument)) * _DURATIONS[function])
    except OverflowError:
        raise UnsafeExpression(f"{function}({argument}) is out of range") from None


def instant(value: Any) -> datetime | None:
    """An aware instant from a datetime, a date (00:00 UTC) or ISO 8601 text; None otherwise."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _dates(op: ast.operator, left: Any, right: Any) -> Any:
    """Arithmetic with an instant or a duration on one side: instant ± duration, instant - instant,
    duration ± duration, duration * or / a number."""
    try:
        if isinstance(op, ast.Add | ast.Sub) and isinstance(right, timedelta):
            if isinstance(left, timedelta):
                return left + right if isinstance(op, ast.Add) else left - right
            start = instant(left)
            if start is not None:
                return start + right if isinstance(op, ast.Add) else start - right
        if isinstance(op, ast.Add) and isinstance(left, timedelta) and instant(right) is not None:
            return _dates(op, right, left)
        if isinstance(op, ast.Sub):
            earlier, later = instant(right), instant(left)
            if earlier is not None and later is not None:
                return later - earlier
        if isinstance(op, ast.Mult | ast.Div) and isinstance(left, timedelta):
            factor = float(_number(right))
            return left * factor if isinstance(op, ast.Mult) else left / factor
        if isinstance(op, ast.Mult) and isinstance(right, timedelta):
            return right * float(_number(left))
    except (OverflowError, ZeroDivisionError):
        raise UnsafeExpression("date arithmetic out of range") from None
    raise UnsafeExpression(f"{type(op).__name__} does not apply to {left!r} and {right!r}")


def _arithmetic(op: ast.operator, left: Any, right: Any) -> Any:
    if any(isinstance(side, datetime | timedelta) for side in (left, right)):
        return _dates(op, left, right)
    if isinstance(op, ast.Add) and isinstance(left, str) and isinstance(right, str):
        if len(left) + len(right) > 10_000:
            raise UnsafeExpression("text too long")
        return left + right
    # Numbers only otherwise: "x" * 10**9 would eat the host's memory.
    return _ARITHMETIC[type(op)](_number(left), _number(right))


def _key(container: Any, key: Any) -> Any:
    if isinstance(key, str) and key.startswith("_"):
        raise UnsafeExpression(f"key {key!r} is not allowed")
    if isinstance(container, Mapping):
        return container.get(key)
    if isinstance(container, list) and isinstance(key, int) and -len(container) <= key < len(container):
        return container[key]
    return None


def _truth(value: Any) -> bool:
    return bool(value)
