"""Reading an uploaded CSV file from disk: its encoding, delimiter and header, then its records by
line number, streamed (a 1 GiB file is never in memory as a whole).

Pure functions over files and text; the import handlers store and use what they return.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from charset_normalizer import from_bytes

from entities.domain.errors import Invalid
from entities.domain.file_shape import FileShape, check_header

READABLE = {"utf_8": "utf-8", "cp1251": "windows-1251"}  # detector's name → the name we report
PYTHON_CODEC = {"utf-8": "utf-8-sig", "windows-1251": "cp1251"}  # the name we report → how we read it
DELIMITERS = ",;\t|"
SNIFF_SAMPLE = 64 * 1024
DETECT_SAMPLE = 256 * 1024
READ_BLOCK = 1024 * 1024


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a small file: UTF-8 with or without BOM, or Windows-1251."""
    if not data.strip():
        raise Invalid.one("/file", "the file is empty")
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    encoding = detect(data)
    return data.decode(PYTHON_CODEC[encoding]), encoding


def detect(sample: bytes) -> str:
    """The encoding name of text that is not UTF-8: Windows-1251, or Invalid naming what it looks like.

    Russian text in Windows-1251 is recognised by its bytes (letters, «», №, dashes) before asking
    charset_normalizer, which takes a few short Cyrillic words for Korean or Hebrew.
    """
    if _cyrillic_1251(sample):
        return "windows-1251"
    best = from_bytes(sample).best()
    if best is None:
        raise Invalid.one("/file", "the file is not text in UTF-8 or Windows-1251 (no text encoding was recognised)")
    if best.encoding not in READABLE:
        raise Invalid.one(
            "/file", f"the file looks like {best.encoding} text; save it as UTF-8 (or Windows-1251) and upload it again"
        )
    return READABLE[best.encoding]


_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
_CP1251_TEXT = frozenset(range(0xC0, 0x100)) | {0xA8, 0xB8, 0xAB, 0xBB, 0x96, 0x97, 0xB9, 0x93, 0x94, 0xA0, 0x85}


def _cyrillic_1251(sample: bytes) -> bool:
    """Nearly every non-ASCII byte is a Windows-1251 letter or its usual punctuation, in runs as long
    as words (a Latin-1 "Köln" has runs of one), and no NUL."""
    if b"\x00" in sample:
        return False
    high = [byte for byte in sample if byte >= 0x80]
    runs = len(_HIGH_RUN.findall(sample))
    return bool(high) and sum(byte in _CP1251_TEXT for byte in high) >= 0.95 * len(high) and len(high) >= 2 * runs


def file_encoding(path: Path) -> str:
    """UTF-8 when the whole file decodes as UTF-8 (read block by block), else what ``detect`` finds in
    the file's start and around the first byte UTF-8 refused. Refuses empty files and NUL characters."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset, bad_at, has_nul, blank = 0, -1, False, True
    with path.open("rb") as raw:
        while block := raw.read(READ_BLOCK):
            blank = blank and not block.strip()
            has_nul = has_nul or b"\x00" in block
            if bad_at < 0:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    bad_at = offset + exc.start
            offset += len(block)
        if blank:
            raise Invalid.one("/file", "the file is empty")
        encoding = "utf-8"
        if bad_at >= 0:
            # The text from the line before the first byte UTF-8 refused: where the non-ASCII text is.
            raw.seek(max(0, bad_at - 1024))
            encoding = detect(raw.read(DETECT_SAMPLE))
    if has_nul:
        raise Invalid.one("/file", "the file contains NUL characters: it is not a CSV text file")
    return encoding


def inspect_csv(path: Path) -> FileShape:
    """Encoding, delimiter, header (the first record) and the number of records after it."""
    encoding = file_encoding(path)
    with path.open(encoding=PYTHON_CODEC[encoding], newline="") as text:
        delimiter = sniff_delimiter(text.read(SNIFF_SAMPLE))
        text.seek(0)
        found = records(text, delimiter)
        header, _ = next(found, ([], 0))
        columns = check_header(header)
        count = sum(1 for _ in found)
    return FileShape(format="csv", encoding=encoding, delimiter=delimiter, columns=columns, rows=count)


def csv_rows(path: Path, shape: FileShape) -> Iterator[tuple[list[str], int]]:
    """The records after the header, with their line numbers, read as the file is."""
    with path.open(encoding=PYTHON_CODEC[shape.encoding], newline="") as text:
        found = records(text, shape.delimiter)
        next(found, None)
        yield from found


def sniff_delimiter(sample: str) -> str:
    """The delimiter csv.Sniffer finds among , ; tab |; a comma when the sample has one column."""
    lines = sample.splitlines()
    sample = "\n".join(lines[:50]) if len(lines) > 1 else sample
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def records(text: Iterable[str], delimiter: str) -> Iterator[tuple[list[str], int]]:
    """(cells, line number of the record's first line), the header being line 1; blank lines skipped.

    A malformed file (an unterminated quote, say) is refused with the line where reading stopped.
    """
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    start = 1
    try:
        for cells in reader:
            if cells and any(cell.strip() for cell in cells):
                yield cells, start
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid.one("/file", f"line {reader.line_num}: the file is not valid CSV ({exc})") from None
