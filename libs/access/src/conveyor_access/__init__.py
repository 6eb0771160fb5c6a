"""Access rights, evaluated the same way by every service on its own copy of the data.

A role is granted, per entity type (and optionally per pipeline) and per action, one scope:
none, own, own department, own department with sub-departments, or all. A viewer's scope is the
widest of their roles' scopes. "Own" means the item's assignee is the viewer; the department
scopes mean the assignee belongs to the viewer's department(s), or to those and every
department below them. Services resolve department membership into user ids when they build
the ``Viewer`` (from their copy of the directory), so a rule never goes stale when people move.
"""

from conveyor_access.rules import (
    ADMIN_ROLE,
    OPERATOR_ROLE,
    Action,
    Grant,
    Scope,
    Viewer,
    permits,
    scope_for,
    sql_condition,
)

__all__ = ["ADMIN_ROLE", "OPERATOR_ROLE", "Action", "Grant", "Scope", "Viewer", "permits", "scope_for", "sql_condition"]
