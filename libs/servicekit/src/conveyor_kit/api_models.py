"""Building blocks of response models, so every service's OpenAPI describes its bodies the same way
(docs/api-conventions.md).

- `ApiModel`: the base of every response body. Unknown keys are refused (`extra="forbid"`): a route
  whose dict grows a key its model lacks fails its tests with a validation error instead of the key
  silently vanishing from the answer and the generated client.
- `Timestamp`: an instant, written RFC 3339 in UTC with `Z` whatever zone or form it was given in
  (an aware `datetime` or an ISO string from a JSON column).
- `Page[T]`: a collection, `{"items": [...], "next_cursor": ...}`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

__all__ = ["ApiModel", "DateOnly", "OpenApiModel", "Page", "Timestamp", "utc_z"]


def utc_z(moment: datetime) -> str:
    """`2026-12-07T08:41:50.123456Z`: the instant in UTC, `Z` for the zone (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _instant(value: object) -> object:
    # Stored JSON (event payloads, jsonb columns) holds instants as strings in either spelling.
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


Timestamp = Annotated[
    datetime,
    BeforeValidator(_instant),
    PlainSerializer(utc_z, return_type=str, when_used="json"),
    Field(json_schema_extra={"format": "date-time", "examples": ["2026-12-07T08:41:50Z"]}),
]
DateOnly = Annotated[date, Field(json_schema_extra={"examples": ["2026-12-07"]})]


class ApiModel(BaseModel):
    """A response body: the keys a route answers, each declared."""

    model_config = ConfigDict(extra="forbid")


class OpenApiModel(BaseModel):
    """A response body with keys chosen by the tenant (field values, report dimensions): declared keys
    are checked, others pass through."""

    model_config = ConfigDict(extra="allow")


ItemT = TypeVar("ItemT")


class Page(ApiModel, Generic[ItemT]):
    """One page of a collection; pass `next_cursor` back as `cursor` for the next (null: the last page)."""

    items: list[ItemT]
    next_cursor: str | None
