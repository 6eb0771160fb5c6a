"""The shape of an uploaded file (format, encoding, delimiter, header, rows) and the header's checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from entities.domain.errors import Invalid

MAX_COLUMNS = 200
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class FileShape:
    """How to read a file: its format, encoding and delimiter (CSV), header and data rows."""

    format: str  # csv or xlsx
    encoding: str
    delimiter: str
    columns: tuple[str, ...]
    rows: int


def format_of(path: Path, name: str) -> str:
    """xlsx for a ZIP container (what an .xlsx file is), csv for everything else."""
    with path.open("rb") as raw:
        start = raw.read(len(ZIP_MAGIC))
    if start == ZIP_MAGIC or name.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return "csv"


def check_header(header: Sequence[str]) -> tuple[str, ...]:
    """The header's column names, or Invalid: none, too many, unnamed or repeated."""
    columns = tuple(c.strip() for c in header)
    if not columns or not any(columns):
        raise Invalid.one("/file", "the first line must name the columns")
    if len(columns) > MAX_COLUMNS:
        raise Invalid.one("/file", f"at most {MAX_COLUMNS} columns")
    empty = [i + 1 for i, c in enumerate(columns) if not c]
    if empty:
        raise Invalid.one("/file", f"column {empty[0]} of the header has no name")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise Invalid.one("/file", f"the header names {duplicates[0]!r} twice")
    return columns
