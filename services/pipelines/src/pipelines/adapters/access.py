"""Who is asking and what they may do, from the service's copy of the directory."""

from __future__ import annotations

from dataclasses import dataclass

from conveyor_access import Action, Grant, Scope, Viewer, permits, scope_for
from conveyor_access.directory import load_grants, load_viewer
from conveyor_kit.auth import Principal
from conveyor_messaging.db import Connection


@dataclass(frozen=True, slots=True)
class Access:
    """A viewer with their roles' grants on one entity type."""

    viewer: Viewer
    grants: list[Grant]
    entity_type_id: str

    def scope(self, action: Action, pipeline_id: str) -> Scope:
        return scope_for(
            self.viewer, self.grants, entity_type_id=self.entity_type_id, action=action, pipeline_id=pipeline_id
        )

    def may(self, action: Action, pipeline_id: str, assignee_id: str | None) -> bool:
        return permits(self.scope(action, pipeline_id), self.viewer, assignee_id)


async def access_for(conn: Connection, principal: Principal, entity_type_id: str) -> Access:
    viewer = await load_viewer(conn, principal.tenant_id, principal.user_id, principal.roles)
    grants = await load_grants(conn, principal.tenant_id, entity_type_id)
    return Access(viewer=viewer, grants=grants, entity_type_id=entity_type_id)
