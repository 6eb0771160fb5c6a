"""`/v1/directory`: users, departments, absences and role grants of the caller's tenant.

Everyone of the tenant reads users, departments and absences; only admins change anything or read
a role's grants. Another tenant's ids answer 404.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, cut, instant_key, text_key
from conveyor_kit.problems import Problem, conflict, not_found
from fastapi import APIRouter, status

from entities.adapters import directory_reads as reads
from entities.adapters.directory_store import DirectoryWriter
from entities.domain.directory import DirectoryConflict, DirectoryNotFound, DirectoryRefusal, UserProfile
from entities.entrypoints import directory_schemas as s
from entities.entrypoints.deps import Ctx, CtxDep
from entities.handlers import directory_absences, directory_departments, directory_roles, directory_users


@asynccontextmanager
async def writing(ctx: Ctx) -> AsyncIterator[DirectoryWriter]:
    """One transaction for the change: state, events and the service's own copy commit together."""
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            yield DirectoryWriter(conn=conn, store=ctx.store, tenant_id=ctx.tenant_id, actor=ctx.actor, now=ctx.now())
    except DirectoryRefusal as refusal:
        raise Problem(
            422,
            "Invalid request",
            refusal.message,
            slug="validation-error",
            errors=[{"field": refusal.field, "message": refusal.message}],
        ) from refusal
    except DirectoryConflict as clash:
        raise conflict(clash.message) from clash
    except DirectoryNotFound as missing:
        raise not_found(str(missing)) from missing


