"""An item's life on the board, across the entities and pipelines services, through HTTP only.

Created through the entities API, the item lands on the first stage of the type's default
pipeline (which the pipelines service opened when it heard of the type), is moved by a user,
enters a stage with a tunnel that moves it on into another pipeline, and its stage history
shows every visit. The entities service's copy of its place follows.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def stage_named(pipeline: dict[str, Any], name: str) -> dict[str, Any]:
    return next(stage for stage in pipeline["stages"] if stage["name"] == name)


def cards_on(board: dict[str, Any], stage_id: str) -> list[str]:
    column = next(c for c in board["columns"] if c["stage"]["id"] == stage_id)
    return [card["item_id"] for card in column["cards"]]


def column_cards(column: dict[str, Any]) -> list[str]:
    return [card["item_id"] for card in column["cards"]]


class TestAnItemOnTheBoard:
    async def test_it_is_placed_moved_tunnelled_and_its_history_shows_every_visit(
        self, entities_service: Any, pipelines_service: Any, settled: Any
    ) -> None:
        tenant = f"sales-{uuid.uuid4().hex[:8]}"
        entities = entities_service.as_user(tenant, "admin-1", "admin")
        pipelines = pipelines_service.as_user(tenant, "admin-1", "admin")

        # The type exists in entities; pipelines opens its default pipeline from the event.
        deal_type = await entities.ok("POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})

        async def default_pipelines() -> list[dict[str, Any]]:
            response = await pipelines.call("GET", f"/v1/pipelines?entity_type_id={deal_type['id']}")
            return list(response.json()["items"]) if response.status_code == 200 else []

        (general,) = await settled(default_pipelines, lambda found: len(found) == 1)
        assert [s["name"] for s in general["stages"]] == ["New", "In progress", "Won", "Lost"]
        wholesale = await pipelines.ok(
            "POST",
            "/v1/pipelines",
            {
                "entity_type_id": deal_type["id"],
                "name": "Wholesale",
                "stages": [{"name": "Contract"}, {"name": "Shipped", "semantic": "success"}],
            },
        )
        won, contract = stage_named(general, "Won"), stage_named(wholesale, "Contract")
        await pipelines.ok(
            "POST",
            "/v1/tunnels",
            {"from_stage_id": won["id"], "to_stage_id": contract["id"], "action": "move"},
        )

        # An item created through the entities API appears on the first stage of the board.
        item = await entities.ok("POST", "/v1/items", {"entity_type_id": deal_type["id"], "title": "Teplo LLC"})

        async def board() -> dict[str, Any]:
            return dict(await pipelines.ok("GET", f"/v1/pipelines/{general['id']}/board"))

        new = stage_named(general, "New")
        placed = await settled(board, lambda b: item["id"] in cards_on(b, new["id"]))
        assert item["id"] in cards_on(placed, new["id"])

        # A user moves it twice; entering "Won" fires the tunnel into the Wholesale pipeline.
        in_progress = stage_named(general, "In progress")
        moved = await pipelines.ok(
            "POST",
            f"/v1/placements/{item['id']}/move",
            {"to_stage_id": in_progress["id"]},
            headers={"If-Match": '"1"'},
        )
        await pipelines.ok(
            "POST",
            f"/v1/placements/{item['id']}/move",
            {"to_stage_id": won["id"]},
            headers={"If-Match": f'"{moved["version"]}"'},
        )

        async def history() -> list[dict[str, Any]]:
            return list((await pipelines.ok("GET", f"/v1/placements/{item['id']}/stage-history"))["visits"])

        visits = await settled(history, lambda v: len(v) == 4)
        assert [v["stage_name"] for v in visits] == ["New", "In progress", "Won", "Contract"]
        assert [v["entered_by"] for v in visits[1:3]] == ["user:admin-1", "user:admin-1"]
        assert visits[3]["tunnel_id"] is not None
        assert all(v["left_at"] is not None for v in visits[:3]) and visits[3]["left_at"] is None

        # The board no longer shows it in the General pipeline; the entities copy follows its place.
        final_board = await board()
        assert all(item["id"] not in column_cards(column) for column in final_board["columns"])

        async def entities_copy() -> dict[str, Any]:
            return dict(await entities.ok("GET", f"/v1/items/{item['id']}"))

        copy = await settled(entities_copy, lambda i: i["stage_id"] == contract["id"])
        assert (copy["pipeline_id"], copy["stage_id"]) == (wholesale["id"], contract["id"])
