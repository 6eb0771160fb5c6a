"""HTTP API of roll-up rules: a parent field kept equal to an aggregate of its linked children."""

from __future__ import annotations

from typing import Any, Literal

from conveyor_kit.openapi import problem_responses
from conveyor_messaging.actor import Actor
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import rollup_store
from entities.entrypoints.relation_models import RollupRule, RollupRuleList
from entities.entrypoints.relations_api import Admin, Caller, Now, Pool, Store
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
async def post_rule(body: NewRule, admin: Admin, pool: Pool, backbone: Store, clock: Now) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        rule = await define_rollup_rule(
            conn,
            backbone.store,
            tenant_id=admin.tenant_id,
            actor=Actor.user(admin.user_id),
            now=clock.now(),
            body=body.model_dump(),
        )
    return rule_view(rule)


@router.get("/rollup-rules", response_model=RollupRuleList)
async def get_rules(caller: Caller, pool: Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        rows = await rollup_store.list_rules(conn, caller.tenant_id)
    return {"rules": [rule_view(row) for row in rows]}
