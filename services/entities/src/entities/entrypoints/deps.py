"""What every endpoint works with: the caller, the pool, the event store and the clock (from the kit)."""

from typing import Annotated

from conveyor_kit.context import ContextDep as CtxDep
from conveyor_kit.context import RequestContext as Ctx
from fastapi import Query

# A filter by entity type takes its id or its code (docs/api-conventions.md): work.entity_type_id_of.
EntityTypeIdOrCode = Annotated[
    str, Query(min_length=1, max_length=64, description="The entity type's id or its code (`deal`).")
]

__all__ = ["Ctx", "CtxDep", "EntityTypeIdOrCode"]
