"""How an import reads numbers and dates written for people: the decimal separator ("1 234,56") and
the date order ("07.12.2026"), given per import or detected from a sample of the file's cells.

Only text cells are read this way: a number or date an XLSX workbook typed is already exact
(``xlsx_files.TypedCell``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from entities.domain.xlsx_files import TypedCell

DECIMAL_SEPARATORS = (".", ",")
DATE_FORMATS = ("yyyy-mm-dd", "dd.mm.yyyy", "dd/mm/yyyy", "mm/dd/yyyy")
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_COMMA_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_POINT_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)\.\d+$")
_DAY_FIRST = re.compile(r"^(\d{1,2})([./])(\d{1,2})\2(\d{4})$")


@dataclass(frozen=True)
class Locale:
    """The import's reading of numbers and dates."""

    decimal_separator: str = "."
    date_format: str = "yyyy-mm-dd"

    def number(self, text: str) -> str:
        """A number in normal form ("1234.56"); what is not a number stays as it was, for the field's
        check to refuse it by name."""
        if isinstance(text, TypedCell):
            return text
        bare = _SPACES.sub("", text)
        if self.decimal_separator == ",":
            whole, _, fraction = bare.partition(",")
            bare = _ungrouped(whole, ".") + ("." + fraction if fraction else "")
        else:
            whole, _, fraction = bare.partition(".")
            bare = _ungrouped(whole, ",") + ("." + fraction if fraction else "")
        return bare if bare else text

    def date(self, text: str) -> str:
        """A date in ISO form ("2026-12-07"); what does not fit the format stays as it was."""
        if isinstance(text, TypedCell) or self.date_format == "yyyy-mm-dd":
            return text
        found = _DAY_FIRST.match(text.strip())
        if found is None or found.group(2) != self.date_format[2]:
            return text
        first, second, year = int(found.group(1)), int(found.group(3)), int(found.group(4))
        day, month = (second, first) if self.date_format == "mm/dd/yyyy" else (first, second)
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text


def detect(numbers: Iterable[str], dates: Iterable[str]) -> Locale:
    """The locale most of the sample's text cells are written in (ISO and a decimal point when none)."""
    commas = points = 0
    for text in numbers:
        if isinstance(text, TypedCell):
            continue
        bare = _SPACES.sub("", text)
        commas += bool(_COMMA_DECIMAL.match(bare))
        points += bool(_POINT_DECIMAL.match(bare))
    votes: dict[str, int] = {}
    month_first = False
    for text in dates:
        found = None if isinstance(text, TypedCell) else _DAY_FIRST.match(text.strip())
        if found is None:
            continue
        style = "dd.mm.yyyy" if found.group(2) == "." else "dd/mm/yyyy"
        votes[style] = votes.get(style, 0) + 1
        month_first = month_first or (found.group(2) == "/" and int(found.group(3)) > 12)
    date_format = max(votes, key=lambda style: votes[style]) if votes else "yyyy-mm-dd"
    if date_format == "dd/mm/yyyy" and month_first:
        date_format = "mm/dd/yyyy"
    return Locale(decimal_separator="," if commas > points else ".", date_format=date_format)


def _ungrouped(whole: str, separator: str) -> str:
    """The whole part without its thousands separators when they group threes ("1.234.567" under a
    decimal comma); otherwise as it was, for the field's check to refuse it ("12.5" is not 125)."""
    grouped = re.fullmatch(r"[+-]?\d{1,3}(" + re.escape(separator) + r"\d{3})+", whole)
    return whole.replace(separator, "") if grouped else whole
