"""Imports of CSV and XLSX files: upload a file, dry-run it, start a job (once per idempotency key)
and run it in chunks.

A job imports its rows in chunks of ``CHUNK`` rows, one transaction each: the items (created, or
updated when the import matches rows by a unique key), the job's progress and its row errors commit
together, so a job resumed after a crash starts after the last committed chunk and no row becomes
two items. Item ids derive from the job and the row's line, which would turn a repeat into a
conflict rather than a duplicate.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from conveyor_contracts.entities_links import ImportJobFinished, ImportJobStarted
from conveyor_kit.clock import Clock
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent
from conveyor_messaging.lanes import bulk_lane

from entities.adapters import file_spool, import_store, unique_keys
from entities.domain import import_files
from entities.domain.errors import VersionMismatch
from entities.domain.import_rows import RowError
from entities.domain.unique_keys import key_name
from entities.handlers.import_checks import Prepared, prepare
from entities.handlers.import_chunk import import_chunk
from entities.handlers.relation_reader import Reader
from entities.handlers.unit import Unit

log = structlog.get_logger(__name__)

CHUNK = 1000
WORKERS = 3
MAX_REPORTED_ERRORS = 1000
ATTEMPTS = 3
MATCH_BATCH = 10_000


async def upload_file(
    pool: asyncpg.Pool, reader: Reader, *, name: str, path: Path, size: int, spool: Path, now: datetime
) -> dict[str, Any]:
    """Read the spooled file's shape (CSV or XLSX), keep its bytes in parts; nothing else changes.

    Reading a large file takes a while: it runs in a worker thread, before a connection is taken,
    so the event loop and the pool keep serving other requests.
    """
    shape = await asyncio.to_thread(import_files.inspect, path, name)
    file_id = f"file-{uuid.uuid4().hex}"
    async with pool.acquire() as conn, conn.transaction():
        await import_store.insert_file(conn, reader.tenant_id, file_id, name, shape, size, reader.user_id, now)
        await file_spool.store_parts(conn, reader.tenant_id, file_id, path)
    await file_spool.keep(path, spool, file_id)
    return {
        "file_id": file_id,
        "file_name": name,
        "format": shape.format,
        "encoding": shape.encoding,
        "delimiter": shape.delimiter,
        "columns": list(shape.columns),
        "rows": shape.rows,
        "size_bytes": size,
    }


async def dry_run(pool: asyncpg.Pool, reader: Reader, spool: Path, *, request: Mapping[str, Any]) -> dict[str, Any]:
    """Every error the import would meet, by line and column, how many rows match an existing item
    by the import's key, and the locale it would read numbers and dates in; nothing is written.
    The rows are checked in a worker thread, after the connection went back to the pool."""
    async with pool.acquire() as conn:
        prepared = await prepare(conn, reader, spool=spool, **request)
    report, keys = await asyncio.to_thread(_report, prepared)
    matched = 0
    if prepared.key:
        name = key_name(prepared.key)
        async with pool.acquire() as conn:
            for start in range(0, len(keys), MATCH_BATCH):
                batch = keys[start : start + MATCH_BATCH]
                held = await unique_keys.holders(conn, reader.tenant_id, prepared.schema.entity_type_id, name, batch)
                matched += sum(1 for value in batch if value in held)
    return {**report, "matched": matched, "options": prepared.options()}


def _report(prepared: Prepared) -> tuple[dict[str, Any], list[str]]:
    """The rows' errors, and the key values of the good rows (to count the matches)."""
    errors: list[RowError] = []
    keys: list[str] = []
    rows = 0
    for cells, line in prepared.rows():
        rows += 1
        found = prepared.check(cells, line)
        errors += found
        if prepared.key and not found:
            value = prepared.key_of(prepared.plan.values_of(cells, prepared.locale)[1])
            if value is not None:
                keys.append(value)
    bad_lines = {e.line for e in errors}
    report = {
        "rows": rows,
        "valid": rows - len(bad_lines),
        "invalid": len(bad_lines),
        "errors": [e.as_dict() for e in errors[:MAX_REPORTED_ERRORS]],
    }
    return report, keys


async def start_import(
    conn: Connection,
    store: EventStore,
    reader: Reader,
    spool: Path,
    *,
    key: str,
    request: Mapping[str, Any],
    now: datetime,
) -> tuple[str, bool]:
    """(job id, whether it is new): a key already used returns its job and starts nothing. The job
    keeps the locale it resolved, so a resumed run reads the rows as the first one did."""
    existing = await import_store.job_by_key(conn, reader.tenant_id, key)
    if existing is not None:
        return existing["job_id"], False
    prepared = await prepare(conn, reader, spool=spool, **request)
    job_id = f"import-{uuid.uuid4().hex}"
    job = {
        "job_id": job_id,
        "idempotency_key": key,
        "file_id": request["file_id"],
        "entity_type_id": request["entity_type_id"],
        "mapping": dict(request["mapping"]),
        "defaults": dict(request["values"]),
        "key_fields": list(prepared.key),
        "on_match": prepared.on_match,
        "options": prepared.options(),
        "total": prepared.file["rows"],
        "started_by": reader.user_id,
        "roles": sorted(reader.roles),
    }
    if not await import_store.insert_job(conn, reader.tenant_id, job, now):
        raced = await import_store.job_by_key(conn, reader.tenant_id, key)
        assert raced is not None
        return raced["job_id"], False
    event = ImportJobStarted(
        job_id=job_id,
        entity_type_id=job["entity_type_id"],
        file_name=prepared.file["file_name"],
        rows=job["total"],
        idempotency_key=key,
    )
    await _append(conn, store, reader, job_id, event, now)
    return job_id, True


