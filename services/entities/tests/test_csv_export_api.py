"""CSV export of a filtered list: the items list's filters, search and rights, as a spreadsheet reads it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

pytestmark = pytest.mark.integration

FIELDS = [
    {"code": "kind", "label": "Kind", "kind": "list", "options": [{"label": "contract"}, {"label": "invoice"}]},
    {"code": "total", "label": "Total", "kind": "money"},
]


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


class TestExport:
    async def test_a_filtered_list_exports_with_labels_and_every_page(self, entities: Any) -> None:
        documents = await entities.entity_type(FIELDS)
        for n in range(205):
            kind = "contract" if n % 5 else "invoice"
            await entities.item(documents["id"], f"Doc {n:03}", fields={"kind": kind, "total": f"{n}.50|EUR"})

        response = await entities.client.get(
            "/v1/exports/items.csv",
            params={"entity_type_id": documents["id"], "filter": "fields.kind:eq:contract", "sort": "title"},
            headers=entities.auth(),
        )

        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        rows = rows_of(response.text)
        assert len(rows) == 164
        assert rows[0]["title"] == "Doc 001"
        assert (rows[0]["Kind"], rows[0]["Total"]) == ("contract", "1.50|EUR")

    async def test_a_manager_exports_only_what_they_may_read(self, entities: Any) -> None:
        documents = await entities.entity_type(FIELDS)
        await entities.ok(
            "PUT",
            "/v1/directory/roles/manager/grants",
            {"grants": [{"entity_type_id": documents["id"], "actions": {"read": "own"}}]},
        )
        await entities.item(documents["id"], "Mine", assignee_id="m-a")
        await entities.item(documents["id"], "Theirs", assignee_id="m-b")

        response = await entities.client.post(
            "/v1/exports/items",
            json={"entity_type_id": documents["id"], "filters": []},
            headers=entities.auth(user="m-a", roles=("manager",)),
        )

        assert [row["title"] for row in rows_of(response.text)] == ["Mine"]

    async def test_bad_filters_and_other_tenants_types_are_problems(self, entities: Any) -> None:
        documents = await entities.entity_type(FIELDS)

        bad = await entities.client.get(
            "/v1/exports/items.csv",
            params={"entity_type_id": documents["id"], "filter": "fields.nope:eq:1"},
            headers=entities.auth(),
        )
        foreign = await entities.client.get(
            "/v1/exports/items.csv",
            params={"entity_type_id": documents["id"]},
            headers=entities.auth(tenant="someone-else"),
        )

        by_code = await entities.client.get(
            "/v1/exports/items.csv", params={"entity_type_id": documents["code"]}, headers=entities.auth()
        )

        assert (bad.status_code, foreign.status_code) == (422, 404)
        assert foreign.json()["type"].endswith("/unknown-entity-type")
        assert by_code.status_code == 200 and by_code.headers["content-type"].startswith("text/csv")
        assert bad.headers["content-type"] == "application/problem+json"
