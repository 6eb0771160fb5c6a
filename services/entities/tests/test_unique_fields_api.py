"""Unique fields: a type's keys hold each value to one live item, on create, update and restore, and
concurrent writers of one value cannot both win."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytestmark = pytest.mark.integration

FIELDS = [
    {"code": "inn", "label": "ИНН", "kind": "string"},
    {"code": "name", "label": "Name", "kind": "string"},
    {"code": "city", "label": "City", "kind": "string"},
]


async def keyed_type(entities: Any, keys: list[list[str]]) -> dict[str, Any]:
    created = await entities.entity_type(FIELDS)
    changed: dict[str, Any] = await entities.ok(
        "PATCH",
        f"/v1/entity-types/{created['id']}",
        {"settings": {"unique_keys": keys}},
        headers={"If-Match": f'"{created["version"]}"'},
    )
    return changed


def new_item(type_id: str, **fields: Any) -> dict[str, Any]:
    return {"entity_type_id": type_id, "title": "Acme", "fields": fields}


class TestUniqueFields:
    async def test_a_second_item_with_the_same_value_is_refused_naming_the_first(self, entities: Any) -> None:
        company = await keyed_type(entities, [["inn"]])
        first = await entities.item(company["id"], fields={"inn": "7701234567"})

        clash = await entities.call("POST", "/v1/items", new_item(company["id"], inn=" 7701234567 "))

        assert clash.status_code == 409
        assert clash.headers["content-type"] == "application/problem+json"
        problem = clash.json()
        assert problem["type"].endswith("/unique-conflict")
        assert problem["fields"] == ["inn"] and problem["conflicting_item_id"] == first["id"]
        assert company["settings"]["unique_keys"] == [["inn"]]

    async def test_fields_unique_together_clash_only_when_all_are_equal(self, entities: Any) -> None:
        company = await keyed_type(entities, [["name", "city"]])
        await entities.item(company["id"], fields={"name": "Ромашка", "city": "Омск"})

        elsewhere = await entities.call("POST", "/v1/items", new_item(company["id"], name="Ромашка", city="Тула"))
        same = await entities.call("POST", "/v1/items", new_item(company["id"], name="РОМАШКА", city="Омск"))

        assert elsewhere.status_code == 201
        assert same.status_code == 409 and same.json()["fields"] == ["name", "city"]

    async def test_an_update_to_a_held_value_is_refused_and_a_freed_value_can_be_taken(self, entities: Any) -> None:
        company = await keyed_type(entities, [["inn"]])
        first = await entities.item(company["id"], fields={"inn": "111"})
        second = await entities.item(company["id"], fields={"inn": "222"})
        path = f"/v1/items/{second['id']}"

        taken = await entities.call("PATCH", path, {"fields": {"inn": "111"}}, headers={"If-Match": '"1"'})
        await entities.ok("PATCH", f"/v1/items/{first['id']}", {"fields": {"inn": "333"}}, headers={"If-Match": '"1"'})
        freed = await entities.call("PATCH", path, {"fields": {"inn": "111"}}, headers={"If-Match": '"1"'})

        assert taken.status_code == 409 and taken.json()["conflicting_item_id"] == first["id"]
        assert freed.status_code == 200 and freed.json()["fields"]["inn"] == "111"

    async def test_a_refused_update_keeps_the_value_the_item_held(self, entities: Any) -> None:
        company = await keyed_type(entities, [["inn"], ["name", "city"]])
        await entities.item(company["id"], fields={"inn": "1", "name": "A", "city": "Омск"})
        second = await entities.item(company["id"], fields={"inn": "2", "name": "B", "city": "Омск"})

        refused = await entities.call(
            "PATCH", f"/v1/items/{second['id']}", {"fields": {"inn": "3", "name": "A"}}, headers={"If-Match": '"1"'}
        )
        still_held = await entities.call("POST", "/v1/items", new_item(company["id"], inn="2"))
        released = await entities.call("POST", "/v1/items", new_item(company["id"], inn="3"))

        assert refused.status_code == 409 and refused.json()["fields"] == ["name", "city"]
        assert still_held.status_code == 409 and still_held.json()["conflicting_item_id"] == second["id"]
        assert released.status_code == 201

    async def test_an_item_in_the_bin_lets_its_value_go_and_cannot_come_back_while_it_is_taken(
        self, entities: Any
    ) -> None:
        company = await keyed_type(entities, [["inn"]])
        first = await entities.item(company["id"], fields={"inn": "444"})
        deleted = await entities.call("DELETE", f"/v1/items/{first['id']}", headers={"If-Match": '"1"'})
        second = await entities.item(company["id"], fields={"inn": "444"})

        restored = await entities.call(
            "POST", f"/v1/items/{first['id']}/restore", headers={"If-Match": deleted.headers["ETag"]}
        )

        assert restored.status_code == 409 and restored.json()["conflicting_item_id"] == second["id"]

    async def test_of_concurrent_creates_with_one_value_exactly_one_wins(self, entities: Any) -> None:
        company = await keyed_type(entities, [["inn"]])

        answers = await asyncio.gather(
            *(entities.call("POST", "/v1/items", new_item(company["id"], inn="555")) for _ in range(8))
        )

        assert sorted(a.status_code for a in answers) == [201] + [409] * 7

    async def test_a_key_is_refused_while_two_items_share_a_value_and_empty_values_never_clash(
        self, entities: Any
    ) -> None:
        company = await entities.entity_type(FIELDS)
        first = await entities.item(company["id"], fields={"inn": "666"})
        second = await entities.item(company["id"], fields={"inn": "666"})
        await entities.item(company["id"], fields={})
        await entities.item(company["id"], fields={})

        refused = await entities.call(
            "PATCH",
            f"/v1/entity-types/{company['id']}",
            {"settings": {"unique_keys": [["inn"]]}},
            headers={"If-Match": f'"{company["version"]}"'},
        )
        await entities.ok("PATCH", f"/v1/items/{second['id']}", {"fields": {"inn": "667"}}, headers={"If-Match": '"1"'})
        accepted = await entities.call(
            "PATCH",
            f"/v1/entity-types/{company['id']}",
            {"settings": {"unique_keys": [["inn"]]}},
            headers={"If-Match": f'"{company["version"]}"'},
        )
        unknown = await entities.call(
            "PATCH",
            f"/v1/entity-types/{company['id']}",
            {"settings": {"unique_keys": [["nope"]]}},
            headers={"If-Match": accepted.headers["ETag"]},
        )

        assert refused.status_code == 409 and {first["id"], second["id"]} & {refused.json()["conflicting_item_id"]}
        assert accepted.status_code == 200
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "/settings/unique_keys/0"
