"""The copy of items written a batch at a time: a fetch of created or placed items in one statement.

An import creates items by the thousand; ``items.save_created`` and ``items.enter_stage`` paid a
statement (and a round trip) per item. These write a whole run and return the copies as ``items.load``
reads them, so the reactions go on without reading them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conveyor_kit.database import as_columns, pairs_found
from conveyor_messaging.db import Connection

from automation.adapters.items import COPY_COLUMNS, ItemCopy, copy_of


@dataclass(frozen=True, slots=True)
class Created:
    """A created item's values, as ``save_created_many`` takes them."""

    tenant_id: str
    item_id: str
    entity_type_id: str
    title: str
    assignee_id: str | None
    observer_ids: list[str]
    standard: dict[str, Any]
    fields: dict[str, Any]
    creator_id: str | None = None


async def save_created_many(conn: Connection, created: list[Created]) -> dict[tuple[str, str], ItemCopy]:
    """``save_created`` for a batch in one statement (each item once); the copies by (tenant, item)."""
    rows = await conn.fetch(
        f"""INSERT INTO automation_items AS i
               (tenant_id, item_id, entity_type_id, title, assignee_id, observer_ids, standard, fields, creator_id)
           SELECT t, n, e, ti, a, ARRAY(SELECT jsonb_array_elements_text(o::jsonb)), s::jsonb, f::jsonb, cr
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[]) AS c(t, n, e, ti, a, o, s, f, cr)
           ON CONFLICT (tenant_id, item_id) DO UPDATE
              SET entity_type_id = EXCLUDED.entity_type_id, title = EXCLUDED.title,
                  assignee_id = EXCLUDED.assignee_id, observer_ids = EXCLUDED.observer_ids,
                  standard = EXCLUDED.standard, fields = EXCLUDED.fields, creator_id = EXCLUDED.creator_id,
                  created = true
           RETURNING {COPY_COLUMNS}""",
        *as_columns(
            created,
            "tenant_id",
            "item_id",
            "entity_type_id",
            "title",
            "assignee_id",
            "observer_ids",
            "standard",
            "fields",
            "creator_id",
        ),
    )
    return {(row["tenant_id"], row["item_id"]): copy_of(row) for row in rows}


@dataclass(frozen=True, slots=True)
class Entry:
    """An item entering a stage, as ``enter_stages`` takes it."""

    tenant_id: str
    item_id: str
    entity_type_id: str
    pipeline_id: str
    stage_id: str
    visit_id: str
    entered_at: datetime


async def on_a_stage(conn: Connection, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (tenant, item) copies are already on a stage (their visit must end first)."""
    return await pairs_found(
        conn,
        "SELECT tenant_id, item_id FROM automation_items"
        " WHERE (tenant_id, item_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND visit_id IS NOT NULL",
        keys,
    )


async def enter_stages(conn: Connection, entries: list[Entry]) -> dict[tuple[str, str], ItemCopy]:
    """``enter_stage`` for a batch of items (each once), in one statement; the copies by (tenant, item).
    A copy not made yet (the move came before the item's creation) is made, not ``created``."""
    rows = await conn.fetch(
        f"""INSERT INTO automation_items AS i
               (tenant_id, item_id, entity_type_id, pipeline_id, stage_id, visit_id, entered_at, last_change_at,
                created)
           SELECT t, n, e, p, s, v, at, at, false
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::timestamptz[]) AS c(t, n, e, p, s, v, at)
           ON CONFLICT (tenant_id, item_id) DO UPDATE
              SET pipeline_id = EXCLUDED.pipeline_id, stage_id = EXCLUDED.stage_id, visit_id = EXCLUDED.visit_id,
                  entered_at = EXCLUDED.entered_at, last_change_at = EXCLUDED.entered_at
           RETURNING {COPY_COLUMNS}""",
        *as_columns(
            entries, "tenant_id", "item_id", "entity_type_id", "pipeline_id", "stage_id", "visit_id", "entered_at"
        ),
    )
    return {(row["tenant_id"], row["item_id"]): copy_of(row) for row in rows}


async def load_many(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], ItemCopy]:
    """``items.load(lock=True)`` for a batch of (tenant, item) in one statement, locked in key order
    (two consumers locking the same copies in different orders could deadlock)."""
    rows = await conn.fetch(
        f"""SELECT {COPY_COLUMNS} FROM automation_items i
             WHERE (i.tenant_id, i.item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
             ORDER BY i.tenant_id, i.item_id
               FOR UPDATE OF i""",
        [tenant for tenant, _ in keys],
        [item for _, item in keys],
    )
    return {(row["tenant_id"], row["item_id"]): copy_of(row) for row in rows}


@dataclass(frozen=True, slots=True)
class Values:
    """A copy's values after its updates, as ``save_values_many`` writes them."""

    tenant_id: str
    item_id: str
    title: str | None
    assignee_id: str | None
    observer_ids: list[str]
    standard: dict[str, Any]
    fields: dict[str, Any]
    last_change_at: datetime | None


async def save_values_many(conn: Connection, values: list[Values]) -> None:
    """Write a batch of copies' values after their updates (each copy once, its final values) in one
    statement."""
    await conn.execute(
        """UPDATE automation_items i
              SET title = n.ti, assignee_id = n.a, observer_ids = ARRAY(SELECT jsonb_array_elements_text(n.o::jsonb)),
                  standard = n.s::jsonb, fields = n.f::jsonb, last_change_at = n.at
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::timestamptz[]) AS n(t, id, ti, a, o, s, f, at)
            WHERE i.tenant_id = n.t AND i.item_id = n.id""",
        *as_columns(
            values, "tenant_id", "item_id", "title", "assignee_id", "observer_ids", "standard", "fields",
            "last_change_at",
        ),
    )  # fmt: skip
