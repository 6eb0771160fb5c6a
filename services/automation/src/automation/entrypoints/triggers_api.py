"""HTTP: triggers, and the secret URL an outside system calls to fire a webhook trigger."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from conveyor_kit.clock import Clock, clock_from
from conveyor_kit.database import pool_from
from conveyor_kit.openapi import problem_responses
from conveyor_kit.workers import backbone_from
from conveyor_messaging.runtime import Backbone
from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from automation.adapters import triggers as trigger_rows
from automation.domain.triggers import TriggerSpec
from automation.entrypoints.deps import CtxDep
from automation.entrypoints.triggers_models import HookAccepted, StageTrigger, StageTriggerWithHook
from automation.handlers.triggers import fire_webhook_trigger, remove_trigger, save_trigger

router = APIRouter(prefix="/v1", tags=["triggers"], responses=problem_responses(403, 404, 409))


def trigger_view(trigger: trigger_rows.Trigger, secret: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "trigger_id": trigger.trigger_id,
        "version": trigger.version,
        **trigger.spec.model_dump(mode="json"),
    }
    if secret is not None:  # shown once, when the trigger is created
        view["webhook_path"] = f"/v1/hooks/{trigger.trigger_id}/{secret}"
    return view


@router.get("/triggers", response_model=list[StageTrigger])
async def list_triggers(ctx: CtxDep, pipeline_id: Annotated[str, Query(min_length=1)]) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        return [trigger_view(t) for t in await trigger_rows.triggers_of_pipeline(conn, ctx.tenant_id, pipeline_id)]


@router.post("/triggers", status_code=201, response_model=StageTriggerWithHook)
async def add_trigger(ctx: CtxDep, body: TriggerSpec) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        trigger, secret = await save_trigger(
            conn, ctx.store, tenant_id=ctx.tenant_id, spec=body, actor=ctx.actor, now=ctx.now()
        )
    return trigger_view(trigger, secret)


@router.put("/triggers/{trigger_id}", response_model=StageTrigger)
async def change_trigger(ctx: CtxDep, trigger_id: str, body: TriggerSpec) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        trigger, _ = await save_trigger(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            spec=body,
            actor=ctx.actor,
            trigger_id=trigger_id,
            now=ctx.now(),
        )
    return trigger_view(trigger)


@router.delete("/triggers/{trigger_id}", status_code=204)
async def delete_trigger(ctx: CtxDep, trigger_id: str) -> None:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await remove_trigger(
            conn, ctx.store, tenant_id=ctx.tenant_id, trigger_id=trigger_id, actor=ctx.actor, now=ctx.now()
        )


class HookCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    item_id: str = Field(min_length=1, max_length=200)


@router.post("/hooks/{trigger_id}/{secret}", status_code=202, response_model=HookAccepted)
async def call_hook(
    trigger_id: str,
    secret: str,
    body: HookCall,
    pool: Annotated[asyncpg.Pool, Depends(pool_from)],
    backbone: Annotated[Backbone, Depends(backbone_from)],
    clock: Annotated[Clock, Depends(clock_from)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """An outside system fires a webhook trigger; the secret in the URL is the credential (no token).

    With an ``Idempotency-Key`` header a repeated call moves nothing twice."""
    call_id = idempotency_key or f"{body.item_id}:{clock.now().isoformat()}"
    async with pool.acquire() as conn, conn.transaction():
        run_id = await fire_webhook_trigger(
            conn, backbone.store, trigger_id=trigger_id, secret=secret, item_id=body.item_id, call_id=call_id,
            now=clock.now(),
        )  # fmt: skip
    return {"run_id": run_id}
