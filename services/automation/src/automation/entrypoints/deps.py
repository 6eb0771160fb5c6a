"""What every endpoint works with: the caller, the pool, the event store and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import asyncpg
from conveyor_access import ADMIN_ROLE
from conveyor_kit.auth import Principal, current_principal
from conveyor_kit.clock import Clock, clock_from
from conveyor_kit.database import pool_from
from conveyor_kit.problems import forbidden
from conveyor_kit.workers import backbone_from
from conveyor_messaging.actor import Actor
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.runtime import Backbone
from fastapi import Depends


@dataclass(frozen=True, slots=True)
class Ctx:
    principal: Principal
    pool: asyncpg.Pool
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
        """Robots and triggers are configured by the tenant's admins."""
        if ADMIN_ROLE not in self.principal.roles:
            raise forbidden("only admins configure robots and triggers")


def context(
    principal: Annotated[Principal, Depends(current_principal)],
    pool: Annotated[asyncpg.Pool, Depends(pool_from)],
    backbone: Annotated[Backbone, Depends(backbone_from)],
    clock: Annotated[Clock, Depends(clock_from)],
) -> Ctx:
    return Ctx(principal=principal, pool=pool, store=backbone.store, clock=clock)


CtxDep = Annotated[Ctx, Depends(context)]
