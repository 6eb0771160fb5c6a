"""Response bodies of the relations API: relations between entity types, links between items, roll-up rules."""

from __future__ import annotations

from typing import Literal

from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field


class EntityRelation(ApiModel):
    """How items of one entity type (the parent) link to items of another (the children)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "rel-4b2e9c1a7d3f",
                    "code": "deal_products",
                    "name": "Products of a deal",
                    "parent_entity_type_id": "8a0c4e2b6d1f4a3c9e7b5d2f1a0c8e6b",
                    "child_entity_type_id": "2c7e1a9f5b3d4e8c0a6f2b4d9e1c7a3f",
                    "cardinality": "one_to_many",
                }
            ]
        },
    )

    id: str
    code: str
    name: str
    parent_entity_type_id: str
    child_entity_type_id: str
    cardinality: Literal["one_to_many", "many_to_many"] = Field(
        description="one_to_many: a child has at most one parent"
    )


class ItemLink(ApiModel):
    """A link between a parent item and a child item in a relation."""

    relation_id: str
    parent_item_id: str
    child_item_id: str


class RollupRule(ApiModel):
    """A parent's field kept equal to an aggregate of its linked children's values."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "rule-9d3f1b7e2a4c",
                    "relation_id": "rel-4b2e9c1a7d3f",
                    "parent_field": "amount",
                    "aggregate": "sum",
                    "child_fields": ["fields.price", "fields.quantity"],
                }
            ]
        },
    )

    id: str
    relation_id: str
    parent_field: str = Field(description="amount or fields.<code> of the parent")
    aggregate: Literal["sum", "count", "min", "max"]
    child_fields: list[str] = Field(description="the children's fields aggregated, multiplied together per child")
