"""Imports that match existing items by a unique key, read numbers and dates in the file's locale,
read XLSX workbooks and report their progress (as a resource and a live stream)."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import date
from typing import Any

import pytest
import xlsxwriter

pytestmark = pytest.mark.integration

FIELDS = [
    {"code": "inn", "label": "ИНН", "kind": "string"},
    {"code": "city", "label": "Город", "kind": "string"},
    {"code": "revenue", "label": "Выручка", "kind": "decimal"},
    {"code": "buildings", "label": "Домов", "kind": "integer"},
    {"code": "since", "label": "С", "kind": "date"},
]
MAPPING = {"Название": "title", "ИНН": "inn", "Город": "city", "Сумма": "revenue", "Домов": "buildings", "С": "since"}
HEADER = "Название;ИНН;Город;Сумма;Домов;С"


async def company_type(entities: Any) -> dict[str, Any]:
    created = await entities.entity_type(FIELDS)
    changed: dict[str, Any] = await entities.ok(
        "PATCH",
        f"/v1/entity-types/{created['id']}",
        {"settings": {"unique_keys": [["inn"]]}},
        headers={"If-Match": f'"{created["version"]}"'},
    )
    return changed


def russian_csv(rows: list[tuple[str, str, str, str, str, str]]) -> bytes:
    return ("\r\n".join([HEADER, *(";".join(row) for row in rows)]) + "\r\n").encode("cp1251")


async def upload(entities: Any, data: bytes, name: str = "companies.csv") -> dict[str, Any]:
    response = await entities.client.post(
        "/v1/imports/files", files={"file": (name, data, "application/octet-stream")}, headers=entities.auth()
    )
    assert response.status_code == 201, response.text
    uploaded: dict[str, Any] = response.json()
    return uploaded


async def run(entities: Any, request: dict[str, Any]) -> dict[str, Any]:
    started = await entities.ok("POST", "/v1/imports", request, headers={"Idempotency-Key": uuid.uuid4().hex})
    for _ in range(600):
        job: dict[str, Any] = await entities.ok("GET", f"/v1/imports/{started['id']}")
        if job["status"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


PLACEMENT = ("pipeline_id", "stage_id", "stage_semantic")


async def items_by_inn(entities: Any, type_id: str) -> dict[str, dict[str, Any]]:
    """The type's items by INN, without their placement: a pipelines service of another test on the
    shared Kafka may place them at any moment, which is no change of the item's own."""
    page = await entities.ok("GET", f"/v1/items?entity_type_id={type_id}&limit=200")
    return {item["fields"]["inn"]: {k: v for k, v in item.items() if k not in PLACEMENT} for item in page["items"]}


FIRST = [
    ("УК Дом 1", "7701000001", "Омск", "1 234,56", "12", "07.12.2026"),
    ("УК Дом 2", "7701000002", "Тула", "99,5", "3", "31.01.2025"),
    ("УК Дом 3", "7701000003", "Пермь", "1.000.000,01", "40", "01.02.2024"),
]


class TestUpsertByKey:
    async def test_re_importing_the_same_file_changes_nothing(self, entities: Any) -> None:
        company = await company_type(entities)
        request = {"file_id": (await upload(entities, russian_csv(FIRST)))["id"], "entity_type_id": company["id"]}
        request |= {"mapping": MAPPING, "key_fields": ["inn"]}
        first = await run(entities, request)
        before = await items_by_inn(entities, company["id"])

        again = await run(entities, {**request, "file_id": (await upload(entities, russian_csv(FIRST)))["id"]})

        assert (first["imported"], first["updated"], first["skipped"], first["refused"]) == (3, 0, 0, 0)
        assert (again["imported"], again["updated"], again["skipped"], again["refused"]) == (0, 0, 3, 0)
        assert await items_by_inn(entities, company["id"]) == before
        assert {item["version"] for item in before.values()} == {1}

    async def test_matched_rows_update_their_item_or_are_skipped_as_the_import_chooses(self, entities: Any) -> None:
        company = await company_type(entities)
        request = {"file_id": (await upload(entities, russian_csv(FIRST)))["id"], "entity_type_id": company["id"]}
        request |= {"mapping": MAPPING, "key_fields": ["inn"]}
        await run(entities, request)
        changed = [
            (*FIRST[0][:2], "Омск", "2 000,00", "13", "07.12.2026"),
            FIRST[1],
            ("УК Дом 4", "7701000004", "Орёл", "1", "1", "01.01.2020"),
        ]
        file_id = (await upload(entities, russian_csv(changed)))["id"]

        preview = await entities.ok("POST", "/v1/imports/dry-run", {**request, "file_id": file_id})
        skipping = await run(entities, {**request, "file_id": file_id, "on_match": "skip"})
        updating = await run(entities, {**request, "file_id": file_id})
        found = await items_by_inn(entities, company["id"])

        assert (preview["valid"], preview["matched"]) == (3, 2)
        assert (skipping["imported"], skipping["updated"], skipping["skipped"]) == (1, 0, 2)
        assert (updating["imported"], updating["updated"], updating["skipped"]) == (0, 1, 2)
        assert found["7701000001"]["fields"] | {"inn": None} == {
            "inn": None, "city": "Омск", "revenue": "2000.00", "buildings": 13, "since": "2026-12-07"
        }  # fmt: skip
        assert found["7701000001"]["version"] == 2 and found["7701000002"]["version"] == 1
        assert len(found) == 4

    async def test_a_row_sharing_a_unique_value_is_refused_naming_its_line_and_the_item(self, entities: Any) -> None:
        company = await company_type(entities)
        holder = await entities.item(company["id"], fields={"inn": "7701000002"})
        rows = [*FIRST, ("Повтор", "7701000001", "Омск", "1", "1", "01.01.2020")]
        request = {"file_id": (await upload(entities, russian_csv(rows)))["id"], "entity_type_id": company["id"]}

        job = await run(entities, {**request, "mapping": MAPPING})

        assert (job["imported"], job["refused"]) == (2, 2)
        assert [(e["line"], e["column"], e["field"]) for e in job["errors"]] == [
            (3, "ИНН", "/fields/inn"),
            (5, "ИНН", "/fields/inn"),
        ]
        assert holder["id"] in job["errors"][0]["message"]

    async def test_a_key_that_is_not_a_unique_key_of_the_type_is_refused(self, entities: Any) -> None:
        company = await company_type(entities)
        file_id = (await upload(entities, russian_csv(FIRST)))["id"]
        request = {"file_id": file_id, "entity_type_id": company["id"], "mapping": MAPPING, "key_fields": ["city"]}

        response = await entities.call("POST", "/v1/imports/dry-run", request)

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "/key_fields"


