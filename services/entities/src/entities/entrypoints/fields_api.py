"""Custom fields of an entity type over HTTP; admins add and change them, a removed one is only hidden."""

from __future__ import annotations

from typing import Any

from conveyor_contracts.entities import FieldDefinition
from conveyor_kit.openapi import problem_responses
from conveyor_kit.versions import expected_version
from conveyor_messaging.db import Connection
from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import entity_types
from entities.domain.entity_type import Code, Name, OptionDraft
from entities.entrypoints.deps import Ctx, CtxDep
from entities.entrypoints.type_models import EntityField
from entities.entrypoints.types_api import IfMatch, existing_type_id, field_json
from entities.entrypoints.work import etag, unit_of_work
from entities.handlers.define_fields import add_field, change_field

router = APIRouter(
    prefix="/v1/entity-types", tags=["entity types"], responses=problem_responses(403, 404, 409, 412, 428)
)


class FieldDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    label: Name
    kind: str
    multiple: bool = False
    required: bool = False
    options: list[OptionDraft] | None = Field(default=None, max_length=1000)
    dictionary_id: str | None = None
    link_entity_type_id: str | None = None
    default: Any = None
    validation: dict[str, Any] = Field(default_factory=dict)


class FieldPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Name | None = None
    required: bool | None = None
    hidden: bool | None = None
    options: list[OptionDraft] | None = Field(default=None, max_length=1000)
    default: Any = None
    validation: dict[str, Any] | None = None
    kind: str | None = None
    multiple: bool | None = None


# A field has no version of its own: every field write is an event of its type and moves the type's
# version. Adding one creates (no If-Match); the others change what someone read, so they take the
# type's ETag. Each answers the type's new version as its ETag, for the next write.


@router.post(
    "/{type_id}/fields",
    status_code=status.HTTP_201_CREATED,
    response_model=EntityField,
    summary="Add a custom field (the ETag answered is the type's new version)",
)
async def create_field(ctx: CtxDep, type_id: str, draft: FieldDraft, response: Response) -> dict[str, Any]:
    ctx.require_admin()
    async with unit_of_work(ctx) as unit:
        type_id = await existing_type_id(unit.conn, unit.tenant_id, type_id)
        values = draft.model_dump(exclude={"options"})
        field = await add_field(unit, type_id, values, draft.options)
        return await _field_answer(unit.conn, unit.tenant_id, type_id, field, response)


@router.patch(
    "/{type_id}/fields/{field_id}",
    response_model=EntityField,
    summary="Change a field, never its code, kind or multiplicity (If-Match required: the type's ETag)",
)
async def update_field(
    ctx: CtxDep, type_id: str, field_id: str, patch: FieldPatch, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    ctx.require_admin()
    expected = expected_version(if_match, required=True)
    async with unit_of_work(ctx) as unit:
        type_id = await existing_type_id(unit.conn, unit.tenant_id, type_id)
        changes = patch.model_dump(exclude={"options"}, exclude_unset=True)
        field = await change_field(unit, type_id, field_id, changes, patch.options, expected)
        return await _field_answer(unit.conn, unit.tenant_id, type_id, field, response)


@router.delete(
    "/{type_id}/fields/{field_id}",
    response_model=EntityField,
    summary="Remove a field: hidden, its values kept (If-Match required: the type's ETag)",
)
async def remove_field(
    ctx: CtxDep, type_id: str, field_id: str, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    ctx.require_admin()
    return await _set_hidden(ctx, type_id, field_id, response, expected_version(if_match, required=True), hidden=True)


@router.post(
    "/{type_id}/fields/{field_id}/restore",
    response_model=EntityField,
    summary="Bring a removed field back, with its values (If-Match required: the type's ETag)",
)
async def restore_field(
    ctx: CtxDep, type_id: str, field_id: str, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    ctx.require_admin()
    return await _set_hidden(ctx, type_id, field_id, response, expected_version(if_match, required=True), hidden=False)


async def _set_hidden(
    ctx: Ctx, type_id: str, field_id: str, response: Response, expected: int | None, *, hidden: bool
) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        type_id = await existing_type_id(unit.conn, unit.tenant_id, type_id)
        field = await change_field(unit, type_id, field_id, {"hidden": hidden}, None, expected)
        return await _field_answer(unit.conn, unit.tenant_id, type_id, field, response)


async def _field_answer(
    conn: Connection, tenant_id: str, type_id: str, field: FieldDefinition, response: Response
) -> dict[str, Any]:
    """The field's body; the type's version (which the write moved) goes into the response's ETag."""
    row = await entity_types.get_type(conn, tenant_id, type_id)
    assert row is not None
    response.headers["ETag"] = etag(row["version"])
    return field_json(field)
