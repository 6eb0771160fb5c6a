"""An item's history and its list values' labels across the entities and pipelines services, through
HTTP only: the board's cards, the item, the list, the timeline, a field's history and the XLSX export
show labels; the item read as of a time between two moves stands where it stood then."""

from __future__ import annotations

import contextlib
import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e


def stage_named(pipeline: dict[str, Any], name: str) -> dict[str, Any]:
    return next(stage for stage in pipeline["stages"] if stage["name"] == name)


async def clocks_at(instant: datetime, *services: Any) -> None:
    """The services' own test clocks (which stand still) set to one instant: their events' times agree."""
    for service in services:
        await service.ok("POST", "/v1/test/clock", {"set_to": instant.isoformat()})


class TestHistoryAndLabels:
    async def test_labels_everywhere_and_the_placement_as_of_a_time_between_two_moves(
        self, start_service: Any, settled: Any
    ) -> None:
        async with contextlib.AsyncExitStack() as stack:
            entities_service = await stack.enter_async_context(start_service("entities"))
            pipelines_service = await stack.enter_async_context(start_service("pipelines"))
            await self.story(entities_service, pipelines_service, settled)

    async def story(self, entities_service: Any, pipelines_service: Any, settled: Any) -> None:
        tenant = f"history-{uuid.uuid4().hex[:8]}"
        entities = entities_service.as_user(tenant, "admin-1", "admin")
        pipelines = pipelines_service.as_user(tenant, "admin-1", "admin")
        readings = [await service.ok("GET", "/v1/test/clock") for service in (entities, pipelines)]
        start = max(datetime.fromisoformat(r["now"]) for r in readings) + timedelta(seconds=1)
        await clocks_at(start, entities, pipelines)
        deal_type = await entities.ok("POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})
        status = await entities.ok(
            "POST",
            f"/v1/entity-types/{deal_type['id']}/fields",
            {"code": "status", "label": "Status", "kind": "list", "options": [{"label": "Cold"}, {"label": "Hot"}]},
        )
        cold, hot = (o["id"] for o in status["options"])

        async def general() -> list[dict[str, Any]]:
            response = await pipelines.call("GET", f"/v1/pipelines?entity_type_id={deal_type['id']}")
            return list(response.json()["items"]) if response.status_code == 200 else []

        (pipeline,) = await settled(general, lambda found: len(found) == 1)
        await pipelines.ok("PATCH", f"/v1/pipelines/{pipeline['id']}", {"card_fields": ["status"]})
        item = await entities.ok(
            "POST", "/v1/items", {"entity_type_id": deal_type["id"], "title": "Teplo LLC", "fields": {"status": "Cold"}}
        )

        # The card shows the label beside the option id once the pipelines service has both.
        async def card() -> dict[str, Any]:
            board = await pipelines.ok("GET", f"/v1/pipelines/{pipeline['id']}/board")
            cards = [c for column in board["columns"] for c in column["cards"] if c["item_id"] == item["id"]]
            return cards[0] if cards else {}

        first_card = await settled(card, lambda c: c.get("labels") == {"status": "Cold"})

        # Two moves a minute apart (both clocks moved in step), then a change of the status.
        async def on_stage(stage_id: str) -> Any:
            return await settled(
                lambda: entities.ok("GET", f"/v1/items/{item['id']}"), lambda i: i["stage_id"] == stage_id
            )

        async def move(stage_id: str) -> None:
            placement = await pipelines.call("GET", f"/v1/placements/{item['id']}")
            etag = {"If-Match": placement.headers["ETag"]}
            await pipelines.ok("POST", f"/v1/placements/{item['id']}/move", {"to_stage_id": stage_id}, headers=etag)
            await on_stage(stage_id)

        in_progress, won = stage_named(pipeline, "In progress"), stage_named(pipeline, "Won")
        await clocks_at(start + timedelta(minutes=1), entities, pipelines)
        await move(in_progress["id"])
        await clocks_at(start + timedelta(minutes=2), entities, pipelines)
        await move(won["id"])
        between = start + timedelta(seconds=90)
        current = await entities.call("GET", f"/v1/items/{item['id']}")
        await entities.ok(
            "PATCH",
            f"/v1/items/{item['id']}",
            {"fields": {"status": "Hot"}},
            headers={"If-Match": current.headers["ETag"]},
        )

        then = await entities.ok("GET", f"/v1/items/{item['id']}", params={"as_of": between.isoformat()})
        zoneless = await entities.ok(
            "GET", f"/v1/items/{item['id']}", params={"as_of": between.replace(tzinfo=None).isoformat()}
        )
        next_day = await entities.ok(
            "GET", f"/v1/items/{item['id']}", params={"as_of": (between + timedelta(days=1)).date().isoformat()}
        )
        bad = await entities.call("GET", f"/v1/items/{item['id']}", params={"as_of": "soon"})
        history = await entities.ok("GET", f"/v1/items/{item['id']}/fields/status/history")
        timeline = await entities.ok("GET", f"/v1/items/{item['id']}/timeline")
        listed = await entities.ok("GET", "/v1/items", params={"entity_type_id": "deal"})
        export = await entities.call("GET", "/v1/exports/items.xlsx", params={"entity_type_id": "deal"})
        hot_card = await settled(card, lambda c: c.get("labels") == {"status": "Hot"})

        assert first_card["fields"] == {"status": cold}
        assert (then["stage_id"], then["stage_semantic"], then["labels"]) == (
            in_progress["id"],
            "in_progress",
            {"status": "Cold"},
        )
        assert zoneless["stage_id"] == in_progress["id"]
        assert (next_day["stage_id"], next_day["stage_semantic"], next_day["labels"]) == (
            won["id"],
            "success",
            {"status": "Hot"},
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "/query/as_of"
        assert [(h["value"], h["label"]) for h in history["items"]] == [(hot, "Hot"), (cold, "Cold")]
        assert timeline["entries"][-1]["changes"][0]["new_label"] == "Hot"
        assert listed["items"][0]["labels"] == {"status": "Hot"}
        rows = list(load_workbook(io.BytesIO(export.content), read_only=True)["Items"].iter_rows(values_only=True))
        assert (rows[0][8], rows[1][1], rows[1][8]) == ("Status", "Teplo LLC", "Hot")
        assert hot_card["fields"] == {"status": hot}
