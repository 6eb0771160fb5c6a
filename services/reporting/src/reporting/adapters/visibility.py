"""Which rows of a report the caller may see: the access rule (``conveyor_access``) turned into one
SQL condition on a row's assignee and pipeline, per pipeline of the entity type."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from conveyor_access import Action, Scope, Viewer, scope_for, sql_condition
from conveyor_access.directory import load_grants, load_viewer
from conveyor_kit.auth import Principal
from conveyor_messaging.db import Connection


@dataclass(frozen=True, slots=True)
class Visibility:
    """A SQL condition and its parameters, numbered from the ``first`` placeholder it was built for."""

    sql: str
    params: list[object]

    @property
    def everything(self) -> bool:
        return self.sql == "TRUE"


@dataclass(frozen=True, slots=True)
class Rights:
    """What the caller may read of one entity type: the scope for items on no pipeline and, per scope, the
    pipelines it applies to (a pipeline's own grants replace the type-wide ones). ``None``: everything."""

    viewer: Viewer
    unplaced: Scope
    by_scope: dict[Scope, list[str]] | None

    def condition(self, *, assignee: str, pipeline: str, first: int) -> Visibility:
        """The rights as a SQL condition on a row's assignee and pipeline columns, placeholders from ``first``."""
        if self.by_scope is None:
            return Visibility("TRUE", [])
        params: list[object] = []
        condition, extra = sql_condition(self.unplaced, self.viewer, assignee_column=assignee, param=first)
        parts = [f"(coalesce({pipeline}, '') = '' AND {condition})"]
        params += extra
        for scope, pipeline_ids in self.by_scope.items():
            params.append(pipeline_ids)
            n = first + len(params) - 1
            condition, extra = sql_condition(scope, self.viewer, assignee_column=assignee, param=n + 1)
            params += extra
            parts.append(f"({pipeline} = ANY(${n}::text[]) AND {condition})")
        return Visibility("(" + " OR ".join(parts) + ")", params)


async def rights(conn: Connection, principal: Principal, entity_type_id: str) -> Rights:
    """The caller's read rights on ``entity_type_id``, loaded once for any number of conditions."""
    viewer = await load_viewer(conn, principal.tenant_id, principal.user_id, principal.roles)
    if viewer.is_admin:
        return Rights(viewer, Scope.ALL, None)
    grants = await load_grants(conn, principal.tenant_id, entity_type_id)
    pipelines = await conn.fetch(
        "SELECT DISTINCT pipeline_id FROM projection.stages WHERE tenant_id = $1 AND entity_type_id = $2",
        principal.tenant_id,
        entity_type_id,
    )
    by_scope: dict[Scope, list[str]] = defaultdict(list)
    for row in pipelines:
        pid = row["pipeline_id"]
        by_scope[scope_for(viewer, grants, entity_type_id=entity_type_id, action=Action.READ, pipeline_id=pid)].append(
            pid
        )
    unplaced = scope_for(viewer, grants, entity_type_id=entity_type_id, action=Action.READ)
    if all(s is Scope.ALL for s in by_scope) and unplaced is Scope.ALL:
        return Rights(viewer, unplaced, None)
    return Rights(viewer, unplaced, dict(by_scope))


async def visibility(
    conn: Connection, principal: Principal, entity_type_id: str, *, assignee: str, pipeline: str, first: int
) -> Visibility:
    """Rows of ``entity_type_id`` the caller may read; the pipeline's own grants replace the type-wide ones."""
    return (await rights(conn, principal, entity_type_id)).condition(assignee=assignee, pipeline=pipeline, first=first)


async def visibility_in_pipeline(
    conn: Connection, principal: Principal, entity_type_id: str, pipeline_id: str, *, assignee: str, first: int
) -> Visibility:
    """Rows of one pipeline the caller may read: a condition on the assignee alone (an index can use it)."""
    viewer = await load_viewer(conn, principal.tenant_id, principal.user_id, principal.roles)
    if viewer.is_admin:
        return Visibility("TRUE", [])
    grants = await load_grants(conn, principal.tenant_id, entity_type_id)
    scope = scope_for(viewer, grants, entity_type_id=entity_type_id, action=Action.READ, pipeline_id=pipeline_id)
    condition, params = sql_condition(scope, viewer, assignee_column=assignee, param=first)
    return Visibility(condition, params)
