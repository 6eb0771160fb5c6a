"""Keyset pages of the directory and the catalogue: the cursor is the sort key of the last item shown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from conveyor_kit.pagination import decode_cursor, encode_cursor, invalid_cursor

Row = TypeVar("Row")


def text_key(cursor: str | None, length: int) -> tuple[str, ...] | None:
    """The key of a cursor made of strings (a name and an id); a key of other values is a 422."""
    key = decode_cursor(cursor, length)
    if key is None:
        return None
    if not all(isinstance(part, str) for part in key):
        raise invalid_cursor()
    return tuple(key)


def instant_key(cursor: str | None) -> tuple[datetime, str] | None:
    """The key of a cursor made of an instant and an id."""
    key = text_key(cursor, 2)
    if key is None:
        return None
    try:
        return datetime.fromisoformat(key[0]), key[1]
    except ValueError:
        raise invalid_cursor() from None


def page(rows: Sequence[Row], limit: int, key: Callable[[Row], list[Any]]) -> tuple[list[Row], str | None]:
    """The first ``limit`` of ``rows`` (fetched ``limit + 1`` to know whether more follow) and the cursor
    after the last of them, None when they were the last."""
    shown = list(rows[:limit])
    return shown, encode_cursor(key(shown[-1])) if len(rows) > limit and shown else None
