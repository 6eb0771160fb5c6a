"""An entity type's schema as one unit of work sees it: read once, however many steps ask."""

from __future__ import annotations

from entities.adapters import entity_types
from entities.domain.schema import TypeSchema
from entities.handlers.unit import Unit


async def schema_for(unit: Unit, entity_type_id: str) -> TypeSchema | None:
    """The type's schema (None: no such type in the tenant). A request that checks the type, decides
    and answers asks three times; the statement runs once."""
    if entity_type_id not in unit.known_schemas:
        unit.known_schemas[entity_type_id] = await entity_types.schema_of(unit.conn, unit.tenant_id, entity_type_id)
    schema: TypeSchema | None = unit.known_schemas[entity_type_id]
    return schema
