"""Request and response bodies of the directory API (responses are `ApiModel`s, instants `Timestamp`s)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from conveyor_contracts.directory import ActionName, ScopeName
from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewUser(_Body):
    id: Id = Field(description="the user's id: the `sub` of their tokens")
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


class DirectoryUser(ApiModel):
    """A user of the tenant; `department_ids[0]` is their main department."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "manager-1",
                    "name": "Olga Petrova",
                    "email": "olga.petrova@teplo.example",
                    "department_ids": ["sales-north", "onboarding"],
                    "roles": ["manager"],
                    "active": True,
                }
            ]
        },
    )

    id: str
    name: str
    email: str
    department_ids: list[str]
    roles: list[str]
    active: bool


class NewDepartment(_Body):
    id: Id | None = Field(default=None, description="chosen by the server when left out")
    name: Name
    parent_id: Id | None = None
    head_user_id: Id | None = None


class DepartmentPatch(_Body):
    """Only the fields sent change; ``parent_id: null`` moves the department to the top."""

    name: Name | None = None
    parent_id: Id | None = None
    head_user_id: Id | None = None


class DirectoryDepartment(ApiModel):
    """A department of the tenant."""

    id: str
    name: str
    parent_id: str | None = Field(description="the department above (null: a top department)")
    head_user_id: str | None


class DirectoryDepartmentNode(DirectoryDepartment):
    """A department with its sub-departments."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    children: list[DirectoryDepartmentNode] = Field(default_factory=list)


class DirectoryDepartmentTree(ApiModel):
    """Every department of the tenant, read whole: the top departments, each with its sub-departments."""

    departments: list[DirectoryDepartmentNode]


class NewAbsence(_Body):
    user_id: Id
    starts_at: datetime
    ends_at: datetime
    substitute_user_id: Id | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None


class DirectoryAbsence(ApiModel):
    """A user's absence; their substitute (if any) takes over their work meanwhile."""

    id: str
    user_id: str
    starts_at: Timestamp
    ends_at: Timestamp
    substitute_user_id: str | None
    reason: str | None
    cancelled: bool


class DirectoryGrantLine(ApiModel):
    """A role's rights on one entity type, or on one pipeline of it; actions left out are ``none``."""

    entity_type_id: Id
    pipeline_id: Id | None = None
    actions: dict[ActionName, ScopeName]


class DirectoryRoleGrants(ApiModel):
    """A role's rights, line by line (the body of the PUT and its answer)."""

    grants: list[DirectoryGrantLine] = Field(max_length=500)
