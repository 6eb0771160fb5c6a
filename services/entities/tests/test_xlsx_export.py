"""Exports as Excel workbooks and CSV at size: every item of the filtered list, labels for list values,
a header row of field names, read back by a second reader (openpyxl, the csv module)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from conveyor_messaging.actor import Actor
from entities.adapters.xlsx_file import MEDIA_TYPE
from entities.handlers.create_item import create_items, decide_item
from entities.handlers.schemas import schema_for
from entities.handlers.unit import Unit
from entities.routing import STORE
from openpyxl import load_workbook

pytestmark = pytest.mark.integration

FIELDS = [
    {"code": "kind", "label": "Kind", "kind": "list", "options": [{"label": "contract"}, {"label": "invoice"}]},
    {"code": "total", "label": "Total", "kind": "money"},
    {"code": "note", "label": "Note", "kind": "string"},
]
HEADER = ["item_id", "title", "assignee_id", "amount", "currency", "begin_date", "close_date", "created_at"]


async def many_items(entities: Any, entity_type_id: str, count: int) -> None:
    """`count` items made by the service's own create handler, a thousand per transaction."""
    async with entities.app.state.pool.acquire() as conn:
        for start in range(0, count, 1000):
            async with conn.transaction():
                unit = Unit(conn, STORE, entities.tenant, Actor("user", "admin-1"), datetime.now(UTC))
                schema = await schema_for(unit, entity_type_id)
                assert schema is not None
                events = [
                    await decide_item(
                        unit,
                        schema,
                        values={"title": f"Doc {n:05}"},
                        fields={"kind": "invoice" if n % 4 == 0 else "contract", "total": f"{n}.50|EUR"},
                    )
                    for n in range(start, min(start + 1000, count))
                ]
                await create_items(unit, events)


def sheet_rows(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for row in book["Items"].iter_rows(values_only=True)]


class TestXlsxExport:
    async def test_twenty_thousand_items_export_as_a_workbook_and_as_csv(self, entities: Any) -> None:
        documents = await entities.entity_type(FIELDS)
        await many_items(entities, documents["id"], 20_000)
        query = {"entity_type_id": documents["id"], "filter": "fields.kind:eq:contract", "sort": "title"}

        workbook = await entities.client.get("/v1/exports/items.xlsx", params=query, headers=entities.auth())
        text = await entities.client.get("/v1/exports/items.csv", params=query, headers=entities.auth())

        assert workbook.status_code == 200, workbook.text
        assert workbook.headers["content-type"] == MEDIA_TYPE
        assert workbook.headers["content-disposition"].endswith(f'items-{documents["id"]}.xlsx"')
        rows = sheet_rows(workbook.content)
        lines = list(csv.reader(io.StringIO(text.text.removeprefix("\ufeff"))))
        assert rows[0] == lines[0] == [*HEADER, "Kind", "Total", "Note"]
        assert len(rows) == len(lines) == 1 + 15_000
        assert (rows[1][1], rows[1][8], rows[1][9]) == ("Doc 00001", "contract", "1.50|EUR")
        assert [row[1] for row in rows[1:]] == [line[1] for line in lines[1:]]
        assert {row[8] for row in rows[1:]} == {"contract"}

    async def test_the_search_body_exports_a_workbook_with_text_cells_as_written(self, entities: Any) -> None:
        documents = await entities.entity_type(FIELDS)
        await entities.item(documents["id"], "=1+1", fields={"kind": "invoice", "note": "007"})
        await entities.item(documents["id"], "Other", fields={"kind": "contract"})

        response = await entities.client.post(
            "/v1/exports/items?format=xlsx",
            json={
                "entity_type_id": documents["id"],
                "filters": [{"field": "fields.kind", "op": "eq", "value": "invoice"}],
            },
            headers=entities.auth(),
        )
        unknown_format = await entities.client.post(
            "/v1/exports/items?format=pdf", json={"entity_type_id": documents["id"]}, headers=entities.auth()
        )
        unknown_type = await entities.client.get(
            "/v1/exports/items.xlsx", params={"entity_type_id": "nope"}, headers=entities.auth()
        )

        assert response.status_code == 200, response.text
        (header, row) = sheet_rows(response.content)
        assert header[8:] == ["Kind", "Total", "Note"]
        assert (row[1], row[8], row[10]) == ("=1+1", "invoice", "007")  # text, never a formula or a number
        assert unknown_format.status_code == 422
        assert unknown_type.status_code == 404
        assert unknown_type.headers["content-type"].startswith("application/problem+json")
