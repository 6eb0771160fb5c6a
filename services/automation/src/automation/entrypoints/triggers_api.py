"""HTTP: triggers, and the secret URL an outside system calls to fire a webhook trigger."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from conveyor_kit.api_models import Page
from conveyor_kit.clock import Clock, clock_from
from conveyor_kit.database import pool_from
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, decode_cursor, encode_cursor, invalid_cursor
from conveyor_kit.problems import not_found
from conveyor_kit.versions import expected_version
from conveyor_kit.workers import backbone_from
from conveyor_messaging.runtime import Backbone
from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from automation.adapters import triggers as trigger_rows
from automation.domain.triggers import TriggerSpec
from automation.entrypoints.deps import CtxDep, IfMatch, tag
from automation.entrypoints.triggers_models import HookAccepted, StageTrigger, StageTriggerWithHook
from automation.handlers.triggers import fire_webhook_trigger, remove_trigger, save_trigger

router = APIRouter(prefix="/v1", tags=["triggers"], responses=problem_responses(403, 404, 409))


def trigger_view(
    trigger: trigger_rows.Trigger, response: Response | None = None, secret: str | None = None
) -> dict[str, Any]:
    if response is not None:
        tag(response, trigger.version)
    view: dict[str, Any] = {
        "id": trigger.trigger_id,
        "version": trigger.version,
        **trigger.spec.model_dump(mode="json"),
    }
    if secret is not None:  # shown once, when the trigger is created
        view["webhook_path"] = f"/v1/hooks/{trigger.trigger_id}/{secret}"
    return view


@router.get("/triggers", response_model=Page[StageTrigger])
async def list_triggers(
    ctx: CtxDep, pipeline_id: Annotated[str, Query(min_length=1)], limit: Limit = 100, cursor: Cursor = None
) -> dict[str, Any]:
    """The pipeline's triggers by name: `{"items": [...], "next_cursor": ...}`."""
    after = decode_cursor(cursor, 2)
    if after is not None and not all(isinstance(part, str) for part in after):
        raise invalid_cursor()
    async with ctx.pool.acquire() as conn:
        page = await trigger_rows.page_of_pipeline(
            conn, ctx.tenant_id, pipeline_id, after=(after[0], after[1]) if after else None, limit=limit + 1
        )
    shown = page[:limit]
    last = shown[-1] if len(page) > limit else None
    return {
        "items": [trigger_view(t) for t in shown],
        "next_cursor": encode_cursor([last.spec.name, last.trigger_id]) if last else None,
    }


@router.post("/triggers", status_code=201, response_model=StageTriggerWithHook)
async def add_trigger(ctx: CtxDep, body: TriggerSpec, response: Response) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        trigger, secret = await save_trigger(
            conn, ctx.store, tenant_id=ctx.tenant_id, spec=body, actor=ctx.actor, now=ctx.now()
        )
    return trigger_view(trigger, response, secret)


@router.get("/triggers/{trigger_id}", response_model=StageTrigger)
async def get_trigger(ctx: CtxDep, trigger_id: str, response: Response) -> dict[str, Any]:
    """The trigger (without its secret); its version is the ETag to send as `If-Match` when changing it."""
    async with ctx.pool.acquire() as conn:
        trigger = await trigger_rows.load_trigger(conn, ctx.tenant_id, trigger_id)
    if trigger is None:
        raise not_found(f"no trigger {trigger_id}")
    return trigger_view(trigger, response)


@router.put("/triggers/{trigger_id}", response_model=StageTrigger, responses=problem_responses(412, 428))
async def change_trigger(
    ctx: CtxDep, trigger_id: str, body: TriggerSpec, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Replace the trigger, keeping its secret (If-Match required): 428 without it, 412 when another change came
    first."""
    ctx.require_admin()
    version = expected_version(if_match, required=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        trigger, _ = await save_trigger(
            conn, ctx.store, tenant_id=ctx.tenant_id, spec=body, actor=ctx.actor, trigger_id=trigger_id,
            expected_version=version, now=ctx.now(),
        )  # fmt: skip
    return trigger_view(trigger, response)


@router.delete("/triggers/{trigger_id}", status_code=204, responses=problem_responses(412, 428))
async def delete_trigger(ctx: CtxDep, trigger_id: str, if_match: IfMatch = None) -> None:
    """Remove the trigger (If-Match required): 428 without it, 412 when another change came first."""
    ctx.require_admin()
    version = expected_version(if_match, required=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await remove_trigger(
            conn, ctx.store, tenant_id=ctx.tenant_id, trigger_id=trigger_id, actor=ctx.actor, now=ctx.now(),
            expected_version=version,
        )  # fmt: skip


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
