"""Lists of items: filters on system and custom fields, sort, cursor pages, title search, access scopes."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration

FIELDS = [
    {
        "code": "kind",
        "label": "Kind",
        "kind": "list",
        "options": [{"label": "contract"}, {"label": "invoice"}, {"label": "act"}],
    },
    {"code": "pages", "label": "Pages", "kind": "integer"},
    {"code": "price", "label": "Price", "kind": "decimal"},
    {"code": "signed_on", "label": "Signed on", "kind": "date"},
    {"code": "tags", "label": "Tags", "kind": "string", "multiple": True},
    {"code": "note", "label": "Note", "kind": "text"},
]


async def page(entities: Any, type_id: str, *filters: str, **params: Any) -> dict[str, Any]:
    response = await entities.client.get(
        "/v1/items", params={"entity_type_id": type_id, "filter": list(filters), **params}, headers=entities.auth()
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def titles(result: dict[str, Any]) -> list[str]:
    return [item["title"] for item in result["items"]]


@pytest.fixture
async def documents(entities: Any) -> dict[str, Any]:
    document = await entities.entity_type(FIELDS)
    rows = [
        ("Contract 1", "contract", 3, "10.50", "2026-01-10", ["urgent"], "first draft", "alice"),
        ("Contract 2", "contract", 12, "99.99", "2026-02-01", ["urgent", "legal"], None, "bob"),
        ("Invoice 7", "invoice", 1, "5", "2026-03-05", [], "paid", "alice"),
        ("Act 3", "act", None, None, None, ["legal"], None, "carol"),
    ]
    for title, kind, pages, price, signed, tags, note, assignee in rows:
        values = {"kind": kind, "pages": pages, "price": price, "signed_on": signed, "tags": tags, "note": note}
        await entities.item(
            document["id"], title, assignee_id=assignee, fields={k: v for k, v in values.items() if v is not None}
        )
    return dict(document)


class TestFilters:
    async def test_equals_and_in_on_a_list_field_by_label_or_id(self, entities: Any, documents: dict[str, Any]) -> None:
        contract = documents["fields"][0]["options"][0]["id"]

        assert sorted(titles(await page(entities, documents["id"], "fields.kind:eq:contract"))) == [
            "Contract 1",
            "Contract 2",
        ]
        assert sorted(titles(await page(entities, documents["id"], f"fields.kind:in:{contract},act"))) == [
            "Act 3",
            "Contract 1",
            "Contract 2",
        ]
        assert titles(await page(entities, documents["id"], "fields.kind:ne:contract", sort="title")) == [
            "Act 3",
            "Invoice 7",
        ]

    async def test_ranges_on_numbers_and_dates(self, entities: Any, documents: dict[str, Any]) -> None:
        assert titles(await page(entities, documents["id"], "fields.pages:gt:2", sort="title")) == [
            "Contract 1",
            "Contract 2",
        ]
        assert titles(await page(entities, documents["id"], "fields.price:between:5,11", sort="title")) == [
            "Contract 1",
            "Invoice 7",
        ]
        assert titles(await page(entities, documents["id"], "fields.signed_on:lt:2026-02-01")) == ["Contract 1"]
        assert titles(await page(entities, documents["id"], "fields.price:eq:5.00")) == ["Invoice 7"]

    async def test_contains_empty_and_multiple_values(self, entities: Any, documents: dict[str, Any]) -> None:
        assert titles(await page(entities, documents["id"], "fields.note:contains:DRAFT")) == ["Contract 1"]
        assert sorted(titles(await page(entities, documents["id"], "fields.note:empty"))) == ["Act 3", "Contract 2"]
        assert sorted(titles(await page(entities, documents["id"], "fields.tags:eq:legal"))) == ["Act 3", "Contract 2"]
        assert sorted(titles(await page(entities, documents["id"], "fields.pages:empty:false"))) == [
            "Contract 1",
            "Contract 2",
            "Invoice 7",
        ]

    async def test_system_fields_and_title_search(self, entities: Any, documents: dict[str, Any]) -> None:
        assert sorted(titles(await page(entities, documents["id"], "assignee_id:eq:alice"))) == [
            "Contract 1",
            "Invoice 7",
        ]
        assert sorted(titles(await page(entities, documents["id"], q="contr"))) == ["Contract 1", "Contract 2"]
        assert titles(await page(entities, documents["id"], q="100%")) == []

    async def test_the_json_search_takes_the_same_filters(self, entities: Any, documents: dict[str, Any]) -> None:
        body = {
            "entity_type_id": documents["id"],
            "filters": [
                {"field": "fields.kind", "op": "in", "value": ["contract", "act"]},
                {"field": "fields.pages", "op": "gte", "value": 3},
            ],
            "sort": "fields.pages",
        }

        result = await entities.ok("POST", "/v1/items/search", body)

        assert titles(result) == ["Contract 1", "Contract 2"]

    async def test_the_type_is_named_by_its_id_or_its_code_and_an_unknown_one_is_a_404(
        self, entities: Any, documents: dict[str, Any]
    ) -> None:
        by_id = await page(entities, documents["id"], "fields.kind:eq:contract")
        by_code = await page(entities, documents["code"], "fields.kind:eq:contract")
        searched = await entities.ok("POST", "/v1/items/search", {"entity_type_id": documents["code"], "q": "contr"})
        unknown = await entities.client.get(
            "/v1/items", params={"entity_type_id": "no_such_type"}, headers=entities.auth()
        )
        unknown_search = await entities.call("POST", "/v1/items/search", {"entity_type_id": "no_such_type"})
        elsewhere = await entities.client.get(
            "/v1/items", params={"entity_type_id": documents["code"]}, headers=entities.auth(tenant="someone-else")
        )

        assert by_code == by_id and len(by_id["items"]) == 2
        assert sorted(titles(searched)) == ["Contract 1", "Contract 2"]
        for refused in (unknown, unknown_search, elsewhere):
            assert refused.status_code == 404 and refused.json()["type"].endswith("/unknown-entity-type")

    async def test_a_bad_filter_is_a_clear_problem(self, entities: Any, documents: dict[str, Any]) -> None:
        for bad in ("fields.nope:eq:1", "fields.pages:gt:many", "fields.tags:gt:a", "title:likes:x"):
            response = await entities.client.get(
                "/v1/items", params={"entity_type_id": documents["id"], "filter": bad}, headers=entities.auth()
            )
            assert response.status_code == 422, (bad, response.text)
            assert response.json()["errors"][0]["field"].startswith("/filter")


class TestPagination:
    async def test_cursor_pages_cover_every_item_once_in_order(self, entities: Any, documents: dict[str, Any]) -> None:
        for sort in ("-created_at", "title", "-fields.pages", "amount"):
            seen: list[str] = []
            cursor = None
            while True:
                params: dict[str, Any] = {"sort": sort, "limit": 1}
                if cursor:
                    params["cursor"] = cursor
                result = await page(entities, documents["id"], **params)
                seen += titles(result)
                cursor = result["next_cursor"]
                if cursor is None:
                    break
            assert sorted(seen) == ["Act 3", "Contract 1", "Contract 2", "Invoice 7"], sort
            assert len(seen) == 4

        by_pages = titles(await page(entities, documents["id"], sort="-fields.pages"))
        assert by_pages == ["Contract 2", "Contract 1", "Invoice 7", "Act 3"]  # no value sorts last

    async def test_a_cursor_of_another_sort_is_refused(self, entities: Any, documents: dict[str, Any]) -> None:
        first = await page(entities, documents["id"], sort="title", limit=1)

        response = await entities.client.get(
            "/v1/items",
            params={"entity_type_id": documents["id"], "sort": "-created_at", "cursor": first["next_cursor"]},
            headers=entities.auth(),
        )

        assert response.status_code == 422


class TestAccess:
    async def test_a_manager_with_own_scope_sees_only_their_items(
        self, entities: Any, documents: dict[str, Any]
    ) -> None:
        grants = {
            "grants": [
                {"entity_type_id": documents["id"], "actions": {"read": "own", "create": "own", "update": "own"}}
            ]
        }
        await entities.ok("PUT", "/v1/directory/roles/manager/grants", grants)
        alice = {"user": "alice", "roles": ("manager",)}
        all_items = (await page(entities, documents["id"]))["items"]
        bobs = next(i for i in all_items if i["assignee_id"] == "bob")

        mine = (
            await entities.client.get(
                "/v1/items", params={"entity_type_id": documents["id"]}, headers=entities.auth(**alice)
            )
        ).json()
        hidden = await entities.call("GET", f"/v1/items/{bobs['id']}", **alice)
        timeline = await entities.call("GET", f"/v1/items/{bobs['id']}/timeline", **alice)
        change = await entities.call(
            "PATCH", f"/v1/items/{bobs['id']}", {"title": "x"}, headers={"If-Match": '"1"'}, **alice
        )
        for_bob = await entities.call(
            "POST", "/v1/items", {"entity_type_id": documents["id"], "title": "t", "assignee_id": "bob"}, **alice
        )
        own = await entities.call("POST", "/v1/items", {"entity_type_id": documents["id"], "title": "Mine"}, **alice)
        outsider = await entities.client.get(
            "/v1/items",
            params={"entity_type_id": documents["id"]},
            headers=entities.auth(user="dave", roles=("guest",)),
        )

        assert sorted(titles(mine)) == ["Contract 1", "Invoice 7"]
        assert (hidden.status_code, timeline.status_code, change.status_code) == (404, 404, 404)
        assert for_bob.status_code == 403
        assert own.status_code == 201 and own.json()["assignee_id"] == "alice"
        assert outsider.json()["items"] == []

    async def test_one_request_decides_reading_and_changing_each_by_its_own_scope(
        self, entities: Any, documents: dict[str, Any]
    ) -> None:
        # A request reads the caller's rights once and decides every check from them (work.access):
        # reading all does not let a manager change what is not theirs, nor give their item away.
        grants = {"grants": [{"entity_type_id": documents["id"], "actions": {"read": "all", "update": "own"}}]}
        await entities.ok("PUT", "/v1/directory/roles/manager/grants", grants)
        alice = {"user": "alice", "roles": ("manager",)}
        all_items = (await page(entities, documents["id"]))["items"]
        bobs = next(i for i in all_items if i["assignee_id"] == "bob")
        alices = next(i for i in all_items if i["assignee_id"] == "alice")
        if_match = {"If-Match": f'"{alices["version"]}"'}

        read = await entities.call("GET", f"/v1/items/{bobs['id']}", **alice)
        change = await entities.call(
            "PATCH", f"/v1/items/{bobs['id']}", {"title": "x"}, headers={"If-Match": f'"{bobs["version"]}"'}, **alice
        )
        give_away = await entities.call(
            "PATCH", f"/v1/items/{alices['id']}", {"assignee_id": "bob"}, headers=if_match, **alice
        )
        own = await entities.call("PATCH", f"/v1/items/{alices['id']}", {"title": "Renamed"}, headers=if_match, **alice)
        again = await entities.call("GET", f"/v1/items/{alices['id']}", **alice)

        assert (read.status_code, change.status_code, give_away.status_code) == (200, 403, 403)
        assert own.status_code == 200 and own.json()["title"] == "Renamed"
        # The answer is built from what the request read and wrote; a fresh read shows the same item.
        assert own.json() == again.json() and own.headers["ETag"] == again.headers["ETag"]
