"""PostgreSQL reads and writes of tunnels."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from conveyor_messaging.db import Connection


@dataclass(frozen=True, slots=True)
class Tunnel:
    tunnel_id: str
    entity_type_id: str
    from_pipeline_id: str
    from_stage_id: str
    to_pipeline_id: str
    to_stage_id: str
    action: str


def _tunnel(row: asyncpg.Record) -> Tunnel:
    return Tunnel(**{name: row[name] for name in Tunnel.__slots__})


async def tunnels_from(conn: Connection, tenant_id: str, stage_id: str) -> list[Tunnel]:
    rows = await conn.fetch(
        "SELECT * FROM tunnels WHERE tenant_id = $1 AND from_stage_id = $2 ORDER BY tunnel_id", tenant_id, stage_id
    )
    return [_tunnel(r) for r in rows]


async def tunnels_of_type(
    conn: Connection, tenant_id: str, entity_type_id: str, *, after: str | None, limit: int
) -> list[Tunnel]:
    """A page of the type's tunnels by id: at most ``limit`` after the id ``after``."""
    rows = await conn.fetch(
        "SELECT * FROM tunnels WHERE tenant_id = $1 AND entity_type_id = $2 AND ($3::text IS NULL OR tunnel_id > $3)"
        " ORDER BY tunnel_id LIMIT $4",
        tenant_id,
        entity_type_id,
        after,
        limit,
    )
    return [_tunnel(r) for r in rows]


async def all_tunnels(conn: Connection, tenant_id: str) -> list[Tunnel]:
    rows = await conn.fetch("SELECT * FROM tunnels WHERE tenant_id = $1 ORDER BY tunnel_id", tenant_id)
    return [_tunnel(r) for r in rows]


async def load_tunnel(conn: Connection, tenant_id: str, tunnel_id: str) -> Tunnel | None:
    row = await conn.fetchrow("SELECT * FROM tunnels WHERE tenant_id = $1 AND tunnel_id = $2", tenant_id, tunnel_id)
    return _tunnel(row) if row else None


async def insert_tunnel(conn: Connection, tenant_id: str, tunnel: Tunnel) -> None:
    await conn.execute(
        "INSERT INTO tunnels (tenant_id, tunnel_id, entity_type_id, from_pipeline_id, from_stage_id, to_pipeline_id,"
        " to_stage_id, action) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        tenant_id,
        tunnel.tunnel_id,
        tunnel.entity_type_id,
        tunnel.from_pipeline_id,
        tunnel.from_stage_id,
        tunnel.to_pipeline_id,
        tunnel.to_stage_id,
        tunnel.action,
    )


async def delete_tunnel(conn: Connection, tenant_id: str, tunnel_id: str) -> None:
    await conn.execute("DELETE FROM tunnels WHERE tenant_id = $1 AND tunnel_id = $2", tenant_id, tunnel_id)


async def delete_tunnels_touching(conn: Connection, tenant_id: str, stage_id: str) -> list[str]:
    rows = await conn.fetch(
        "DELETE FROM tunnels WHERE tenant_id = $1 AND (from_stage_id = $2 OR to_stage_id = $2) RETURNING tunnel_id",
        tenant_id,
        stage_id,
    )
    return [r[0] for r in rows]
