"""/v1/preferences (each user's channels and language) and /v1/settings (the tenant's switches, admins only)."""

from __future__ import annotations

from typing import Any

from conveyor_kit.openapi import problem_responses
from fastapi import APIRouter
from pydantic import BaseModel, Field

from notifications.adapters import people
from notifications.domain.preferences import DEFAULTS, Channel
from notifications.domain.templates import LANGUAGES
from notifications.entrypoints.calendar_models import TimeZoneName
from notifications.entrypoints.deps import CtxDep
from notifications.entrypoints.settings_models import NotificationPreferences, NotificationTenantSettings

router = APIRouter(prefix="/v1", tags=["preferences"], responses=problem_responses(403))


class PreferencesUpdate(BaseModel):
    language: str = Field("en", pattern="^(" + "|".join(LANGUAGES) + ")$")
    channels: dict[str, list[Channel]] = Field(
        default_factory=dict,
        description='per kind of notification, e.g. {"reminder": ["in_app", "email"], "*": ["in_app"]}',
    )
    time_zone: TimeZoneName | None = Field(
        default=None, description="the zone the caller's calendar entries are made in unless they name one"
    )


class TenantSettingsUpdate(BaseModel):
    stage_change_notifications: bool


@router.get("/preferences", response_model=NotificationPreferences)
async def get_preferences(ctx: CtxDep) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        prefs = await people.preferences(conn, ctx.tenant_id, ctx.principal.user_id)
    return {**prefs, "defaults": DEFAULTS}


@router.put("/preferences", response_model=NotificationPreferences)
async def put_preferences(body: PreferencesUpdate, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        await people.save_preferences(
            conn, ctx.tenant_id, ctx.principal.user_id, body.language, body.channels, body.time_zone
        )
    return {**body.model_dump(), "defaults": DEFAULTS}


@router.get("/settings", response_model=NotificationTenantSettings)
async def get_settings(ctx: CtxDep) -> dict[str, Any]:
    """The tenant's settings, with the secret that signs webhook calls robots make."""
    ctx.require_admin()
    async with ctx.pool.acquire() as conn:
        return await people.tenant_settings(conn, ctx.tenant_id)


@router.put("/settings", response_model=NotificationTenantSettings)
async def put_settings(body: TenantSettingsUpdate, ctx: CtxDep) -> dict[str, Any]:
    """Switch stage-change notifications to items' assignees and observers on or off."""
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await people.set_stage_change_notifications(conn, ctx.tenant_id, body.stage_change_notifications)
        return await people.tenant_settings(conn, ctx.tenant_id)
