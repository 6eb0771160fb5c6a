"""Reading an uploaded XLSX workbook (its first sheet) with python-calamine: the header, then each
row's cells as text with the sheet's own row number.

Numbers and dates the workbook typed come out in the service's normal form ("1234.56",
"2026-12-07") as ``TypedCell``, so a per-import locale (decimal comma, dd.mm.yyyy) applies only to
cells the file holds as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from entities.domain.errors import Invalid
from entities.domain.file_shape import FileShape, check_header


class TypedCell(str):
    """A cell's text the workbook typed (a number or a date): already in normal form."""


def inspect_xlsx(path: Path) -> FileShape:
    found = _rows(path)
    header, _ = next(found, ([], 0))
    columns = check_header(header)
    count = sum(1 for _ in found)
    return FileShape(format="xlsx", encoding="xlsx", delimiter="", columns=columns, rows=count)


def xlsx_rows(path: Path) -> Iterator[tuple[list[str], int]]:
    found = _rows(path)
    next(found, None)
    yield from found


def _rows(path: Path) -> Iterator[tuple[list[str], int]]:
    """Non-blank rows of the first sheet as text, with their row numbers (the sheet's first is 1)."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        first = sheet.start[0] if sheet.start else 0
        for index, row in enumerate(sheet.iter_rows()):
            cells = [_text(value) for value in row]
            if any(cell.strip() for cell in cells):
                yield cells, first + index + 1
    except (CalamineError, ValueError, IndexError) as exc:
        raise Invalid.one("/file", f"the file is not a readable XLSX workbook ({exc})") from None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return TypedCell("true" if value else "false")
    if isinstance(value, int):
        return TypedCell(str(value))
    if isinstance(value, float):
        if value.is_integer():
            return TypedCell(str(int(value)))
        return TypedCell(format(Decimal(repr(value)), "f"))
    if isinstance(value, datetime):
        return TypedCell(value.date().isoformat() if value.time() == time() else value.isoformat())
    if isinstance(value, date | time):
        return TypedCell(value.isoformat())
    return str(value)
