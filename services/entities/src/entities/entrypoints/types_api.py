"""Entity types over HTTP; admins define and change them, every member reads them (fields: fields_api)."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from conveyor_contracts.entities import FieldDefinition
from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, page_of, text_key
from conveyor_kit.versions import expected_version
from conveyor_messaging.db import Connection
from fastapi import APIRouter, Header, Response, status
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import entity_types
from entities.domain.entity_type import Code, EntityTypeSettings, Name
from entities.domain.errors import NotFound
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.type_models import EntityType, EntityTypeSummary
from entities.entrypoints.work import etag, unit_of_work
from entities.handlers.define_entity_types import archive_entity_type, change_entity_type, create_entity_type

router = APIRouter(
    prefix="/v1/entity-types", tags=["entity types"], responses=problem_responses(403, 404, 409, 412, 428)
)
IfMatch = Annotated[str | None, Header(description='the ETag of the type\'s version you read, e.g. "3"')]


class EntityTypeDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    settings: EntityTypeSettings = Field(default_factory=EntityTypeSettings)


class EntityTypePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    settings: dict[str, Any] | None = None


def field_json(field: FieldDefinition) -> dict[str, Any]:
    """The body of an `EntityField`: the definition as the events carry it, its own id as `id`."""
    values = field.model_dump(mode="json")
    return {"id": values.pop("field_id"), **values}


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
        body["fields"] = [field_json(f) for f in fields]
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


@router.get("", response_model=Page[EntityTypeSummary], summary="The tenant's entity types, by name")
async def list_types(ctx: CtxDep, archived: bool = False, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    after = text_key(cursor)
    async with unit_of_work(ctx) as unit:
        rows = await entity_types.list_types(unit.conn, unit.tenant_id, archived=archived, after=after, limit=limit + 1)
        return page_of(rows, limit, type_json, lambda row: (row["name"], row["entity_type_id"]))


@router.get(
    "/{type_id}",
    response_model=EntityType,
    summary="An entity type with its fields (hidden ones included, marked), by its id or its code",
    operation_id="entities_read_entity_type",
)
async def read(ctx: CtxDep, type_id: str, response: Response) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        type_id = await existing_type_id(unit.conn, unit.tenant_id, type_id)
        row = await entity_types.get_type(unit.conn, unit.tenant_id, type_id)
        assert row is not None
        return _answer(row, response, await entity_types.fields_of(unit.conn, unit.tenant_id, type_id))


@router.patch(
    "/{type_id}",
    response_model=EntityTypeSummary,
    summary="Rename an entity type or change some settings (If-Match required)",
    operation_id="entities_change_entity_type",
)
async def change(
    ctx: CtxDep, type_id: str, patch: EntityTypePatch, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    ctx.require_admin()
    expected = expected_version(if_match, required=True)
    async with unit_of_work(ctx) as unit:
        type_id = await existing_type_id(unit.conn, unit.tenant_id, type_id)
        row = await change_entity_type(
            unit, type_id, name=patch.name, settings=patch.settings, expected_version=expected
        )
        return _answer(row, response)


@router.post(
    "/{type_id}/archive",
    response_model=EntityTypeSummary,
    summary="Archive an entity type: no new items, the rest stays readable (If-Match required)",
)
async def archive(ctx: CtxDep, type_id: str, response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    ctx.require_admin()
    expected = expected_version(if_match, required=True)
    async with unit_of_work(ctx) as unit:
        type_id = await existing_type_id(unit.conn, unit.tenant_id, type_id)
        return _answer(await archive_entity_type(unit, type_id, expected_version=expected), response)


async def existing_type_id(conn: Connection, tenant_id: str, type_id: str) -> str:
    """The id of the type the path names by its id or its code."""
    found = await entity_types.entity_type_id_of(conn, tenant_id, type_id)
    if found is None:
        raise NotFound(f"entity type {type_id} not found")
    return found
