"""What the service knows about users and tenants: preferences, e-mail addresses, tenant settings."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from conveyor_messaging.db import Connection


async def preferences(conn: Connection, tenant_id: str, user_id: str) -> dict[str, Any]:
    """The user's language, channels and time zone (null until chosen)."""
    row = await conn.fetchrow(
        "SELECT language, channels, time_zone FROM preferences WHERE tenant_id = $1 AND user_id = $2",
        tenant_id,
        user_id,
    )
    if row is None:
        return {"language": "en", "channels": {}, "time_zone": None}
    return {"language": row["language"], "channels": json.loads(row["channels"]), "time_zone": row["time_zone"]}


async def save_preferences(
    conn: Connection,
    tenant_id: str,
    user_id: str,
    language: str,
    channels: dict[str, Any],
    time_zone: str | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO preferences (tenant_id, user_id, language, channels, time_zone)
           VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (tenant_id, user_id) DO UPDATE
               SET language = EXCLUDED.language, channels = EXCLUDED.channels, time_zone = EXCLUDED.time_zone""",
        tenant_id,
        user_id,
        language,
        json.dumps(channels),
        time_zone,
    )


async def time_zone_of(conn: Connection, tenant_id: str, user_id: str | None) -> str | None:
    """The zone the user chose, if any (entries booked for nobody have none)."""
    if user_id is None:
        return None
    value = await conn.fetchval(
        "SELECT time_zone FROM preferences WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
    )
    return str(value) if value else None


async def names_and_addresses(conn: Connection, tenant_id: str, user_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each known user's display name and e-mail address from the directory copy, by user id."""
    rows = await conn.fetch(
        "SELECT user_id, name, email FROM directory_users WHERE tenant_id = $1 AND user_id = ANY($2::text[])",
        tenant_id,
        list(user_ids),
    )
    return {row["user_id"]: (row["name"], row["email"]) for row in rows}


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
