"""A rebuild replays the journal without the indexes only reports read and builds them before the swap: the
live projections have them all, under the names the rebuild looks for."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from conveyor_access import OPERATOR_ROLE as OPERATOR
from reporting.adapters.schema import LIVE, REPORT_INDEXES

pytestmark = pytest.mark.integration


async def index_definitions(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1", LIVE)
    finally:
        await conn.close()
    return {r["indexname"]: r["indexdef"] for r in rows}


class TestRebuildIndexes:
    async def test_a_rebuild_ends_with_every_index_the_migrations_made(self, api: Any) -> None:
        migrated = await index_definitions(api.database_url)

        rebuilt = await api.client.post("/v1/rebuild", headers=api.headers(roles=(OPERATOR,)))
        after = await index_definitions(api.database_url)

        assert rebuilt.status_code == 200, rebuilt.text
        assert set(REPORT_INDEXES) <= migrated.keys()
        assert after == migrated
