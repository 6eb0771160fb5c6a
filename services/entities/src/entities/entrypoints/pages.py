"""Pages of entities' collections (`{"items": [...], "next_cursor": ...}`): each is sorted by a
two-part key, a text or an instant then the id, and its cursor is the key of the page's last row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from conveyor_kit.pagination import decode_cursor, encode_cursor, invalid_cursor

Row = TypeVar("Row")


def text_key(cursor: str | None) -> tuple[str, str] | None:
    """The (text, id) key a cursor holds; None for the first page."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    if not all(isinstance(part, str) for part in key):
        raise invalid_cursor()
    return key[0], key[1]


def instant_key(cursor: str | None) -> tuple[datetime, str] | None:
    """The (instant, id) key a cursor holds; None for the first page."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    try:
        moment = datetime.fromisoformat(key[0])
    except (TypeError, ValueError):
        raise invalid_cursor() from None
    if not isinstance(key[1], str) or moment.tzinfo is None:
        raise invalid_cursor()
    return moment.astimezone(UTC), key[1]


def cut(rows: Sequence[Row], limit: int, key: Callable[[Row], Sequence[Any]]) -> tuple[list[Row], str | None]:
    """The first ``limit`` rows and the cursor after them; ``rows`` holds one more when there is a next page."""
    shown = list(rows[:limit])
    if len(rows) <= limit or not shown:
        return shown, None
    return shown, encode_cursor([part.isoformat() if isinstance(part, datetime) else part for part in key(shown[-1])])


def page_of(
    rows: Sequence[Row],
    limit: int,
    view: Callable[[Row], dict[str, Any]],
    key: Callable[[Row], Sequence[Any]],
) -> dict[str, Any]:
    """The first ``limit`` rows as a page, each shown by ``view``."""
    shown, next_cursor = cut(rows, limit, key)
    return {"items": [view(row) for row in shown], "next_cursor": next_cursor}
