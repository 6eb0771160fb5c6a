"""HTTP: business process templates (BPMN 2.0 import and export) and instances."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses, text_body
from conveyor_kit.pagination import Cursor, Limit, decode_cursor, encode_cursor, invalid_cursor
from conveyor_kit.problems import not_found
from conveyor_kit.versions import expected_version
from conveyor_messaging.db import Connection
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from automation.adapters import items
from automation.adapters import processes as rows
from automation.adapters.access import may_read
from automation.adapters.entity_types import entity_type_id_of
from automation.domain import errors
from automation.domain import processes as engine
from automation.domain.process_start import StartRule
from automation.entrypoints.deps import CtxDep, EntityTypeIdOrCode, IfMatch, tag
from automation.entrypoints.processes_models import ProcessInstance, ProcessTemplate
from automation.handlers.processes import retry_process, save_template, start_process
from automation.handlers.template_states import live_template, set_template_status

router = APIRouter(prefix="/v1", tags=["business processes"], responses=problem_responses(403, 404, 409))


# A template's version is an integer column: a larger number is no version at all (422, not a 500).
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class ProcessTemplateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    entity_type_id: str = Field(min_length=1)
    bpmn: str = Field(min_length=1, max_length=engine.MAX_BPMN_BYTES)
    process_id: str | None = None
    start: StartRule = StartRule()


def template_view(t: rows.TemplateRow, response: Response | None = None) -> dict[str, Any]:
    if response is not None:
        tag(response, t.version)
    return {
        "id": t.template_id, "version": t.version, "name": t.name, "process_id": t.process_id,
        "entity_type_id": t.entity_type_id, "start": t.start, "created_at": t.created_at, "status": t.status,
    }  # fmt: skip


def instance_view(i: rows.InstanceRow) -> dict[str, Any]:
    failure = i.failure and {
        "step_id": i.failure["step_id"], "step_name": i.failure["step_name"], "error": i.failure["error"],
        "action": i.failure.get("action"),
    }  # fmt: skip
    return {
        "id": i.instance_id, "template_id": i.template_id, "template_version": i.template_version,
        "item_id": i.item_id, "status": i.status, "failure": failure, "started_at": i.started_at,
        "updated_at": i.updated_at,
    }  # fmt: skip


async def entity_type_of(conn: Connection, tenant_id: str, id_or_code: str) -> str:
    found = await entity_type_id_of(conn, tenant_id, id_or_code)
    if found is None:
        raise errors.UnknownEntityType(f"no entity type {id_or_code}")
    return found


@router.post("/process-templates", status_code=201, response_model=ProcessTemplate)
async def add_template(ctx: CtxDep, body: ProcessTemplateBody, response: Response) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        template = await save_template(
            conn, ctx.store, tenant_id=ctx.tenant_id, name=body.name, entity_type_id=body.entity_type_id,
            bpmn=body.bpmn, process_id=body.process_id, start=body.start, actor=ctx.actor, now=ctx.now(),
        )  # fmt: skip
    return template_view(template, response)


@router.put("/process-templates/{template_id}", response_model=ProcessTemplate, responses=problem_responses(412, 428))
async def new_template_version(
    ctx: CtxDep, template_id: str, body: ProcessTemplateBody, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Upload the template's next version (If-Match required: the version it was edited from): 428 without it,
    412 when another version was uploaded first."""
    ctx.require_admin()
    version = expected_version(if_match, required=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        template = await save_template(
            conn, ctx.store, tenant_id=ctx.tenant_id, name=body.name, entity_type_id=body.entity_type_id,
            bpmn=body.bpmn, process_id=body.process_id, start=body.start, actor=ctx.actor, now=ctx.now(),
            template_id=template_id, expected_version=version,
        )  # fmt: skip
    return template_view(template, response)


@router.get("/process-templates", response_model=Page[ProcessTemplate])
async def list_templates(
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The tenant's templates, the newest version of each, by id: `{"items": [...], "next_cursor": ...}`. A type
    the service does not know is a 404."""
    after = decode_cursor(cursor, 1)
    async with ctx.pool.acquire() as conn:
        if entity_type_id is not None:
            entity_type_id = await entity_type_of(conn, ctx.tenant_id, entity_type_id)
        page = await rows.latest_templates(
            conn, ctx.tenant_id, entity_type_id=entity_type_id, after=after[0] if after else None, limit=limit + 1
        )
    more = len(page) > limit
    items = [template_view(t) for t in page[:limit]]
    return {"items": items, "next_cursor": encode_cursor([items[-1]["id"]]) if more else None}


@router.get("/process-templates/{template_id}", response_model=ProcessTemplate)
async def get_template(ctx: CtxDep, template_id: str, response: Response, version: Version = None) -> dict[str, Any]:
    """The template's newest version (or ``version``); its version is the ETag to send as `If-Match` with the
    next upload."""
    async with ctx.pool.acquire() as conn:
        template = await live_template(conn, ctx.tenant_id, template_id, version)
    return template_view(template, response)


async def _set_status(ctx: CtxDep, template_id: str, status: str, if_match: str | None) -> rows.TemplateRow:
    ctx.require_admin()
    version = expected_version(if_match, required=True)
    assert version is not None  # required: 428 without it
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await set_template_status(
            conn, ctx.store, tenant_id=ctx.tenant_id, template_id=template_id, status=status,
            expected_version=version, actor=ctx.actor, now=ctx.now(),
        )  # fmt: skip


@router.post(
    "/process-templates/{template_id}/disable", response_model=ProcessTemplate, responses=problem_responses(412, 428)
)
async def disable_template(
    ctx: CtxDep, template_id: str, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Stop the template starting new instances, by hand or by its start rule (If-Match required, as for an
    upload); running instances go on."""
    return template_view(await _set_status(ctx, template_id, "disabled", if_match), response)


@router.post(
    "/process-templates/{template_id}/enable", response_model=ProcessTemplate, responses=problem_responses(412, 428)
)
async def enable_template(
    ctx: CtxDep, template_id: str, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Let a disabled template start instances again (If-Match required)."""
    return template_view(await _set_status(ctx, template_id, "enabled", if_match), response)


@router.delete("/process-templates/{template_id}", status_code=204, responses=problem_responses(412, 428))
async def delete_template(ctx: CtxDep, template_id: str, if_match: IfMatch = None) -> None:
    """Delete the template (If-Match required): no longer listed, read or started (a call activity no longer
    finds it); running instances go on with their version."""
    await _set_status(ctx, template_id, "deleted", if_match)


@router.get("/process-templates/{template_id}/bpmn", response_class=Response, responses=text_body("application/xml"))
async def export_template(ctx: CtxDep, template_id: str, version: Version = None) -> Response:
    """The template's BPMN 2.0 XML, as uploaded: it opens in a standard modeller."""
    async with ctx.pool.acquire() as conn:
        template = await live_template(conn, ctx.tenant_id, template_id, version)
    return Response(content=template.bpmn, media_type="application/xml")


class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1)


@router.post("/processes", status_code=201, response_model=ProcessInstance)
async def start(ctx: CtxDep, body: StartBody) -> dict[str, Any]:
    """Start a process on an item by hand."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await may_read(conn, ctx.principal, body.item_id):
            raise not_found(f"no item {body.item_id}")
        instance = await start_process(
            conn, ctx.store, tenant_id=ctx.tenant_id, template_id=body.template_id, item_id=body.item_id,
            started_by=str(ctx.actor), now=ctx.now(),
        )  # fmt: skip
    return instance_view(instance)


class ProcessRetry(BaseModel):
    """What a retry adds to the failed step's variables (e.g. the one a timer or a script missed)."""

    model_config = ConfigDict(extra="forbid")

    variables: dict[str, Any] = Field(default_factory=dict, max_length=100)

    @field_validator("variables")
    @classmethod
    def _names(cls, variables: dict[str, Any]) -> dict[str, Any]:
        # The names a script may assign: expressions cannot read a name starting with `_` anyway.
        bad = [name for name in variables if not name.isidentifier() or name.startswith("_") or name == "item"]
        if bad:
            raise ValueError(f"not a variable name: {bad[0]!r} (a name, not `item`, not starting with `_`)")
        return variables


@router.post("/processes/{instance_id}/retry", response_model=ProcessInstance)
async def retry_failed_process(ctx: CtxDep, instance_id: str, body: ProcessRetry | None = None) -> dict[str, Any]:
    """Take a `failed` process's failed step again (admins): with the item as it is now and `variables` on
    top, then run on. 409 `process-not-failed` for a process that is not failed."""
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        instance = await rows.load_instance(conn, ctx.tenant_id, instance_id)
        if instance is None or not await may_read(conn, ctx.principal, instance.item_id):
            raise not_found(f"no process {instance_id}")
        retried = await retry_process(
            conn, ctx.store, tenant_id=ctx.tenant_id, instance_id=instance_id,
            variables=body.variables if body else {}, now=ctx.now(),
        )  # fmt: skip
    return instance_view(retried)


@router.get("/processes/{instance_id}", response_model=ProcessInstance)
async def get_instance(ctx: CtxDep, instance_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        instance = await rows.load_instance(conn, ctx.tenant_id, instance_id)
        readable = instance is not None and await may_read(conn, ctx.principal, instance.item_id)
    if instance is None or not readable:
        raise not_found(f"no process {instance_id}")
    return instance_view(instance)


@router.get("/processes", response_model=Page[ProcessInstance])
async def list_processes(
    ctx: CtxDep,
    item_id: Annotated[str, Query(min_length=1, max_length=200, description="The item whose processes to list.")],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The item's business processes in the order they started: `{"items": [...], "next_cursor": ...}`."""
    after = decode_cursor(cursor, 2)
    try:
        key = (datetime.fromisoformat(after[0]), str(after[1])) if after else None
    except (TypeError, ValueError):
        raise invalid_cursor() from None
    async with ctx.pool.acquire() as conn:
        page = await rows.instances_of_item(conn, ctx.tenant_id, item_id, after=key, limit=limit + 1)
        # Like every item path: 404 for an item that is unknown or that the caller may not read.
        if not await may_read(conn, ctx.principal, item_id) or (
            not page and after is None and not await items.load(conn, ctx.tenant_id, item_id)
        ):
            raise not_found(f"no item {item_id}")
    shown = page[:limit]
    last = shown[-1] if shown else None
    more = len(page) > limit and last is not None
    return {
        "items": [instance_view(i) for i in shown],
        "next_cursor": encode_cursor([last.started_at.isoformat(), last.instance_id]) if more and last else None,
    }
