"""What the service knows about users and tenants: preferences, e-mail addresses, tenant settings."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from conveyor_messaging.db import Connection


async def preferences(conn: Connection, tenant_id: str, user_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT language, channels FROM preferences WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
    )
    if row is None:
        return {"language": "en", "channels": {}}
    return {"language": row["language"], "channels": json.loads(row["channels"])}


async def save_preferences(
    conn: Connection, tenant_id: str, user_id: str, language: str, channels: dict[str, Any]
) -> None:
    await conn.execute(
        """INSERT INTO preferences (tenant_id, user_id, language, channels) VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET language = EXCLUDED.language, channels = EXCLUDED.channels""",
        tenant_id,
        user_id,
        language,
        json.dumps(channels),
    )


async def email_of(conn: Connection, tenant_id: str, user_id: str) -> str | None:
    """The user's address from the directory copy; inactive or unknown users get no e-mail."""
    value = await conn.fetchval(
        "SELECT email FROM directory_users WHERE tenant_id = $1 AND user_id = $2 AND active", tenant_id, user_id
    )
    return str(value) if value else None


async def tenant_settings(conn: Connection, tenant_id: str) -> dict[str, Any]:
    """The tenant's settings, created with a fresh webhook secret on first use."""
    await conn.execute(
        "INSERT INTO tenant_settings (tenant_id, webhook_secret) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        tenant_id,
        "whsec_" + secrets.token_urlsafe(32),
    )
    row = await conn.fetchrow("SELECT * FROM tenant_settings WHERE tenant_id = $1", tenant_id)
    assert row is not None  # inserted above when missing
    return dict(row)


async def telling_stage_changes(conn: Connection, tenant_ids: Sequence[str]) -> set[str]:
    """Which of these tenants turned stage-change notices on (``tenant_settings`` for many at once: the
    missing settings are created, each with a fresh webhook secret)."""
    await conn.execute(
        "INSERT INTO tenant_settings (tenant_id, webhook_secret)"
        " SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
        list(tenant_ids),
        ["whsec_" + secrets.token_urlsafe(32) for _ in tenant_ids],
    )
    rows = await conn.fetch(
        "SELECT tenant_id FROM tenant_settings WHERE tenant_id = ANY($1::text[]) AND stage_change_notifications",
        list(tenant_ids),
    )
    return {row["tenant_id"] for row in rows}


async def set_stage_change_notifications(conn: Connection, tenant_id: str, enabled: bool) -> None:
    await tenant_settings(conn, tenant_id)
    await conn.execute(
        "UPDATE tenant_settings SET stage_change_notifications = $2 WHERE tenant_id = $1", tenant_id, enabled
    )


async def first_time(conn: Connection, tenant_id: str, key: str, command_type: str, now: Any) -> bool:
    """Remember a command's idempotency key; False when the key was seen before."""
    inserted = await conn.fetchval(
        """INSERT INTO command_keys (tenant_id, key, command_type, received_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING true""",
        tenant_id,
        key,
        command_type,
        now,
    )
    return bool(inserted)
