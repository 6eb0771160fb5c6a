"""Entity types and their custom fields over HTTP; admins change them, every member reads them."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from conveyor_contracts.entities import FieldDefinition
from conveyor_kit.openapi import problem_responses
from conveyor_kit.versions import expected_version
from fastapi import APIRouter, Header, Response, status
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import entity_types
from entities.domain.entity_type import Code, EntityTypeSettings, Name, OptionDraft
from entities.domain.errors import NotFound
from entities.entrypoints.deps import Ctx, CtxDep
from entities.entrypoints.type_models import EntityField, EntityType, EntityTypeList, EntityTypeSummary
from entities.entrypoints.work import etag, unit_of_work
from entities.handlers.define_entity_types import archive_entity_type, change_entity_type, create_entity_type
from entities.handlers.define_fields import add_field, change_field

router = APIRouter(prefix="/v1/entity-types", tags=["entity types"], responses=problem_responses(403, 404, 409, 412))
IfMatch = Annotated[str | None, Header()]


class EntityTypeDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    settings: EntityTypeSettings = Field(default_factory=EntityTypeSettings)


class EntityTypePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    settings: dict[str, Any] | None = None


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


def type_json(row: asyncpg.Record, fields: list[FieldDefinition] | None = None) -> dict[str, Any]:
    """The body of an `EntityTypeSummary`, or with fields of an `EntityType`."""
    body = {
        "id": row["entity_type_id"],
        "code": row["code"],
        "name": row["name"],
        "settings": row["settings"],
        "version": row["version"],
        "archived": row["archived_at"] is not None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if fields is not None:
        body["fields"] = [f.model_dump(mode="json") for f in fields]
    return body


def _answer(row: asyncpg.Record, response: Response, fields: list[FieldDefinition] | None = None) -> dict[str, Any]:
    """The type's body; its version goes into the response's ETag."""
    response.headers["ETag"] = etag(row["version"])
    return type_json(row, fields)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EntityType,
    summary="Define an entity type",
    operation_id="entities_create_entity_type",
)
async def create(ctx: CtxDep, draft: EntityTypeDraft, response: Response) -> dict[str, Any]:
    ctx.require_admin()
    async with unit_of_work(ctx) as unit:
        row = await create_entity_type(unit, code=draft.code, name=draft.name, settings=draft.settings)
        return _answer(row, response, [])


@router.get("", response_model=EntityTypeList, summary="The tenant's entity types")
async def list_types(ctx: CtxDep, archived: bool = False) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        rows = await entity_types.list_types(unit.conn, unit.tenant_id, archived=archived)
        return {"entity_types": [type_json(row) for row in rows]}


@router.get(
    "/{type_id}",
    response_model=EntityType,
    summary="An entity type with its fields (hidden ones included, marked)",
    operation_id="entities_read_entity_type",
)
async def read(ctx: CtxDep, type_id: str, response: Response) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        row = await entity_types.get_type(unit.conn, unit.tenant_id, type_id)
        if row is None:
            raise NotFound(f"entity type {type_id} not found")
        return _answer(row, response, await entity_types.fields_of(unit.conn, unit.tenant_id, type_id))


@router.patch(
    "/{type_id}",
    response_model=EntityTypeSummary,
    summary="Rename an entity type or change some settings",
    operation_id="entities_change_entity_type",
)
async def change(
    ctx: CtxDep, type_id: str, patch: EntityTypePatch, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    ctx.require_admin()
    expected = expected_version(if_match, required=False)
    async with unit_of_work(ctx) as unit:
        row = await change_entity_type(
            unit, type_id, name=patch.name, settings=patch.settings, expected_version=expected
        )
        return _answer(row, response)


@router.post(
    "/{type_id}/archive",
    response_model=EntityTypeSummary,
    summary="Archive an entity type: no new items, the rest stays readable",
)
async def archive(ctx: CtxDep, type_id: str, response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    ctx.require_admin()
    expected = expected_version(if_match, required=False)
    async with unit_of_work(ctx) as unit:
        return _answer(await archive_entity_type(unit, type_id, expected_version=expected), response)


@router.post(
    "/{type_id}/fields", status_code=status.HTTP_201_CREATED, response_model=EntityField, summary="Add a custom field"
)
async def create_field(ctx: CtxDep, type_id: str, draft: FieldDraft) -> dict[str, Any]:
    ctx.require_admin()
    async with unit_of_work(ctx) as unit:
        await _existing(unit.conn, unit.tenant_id, type_id)
        values = draft.model_dump(exclude={"options"})
        field = await add_field(unit, type_id, values, draft.options)
        return field.model_dump(mode="json")


@router.patch(
    "/{type_id}/fields/{field_id}",
    response_model=EntityField,
    summary="Change a field (never its code, kind or multiplicity)",
)
async def update_field(ctx: CtxDep, type_id: str, field_id: str, patch: FieldPatch) -> dict[str, Any]:
    ctx.require_admin()
    async with unit_of_work(ctx) as unit:
        await _existing(unit.conn, unit.tenant_id, type_id)
        changes = patch.model_dump(exclude={"options"}, exclude_unset=True)
        field = await change_field(unit, type_id, field_id, changes, patch.options)
        return field.model_dump(mode="json")


@router.delete(
    "/{type_id}/fields/{field_id}", response_model=EntityField, summary="Remove a field: hidden, its values kept"
)
async def remove_field(ctx: CtxDep, type_id: str, field_id: str) -> dict[str, Any]:
    ctx.require_admin()
    return await _set_hidden(ctx, type_id, field_id, hidden=True)


@router.post(
    "/{type_id}/fields/{field_id}/restore",
    response_model=EntityField,
    summary="Bring a removed field back, with its values",
)
async def restore_field(ctx: CtxDep, type_id: str, field_id: str) -> dict[str, Any]:
    ctx.require_admin()
    return await _set_hidden(ctx, type_id, field_id, hidden=False)


async def _set_hidden(ctx: Ctx, type_id: str, field_id: str, hidden: bool) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        await _existing(unit.conn, unit.tenant_id, type_id)
        field = await change_field(unit, type_id, field_id, {"hidden": hidden}, None)
        return field.model_dump(mode="json")


async def _existing(conn: Any, tenant_id: str, type_id: str) -> None:
    if await entity_types.get_type(conn, tenant_id, type_id) is None:
        raise NotFound(f"entity type {type_id} not found")
