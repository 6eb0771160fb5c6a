"""PostgreSQL tables of uploaded files (their bytes in parts) and of import jobs with their progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from conveyor_messaging.db import Connection

from entities.domain.file_shape import FileShape


async def insert_file(
    conn: Connection, tenant_id: str, file_id: str, name: str, shape: FileShape, size: int, by: str, now: datetime
) -> None:
    """The file's row; its bytes follow as parts (``insert_part``)."""
    await conn.execute(
        "INSERT INTO import_files (tenant_id, file_id, file_name, format, encoding, delimiter, columns, rows,"
        " size_bytes, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        tenant_id,
        file_id,
        name,
        shape.format,
        shape.encoding,
        shape.delimiter,
        list(shape.columns),
        shape.rows,
        size,
        by,
        now,
    )


async def insert_part(conn: Connection, tenant_id: str, file_id: str, part: int, data: bytes) -> None:
    await conn.execute(
        "INSERT INTO import_file_parts (tenant_id, file_id, part, data) VALUES ($1, $2, $3, $4)",
        tenant_id,
        file_id,
        part,
        data,
    )


async def get_part(conn: Connection, tenant_id: str, file_id: str, part: int) -> bytes | None:
    data: bytes | None = await conn.fetchval(
        "SELECT data FROM import_file_parts WHERE tenant_id = $1 AND file_id = $2 AND part = $3",
        tenant_id,
        file_id,
        part,
    )
    return data


async def get_file(conn: Connection, tenant_id: str, file_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM import_files WHERE tenant_id = $1 AND file_id = $2", tenant_id, file_id)


async def insert_job(conn: Connection, tenant_id: str, job: dict[str, Any], now: datetime) -> bool:
    """False when the tenant already has a job with this idempotency key."""
    status = await conn.execute(
        "INSERT INTO import_jobs (tenant_id, job_id, idempotency_key, file_id, entity_type_id, mapping, defaults,"
        " status, total, started_by, roles, created_at, key_fields, on_match, options) VALUES ($1, $2, $3, $4, $5,"
        " $6, $7, 'running', $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
        tenant_id,
        job["job_id"],
        job["idempotency_key"],
        job["file_id"],
        job["entity_type_id"],
        job["mapping"],
        job["defaults"],
        job["total"],
        job["started_by"],
        job["roles"],
        now,
        job["key_fields"],
        job["on_match"],
        job["options"],
    )
    return bool(status.endswith(" 1"))


async def job_by_key(conn: Connection, tenant_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM import_jobs WHERE tenant_id = $1 AND idempotency_key = $2", tenant_id, key
    )


async def get_job(conn: Connection, tenant_id: str, job_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM import_jobs WHERE tenant_id = $1 AND job_id = $2" + (" FOR UPDATE" if lock else ""),
        tenant_id,
        job_id,
    )


async def claim_chunk(conn: Connection, tenant_id: str, job_id: str, chunk: int, rows: int) -> bool:
    """False when the chunk is done (or being done: the insert waits for that transaction first)."""
    status = await conn.execute(
        "INSERT INTO import_chunks (tenant_id, job_id, chunk, rows) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (tenant_id, job_id, chunk) DO NOTHING",
        tenant_id,
        job_id,
        chunk,
        rows,
    )
    return bool(status.endswith(" 1"))


async def done_chunks(conn: Connection, tenant_id: str, job_id: str) -> set[int]:
    rows = await conn.fetch("SELECT chunk FROM import_chunks WHERE tenant_id = $1 AND job_id = $2", tenant_id, job_id)
    return {row["chunk"] for row in rows}


async def record_progress(
    conn: Connection,
    tenant_id: str,
    job_id: str,
    *,
    processed: int,
    imported: int,
    updated: int,
    skipped: int,
    errors: list[dict[str, Any]],
    cap: int,
) -> None:
    """Add a chunk's counts and errors; the last statement of the chunk, so the job's row is locked
    only until the chunk commits."""
    await conn.execute(
        "UPDATE import_jobs SET processed = processed + $3, imported = imported + $4, updated = updated + $7,"
        " skipped = skipped + $8,"
        " errors = CASE WHEN jsonb_array_length(errors) < $6 THEN errors || $5::jsonb ELSE errors END"
        " WHERE tenant_id = $1 AND job_id = $2",
        tenant_id,
        job_id,
        processed,
        imported,
        errors,
        cap,
        updated,
        skipped,
    )


async def mark_started(conn: Connection, tenant_id: str, job_id: str, now: datetime) -> None:
    """When the job's runner began reading rows (the rate and ETA count from here)."""
    await conn.execute(
        "UPDATE import_jobs SET started_at = coalesce(started_at, $3) WHERE tenant_id = $1 AND job_id = $2",
        tenant_id,
        job_id,
        now,
    )


async def finish_job(
    conn: Connection, tenant_id: str, job_id: str, status: str, now: datetime, error: str | None = None
) -> None:
    await conn.execute(
        "UPDATE import_jobs SET status = $3, finished_at = $4, error = $5 WHERE tenant_id = $1 AND job_id = $2",
        tenant_id,
        job_id,
        status,
        now,
        error,
    )


async def running_jobs(conn: Connection) -> list[asyncpg.Record]:
    """Jobs of every tenant that have not finished (to resume them after a restart)."""
    return await conn.fetch("SELECT tenant_id, job_id FROM import_jobs WHERE status = 'running' ORDER BY created_at")
