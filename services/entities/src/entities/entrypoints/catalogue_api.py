"""HTTP API of the catalogue: products, and which product an item of a catalogue-bound type refers to."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from conveyor_access import Action
from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, cut, instant_key, text_key
from conveyor_kit.problems import not_found
from conveyor_kit.versions import expected_version
from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import catalogue_store
from entities.entrypoints.catalogue_models import CatalogueProduct, ItemProductBinding
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.item_models import EntityItem
from entities.entrypoints.relations_api import items_json, reader_of
from entities.entrypoints.work import etag
from entities.handlers.catalogue_products import bind_item_to_product, change_product, create_product, items_of_product

router = APIRouter(prefix="/v1", tags=["catalogue"], responses=problem_responses(403, 404, 409))
Price = str | int | float
IfMatch = Annotated[str | None, Header(description='the ETag of the version you read, e.g. "3"')]


class NewProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    sku: str
    base_price: Price
    currency: str


class ProductPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    sku: str | None = None
    base_price: Price | None = None
    currency: str | None = None


class ProductChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str | None = Field(max_length=200)


def product_view(row: Any, response: Response | None = None) -> dict[str, Any]:
    """The product as the API shows it; its version goes into the response's ETag."""
    if response is not None:
        response.headers["ETag"] = etag(row["version"])
    price = row["base_price"]
    return {
        "id": row["product_id"],
        "name": row["name"],
        "sku": row["sku"],
        "base_price": price if isinstance(price, str) else format(price, "f"),
        "currency": row["currency"],
        "version": row["version"],
    }


@router.post("/products", status_code=201, response_model=CatalogueProduct)
async def post_product(ctx: CtxDep, body: NewProduct, response: Response) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        product = await create_product(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            actor=ctx.actor,
            now=ctx.now(),
            body=body.model_dump(),
        )
    return product_view(product, response)


@router.get("/products", response_model=Page[CatalogueProduct])
async def get_products(
    ctx: CtxDep,
    q: Annotated[str | None, Query(description="a part of the name, or the whole SKU")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The tenant's products by name: `{"items": [...], "next_cursor": ...}`."""
    async with ctx.pool.acquire() as conn:
        rows = await catalogue_store.list_products(conn, ctx.tenant_id, q, after=text_key(cursor), limit=limit + 1)
    shown, after = cut(rows, limit, lambda row: [row["name"], row["product_id"]])
    return {"items": [product_view(row) for row in shown], "next_cursor": after}


@router.get("/products/{product_id}", response_model=CatalogueProduct)
async def get_product(ctx: CtxDep, product_id: str, response: Response) -> dict[str, Any]:
    """The product; its version is the ETag."""
    async with ctx.pool.acquire() as conn:
        row = await catalogue_store.get_product(conn, ctx.tenant_id, product_id)
    if row is None:
        raise not_found("no such product")
    return product_view(row, response)


@router.patch(
    "/products/{product_id}",
    response_model=CatalogueProduct,
    summary="Change a product's values (If-Match required)",
    responses=problem_responses(412, 428),
)
async def patch_product(
    ctx: CtxDep, product_id: str, body: ProductPatch, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    ctx.require_admin()
    expected = expected_version(if_match, required=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await change_product(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            actor=ctx.actor,
            now=ctx.now(),
            product_id=product_id,
            body=body.model_dump(exclude_unset=True),
            expected_version=expected,
        )
    return product_view(row, response)


@router.get("/products/{product_id}/items", response_model=Page[EntityItem])
async def get_product_items(ctx: CtxDep, product_id: str, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """The live items bound to the product that the caller may read, oldest first:
    `{"items": [...], "next_cursor": ...}`."""
    async with ctx.pool.acquire() as conn:
        rows: list[asyncpg.Record] = await items_of_product(
            conn, reader_of(ctx.principal), product_id=product_id, after=instant_key(cursor), limit=limit + 1
        )
        shown, after = cut(rows, limit, lambda row: [row["created_at"].isoformat(), row["item_id"]])
        return {"items": await items_json(conn, ctx.tenant_id, shown), "next_cursor": after}


@router.put("/items/{item_id}/product", response_model=ItemProductBinding)
async def put_item_product(ctx: CtxDep, item_id: str, body: ProductChoice) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        await bind_item_to_product(
            conn, ctx.store, reader_of(ctx.principal), item_id=item_id, product_id=body.product_id, now=ctx.now()
        )
    return {"item_id": item_id, "product_id": body.product_id}


@router.get("/items/{item_id}/product", response_model=ItemProductBinding)
async def get_item_product(ctx: CtxDep, item_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        await reader_of(ctx.principal).visible_item(conn, item_id, Action.READ)
        product_id = await catalogue_store.product_of(conn, ctx.tenant_id, item_id)
    return {"item_id": item_id, "product_id": product_id}