class TestLocale:
    async def test_decimal_commas_and_day_first_dates_are_detected_and_can_be_overridden(self, entities: Any) -> None:
        company = await company_type(entities)
        request = {"file_id": (await upload(entities, russian_csv(FIRST)))["id"], "entity_type_id": company["id"]}
        request["mapping"] = MAPPING

        detected = await entities.ok("POST", "/v1/imports/dry-run", request)
        overridden = await entities.ok(
            "POST",
            "/v1/imports/dry-run",
            {**request, "options": {"decimal_separator": ".", "date_format": "yyyy-mm-dd"}},
        )
        job = await run(entities, request)
        found = await items_by_inn(entities, company["id"])

        assert detected["options"] == {"decimal_separator": ",", "date_format": "dd.mm.yyyy"}
        assert (detected["valid"], detected["invalid"]) == (3, 0)
        assert overridden["invalid"] == 3
        assert {(e["line"], e["column"]) for e in overridden["errors"]} >= {(2, "Сумма"), (2, "С")}
        assert job["options"] == detected["options"] and job["imported"] == 3
        assert [found[inn]["fields"]["revenue"] for inn in sorted(found)] == ["1234.56", "99.5", "1000000.01"]
        assert found["7701000002"]["fields"]["since"] == "2025-01-31"


def workbook(rows: list[list[Any]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, day)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()


class TestXlsx:
    async def test_a_workbook_is_imported_with_typed_numbers_and_dates_and_its_own_row_numbers(
        self, entities: Any
    ) -> None:
        company = await company_type(entities)
        data = workbook(
            [
                ["Название", "ИНН", "Город", "Сумма", "Домов", "С"],
                ["УК Дом 1", "7701000001", "Омск", 1234.56, 12, date(2026, 12, 7)],
                [None] * 6,  # a blank row keeps the numbering of the sheet
                ["УК Дом 2", "7701000002", "Тула", "99,5", 3, "31.01.2025"],
                ["", "7701000003", "Пермь", 1, 1, date(2024, 2, 1)],
            ]
        )
        uploaded = await upload(entities, data, name="companies.xlsx")
        request = {"file_id": uploaded["id"], "entity_type_id": company["id"], "mapping": MAPPING}

        dry = await entities.ok("POST", "/v1/imports/dry-run", request)
        job = await run(entities, request)
        found = await items_by_inn(entities, company["id"])

        assert (uploaded["format"], uploaded["columns"], uploaded["rows"]) == ("xlsx", list(MAPPING), 3)
        assert dry["options"] == {"decimal_separator": ",", "date_format": "dd.mm.yyyy"}
        assert [(e["line"], e["column"]) for e in job["errors"]] == [(5, "Название")]
        assert found["7701000001"]["fields"] | {"inn": None} == {
            "inn": None, "city": "Омск", "revenue": "1234.56", "buildings": 12, "since": "2026-12-07"
        }  # fmt: skip
        assert (found["7701000002"]["fields"]["revenue"], found["7701000002"]["fields"]["since"]) == (
            "99.5",
            "2025-01-31",
        )

    async def test_a_broken_workbook_is_refused(self, entities: Any) -> None:
        response = await entities.client.post(
            "/v1/imports/files",
            files={"file": ("broken.xlsx", b"PK\x03\x04 not really a zip", "application/octet-stream")},
            headers=entities.auth(),
        )

        assert response.status_code == 422
        assert "XLSX" in response.json()["errors"][0]["message"]


class TestProgress:
    async def test_the_job_reports_its_counts_rate_and_the_stream_ends_with_the_final_job(self, entities: Any) -> None:
        company = await company_type(entities)
        rows = [(f"УК {n}", f"77{n:08d}", "Омск", "1,5", "1", "01.01.2020") for n in range(2500)]
        request = {"file_id": (await upload(entities, russian_csv(rows)))["id"], "entity_type_id": company["id"]}
        started = await entities.ok(
            "POST", "/v1/imports", {**request, "mapping": MAPPING}, headers={"Idempotency-Key": uuid.uuid4().hex}
        )

        events: list[tuple[str, dict[str, Any]]] = []
        async with entities.client.stream(
            "GET", f"/v1/imports/{started['id']}/progress", headers=entities.auth()
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line.removeprefix("data: "))))

        kinds = [kind for kind, _ in events]
        final = events[-1][1]
        assert kinds[-1] == "finished" and set(kinds[:-1]) <= {"progress"}
        assert (final["status"], final["processed"], final["imported"], final["refused"]) == (
            "completed",
            2500,
            2500,
            0,
        )
        assert final["progress"] == 1.0 and final["eta_seconds"] in (0.0, None)
