"""The rule: grants per role → the viewer's scope → whether an item (or which rows) they may touch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

ADMIN_ROLE = "admin"
"""Tenant administrators: every action on everything of their tenant, whatever the grants say."""

OPERATOR_ROLE = "platform-operator"
"""The platform's operators (the identity provider gives it to the ops team, never to a tenant's
users): maintenance that reaches every tenant at once, such as rebuilding reporting's projections.
It reads no tenant's data; a tenant admin does not have it."""


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"
    DEPARTMENT = "department"
    DEPARTMENT_TREE = "department_tree"
    ALL = "all"

    @property
    def width(self) -> int:
        return _WIDTH[self]


_WIDTH = {Scope.NONE: 0, Scope.OWN: 1, Scope.DEPARTMENT: 2, Scope.DEPARTMENT_TREE: 3, Scope.ALL: 4}


@dataclass(frozen=True, slots=True)
class Grant:
    """One line of a role's rights. ``pipeline_id=None`` covers every pipeline of the type;
    a grant naming a pipeline replaces it for that pipeline."""

    role: str
    entity_type_id: str
    action: Action
    scope: Scope
    pipeline_id: str | None = None


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking, with department membership already resolved to user ids."""

    user_id: str
    roles: frozenset[str]
    department_user_ids: frozenset[str] = field(default_factory=frozenset)
    department_tree_user_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles


def scope_for(
    viewer: Viewer,
    grants: Iterable[Grant],
    *,
    entity_type_id: str,
    action: Action,
    pipeline_id: str | None = None,
) -> Scope:
    """The widest scope any of the viewer's roles has for this action; none without a grant."""
    if viewer.is_admin:
        return Scope.ALL
    by_role: dict[str, Scope] = {}
    specific: dict[str, Scope] = {}
    for grant in grants:
        if grant.role not in viewer.roles or grant.entity_type_id != entity_type_id or grant.action != action:
            continue
        if grant.pipeline_id is None:
            by_role[grant.role] = _wider(by_role.get(grant.role, Scope.NONE), grant.scope)
        elif grant.pipeline_id == pipeline_id:
            specific[grant.role] = _wider(specific.get(grant.role, Scope.NONE), grant.scope)
    scopes = [specific.get(role, by_role.get(role, Scope.NONE)) for role in viewer.roles]
    return max(scopes, key=lambda s: s.width, default=Scope.NONE)


def permits(scope: Scope, viewer: Viewer, assignee_id: str | None) -> bool:
    """May a viewer with ``scope`` touch an item assigned to ``assignee_id``?"""
    if scope is Scope.ALL:
        return True
    if scope is Scope.NONE or assignee_id is None:
        return False
    if scope is Scope.OWN:
        return assignee_id == viewer.user_id
    if scope is Scope.DEPARTMENT:
        return assignee_id == viewer.user_id or assignee_id in viewer.department_user_ids
    return assignee_id == viewer.user_id or assignee_id in viewer.department_tree_user_ids


def sql_condition(scope: Scope, viewer: Viewer, *, assignee_column: str, param: int) -> tuple[str, list[object]]:
    """The same rule as a SQL condition for list queries: ``(text, parameters)``.

    ``param`` is the number of the first ``$n`` placeholder the condition may use.
    """
    if scope is Scope.ALL:
        return "TRUE", []
    if scope is Scope.NONE:
        return "FALSE", []
    if scope is Scope.OWN:
        return f"{assignee_column} = ${param}", [viewer.user_id]
    members = viewer.department_user_ids if scope is Scope.DEPARTMENT else viewer.department_tree_user_ids
    return f"{assignee_column} = ANY(${param}::text[])", [sorted(members | {viewer.user_id})]


def _wider(a: Scope, b: Scope) -> Scope:
    return a if a.width >= b.width else b
