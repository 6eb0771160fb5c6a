"""Directory events the entities service publishes: users, departments, absences, role grants.

Other services keep their own copy of the directory from these (see ``conveyor_access.directory``)
to evaluate access rights and to resolve tasks assigned to a role or a department head.

Registrations, creations and changes carry the whole new state of their aggregate (a change also
lists which fields changed), so a copy is kept by upserting, and an event that arrives twice or late
(its aggregate version at or below the copy's) changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from conveyor_messaging.contracts import EventContract
from pydantic import Field

ActionName = Literal["read", "create", "update", "delete"]
ScopeName = Literal["none", "own", "department", "department_tree", "all"]

# ---------------------------------------------------------------- users


class UserRegistered(EventContract, type_name="conveyor.entities.user.registered.v1"):
    """An admin registered a user of the tenant (the id is the token's ``sub``)."""

    user_id: str
    name: str
    email: str
    department_ids: list[str] = Field(default_factory=list)  # the first is the user's main department
    roles: list[str] = Field(default_factory=list)
    active: bool = True


class UserChanged(EventContract, type_name="conveyor.entities.user.changed.v1"):
    """A user's name, e-mail, departments, roles or active flag changed; carries the whole new state."""

    user_id: str
    name: str
    email: str
    department_ids: list[str]
    roles: list[str]
    active: bool
    changed: list[str]  # names of the fields that changed, e.g. ["department_ids", "roles"]


class UserDeactivated(EventContract, type_name="conveyor.entities.user.deactivated.v1"):
    """A user left or was blocked: no new work goes to them; what they own stays theirs."""

    user_id: str


# ---------------------------------------------------------------- departments


class DepartmentCreated(EventContract, type_name="conveyor.entities.department.created.v1"):
    """A department was added to the company structure (``parent_id=None`` for a top department)."""

    department_id: str
    name: str
    parent_id: str | None = None
    head_user_id: str | None = None


class DepartmentChanged(EventContract, type_name="conveyor.entities.department.changed.v1"):
    """A department was renamed, moved under another parent or given another head; the whole new state."""

    department_id: str
    name: str
    parent_id: str | None
    head_user_id: str | None
    changed: list[str]


class DepartmentRemoved(EventContract, type_name="conveyor.entities.department.removed.v1"):
    """An empty department (no sub-departments, no active users) was removed."""

    department_id: str


# ---------------------------------------------------------------- absences


class AbsenceRecorded(EventContract, type_name="conveyor.entities.absence.recorded.v1"):
    """A user is away from ``starts_at`` until ``ends_at`` (exclusive); their work goes to the substitute."""

    absence_id: str
    user_id: str
    starts_at: datetime
    ends_at: datetime
    substitute_user_id: str | None = None
    reason: str | None = None


class AbsenceCancelled(EventContract, type_name="conveyor.entities.absence.cancelled.v1"):
    """A recorded absence was called off."""

    absence_id: str
    user_id: str


# ---------------------------------------------------------------- role grants


class RoleGrantsSet(EventContract, type_name="conveyor.entities.role.grants_set.v1"):
    """A role's rights for one entity type (and optionally one pipeline of it) were replaced at once.

    ``actions`` maps each action to its scope; an action left out is ``none``. A line naming a
    pipeline replaces the type-wide line on that pipeline. An empty map removes the line: the role
    then has no rights on the type, or on that pipeline falls back to the type-wide line.
    """

    role: str
    entity_type_id: str
    pipeline_id: str | None = None
    actions: dict[ActionName, ScopeName]
