"""What every endpoint works with: the caller, the pool, the event store and the clock (from the kit), and the
parameters several routes share."""

from typing import Annotated

from conveyor_kit.context import ContextDep as CtxDep
from conveyor_kit.context import RequestContext as Ctx
from fastapi import Header, Query, Response

# A filter by entity type takes its id or its code (docs/api-conventions.md): adapters.entity_types.
EntityTypeIdOrCode = Annotated[
    str | None, Query(min_length=1, max_length=200, description="The entity type's id or its code (`deal`).")
]
# A write to a versioned resource names the version it was made from (conveyor_kit.versions: 428, 412).
IfMatch = Annotated[str | None, Header(max_length=40, description='The ETag as read, e.g. "3" (required).')]

__all__ = ["Ctx", "CtxDep", "EntityTypeIdOrCode", "IfMatch", "tag"]


def tag(response: Response, version: int) -> None:
    """Answer a versioned resource's version as its ETag, for the If-Match of the next write."""
    response.headers["ETag"] = f'"{version}"'
