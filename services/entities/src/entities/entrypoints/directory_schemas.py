"""Request and response bodies of the directory API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from conveyor_contracts.directory import ActionName, ScopeName
from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewUser(_Body):
    user_id: Id
    name: Name
    email: Email
    department_ids: list[Id] = Field(default_factory=list, max_length=50)
    roles: list[Id] = Field(default_factory=list, max_length=50)
    active: bool = True


class UserPatch(_Body):
    """Only the fields sent change."""

    name: Name | None = None
    email: Email | None = None
    department_ids: list[Id] | None = Field(default=None, max_length=50)
    roles: list[Id] | None = Field(default=None, max_length=50)
    active: bool | None = None


class User(BaseModel):
    user_id: str
    name: str
    email: str
    department_ids: list[str]
    roles: list[str]
    active: bool


class NewDepartment(_Body):
    department_id: Id | None = None  # chosen by the server when left out
    name: Name
    parent_id: Id | None = None
    head_user_id: Id | None = None


class DepartmentPatch(_Body):
    """Only the fields sent change; ``parent_id: null`` moves the department to the top."""

    name: Name | None = None
    parent_id: Id | None = None
    head_user_id: Id | None = None


class Department(BaseModel):
    department_id: str
    name: str
    parent_id: str | None
    head_user_id: str | None


class DepartmentNode(Department):
    children: list[DepartmentNode] = Field(default_factory=list)


class NewAbsence(_Body):
    user_id: Id
    starts_at: datetime
    ends_at: datetime
    substitute_user_id: Id | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None


class Absence(BaseModel):
    absence_id: str
    user_id: str
    starts_at: datetime
    ends_at: datetime
    substitute_user_id: str | None
    reason: str | None
    cancelled: bool


class GrantLine(_Body):
    """A role's rights on one entity type, or on one pipeline of it; actions left out are ``none``."""

    entity_type_id: Id
    pipeline_id: Id | None = None
    actions: dict[ActionName, ScopeName]


class RoleGrants(_Body):
    grants: list[GrantLine] = Field(max_length=500)
