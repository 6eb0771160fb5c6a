"""The whole calendar months inside a field-time period, read from the monthly duration counts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from reporting.domain.periods import OpenPeriod

pytestmark = pytest.mark.unit


def at(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


class TestWholeMonths:
    def test_a_period_from_mid_january_to_the_end_of_march_holds_february_and_march(self) -> None:
        assert OpenPeriod(date(2026, 1, 15), date(2026, 3, 31)).whole_months() == (at(2026, 2), at(2026, 4))

    def test_a_period_of_exactly_one_month_holds_it(self) -> None:
        assert OpenPeriod(date(2026, 1, 1), date(2026, 1, 31)).whole_months() == (at(2026, 1), at(2026, 2))

    def test_a_period_from_mid_december_crosses_into_the_next_year(self) -> None:
        assert OpenPeriod(date(2025, 12, 2), date(2026, 2, 28)).whole_months() == (at(2026, 1), at(2026, 3))

    def test_a_period_holding_no_whole_month_is_read_from_its_days_alone(self) -> None:
        period = OpenPeriod(date(2026, 1, 2), date(2026, 2, 27))

        assert period.whole_months() == (period.end, period.end)

    def test_open_ends_reach_the_first_and_the_last_month(self) -> None:
        low, high = OpenPeriod(None, None).whole_months()

        assert (low, high) == (OpenPeriod(None, None).start, at(9999, 12))
        assert OpenPeriod(None, date(2026, 2, 27)).whole_months()[1] == at(2026, 2)
