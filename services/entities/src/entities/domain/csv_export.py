"""Items as CSV: a header of system columns then the visible custom fields, one line per item.

Money cells are written as "12.50|EUR" and list cells as option labels, the forms the import reads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from entities.domain.item import Item
from entities.domain.schema import TypeSchema

SYSTEM_COLUMNS = ("item_id", "title", "assignee_id", "amount", "currency", "begin_date", "close_date", "created_at")


class ExportLines:
    """The lines of one type's export: its columns and option labels worked out once, a line per item."""

    def __init__(self, schema: TypeSchema) -> None:
        self.entity_type_id = schema.entity_type_id
        self.custom = [spec for spec in schema.fields.values() if not spec.hidden]
        self.labels = {code: {o.id: o.label for o in options} for code, options in schema.options.items()}

    def header(self) -> list[str]:
        return [*SYSTEM_COLUMNS, *(spec.label for spec in self.custom)]

    def line(self, item: Item) -> list[str]:
        system = [_cell(getattr(item, name)) for name in SYSTEM_COLUMNS]
        custom = []
        for spec in self.custom:
            value = item.fields.get(spec.code)
            values = value if isinstance(value, list) else [value]
            custom.append("; ".join(_cell(v, self.labels.get(spec.code)) for v in values if v is not None))
        return [*system, *custom]


def to_text(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _cell(value: Any, labels: Mapping[str, str] | None = None) -> str:
    if isinstance(value, str):  # most cells: first, since an export makes millions of them
        return labels.get(value, value) if labels else value
    if value is None:
        return ""
    if isinstance(value, Mapping) and set(value) == {"amount", "currency"}:
        return f"{value['amount']}|{value['currency']}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return (labels or {}).get(text, text)
