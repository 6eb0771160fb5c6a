"""HTTP API of roll-up rules: a parent field kept equal to an aggregate of its linked children."""

from __future__ import annotations

from typing import Any, Literal

from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, instant_key, page_of
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import rollup_store
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.relation_models import RollupRule
from entities.handlers.rollup_rules import define_rollup_rule

router = APIRouter(prefix="/v1", tags=["relations"], responses=problem_responses(403, 404, 409))
FieldKey = Field(min_length=1, max_length=110, pattern=r"^(amount|fields\.[a-z][a-z0-9_]*)$")


class NewRollupRule(BaseModel):
    """E.g. amount = sum of fields.price * fields.quantity of the relation's children."""

    model_config = ConfigDict(extra="forbid")

    relation_id: str = Field(min_length=1, max_length=200)
    parent_field: str = FieldKey
    aggregate: Literal["sum", "count", "min", "max"]
    child_fields: list[str] = Field(default_factory=list, max_length=5)


def rule_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["rule_id"],
        "relation_id": row["relation_id"],
        "parent_field": row["parent_field"],
        "aggregate": row["aggregate"],
        "child_fields": list(row["child_fields"]),
    }


@router.post("/rollup-rules", status_code=201, response_model=RollupRule)
async def post_rule(ctx: CtxDep, body: NewRollupRule) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        rule = await define_rollup_rule(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            actor=ctx.actor,
            now=ctx.now(),
            body=body.model_dump(),
        )
    return rule_view(rule)


@router.get("/rollup-rules", response_model=Page[RollupRule])
async def get_rules(ctx: CtxDep, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """The tenant's roll-up rules in the order they were defined."""
    after = instant_key(cursor)
    async with ctx.pool.acquire() as conn:
        rows = await rollup_store.list_rules(conn, ctx.tenant_id, after=after, limit=limit + 1)
    return page_of(rows, limit, rule_view, lambda row: (row["created_at"], row["rule_id"]))
