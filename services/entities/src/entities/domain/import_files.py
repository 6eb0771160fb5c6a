"""An uploaded file as imports see it: CSV or XLSX, its shape, and its rows by the original file's
line (CSV) or row (XLSX) number. Reading goes block by block or row by row from a file on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from entities.domain.csv_files import csv_rows, inspect_csv
from entities.domain.file_shape import FileShape, format_of
from entities.domain.xlsx_files import inspect_xlsx, xlsx_rows


def inspect(path: Path, name: str) -> FileShape:
    return inspect_xlsx(path) if format_of(path, name) == "xlsx" else inspect_csv(path)


def rows(path: Path, shape: FileShape) -> Iterator[tuple[list[str], int]]:
    """(cells as text, the original file's line or row number) of every data row."""
    return xlsx_rows(path) if shape.format == "xlsx" else csv_rows(path, shape)
