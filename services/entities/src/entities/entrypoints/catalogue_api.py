"""HTTP API of the catalogue: products, and which product an item of a catalogue-bound type refers to."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from conveyor_access import Action
from conveyor_kit.openapi import problem_responses
from conveyor_kit.problems import not_found
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import catalogue_store
from entities.entrypoints.catalogue_models import CatalogueProduct, CatalogueProductList, ItemProductBinding
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.item_models import LinkedItems
from entities.entrypoints.relations_api import items_json, reader_of
from entities.handlers.catalogue_products import bind_item_to_product, change_product, create_product, items_of_product

router = APIRouter(prefix="/v1", tags=["catalogue"], responses=problem_responses(403, 404, 409))
Price = str | int | float


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


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str | None = Field(max_length=200)


def product_view(row: Any) -> dict[str, Any]:
    price = row["base_price"]
    return {
        "product_id": row["product_id"],
        "name": row["name"],
        "sku": row["sku"],
        "base_price": price if isinstance(price, str) else format(price, "f"),
        "currency": row["currency"],
        "version": row["version"],
    }


@router.post("/products", status_code=201, response_model=CatalogueProduct)
async def post_product(ctx: CtxDep, body: NewProduct) -> dict[str, Any]:
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
    return product_view(product)


@router.get("/products", response_model=CatalogueProductList)
async def get_products(
    ctx: CtxDep, q: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        rows = await catalogue_store.list_products(conn, ctx.tenant_id, q, limit)
    return {"products": [product_view(row) for row in rows]}


@router.get("/products/{product_id}", response_model=CatalogueProduct)
async def get_product(ctx: CtxDep, product_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        row = await catalogue_store.get_product(conn, ctx.tenant_id, product_id)
    if row is None:
        raise not_found("no such product")
    return product_view(row)


@router.patch("/products/{product_id}", response_model=CatalogueProduct)
async def patch_product(ctx: CtxDep, product_id: str, body: ProductPatch) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await change_product(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            actor=ctx.actor,
            now=ctx.now(),
            product_id=product_id,
            body=body.model_dump(exclude_unset=True),
        )
    return product_view(row)


@router.get("/products/{product_id}/items", response_model=LinkedItems)
async def get_product_items(
    ctx: CtxDep, product_id: str, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        rows: list[asyncpg.Record] = await items_of_product(
            conn, reader_of(ctx.principal), product_id=product_id, limit=limit
        )
        return {"items": await items_json(conn, ctx.tenant_id, rows)}


@router.put("/items/{item_id}/product", response_model=ItemProductBinding)
async def put_item_product(ctx: CtxDep, item_id: str, body: Binding) -> dict[str, Any]:
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
