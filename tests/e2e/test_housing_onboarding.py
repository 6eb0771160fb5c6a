"""Housing & utilities onboarding (shared/scenarios/housing-onboarding.md), steps 1-2, through HTTP only.

Steps 1 (the "Company" type with its fields and the "Industry" dictionary) and 2 (the CSV import of
500 companies, UTF-8 and Windows-1251, errors by line and column, idempotent re-run) are played here.
Still to come with the automation and notifications services: step 3 (the BPMN process bound to
"Company"), steps 4-6 (the process run: task inbox, calendar entries, pauses, reminders, loops,
reject) and step 7 (the timeline through the process and the reporting counts).

The story sets industry "Housing & utilities" on every row; the file's own industry column is kept
in "Declared industry" so that nothing in the file is lost.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
STATUSES = [
    "Imported",
    "In progress",
    "Meeting set",
    "Terms negotiation",
    "Contract negotiation",
    "Contract signing",
    "Launch preparation",
    "Launched",
    "Rejected",
]
FIVE_ERRORS = [(17, "ИНН"), (123, "Телефон"), (256, "Кол-во домов в управлении"), (311, "Название"), (499, "E-mail")]
MAPPING = {
    "Название": "title",
    "ИНН": "inn",
    "Город": "city",
    "Контактное лицо": "contact_person",
    "Телефон": "phone",
    "E-mail": "email",
    "Сфера деятельности": "declared_industry",
    "Кол-во домов в управлении": "buildings",
}


async def upload(admin: Any, name: str) -> dict[str, Any]:
    response = await admin.call(
        "POST",
        "/v1/imports/files",
        content=(DATA / name).read_bytes(),
        params={"file_name": name},
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def count(admin: Any, type_id: str, *filters: str) -> int:
    total, cursor = 0, None
    while True:
        params: dict[str, Any] = {"entity_type_id": type_id, "limit": 200, "filter": list(filters)}
        if cursor:
            params["cursor"] = cursor
        page = await admin.ok("GET", "/v1/items", params=params)
        total += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total


class TestHousingOnboarding:
    async def test_an_admin_defines_companies_and_imports_the_file_once(self, entities_service: Any) -> None:
        admin = entities_service.as_user(f"housing-{uuid.uuid4().hex[:8]}", "admin-1", "admin")

        # 1. The "Company" entity with its fields; "Industry" comes from a dictionary.
        industry = await admin.ok(
            "POST",
            "/v1/dictionaries",
            {
                "code": "industry",
                "name": "Industry",
                "options": [{"label": label} for label in ("Housing & utilities", "Construction", "Retail")],
            },
        )
        company = await admin.ok("POST", "/v1/entity-types", {"code": "company", "name": "Company", "settings": {}})
        fields = [
            {"code": "contact_person", "label": "Contact person", "kind": "string"},
            {
                "code": "status",
                "label": "Processing status",
                "kind": "list",
                "options": [{"label": s} for s in STATUSES],
            },
            {"code": "industry", "label": "Industry", "kind": "list", "dictionary_id": industry["id"]},
            {"code": "next_call_at", "label": "Next call at", "kind": "datetime"},
            {"code": "meeting_at", "label": "Meeting at", "kind": "datetime"},
            {"code": "inn", "label": "Tax id", "kind": "string", "validation": {"pattern": r"^(\d{10}|\d{12})$"}},
            {"code": "city", "label": "City", "kind": "string"},
            {"code": "phone", "label": "Phone", "kind": "phone"},
            {"code": "email", "label": "E-mail", "kind": "email"},
            {"code": "declared_industry", "label": "Declared industry", "kind": "string"},
            {"code": "buildings", "label": "Buildings managed", "kind": "integer"},
        ]
        for field in fields:
            await admin.ok("POST", f"/v1/entity-types/{company['id']}/fields", field)
        defined = await admin.ok("GET", f"/v1/entity-types/{company['id']}")
        status_ids = {o["label"]: o["id"] for o in defined["fields"][1]["options"]}
        industry_ids = {o["label"]: o["id"] for o in industry["options"]}

        # 2. The CSV in UTF-8 (and the same file in Windows-1251): errors by line and column first.
        request = {
            "entity_type_id": company["id"],
            "mapping": MAPPING,
            "values": {"status": "Imported", "industry": "Housing & utilities", "assignee_id": "manager-1"},
        }
        for name, encoding in (
            ("housing_companies_cp1251.csv", "windows-1251"),
            ("housing_companies_utf8.csv", "utf-8"),
        ):
            file = await upload(admin, name)
            assert (file["encoding"], file["rows"]) == (encoding, 500)
            report = await admin.ok("POST", "/v1/imports/dry-run", {**request, "file_id": file["file_id"]})
            assert [(e["line"], e["column"]) for e in report["errors"]] == FIVE_ERRORS
        assert await count(admin, company["id"]) == 0

        key = {"Idempotency-Key": f"housing-{uuid.uuid4()}"}
        started = await admin.call("POST", "/v1/imports", {**request, "file_id": file["file_id"]}, headers=key)
        assert started.status_code == 202, started.text
        job = started.json()
        for _ in range(600):
            if job["status"] != "running":
                break
            await asyncio.sleep(0.1)
            job = await admin.ok("GET", f"/v1/imports/{job['job_id']}")
        assert (job["status"], job["imported"], job["refused"]) == ("completed", 495, 5)
        assert [(e["line"], e["column"]) for e in job["errors"]] == FIVE_ERRORS

        again_file = await upload(admin, "housing_companies_utf8.csv")
        again = await admin.call("POST", "/v1/imports", {**request, "file_id": again_file["file_id"]}, headers=key)
        assert (again.status_code, again.json()["job_id"]) == (200, job["job_id"])
        assert await count(admin, company["id"]) == 495
        imported = [
            f"fields.status:eq:{status_ids['Imported']}",
            f"fields.industry:eq:{industry_ids['Housing & utilities']}",
            "assignee_id:eq:manager-1",
        ]
        assert await count(admin, company["id"], *imported) == 495
