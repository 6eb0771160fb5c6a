"""Items over HTTP: create, read (now, as of a time or a version), change, recycle bin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from conveyor_access import Action
from conveyor_kit.auth import Principal
from conveyor_kit.openapi import problem_responses
from conveyor_kit.versions import expected_version
from fastapi import APIRouter, Header, Query, Response, status

from entities.adapters import items, receipts
from entities.domain.errors import Forbidden, Invalid, NotFound
from entities.domain.instants import BadInstant, instant_of, zone_named
from entities.domain.item import Item
from entities.entrypoints import history
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.item_models import EntityItem
from entities.entrypoints.item_views import ItemDraft, ItemPatch, item_json
from entities.entrypoints.work import access, etag, guard, unit_of_work
from entities.handlers.create_item import create_item
from entities.handlers.delete_item import delete_item, purge_item, restore_item
from entities.handlers.schemas import schema_for
from entities.handlers.unit import Unit
from entities.handlers.update_item import update_item

router = APIRouter(prefix="/v1/items", tags=["items"], responses=problem_responses(403, 404, 409, 412, 428))
IfMatch = Annotated[str | None, Header(description='the ETag of the version you read, e.g. "3"')]


async def _answer(unit: Unit, item: Item, response: Response) -> dict[str, Any]:
    """The item as the API shows it, from what the request has read or written (read again if not);
    its version goes into the response's ETag."""
    schema = await schema_for(unit, item.entity_type_id)
    placement = unit.known_placements.get(item.item_id)
    if placement is None:
        row = await items.get_row(unit.conn, unit.tenant_id, item.item_id)
        placement = items.placement(row) if row else None
    response.headers["ETag"] = etag(item.version)
    return item_json(item, schema, placement)


def _may_assign(unit: Unit, principal: Principal, action: Action) -> Any:
    async def check(item: Item, pipeline_id: str | None) -> None:
        rights = await access(unit, principal, item.entity_type_id, action)
        if not rights.allows(item.assignee_id, pipeline_id):
            raise Forbidden(f"you may not {action.value} items assigned to {item.assignee_id}")

    return check


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EntityItem,
    summary="Create an item",
    operation_id="entities_create_item",
    responses={
        200: {"model": EntityItem, "description": "A repeated Idempotency-Key: the item the first request created"}
    },
)
async def create(
    ctx: CtxDep,
    draft: ItemDraft,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        if idempotency_key is not None:
            if not await receipts.claim(unit.conn, unit.tenant_id, idempotency_key, "http.create", None, unit.now):
                return await _repeat(unit, ctx.principal, idempotency_key, response)
        await _type_visible(unit, draft.entity_type_id)
        rights = await access(unit, ctx.principal, draft.entity_type_id, Action.CREATE)
        assignee = (
            draft.assignee_id if isinstance(draft.assignee_id, str) and draft.assignee_id else ctx.principal.user_id
        )
        if not rights.allows(assignee, draft.pipeline_id):
            raise Forbidden("you may not create items of this type for this assignee")
        item = await create_item(
            unit,
            entity_type_id=draft.entity_type_id,
            values=draft.system_values(),
            fields=draft.fields,
            requested_pipeline_id=draft.pipeline_id,
            requested_stage_id=draft.stage_id,
        )
        if idempotency_key is not None:
            await receipts.settle(unit.conn, unit.tenant_id, idempotency_key, "done", item.item_id)
        response.headers["Location"] = f"/v1/items/{item.item_id}"
        return await _answer(unit, item, response)


async def _type_visible(unit: Unit, entity_type_id: str) -> None:
    if await schema_for(unit, entity_type_id) is None:
        raise NotFound(f"entity type {entity_type_id} not found")


async def _repeat(unit: Unit, principal: Principal, key: str, response: Response) -> dict[str, Any]:
    """A repeated Idempotency-Key answers with the item the first request created."""
    receipt = await receipts.find(unit.conn, unit.tenant_id, key)
    row = await items.get_row(unit.conn, unit.tenant_id, receipt["item_id"]) if receipt and receipt["item_id"] else None
    if row is None:
        raise NotFound("the item this idempotency key created no longer exists")
    item = items.to_item(row)
    await guard(unit, principal, Action.READ)(item, row["pipeline_id"])
    response.status_code = status.HTTP_200_OK
    response.headers["Idempotent-Replayed"] = "true"
    return await _answer(unit, item, response)


@router.get(
    "/{item_id}",
    response_model=EntityItem,
    summary="Read an item, now or as it was (as_of or version)",
    operation_id="entities_read_item",
)
async def read(
    ctx: CtxDep,
    item_id: str,
    response: Response,
    as_of: Annotated[
        str | None,
        Query(
            max_length=64,
            description="the item as it was at this instant: an RFC 3339 time (2026-12-07T08:41:50Z), a time "
            "without a zone (read in `tz`), or a date (the end of that day in `tz`)",
        ),
    ] = None,
    tz: Annotated[
        str | None, Query(max_length=64, description="the IANA zone of a zoneless `as_of` (default UTC)")
    ] = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="the item as it was at this version")] = None,
) -> dict[str, Any]:
    instant = _instant(as_of, tz)
    async with unit_of_work(ctx) as unit:
        row = await items.get_row(unit.conn, unit.tenant_id, item_id)
        if row is None:
            raise NotFound(f"item {item_id} not found")
        current = items.to_item(row)
        unit.known_placements[item_id] = items.placement(row)
        await guard(unit, ctx.principal, Action.READ)(current, row["pipeline_id"])
        if instant is None and version is None:
            return await _answer(unit, current, response)
        past, placement = await history.item_as_it_was(unit, item_id, as_of=instant, version=version)
        schema = await schema_for(unit, past.entity_type_id)
        response.headers["ETag"] = etag(past.version)
        return item_json(past, schema, placement)


