"""Relations between entity types: which side an item is on and whether a link is allowed."""

from __future__ import annotations

from typing import Any

from entities.domain.errors import Invalid

CARDINALITIES = ("one_to_many", "many_to_many")


def side_of(relation: Any, entity_type_id: str) -> str:
    """ "parent" or "child": which end of the relation an item of this type sits on."""
    if relation["parent_entity_type_id"] == entity_type_id:
        return "parent"
    if relation["child_entity_type_id"] == entity_type_id:
        return "child"
    raise Invalid.one("/relation_id", "the item's entity type is not part of this relation")


def check_link(relation: Any, parent_type_id: str, child_type_id: str) -> None:
    """The parent and the child must be of the relation's two types (in that order)."""
    errors = []
    if parent_type_id != relation["parent_entity_type_id"]:
        errors.append({"field": "/parent_item_id", "message": "the item is not of the relation's parent type"})
    if child_type_id != relation["child_entity_type_id"]:
        errors.append({"field": "/child_item_id", "message": "the item is not of the relation's child type"})
    if errors:
        raise Invalid(errors)
