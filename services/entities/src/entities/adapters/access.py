"""Who may do what to which items: the shared rule (`conveyor_access`) on this service's directory copy."""

from __future__ import annotations

from dataclasses import dataclass

from conveyor_access import Action, Grant, Viewer, permits, scope_for, sql_condition
from conveyor_access.directory import load_grants, load_viewer
from conveyor_messaging.db import Connection


@dataclass(frozen=True)
class Access:
    """One viewer's rights for one action on one entity type."""

    viewer: Viewer
    grants: tuple[Grant, ...]
    entity_type_id: str
    action: Action

    def allows(self, assignee_id: str | None, pipeline_id: str | None) -> bool:
        scope = scope_for(
            self.viewer, self.grants, entity_type_id=self.entity_type_id, action=self.action, pipeline_id=pipeline_id
        )
        return permits(scope, self.viewer, assignee_id)

    def where(self, param: int) -> tuple[str, list[object]]:
        """The rule as SQL over `items` (assignee_id, pipeline_id); `param` numbers the first `$n`.

        A pipeline named in a grant has its own scope; every other pipeline (and items not
        placed yet) take the type-wide one.
        """
        pipelines = sorted(
            {g.pipeline_id for g in self.grants if g.pipeline_id and g.entity_type_id == self.entity_type_id}
        )
        if not pipelines:  # the common case: one scope for the whole type
            return self._condition(None, param)
        parts: list[str] = []
        params: list[object] = []
        for pipeline_id in pipelines:
            condition, values = self._condition(pipeline_id, param + len(params) + 1)
            parts.append(f"(pipeline_id = ${param + len(params)} AND {condition})")
            params += [pipeline_id, *values]
        condition, values = self._condition(None, param + len(params) + 1)
        parts.append(f"((pipeline_id IS NULL OR pipeline_id <> ALL(${param + len(params)}::text[])) AND {condition})")
        params += [pipelines, *values]
        return "(" + " OR ".join(parts) + ")", params

    def _condition(self, pipeline_id: str | None, param: int) -> tuple[str, list[object]]:
        scope = scope_for(
            self.viewer, self.grants, entity_type_id=self.entity_type_id, action=self.action, pipeline_id=pipeline_id
        )
        condition, values = sql_condition(scope, self.viewer, assignee_column="assignee_id", param=param)
        return f"({condition})", values


# What one unit of work has read of a caller's rights: their viewer and each type's grants.
KnownRights = dict[str, tuple[Viewer, tuple[Grant, ...]]]


async def access_for(
    conn: Connection,
    *,
    tenant_id: str,
    user_id: str,
    roles: frozenset[str],
    entity_type_id: str,
    action: Action,
    known: KnownRights | None = None,
) -> Access:
    """The caller's rights for one action on one type. ``known``: what this unit of work has read already
    (filled here); a request that checks reading and then changing reads the directory once."""
    if known is not None and entity_type_id in known:
        viewer, grants = known[entity_type_id]
    else:
        viewer = await load_viewer(conn, tenant_id, user_id, roles)
        grants = tuple(await load_grants(conn, tenant_id, entity_type_id)) if not viewer.is_admin else ()
        if known is not None:
            known[entity_type_id] = (viewer, grants)
    return Access(viewer=viewer, grants=grants, entity_type_id=entity_type_id, action=action)
