"""Declarative conditions: ``{"field": "status", "op": "eq", "value": "won"}`` combined with
``{"all": [...]}`` / ``{"any": [...]}`` / ``{"not": {...}}``, or ``{"expression": "..."}`` in the
safe expression language (``domain.expressions``). Checked when saved, evaluated over an item."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from automation.domain import expressions

Operator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "empty", "not_empty"]

_COMPARISONS: dict[str, type[ast.cmpop]] = {
    "eq": ast.Eq, "ne": ast.NotEq, "gt": ast.Gt, "gte": ast.GtE, "lt": ast.Lt, "lte": ast.LtE,
    "in": ast.In, "not_in": ast.NotIn,
}  # fmt: skip


class _Node(BaseModel):
    # One JSON schema for requests and answers (a robot's condition is both): without the override the
    # recursive nodes are split into `AllOf-Input` / `AllOf-Output` though both read the same.
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_mode_override="validation")


class FieldCondition(_Node):
    """One field compared with a value; ``field`` is a standard key (title, assignee_id, amount...)
    or a custom field's code, optionally written ``fields.<code>``."""

    field: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.]*$")
    op: Operator = "eq"
    value: Any = None


class ExpressionCondition(_Node):
    expression: str = Field(min_length=1, max_length=expressions.MAX_LENGTH)

    @field_validator("expression")
    @classmethod
    def _safe(cls, source: str) -> str:
        try:
            expressions.parse(source)
        except expressions.UnsafeExpression as error:
            raise ValueError(str(error)) from None
        return source


class AllOf(_Node):
    all: list[Condition] = Field(max_length=50)


class AnyOf(_Node):
    any: list[Condition] = Field(max_length=50)


class NotOf(_Node):
    not_: Condition = Field(alias="not")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


Condition = Annotated[FieldCondition | ExpressionCondition | AllOf | AnyOf | NotOf, Field(union_mode="left_to_right")]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


def holds(condition: Condition | None, item: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for ``item`` (the item's view: standard keys plus custom fields);
    no condition always holds."""
    match condition:
        case None:
            return True
        case AllOf(all=parts):
            return all(holds(part, item) for part in parts)
        case AnyOf(any=parts):
            return any(holds(part, item) for part in parts)
        case NotOf(not_=inner):
            return not holds(inner, item)
        case ExpressionCondition(expression=source):
            return bool(expressions.evaluate(source, item))
        case FieldCondition(field=path, op=op, value=expected):
            return _compare(op, field_value(item, path), expected)
    raise TypeError(f"not a condition: {condition!r}")


def field_value(item: Mapping[str, Any], path: str) -> Any:
    value: Any = item
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "empty":
        return actual in (None, "", [], {})
    if op == "not_empty":
        return actual not in (None, "", [], {})
    if op == "contains":
        return isinstance(actual, list | str) and expected in actual
    return expressions.compare(_COMPARISONS[op], actual, expected)
