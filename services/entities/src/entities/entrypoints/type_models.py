"""Response bodies of the definitions API: entity types, their custom fields, dictionaries."""

from __future__ import annotations

from typing import Any

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field


class ListFieldOption(ApiModel):
    """One value of a list field or a dictionary; items store its id, which never changes; a hidden one keeps
    old values."""

    id: str
    label: str
    hidden: bool


class EntityField(ApiModel):
    """A custom field of an entity type; its `code` is the key of its value in items' `fields`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "5d0e8a1c7b3f",
                    "code": "status",
                    "label": "Status",
                    "kind": "list",
                    "multiple": False,
                    "required": True,
                    "hidden": False,
                    "options": [
                        {"id": "c41f0a9b2e11", "label": "Imported", "hidden": False},
                        {"id": "0d2b7c5e9f40", "label": "In progress", "hidden": False},
                    ],
                    "dictionary_id": None,
                    "link_entity_type_id": None,
                    "default": None,
                    "validation": {},
                }
            ]
        },
    )

    id: str
    code: str = Field(description="the key of the field's value in items' `fields`; never changes")
    label: str
    kind: str = Field(
        description="string, text, integer, decimal, money, boolean, date, datetime, list, user, link, url, "
        "email or phone"
    )
    multiple: bool = Field(description="whether the value is a list of values")
    required: bool
    hidden: bool = Field(description="a removed field: hidden from items, its values kept")
    options: list[ListFieldOption] | None = Field(description="a list field's own options (null: none of its own)")
    dictionary_id: str | None = Field(description="the dictionary a list field takes its options from")
    link_entity_type_id: str | None = Field(description="the entity type a link field points to")
    default: Any = Field(description="the value a new item gets when none is sent")
    validation: dict[str, Any] = Field(
        description="checks on the value: min_length, max_length, min, max, pattern, region"
    )


class EntityTypeSettingsView(ApiModel):
    """What an entity type switches on; the service stores every setting, so each is in every answer
    (a setting missing from a stored row shows its default)."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    pipelines_enabled: bool = True
    automation_enabled: bool = True
    business_processes_enabled: bool = False
    catalogue_binding: bool = Field(default=False, description="items refer to a product of the catalogue")
    client_binding: bool = Field(default=False, description="items refer to a client")
    observers_enabled: bool = True
    dates_enabled: bool = Field(default=True, description="items have begin and close dates")
    default_currency: str | None = Field(default=None, description="the currency of an amount sent without one")
    unique_keys: list[list[str]] = Field(
        default_factory=list,
        description="field codes no two live items may share, each key alone or together (409 on a clash)",
    )


_SETTINGS_EXAMPLE: dict[str, Any] = {
    "pipelines_enabled": True,
    "automation_enabled": True,
    "business_processes_enabled": True,
    "catalogue_binding": False,
    "client_binding": True,
    "observers_enabled": True,
    "dates_enabled": True,
    "default_currency": "RUB",
    "unique_keys": [["inn"]],
}


_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": "8a0c4e2b6d1f4a3c9e7b5d2f1a0c8e6b",
    "code": "housing_onboarding",
    "name": "Housing onboarding",
    "settings": _SETTINGS_EXAMPLE,
    "version": 3,
    "archived": False,
    "created_at": "2026-11-20T08:12:03Z",
    "updated_at": "2026-11-21T16:40:27.504113Z",
}


class EntityTypeSummary(ApiModel):
    """An entity type without its fields (lists, changes and archiving answer this)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [_SUMMARY_EXAMPLE]},
    )

    id: str
    code: str
    name: str
    settings: EntityTypeSettingsView
    version: int = Field(description="the type's version; the ETag")
    archived: bool = Field(description="no new items; the existing ones stay readable")
    created_at: Timestamp
    updated_at: Timestamp


class EntityType(EntityTypeSummary):
    """An entity type (a "smart process") with its custom fields, hidden ones included and marked."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    **_SUMMARY_EXAMPLE,
                    "fields": [
                        {
                            "id": "5d0e8a1c7b3f",
                            "code": "inn",
                            "label": "INN",
                            "kind": "string",
                            "multiple": False,
                            "required": True,
                            "hidden": False,
                            "options": None,
                            "dictionary_id": None,
                            "link_entity_type_id": None,
                            "default": None,
                            "validation": {"pattern": "[0-9]{10}"},
                        },
                        {
                            "id": "9b4c2e6a0f1d",
                            "code": "industry",
                            "label": "Industry",
                            "kind": "list",
                            "multiple": False,
                            "required": False,
                            "hidden": False,
                            "options": None,
                            "dictionary_id": "e7d91b3a5c2f",
                            "link_entity_type_id": None,
                            "default": None,
                            "validation": {},
                        },
                    ],
                }
            ]
        },
    )

    fields: list[EntityField] = Field(description="the custom fields in order")


class EntityDictionary(ApiModel):
    """A tenant-wide value list that list fields can take their options from."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "e7d91b3a5c2f",
                    "code": "industry",
                    "name": "Industry",
                    "options": [
                        {"id": "1f4a6b8c0d2e", "label": "Housing & utilities", "hidden": False},
                        {"id": "9c2d4f6a8b0e", "label": "Retail", "hidden": False},
                    ],
                    "version": 1,
                }
            ]
        },
    )

    id: str
    code: str
    name: str
    options: list[ListFieldOption] = Field(description="the options in order, hidden ones included")
    version: int = Field(description="the dictionary's version; the ETag")
