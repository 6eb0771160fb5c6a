"""Relations, links, roll-ups and the catalogue over HTTP, with the roll-up consumer on real Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytestmark = pytest.mark.integration

LINE_FIELDS = [
    {"code": "price", "label": "Price", "kind": "decimal"},
    {"code": "quantity", "label": "Quantity", "kind": "integer"},
]


async def settled(probe: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool], within: float = 15.0) -> Any:
    """The probe's value once `accept` takes it (roll-ups travel through Kafka)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if accept(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def deal_with_lines(entities: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(deal type, line type, relation, roll-up rule): deal amount = sum of price * quantity of its lines."""
    deal = await entities.entity_type(default_currency="RUB")
    line = await entities.entity_type(LINE_FIELDS, catalogue_binding=True)
    relation = await entities.ok(
        "POST",
        "/v1/relations",
        {
            "code": f"deal_lines_{uuid.uuid4().hex[:6]}",
            "name": "Product lines",
            "parent_entity_type_id": deal["id"],
            "child_entity_type_id": line["id"],
            "cardinality": "one_to_many",
        },
    )
    rule = await entities.ok(
        "POST",
        "/v1/rollup-rules",
        {
            "relation_id": relation["id"],
            "parent_field": "amount",
            "aggregate": "sum",
            "child_fields": ["fields.price", "fields.quantity"],
        },
    )
    return deal, line, relation, rule


async def link(entities: Any, relation: dict[str, Any], parent: str, child: str, **auth: Any) -> Any:
    return await entities.call(
        "POST",
        f"/v1/relations/{relation['id']}/links",
        {"parent_item_id": parent, "child_item_id": child},
        **auth,
    )


class TestRollup:
    async def test_the_deal_amount_follows_its_lines_and_the_timeline_names_the_rule(self, entities: Any) -> None:
        deal_type, line_type, relation, rule = await deal_with_lines(entities)
        deal = await entities.item(deal_type["id"], "Big deal")
        lines = [
            await entities.item(line_type["id"], name, fields={"price": price, "quantity": quantity})
            for name, price, quantity in [("Basketball ball", "500", 1), ("Football ball", "300", 2)]
        ]

        for line in lines:
            assert (await link(entities, relation, deal["id"], line["id"])).status_code == 201

        async def amount() -> Any:
            return (await entities.ok("GET", f"/v1/items/{deal['id']}"))["amount"]

        assert await settled(amount, lambda a: a == "1100.00") == "1100.00"
        await entities.ok(
            "PATCH", f"/v1/items/{lines[1]['id']}", {"fields": {"quantity": 3}}, headers={"If-Match": '"1"'}
        )
        assert await settled(amount, lambda a: a == "1400.00") == "1400.00"
        await entities.ok("DELETE", f"/v1/relations/{relation['id']}/links/{deal['id']}/{lines[0]['id']}")
        assert await settled(amount, lambda a: a == "900.00") == "900.00"
        timeline = await entities.ok("GET", f"/v1/items/{deal['id']}/timeline")
        robots = [e for e in timeline["entries"] if e["actor"] == {"kind": "robot", "id": f"rollup-{rule['id']}"}]
        amounts = [c["new"] for e in robots for c in e["changes"] if c["field"] == "amount"]
        # The two links may reach the roll-up in one fetch: then 500.00 is never written on its own.
        assert amounts[-3:] == ["1100.00", "1400.00", "900.00"]
        assert set(amounts) <= {"500.00", "1100.00", "1400.00", "900.00"}

    async def test_a_rule_must_name_number_fields_of_the_relations_types(self, entities: Any) -> None:
        _deal_type, _line_type, relation, _rule = await deal_with_lines(entities)

        response = await entities.call(
            "POST",
            "/v1/rollup-rules",
            {
                "relation_id": relation["id"],
                "parent_field": "fields.nope",
                "aggregate": "sum",
                "child_fields": ["title"],
            },
        )

        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"/parent_field", "/child_fields/0"}