def _instant(as_of: str | None, tz: str | None) -> datetime | None:
    """The instant `as_of` names, or a 422 naming the parameter that is wrong."""
    try:
        zone = zone_named(tz)
    except BadInstant as exc:
        raise Invalid.one("/query/tz", str(exc)) from None
    if as_of is None:
        return None
    try:
        return instant_of(as_of, zone)
    except BadInstant as exc:
        raise Invalid.one("/query/as_of", str(exc)) from None


@router.patch(
    "/{item_id}",
    response_model=EntityItem,
    summary="Change some values (If-Match required)",
    operation_id="entities_change_item",
)
async def change(
    ctx: CtxDep, item_id: str, patch: ItemPatch, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    expected = expected_version(if_match, required=True)
    async with unit_of_work(ctx) as unit:
        item = await update_item(
            unit,
            item_id,
            values=patch.system_values(),
            fields=patch.fields,
            expected_version=expected,
            guard=guard(unit, ctx.principal, Action.UPDATE),
            new_assignee_guard=_may_assign(unit, ctx.principal, Action.UPDATE),
        )
        return await _answer(unit, item, response)


@router.delete("/{item_id}", response_model=EntityItem, summary="Move an item to the recycle bin (If-Match required)")
async def delete(ctx: CtxDep, item_id: str, response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    expected = expected_version(if_match, required=True)
    async with unit_of_work(ctx) as unit:
        item = await delete_item(
            unit, item_id, expected_version=expected, guard=guard(unit, ctx.principal, Action.DELETE)
        )
        return await _answer(unit, item, response)


@router.post(
    "/{item_id}/restore",
    response_model=EntityItem,
    summary="Bring an item back from the recycle bin (If-Match required)",
)
async def restore(ctx: CtxDep, item_id: str, response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    expected = expected_version(if_match, required=True)
    async with unit_of_work(ctx) as unit:
        item = await restore_item(
            unit, item_id, expected_version=expected, guard=guard(unit, ctx.principal, Action.DELETE)
        )
        return await _answer(unit, item, response)


@router.post(
    "/{item_id}/purge", status_code=204, summary="Remove an item in the recycle bin for good (If-Match required)"
)
async def purge(ctx: CtxDep, item_id: str, if_match: IfMatch = None) -> None:
    expected = expected_version(if_match, required=True)
    async with unit_of_work(ctx) as unit:
        await purge_item(unit, item_id, expected_version=expected, guard=guard(unit, ctx.principal, Action.DELETE))
