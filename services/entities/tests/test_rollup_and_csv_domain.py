"""Roll-up arithmetic, CSV reading and the import plan, without I/O."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conveyor_contracts.entities import FieldDefinition
from entities.domain.csv_files import decode, inspect_csv, records
from entities.domain.errors import Invalid
from entities.domain.file_shape import FileShape
from entities.domain.import_rows import FIXED, plan
from entities.domain.rollup import aggregate, as_parent_value, same
from entities.domain.schema import TypeSchema

pytestmark = pytest.mark.unit

LINES: list[dict[str, Any]] = [
    {"fields.price": "500", "fields.quantity": 2},
    {"fields.price": {"amount": "300.50", "currency": "RUB"}, "fields.quantity": 1},
    {"fields.price": "700"},  # no quantity yet: it counts for nothing
]


class TestRollupArithmetic:
    def test_a_sum_multiplies_each_childs_fields(self) -> None:
        assert aggregate("sum", LINES, ["fields.price", "fields.quantity"]) == Decimal("1300.50")

    def test_count_min_and_max(self) -> None:
        keys = ["fields.price", "fields.quantity"]
        assert aggregate("count", LINES, []) == 3
        assert (aggregate("min", LINES, keys), aggregate("max", LINES, keys)) == (Decimal("300.50"), Decimal("1000"))

    def test_no_children_sum_to_zero_and_have_no_minimum(self) -> None:
        assert aggregate("sum", [], ["amount"]) == 0
        assert aggregate("min", [], ["amount"]) is None

    def test_the_parent_value_takes_its_fields_form(self) -> None:
        assert as_parent_value(Decimal("1300.5"), "decimal", None, None) == "1300.50"
        assert as_parent_value(Decimal("12.6"), "integer", None, None) == 13
        assert as_parent_value(Decimal("5"), "money", {"amount": "1", "currency": "EUR"}, "RUB") == {
            "amount": "5.00",
            "currency": "EUR",
        }

    def test_equal_amounts_in_different_notation_are_the_same(self) -> None:
        assert same("1500", "1500.00")
        assert not same("1500", "1500.01")
        assert same(None, None)


class TestCsvFiles:
    def test_utf8_with_a_bom_and_windows_1251_are_read(self) -> None:
        text = "Название;Город\nУК Дом;Омск\n"

        assert decode(("\ufeff" + text).encode()) == (text, "utf-8")
        assert decode((text * 20).encode("cp1251")) == (text * 20, "windows-1251")

    def test_another_encoding_is_refused_by_name(self) -> None:
        with pytest.raises(Invalid) as refused:
            decode("title\nKöln\n".encode("utf-16"))

        assert "utf_16" in refused.value.errors[0]["message"]

    def test_the_delimiter_header_and_line_numbers_are_found(self, tmp_path: Path) -> None:
        data = b'name;note\nA;"two\nlines"\n\nB;x\n'
        (tmp_path / "f.csv").write_bytes(data)

        shape = inspect_csv(tmp_path / "f.csv")

        assert shape == FileShape("csv", "utf-8", ";", ("name", "note"), 2)
        assert [line for _cells, line in records(data.decode().splitlines(keepends=True), ";")] == [1, 2, 5]

    def test_a_windows_1251_file_is_recognised_after_a_long_ascii_start(self, tmp_path: Path) -> None:
        text = "title;amount\n" + "ascii;1\n" * 200_000 + "Ромашка;1234,56\n"
        (tmp_path / "f.csv").write_bytes(text.encode("cp1251"))

        shape = inspect_csv(tmp_path / "f.csv")

        assert (shape.encoding, shape.rows) == ("windows-1251", 200_001)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"name,name\nA,B\n", "twice"),
            (b"name,\nA,B\n", "no name"),
            (b'name\n"open\n', "not valid CSV"),
            (b"a\x00b\n", "NUL"),
        ],
    )
    def test_malformed_files_are_refused_with_a_reason(self, data: bytes, message: str, tmp_path: Path) -> None:
        (tmp_path / "f.csv").write_bytes(data)
        with pytest.raises(Invalid) as refused:
            inspect_csv(tmp_path / "f.csv")

        assert message in refused.value.errors[0]["message"]


class TestImportPlan:
    schema = TypeSchema(
        entity_type_id="t",
        settings={},
        fields={"inn": FieldDefinition(field_id="f1", code="inn", label="Tax id", kind="string")},
    )

    def test_columns_map_to_system_and_custom_fields_with_values_for_every_row(self) -> None:
        the_plan = plan(["Name", "INN"], {"Name": "title", "INN": "inn"}, {"assignee_id": "u-1"}, self.schema)

        assert the_plan.values_of(["Acme", " 7701 "]) == ({"assignee_id": "u-1", "title": "Acme"}, {"inn": "7701"})
        assert the_plan.column_of("/fields/inn") == "INN"
        assert the_plan.column_of("/assignee_id") == FIXED

    def test_unknown_columns_and_fields_and_a_missing_title_are_named(self) -> None:
        with pytest.raises(Invalid) as refused:
            plan(["Name"], {"Nope": "title", "Name": "no_such"}, {"bogus": 1}, self.schema)

        assert {e["field"] for e in refused.value.errors} == {
            "/columns/Nope",
            "/columns/Name",
            "/values/fields.bogus",
            "/columns",
        }