def directory_router() -> APIRouter:
    router = APIRouter(prefix="/v1/directory", tags=["directory"], responses=problem_responses(403, 404, 409))

    # ------------------------------------------------------------ users

    @router.get("/users", response_model=Page[s.DirectoryUser])
    async def list_users(
        ctx: CtxDep,
        department_id: str | None = None,
        role: str | None = None,
        include_inactive: bool = False,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """The tenant's users by name, active ones unless asked: `{"items": [...], "next_cursor": ...}`."""
        async with ctx.pool.acquire() as conn:
            found = await reads.users(
                conn,
                ctx.tenant_id,
                department_id=department_id,
                role=role,
                include_inactive=include_inactive,
                after=text_key(cursor),
                limit=limit + 1,
            )
        shown, after = cut(found, limit, lambda user: [user.name, user.user_id])
        return {"items": [_user(user) for user in shown], "next_cursor": after}

    @router.get("/users/{user_id}")
    async def get_user(ctx: CtxDep, user_id: str) -> s.DirectoryUser:
        async with ctx.pool.acquire() as conn:
            user = await reads.user(conn, ctx.tenant_id, user_id)
        if user is None:
            raise not_found(f"no user {user_id!r}")
        return _user(user)

    @router.post("/users", status_code=status.HTTP_201_CREATED)
    async def register_user(ctx: CtxDep, body: s.NewUser) -> s.DirectoryUser:
        ctx.require_admin()
        fields = body.model_dump()
        async with writing(ctx) as writer:
            user = await directory_users.register_user(writer, UserProfile(user_id=fields.pop("id"), **fields))
        return _user(user)

    @router.patch("/users/{user_id}")
    async def change_user(ctx: CtxDep, user_id: str, body: s.UserPatch) -> s.DirectoryUser:
        ctx.require_admin()
        async with writing(ctx) as writer:
            user = await directory_users.change_user(writer, user_id, _sent(body))
        return _user(user)

    @router.post("/users/{user_id}/deactivate")
    async def deactivate_user(ctx: CtxDep, user_id: str) -> s.DirectoryUser:
        ctx.require_admin()
        async with writing(ctx) as writer:
            user = await directory_users.deactivate_user(writer, user_id)
        return _user(user)

    # ------------------------------------------------------------ departments

    @router.get("/departments", response_model=Page[s.DirectoryDepartment])
    async def list_departments(ctx: CtxDep, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
        """The tenant's departments by name, each naming its `parent_id`: `{"items": [...], "next_cursor": ...}`
        (`GET /v1/directory/department-tree` gives them all as a tree)."""
        async with ctx.pool.acquire() as conn:
            rows = await reads.department_page(conn, ctx.tenant_id, after=text_key(cursor), limit=limit + 1)
        shown, after = cut(rows, limit, lambda row: [row["name"], row["department_id"]])
        return {"items": [_department(row) for row in shown], "next_cursor": after}

    @router.get("/department-tree")
    async def department_tree(ctx: CtxDep) -> s.DirectoryDepartmentTree:
        """The tenant's departments as a tree, read whole: top departments, each with its sub-departments."""
        async with ctx.pool.acquire() as conn:
            rows = await reads.departments(conn, ctx.tenant_id)
        return s.DirectoryDepartmentTree(departments=_tree(rows))

    @router.post("/departments", status_code=status.HTTP_201_CREATED)
    async def create_department(ctx: CtxDep, body: s.NewDepartment) -> s.DirectoryDepartment:
        ctx.require_admin()
        async with writing(ctx) as writer:
            created = await directory_departments.create_department(
                writer,
                department_id=body.id or uuid.uuid4().hex,
                name=body.name,
                parent_id=body.parent_id,
                head_user_id=body.head_user_id,
            )
        return _department(created)

    @router.patch("/departments/{department_id}")
    async def change_department(ctx: CtxDep, department_id: str, body: s.DepartmentPatch) -> s.DirectoryDepartment:
        ctx.require_admin()
        async with writing(ctx) as writer:
            changed = await directory_departments.change_department(writer, department_id, _sent(body))
        return _department(changed)

    @router.delete("/departments/{department_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def remove_department(ctx: CtxDep, department_id: str) -> None:
        ctx.require_admin()
        async with writing(ctx) as writer:
            await directory_departments.remove_department(writer, department_id)

    # ------------------------------------------------------------ absences

    @router.get("/absences", response_model=Page[s.DirectoryAbsence])
    async def list_absences(
        ctx: CtxDep, user_id: str | None = None, limit: Limit = 100, cursor: Cursor = None
    ) -> dict[str, Any]:
        """Absences by start, cancelled ones included: `{"items": [...], "next_cursor": ...}`."""
        async with ctx.pool.acquire() as conn:
            rows = await reads.absences(
                conn, ctx.tenant_id, user_id=user_id, after=instant_key(cursor), limit=limit + 1
            )
        shown, after = cut(rows, limit, lambda row: [row["starts_at"].isoformat(), row["absence_id"]])
        return {"items": [_absence(row) for row in shown], "next_cursor": after}

    @router.post("/absences", status_code=status.HTTP_201_CREATED)
    async def record_absence(ctx: CtxDep, body: s.NewAbsence) -> s.DirectoryAbsence:
        ctx.require_admin()
        async with writing(ctx) as writer:
            recorded = await directory_absences.record_absence(writer, **body.model_dump())
        return _absence(recorded)

    @router.post("/absences/{absence_id}/cancel")
    async def cancel_absence(ctx: CtxDep, absence_id: str) -> s.DirectoryAbsence:
        ctx.require_admin()
        async with writing(ctx) as writer:
            cancelled = await directory_absences.cancel_absence(writer, absence_id)
        return _absence(cancelled)

    # ------------------------------------------------------------ role grants

    @router.get("/roles/{role}/grants")
    async def role_grants(ctx: CtxDep, role: str) -> s.DirectoryRoleGrants:
        ctx.require_admin()
        async with ctx.pool.acquire() as conn:
            lines = await reads.role_grant_lines(conn, ctx.tenant_id, role)
        return s.DirectoryRoleGrants.model_validate({"grants": lines})

    @router.put("/roles/{role}/grants")
    async def set_role_grants(ctx: CtxDep, role: str, body: s.DirectoryRoleGrants) -> s.DirectoryRoleGrants:
        ctx.require_admin()
        async with writing(ctx) as writer:
            lines = await directory_roles.set_role_grants(writer, role, [line.model_dump() for line in body.grants])
        return s.DirectoryRoleGrants.model_validate({"grants": lines})

    return router


_NULLABLE = frozenset({"parent_id", "head_user_id"})


def _sent(body: s.UserPatch | s.DepartmentPatch) -> dict[str, Any]:
    """The fields the client sent; an explicit null counts only where null means something."""
    sent = body.model_dump(include=body.model_fields_set)
    return {name: value for name, value in sent.items() if value is not None or name in _NULLABLE}


def _user(user: UserProfile) -> s.DirectoryUser:
    fields = asdict(user)
    return s.DirectoryUser(id=fields.pop("user_id"), **fields)


def _department(row: dict[str, Any]) -> s.DirectoryDepartment:
    fields = dict(row)
    return s.DirectoryDepartment(id=fields.pop("department_id"), **fields)


def _absence(row: dict[str, Any]) -> s.DirectoryAbsence:
    fields = dict(row)
    return s.DirectoryAbsence(id=fields.pop("absence_id"), **fields)


def _tree(rows: list[dict[str, Any]]) -> list[s.DirectoryDepartmentNode]:
    nodes = {row["department_id"]: s.DirectoryDepartmentNode(**_department(row).model_dump()) for row in rows}
    roots: list[s.DirectoryDepartmentNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots
