"""Items export benchmark: the CSV and XLSX exports of one entity type's items, through HTTP.

A fresh database gets the entities migrations, one entity type with a list field, a money field and
a text field, and its items (written by SQL, as a bulk load does). The app is served by uvicorn in
this process and a streaming client reads each export, keeping none of it. Timed once without
tracing; then the peak of the Python heap during an export (tracemalloc, server and client) at a
tenth of the items and at all of them: a constant-memory export has about the same peak at both.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime

import asyncpg
import httpx
import uvicorn
from _infra import drop_database, endpoints, new_database, report
from conveyor_contracts.entities import FieldDefinition, Option
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from entities.config import Settings
from entities.entrypoints.http import create
from entities.migrations import MIGRATIONS_PATH
from openpyxl import load_workbook

ITEMS = int(os.environ.get("BENCH_EXPORT_ITEMS", "200000"))
TENANT, TYPE = "bench", "company"
SECRET = "bench-secret-long-enough-for-hs256-tokens"
STATUSES = [Option(id=f"st-{n}", label=f"Status number {n}") for n in range(8)]
FIELDS = [
    FieldDefinition(field_id="f-status", code="status", label="Status", kind="list", options=STATUSES),
    FieldDefinition(field_id="f-total", code="total", label="Total", kind="money"),
    FieldDefinition(field_id="f-note", code="note", label="Note", kind="text"),
]


async def load(dsn: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO entity_types (tenant_id, entity_type_id, code, name, settings, version, created_at,"
            " updated_at) VALUES ($1, $2, 'company', 'Company', '{}', 1, $3, $3)",
            TENANT,
            TYPE,
            now,
        )
        for position, field in enumerate(FIELDS):
            await conn.execute(
                "INSERT INTO entity_fields VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                TENANT,
                TYPE,
                field.field_id,
                field.code,
                position,
                field.model_dump_json(),
            )
        await conn.execute(
            "INSERT INTO items (item_id, tenant_id, entity_type_id, version, title, assignee_id, amount, currency,"
            " fields, created_by, created_at, updated_by, updated_at)"
            " SELECT 'item-' || n, $1, $2, 1, 'Company ' || n, 'user-' || (n % 50), n, 'RUB',"
            "  jsonb_build_object('status', 'st-' || (n % 8),"
            "   'total', jsonb_build_object('amount', n || '.50', 'currency', 'EUR'),"
            "   'note', repeat('a note of some length ', 3)),"
            "  'boss', $3::timestamptz - n * interval '1 second', 'boss', $3"
            " FROM generate_series(1, $4) AS n",
            TENANT,
            TYPE,
            now,
            count,
        )
        await conn.execute("VACUUM ANALYZE items")
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def export(base: str, path: str, params: dict[str, str], keep: io.BufferedWriter | None = None) -> int:
    """Read one export as a stream; its size in bytes (written to `keep` when given)."""
    token = mint_token(tenant_id=TENANT, user_id="boss", roles=("admin",), secret=SECRET)
    size = 0
    async with (
        httpx.AsyncClient(base_url=base, timeout=600) as client,
        client.stream("GET", path, params=params, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if keep is not None:
                keep.write(chunk)
    return size


async def traced_peak(base: str, path: str, params: dict[str, str]) -> float:
    """The Python heap's peak (MiB) above what it held before, during one export."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        await export(base, path, params)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round((peak - before) / 2**20, 1)


async def measure(dsn: str, kafka: str) -> dict[str, float]:
    settings = Settings(
        database_url=dsn, kafka_bootstrap_servers=kafka, environment="test", jwt_secret=SECRET, run_workers=False
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create(settings), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    base, figures = f"http://127.0.0.1:{port}", {"items": float(ITEMS)}
    everything = {"entity_type_id": TYPE, "sort": "title"}
    a_tenth = {**everything, "filter": "assignee_id:in:" + ",".join(f"user-{n}" for n in range(5))}
    try:
        for kind in ("csv", "xlsx"):
            path = f"/v1/exports/items.{kind}"
            with tempfile.TemporaryFile() as kept:
                started = time.perf_counter()
                size = await export(base, path, everything, keep=kept)  # type: ignore[arg-type]
                elapsed = time.perf_counter() - started
                if kind == "xlsx":
                    kept.seek(0)
                    rows = sum(1 for _ in load_workbook(kept, read_only=True)["Items"].iter_rows(values_only=True))
                    assert rows == ITEMS + 1, rows
            figures[f"{kind}_items_per_s"] = round(ITEMS / elapsed)
            figures[f"{kind}_seconds"] = round(elapsed, 1)
            figures[f"{kind}_mib"] = round(size / 2**20, 1)
            figures[f"{kind}_heap_peak_tenth_mib"] = await traced_peak(base, path, a_tenth)
            figures[f"{kind}_heap_peak_all_mib"] = await traced_peak(base, path, everything)
    finally:
        server.should_exit = True
        await serving
    return figures


async def main() -> None:
    admin_dsn, kafka = endpoints()
    dsn = await new_database(admin_dsn, "bench_export")
    try:
        await upgrade_in_thread(MIGRATIONS_PATH, dsn)
        await load(dsn, ITEMS)
        figures = await measure(dsn, kafka)
        report(
            "items_export",
            figures,
            {"csv_heap_peak_all_mib": "≈ the tenth's", "xlsx_heap_peak_all_mib": "≈ the tenth's"},
        )
    finally:
        await drop_database(admin_dsn, dsn)


if __name__ == "__main__":
    asyncio.run(main())
