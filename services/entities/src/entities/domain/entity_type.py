"""An entity type's settings, its fields' drafts, and list options that keep their ids."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from conveyor_contracts.entities import FieldDefinition, Option
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from entities.domain.errors import Invalid
from entities.domain.kinds import KINDS, check_validation
from entities.domain.values import BadValue, check_value, currency_code

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class EntityTypeSettings(BaseModel):
    """What an entity type switches on; every setting has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pipelines_enabled: bool = True
    automation_enabled: bool = True
    business_processes_enabled: bool = False
    catalogue_binding: bool = False
    client_binding: bool = False
    observers_enabled: bool = True
    dates_enabled: bool = True  # begin and close dates on items
    default_currency: str | None = None
    # Fields no two live items may share, each key alone or together (docs/imports.md, "Unique fields").
    unique_keys: list[Annotated[list[Code], Field(min_length=1, max_length=5)]] = Field(
        default_factory=list, max_length=10
    )

    def checked(self) -> EntityTypeSettings:
        if self.default_currency is not None:
            try:
                return self.model_copy(update={"default_currency": currency_code(self.default_currency)})
            except BadValue as exc:
                raise Invalid.one("/settings/default_currency", str(exc)) from None
        return self


class OptionDraft(BaseModel):
    """An option as an admin sends it: without an id it is new, with one it keeps that id."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=64)
    label: Name
    hidden: bool = False


def merge_options(existing: list[Option], drafts: list[OptionDraft]) -> list[Option]:
    """The new option list; an existing option left out stays, hidden, so stored values keep their label."""
    known = {o.id: o for o in existing}
    merged: list[Option] = []
    for draft in drafts:
        if draft.id is not None and draft.id not in known:
            raise Invalid.one("/options", f"option id {draft.id!r} does not exist (leave the id out for a new option)")
        merged.append(Option(id=draft.id or uuid.uuid4().hex[:12], label=draft.label, hidden=draft.hidden))
    sent = {o.id for o in merged}
    merged += [o.model_copy(update={"hidden": True}) for o in existing if o.id not in sent]
    labels = [o.label for o in merged if not o.hidden]
    if len(labels) != len(set(labels)):
        raise Invalid.one("/options", "option labels must be unique")
    return merged


def check_field(field: FieldDefinition, options: list[Option]) -> None:
    """Invalid when the definition cannot work: unknown kind, missing options, bad rules or default."""
    errors: list[dict[str, str]] = []
    if field.kind not in KINDS:
        errors.append({"field": "/kind", "message": f"one of {', '.join(sorted(KINDS))}"})
    elif field.kind == "list" and (field.options is None) == (field.dictionary_id is None):
        errors.append({"field": "/options", "message": "a list field takes either options or a dictionary_id"})
    elif field.kind != "list" and (field.options or field.dictionary_id):
        errors.append({"field": "/options", "message": "only list fields have options"})
    if field.kind == "link" and not field.link_entity_type_id:
        errors.append({"field": "/link_entity_type_id", "message": "a link field names the entity type it links to"})
    errors += [{"field": "/validation", "message": m} for m in check_validation(field.kind, field.validation)]
    if not errors and field.default is not None:
        try:
            check_value(field, field.default, options)
        except BadValue as exc:
            errors.append({"field": "/default", "message": str(exc)})
    if errors:
        raise Invalid(errors)


def normalised_default(field: FieldDefinition, options: list[Option]) -> Any:
    return check_value(field, field.default, options) if field.default is not None else None
