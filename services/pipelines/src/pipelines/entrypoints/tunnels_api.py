"""HTTP: tunnels between stages."""

from __future__ import annotations

from typing import Any

from conveyor_contracts.pipelines import TunnelAction
from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, decode_cursor, encode_cursor, invalid_cursor
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from pipelines.adapters import tunnels as tunnel_rows
from pipelines.entrypoints.deps import CtxDep, EntityTypeIdOrCode
from pipelines.entrypoints.tunnels_models import Tunnel
from pipelines.entrypoints.views import tunnel_view
from pipelines.handlers.tunnels import remove_tunnel, save_tunnel

router = APIRouter(prefix="/v1/tunnels", tags=["tunnels"], responses=problem_responses(403, 404, 409))


class NewTunnel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_stage_id: str = Field(min_length=1)
    to_stage_id: str = Field(min_length=1)
    action: TunnelAction = "move"


@router.get("", response_model=Page[Tunnel])
async def list_tunnels(
    ctx: CtxDep, entity_type_id: EntityTypeIdOrCode, limit: Limit = 100, cursor: Cursor = None
) -> dict[str, Any]:
    """The type's tunnels by id: `{"items": [...], "next_cursor": ...}`; an unknown type is a 404."""
    after = decode_cursor(cursor, 1)
    if after is not None and not isinstance(after[0], str):
        raise invalid_cursor()
    async with ctx.pool.acquire() as conn:
        found = await tunnel_rows.tunnels_of_type(
            conn, ctx.tenant_id, entity_type_id, after=after[0] if after else None, limit=limit + 1
        )
    shown = found[:limit]
    last = encode_cursor([shown[-1].tunnel_id]) if len(found) > limit else None
    return {"items": [tunnel_view(t) for t in shown], "next_cursor": last}


@router.post("", status_code=201, response_model=Tunnel)
async def create_tunnel(ctx: CtxDep, body: NewTunnel) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        tunnel = await save_tunnel(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            from_stage_id=body.from_stage_id,
            to_stage_id=body.to_stage_id,
            action=body.action,
            actor=ctx.actor,
            now=ctx.now(),
        )
    return tunnel_view(tunnel)


@router.delete("/{tunnel_id}", status_code=204)
async def delete_tunnel(ctx: CtxDep, tunnel_id: str) -> None:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await remove_tunnel(
            conn, ctx.store, tenant_id=ctx.tenant_id, tunnel_id=tunnel_id, actor=ctx.actor, now=ctx.now()
        )
