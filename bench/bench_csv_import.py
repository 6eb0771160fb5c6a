"""CSV import benchmark: a generated 100,000-row file of companies into an entity type, through HTTP.

A fresh database gets the entities migrations; the in-process app (no Kafka workers: the relay
would only compete for the same two cores) gets an entity type with string, phone, e-mail, list
and integer fields. The file is uploaded, dry-run and imported as a job; each phase is timed
from the request to the answer (the import: to the job's completion). Every 1,000th row is bad.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

import httpx
from _infra import drop_database, endpoints, new_database, report
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from entities.config import Settings
from entities.entrypoints.http import create
from entities.migrations import MIGRATIONS_PATH

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


async def main() -> None:
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
            max_body_bytes=256 * 1024 * 1024,
        )
        app = create(settings)
        token = mint_token(tenant_id="bench", user_id="admin", roles=("admin",), secret=SECRET)
        headers = {"Authorization": f"Bearer {token}"}
        data = csv_text(ROWS)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers, timeout=600
            ) as client,
        ):
            figures = await run(client, data)
        report("csv_import", figures, {"import_rows_per_s": "≥ 5,000"})
    finally:
        await drop_database(admin_dsn, dsn)


async def run(client: httpx.AsyncClient, data: bytes) -> dict[str, Any]:
    type_id = await entity_type(client)
    started = time.perf_counter()
    uploaded = (await client.post("/v1/imports/files", content=data, headers={"Content-Type": "text/csv"})).json()
    upload_s = time.perf_counter() - started
    request = {
        "file_id": uploaded["id"],
        "entity_type_id": type_id,
        "mapping": {
            "Название": "title",
            "ИНН": "inn",
            "Город": "city",
            "Телефон": "phone",
            "E-mail": "email",
            "Сфера деятельности": "industry",
            "Кол-во домов": "buildings",
        },
        "values": {"status": "Imported", "assignee_id": "manager-1"},
    }
    started = time.perf_counter()
    dry = (await client.post("/v1/imports/dry-run", json=request)).json()
    dry_s = time.perf_counter() - started
    started = time.perf_counter()
    job = (await client.post("/v1/imports", json=request, headers={"Idempotency-Key": "bench-1"})).json()
    while job["status"] == "running":
        await asyncio.sleep(0.05)
        job = (await client.get(f"/v1/imports/{job['id']}")).json()
    import_s = time.perf_counter() - started
    assert job["status"] == "completed", job
    return {
        "rows": uploaded["rows"],
        "file_mb": round(len(data) / 1e6, 1),
        "upload_rows_per_s": round(uploaded["rows"] / upload_s, 1),
        "dry_run_rows_per_s": round(dry["rows"] / dry_s, 1),
        "import_rows_per_s": round(job["processed"] / import_s, 1),
        "import_seconds": round(import_s, 1),
        "imported": job["imported"],
        "refused": job["refused"],
    }


async def entity_type(client: httpx.AsyncClient) -> str:
    created = (
        await client.post("/v1/entity-types", json={"code": "company", "name": "Company", "settings": {}})
    ).json()
    type_id: str = created["id"]
    fields = [
        {"code": "inn", "label": "ИНН", "kind": "string", "validation": {"pattern": r"^(\d{10}|\d{12})$"}},
        {"code": "city", "label": "Город", "kind": "string"},
        {"code": "phone", "label": "Phone", "kind": "phone"},
        {"code": "email", "label": "E-mail", "kind": "email"},
        {"code": "industry", "label": "Industry", "kind": "list", "options": [{"label": i} for i in INDUSTRIES]},
        {"code": "buildings", "label": "Buildings", "kind": "integer"},
        {"code": "status", "label": "Processing status", "kind": "list", "options": [{"label": "Imported"}]},
    ]
    for field in fields:
        response = await client.post(f"/v1/entity-types/{type_id}/fields", json=field)
        assert response.status_code == 201, response.text
    return type_id


if __name__ == "__main__":
    asyncio.run(main())
