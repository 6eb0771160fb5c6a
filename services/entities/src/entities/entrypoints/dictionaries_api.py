"""Dictionaries over HTTP: tenant-wide value lists for list fields."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, page_of, text_key
from conveyor_kit.versions import expected_version
from fastapi import APIRouter, Header, Response, status
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import entity_types
from entities.domain.entity_type import Code, Name, OptionDraft
from entities.domain.errors import NotFound
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.type_models import EntityDictionary
from entities.entrypoints.work import etag, unit_of_work
from entities.handlers.define_dictionaries import change_dictionary, create_dictionary

router = APIRouter(
    prefix="/v1/dictionaries", tags=["dictionaries"], responses=problem_responses(403, 404, 409, 412, 428)
)


class DictionaryDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    options: list[OptionDraft] = Field(max_length=5000)


class DictionaryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    options: list[OptionDraft] | None = Field(default=None, max_length=5000)


def _json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["dictionary_id"],
        "code": row["code"],
        "name": row["name"],
        "options": row["options"],
        "version": row["version"],
    }


def _answer(row: asyncpg.Record, response: Response) -> dict[str, Any]:
    """The dictionary's body; its version goes into the response's ETag."""
    response.headers["ETag"] = etag(row["version"])
    return _json(row)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EntityDictionary,
    summary="Define a dictionary",
    operation_id="entities_create_dictionary",
)
async def create(ctx: CtxDep, draft: DictionaryDraft, response: Response) -> dict[str, Any]:
    ctx.require_admin()
    async with unit_of_work(ctx) as unit:
        return _answer(await create_dictionary(unit, code=draft.code, name=draft.name, options=draft.options), response)


@router.get("", response_model=Page[EntityDictionary], summary="The tenant's dictionaries, by name")
async def list_dictionaries(ctx: CtxDep, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    after = text_key(cursor)
    async with unit_of_work(ctx) as unit:
        rows = await entity_types.list_dictionaries(unit.conn, unit.tenant_id, after=after, limit=limit + 1)
        return page_of(rows, limit, _json, lambda row: (row["name"], row["dictionary_id"]))


@router.get(
    "/{dictionary_id}",
    response_model=EntityDictionary,
    summary="A dictionary with its options (hidden ones marked)",
    operation_id="entities_read_dictionary",
)
async def read(ctx: CtxDep, dictionary_id: str, response: Response) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        row = await entity_types.get_dictionary(unit.conn, unit.tenant_id, dictionary_id)
        if row is None:
            raise NotFound(f"dictionary {dictionary_id} not found")
        return _answer(row, response)


@router.patch(
    "/{dictionary_id}",
    response_model=EntityDictionary,
    summary="Rename a dictionary or change its options, ids kept (If-Match required)",
    operation_id="entities_change_dictionary",
)
async def change(
    ctx: CtxDep,
    dictionary_id: str,
    patch: DictionaryPatch,
    response: Response,
    if_match: Annotated[str | None, Header(description='the ETag of the version you read, e.g. "3"')] = None,
) -> dict[str, Any]:
    ctx.require_admin()
    expected = expected_version(if_match, required=True)
    async with unit_of_work(ctx) as unit:
        row = await change_dictionary(
            unit, dictionary_id, name=patch.name, options=patch.options, expected_version=expected
        )
        return _answer(row, response)
