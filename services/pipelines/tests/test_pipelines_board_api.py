"""The board, stage configuration and tunnels through the API."""

from __future__ import annotations

import json
from typing import Any
from typing import Any as PipelinesApi  # the `api` fixture of conftest.py

import pytest
from conveyor_contracts.directory import RoleGrantsSet

pytestmark = pytest.mark.integration


async def general(api: PipelinesApi, type_id: str) -> dict[str, Any]:
    (pipeline,) = await api.pipelines(type_id)
    return pipeline  # type: ignore[no-any-return]


class TestBoard:
    async def test_columns_count_sum_and_page_with_a_cursor(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        pipeline = await general(api, type_id)
        for n in range(5):
            await api.item(type_id, amount=f"{n + 1}0.00", assignee="manager-1" if n < 3 else "manager-2")

        board = await api.client.get(
            f"/v1/pipelines/{pipeline['id']}/board", params={"limit": 2}, headers=api.headers()
        )

        assert board.status_code == 200, board.text
        new = board.json()["columns"][0]
        assert (new["stage"]["name"], new["count"], new["amount_sum"]) == ("New", 5, "150.00")
        assert len(new["cards"]) == 2 and new["next_cursor"]
        seen = [c["item_id"] for c in new["cards"]]
        cursor = new["next_cursor"]
        while cursor:
            page = await api.client.get(
                f"/v1/pipelines/{pipeline['id']}/board/columns/{new['stage']['id']}",
                params={"limit": 2, "cursor": cursor},
                headers=api.headers(),
            )
            seen += [c["item_id"] for c in page.json()["cards"]]
            cursor = page.json()["next_cursor"]
        assert len(seen) == len(set(seen)) == 5

    async def test_filters_by_assignee_and_field_value(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        pipeline = await general(api, type_id)
        await api.item(type_id, assignee="manager-1", fields={"region": "north"})
        await api.item(type_id, assignee="manager-1", fields={"region": "south"})
        await api.item(type_id, assignee="manager-2", fields={"region": "north"})
        url = f"/v1/pipelines/{pipeline['id']}/board"

        by_assignee = await api.client.get(url, params={"assignee_id": "manager-1"}, headers=api.headers())
        by_field = await api.client.get(url, params={"field.region": "north"}, headers=api.headers())
        both = await api.client.get(
            url, params={"field.region": "north", "assignee_id": "manager-2"}, headers=api.headers()
        )

        assert by_assignee.json()["columns"][0]["count"] == 2
        assert by_field.json()["columns"][0]["count"] == 2
        assert both.json()["columns"][0]["count"] == 1

    async def test_a_manager_with_own_scope_sees_only_their_cards(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        pipeline = await general(api, type_id)
        await api.publish(
            RoleGrantsSet(role="manager", entity_type_id=type_id, actions={"read": "own"}), subject=f"grants-{type_id}"
        )
        await api.item(type_id, assignee="manager-1")
        await api.item(type_id, assignee="manager-2")
        url = f"/v1/pipelines/{pipeline['id']}/board"
        manager = api.headers(user="manager-1", roles=("manager",))

        board = await api.eventually(
            lambda: api.client.get(url, headers=manager), lambda r: r.json()["columns"][0]["count"] > 0
        )

        column = board.json()["columns"][0]
        assert column["count"] == 1
        assert [c["assignee_id"] for c in column["cards"]] == ["manager-1"]

    async def test_another_tenants_board_is_404(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        pipeline = await general(api, type_id)

        response = await api.client.get(
            f"/v1/pipelines/{pipeline['id']}/board", headers=api.headers(tenant="tenant-other")
        )

        assert response.status_code == 404


class TestStages:
    async def test_add_rename_hide_and_reorder(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        pipeline = await general(api, type_id)
        base = f"/v1/pipelines/{pipeline['id']}"

        added = await api.client.post(
            f"{base}/stages", json={"name": "Qualified", "color": "#123456"}, headers=api.headers()
        )
        stage_id = added.json()["id"]
        renamed = await api.client.patch(
            f"{base}/stages/{stage_id}", json={"name": "Qualified lead", "hidden": True}, headers=api.headers()
        )
        order = [stage_id, *[s["id"] for s in pipeline["stages"]]]
        reordered = await api.client.put(f"{base}/stage-order", json={"stage_ids": order}, headers=api.headers())

        assert added.status_code == 201 and renamed.status_code == 200
        assert reordered.json()["stages"][0] | {"sort": 0} == {
            "id": stage_id,
            "pipeline_id": pipeline["id"],
            "name": "Qualified lead",
            "color": "#123456",
            "semantic": "in_progress",
            "hidden": True,
            "sort": 0,
        }

    async def test_a_stage_with_items_is_deleted_only_by_naming_where_they_go(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        pipeline = await general(api, type_id)
        new, in_progress = pipeline["stages"][0]["id"], pipeline["stages"][1]["id"]
        item = await api.item(type_id)
        url = f"/v1/pipelines/{pipeline['id']}/stages/{new}"

        refused = await api.client.delete(url, headers=api.headers())
        deleted = await api.client.delete(url, params={"move_items_to": in_progress}, headers=api.headers())

        assert refused.status_code == 422 and refused.json()["items"] == 1
        assert deleted.status_code == 204
        moved = (await api.client.get(f"/v1/placements/{item['item_id']}", headers=api.headers())).json()
        assert moved["stage_id"] == in_progress and moved["version"] == 2

    async def test_only_admins_configure_and_bad_input_changes_nothing(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        pipeline = await general(api, type_id)
        base = f"/v1/pipelines/{pipeline['id']}"

        by_manager = await api.client.post(
            f"{base}/stages", json={"name": "X"}, headers=api.headers(user="m", roles=("manager",))
        )
        bad_colour = await api.client.post(f"{base}/stages", json={"name": "X", "color": "red"}, headers=api.headers())
        bad_order = await api.client.put(f"{base}/stage-order", json={"stage_ids": ["x"]}, headers=api.headers())

        assert [by_manager.status_code, bad_colour.status_code, bad_order.status_code] == [403, 422, 422]
        assert (await general(api, type_id))["stages"] == pipeline["stages"]

    async def test_a_second_pipeline_can_become_the_default(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        created = await api.client.post(
            "/v1/pipelines",
            json={
                "entity_type_id": type_id,
                "name": "Wholesale",
                "stages": [{"name": "Lead"}, {"name": "Deal", "semantic": "success"}],
            },
            headers=api.headers(),
        )
        assert created.status_code == 201, created.text
        wholesale = created.json()

        await api.client.patch(f"/v1/pipelines/{wholesale['id']}", json={"is_default": True}, headers=api.headers())
        item = await api.item(type_id)

        assert item["stage_id"] == wholesale["stages"][0]["id"]
        assert [p["is_default"] for p in await api.pipelines(type_id)] == [False, True]

    async def test_a_sort_beyond_the_integer_column_is_a_422_not_a_500(self, api: PipelinesApi) -> None:
        sales = await general(api, await api.entity_type())

        response = await api.client.patch(f"/v1/pipelines/{sales['id']}", json={"sort": 2**31}, headers=api.headers())

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "/body/sort"


class TestTunnels:
    async def test_entering_a_stage_with_a_move_tunnel_moves_the_item_on(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        sales = await general(api, type_id)
        delivery = (
            await api.client.post(
                "/v1/pipelines", json={"entity_type_id": type_id, "name": "Delivery"}, headers=api.headers()
            )
        ).json()
        won, target = sales["stages"][2]["id"], delivery["stages"][0]["id"]
        tunnel = await api.client.post(
            "/v1/tunnels", json={"from_stage_id": won, "to_stage_id": target}, headers=api.headers()
        )
        assert tunnel.status_code == 201, tunnel.text
        item = await api.item(type_id)

        moved = await api.client.post(
            f"/v1/placements/{item['item_id']}/move",
            json={"to_stage_id": won},
            headers={**api.headers(), "If-Match": '"1"'},
        )

        assert moved.json()["stage_id"] == target and moved.json()["version"] == 3
        history = (
            await api.client.get(f"/v1/placements/{item['item_id']}/stage-history", headers=api.headers())
        ).json()
        assert [v["stage_id"] for v in history["visits"]] == [sales["stages"][0]["id"], won, target]
        assert history["visits"][2]["tunnel_id"] == tunnel.json()["id"]

    async def test_a_tunnel_closing_a_cycle_is_refused_with_the_cycle_named(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        stages = {s["name"]: s["id"] for s in (await general(api, type_id))["stages"]}
        for a, b in (("New", "In progress"), ("In progress", "Won")):
            ok = await api.client.post(
                "/v1/tunnels", json={"from_stage_id": stages[a], "to_stage_id": stages[b]}, headers=api.headers()
            )
            assert ok.status_code == 201

        refused = await api.client.post(
            "/v1/tunnels", json={"from_stage_id": stages["Won"], "to_stage_id": stages["New"]}, headers=api.headers()
        )

        assert refused.status_code == 422
        assert refused.json()["detail"].endswith("Won → New → In progress → Won")
        listed = await api.client.get("/v1/tunnels", params={"entity_type_id": type_id}, headers=api.headers())
        assert len(listed.json()["items"]) == 2

    async def test_a_copy_tunnel_sends_the_entities_service_a_create_item_command(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        sales = await general(api, type_id)
        delivery = (
            await api.client.post(
                "/v1/pipelines", json={"entity_type_id": type_id, "name": "Delivery"}, headers=api.headers()
            )
        ).json()
        won, target = sales["stages"][2]["id"], delivery["stages"][1]["id"]
        await api.client.post(
            "/v1/tunnels", json={"from_stage_id": won, "to_stage_id": target, "action": "copy"}, headers=api.headers()
        )
        item = await api.item(type_id, title="Big deal")

        moved = await api.client.post(
            f"/v1/placements/{item['item_id']}/move",
            json={"to_stage_id": won},
            headers={**api.headers(), "If-Match": '"1"'},
        )

        assert moved.json()["stage_id"] == won
        async with api.app.state.pool.acquire() as conn:
            (command,) = await conn.fetch(
                "SELECT data::text AS data FROM events WHERE type = 'conveyor.entities.item_command.create.v1'"
            )
        data = json.loads(command["data"])
        assert (data["title"], data["requested_stage_id"], data["source"]) == (
            "Big deal",
            target,
            f"tunnel:{item['item_id']}",
        )
