"""CSV import benchmark: a generated 100,000-row file of companies into an entity type, through HTTP.

    uv run python bench/bench_csv_import.py                 # both figures
    uv run python bench/bench_csv_import.py --only isolated # or --only full-stack

Isolated: a fresh database gets the entities migrations; the in-process app (no Kafka workers: the
relay would only compete for the same two cores) gets an entity type with string, phone, e-mail,
list and integer fields. The file is uploaded, dry-run and imported as a job; each phase is timed
from the request to the answer (the import: to the job's completion). Every 1,000th row is bad.

Full stack: the five services run as OS processes, as `make run` starts them (`system/stack.py`);
the same file is uploaded through the public API in one request (no body limit raised: the upload
route streams to disk) and imported, and the clock runs until the last imported item is on the
board (placed by the pipelines service: its items table has the item on a stage).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import structlog
from _infra import RESULTS, drop_database, endpoints, new_database, report
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from entities.config import Settings
from entities.entrypoints.http import create
from entities.migrations import MIGRATIONS_PATH

sys.path.insert(0, str(Path(__file__).resolve().parent / "system"))  # stack.py, api.py

from api import Api, new_client
from stack import running_stack

ROWS = int(os.environ.get("BENCH_CSV_ROWS", "100000"))
SECRET = "bench-secret-long-enough-for-hs256-tokens"
CITIES = ["Омск", "Новосибирск", "Казань", "Пермь", "Самара", "Тула", "Тверь"]
INDUSTRIES = ["ЖКХ", "Строительство", "Торговля"]
HEADER = "Название,ИНН,Город,Телефон,E-mail,Сфера деятельности,Кол-во домов"


def csv_text(rows: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    lines = [HEADER]
    for n in range(rows):
        inn = f"{rng.randint(10**9, 10**10 - 1)}" if n % 1000 != 999 else "12345"
        phone = f"+7 (9{rng.randint(10, 99)}) {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        lines.append(
            f"УК «Дом {n}»,{inn},{rng.choice(CITIES)},{phone},info{n}@example.ru,"
            f"{rng.choice(INDUSTRIES)},{rng.randint(1, 400)}"
        )
    return ("\n".join(lines) + "\n").encode()


TARGETS = {"import_rows_per_s": "≥ 5,000", "full_stack_visible_s": "≤ 60"}
MAPPING = {
    "Название": "title", "ИНН": "inn", "Город": "city", "Телефон": "phone", "E-mail": "email",
    "Сфера деятельности": "industry", "Кол-во домов": "buildings",
}  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["isolated", "full-stack"])
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger().setLevel(logging.WARNING)
    data = csv_text(ROWS)
    figures: dict[str, Any] = {}
    if args.only != "full-stack":
        figures |= await isolated(data)
    if args.only != "isolated":
        figures |= await full_stack(data)
    report("csv_import", figures, TARGETS)


async def isolated(data: bytes) -> dict[str, Any]:
    admin_dsn, kafka = endpoints()
    dsn = await new_database(admin_dsn, "bench_csv")
    try:
        await upgrade_in_thread(MIGRATIONS_PATH, dsn)
        settings = Settings(
            database_url=dsn,
            kafka_bootstrap_servers=kafka,
            environment="test",
            jwt_secret=SECRET,
            run_workers=False,
        )
        app = create(settings)
        token = mint_token(tenant_id="bench", user_id="admin", roles=("admin",), secret=SECRET)
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers, timeout=600
            ) as client,
        ):
            return await run(client, data)
    finally:
        await drop_database(admin_dsn, dsn)


async def full_stack(data: bytes) -> dict[str, Any]:
    """Upload to the last item on the board, with every service running; the import's own share too."""
    admin_dsn, kafka = endpoints()
    async with (
        running_stack(admin_dsn, kafka, RESULTS / "csv_import" / "logs", "WARNING") as stack,
        new_client() as http,
    ):
        api = Api(stack, f"csv-{uuid.uuid4().hex[:6]}", http)
        type_id = await entity_type_via(api)
        started = time.monotonic()
        uploaded = await http.post(
            stack.url("entities") + "/v1/imports/files",
            data=data,
            headers={**api.headers("admin-1", ("admin",)), "Content-Type": "text/csv"},
        )
        assert uploaded.status == 201, await uploaded.text()
        file = await uploaded.json()
        request = {"file_id": file["id"], "entity_type_id": type_id, "mapping": MAPPING,
                   "values": {"status": "Imported", "assignee_id": "manager-1"}}  # fmt: skip
        job = await api.ok("entities", "POST", "/v1/imports", request, headers={"Idempotency-Key": "bench-full"})
        while job["status"] == "running":
            await asyncio.sleep(0.2)
            job = await api.ok("entities", "GET", f"/v1/imports/{job['id']}")
        imported_s = time.monotonic() - started
        assert job["status"] == "completed", job
        board = await asyncpg.connect(stack.services["pipelines"].dsn)
        try:
            query = "SELECT count(*) FROM items WHERE tenant_id = $1 AND stage_id IS NOT NULL"
            while await board.fetchval(query, api.tenant) < job["imported"]:
                if time.monotonic() - started > 1800:
                    raise TimeoutError("the imported items did not all reach the board within 30 minutes")
                await asyncio.sleep(0.5)
        finally:
            await board.close()
        visible_s = time.monotonic() - started
    return {
        "full_stack_imported": job["imported"],
        "full_stack_import_rows_per_s": round(job["processed"] / imported_s, 1),
        "full_stack_import_seconds": round(imported_s, 1),
        "full_stack_visible_s": round(visible_s, 1),
    }


