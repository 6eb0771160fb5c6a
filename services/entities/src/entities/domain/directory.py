"""The directory's rules: what makes a change to users, departments, absences or grants acceptable.

No I/O: the handlers load what a rule needs and ask it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class DirectoryRefusal(Exception):
    """A change the directory does not accept; ``field`` is a JSON pointer into the request."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DirectoryConflict(Exception):
    """A change that collides with the directory's state: an id already taken, a department not empty."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DirectoryNotFound(Exception):
    """The user, department or absence does not exist in the caller's tenant."""


@dataclass(frozen=True, slots=True)
class UserProfile:
    """A user as the directory keeps them; ``department_ids[0]`` is their main department."""

    user_id: str
    name: str
    email: str
    department_ids: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    active: bool = True


def changed_fields(old: object, new: object, names: tuple[str, ...]) -> list[str]:
    """The names among ``names`` whose values differ between ``old`` and ``new``."""
    return [name for name in names if getattr(old, name) != getattr(new, name)]


def check_departments_known(department_ids: list[str], known: set[str], *, pointer: str) -> None:
    """Every department a user is put in exists (and is not removed)."""
    for index, department_id in enumerate(department_ids):
        if department_id not in known:
            raise DirectoryRefusal(f"{pointer}/{index}", f"unknown department {department_id!r}")
    if len(set(department_ids)) != len(department_ids):
        raise DirectoryRefusal(pointer, "a department is listed twice")


def check_no_cycle(department_id: str, parent_id: str | None, parent_of: Mapping[str, str | None]) -> None:
    """Putting ``department_id`` under ``parent_id`` keeps the departments a tree."""
    seen: set[str] = set()
    current = parent_id
    while current is not None and current not in seen:
        if current == department_id:
            raise DirectoryRefusal(
                "/body/parent_id", "a department cannot be placed under itself or its own sub-department"
            )
        seen.add(current)
        current = parent_of.get(current)


def check_absence_period(starts_at: datetime, ends_at: datetime, user_id: str, substitute: str | None) -> None:
    """An absence ends after it starts, and nobody stands in for themselves."""
    if ends_at <= starts_at:
        raise DirectoryRefusal("/body/ends_at", "an absence must end after it starts")
    if substitute == user_id:
        raise DirectoryRefusal("/body/substitute_user_id", "a user cannot stand in for themselves")
