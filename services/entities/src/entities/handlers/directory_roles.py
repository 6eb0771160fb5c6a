"""Replace a role's rights matrix: one line per entity type, and per pipeline where it differs."""

from __future__ import annotations

from typing import Any

from conveyor_contracts import directory as events

from entities.adapters import directory_reads as reads
from entities.adapters.directory_store import DirectoryWriter, lock_directory
from entities.domain.directory import DirectoryRefusal


async def set_role_grants(writer: DirectoryWriter, role: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The role's matrix becomes ``lines``: changed lines are set, lines no longer given removed."""
    wanted: dict[tuple[str, str | None], dict[str, str]] = {}
    for index, line in enumerate(lines):
        key = (line["entity_type_id"], line.get("pipeline_id"))
        if key in wanted:
            raise DirectoryRefusal(f"/body/grants/{index}", "this entity type and pipeline are listed twice")
        wanted[key] = dict(line["actions"])
    await lock_directory(writer.conn, writer.tenant_id)
    current = {
        (line["entity_type_id"], line["pipeline_id"]): line["actions"]
        for line in await reads.role_grant_lines(writer.conn, writer.tenant_id, role)
    }
    changes = [
        events.RoleGrantsSet.model_validate(
            {"role": role, "entity_type_id": entity_type, "pipeline_id": pipeline, "actions": actions}
        )
        for (entity_type, pipeline), actions in wanted.items()
        if current.get((entity_type, pipeline), {}) != actions
    ] + [
        events.RoleGrantsSet(role=role, entity_type_id=entity_type, pipeline_id=pipeline, actions={})
        for entity_type, pipeline in current
        if (entity_type, pipeline) not in wanted
    ]
    if changes:
        await writer.record("role", role, changes)
    return await reads.role_grant_lines(writer.conn, writer.tenant_id, role)
