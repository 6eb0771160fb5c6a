"""A projected batch reaches rows by its keys: whatever the size of the tables, no statement of a batch of moves,
placements, updates, creations and bin marks reads a whole projection table. (The planner takes a batch's
`jsonb_to_recordset` for 100 rows, and below about 45,000 items it hashed the whole of items for a batch of 20.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from conveyor_contracts import entities, pipelines
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.envelope import Envelope
from reporting.adapters.projector import project
from reporting.adapters.schema import LIVE
from reporting.routing import PROJECTIONS

pytestmark = pytest.mark.integration

ITEMS = 20_000
TABLES = ("items", "stage_visits", "product_lines", "field_visits", "process_steps", "process_instances")


def envelope(tenant: str, event: EventContract, subject: str) -> Envelope:
    return Envelope(
        type=event.type_name,
        source="/conveyor/test",
        subject=subject,
        tenant_id=tenant,
        data=event.model_dump(mode="json"),
        actor=Actor.user("admin-1"),
        aggregate_version=1,
        time=datetime.now(UTC),
    )


def batch(tenant: str) -> list[Envelope]:
    """Twenty touched deals among the many: created, placed, moved, updated, binned."""
    events = []
    for n in range(0, 20_000, 1_000):
        item = f"d{n}"
        events.append(
            envelope(
                tenant,
                pipelines.ItemMovedToStage(
                    item_id=item,
                    entity_type_id="deal",
                    from_pipeline_id="p1",
                    from_stage_id="s0",
                    from_semantic="in_progress",
                    to_pipeline_id="p1",
                    to_stage_id="s1",
                    to_semantic="in_progress",
                ),
                item,
            )
        )
        change = {"title": {"old": item, "new": f"{item}!"}, "assignee_id": {"old": "m1", "new": "m2"}}
        events.append(envelope(tenant, entities.ItemUpdated(item_id=item, entity_type_id="deal", changes=change), item))
    events.append(
        envelope(
            tenant,
            entities.ItemCreated(item_id="new", entity_type_id="deal", title="new", created_by="admin-1"),
            "new",
        )
    )
    events.append(
        envelope(
            tenant,
            pipelines.ItemPlaced(
                item_id="new", entity_type_id="deal", pipeline_id="p1", stage_id="s0", stage_semantic="in_progress"
            ),
            "new",
        )
    )
    events.append(envelope(tenant, entities.ItemDeleted(item_id="d500", entity_type_id="deal"), "d500"))
    return events


class TestBatchPlans:
    async def test_a_small_batch_reads_no_projection_table_whole(self, api: Any) -> None:
        pool = api.app.state.pool
        async with pool.acquire() as conn:
            await conn.copy_records_to_table(
                "items",
                schema_name=LIVE,
                columns=["tenant_id", "item_id", "entity_type_id", "title", "assignee_id", "pipeline_id", "stage_id"],
                records=[(api.tenant, f"d{n}", "deal", f"d{n}", "m1", "p1", "s0") for n in range(ITEMS)],
            )
            await conn.copy_records_to_table(
                "stage_visits",
                schema_name=LIVE,
                columns=["event_id", "tenant_id", "item_id", "pipeline_id", "stage_id", "entered_at"],
                records=[(f"e{n}", api.tenant, f"d{n}", "p1", "s0", datetime.now(UTC)) for n in range(ITEMS)],
            )
            await conn.execute(f"ANALYZE {LIVE}.items; ANALYZE {LIVE}.stage_visits")

            async with conn.transaction():
                await project(conn, LIVE, batch(api.tenant), PROJECTIONS)
                scans = await conn.fetch(
                    "SELECT relname, seq_scan FROM pg_stat_xact_user_tables"
                    " WHERE schemaname = $1 AND relname = ANY($2)",
                    LIVE,
                    list(TABLES),
                )
                moved = await conn.fetchval(
                    f"SELECT count(*) FROM {LIVE}.items WHERE tenant_id = $1 AND stage_id = 's1'", api.tenant
                )

        assert moved == 20
        assert {r["relname"]: r["seq_scan"] for r in scans if r["seq_scan"]} == {}
