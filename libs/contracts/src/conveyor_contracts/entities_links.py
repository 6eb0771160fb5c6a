"""Entities-service events about relations between items, roll-ups, the catalogue and imports.

Kept apart from ``entities.py`` (types, fields, items) so the two areas can grow independently;
the type names are ``conveyor.entities.<aggregate>.<event>.v<N>`` like every entities event.
"""

from __future__ import annotations

from typing import Any, Literal

from conveyor_messaging.contracts import EventContract
from pydantic import Field

# ---------------------------------------------------------------- relations between entity types


class RelationDefined(EventContract, type_name="conveyor.entities.relation.defined.v1"):
    """An admin related two entity types: one parent, many children (or many on both sides)."""

    relation_id: str
    code: str
    name: str
    parent_entity_type_id: str
    child_entity_type_id: str
    cardinality: Literal["one_to_many", "many_to_many"]


class ItemLinked(EventContract, type_name="conveyor.entities.item_link.linked.v1"):
    """Two items were linked through a relation; both cards now list each other."""

    relation_id: str
    parent_item_id: str
    child_item_id: str
    parent_entity_type_id: str
    child_entity_type_id: str


class ItemUnlinked(EventContract, type_name="conveyor.entities.item_link.unlinked.v1"):
    """A link between two items was removed."""

    relation_id: str
    parent_item_id: str
    child_item_id: str
    parent_entity_type_id: str
    child_entity_type_id: str


# ---------------------------------------------------------------- roll-ups


class RollupRuleDefined(EventContract, type_name="conveyor.entities.rollup_rule.defined.v1"):
    """A parent's field is kept equal to an aggregate of its children (deal amount = sum of price * quantity)."""

    rule_id: str
    relation_id: str
    parent_field: str  # "amount" or "fields.<code>"
    aggregate: Literal["sum", "count", "min", "max"]
    child_fields: list[str] = Field(default_factory=list)  # multiplied together per child; empty for count


# ---------------------------------------------------------------- the catalogue


class ProductCreated(EventContract, type_name="conveyor.entities.product.created.v1"):
    """A product entered the catalogue; its SKU is unique in the tenant."""

    product_id: str
    name: str
    sku: str
    base_price: str  # decimal as a string, "300.00"
    currency: str  # ISO 4217


class ProductChanged(EventContract, type_name="conveyor.entities.product.changed.v1"):
    """Some of a product's values changed; each change names the old and the new value."""

    product_id: str
    changes: dict[str, dict[str, Any]]


class ItemBoundToProduct(EventContract, type_name="conveyor.entities.item_link.product_bound.v1"):
    """An item of a catalogue-bound type now refers to a product (or none); it keeps its own name and price."""

    item_id: str
    entity_type_id: str
    product_id: str | None
    previous_product_id: str | None = None


# ---------------------------------------------------------------- CSV imports


class ImportJobStarted(EventContract, type_name="conveyor.entities.import_job.started.v1"):
    """A CSV import began to create items of one type from an uploaded file."""

    job_id: str
    entity_type_id: str
    file_name: str
    rows: int
    idempotency_key: str


class ImportJobFinished(EventContract, type_name="conveyor.entities.import_job.finished.v1"):
    """A CSV import ended: how many rows became items and how many were refused."""

    job_id: str
    entity_type_id: str
    status: Literal["completed", "failed"]
    imported: int
    refused: int
    error: str | None = None
