"""Over Kafka: other services' commands (idempotent) and the pipelines service's placement events."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from conveyor_contracts.entities import CreateItem, UpdateItemFields
from conveyor_contracts.pipelines import ItemMovedToStage, ItemPlaced
from conveyor_messaging.actor import Actor
from entities.handlers.carry_out_item_commands import derived_item_id

pytestmark = pytest.mark.integration


async def get(entities: Any, item_id: str) -> Any:
    return await entities.client.get(f"/v1/items/{item_id}", headers=entities.auth())


async def events_of(entities: Any, stream_id: str) -> list[str]:
    async with entities.app.state.pool.acquire() as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT type FROM events WHERE stream_id = $1 ORDER BY version", stream_id
        )
    return [row["type"] for row in rows]


class TestCommands:
    async def test_create_item_makes_the_same_item_once_per_idempotency_key(self, entities: Any) -> None:
        company = await entities.entity_type([{"code": "contact", "label": "Contact", "kind": "string"}])
        key = f"tunnel-copy-{uuid.uuid4().hex}"
        command = CreateItem(
            idempotency_key=key, entity_type_id=company["id"], title="Copy", fields={"contact": "Ivan"}
        )
        item_id = derived_item_id(entities.tenant, key)

        await entities.publish(command, subject=key)
        await entities.publish(command, subject=key)  # sent again: a new event id, the same key
        created = (await entities.eventually(lambda: get(entities, item_id), lambda r: r.status_code == 200)).json()
        update = UpdateItemFields(
            idempotency_key=f"{key}-u", item_id=item_id, changes={"title": "Copy 2", "fields": {"contact": "Olga"}}
        )
        await entities.publish(update, subject=item_id)
        await entities.publish(update, subject=item_id)
        updated = (await entities.eventually(lambda: get(entities, item_id), lambda r: r.json()["version"] >= 2)).json()
        marker = f"marker-{uuid.uuid4().hex}"
        await entities.publish(
            CreateItem(idempotency_key=marker, entity_type_id=company["id"], title="m"), subject=marker
        )
        await entities.eventually(
            lambda: get(entities, derived_item_id(entities.tenant, marker)), lambda r: r.status_code == 200
        )

        timeline = await entities.ok("GET", f"/v1/items/{item_id}/timeline")
        assert created["fields"] == {"contact": "Ivan"} and created["created_by"] == "robot:tunnel-1"
        assert (updated["title"], updated["fields"], updated["version"]) == ("Copy 2", {"contact": "Olga"}, 2)
        assert [e["event"] for e in timeline["entries"]] == ["created", "changed"]
        assert timeline["entries"][1]["actor"] == {"kind": "robot", "id": "tunnel-1"}

    async def test_a_command_that_cannot_be_carried_out_is_rejected_once(self, entities: Any) -> None:
        company = await entities.entity_type()
        key = f"bad-{uuid.uuid4().hex}"
        command = CreateItem(idempotency_key=key, entity_type_id=company["id"], title="t", fields={"nope": 1})

        await entities.publish(command, subject=key, actor=Actor("process", "p-1"))
        stream = f"command-{derived_item_id(entities.tenant, key)}"
        rejected = await entities.eventually(lambda: events_of(entities, stream), lambda types: len(types) == 1)

        assert rejected == ["conveyor.entities.item_command.rejected.v1"]
        assert (await get(entities, derived_item_id(entities.tenant, key))).status_code == 404

    async def test_a_burst_of_commands_is_claimed_and_settled_at_once_each_carried_out_once(
        self, entities: Any
    ) -> None:
        company = await entities.entity_type([{"code": "contact", "label": "Contact", "kind": "string"}])
        burst = f"burst-{uuid.uuid4().hex[:8]}"
        keys = [f"{burst}-{n}" for n in range(30)]
        for key in keys:
            await entities.publish(
                CreateItem(idempotency_key=key, entity_type_id=company["id"], title=key), subject=key
            )
        item_ids = [derived_item_id(entities.tenant, key) for key in keys]

        async def created() -> int:
            async with entities.app.state.pool.acquire() as conn:
                count: int = await conn.fetchval(
                    "SELECT count(*) FROM command_receipts WHERE tenant_id = $1 AND idempotency_key = ANY($2::text[])"
                    " AND outcome <> 'pending'",
                    entities.tenant, keys,
                )  # fmt: skip
            return count

        # The changes travel keyed by item, the creations by their own key: another partition each, so
        # a change may come first and be refused for an item not there yet. They follow the creations.
        await entities.eventually(created, lambda count: count == len(keys))
        for item_id in item_ids:
            for n in (1, 2):
                change = UpdateItemFields(
                    idempotency_key=f"{item_id}-{n}", item_id=item_id, changes={"fields": {"contact": f"call {n}"}}
                )
                await entities.publish(change, subject=item_id)
        await entities.publish(change, subject=item_id)  # the last one again
        refused = UpdateItemFields(idempotency_key=f"{burst}-bad", item_id=item_ids[0], changes={"fields": {"no": 1}})
        await entities.publish(refused, subject=item_ids[0])

        async def receipts() -> list[asyncpg.Record]:
            async with entities.app.state.pool.acquire() as conn:
                found: list[asyncpg.Record] = await conn.fetch(
                    "SELECT idempotency_key, outcome FROM command_receipts WHERE tenant_id = $1 AND idempotency_key"
                    " LIKE ANY($2::text[])",
                    entities.tenant, [f"{burst}-%", *(f"{i}-%" for i in item_ids)],
                )  # fmt: skip
            return found

        settled = await entities.eventually(
            receipts, lambda rows: len(rows) == 91 and all(r["outcome"] != "pending" for r in rows)
        )
        assert [r["idempotency_key"] for r in settled if r["outcome"] == "rejected"] == [f"{burst}-bad"]
        for item_id in item_ids:
            item = (await get(entities, item_id)).json()
            assert (item["version"], item["fields"]) == (3, {"contact": "call 2"})


class TestPlacementCopy:
    async def test_lists_filter_by_the_pipeline_and_stage_the_pipelines_service_reports(self, entities: Any) -> None:
        deal = await entities.entity_type()
        item = await entities.item(deal["id"], pipeline_id="p-sales", stage_id="s-new")
        other = await entities.item(deal["id"], title="Other")

        placed = ItemPlaced(
            item_id=item["id"],
            entity_type_id=deal["id"],
            pipeline_id="p-sales",
            stage_id="s-new",
            stage_semantic="in_progress",
        )
        await entities.publish(placed, subject=item["id"], version=1)
        moved = ItemMovedToStage(
            item_id=item["id"],
            entity_type_id=deal["id"],
            from_pipeline_id="p-sales",
            from_stage_id="s-new",
            from_semantic="in_progress",
            to_pipeline_id="p-sales",
            to_stage_id="s-won",
            to_semantic="success",
        )
        await entities.publish(moved, subject=item["id"], version=2)
        await entities.publish(placed, subject=item["id"], version=1)  # a late, older event changes nothing

        async def won() -> Any:
            return await entities.client.get(
                "/v1/items",
                params={"entity_type_id": deal["id"], "filter": "stage_id:eq:s-won"},
                headers=entities.auth(),
            )

        result = await entities.eventually(won, lambda r: len(r.json()["items"]) == 1)
        in_pipeline = await entities.client.get(
            "/v1/items",
            params={"entity_type_id": deal["id"], "filter": "pipeline_id:eq:p-sales"},
            headers=entities.auth(),
        )

        assert result.json()["items"][0]["id"] == item["id"]
        assert result.json()["items"][0]["stage_semantic"] == "success"
        assert item["requested_pipeline_id"] == "p-sales" and item["requested_stage_id"] == "s-new"
        assert [i["id"] for i in in_pipeline.json()["items"]] == [item["id"]]
        assert other["id"] not in [i["id"] for i in in_pipeline.json()["items"]]
