"""Reading numbers and dates written for people, and detecting how a file writes them, without I/O."""

from __future__ import annotations

import pytest
from entities.domain.import_locale import Locale, detect
from entities.domain.xlsx_files import TypedCell

pytestmark = pytest.mark.unit


class TestLocale:
    @pytest.mark.parametrize(
        ("text", "comma", "point"),
        [
            ("1 234,56", "1234.56", "1234,56"),
            ("1\u00a0234,56", "1234.56", "1234,56"),
            ("1.000.000,01", "1000000.01", "1.000.000,01"),
            ("1,234.50", "1.234.50", "1234.50"),
            ("-7", "-7", "-7"),
        ],
    )
    def test_numbers_are_read_in_the_import_s_locale_or_left_for_the_check_to_refuse(
        self, text: str, comma: str, point: str
    ) -> None:
        assert (Locale(",").number(text), Locale(".").number(text)) == (comma, point)

    def test_dates_are_read_day_or_month_first_and_impossible_ones_are_left_alone(self) -> None:
        assert Locale(date_format="dd.mm.yyyy").date("07.12.2026") == "2026-12-07"
        assert Locale(date_format="mm/dd/yyyy").date("12/07/2026") == "2026-12-07"
        assert Locale(date_format="dd.mm.yyyy").date("31.02.2026") == "31.02.2026"
        assert Locale(date_format="dd.mm.yyyy").date("2026-12-07") == "2026-12-07"

    def test_cells_the_workbook_typed_are_never_reread(self) -> None:
        assert Locale(",").number(TypedCell("1234.56")) == "1234.56"


class TestDetection:
    def test_a_russian_export_is_detected(self) -> None:
        found = detect(["1 234,56", "99,5", "12"], ["07.12.2026", "31.01.2025"])

        assert found == Locale(decimal_separator=",", date_format="dd.mm.yyyy")

    def test_a_month_first_file_is_told_from_a_day_first_one_by_a_day_past_twelve(self) -> None:
        assert detect([], ["01/02/2026", "12/31/2026"]).date_format == "mm/dd/yyyy"
        assert detect([], ["01/02/2026", "31/12/2026"]).date_format == "dd/mm/yyyy"

    def test_nothing_to_go_by_means_iso_and_a_decimal_point(self) -> None:
        assert detect([TypedCell("1.5")], ["2026-12-07"]) == Locale()
