"""Opaque cursors for collections (`{"items": [...], "next_cursor": ...}`, `?limit=&cursor=`).

A cursor is the sort key of the last item a page showed, as base64url JSON: clients pass it back
untouched, and the service may change what it holds without breaking them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Query

from conveyor_kit.problems import Problem

Row = TypeVar("Row")

Limit = Annotated[int, Query(ge=1, le=500, description="How many items a page holds at most.")]
Cursor = Annotated[
    str | None, Query(max_length=1000, description="`next_cursor` of the previous page; none for the first.")
]


def encode_cursor(key: list[Any]) -> str:
    """The cursor after an item whose sort key is ``key``."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None, length: int) -> list[Any] | None:
    """The sort key a cursor holds (None for the first page); a cursor this service did not make is a 422."""
    if cursor is None:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        key = None
    if not isinstance(key, list) or len(key) != length:
        raise invalid_cursor()
    return key


def invalid_cursor() -> Problem:
    """The 422 for a cursor this collection did not give (also for a key whose parts do not parse)."""
    return Problem(422, "Invalid cursor", "pass back a next_cursor this collection gave", slug="invalid-cursor")


def id_key(cursor: str | None) -> str | None:
    """The id a cursor holds, for a collection sorted by id alone; None for the first page."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    if not isinstance(key[0], str):
        raise invalid_cursor()
    return key[0]


def text_key(cursor: str | None) -> tuple[str, str] | None:
    """The (text, id) key a cursor holds, for a collection sorted by a name then the id."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    if not all(isinstance(part, str) for part in key):
        raise invalid_cursor()
    return key[0], key[1]


def instant_key(cursor: str | None) -> tuple[datetime, str] | None:
    """The (instant, id) key a cursor holds, for a collection sorted by a time then the id."""
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
    """The first ``limit`` rows and the cursor after the last of them; ``rows`` was fetched with
    ``limit + 1`` to know whether a next page exists (None when not)."""
    shown = list(rows[:limit])
    if len(rows) <= limit or not shown:
        return shown, None
    return shown, encode_cursor([part.isoformat() if isinstance(part, datetime) else part for part in key(shown[-1])])


def page_of(
    rows: Sequence[Row], limit: int, view: Callable[[Row], dict[str, Any]], key: Callable[[Row], Sequence[Any]]
) -> dict[str, Any]:
    """The first ``limit`` rows as a page (`{"items", "next_cursor"}`), each shown by ``view``."""
    shown, next_cursor = cut(rows, limit, key)
    return {"items": [view(row) for row in shown], "next_cursor": next_cursor}
