"""Big imports through the public API: a 100,000-row Windows-1251 CSV with decimal commas and
day-first dates, and a 100,000-row XLSX workbook, both generated here; a re-run of the CSV that
changes nothing, and a file that updates 1,000 of the imported companies by their INN."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROWS = 100_000
FIELDS = [
    {"code": "inn", "label": "ИНН", "kind": "string"},
    {"code": "city", "label": "Город", "kind": "string"},
    {"code": "revenue", "label": "Выручка", "kind": "decimal"},
    {"code": "since", "label": "Работает с", "kind": "date"},
]
MAPPING = {"Название": "title", "ИНН": "inn", "Город": "city", "Выручка": "revenue", "Работает с": "since"}
CITIES = ["Омск", "Тула", "Пермь", "Казань"]
FIRST_DAY = date(2020, 1, 1)


def inn(n: int) -> str:
    return f"{5_500_000_000 + n}"


def revenue(n: int, bump: int = 0) -> str:
    """As a Russian Excel export writes it: a space between thousands and a decimal comma."""
    whole = 1000 + n + bump
    return f"{whole // 1000} {whole % 1000:03d},{n % 100:02d}"


def normal_revenue(n: int, bump: int = 0) -> str:
    return f"{1000 + n + bump}.{n % 100:02d}"


def russian_csv(path: Path, rows: range, bump: int = 0) -> Path:
    with path.open("w", encoding="cp1251", newline="") as out:
        out.write(";".join(MAPPING) + "\r\n")
        for n in rows:
            day = (FIRST_DAY + timedelta(days=n % 2000)).strftime("%d.%m.%Y")
            out.write(f"УК «Дом {n}»;{inn(n)};{CITIES[n % 4]};{revenue(n, bump)};{day}\r\n")
    return path


def workbook(path: Path, rows: range) -> Path:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Компании")
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, list(MAPPING))
    for r, n in enumerate(rows, start=1):
        sheet.write_row(r, 0, [f"УК «Дом {n}»", inn(n), CITIES[n % 4], (1000 + n) + (n % 100) / 100])
        sheet.write_datetime(r, 4, FIRST_DAY + timedelta(days=n % 2000), day)
    book.close()
    return path


async def upload(admin: Any, path: Path) -> dict[str, Any]:
    with path.open("rb") as source:
        response = await admin.call("POST", "/v1/imports/files", files={"file": (path.name, source)}, timeout=300)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def imported(admin: Any, request: dict[str, Any]) -> dict[str, Any]:
    started = await admin.call("POST", "/v1/imports", request, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert started.status_code == 202, started.text
    for _ in range(3000):
        job: dict[str, Any] = await admin.ok("GET", f"/v1/imports/{started.json()['id']}")
        if job["status"] != "running":
            assert job["status"] == "completed", job
            return job
        await asyncio.sleep(0.2)
    raise AssertionError("the import did not finish within 10 minutes")


async def company(admin: Any, type_id: str, n: int) -> dict[str, Any]:
    page = await admin.ok("GET", "/v1/items", params={"entity_type_id": type_id, "filter": f"fields.inn:eq:{inn(n)}"})
    assert len(page["items"]) == 1, page
    found: dict[str, Any] = page["items"][0]
    return found


async def company_type(admin: Any) -> str:
    created = await admin.ok("POST", "/v1/entity-types", {"code": f"c_{uuid.uuid4().hex[:8]}", "name": "Company"})
    for field in FIELDS:
        await admin.ok("POST", f"/v1/entity-types/{created['id']}/fields", field)
    await admin.ok(
        "PATCH",
        f"/v1/entity-types/{created['id']}",
        {"settings": {"unique_keys": [["inn"]]}},
        headers={"If-Match": f'"{created["version"] + len(FIELDS)}"'},
    )
    type_id: str = created["id"]
    return type_id


@pytest.mark.timeout(900)
async def test_a_windows_1251_csv_of_100000_rows_imports_reruns_unchanged_and_updates_1000(
    entities_service: Any, tmp_path: Path
) -> None:
    admin = entities_service.as_user(f"tenant-{uuid.uuid4().hex[:8]}", "admin-1", "admin")
    type_id = await company_type(admin)
    file = await upload(admin, russian_csv(tmp_path / "companies.csv", range(ROWS)))
    request = {"file_id": file["id"], "entity_type_id": type_id, "mapping": MAPPING, "key_fields": ["inn"]}

    dry = await admin.ok("POST", "/v1/imports/dry-run", request, timeout=300)
    first = await imported(admin, request)
    again = await imported(admin, {**request, "file_id": (await upload(admin, tmp_path / "companies.csv"))["id"]})
    changed = await upload(admin, russian_csv(tmp_path / "changed.csv", range(5000, 6000), bump=7))
    updated = await imported(admin, {**request, "file_id": changed["id"]})

    assert (file["encoding"], file["delimiter"], file["rows"]) == ("windows-1251", ";", ROWS)
    assert file["size_bytes"] > 1024 * 1024  # past the body limit of every other route
    assert dry["options"] == {"decimal_separator": ",", "date_format": "dd.mm.yyyy"}
    assert (dry["valid"], dry["invalid"]) == (ROWS, 0)
    assert (first["imported"], first["updated"], first["skipped"], first["refused"]) == (ROWS, 0, 0, 0)
    assert (again["imported"], again["updated"], again["skipped"], again["refused"]) == (0, 0, ROWS, 0)
    assert (updated["imported"], updated["updated"], updated["skipped"], updated["refused"]) == (0, 1000, 0, 0)
    untouched, bumped = await company(admin, type_id, 4999), await company(admin, type_id, 5999)
    assert (untouched["version"], untouched["fields"]["revenue"]) == (1, normal_revenue(4999))
    assert (bumped["version"], bumped["fields"]["revenue"]) == (2, normal_revenue(5999, bump=7))
    assert bumped["fields"]["since"] == (FIRST_DAY + timedelta(days=5999 % 2000)).isoformat()


@pytest.mark.timeout(900)
async def test_an_xlsx_workbook_of_100000_rows_is_imported_with_its_typed_values(
    entities_service: Any, tmp_path: Path
) -> None:
    admin = entities_service.as_user(f"tenant-{uuid.uuid4().hex[:8]}", "admin-1", "admin")
    type_id = await company_type(admin)
    file = await upload(admin, workbook(tmp_path / "companies.xlsx", range(ROWS)))
    request = {"file_id": file["id"], "entity_type_id": type_id, "mapping": MAPPING, "key_fields": ["inn"]}

    job = await imported(admin, request)

    assert (file["format"], file["rows"], file["columns"]) == ("xlsx", ROWS, list(MAPPING))
    assert (job["imported"], job["refused"]) == (ROWS, 0)
    last = await company(admin, type_id, ROWS - 1)
    assert last["title"] == f"УК «Дом {ROWS - 1}»"
    assert last["fields"] | {"inn": None} == {
        "inn": None,
        "city": CITIES[(ROWS - 1) % 4],
        "revenue": normal_revenue(ROWS - 1),
        "since": (FIRST_DAY + timedelta(days=(ROWS - 1) % 2000)).isoformat(),
    }
