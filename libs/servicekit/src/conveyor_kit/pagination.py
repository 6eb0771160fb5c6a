"""Opaque cursors for collections (`{"items": [...], "next_cursor": ...}`, `?limit=&cursor=`).

A cursor is the sort key of the last item a page showed, as base64url JSON: clients pass it back
untouched, and the service may change what it holds without breaking them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import orjson
from fastapi import Query

from conveyor_kit.problems import Problem

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
