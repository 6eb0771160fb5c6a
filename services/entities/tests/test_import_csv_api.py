"""CSV imports over HTTP: upload, detection, dry run by line and column, the job, idempotency, refusals."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[3] / "tests" / "data"
EXPECTED_ERRORS = {
    (17, "ИНН"),
    (123, "Телефон"),
    (256, "Кол-во домов в управлении"),
    (311, "Название"),
    (499, "E-mail"),
}


async def company_type(entities: Any) -> dict[str, Any]:
    industry = await entities.ok(
        "POST",
        "/v1/dictionaries",
        {
            "code": f"industry_{uuid.uuid4().hex[:6]}",
            "name": "Industry",
            "options": [{"label": "ЖКХ"}, {"label": "Строительство"}, {"label": "Торговля"}],
        },
    )
    fields = [
        {"code": "inn", "label": "ИНН", "kind": "string", "validation": {"pattern": r"^(\d{10}|\d{12})$"}},
        {"code": "city", "label": "Город", "kind": "string"},
        {"code": "contact", "label": "Contact person", "kind": "string"},
        {"code": "phone", "label": "Phone", "kind": "phone"},
        {"code": "email", "label": "E-mail", "kind": "email"},
        {"code": "industry", "label": "Industry", "kind": "list", "dictionary_id": industry["id"]},
        {"code": "buildings", "label": "Buildings", "kind": "integer"},
        {"code": "status", "label": "Processing status", "kind": "list", "options": [{"label": "Imported"}]},
    ]
    result: dict[str, Any] = await entities.entity_type(fields)
    return result


def housing_request(file_id: str, type_id: str, assignee: str = "manager-1") -> dict[str, Any]:
    return {
        "file_id": file_id,
        "entity_type_id": type_id,
        "mapping": {
            "Название": "title",
            "ИНН": "inn",
            "Город": "city",
            "Контактное лицо": "contact",
            "Телефон": "phone",
            "E-mail": "email",
            "Сфера деятельности": "industry",
            "Кол-во домов в управлении": "buildings",
        },
        "values": {"status": "Imported", "assignee_id": assignee},
    }


async def upload(entities: Any, data: bytes, **auth: Any) -> Any:
    return await entities.client.post(
        "/v1/imports/files",
        content=data,
        params={"file_name": "companies.csv"},
        headers={**entities.auth(**auth), "Content-Type": "text/csv"},
    )


async def finished(entities: Any, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        job: dict[str, Any] = await entities.ok("GET", f"/v1/imports/{job_id}")
        if job["status"] != "running":
            return job
        await asyncio.sleep(0.1)
    raise AssertionError("the import never finished")


async def count_items(entities: Any, type_id: str) -> int:
    total, cursor = 0, None
    while True:
        params = {"entity_type_id": type_id, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = (await entities.client.get("/v1/items", params=params, headers=entities.auth())).json()
        total += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total


class TestUploadAndDryRun:
    @pytest.mark.parametrize(
        ("name", "encoding", "delimiter"),
        [("housing_companies_utf8.csv", "utf-8", ","), ("housing_companies_cp1251.csv", "windows-1251", ";")],
    )
    async def test_the_housing_file_is_read_and_its_five_errors_reported_by_line_and_column(
        self, entities: Any, name: str, encoding: str, delimiter: str
    ) -> None:
        company = await company_type(entities)

        uploaded = await upload(entities, (DATA / name).read_bytes())
        assert uploaded.status_code == 201, uploaded.text
        file = uploaded.json()
        report = await entities.ok("POST", "/v1/imports/dry-run", housing_request(file["id"], company["id"]))

        assert (file["encoding"], file["delimiter"], file["rows"]) == (encoding, delimiter, 500)
        assert file["columns"][0] == "Название"
        assert {(e["line"], e["column"]) for e in report["errors"]} == EXPECTED_ERRORS
        assert (report["rows"], report["valid"], report["invalid"]) == (500, 495, 5)
        assert await count_items(entities, company["id"]) == 0

    async def test_a_multipart_upload_with_a_bom_is_read_as_utf8(self, entities: Any) -> None:
        data = "\ufefftitle;city\nAcme;Omsk\n".encode()

        response = await entities.client.post(
            "/v1/imports/files", files={"file": ("a.csv", data, "text/csv")}, headers=entities.auth()
        )

        assert response.status_code == 201, response.text
        assert response.json() | {"id": None} == {
            "id": None,
            "file_name": "a.csv",
            "format": "csv",
            "encoding": "utf-8",
            "delimiter": ";",
            "columns": ["title", "city"],
            "rows": 1,
            "size_bytes": len(data),
        }


class TestImportJob:
    async def test_the_good_rows_are_imported_once_per_idempotency_key(self, entities: Any) -> None:
        company = await company_type(entities)
        file = (await upload(entities, (DATA / "housing_companies_utf8.csv").read_bytes())).json()
        request = housing_request(file["id"], company["id"])
        key = {"Idempotency-Key": f"housing-{uuid.uuid4()}"}

        started = await entities.call("POST", "/v1/imports", request, headers=key)
        assert started.status_code == 202, started.text
        job = await finished(entities, started.json()["id"])
        again = await entities.call("POST", "/v1/imports", request, headers=key)

        assert (job["status"], job["processed"], job["imported"], job["refused"]) == ("completed", 500, 495, 5)
        assert {(e["line"], e["column"]) for e in job["errors"]} == EXPECTED_ERRORS
        assert again.status_code == 200
        assert again.json()["id"] == job["id"]
        assert await count_items(entities, company["id"]) == 495
        page = (
            await entities.client.get(
                "/v1/items",
                params={"entity_type_id": company["id"], "q": "Домострой", "limit": "1", "sort": "title"},
                headers=entities.auth(),
            )
        ).json()["items"][0]
        assert page["assignee_id"] == "manager-1"
        statuses = {o["label"]: o["id"] for o in company["fields"][-1]["options"]}
        assert page["fields"]["status"] == statuses["Imported"]


class TestRefusals:
    async def test_a_file_in_another_encoding_is_refused_naming_it(self, entities: Any) -> None:
        data = "title,city\nAcme,Köln\n".encode("utf-16")

        response = await upload(entities, data)

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert "utf_16" in response.json()["errors"][0]["message"]

    async def test_malformed_csv_is_refused_with_its_line(self, entities: Any) -> None:
        response = await upload(entities, b'title,city\nAcme,Omsk\n"Broken,Omsk\n')

        assert response.status_code == 422
        assert "not valid CSV" in response.json()["errors"][0]["message"]

    async def test_an_empty_file_is_refused(self, entities: Any) -> None:
        response = await upload(entities, b"  \n")

        assert response.status_code == 422

    async def test_a_file_past_the_ordinary_body_limit_is_accepted_and_counted(self, entities: Any) -> None:
        data = b"title\n" + b"x" * 100 + b"\n" + b"Acme\n" * (3 * 1024 * 1024 // 5)

        response = await upload(entities, data)

        assert response.status_code == 201, response.text
        assert (response.json()["rows"], response.json()["size_bytes"]) == (3 * 1024 * 1024 // 5 + 1, len(data))

    async def test_unknown_columns_and_fields_are_named_and_nothing_starts(self, entities: Any) -> None:
        company = await company_type(entities)
        file = (await upload(entities, b"title,city\nAcme,Omsk\n")).json()
        request = {
            "file_id": file["id"],
            "entity_type_id": company["id"],
            "mapping": {"title": "title", "nope": "city", "city": "no_such_field"},
        }

        response = await entities.call("POST", "/v1/imports", request, headers={"Idempotency-Key": "k-1"})

        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"/columns/nope", "/columns/city"}
        assert await count_items(entities, company["id"]) == 0

    async def test_another_tenants_file_and_job_are_not_found(self, entities: Any) -> None:
        company = await company_type(entities)
        file = (await upload(entities, b"title\nAcme\n")).json()
        request = {"file_id": file["id"], "entity_type_id": company["id"], "mapping": {"title": "title"}}
        job = await entities.ok("POST", "/v1/imports", request, headers={"Idempotency-Key": "k-2"})

        dry = await entities.call("POST", "/v1/imports/dry-run", request, tenant="other-tenant")
        read = await entities.call("GET", f"/v1/imports/{job['id']}", tenant="other-tenant")

        assert (dry.status_code, read.status_code) == (404, 404)

    async def test_a_manager_without_create_rights_may_not_import(self, entities: Any) -> None:
        company = await company_type(entities)
        file = (await upload(entities, b"title\nAcme\n")).json()
        request = {"file_id": file["id"], "entity_type_id": company["id"], "mapping": {"title": "title"}}

        response = await entities.call(
            "POST", "/v1/imports", request, headers={"Idempotency-Key": "k-3"}, user="m-1", roles=("manager",)
        )

        assert response.status_code == 403


class TestResume:
    async def test_a_job_left_running_by_a_stopped_process_is_resumed_at_start(self, entities: Any) -> None:
        from entities.entrypoints.imports_runner import imports_on_state
        from entities.handlers.import_jobs import start_import
        from entities.handlers.relation_reader import Reader

        company = await company_type(entities)
        file = (await upload(entities, (DATA / "housing_companies_utf8.csv").read_bytes())).json()
        state = entities.app.state
        reader = Reader(tenant_id=entities.tenant, user_id="admin-1", roles=frozenset({"admin"}))
        async with state.pool.acquire() as conn, conn.transaction():
            job_id, _new = await start_import(  # recorded, as a request would, but never run
                conn,
                state.backbone.store,
                reader,
                state.settings.import_spool_dir,
                key="left-running",
                request=housing_request(file["id"], company["id"]),
                now=state.clock.now(),
            )

        (state.settings.import_spool_dir / file["id"]).unlink()  # another process: no local copy of the file

        async with imports_on_state(entities.app):
            job = await finished(entities, job_id)

        assert (job["status"], job["imported"], job["refused"]) == ("completed", 495, 5)
        assert await count_items(entities, company["id"]) == 495
