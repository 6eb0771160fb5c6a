"""A type announced by the entities service gets its default pipeline; its items land on stages."""

from __future__ import annotations

from typing import Any
from typing import Any as PipelinesApi  # the `api` fixture of conftest.py

import pytest
from conveyor_contracts import entities
from conveyor_contracts.pipelines import ItemPlaced

pytestmark = pytest.mark.integration


class TestDefaultPipeline:
    async def test_a_new_type_gets_general_with_the_default_stages(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()

        (general,) = await api.pipelines(type_id)

        assert general["name"] == "General" and general["is_default"]
        assert [(s["name"], s["semantic"]) for s in general["stages"]] == [
            ("New", "in_progress"),
            ("In progress", "in_progress"),
            ("Won", "success"),
            ("Lost", "failure"),
        ]

    async def test_an_item_created_over_kafka_lands_on_the_first_stage_of_the_default_pipeline(
        self, api: PipelinesApi
    ) -> None:
        type_id = await api.entity_type()
        (general,) = await api.pipelines(type_id)

        item = await api.item(type_id)

        assert item["pipeline_id"] == general["id"]
        assert item["stage_id"] == general["stages"][0]["id"]
        assert item["version"] == 1


class TestPlacementOfABatch:
    """An import's items arrive by the hundred in one fetch and are placed set-based."""

    async def test_a_burst_of_items_lands_on_the_board_once_each_with_its_cause_and_later_changes_kept(
        self, api: PipelinesApi
    ) -> None:
        type_id = await api.entity_type()
        (general,) = await api.pipelines(type_id)
        first, second = (s["id"] for s in general["stages"][:2])
        created = [
            entities.ItemCreated(
                item_id=f"burst-{n:03d}",
                entity_type_id=type_id,
                title=f"Company {n}",
                assignee_id="manager-1",
                amount="10.00",
                currency="EUR",
                requested_stage_id=second if n % 10 == 0 else None,
                created_by="importer",
            )
            for n in range(300)
        ]
        envelopes = [api.envelope(event, subject=event.item_id) for event in created]
        renamed = api.envelope(
            entities.ItemUpdated(
                item_id="burst-007", entity_type_id=type_id, changes={"title": {"old": "Company 7", "new": "Renamed"}}
            ),
            subject="burst-007",
            version=2,
        )
        repeat = api.envelope(created[5], subject="burst-005")  # the same item in a new event: a repeated command
        for envelope in [*envelopes, renamed, repeat]:
            await api.send(envelope)
        await api.producer.flush()

        pool = api.app.state.pool
        placed = await api.eventually(
            lambda: pool.fetch(
                "SELECT stream_id, metadata->>'causation_id' AS cause FROM events WHERE tenant_id = $1 AND type = $2",
                api.tenant,
                ItemPlaced.type_name,
            ),
            lambda rows: len(rows) >= 300,
        )
        assert len(placed) == 300
        cause_of = {row["stream_id"]: row["cause"] for row in placed}
        assert all(cause_of[e.item_id] == envelope.id for e, envelope in zip(created, envelopes, strict=True))
        stages = dict(
            await pool.fetch("SELECT stage_id, count(*) FROM items WHERE tenant_id = $1 GROUP BY 1", api.tenant)
        )
        assert stages == {first: 270, second: 30}
        assert await pool.fetchval(
            "SELECT count(*) FROM stage_visits WHERE tenant_id = $1 AND visit = 1 AND left_at IS NULL", api.tenant
        ) == 300  # fmt: skip
        renamed_item = await api.eventually(
            lambda: api.client.get("/v1/placements/burst-007", headers=api.headers()), lambda r: r.status_code == 200
        )
        assert renamed_item.json()["title"] == "Renamed"
        counts = await api.client.get(f"/v1/pipelines/{general['id']}/board", headers=api.headers())
        assert counts.status_code == 200, counts.text
        columns = {c["stage"]["id"]: c["count"] for c in counts.json()["columns"]}
        assert columns[first] == 270 and columns[second] == 30

    async def test_a_burst_of_updates_changes_each_card_once_with_changes_of_one_item_kept_in_order(
        self, api: PipelinesApi
    ) -> None:
        type_id = await api.entity_type()
        created = [
            entities.ItemCreated(
                item_id=f"card-{n:02d}", entity_type_id=type_id, title=f"Company {n}", assignee_id="manager-1",
                amount="10.00", currency="EUR", fields={"region": "north", "size": n}, created_by="importer",
            )
            for n in range(40)
        ]  # fmt: skip
        for event in created:
            await api.send(api.envelope(event, subject=event.item_id))
        await api.eventually(
            lambda: api.app.state.pool.fetchval("SELECT count(*) FROM items WHERE tenant_id = $1", api.tenant),
            lambda n: n == 40,
        )

        def updated(n: int, version: int, changes: dict[str, Any]) -> Any:
            event = entities.ItemUpdated(item_id=f"card-{n:02d}", entity_type_id=type_id, changes=changes)
            return api.envelope(event, subject=f"card-{n:02d}", version=version)

        for n in range(40):  # every card twice, the second change of a key winning
            await api.send(updated(n, 2, {"title": {"new": f"First {n}"}, "fields.region": {"new": "south"}}))
            await api.send(updated(n, 3, {"title": {"new": f"Second {n}"}, "amount": {"new": "12.50" if n else None}}))
        await api.send(updated(0, 4, {"fields.size": {"new": 100}, "assignee_id": {"new": None}}))
        await api.producer.flush()

        cards = await api.eventually(
            lambda: api.app.state.pool.fetch(
                "SELECT item_id, title, assignee_id, amount, currency, fields FROM items WHERE tenant_id = $1"
                " ORDER BY item_id",
                api.tenant,
            ),
            lambda rows: rows[0]["fields"].get("size") == 100 and all(r["title"].startswith("Second") for r in rows),
        )
        first, *others = cards
        assert (first["title"], first["assignee_id"], first["amount"], first["currency"]) == (
            "Second 0",
            None,
            None,
            "EUR",
        )
        assert first["fields"] == {"region": "south", "size": 100}
        assert {(r["title"], str(r["amount"]), r["assignee_id"], r["fields"]["region"]) for r in others} == {
            (f"Second {n}", "12.50", "manager-1", "south") for n in range(1, 40)
        }
