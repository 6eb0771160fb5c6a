"""The board query: per stage, count and amount sum, and one page of cards, within the caller's rights.

Counts and sums come from the kept column counts (`board_counts`), except under a field filter:
those are counted from the items. Pages run on the `items_board` index (tenant, pipeline, stage,
updated_at desc, item_id desc, including assignee and amount): one index scan per column.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from conveyor_access import Scope, Viewer, sql_condition
from conveyor_kit.problems import Problem
from conveyor_messaging.db import Connection

from pipelines.adapters import board_counts

CARD_COLUMNS = "item_id, stage_id, title, assignee_id, amount, currency, fields, updated_at, version"


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """What the caller narrows the board to, and what their rights allow."""

    scope: Scope
    viewer: Viewer
    assignee_ids: list[str] = field(default_factory=list)
    field_values: dict[str, str] = field(default_factory=dict)


def encode_cursor(updated_at: datetime, item_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([updated_at.isoformat(), item_id])).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        updated_at, item_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(updated_at), str(item_id)
    except (ValueError, TypeError) as exc:
        raise Problem(422, "Invalid cursor", "the cursor is not one this API gave", slug="invalid-cursor") from exc


def _conditions(flt: BoardFilter, params: list[Any], assignee: str = "i.assignee_id") -> str:
    """The WHERE tail for rights and filters; appends its parameters to `params`."""
    rights, values = sql_condition(flt.scope, flt.viewer, assignee_column=assignee, param=len(params) + 1)
    params.extend(values)
    parts = [rights]
    if flt.assignee_ids:
        params.append(flt.assignee_ids)
        parts.append(f"{assignee} = ANY(${len(params)}::text[])")
    for code, value in sorted(flt.field_values.items()):
        params.extend([code, value])
        parts.append(f"(i.fields ->> ${len(params) - 1}) = ${len(params)}")
    return " AND ".join(parts)


async def column_totals(
    conn: Connection, tenant_id: str, pipeline_id: str, flt: BoardFilter
) -> dict[str, tuple[int, Any]]:
    """Per stage with items: (count, amount sum)."""
    if not flt.field_values:  # rights and assignee filters are by assignee, as the counts are kept
        params: list[Any] = [tenant_id, pipeline_id]
        return await board_counts.column_totals(conn, _conditions(flt, params, assignee="c.assignee_id"), params)
    return await counted_totals(conn, tenant_id, pipeline_id, flt)


async def counted_totals(
    conn: Connection, tenant_id: str, pipeline_id: str, flt: BoardFilter
) -> dict[str, tuple[int, Any]]:
    """The same totals counted from the items themselves (any filter)."""
    params: list[Any] = [tenant_id, pipeline_id]
    where = _conditions(flt, params)
    rows = await conn.fetch(
        "SELECT i.stage_id, count(*) AS n, coalesce(sum(i.amount), 0) AS total FROM items i"
        f" WHERE i.tenant_id = $1 AND i.pipeline_id = $2 AND NOT i.deleted AND {where} GROUP BY i.stage_id",
        *params,
    )
    return {r["stage_id"]: (r["n"], r["total"]) for r in rows}


async def first_pages(
    conn: Connection, tenant_id: str, pipeline_id: str, stage_ids: list[str], flt: BoardFilter, limit: int
) -> dict[str, list[dict[str, Any]]]:
    """`limit + 1` cards per stage, newest first (the extra one tells whether a next page exists)."""
    params: list[Any] = [tenant_id, pipeline_id, stage_ids, limit + 1]
    where = _conditions(flt, params)
    rows = await conn.fetch(
        f"SELECT c.* FROM unnest($3::text[]) AS s(stage_id) CROSS JOIN LATERAL ("
        f" SELECT {CARD_COLUMNS} FROM items i WHERE i.tenant_id = $1 AND i.pipeline_id = $2"
        f" AND i.stage_id = s.stage_id AND NOT i.deleted AND {where}"
        " ORDER BY i.updated_at DESC, i.item_id DESC LIMIT $4) c",
        *params,
    )
    pages: dict[str, list[dict[str, Any]]] = {s: [] for s in stage_ids}
    for row in rows:
        pages[row["stage_id"]].append(dict(row))
    return pages


async def next_page(
    conn: Connection,
    tenant_id: str,
    pipeline_id: str,
    stage_id: str,
    flt: BoardFilter,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[dict[str, Any]]:
    params: list[Any] = [tenant_id, pipeline_id, stage_id, limit + 1]
    after_sql = ""
    if after is not None:
        params.extend(after)
        after_sql = " AND (i.updated_at, i.item_id) < ($5, $6)"
    where = _conditions(flt, params)
    rows = await conn.fetch(
        f"SELECT {CARD_COLUMNS} FROM items i WHERE i.tenant_id = $1 AND i.pipeline_id = $2 AND i.stage_id = $3"
        f" AND NOT i.deleted{after_sql} AND {where} ORDER BY i.updated_at DESC, i.item_id DESC LIMIT $4",
        *params,
    )
    return [dict(r) for r in rows]
