"""Events the entities service publishes (`conveyor.entities.<aggregate>.<event>.v<N>`).

Each event is an `EventContract` subclass with `type_name=...`; its first docstring line is the
summary shown in docs/asyncapi.yaml. Field values travel as JSON: decimals and money amounts as
strings ("1234.50"), dates as ISO 8601, list options by their stable option ids.
"""

from __future__ import annotations

from typing import Any

from conveyor_messaging.contracts import EventContract
from pydantic import BaseModel, ConfigDict, Field

# ---------------------------------------------------------------- entity types and their fields


class Option(BaseModel):
    """One value of a list field or a dictionary; its id never changes, a hidden one keeps old values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    label: str
    hidden: bool = False


class FieldDefinition(BaseModel):
    """A custom field of an entity type as other services see it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field_id: str
    code: str  # the key of the field's value in items' `fields`; never changes
    label: str
    kind: str  # string, text, integer, decimal, money, boolean, date, datetime, list, user, link, url, email, phone
    multiple: bool = False
    required: bool = False
    hidden: bool = False
    options: list[Option] | None = None  # list fields with their own options
    dictionary_id: str | None = None  # list fields whose options come from a dictionary
    link_entity_type_id: str | None = None
    default: Any = None
    validation: dict[str, Any] = Field(default_factory=dict)  # min_length, max_length, min, max, pattern, region


class DictionaryCreated(EventContract, type_name="conveyor.entities.dictionary.created.v1"):
    """An admin defined a tenant-wide value list (e.g. "Industry") that list fields can use."""

    dictionary_id: str
    code: str
    name: str
    options: list[Option]


class DictionaryChanged(EventContract, type_name="conveyor.entities.dictionary.changed.v1"):
    """A dictionary's name or options changed; options keep their ids, removed ones are hidden."""

    dictionary_id: str
    name: str
    options: list[Option]


class EntityTypeCreated(EventContract, type_name="conveyor.entities.entity_type.created.v1"):
    """An admin defined a new entity type (a "smart process")."""

    entity_type_id: str
    code: str
    name: str
    settings: dict[str, Any]


class EntityTypeChanged(EventContract, type_name="conveyor.entities.entity_type.changed.v1"):
    """An entity type's name or settings changed; only what changed is listed."""

    entity_type_id: str
    changes: dict[str, Any]


class EntityTypeArchived(EventContract, type_name="conveyor.entities.entity_type.archived.v1"):
    """An entity type was archived: no new items, existing ones stay readable."""

    entity_type_id: str


class FieldAdded(EventContract, type_name="conveyor.entities.entity_type.field_added.v1"):
    """A custom field was added to an entity type."""

    entity_type_id: str
    field: FieldDefinition


class FieldChanged(EventContract, type_name="conveyor.entities.entity_type.field_changed.v1"):
    """A custom field's definition changed (label, options, validation, hidden...)."""

    entity_type_id: str
    field: FieldDefinition


# ---------------------------------------------------------------- items


class ItemCreated(EventContract, type_name="conveyor.entities.item.created.v1"):
    """An item was created; the pipelines service places it on a stage."""

    item_id: str
    entity_type_id: str
    title: str
    assignee_id: str | None = None
    observer_ids: list[str] = Field(default_factory=list)
    amount: str | None = None
    currency: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)  # by field code
    requested_pipeline_id: str | None = None
    requested_stage_id: str | None = None
    created_by: str
    begin_date: str | None = None
    close_date: str | None = None
    source: str | None = None
    client_id: str | None = None


class ItemUpdated(EventContract, type_name="conveyor.entities.item.updated.v1"):
    """Some of an item's values changed; each change names the old and the new value."""

    item_id: str
    entity_type_id: str
    changes: dict[str, dict[str, Any]]  # {"title": {"old": "A", "new": "B"}, "fields.status": {...}}
    updated_by: str | None = None


class ItemDeleted(EventContract, type_name="conveyor.entities.item.deleted.v1"):
    """An item went to the recycle bin (it can be restored)."""

    item_id: str
    entity_type_id: str


class ItemRestored(EventContract, type_name="conveyor.entities.item.restored.v1"):
    """An item came back from the recycle bin."""

    item_id: str
    entity_type_id: str


class ItemPurged(EventContract, type_name="conveyor.entities.item.purged.v1"):
    """An item was removed for good from the recycle bin."""

    item_id: str
    entity_type_id: str


# ---------------------------------------------------------------- commands other services send


class ItemCommand(EventContract):
    """Base of commands to the entities service; a repeated idempotency key does nothing twice."""

    idempotency_key: str = Field(min_length=1, max_length=200)


class CreateItem(ItemCommand, type_name="conveyor.entities.item_command.create.v1"):
    """Create an item (e.g. a tunnel's linked copy); the result is the same ItemCreated as over HTTP.

    Without ``item_id`` the item's id is derived from the tenant and the idempotency key, so the
    sender knows it in advance.
    """

    entity_type_id: str
    title: str
    item_id: str | None = None
    assignee_id: str | None = None
    observer_ids: list[str] = Field(default_factory=list)
    amount: str | None = None
    currency: str | None = None
    begin_date: str | None = None
    close_date: str | None = None
    source: str | None = None
    client_id: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    requested_pipeline_id: str | None = None
    requested_stage_id: str | None = None


class UpdateItemFields(ItemCommand, type_name="conveyor.entities.item_command.update_fields.v1"):
    """Change some of an item's values (system fields by name, custom ones under ``fields``)."""

    item_id: str
    changes: dict[str, Any]  # {"title": "...", "assignee_id": "...", "fields": {"status": "opt-id"}}
    expected_version: int | None = None


class ItemCommandRejected(EventContract, type_name="conveyor.entities.item_command.rejected.v1"):
    """A command could not be carried out (invalid values, unknown item...); nothing changed."""

    idempotency_key: str
    command_type: str
    item_id: str | None = None
    reason: str
    errors: list[dict[str, str]] = Field(default_factory=list)
