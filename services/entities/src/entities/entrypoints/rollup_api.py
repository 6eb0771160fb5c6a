"""HTTP API of roll-up rules: a parent field kept equal to an aggregate of its linked children."""

from __future__ import annotations

from typing import Any, Literal

from conveyor_kit.openapi import problem_responses
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import rollup_store
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.relation_models import RollupRule, RollupRuleList
from entities.handlers.rollup_rules import define_rollup_rule

router = APIRouter(prefix="/v1", tags=["relations"], responses=problem_responses(403, 404, 409))
FieldKey = Field(min_length=1, max_length=110, pattern=r"^(amount|fields\.[a-z][a-z0-9_]*)$")


class NewRule(BaseModel):
    """E.g. amount = sum of fields.price * fields.quantity of the relation's children."""

    model_config = ConfigDict(extra="forbid")

    relation_id: str = Field(min_length=1, max_length=200)
    parent_field: str = FieldKey
    aggregate: Literal["sum", "count", "min", "max"]
    child_fields: list[str] = Field(default_factory=list, max_length=5)


def rule_view(row: Any) -> dict[str, Any]:
    keys = ("rule_id", "relation_id", "parent_field", "aggregate", "child_fields")
    return {key: list(row[key]) if key == "child_fields" else row[key] for key in keys}


@router.post("/rollup-rules", status_code=201, response_model=RollupRule)
async def post_rule(ctx: CtxDep, body: NewRule) -> dict[str, Any]:
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


@router.get("/rollup-rules", response_model=RollupRuleList)
async def get_rules(ctx: CtxDep) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        rows = await rollup_store.list_rules(conn, ctx.tenant_id)
    return {"rules": [rule_view(row) for row in rows]}