class TestLists:
    async def test_relations_and_rules_are_pages_and_a_type_filters_by_its_id_or_its_code(self, entities: Any) -> None:
        deal_type, line_type, relation, rule = await deal_with_lines(entities)
        other = await entities.entity_type()
        second = await entities.ok(
            "POST",
            "/v1/relations",
            {
                "code": "zz_other",
                "name": "Zz other",
                "parent_entity_type_id": other["id"],
                "child_entity_type_id": line_type["id"],
                "cardinality": "many_to_many",
            },
        )

        first_page = await entities.ok("GET", "/v1/relations?limit=1")
        second_page = await entities.ok("GET", f"/v1/relations?limit=1&cursor={first_page['next_cursor']}")
        by_id = await entities.ok("GET", f"/v1/relations?entity_type_id={deal_type['id']}")
        by_code = await entities.ok("GET", f"/v1/relations?entity_type_id={deal_type['code']}")
        of_lines = await entities.ok("GET", f"/v1/relations?entity_type_id={line_type['code']}")
        unknown = await entities.call("GET", "/v1/relations?entity_type_id=no_such_type")
        rules = await entities.ok("GET", "/v1/rollup-rules?limit=1")

        assert first_page == {"items": [relation], "next_cursor": first_page["next_cursor"]}
        assert second_page == {"items": [second], "next_cursor": None}
        assert by_id == by_code == {"items": [relation], "next_cursor": None}
        assert [r["id"] for r in of_lines["items"]] == [relation["id"], second["id"]]
        assert unknown.status_code == 404 and unknown.json()["type"].endswith("/unknown-entity-type")
        assert unknown.json()["title"] == "Unknown entity type"
        assert rules == {"items": [rule], "next_cursor": None}


class TestLinks:
    async def test_linked_items_are_pages_in_the_order_they_were_linked(self, entities: Any) -> None:
        deal_type, line_type, relation, _rule = await deal_with_lines(entities)
        deal = await entities.item(deal_type["id"], "Deal")
        lines = [await entities.item(line_type["id"], f"Line {n}") for n in range(3)]
        for line in lines:
            await link(entities, relation, deal["id"], line["id"])
        path = f"/v1/items/{deal['id']}/links/{relation['id']}"

        first = await entities.ok("GET", f"{path}?limit=2")
        rest = await entities.ok("GET", f"{path}?limit=2&cursor={first['next_cursor']}")
        forged = await entities.call("GET", f"{path}?cursor=bm9wZQ")

        # The test clock stands still: the three links share one instant, and the item id breaks the tie.
        assert len(first["items"]) == 2 and first["next_cursor"] and rest["next_cursor"] is None
        assert sorted(i["title"] for i in first["items"] + rest["items"]) == ["Line 0", "Line 1", "Line 2"]
        assert forged.status_code == 422

    async def test_linked_items_list_from_both_sides_without_the_unseen(self, entities: Any) -> None:
        deal_type, line_type, relation, _rule = await deal_with_lines(entities)
        await entities.ok(
            "PUT",
            "/v1/directory/roles/manager/grants",
            {"grants": [{"entity_type_id": t["id"], "actions": {"read": "own"}} for t in (deal_type, line_type)]},
        )
        deal = await entities.item(deal_type["id"], "Deal", assignee_id="m-1")
        mine = await entities.item(line_type["id"], "Mine", assignee_id="m-1")
        theirs = await entities.item(line_type["id"], "Theirs", assignee_id="m-2")
        for line in (mine, theirs):
            await link(entities, relation, deal["id"], line["id"])

        as_admin = await entities.ok("GET", f"/v1/items/{deal['id']}/links/{relation['id']}")
        as_manager = await entities.ok(
            "GET", f"/v1/items/{deal['id']}/links/{relation['id']}", user="m-1", roles=("manager",)
        )
        from_child = await entities.ok("GET", f"/v1/items/{mine['id']}/links/{relation['id']}")

        assert {i["title"] for i in as_admin["items"]} == {"Mine", "Theirs"}
        assert [i["title"] for i in as_manager["items"]] == ["Mine"]
        assert [i["id"] for i in from_child["items"]] == [deal["id"]]

    async def test_bad_links_are_refused_and_change_nothing(self, entities: Any) -> None:
        deal_type, line_type, relation, _rule = await deal_with_lines(entities)
        deal = await entities.item(deal_type["id"], "Deal")
        other_deal = await entities.item(deal_type["id"], "Other deal")
        line = await entities.item(line_type["id"], "Line")
        await link(entities, relation, deal["id"], line["id"])

        wrong_way = await link(entities, relation, line["id"], deal["id"])
        second_parent = await link(entities, relation, other_deal["id"], line["id"])
        other_tenant = await link(entities, relation, deal["id"], line["id"], tenant="someone-else")
        again = await link(entities, relation, deal["id"], line["id"])

        assert (wrong_way.status_code, second_parent.status_code) == (422, 409)
        assert (other_tenant.status_code, again.status_code) == (404, 200)
        linked = await entities.ok("GET", f"/v1/items/{other_deal['id']}/links/{relation['id']}")
        assert linked["items"] == []


