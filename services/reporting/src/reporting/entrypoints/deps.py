"""What every endpoint works with: the caller, the pool, the event store and the clock (from the kit), and
the entity type a report is filtered by."""

from typing import Annotated

from conveyor_kit.context import ContextDep as CtxDep
from conveyor_kit.context import RequestContext as Ctx
from conveyor_kit.problems import Problem
from fastapi import Depends, Query

from reporting.adapters.entity_types import entity_type_id_of


async def _entity_type_id(
    ctx: CtxDep,
    entity_type_id: Annotated[
        str, Query(min_length=1, max_length=200, description="The entity type's id or its code (`deal`).")
    ],
) -> str:
    """The id of the type a report names by its id or its code; a type the projections have not heard of is a
    404 (docs/api-conventions.md): send the consistency token of its creation to wait for it."""
    async with ctx.pool.acquire() as conn:
        found = await entity_type_id_of(conn, ctx.tenant_id, entity_type_id)
    if found is None:
        raise Problem(404, "Unknown entity type", f"no entity type {entity_type_id}", slug="unknown-entity-type")
    return found


# A report's `entity_type_id` query parameter (the type's id or its code), resolved to the type's id.
EntityTypeIdOrCode = Annotated[str, Depends(_entity_type_id)]

__all__ = ["Ctx", "CtxDep", "EntityTypeIdOrCode"]
