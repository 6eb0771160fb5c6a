"""Whether the caller may read an item, by the shared access rule over the service's copies of the
item (assignee, type, pipeline) and of the directory (viewer, role grants)."""

from __future__ import annotations

from conveyor_access import ADMIN_ROLE, Action, permits, scope_for
from conveyor_access.directory import load_grants, load_viewer
from conveyor_kit.auth import Principal
from conveyor_messaging.db import Connection

from automation.adapters import items


async def may_read(conn: Connection, principal: Principal, item_id: str) -> bool:
    """True for an item of the caller's tenant they may read. An item the service has no copy of
    (not seen yet, or purged) is for admins only: nobody else could be shown to read it."""
    if ADMIN_ROLE in principal.roles:
        return True
    item = await items.load(conn, principal.tenant_id, item_id)
    if item is None or item.entity_type_id is None:
        return False
    viewer = await load_viewer(conn, principal.tenant_id, principal.user_id, principal.roles)
    grants = await load_grants(conn, principal.tenant_id, item.entity_type_id)
    scope = scope_for(
        viewer, grants, entity_type_id=item.entity_type_id, action=Action.READ, pipeline_id=item.pipeline_id
    )
    return permits(scope, viewer, item.assignee_id)
