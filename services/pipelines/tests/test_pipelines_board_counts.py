"""Board column counts kept by the items trigger and folded in the background (revision 0004) equal
the items counted one by one: under every kind of change, for every scope of rights, before and
after folds, with two folders at once, and for the items a database had before the migration."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from conveyor_access import Scope, Viewer
from conveyor_kit.migrations import upgrade_in_thread
from pipelines.adapters import board, board_counts
from pipelines.migrations import MIGRATIONS_PATH

pytestmark = pytest.mark.integration

TENANT, OTHER_TENANT = "t-counts", "t-other"
PIPELINES = ("p-1", "p-2")
STAGES = ("new", "work", "won", "lost")
USERS = ("u-1", "u-2", "u-3", None)

FILTERS = {
    "admin": board.BoardFilter(Scope.ALL, Viewer("admin-1", frozenset({"admin"}))),
    "own": board.BoardFilter(Scope.OWN, Viewer("u-1", frozenset({"manager"}))),
    "department": board.BoardFilter(
        Scope.DEPARTMENT, Viewer("u-2", frozenset({"manager"}), department_user_ids=frozenset({"u-2", "u-3"}))
    ),
    "assignee filter": board.BoardFilter(Scope.ALL, Viewer("admin-1", frozenset({"admin"})), assignee_ids=["u-3"]),
    "nobody": board.BoardFilter(Scope.NONE, Viewer("u-9", frozenset())),
}


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    await upgrade_in_thread(MIGRATIONS_PATH, fresh_database)
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()


async def insert_item(conn: Any, tenant: str, item_id: str, placed: bool, rng: random.Random) -> None:
    await conn.execute(
        "INSERT INTO items (tenant_id, item_id, entity_type_id, pipeline_id, stage_id, title, assignee_id, amount,"
        " updated_at) VALUES ($1, $2, 'type-1', $3, $4, 'deal', $5, $6, now())",
        tenant, item_id, rng.choice(PIPELINES) if placed else None, rng.choice(STAGES) if placed else None,
        rng.choice(USERS), rng.choice([None, Decimal("0"), Decimal("120.50"), Decimal("7000")]),
    )  # fmt: skip


async def change_item(conn: Any, item_id: str, rng: random.Random) -> None:
    """One change of the kinds an item's board copy goes through."""
    kind = rng.choice(["move", "move across", "reassign", "amount", "bin", "restore", "title", "delete"])
    where, params = "tenant_id = $1 AND item_id = $2", [TENANT, item_id]
    statements: dict[str, tuple[str, list[Any]]] = {
        "move": (f"UPDATE items SET stage_id = $3 WHERE {where}", [rng.choice(STAGES)]),
        "move across": (
            f"UPDATE items SET pipeline_id = $3, stage_id = $4 WHERE {where}",
            [rng.choice(PIPELINES), rng.choice(STAGES)],
        ),
        "reassign": (f"UPDATE items SET assignee_id = $3 WHERE {where}", [rng.choice(USERS)]),
        "amount": (f"UPDATE items SET amount = $3 WHERE {where}", [rng.choice([None, Decimal("99.99"), Decimal("5")])]),
        "bin": (f"UPDATE items SET deleted = true WHERE {where}", []),
        "restore": (f"UPDATE items SET deleted = false WHERE {where}", []),
        "title": (f"UPDATE items SET title = 'renamed', fields = '{{\"a\": 1}}' WHERE {where}", []),
        "delete": (f"DELETE FROM items WHERE {where}", []),
    }
    sql, extra = statements[kind]
    await conn.execute(sql, *params, *extra)


async def assert_counts_match(conn: Any) -> None:
    for name, flt in FILTERS.items():
        for pipeline in PIPELINES:
            kept = await board.column_totals(conn, TENANT, pipeline, flt)
            counted = await board.counted_totals(conn, TENANT, pipeline, flt)
            assert kept == counted, f"{name}, {pipeline}"


class TestBoardCounts:
    async def test_kept_counts_equal_the_items_through_every_kind_of_change(self, pool: asyncpg.Pool) -> None:
        rng = random.Random(20261123)
        async with pool.acquire() as conn:
            for n in range(120):
                await insert_item(conn, TENANT, f"i-{n}", placed=n % 10 != 0, rng=rng)
                await insert_item(conn, OTHER_TENANT, f"i-{n}", placed=True, rng=rng)  # never counted for TENANT
            await assert_counts_match(conn)
            assert await board.column_totals(conn, TENANT, "p-1", FILTERS["admin"]), "nothing counted at all"
            for round_ in range(6):
                for _ in range(80):
                    await change_item(conn, f"i-{rng.randrange(120)}", rng)
                await assert_counts_match(conn)  # changes not folded yet are counted too
                if round_ % 2:
                    assert await board_counts.fold(conn)
                    await assert_counts_match(conn)
            assert await board_counts.fold(conn)
            assert await conn.fetchval("SELECT count(*) FROM board_count_changes") == 0
            await assert_counts_match(conn)

    async def test_a_title_or_field_change_writes_no_change_row(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            await insert_item(conn, TENANT, "i-1", placed=True, rng=random.Random(1))
            before = await conn.fetchval("SELECT count(*) FROM board_count_changes")
            await conn.execute("UPDATE items SET title = 'x', fields = '{\"b\": 2}', updated_at = now()")

            assert await conn.fetchval("SELECT count(*) FROM board_count_changes") == before

    async def test_two_folders_at_once_count_each_change_once(self, pool: asyncpg.Pool) -> None:
        rng = random.Random(7)
        async with pool.acquire() as conn:
            for n in range(200):
                await insert_item(conn, TENANT, f"i-{n}", placed=True, rng=rng)

        async def fold_and_change(seed: int) -> None:
            local = random.Random(seed)
            async with pool.acquire() as conn:
                for _ in range(20):
                    await change_item(conn, f"i-{local.randrange(200)}", local)
                    await board_counts.fold(conn)

        await asyncio.gather(fold_and_change(1), fold_and_change(2), fold_and_change(3))
        async with pool.acquire() as conn:
            await assert_counts_match(conn)
            assert await board_counts.fold(conn)
            await assert_counts_match(conn)


async def test_the_migration_counts_the_items_already_there(fresh_database: str) -> None:
    await upgrade_in_thread(MIGRATIONS_PATH, fresh_database, "0003_pipelines_directory")
    rng = random.Random(3)
    conn = await asyncpg.connect(fresh_database)
    try:
        for n in range(50):
            await insert_item(conn, TENANT, f"i-{n}", placed=n % 7 != 0, rng=rng)
        await upgrade_in_thread(MIGRATIONS_PATH, fresh_database)

        assert await conn.fetchval("SELECT count(*) FROM board_count_changes") == 0
        assert await conn.fetchval("SELECT sum(items) FROM board_counts") == 50 - 8  # i-0, i-7 … i-49 unplaced
        await assert_counts_match(conn)
    finally:
        await conn.close()
