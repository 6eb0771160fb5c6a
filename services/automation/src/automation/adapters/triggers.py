"""Triggers as rows; only a hash of each webhook secret is kept."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from conveyor_messaging.db import Connection

from automation.adapters.kept_config import KEPT
from automation.adapters.rows import from_jsonb
from automation.domain.triggers import TriggerSpec

_CONFIG = {"when", "step", "template_id", "entry_kind", "from_stage_id", "days", "hours"}


@dataclass(frozen=True, slots=True)
class Trigger:
    trigger_id: str
    spec: TriggerSpec
    secret_hash: str
    version: int


def _trigger(row: Any) -> Trigger:
    config = from_jsonb(row["config"])
    spec = TriggerSpec(
        pipeline_id=row["pipeline_id"], stage_id=row["stage_id"], name=row["name"], kind=row["kind"],
        enabled=row["enabled"], **config,
    )  # fmt: skip
    return Trigger(trigger_id=row["trigger_id"], spec=spec, secret_hash=row["secret_hash"], version=row["version"])


def config_of(spec: TriggerSpec) -> dict[str, Any]:
    """What a kind of trigger needs besides its stage: ``when``, ``step``/``template_id``, ``entry_kind``,
    ``from_stage_id``/``days``/``hours``."""
    return spec.model_dump(mode="json", include=_CONFIG, exclude_none=True)


async def save_trigger(conn: Connection, tenant_id: str, trigger: Trigger) -> None:
    spec = trigger.spec
    await conn.execute(
        """INSERT INTO triggers (tenant_id, trigger_id, pipeline_id, stage_id, name, kind, config, secret_hash,
                                 enabled, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9, $10)
           ON CONFLICT (tenant_id, trigger_id) DO UPDATE
              SET pipeline_id = EXCLUDED.pipeline_id, stage_id = EXCLUDED.stage_id, name = EXCLUDED.name,
                  kind = EXCLUDED.kind, config = EXCLUDED.config, enabled = EXCLUDED.enabled,
                  version = EXCLUDED.version""",
        tenant_id,
        trigger.trigger_id,
        spec.pipeline_id,
        spec.stage_id,
        spec.name,
        spec.kind,
        json.dumps(config_of(spec)),
        trigger.secret_hash,
        spec.enabled,
        trigger.version,
    )


async def load_trigger(conn: Connection, tenant_id: str, trigger_id: str) -> Trigger | None:
    row = await conn.fetchrow("SELECT * FROM triggers WHERE tenant_id = $1 AND trigger_id = $2", tenant_id, trigger_id)
    return _trigger(row) if row else None


async def find_webhook_trigger(conn: Connection, trigger_id: str) -> tuple[str, Trigger] | None:
    """A webhook trigger by id alone (the URL carries no tenant): (tenant, trigger)."""
    row = await conn.fetchrow("SELECT * FROM triggers WHERE trigger_id = $1 AND kind = 'webhook'", trigger_id)
    return (row["tenant_id"], _trigger(row)) if row else None


async def delete_trigger(conn: Connection, tenant_id: str, trigger_id: str) -> None:
    await conn.execute("DELETE FROM triggers WHERE tenant_id = $1 AND trigger_id = $2", tenant_id, trigger_id)


async def triggers_of_pipeline(
    conn: Connection, tenant_id: str, pipeline_id: str, *, kind: str | None = None, generation: str | None = None
) -> list[Trigger]:
    """The pipeline's triggers (of one kind). ``generation``: the tenant's, read with the item (kept_config)."""

    async def load() -> list[Trigger]:
        rows = await conn.fetch(
            "SELECT * FROM triggers WHERE tenant_id = $1 AND pipeline_id = $2 AND ($3::text IS NULL OR kind = $3)"
            " ORDER BY name, trigger_id",
            tenant_id,
            pipeline_id,
            kind,
        )
        return [_trigger(row) for row in rows]

    return await KEPT.read(generation, ("triggers_of_pipeline", tenant_id, pipeline_id, kind), load)


async def page_of_pipeline(
    conn: Connection, tenant_id: str, pipeline_id: str, *, after: tuple[str, str] | None, limit: int
) -> list[Trigger]:
    """A page of the pipeline's triggers by name and id, after ``after`` (that key of the last one a page showed)."""
    rows = await conn.fetch(
        "SELECT * FROM triggers WHERE tenant_id = $1 AND pipeline_id = $2"
        " AND ($3::text IS NULL OR (name, trigger_id) > ($3, $4)) ORDER BY name, trigger_id LIMIT $5",
        tenant_id, pipeline_id, *(after or (None, None)), limit,
    )  # fmt: skip
    return [_trigger(row) for row in rows]