class TestCatalogue:
    async def test_a_line_binds_to_a_product_and_keeps_its_own_name_and_price(self, entities: Any) -> None:
        _deal_type, line_type, _relation, _rule = await deal_with_lines(entities)
        ball = await entities.ok(
            "POST", "/v1/products", {"name": "Ball", "sku": "BALL-1", "base_price": 300, "currency": "rub"}
        )
        line = await entities.item(line_type["id"], "Basketball ball", fields={"price": "500", "quantity": 1})

        bound = await entities.call("PUT", f"/v1/items/{line['id']}/product", {"product_id": ball["id"]})
        items = await entities.ok("GET", f"/v1/products/{ball['id']}/items")

        assert bound.status_code == 200, bound.text
        assert ball | {"id": None} == {
            "id": None,
            "name": "Ball",
            "sku": "BALL-1",
            "base_price": "300",
            "currency": "RUB",
            "version": 1,
        }
        assert [(i["title"], i["fields"]["price"]) for i in items["items"]] == [("Basketball ball", "500")]
        assert items["next_cursor"] is None

    async def test_a_products_items_are_paged_oldest_first(self, entities: Any) -> None:
        _deal_type, line_type, _relation, _rule = await deal_with_lines(entities)
        ball = await entities.ok(
            "POST", "/v1/products", {"name": "Ball", "sku": "B-P", "base_price": 1, "currency": "EUR"}
        )
        for title in ("first", "second", "third"):
            line = await entities.item(line_type["id"], title, fields={"price": "1", "quantity": 1})
            await entities.ok("PUT", f"/v1/items/{line['id']}/product", {"product_id": ball["id"]})
            entities.app.state.clock.advance(1)  # the test clock stands still otherwise

        first = await entities.ok("GET", f"/v1/products/{ball['id']}/items?limit=2")
        rest = await entities.ok("GET", f"/v1/products/{ball['id']}/items?limit=2&cursor={first['next_cursor']}")

        assert [i["title"] for i in first["items"] + rest["items"]] == ["first", "second", "third"]
        assert rest["next_cursor"] is None

    async def test_a_product_changes_only_with_the_version_read(self, entities: Any) -> None:
        body = {"name": "Ball", "sku": "B-V", "base_price": "300", "currency": "EUR"}
        created = await entities.call("POST", "/v1/products", body)
        path = f"/v1/products/{created.json()['id']}"

        blind = await entities.call("PATCH", path, {"base_price": "320"})
        changed = await entities.call(
            "PATCH", path, {"base_price": "320"}, headers={"If-Match": created.headers["ETag"]}
        )
        stale = await entities.call("PATCH", path, {"base_price": "330"}, headers={"If-Match": '"1"'})
        read = await entities.call("GET", path)

        assert (created.headers["ETag"], changed.headers["ETag"], read.headers["ETag"]) == ('"1"', '"2"', '"2"')
        assert (blind.status_code, blind.json()["type"].rsplit("/", 1)[-1]) == (428, "precondition-required")
        assert (stale.status_code, stale.json()["type"].rsplit("/", 1)[-1]) == (412, "version-mismatch")
        assert (stale.json()["expected_version"], stale.json()["current_version"]) == (1, 2)
        assert read.json()["base_price"] == "320"

    async def test_bad_products_and_bindings_are_refused(self, entities: Any) -> None:
        deal_type, _line_type, _relation, _rule = await deal_with_lines(entities)
        await entities.ok("POST", "/v1/products", {"name": "Ball", "sku": "B-2", "base_price": "1", "currency": "EUR"})
        deal = await entities.item(deal_type["id"], "Deal")

        same_sku = await entities.call(
            "POST", "/v1/products", {"name": "Other", "sku": "B-2", "base_price": "1", "currency": "EUR"}
        )
        bad = await entities.call(
            "POST", "/v1/products", {"name": "", "sku": "B-3", "base_price": "-1", "currency": "X"}
        )
        not_bound_type = await entities.call("PUT", f"/v1/items/{deal['id']}/product", {"product_id": None})
        by_manager = await entities.call(
            "POST",
            "/v1/products",
            {"name": "M", "sku": "B-4", "base_price": "1", "currency": "EUR"},
            user="m-1",
            roles=("manager",),
        )

        assert same_sku.status_code == 409
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"/name", "/base_price", "/currency"}
        assert not_bound_type.status_code == 409
        assert by_manager.status_code == 403
        assert [p["sku"] for p in (await entities.ok("GET", "/v1/products"))["items"]] == ["B-2"]

    async def test_products_are_listed_by_name_page_by_page(self, entities: Any) -> None:
        for name in ("Cone", "Ball", "Net"):
            await entities.ok("POST", "/v1/products", {"name": name, "sku": name, "base_price": 1, "currency": "EUR"})

        first = await entities.ok("GET", "/v1/products?limit=2")
        rest = await entities.ok("GET", f"/v1/products?limit=2&cursor={first['next_cursor']}")
        searched = await entities.ok("GET", "/v1/products?q=on")

        assert [p["name"] for p in first["items"] + rest["items"]] == ["Ball", "Cone", "Net"]
        assert rest["next_cursor"] is None
        assert [p["name"] for p in searched["items"]] == ["Cone"]
