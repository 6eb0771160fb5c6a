"""Document registry and access scopes (docs/scenarios/document-registry.md), steps 1-5, through
HTTP only: the entities service (documents, rights, lists, search, export), the pipelines service
(the kanban) and the reporting service (documents per manager, kind and day).
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def exported_titles(text: str) -> list[str]:
    return sorted(row["title"] for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def titles(client: Any, type_id: str, *filters: str) -> list[str]:
    page = await client.ok("GET", "/v1/items", params={"entity_type_id": type_id, "filter": list(filters)})
    return sorted(item["title"] for item in page["items"])


class TestDocumentRegistry:
    async def test_managers_see_their_own_documents_and_directors_see_all(
        self, entities_service: Any, pipelines_service: Any, reporting_service: Any, settled: Any
    ) -> None:
        tenant = f"registry-{uuid.uuid4().hex[:8]}"
        admin = entities_service.as_user(tenant, "admin-1", "admin")

        # 1. "Document" has a list field "Kind" (contract, invoice, act) and a link to a deal.
        deal_type = await admin.ok("POST", "/v1/entity-types", {"code": "deal", "name": "Deal", "settings": {}})
        doc_type = await admin.ok("POST", "/v1/entity-types", {"code": "document", "name": "Document", "settings": {}})
        kind = await admin.ok(
            "POST",
            f"/v1/entity-types/{doc_type['id']}/fields",
            {
                "code": "kind",
                "label": "Kind",
                "kind": "list",
                "options": [{"label": k} for k in ("contract", "invoice", "act")],
            },
        )
        await admin.ok(
            "POST",
            f"/v1/entity-types/{doc_type['id']}/fields",
            {"code": "deal", "label": "Deal", "kind": "link", "link_entity_type_id": deal_type["id"]},
        )
        options = {o["label"]: o["id"] for o in kind["options"]}

        # 2. Managers read, add and update their own documents; the directors read all of them.
        own = {"read": "own", "create": "own", "update": "own"}
        for role, actions in (
            ("manager", own),
            ("commercial_director", {"read": "all"}),
            ("general_director", {"read": "all"}),
        ):
            await admin.ok(
                "PUT",
                f"/v1/directory/roles/{role}/grants",
                {"grants": [{"entity_type_id": t["id"], "actions": actions} for t in (doc_type, deal_type)]},
            )
        manager_a = entities_service.as_user(tenant, "manager-a", "manager")
        manager_b = entities_service.as_user(tenant, "manager-b", "manager")
        director = entities_service.as_user(tenant, "director-1", "commercial_director")
        general = entities_service.as_user(tenant, "general-1", "general_director")

        # 3. A and B create documents; each sees only their own, by id, list, filter, search and export.
        deal = await manager_a.ok("POST", "/v1/items", {"entity_type_id": deal_type["id"], "title": "Deal A"})
        created: dict[str, Any] = {}
        for client, title, label in (
            (manager_a, "A contract", "contract"),
            (manager_a, "A invoice", "invoice"),
            (manager_b, "B contract", "contract"),
            (manager_b, "B act", "act"),
        ):
            fields = {"kind": options[label], **({"deal": deal["id"]} if client is manager_a else {})}
            created[title] = await client.ok(
                "POST", "/v1/items", {"entity_type_id": doc_type["id"], "title": title, "fields": fields}
            )

        assert await titles(manager_a, doc_type["id"]) == ["A contract", "A invoice"]
        assert await titles(manager_b, doc_type["id"]) == ["B act", "B contract"]
        foreign = await manager_a.call("GET", f"/v1/items/{created['B contract']['id']}")
        assert foreign.status_code == 404
        assert foreign.headers["content-type"] == "application/problem+json"
        assert (await manager_a.call("GET", f"/v1/items/{created['B contract']['id']}/timeline")).status_code == 404
        assert await titles(manager_a, doc_type["id"], f"fields.kind:eq:{options['contract']}") == ["A contract"]
        searched = await manager_a.ok("POST", "/v1/items/search", {"entity_type_id": doc_type["id"], "q": "contract"})
        assert [i["title"] for i in searched["items"]] == ["A contract"]
        export = await manager_a.call("GET", "/v1/exports/items.csv", params={"entity_type_id": doc_type["id"]})
        assert exported_titles(export.text) == ["A contract", "A invoice"]
        changed = await manager_a.call(
            "PATCH", f"/v1/items/{created['B act']['id']}", {"title": "Mine now"}, headers={"If-Match": '"1"'}
        )
        assert changed.status_code == 404

        everything = ["A contract", "A invoice", "B act", "B contract"]
        assert await titles(director, doc_type["id"]) == everything
        assert await titles(general, doc_type["id"]) == everything
        export = await general.call("GET", "/v1/exports/items.csv", params={"entity_type_id": doc_type["id"]})
        assert exported_titles(export.text) == everything

        # 3 (kanban). The board of the documents' pipeline counts only what each caller may read.
        board_of = {
            who: pipelines_service.as_user(tenant, user, role)
            for who, user, role in (("a", "manager-a", "manager"), ("director", "director-1", "commercial_director"))
        }

        async def board_counts(who: str) -> int:
            response = await board_of[who].call("GET", f"/v1/pipelines?entity_type_id={doc_type['id']}")
            pipelines = response.json()["items"] if response.status_code == 200 else []
            if not pipelines:
                return -1
            board = await board_of[who].ok("GET", f"/v1/pipelines/{pipelines[0]['id']}/board")
            return sum(column["count"] for column in board["columns"])

        assert await settled(lambda: board_counts("director"), lambda n: n == 4) == 4
        assert await board_counts("a") == 2

        # 4. Reporting: documents per manager, kind and day; directors see every row, a manager only theirs.
        def registry_of(user: str, role: str) -> Any:
            client = reporting_service.as_user(tenant, user, role)

            async def rows() -> list[tuple[str, str, int]]:
                response = await client.call(
                    "GET", "/v1/reports/registry", params={"entity_type_id": doc_type["id"], "field": "kind"}
                )
                if response.status_code != 200:
                    return []
                return sorted((r["assignee_id"], r["label"], r["items"]) for r in response.json()["rows"])

            return rows

        every_row = [
            ("manager-a", "contract", 1),
            ("manager-a", "invoice", 1),
            ("manager-b", "act", 1),
            ("manager-b", "contract", 1),
        ]
        assert await settled(registry_of("general-1", "general_director"), lambda rows: rows == every_row) == every_row
        assert await registry_of("director-1", "commercial_director")() == every_row
        assert await registry_of("manager-a", "manager")() == every_row[:2]

        # 5. Another tenant sees nothing of this one.
        stranger = entities_service.as_user(f"other-{uuid.uuid4().hex[:8]}", "admin-1", "admin")
        assert (await stranger.call("GET", f"/v1/items/{created['A contract']['id']}")).status_code == 404
        listed = await stranger.call("GET", "/v1/items", params={"entity_type_id": doc_type["id"]})
        assert listed.status_code == 404 or listed.json()["items"] == []
