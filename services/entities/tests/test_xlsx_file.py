"""The export's workbook: text cells as written, Excel's limits kept (cell length, rows per sheet)."""

from __future__ import annotations

import os

import pytest
from entities.adapters.xlsx_file import MAX_CELL, XlsxSheet
from openpyxl import load_workbook

pytestmark = pytest.mark.unit


class TestXlsxSheet:
    def test_a_full_sheet_goes_on_in_the_next_under_the_same_header(self) -> None:
        sheet = XlsxSheet(["title", "Kind"], max_rows=3)
        sheet.write([["a", "x"], ["b", ""], ["c", "y"], ["d", "z"], ["e", "=1+1"]])
        path = sheet.close()
        try:
            book = load_workbook(path, read_only=True)
            sheets = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
        finally:
            os.unlink(path)

        assert sheets == {
            "Items": [("title", "Kind"), ("a", "x"), ("b", None)],
            "Items 2": [("title", "Kind"), ("c", "y"), ("d", "z")],
            "Items 3": [("title", "Kind"), ("e", "=1+1")],
        }

    def test_a_cell_longer_than_excel_takes_is_cut_at_its_limit(self) -> None:
        sheet = XlsxSheet(["note"])
        sheet.write([["x" * (MAX_CELL + 10)]])
        path = sheet.close()
        try:
            (_, (note,)) = load_workbook(path, read_only=True)["Items"].iter_rows(values_only=True)
        finally:
            os.unlink(path)

        assert note == "x" * MAX_CELL

    def test_a_discarded_workbook_leaves_no_file(self) -> None:
        sheet = XlsxSheet(["title"])
        sheet.write([["a"]])

        sheet.discard()

        assert not os.path.exists(sheet.path)
