"""The service's copy of items: fields from the entities' events, the stage from the pipelines' events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection

from automation.adapters.list_options import OPTIONS_OF_ITEM, labels
from automation.adapters.rows import from_jsonb

STANDARD_KEYS = ("amount", "currency", "begin_date", "close_date", "source", "client_id")


@dataclass(frozen=True, slots=True)
class ItemCopy:
    item_id: str
    entity_type_id: str | None
    title: str | None
    assignee_id: str | None
    observer_ids: list[str]
    standard: dict[str, Any]
    fields: dict[str, Any]
    deleted: bool
    pipeline_id: str | None
    stage_id: str | None
    visit_id: str | None
    entered_at: datetime | None
    last_change_at: datetime | None
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # list fields: option id → label
    # False while only a placement has arrived: the item's creation (on another topic) is still on
    # its way, so there is no assignee, title or field to act on yet.
    created: bool = True
    # The tenant's configuration generation when the copy was read (revision 0010, kept_config).
    config_generation: str | None = None
    creator_id: str | None = None  # who created it (the requester); revision 0017

    def view(self) -> dict[str, Any]:
        """What conditions and templates see as ``item``: custom fields by code (list fields as their
        options' labels), then the standard keys (which win), and ``fields`` as a whole."""
        fields = {code: self._label(code, value) for code, value in self.fields.items()}
        return {
            **fields,
            **self.standard,
            "id": self.item_id,
            "item_id": self.item_id,
            "entity_type_id": self.entity_type_id,
            "title": self.title,
            "assignee_id": self.assignee_id,
            "creator_id": self.creator_id,
            "observer_ids": list(self.observer_ids),
            "pipeline_id": self.pipeline_id,
            "stage_id": self.stage_id,
            "fields": fields,
        }

    def _label(self, code: str, value: Any) -> Any:
        options = self.labels.get(code)
        if not options:
            return value
        if isinstance(value, list):
            return [options.get(v, v) for v in value]
        return options.get(value, value) if isinstance(value, str) else value


# Each write below returns the copy as ``load`` reads it: the reactions go on with the item as it now
# is, without reading it again (one statement fewer per item event, bench/README.md, system).
COPY_COLUMNS = (
    f"i.*, {OPTIONS_OF_ITEM.format(item='i')} AS list_options,"
    " (SELECT g.generation::text FROM config_generations g WHERE g.tenant_id = i.tenant_id) AS config_generation"
)


async def load(conn: Connection, tenant_id: str, item_id: str, *, lock: bool = False) -> ItemCopy | None:
    row = await conn.fetchrow(
        f"SELECT {COPY_COLUMNS} FROM automation_items i WHERE i.tenant_id = $1 AND i.item_id = $2"
        + (" FOR UPDATE OF i" if lock else ""),
        tenant_id,
        item_id,
    )
    return copy_of(row) if row is not None else None


def copy_of(row: Any) -> ItemCopy:
    return ItemCopy(
        item_id=row["item_id"],
        entity_type_id=row["entity_type_id"],
        title=row["title"],
        assignee_id=row["assignee_id"],
        observer_ids=list(row["observer_ids"]),
        standard=from_jsonb(row["standard"]),
        fields=from_jsonb(row["fields"]),
        deleted=row["deleted"],
        pipeline_id=row["pipeline_id"],
        stage_id=row["stage_id"],
        visit_id=row["visit_id"],
        entered_at=row["entered_at"],
        last_change_at=row["last_change_at"],
        labels=labels(row["list_options"]),
        created=row["created"],
        config_generation=row["config_generation"],
        creator_id=row["creator_id"],
    )


@dataclass(frozen=True, slots=True)
class Visit:
    """An item's current stay on a stage, and when it last changed there."""

    item_id: str
    visit_id: str
    last_change_at: datetime


async def visits_on_stage(conn: Connection, tenant_id: str, pipeline_id: str, stage_id: str) -> list[Visit]:
    """The items (not deleted) on a stage now."""
    rows = await conn.fetch(
        "SELECT item_id, visit_id, last_change_at FROM automation_items"
        " WHERE tenant_id = $1 AND stage_id = $2 AND pipeline_id = $3 AND NOT deleted AND visit_id IS NOT NULL",
        tenant_id,
        stage_id,
        pipeline_id,
    )
    return [Visit(row["item_id"], row["visit_id"], row["last_change_at"]) for row in rows]


async def save_created(
    conn: Connection,
    tenant_id: str,
    item_id: str,
    *,
    entity_type_id: str,
    title: str,
    assignee_id: str | None,
    observer_ids: list[str],
    standard: dict[str, Any],
    fields: dict[str, Any],
    creator_id: str | None = None,
) -> ItemCopy:
    """Copy a created item (its placement may have come first); returns the copy."""
    row = await conn.fetchrow(
        f"""INSERT INTO automation_items AS i
               (tenant_id, item_id, entity_type_id, title, assignee_id, observer_ids, standard, fields, creator_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb, $9)
           ON CONFLICT (tenant_id, item_id) DO UPDATE
              SET entity_type_id = EXCLUDED.entity_type_id, title = EXCLUDED.title,
                  assignee_id = EXCLUDED.assignee_id, observer_ids = EXCLUDED.observer_ids,
                  standard = EXCLUDED.standard, fields = EXCLUDED.fields, creator_id = EXCLUDED.creator_id,
                  created = true
           RETURNING {COPY_COLUMNS}""",
        tenant_id,
        item_id,
        entity_type_id,
        title,
        assignee_id,
        observer_ids,
        json.dumps(standard),
        json.dumps(fields),
        creator_id,
    )
    return copy_of(row)


async def set_deleted(conn: Connection, tenant_id: str, item_id: str, deleted: bool) -> None:
    await conn.execute(
        "UPDATE automation_items SET deleted = $3 WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id, deleted
    )


async def enter_stage(
    conn: Connection,
    tenant_id: str,
    item_id: str,
    *,
    entity_type_id: str,
    pipeline_id: str,
    stage_id: str,
    visit_id: str,
    entered_at: datetime,
) -> ItemCopy:
    """Put the item on its new stage (the copy is created if its creation has not arrived yet); returns the copy."""
    row = await conn.fetchrow(
        f"""INSERT INTO automation_items AS i
               (tenant_id, item_id, entity_type_id, pipeline_id, stage_id, visit_id, entered_at, last_change_at,
                created)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7, false)
           ON CONFLICT (tenant_id, item_id) DO UPDATE
              SET pipeline_id = EXCLUDED.pipeline_id, stage_id = EXCLUDED.stage_id, visit_id = EXCLUDED.visit_id,
                  entered_at = EXCLUDED.entered_at, last_change_at = EXCLUDED.entered_at
           RETURNING {COPY_COLUMNS}""",
        tenant_id,
        item_id,
        entity_type_id,
        pipeline_id,
        stage_id,
        visit_id,
        entered_at,
    )
    return copy_of(row)