async def run_import_job(
    pool: asyncpg.Pool, store: EventStore, clock: Clock, spool: Path, *, tenant_id: str, job_id: str
) -> None:
    """Import the job's chunks not yet done, ``WORKERS`` at a time, then record how it ended."""
    try:
        async with pool.acquire() as conn:
            job = await import_store.get_job(conn, tenant_id, job_id)
            if job is None or job["status"] != "running":
                return
            reader = Reader(tenant_id=tenant_id, user_id=job["started_by"], roles=frozenset(job["roles"]))
            prepared = await prepare(
                conn,
                reader,
                spool=spool,
                file_id=job["file_id"],
                entity_type_id=job["entity_type_id"],
                mapping=job["mapping"],
                values=job["defaults"],
                key_fields=job["key_fields"],
                on_match=job["on_match"],
                options=job["options"],
            )
            done = await import_store.done_chunks(conn, tenant_id, job_id)
            await import_store.mark_started(conn, tenant_id, job_id, clock.now())
        rows = prepared.rows()
        chunks = ((number, chunk) for number, chunk in enumerate(iter(lambda: list(islice(rows, CHUNK)), [])))

        async def worker() -> None:
            # Workers share the one iterator, so each chunk goes to exactly one of them; while one
            # waits for PostgreSQL another checks its rows.
            for number, chunk in chunks:
                if number not in done:
                    await _import_chunk(pool, store, clock, prepared, job_id, number, chunk)

        # The rows' items and everything they cause go by the bulk lane: an import's hundred thousand
        # events never queue in front of people's work (ADR 004).
        with bulk_lane():
            await asyncio.gather(*(worker() for _ in range(WORKERS)))
    except Exception as exc:
        log.exception("import_failed", job_id=job_id)
        await _finish(pool, store, clock, tenant_id, job_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    await _finish(pool, store, clock, tenant_id, job_id, "completed", None)


async def _import_chunk(
    pool: asyncpg.Pool,
    store: EventStore,
    clock: Clock,
    prepared: Prepared,
    job_id: str,
    number: int,
    chunk: list[tuple[list[str], int]],
) -> None:
    """One chunk in one transaction: claim it, import its rows, add to the job's counts.

    A chunk another runner holds or finished is skipped: the claim waits for that runner's
    transaction and then finds the chunk taken. A person changing a matched item meanwhile makes the
    chunk's update stale: the chunk is rolled back and read again, up to ``ATTEMPTS`` times.
    """
    tenant_id = prepared.reader.tenant_id
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with pool.acquire() as conn, conn.transaction():
                if not await import_store.claim_chunk(conn, tenant_id, job_id, number, len(chunk)):
                    return
                unit = Unit(
                    conn=conn,
                    store=store,
                    tenant_id=tenant_id,
                    actor=Actor.user(prepared.reader.user_id),
                    now=clock.now(),
                )
                outcome = await import_chunk(unit, prepared, job_id, chunk)
                await import_store.record_progress(
                    conn,
                    tenant_id,
                    job_id,
                    processed=len(chunk),
                    imported=outcome.imported,
                    updated=outcome.updated,
                    skipped=outcome.skipped,
                    errors=[e.as_dict() for e in outcome.errors][:MAX_REPORTED_ERRORS],
                    cap=MAX_REPORTED_ERRORS,
                )
            return
        except VersionMismatch:
            if attempt == ATTEMPTS:
                raise
            log.info("import_chunk_retried", job_id=job_id, chunk=number, attempt=attempt)


async def _finish(
    pool: asyncpg.Pool, store: EventStore, clock: Clock, tenant_id: str, job_id: str, status: str, error: str | None
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        job = await import_store.get_job(conn, tenant_id, job_id, lock=True)
        if job is None or job["status"] != "running":
            return
        now = clock.now()
        await import_store.finish_job(conn, tenant_id, job_id, status, now, error)
        refused = job["processed"] - job["imported"]
        event = ImportJobFinished(
            job_id=job_id,
            entity_type_id=job["entity_type_id"],
            status=status,
            imported=job["imported"],
            refused=refused,
            error=error,
        )
        reader = Reader(tenant_id=tenant_id, user_id=job["started_by"], roles=frozenset(job["roles"]))
        await _append(conn, store, reader, job_id, event, now)


async def _append(
    conn: Connection,
    store: EventStore,
    reader: Reader,
    job_id: str,
    event: ImportJobStarted | ImportJobFinished,
    now: datetime,
) -> None:
    await store.append(
        conn,
        stream_id=job_id,
        tenant_id=reader.tenant_id,
        aggregate_type="import_job",
        expected_version=ANY_VERSION,
        events=[NewEvent.of(event, occurred_at=now)],
        actor=Actor.user(reader.user_id),
    )
