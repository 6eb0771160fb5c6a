"""Rows become the column arrays of a set-based `unnest` statement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from conveyor_kit.database import as_columns

pytestmark = pytest.mark.unit


@dataclass
class Row:
    key: str
    count: int | None
    fields: dict[str, Any]
    tags: list[str]


def test_each_named_attribute_becomes_a_column_in_row_order_with_json_as_text() -> None:
    rows = [Row("a", 1, {"x": 1}, ["t"]), Row("b", None, {}, [])]

    keys, counts, fields, tags = as_columns(rows, "key", "count", "fields", "tags")

    assert keys == ["a", "b"]
    assert counts == [1, None]
    assert [orjson.loads(f) for f in fields] == [{"x": 1}, {}]
    assert tags == ['["t"]', "[]"]


def test_no_rows_give_empty_columns() -> None:
    assert as_columns([], "key", "count") == [[], []]
