"""Reactions to the low-volume definitions reports name things by: types, fields, stages, products."""

from collections.abc import Sequence
from typing import Any

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from reporting.handlers import fields, new_value


async def when_entity_type_defined_name_it(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    for event in events:
        data = event.data
        changes = {k: new_value(v) for k, v in data.get("changes", {}).items()}
        name = data.get("name", changes.get("name"))
        settings = data.get("settings", changes.get("settings"))
        await conn.execute(
            f"""INSERT INTO {s}.entity_types (tenant_id, entity_type_id, name, settings, code)
                VALUES ($1, $2, coalesce($3, ''), coalesce($4::jsonb, '{{}}'), $5)
                ON CONFLICT (tenant_id, entity_type_id) DO UPDATE
                SET name = coalesce($3, entity_types.name), settings = coalesce($4::jsonb, entity_types.settings),
                    code = coalesce($5, entity_types.code)""",
            event.tenant_id,
            data["entity_type_id"],
            name,
            settings,
            data.get("code"),  # only a creation names it: the code never changes
        )


async def when_field_defined_label_its_values(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    for event in events:
        field: dict[str, Any] = event.data["field"]
        options = {o["id"]: o["label"] for o in field.get("options") or []}
        await conn.execute(
            f"""INSERT INTO {s}.fields (tenant_id, entity_type_id, code, label, kind, options)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb)
                ON CONFLICT (tenant_id, entity_type_id, code) DO UPDATE
                SET label = $4, kind = $5, options = $6::jsonb""",
            event.tenant_id,
            event.data["entity_type_id"],
            field["code"],
            field["label"],
            field["kind"],
            options,
        )
        await fields.forget_fields_that_are_not_lists(
            conn, s, event.tenant_id, event.data["entity_type_id"], field["code"], field["kind"]
        )


_UPSERT_STAGE = """INSERT INTO {s}.stages (tenant_id, stage_id, pipeline_id, entity_type_id, pipeline_name, name, sort,
                                          semantic)
    VALUES ($1, $2, $3, $4, coalesce($5, ''), $6, $7, $8)
    ON CONFLICT (tenant_id, stage_id) DO UPDATE
    SET pipeline_id = $3, name = $6, sort = $7, semantic = $8, deleted = false,
        pipeline_name = coalesce($5, stages.pipeline_name)"""


async def when_pipeline_changed_follow_its_stages(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    for event in events:
        data, tenant = event.data, event.tenant_id
        stages = data.get("stages") or ([data["stage"]] if "stage" in data else [])
        name = data.get("name")
        for stage in stages:
            await conn.execute(
                _UPSERT_STAGE.format(s=s),
                tenant,
                stage["stage_id"],
                data["pipeline_id"],
                data["entity_type_id"],
                name,
                stage["name"],
                stage["sort"],
                stage["semantic"],
            )
        renamed = new_value(data.get("changes", {}).get("name"))
        if isinstance(renamed, str):
            await conn.execute(
                f"UPDATE {s}.stages SET pipeline_name = $3 WHERE tenant_id = $1 AND pipeline_id = $2",
                tenant,
                data["pipeline_id"],
                renamed,
            )
        if "stage_ids" in data:
            await conn.execute(
                f"""UPDATE {s}.stages t SET sort = o.n FROM unnest($3::text[]) WITH ORDINALITY AS o(stage_id, n)
                     WHERE t.tenant_id = $1 AND t.pipeline_id = $2 AND t.stage_id = o.stage_id""",
                tenant,
                data["pipeline_id"],
                data["stage_ids"],
            )
        if event.type.endswith(".stage_deleted.v1"):
            await conn.execute(
                f"UPDATE {s}.stages SET deleted = true WHERE tenant_id = $1 AND stage_id = $2", tenant, data["stage_id"]
            )


async def when_product_defined_name_it(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    for event in events:
        data = event.data
        changes = {k: new_value(v) for k, v in data.get("changes", {}).items()}
        await conn.execute(
            f"""INSERT INTO {s}.products (tenant_id, product_id, name, sku)
                VALUES ($1, $2, coalesce($3, ''), coalesce($4, ''))
                ON CONFLICT (tenant_id, product_id) DO UPDATE
                SET name = coalesce($3, products.name), sku = coalesce($4, products.sku)""",
            event.tenant_id,
            data["product_id"],
            data.get("name", changes.get("name")),
            data.get("sku", changes.get("sku")),
        )
