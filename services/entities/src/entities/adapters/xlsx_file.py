"""An Excel workbook written a page of rows at a time into a temporary file, in constant memory.

xlsxwriter's `constant_memory` mode flushes each row to disk as the next one starts, so an export
of any size holds one row in memory; the file is whole (and can be sent) once it is closed. Its
calls block on the disk: callers run them in a worker thread.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence

import xlsxwriter

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL = 32_767  # Excel's limit on a cell's characters
MAX_ROWS = 1_048_576  # Excel's limit on a sheet's rows, header included


class XlsxSheet:
    """Text cells under a bold, frozen header row: `Items`, then `Items 2`, … when a sheet is full."""

    def __init__(self, header: Sequence[str], *, sheet_name: str = "Items", max_rows: int = MAX_ROWS) -> None:
        handle, self.path = tempfile.mkstemp(prefix="conveyor-export-", suffix=".xlsx")
        os.close(handle)
        self._book = xlsxwriter.Workbook(
            self.path, {"constant_memory": True, "tmpdir": tempfile.gettempdir(), "in_memory": False}
        )
        self._header, self._name, self._max_rows = list(header), sheet_name, max_rows
        self._bold = self._book.add_format({"bold": True})
        self._sheets = 0
        self._next_sheet()

    def _next_sheet(self) -> None:
        self._sheets += 1
        self._sheet = self._book.add_worksheet(self._name if self._sheets == 1 else f"{self._name} {self._sheets}")
        self._sheet.freeze_panes(1, 0)
        self._row = 0
        self._write_row(self._header, self._bold)

    def write(self, rows: Iterable[Sequence[str]]) -> None:
        """Append rows; every cell is a string as written (never read as a formula or a number)."""
        for row in rows:
            if self._row == self._max_rows:
                self._next_sheet()
            self._write_row(row, None)

    def _write_row(self, row: Sequence[str], cell_format: object) -> None:
        for column, text in enumerate(row):
            if text:
                self._sheet.write_string(self._row, column, text[:MAX_CELL], cell_format)
        self._row += 1

    def close(self) -> str:
        """Finish the file; its path (the caller removes it once sent)."""
        self._book.close()
        return self.path

    def discard(self) -> None:
        """Give up on the file (an error before it was sent)."""
        try:
            self._book.close()
        finally:
            os.unlink(self.path)
