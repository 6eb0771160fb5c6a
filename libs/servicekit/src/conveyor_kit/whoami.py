"""`GET /v1/whoami`: the caller as the service sees them, for auth checks and frontends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from conveyor_kit.auth import Principal, current_principal


class WhoAmI(BaseModel):
    """The caller: their tenant, user id and roles, as the token says."""

    tenant_id: str
    user_id: str
    roles: list[str]


def whoami_router(*, in_schema: bool = True) -> APIRouter:
    """A router with the one authenticated endpoint every service offers. Behind the one public origin
    `/v1/whoami` goes to entities, so only entities documents it (`in_schema`): each path has one owner
    in the merged OpenAPI; the others still answer it when called directly, for diagnosis."""
    router = APIRouter(prefix="/v1", tags=["identity"])

    @router.get("/whoami", include_in_schema=in_schema)
    async def whoami(principal: Annotated[Principal, Depends(current_principal)]) -> WhoAmI:
        return WhoAmI(
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            roles=sorted(principal.roles),
        )

    return router
