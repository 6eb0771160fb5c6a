"""Create, change and remove the departments of a tenant's company structure."""

from __future__ import annotations

from typing import Any

from conveyor_contracts import directory as events

from entities.adapters import directory_reads as reads
from entities.adapters.directory_store import DirectoryWriter, lock_directory
from entities.domain.directory import DirectoryConflict, DirectoryNotFound, DirectoryRefusal, check_no_cycle

_CHANGEABLE = ("name", "parent_id", "head_user_id")


async def create_department(
    writer: DirectoryWriter, *, department_id: str, name: str, parent_id: str | None, head_user_id: str | None
) -> dict[str, Any]:
    await lock_directory(writer.conn, writer.tenant_id)
    existing = await _departments(writer)
    if department_id in existing:
        raise DirectoryConflict(f"department {department_id!r} already exists")
    if parent_id is not None and parent_id not in existing:
        raise DirectoryRefusal("/body/parent_id", f"unknown department {parent_id!r}")
    await _check_head(writer, head_user_id)
    await writer.record(
        "department",
        department_id,
        [
            events.DepartmentCreated(
                department_id=department_id, name=name, parent_id=parent_id, head_user_id=head_user_id
            )
        ],
    )
    return {"department_id": department_id, "name": name, "parent_id": parent_id, "head_user_id": head_user_id}


async def change_department(writer: DirectoryWriter, department_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Rename, move (``parent_id``, None for the top) or change the head; only the fields sent."""
    await lock_directory(writer.conn, writer.tenant_id)
    existing = await _departments(writer)
    current = existing.get(department_id)
    if current is None:
        raise DirectoryNotFound(f"no department {department_id!r}")
    wanted = {**current, **{name: value for name, value in changes.items() if name in _CHANGEABLE}}
    changed = [name for name in _CHANGEABLE if wanted[name] != current[name]]
    if not changed:
        return current
    if "parent_id" in changed and wanted["parent_id"] is not None:
        if wanted["parent_id"] not in existing:
            raise DirectoryRefusal("/body/parent_id", f"unknown department {wanted['parent_id']!r}")
        check_no_cycle(department_id, wanted["parent_id"], {k: v["parent_id"] for k, v in existing.items()})
    if "head_user_id" in changed:
        await _check_head(writer, wanted["head_user_id"])
    await writer.record(
        "department",
        department_id,
        [
            events.DepartmentChanged(
                department_id=department_id,
                name=wanted["name"],
                parent_id=wanted["parent_id"],
                head_user_id=wanted["head_user_id"],
                changed=changed,
            )
        ],
    )
    return wanted


async def remove_department(writer: DirectoryWriter, department_id: str) -> None:
    """Only an empty department goes: no sub-departments and no active users."""
    await lock_directory(writer.conn, writer.tenant_id)
    if department_id not in await _departments(writer):
        raise DirectoryNotFound(f"no department {department_id!r}")
    children, users = await reads.department_occupancy(writer.conn, writer.tenant_id, department_id)
    if children or users:
        raise DirectoryConflict(
            f"department {department_id!r} still has {children} sub-department(s) and {users} active user(s)"
        )
    await writer.record("department", department_id, [events.DepartmentRemoved(department_id=department_id)])


async def _departments(writer: DirectoryWriter) -> dict[str, dict[str, Any]]:
    return {d["department_id"]: d for d in await reads.departments(writer.conn, writer.tenant_id)}


async def _check_head(writer: DirectoryWriter, head_user_id: str | None) -> None:
    if head_user_id is None:
        return
    if not await reads.active_user_ids(writer.conn, writer.tenant_id, [head_user_id]):
        raise DirectoryRefusal("/body/head_user_id", f"{head_user_id!r} is not an active user of the tenant")
