"""Lists of items as one SQL query: filters, the access rule, title search, keyset pagination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg
from conveyor_contracts.entities import FieldDefinition
from conveyor_messaging.db import Connection

from entities.adapters.access import Access
from entities.domain.errors import Invalid
from entities.domain.kinds import ORDERED_KINDS, TEXT_KINDS
from entities.domain.listing import MAX_IN_VALUES, NOT_NULL, SYSTEM_COLUMNS, Cursor, Filter, ListQuery
from entities.domain.schema import TypeSchema
from entities.domain.values import BadValue, check_value

_SORTABLE_SYSTEM = ("created_at", "updated_at", "title", "amount", "begin_date", "close_date", "deleted_at")
_CAST = {"integer": "numeric", "decimal": "numeric", "money": "numeric", "date": "date", "datetime": "timestamptz"}


@dataclass(frozen=True)
class Target:
    """What a filter or sort reads: an SQL expression of a type, and the field behind it (if custom)."""

    expression: str
    sql_type: str
    nullable: bool
    field: FieldDefinition | None = None


class _Sql:
    def __init__(self) -> None:
        self.params: list[Any] = []
        self.where: list[str] = []

    def bind(self, value: Any, cast: str = "") -> str:
        self.params.append(value)
        return f"${len(self.params)}" + (f"::{cast}" if cast else "")


async def list_items(
    conn: Connection, tenant_id: str, query: ListQuery, schema: TypeSchema, access: Access
) -> tuple[list[asyncpg.Record], str | None]:
    """One page of rows and the cursor of the next page (None on the last)."""
    sql = _Sql()
    sql.where.append(f"tenant_id = {sql.bind(tenant_id)} AND entity_type_id = {sql.bind(query.entity_type_id)}")
    sql.where.append("deleted_at IS NOT NULL" if query.in_recycle_bin else "deleted_at IS NULL")
    rule, rule_params = access.where(len(sql.params) + 1)
    sql.where.append(rule)
    sql.params += rule_params
    for index, item_filter in enumerate(query.filters):
        target = _target(item_filter.target, schema, f"/filter/{index}")
        sql.where.append(_condition(sql, item_filter, target, schema))
    if query.text:
        sql.where.append(f"title ILIKE {sql.bind('%' + _escape_like(query.text) + '%')}")
    sort = _sort_target(query.sort.key, schema)
    direction, before = ("DESC", "<") if query.sort.descending else ("ASC", ">")
    if query.cursor:
        cursor = Cursor.decode(query.cursor, query.sort)
        sql.where.append(_after(sql, sort, cursor, before))
    order = f"{sort.expression} {direction}, item_id {direction}"
    if sort.nullable:
        order = f"({sort.expression}) IS NULL, " + order
    try:
        rows = await conn.fetch(
            f"SELECT *, ({sort.expression})::text AS sort_value FROM items WHERE {' AND '.join(sql.where)}"
            f" ORDER BY {order} LIMIT {query.limit + 1}",
            *sql.params,
        )
    except asyncpg.DataError:  # a cursor whose value was tampered with
        raise Invalid.one("/cursor", "not a cursor this service gave out") from None
    if len(rows) <= query.limit:
        return list(rows), None
    last = rows[query.limit - 1]
    return list(rows[: query.limit]), Cursor(str(query.sort), last["sort_value"], last["item_id"]).encode()


def _after(sql: _Sql, sort: Target, cursor: Cursor, before: str) -> str:
    if cursor.value is None:
        return f"(({sort.expression}) IS NULL AND item_id {before} {sql.bind(cursor.item_id)})"
    value = f"{sql.bind(cursor.value, 'text')}::{sort.sql_type}"  # the cursor carries the value as text
    after = f"({sort.expression}, item_id) {before} ({value}, {sql.bind(cursor.item_id)})"
    return after if not sort.nullable else f"(({sort.expression}) IS NULL OR {after})"


def _target(name: str, schema: TypeSchema, pointer: str) -> Target:
    if name in SYSTEM_COLUMNS:
        return Target(name, SYSTEM_COLUMNS[name], name not in NOT_NULL)
    code = name.removeprefix("fields.")
    spec = schema.fields.get(code) if name.startswith("fields.") else None
    if spec is None or spec.hidden:
        raise Invalid.one(pointer, f"{name!r} is neither a system field nor fields.<code> of this entity type")
    path = f"fields->'{code}'->>'amount'" if spec.kind == "money" else f"fields->>'{code}'"
    cast = _CAST.get(spec.kind, "text")
    return Target(f"({path})::{cast}" if cast != "text" else f"({path})", cast, True, spec)


def _sort_target(key: str, schema: TypeSchema) -> Target:
    target = _target(key, schema, "/sort")
    allowed = key in _SORTABLE_SYSTEM or (
        target.field is not None and target.field.kind in ORDERED_KINDS and not target.field.multiple
    )
    if not allowed:
        raise Invalid.one("/sort", f"cannot sort on {key!r}: use {', '.join(_SORTABLE_SYSTEM)} or an ordered field")
    return target


def _condition(sql: _Sql, f: Filter, t: Target, schema: TypeSchema) -> str:
    spec = t.field
    if f.op == "empty":
        if t.sql_type == "text[]":
            present = f"cardinality({t.expression}) > 0"
        elif spec is not None:
            present = f"fields ? {sql.bind(spec.code)}"
        else:
            present = f"{t.expression} IS NOT NULL"
        return f"NOT ({present})" if f.value else present
    if t.sql_type == "text[]":  # observers: any of the values
        if f.op not in ("eq", "in", "contains"):
            raise Invalid.one("/filter", f"{f.target} takes eq, in, contains or empty")
        values = f.value if isinstance(f.value, list) else [f.value]
        return f"{t.expression} && {sql.bind([str(v) for v in values], 'text[]')}"
    if f.op == "contains":
        if spec is not None and spec.kind not in TEXT_KINDS:
            raise Invalid.one("/filter", f"{f.target} is not text: contains does not apply")
        pattern = sql.bind("%" + _escape_like(str(f.value)) + "%")
        if spec is not None and spec.multiple:
            return f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(fields->'{spec.code}') v WHERE v ILIKE {pattern})"
        return f"{t.expression} ILIKE {pattern}"
    if spec is not None and f.op in ("eq", "ne", "in") and _by_containment(spec):
        values = f.value if f.op == "in" else [f.value]
        documents = [_document(spec, v, schema) for v in _bounded(values)]
        matched = "(" + " OR ".join(f"fields @> {sql.bind(d, 'jsonb')}" for d in documents) + ")"
        return f"NOT {matched}" if f.op == "ne" else matched
    if spec is not None and spec.multiple:
        raise Invalid.one("/filter", f"{f.target} holds several values: use eq, in, contains or empty")
    if spec is not None and f.op not in ("eq", "ne", "in") and spec.kind not in ORDERED_KINDS:
        raise Invalid.one("/filter", f"{f.target} has no order: use eq, ne, in or empty")
    if f.op == "in":
        values = [_typed(v, t.sql_type, f.target) for v in _bounded(f.value)]
        return f"{t.expression} = ANY({sql.bind(values, t.sql_type + '[]')})"
    if f.op == "between":
        low, high = (_typed(v, t.sql_type, f.target) for v in _pair(f))
        return f"{t.expression} BETWEEN {sql.bind(low, t.sql_type)} AND {sql.bind(high, t.sql_type)}"
    operator = {"eq": "=", "ne": "IS DISTINCT FROM", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[f.op]
    return f"{t.expression} {operator} {sql.bind(_typed(f.value, t.sql_type, f.target), t.sql_type)}"


def _by_containment(spec: FieldDefinition) -> bool:
    # The GIN index answers `fields @> {...}`; decimals compare by value (1.5 = 1.50) instead.
    return spec.multiple or spec.kind not in ("decimal", "money")


def _document(spec: FieldDefinition, raw: Any, schema: TypeSchema) -> dict[str, Any]:
    single = spec.model_copy(update={"multiple": False})
    try:
        value = check_value(single, raw, schema.options.get(spec.code, ()), rules=False)
    except BadValue as exc:
        raise Invalid.one("/filter", f"fields.{spec.code}: {exc}") from None
    return {spec.code: [value] if spec.multiple else value}


def _typed(raw: Any, sql_type: str, target: str) -> Any:
    text = str(raw).strip()
    try:
        if sql_type == "numeric":
            return Decimal(text)
        if sql_type == "date":
            return date.fromisoformat(text)
        if sql_type == "timestamptz":
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, InvalidOperation):
        raise Invalid.one("/filter", f"{target}: {text!r} is not a {sql_type} value") from None
    return text


def _pair(f: Filter) -> list[Any]:
    if not isinstance(f.value, list) or len(f.value) != 2:
        raise Invalid.one("/filter", f"{f.target}: between takes two values, low,high")
    return f.value


def _bounded(values: Any) -> list[Any]:
    if not isinstance(values, list) or not values or len(values) > MAX_IN_VALUES:
        raise Invalid.one("/filter", f"in takes 1 to {MAX_IN_VALUES} values")
    return values


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
