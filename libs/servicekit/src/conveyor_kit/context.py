"""What every endpoint of a service works with: the caller, the pool, the event store and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from conveyor_access import ADMIN_ROLE
from conveyor_messaging.actor import Actor
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.runtime import Backbone
from fastapi import Depends, Request

from conveyor_kit.auth import Principal, current_principal
from conveyor_kit.clock import Clock, clock_from
from conveyor_kit.consistency import wait_for_token
from conveyor_kit.database import Pool, pool_from
from conveyor_kit.problems import forbidden
from conveyor_kit.workers import backbone_from


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One request's caller and the service's means, so handlers take one argument, not five."""

    principal: Principal
    pool: Pool
    store: EventStore
    clock: Clock

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    @property
    def actor(self) -> Actor:
        return Actor.user(self.principal.user_id)

    def now(self) -> datetime:
        return self.clock.now()

    def require_admin(self) -> None:
        """Configuration belongs to the tenant's admins; everyone else gets 403."""
        if ADMIN_ROLE not in self.principal.roles:
            raise forbidden("only the tenant's admins may do this")

    def require_any_role(self, *roles: str) -> None:
        """The check of `conveyor_kit.auth.require_roles`, for a role other than the tenant's admin (the
        platform operator's): whoever holds none of `roles` gets 403."""
        if not self.principal.has_any_role(*roles):
            raise forbidden(f"requires one of the roles: {', '.join(sorted(roles))}")


async def request_context(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> RequestContext:
    # async, and the pool, backbone and clock read here rather than as dependencies of their own:
    # FastAPI runs every plain `def` dependency in a worker thread, and four thread round trips per
    # request cost pipelines a fifth of its request handling (bench/README.md, system).
    backbone: Backbone = backbone_from(request)
    # A caller who sends a consistency token reads what it wrote elsewhere: wait for it, once known.
    await wait_for_token(request)
    return RequestContext(principal=principal, pool=pool_from(request), store=backbone.store, clock=clock_from(request))


ContextDep = Annotated[RequestContext, Depends(request_context)]
