"""Register, change and deactivate the users of a tenant."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conveyor_contracts import directory as events

from entities.adapters import directory_reads as reads
from entities.adapters.directory_store import DirectoryWriter, lock_directory
from entities.domain.directory import (
    DirectoryConflict,
    DirectoryNotFound,
    UserProfile,
    changed_fields,
    check_departments_known,
)

_CHANGEABLE = ("name", "email", "department_ids", "roles", "active")


async def register_user(writer: DirectoryWriter, profile: UserProfile) -> UserProfile:
    await lock_directory(writer.conn, writer.tenant_id)
    if await reads.user(writer.conn, writer.tenant_id, profile.user_id) is not None:
        raise DirectoryConflict(f"user {profile.user_id!r} is already registered")
    await _check_departments(writer, profile.department_ids)
    await writer.record(
        "user",
        profile.user_id,
        [
            events.UserRegistered(
                user_id=profile.user_id,
                name=profile.name,
                email=profile.email,
                department_ids=profile.department_ids,
                roles=profile.roles,
                active=profile.active,
            )
        ],
    )
    return profile


async def change_user(writer: DirectoryWriter, user_id: str, changes: dict[str, Any]) -> UserProfile:
    """Apply the fields sent; nothing is recorded when nothing differs."""
    await lock_directory(writer.conn, writer.tenant_id)
    current = await _existing(writer, user_id)
    wanted = replace(current, **{name: value for name, value in changes.items() if name in _CHANGEABLE})
    changed = changed_fields(current, wanted, _CHANGEABLE)
    if not changed:
        return current
    if "department_ids" in changed:
        await _check_departments(writer, wanted.department_ids)
    await writer.record(
        "user",
        user_id,
        [
            events.UserChanged(
                user_id=user_id,
                name=wanted.name,
                email=wanted.email,
                department_ids=wanted.department_ids,
                roles=wanted.roles,
                active=wanted.active,
                changed=changed,
            )
        ],
    )
    return wanted


async def deactivate_user(writer: DirectoryWriter, user_id: str) -> UserProfile:
    await lock_directory(writer.conn, writer.tenant_id)
    current = await _existing(writer, user_id)
    if not current.active:
        return current
    await writer.record("user", user_id, [events.UserDeactivated(user_id=user_id)])
    return replace(current, active=False)


async def _existing(writer: DirectoryWriter, user_id: str) -> UserProfile:
    current = await reads.user(writer.conn, writer.tenant_id, user_id)
    if current is None:
        raise DirectoryNotFound(f"no user {user_id!r}")
    return current


async def _check_departments(writer: DirectoryWriter, department_ids: list[str]) -> None:
    known = {d["department_id"] for d in await reads.departments(writer.conn, writer.tenant_id)}
    check_departments_known(department_ids, known, pointer="/body/department_ids")