async def run(client: httpx.AsyncClient, data: bytes) -> dict[str, Any]:
    type_id = await entity_type(client)
    started = time.perf_counter()
    uploaded = (await client.post("/v1/imports/files", content=data, headers={"Content-Type": "text/csv"})).json()
    upload_s = time.perf_counter() - started
    request = {
        "file_id": uploaded["id"],
        "entity_type_id": type_id,
        "mapping": MAPPING,
        "values": {"status": "Imported", "assignee_id": "manager-1"},
    }
    started = time.perf_counter()
    dry = (await client.post("/v1/imports/dry-run", json=request)).json()
    dry_s = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    job = (await client.post("/v1/imports", json=request, headers={"Idempotency-Key": "bench-1"})).json()
    while job["status"] == "running":
        await asyncio.sleep(0.05)
        job = (await client.get(f"/v1/imports/{job['id']}")).json()
    import_s, import_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    assert job["status"] == "completed", job
    return {
        "rows": uploaded["rows"],
        "file_mb": round(len(data) / 1e6, 1),
        "upload_rows_per_s": round(uploaded["rows"] / upload_s, 1),
        "dry_run_rows_per_s": round(dry["rows"] / dry_s, 1),
        "import_rows_per_s": round(job["processed"] / import_s, 1),
        "import_seconds": round(import_s, 1),
        # The app's CPU per row (this process; PostgreSQL's share not counted): compares code
        # changes on a loaded machine, where the wall clock mostly measures the other work.
        "import_cpu_us_per_row": round(import_cpu_s / job["processed"] * 1e6, 1),
        "imported": job["imported"],
        "refused": job["refused"],
    }


async def entity_type(client: httpx.AsyncClient) -> str:
    created = (
        await client.post("/v1/entity-types", json={"code": "company", "name": "Company", "settings": {}})
    ).json()
    type_id: str = created["id"]
    for field in FIELDS:
        response = await client.post(f"/v1/entity-types/{type_id}/fields", json=field)
        assert response.status_code == 201, response.text
    return type_id


async def entity_type_via(api: Api) -> str:
    created = await api.ok("entities", "POST", "/v1/entity-types", {"code": "company", "name": "Company"})
    for field in FIELDS:
        await api.ok("entities", "POST", f"/v1/entity-types/{created['id']}/fields", field)
    type_id: str = created["id"]
    return type_id


FIELDS: list[dict[str, Any]] = [
    {"code": "inn", "label": "ИНН", "kind": "string", "validation": {"pattern": r"^(\d{10}|\d{12})$"}},
    {"code": "city", "label": "Город", "kind": "string"},
    {"code": "phone", "label": "Phone", "kind": "phone"},
    {"code": "email", "label": "E-mail", "kind": "email"},
    {"code": "industry", "label": "Industry", "kind": "list", "options": [{"label": i} for i in INDUSTRIES]},
    {"code": "buildings", "label": "Buildings", "kind": "integer"},
    {"code": "status", "label": "Processing status", "kind": "list", "options": [{"label": "Imported"}]},
]


if __name__ == "__main__":
    asyncio.run(main())
