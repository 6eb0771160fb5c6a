"""An entity type as items see it: its settings and fields, with list options resolved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conveyor_contracts.entities import FieldDefinition, Option

from entities.domain.errors import Invalid
from entities.domain.values import BadValue, check_value, is_empty


@dataclass(frozen=True)
class TypeSchema:
    """The rules an item of one entity type is held to."""

    entity_type_id: str
    settings: Mapping[str, Any]
    fields: Mapping[str, FieldDefinition]  # by code, hidden ones included
    options: Mapping[str, Sequence[Option]] = field(default_factory=dict)  # list fields, by code
    archived: bool = False

    def visible(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values a reader sees: hidden (removed) fields keep theirs but do not show them."""
        return {code: v for code, v in values.items() if code in self.fields and not self.fields[code].hidden}

    def labels(self, values: Mapping[str, Any]) -> dict[str, str | list[str]]:
        """The label of each visible list value, by field code (a multiple field's in its order), so
        readers need not look options up; an option id the type does not know stands for itself."""
        labels: dict[str, str | list[str]] = {}
        for code, value in self.visible(values).items():
            if self.fields[code].kind != "list" or value is None:
                continue
            label = self.label_of(code, value)
            if label is not None:
                labels[code] = label
        return labels

    def label_of(self, code: str, value: Any) -> str | list[str] | None:
        """A list field's value as its label(s); None for other fields and empty values."""
        spec = self.fields.get(code)
        if spec is None or spec.kind != "list" or value is None:
            return None
        by_id = {option.id: option.label for option in self.options.get(code, ())}
        if isinstance(value, list):
            return [by_id.get(str(v), str(v)) for v in value]
        return by_id.get(str(value), str(value))

    def switched_off(self, system: Mapping[str, Any]) -> list[dict[str, str]]:
        """Errors for system values the type's settings switch off (observers, dates, client)."""
        errors = []
        for setting, names in _SWITCHES.items():
            if self.settings.get(setting, True):
                continue
            for name in names:
                if system.get(name) not in (None, []):
                    errors.append({"field": f"/{name}", "message": f"{setting} is off for this entity type"})
        return errors

    def check(self, raw: Mapping[str, Any], *, creating: bool) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """(normalised values, (field code, linked item id) pairs to verify), or Invalid naming every bad field.

        On create, defaults fill absent fields and required fields must end up with a value; on
        update only the fields sent are checked (empty means "clear it").
        """
        errors: list[dict[str, str]] = []
        values: dict[str, Any] = {}
        for code, value in raw.items():
            spec = self.fields.get(code)
            if spec is None or spec.hidden:
                reason = "no such field on this entity type" if spec is None else "the field was removed"
                errors.append({"field": f"/fields/{code}", "message": reason})
                continue
            try:
                values[code] = check_value(spec, value, self.options.get(code, ()))
            except BadValue as exc:
                errors.append({"field": f"/fields/{code}", "message": str(exc)})
        if creating:
            for code, spec in self.fields.items():
                if code not in raw and not spec.hidden and not is_empty(spec.default):
                    values[code] = spec.default
        for code, spec in self.fields.items():
            missing = values.get(code) is None and (creating or code in raw)
            if spec.required and not spec.hidden and missing and not _has_error(errors, code):
                errors.append({"field": f"/fields/{code}", "message": "a value is required"})
        if errors:
            raise Invalid(errors)
        links = [
            (code, link)
            for code, value in values.items()
            if self.fields[code].kind == "link" and value is not None
            for link in (value if isinstance(value, list) else [value])
        ]
        return values, links


_SWITCHES = {
    "observers_enabled": ("observer_ids",),
    "dates_enabled": ("begin_date", "close_date"),
    "client_binding": ("client_id",),
}


def _has_error(errors: list[dict[str, str]], code: str) -> bool:
    return any(e["field"] == f"/fields/{code}" for e in errors)
