"""Cursors of the service's collections: a page ends at the sort key of its last row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from conveyor_kit.pagination import decode_cursor, encode_cursor, invalid_cursor

Row = TypeVar("Row")


def after_instant(cursor: str | None) -> tuple[datetime, str] | None:
    """The (instant, id) key a cursor holds; None for the first page, a 422 for a key that does not parse."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    try:
        moment = datetime.fromisoformat(key[0])
    except (TypeError, ValueError):
        raise invalid_cursor() from None
    if moment.tzinfo is None or not isinstance(key[1], str):
        raise invalid_cursor()
    return moment, key[1]


def after_id(cursor: str | None) -> str | None:
    """The id a cursor holds (collections sorted by id alone)."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    if not isinstance(key[0], str):
        raise invalid_cursor()
    return key[0]


def page(rows: list[Row], limit: int, key: Callable[[Row], list[Any]]) -> tuple[list[Row], str | None]:
    """The first ``limit`` of ``rows`` (fetched ``limit + 1``) and the cursor after them, None when none follow."""
    shown = rows[:limit]
    return shown, encode_cursor(key(shown[-1])) if len(rows) > limit else None
