"""What every endpoint works with: the caller, the pool, the event store and the clock (from the kit)."""

from typing import Annotated

from conveyor_kit.context import ContextDep as CtxDep
from conveyor_kit.context import RequestContext as Ctx
from fastapi import Depends, Query

from pipelines.adapters import catalog
from pipelines.domain.errors import NoSuchEntityType


async def _entity_type_id(
    ctx: CtxDep,
    entity_type_id: Annotated[str, Query(min_length=1, description="The entity type's id or its code (`deal`).")],
) -> str:
    """The id of the type a filter names by its id or its code; a type this service has not heard of is a 404
    (docs/api-conventions.md): send the consistency token of its creation to wait for it."""
    async with ctx.pool.acquire() as conn:
        found = await catalog.entity_type_id_of(conn, ctx.tenant_id, entity_type_id)
    if found is None:
        raise NoSuchEntityType(f"no entity type {entity_type_id}")
    return found


# A filter by entity type: the `entity_type_id` query parameter (id or code), resolved to the type's id.
EntityTypeIdOrCode = Annotated[str, Depends(_entity_type_id)]

__all__ = ["Ctx", "CtxDep", "EntityTypeIdOrCode"]
