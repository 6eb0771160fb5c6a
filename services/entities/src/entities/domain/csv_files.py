"""Reading an uploaded CSV file: its encoding, delimiter and header, then its records by line number.

Pure functions over bytes and text; the import handlers store and use what they return.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from charset_normalizer import from_bytes

from entities.domain.errors import Invalid

READABLE = {"utf_8": "utf-8", "cp1251": "windows-1251"}  # detector's name → the name we report
DELIMITERS = ",;\t|"
SNIFF_SAMPLE = 64 * 1024
MAX_COLUMNS = 200


@dataclass(frozen=True)
class CsvFile:
    """A decoded file: its text and how to read it."""

    text: str
    encoding: str
    delimiter: str
    columns: tuple[str, ...]
    rows: int


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 with or without BOM, or Windows-1251; other encodings are refused."""
    if not data.strip():
        raise Invalid.one("/file", "the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        raise Invalid.one("/file", "the file is not text in UTF-8 or Windows-1251 (no text encoding was recognised)")
    if best.encoding not in READABLE:
        raise Invalid.one(
            "/file", f"the file looks like {best.encoding} text; save it as UTF-8 (or Windows-1251) and upload it again"
        )
    return data.decode(best.encoding), READABLE[best.encoding]


def read_file(data: bytes) -> CsvFile:
    """Decode, detect the delimiter, read the header (the first line) and count the records."""
    text, encoding = decode(data)
    if "\x00" in text:
        raise Invalid.one("/file", "the file contains NUL characters: it is not a CSV text file")
    delimiter = sniff_delimiter(text[:SNIFF_SAMPLE])
    header, *_ = next(records(text, delimiter), (None,))
    columns = tuple(c.strip() for c in (header or ()))
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
    count = sum(1 for _ in records(text, delimiter)) - 1
    return CsvFile(text=text, encoding=encoding, delimiter=delimiter, columns=columns, rows=count)


def sniff_delimiter(sample: str) -> str:
    """The delimiter csv.Sniffer finds among , ; tab |; a comma when the sample has one column."""
    lines = sample.splitlines()
    sample = "\n".join(lines[:50]) if len(lines) > 1 else sample
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def records(text: str, delimiter: str) -> Iterator[tuple[list[str], int]]:
    """(cells, line number of the record's first line), the header being line 1; blank lines skipped.

    A malformed file (an unterminated quote, say) is refused with the line where reading stopped.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for cells in reader:
            if cells and any(cell.strip() for cell in cells):
                yield cells, start
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid.one("/file", f"line {reader.line_num}: the file is not valid CSV ({exc})") from None
