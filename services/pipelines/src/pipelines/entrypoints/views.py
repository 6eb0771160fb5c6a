"""JSON shapes of pipelines, stages, items and tunnels as the API shows them."""

from __future__ import annotations

from typing import Any

from conveyor_messaging.db import Connection
from fastapi import Response

from pipelines.adapters import catalog, items
from pipelines.adapters.tunnels import Tunnel
from pipelines.domain.model import Stage


def stage_view(stage: Stage) -> dict[str, Any]:
    return {
        "id": stage.stage_id,
        "pipeline_id": stage.pipeline_id,
        "name": stage.name,
        "color": stage.color,
        "sort": stage.sort,
        "semantic": stage.semantic,
        "hidden": stage.hidden,
    }


async def pipeline_view(conn: Connection, tenant_id: str, pipeline_id: str) -> dict[str, Any] | None:
    row = await catalog.pipeline_row(conn, tenant_id, pipeline_id)
    if row is None:
        return None
    stages = await catalog.stages_of(conn, tenant_id, pipeline_id)
    return {
        "id": row["pipeline_id"],
        "entity_type_id": row["entity_type_id"],
        "name": row["name"],
        "sort": row["sort"],
        "is_default": row["is_default"],
        "card_fields": row["card_fields"],
        "transition_rules": row["transition_rules"],
        "stages": [stage_view(s) for s in stages],
    }


def item_view(item: items.ItemCopy, response: Response | None = None) -> dict[str, Any]:
    if response is not None:
        response.headers["ETag"] = f'"{item.version}"'
    return {
        "item_id": item.item_id,
        "entity_type_id": item.entity_type_id,
        "pipeline_id": item.pipeline_id,
        "stage_id": item.stage_id,
        "title": item.title,
        "assignee_id": item.assignee_id,
        "amount": str(item.amount) if item.amount is not None else None,
        "currency": item.currency,
        "version": item.version,
        "updated_at": item.updated_at,
    }


def tunnel_view(tunnel: Tunnel) -> dict[str, Any]:
    return {
        "id": tunnel.tunnel_id,
        "entity_type_id": tunnel.entity_type_id,
        "from_pipeline_id": tunnel.from_pipeline_id,
        "from_stage_id": tunnel.from_stage_id,
        "to_pipeline_id": tunnel.to_pipeline_id,
        "to_stage_id": tunnel.to_stage_id,
        "action": tunnel.action,
    }
