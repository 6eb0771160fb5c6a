"""What a list asks for: filters, one sort, a page size, a cursor, a title search; checked, no SQL."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

import orjson

from entities.domain.errors import Invalid

OPS = frozenset({"eq", "ne", "in", "lt", "lte", "gt", "gte", "between", "contains", "empty"})
# System columns: name → SQL type. Each is a column of `items`.
SYSTEM_COLUMNS: dict[str, str] = {
    "item_id": "text",
    "title": "text",
    "assignee_id": "text",
    "amount": "numeric",
    "currency": "text",
    "begin_date": "date",
    "close_date": "date",
    "source": "text",
    "client_id": "text",
    "pipeline_id": "text",
    "stage_id": "text",
    "stage_semantic": "text",
    "requested_pipeline_id": "text",
    "created_by": "text",
    "updated_by": "text",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "deleted_at": "timestamptz",
    "observer_ids": "text[]",
}
NOT_NULL = frozenset({"item_id", "title", "created_at", "updated_at", "created_by", "updated_by"})
MAX_LIMIT = 200
MAX_IN_VALUES = 100


@dataclass(frozen=True)
class Filter:
    target: str  # a system column or `fields.<code>`
    op: str
    value: Any = None


@dataclass(frozen=True)
class Sort:
    key: str = "created_at"
    descending: bool = True

    @classmethod
    def parse(cls, text: str) -> Sort:
        """`-created_at` (descending) or `title`."""
        return cls(text.lstrip("-"), text.startswith("-"))

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key


@dataclass(frozen=True)
class Cursor:
    """Where the last page ended: its last row's sort value (None for nulls) and id."""

    sort: str
    value: str | None
    item_id: str

    def encode(self) -> str:
        raw = orjson.dumps([self.sort, self.value, self.item_id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: Sort) -> Cursor:
        try:
            sort_text, value, item_id = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
            raise Invalid.one("/cursor", "not a cursor this service gave out") from None
        if sort_text != str(sort) or not isinstance(item_id, str) or not isinstance(value, str | None):
            raise Invalid.one("/cursor", "the cursor belongs to another sort order; start again without it")
        return cls(sort_text, value, item_id)


@dataclass(frozen=True)
class ListQuery:
    entity_type_id: str
    filters: tuple[Filter, ...] = ()
    sort: Sort = field(default_factory=Sort)
    limit: int = 50
    cursor: str | None = None
    text: str | None = None
    in_recycle_bin: bool = False


def parse_filter(text: str) -> Filter:
    """`<target>:<op>[:<value>]`, e.g. `fields.status:in:a,b`, `amount:between:10,20`, `fields.note:empty`."""
    target, _sep, rest = text.partition(":")
    op, _sep, value = rest.partition(":")
    if op not in OPS:
        raise Invalid.one("/filter", f"{text!r}: expected <field>:<op>[:<value>] with op one of {sorted(OPS)}")
    if op in ("in", "between"):
        return Filter(target, op, value.split(","))
    if op == "empty":
        return Filter(target, op, value.lower() != "false")
    return Filter(target, op, value)
