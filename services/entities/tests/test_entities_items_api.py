"""Items over HTTP: create, read, partial update with If-Match, recycle bin, timeline, as-of."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytestmark = pytest.mark.integration

COMPANY_FIELDS = [
    {"code": "contact", "label": "Contact person", "kind": "string", "validation": {"max_length": 50}},
    {
        "code": "status",
        "label": "Processing status",
        "kind": "list",
        "options": [{"label": "Imported"}, {"label": "In progress"}],
    },
    {"code": "inn", "label": "Tax id", "kind": "string", "validation": {"pattern": "[0-9]{10}"}},
    {"code": "employees", "label": "Employees", "kind": "integer", "validation": {"min": 0}},
    {"code": "next_call_at", "label": "Next call at", "kind": "datetime"},
]


class TestCreateAndRead:
    async def test_a_created_item_is_what_the_next_get_returns(self, entities: Any) -> None:
        company = await entities.entity_type(COMPANY_FIELDS)

        response = await entities.call(
            "POST",
            "/v1/items",
            {
                "entity_type_id": company["id"],
                "title": "Teplo LLC",
                "amount": "1200.50",
                "currency": "eur",
                "fields": {"contact": "Ivan", "status": "Imported", "inn": "7701234567", "employees": "12"},
            },
        )
        assert response.status_code == 201, response.text
        created = response.json()
        read = await entities.call("GET", f"/v1/items/{created['id']}")

        assert read.json() == created
        assert read.headers["ETag"] == '"1"'
        assert response.headers["Location"] == f"/v1/items/{created['id']}"
        assert created["created_at"].endswith("Z") and created["updated_at"].endswith("Z")
        assert created["currency"] == "EUR"
        status_ids = {o["label"]: o["id"] for o in company["fields"][1]["options"]}
        assert created["fields"] == {
            "contact": "Ivan",
            "status": status_ids["Imported"],
            "inn": "7701234567",
            "employees": 12,
        }
        assert created["assignee_id"] == "admin-1"

    async def test_every_bad_value_is_named_by_its_field(self, entities: Any) -> None:
        company = await entities.entity_type(COMPANY_FIELDS)

        response = await entities.call(
            "POST",
            "/v1/items",
            {"entity_type_id": company["id"], "title": " ", "fields": {"inn": "12", "employees": -1, "nope": 1}},
        )

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"/title", "/fields/inn", "/fields/employees", "/fields/nope"}
        listed = await entities.client.get(
            "/v1/items", params={"entity_type_id": company["id"]}, headers=entities.auth()
        )
        assert listed.json()["items"] == []

    async def test_another_tenants_item_is_not_found(self, entities: Any) -> None:
        company = await entities.entity_type()
        item = await entities.item(company["id"])

        response = await entities.call("GET", f"/v1/items/{item['id']}", tenant="someone-else")

        assert response.status_code == 404


class TestBadInput:
    async def test_wrong_types_unknown_members_and_oversized_bodies_change_nothing(self, entities: Any) -> None:
        company = await entities.entity_type(COMPANY_FIELDS)

        wrong_type = await entities.call(
            "POST", "/v1/items", {"entity_type_id": company["id"], "title": "t", "fields": [1]}
        )
        unknown = await entities.call(
            "POST", "/v1/items", {"entity_type_id": company["id"], "title": "t", "colour": "red"}
        )
        huge = await entities.call(
            "POST", "/v1/items", {"entity_type_id": company["id"], "title": "t", "fields": {"contact": "x" * 2_000_000}}
        )
        too_long = await entities.call("POST", "/v1/items", {"entity_type_id": company["id"], "title": "t" * 501})
        listed = await entities.client.get(
            "/v1/items", params={"entity_type_id": company["id"]}, headers=entities.auth()
        )

        assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["field"] == "/body/fields"
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "/body/colour"
        assert huge.status_code == 413
        assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "/title"
        assert listed.json()["items"] == []

    async def test_another_tenants_type_cannot_be_listed_or_used(self, entities: Any) -> None:
        company = await entities.entity_type()

        listed = await entities.client.get(
            "/v1/items", params={"entity_type_id": company["id"]}, headers=entities.auth(tenant="intruder")
        )
        created = await entities.call(
            "POST", "/v1/items", {"entity_type_id": company["id"], "title": "t"}, tenant="intruder"
        )

        assert listed.status_code == 404 and created.status_code == 404

    async def test_a_repeated_idempotency_key_creates_nothing_twice(self, entities: Any) -> None:
        company = await entities.entity_type()
        body = {"entity_type_id": company["id"], "title": "Once"}

        first = await entities.call("POST", "/v1/items", body, headers={"Idempotency-Key": "row-17"})
        again = await entities.call("POST", "/v1/items", body, headers={"Idempotency-Key": "row-17"})
        listed = await entities.client.get(
            "/v1/items", params={"entity_type_id": company["id"]}, headers=entities.auth()
        )

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
        assert len(listed.json()["items"]) == 1


class TestUpdate:
    async def test_only_the_fields_sent_change(self, entities: Any) -> None:
        company = await entities.entity_type(COMPANY_FIELDS)
        item = await entities.item(company["id"], fields={"contact": "Ivan", "inn": "7701234567"})

        response = await entities.call(
            "PATCH", f"/v1/items/{item['id']}", {"fields": {"contact": "Olga"}}, headers={"If-Match": '"1"'}
        )

        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        assert response.json()["fields"] == {"contact": "Olga", "inn": "7701234567"}
        assert response.json()["title"] == item["title"]

    async def test_an_update_without_if_match_is_refused(self, entities: Any) -> None:
        company = await entities.entity_type()
        item = await entities.item(company["id"])

        response = await entities.call("PATCH", f"/v1/items/{item['id']}", {"title": "New"})

        assert response.status_code == 428

    async def test_two_updates_from_the_same_version_one_wins(self, entities: Any) -> None:
        company = await entities.entity_type()
        item = await entities.item(company["id"])

        first, second = await asyncio.gather(
            entities.call("PATCH", f"/v1/items/{item['id']}", {"title": "A"}, headers={"If-Match": '"1"'}),
            entities.call("PATCH", f"/v1/items/{item['id']}", {"title": "B"}, headers={"If-Match": '"1"'}),
        )

        assert sorted([first.status_code, second.status_code]) == [200, 412]
        winner = first if first.status_code == 200 else second
        current = await entities.ok("GET", f"/v1/items/{item['id']}")
        assert current["title"] == winner.json()["title"]
        assert current["version"] == 2


class TestRecycleBin:
    async def test_delete_restore_and_purge(self, entities: Any) -> None:
        company = await entities.entity_type()
        item = await entities.item(company["id"])
        path = f"/v1/items/{item['id']}"

        deleted = await entities.call("DELETE", path, headers={"If-Match": '"1"'})
        live = (
            await entities.client.get("/v1/items", params={"entity_type_id": company["id"]}, headers=entities.auth())
        ).json()
        binned = (
            await entities.client.get(
                "/v1/items", params={"entity_type_id": company["id"], "recycle_bin": "true"}, headers=entities.auth()
            )
        ).json()
        unconditional = await entities.call("POST", f"{path}/restore")
        stale = await entities.call("POST", f"{path}/restore", headers={"If-Match": '"1"'})
        restored = await entities.call("POST", f"{path}/restore", headers={"If-Match": deleted.headers["ETag"]})

        assert unconditional.status_code == 428 and stale.status_code == 412
        assert deleted.status_code == 200 and deleted.json()["deleted_at"] is not None
        assert live["items"] == []
        assert [i["id"] for i in binned["items"]] == [item["id"]]
        assert restored.status_code == 200 and restored.json()["deleted_at"] is None
        assert (await entities.call("POST", f"{path}/purge", headers={"If-Match": '"3"'})).status_code == 409  # live

        await entities.ok("DELETE", path, headers={"If-Match": '"3"'})
        assert (await entities.call("POST", f"{path}/purge")).status_code == 428
        assert (await entities.call("POST", f"{path}/purge", headers={"If-Match": '"4"'})).status_code == 204
        assert (await entities.call("GET", path)).status_code == 404


class TestHistory:
    async def test_the_timeline_names_old_and_new_values_and_who(self, entities: Any) -> None:
        company = await entities.entity_type(COMPANY_FIELDS)
        item = await entities.item(company["id"], title="Old name")
        await entities.ok(
            "PATCH", f"/v1/items/{item['id']}", {"title": "New name"}, headers={"If-Match": '"1"'}, user="manager-7"
        )

        timeline = await entities.ok("GET", f"/v1/items/{item['id']}/timeline")

        created, changed = timeline["entries"]
        assert created["event"] == "created" and created["actor"] == {"kind": "user", "id": "admin-1"}
        assert changed["changes"] == [
            {"field": "title", "old": "Old name", "new": "New name", "old_label": None, "new_label": None}
        ]
        assert changed["actor"] == {"kind": "user", "id": "manager-7"}

    async def test_the_item_as_it_was_at_a_version_and_a_time(self, entities: Any) -> None:
        company = await entities.entity_type()
        clock = entities.app.state.clock
        item = await entities.item(company["id"], title="First")
        between = clock.now()
        clock.advance(60)
        await entities.ok("PATCH", f"/v1/items/{item['id']}", {"title": "Second"}, headers={"If-Match": '"1"'})

        by_version = await entities.ok("GET", f"/v1/items/{item['id']}?version=1")
        by_time = await entities.client.get(
            f"/v1/items/{item['id']}", params={"as_of": between.isoformat()}, headers=entities.auth()
        )
        before_it_existed = await entities.client.get(
            f"/v1/items/{item['id']}", params={"as_of": "2000-01-01T00:00:00Z"}, headers=entities.auth()
        )

        assert by_version["title"] == "First"
        assert by_time.json()["title"] == "First" and by_time.headers["ETag"] == '"1"'
        assert before_it_existed.status_code == 404
