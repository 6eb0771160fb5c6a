"""`GET /v1/whoami`: the caller as the service sees them, for auth checks and frontends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from conveyor_kit.auth import Principal, current_principal


class WhoAmI(BaseModel):
    tenant_id: str
    user_id: str
    roles: list[str]


def whoami_router() -> APIRouter:
    """A router with the one authenticated endpoint every service offers."""
    router = APIRouter(prefix="/v1", tags=["identity"])

    @router.get("/whoami")
    async def whoami(principal: Annotated[Principal, Depends(current_principal)]) -> WhoAmI:
        return WhoAmI(
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            roles=sorted(principal.roles),
        )

    return router
