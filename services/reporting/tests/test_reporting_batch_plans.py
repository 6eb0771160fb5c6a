"""A projected batch reaches rows by its keys: whatever the size of the tables, no statement of a batch of moves,
placements, updates, creations and bin marks reads a whole projection table (the planner, taking a batch for
10-100 rows and going by statistics behind the tables, chose sequential scans for small batches)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from conveyor_contracts import entities, pipelines
from conveyor_messaging.envelope import Envelope
from reporting.adapters.projector import project
from reporting.adapters.schema import LIVE
from reporting.routing import PROJECTIONS

pytestmark = pytest.mark.integration

ITEMS = 20_000
TABLES = ("items", "stage_visits", "product_lines", "field_visits", "process_steps", "process_instances")


def batch(api: Any) -> list[Envelope]:
    """Twenty touched deals among the many: moved, updated and reassigned; one created and placed; one binned."""
    events = []
    for n in range(0, ITEMS, ITEMS // 20):
        item = f"d{n}"
        moved = pipelines.ItemMovedToStage(
            item_id=item,
            entity_type_id="deal",
            from_pipeline_id="p1",
            from_stage_id="s0",
            from_semantic="in_progress",
            to_pipeline_id="p1",
            to_stage_id="s1",
            to_semantic="in_progress",
        )
        change = {"title": {"old": item, "new": f"{item}!"}, "assignee_id": {"old": "m1", "new": "m2"}}
        events += [
            api.envelope(moved, subject=item, source="pipelines"),
            api.envelope(entities.ItemUpdated(item_id=item, entity_type_id="deal", changes=change), subject=item),
        ]
    created = entities.ItemCreated(item_id="new", entity_type_id="deal", title="new", created_by="admin-1")
    placed = pipelines.ItemPlaced(
        item_id="new", entity_type_id="deal", pipeline_id="p1", stage_id="s0", stage_semantic="in_progress"
    )
    binned = entities.ItemDeleted(item_id="d500", entity_type_id="deal")
    return [
        *events,
        api.envelope(created, subject="new"),
        api.envelope(placed, subject="new", source="pipelines"),
        api.envelope(binned, subject="d500"),
    ]


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
                await project(conn, LIVE, batch(api), PROJECTIONS)
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
