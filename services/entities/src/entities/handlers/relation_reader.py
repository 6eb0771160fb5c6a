"""The caller as the relation, catalogue, import and export handlers see them: tenant, user, roles."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from conveyor_access import Action
from conveyor_messaging.db import Connection

from entities.adapters import items as items_table
from entities.adapters.access import access_for
from entities.domain.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Reader:
    """Who acts; items they may not read answer NotFound (their existence is not revealed)."""

    tenant_id: str
    user_id: str
    roles: frozenset[str]

    async def visible_item(self, conn: Connection, item_id: str, action: Action) -> asyncpg.Record:
        """The live item's row if the reader may read it and do ``action`` to it."""
        row = await items_table.get_row(conn, self.tenant_id, item_id)
        if row is None or row["deleted_at"] is not None or not await self._may(conn, row, Action.READ):
            raise NotFound("no such item")
        if action is not Action.READ and not await self._may(conn, row, action):
            raise Forbidden(f"you may not {action.value} this item")
        return row

    async def _may(self, conn: Connection, row: asyncpg.Record, action: Action) -> bool:
        access = await access_for(
            conn,
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            roles=self.roles,
            entity_type_id=row["entity_type_id"],
            action=action,
        )
        return access.allows(row["assignee_id"], row["pipeline_id"])
