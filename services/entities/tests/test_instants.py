"""Reading `as_of`: RFC 3339 times, zoneless times and dates in a named zone, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from entities.domain.instants import BadInstant, instant_of, zone_named

pytestmark = pytest.mark.unit

MOSCOW = zone_named("Europe/Moscow")


class TestInstantOf:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-12-07T08:41:50Z", datetime(2026, 12, 7, 8, 41, 50, tzinfo=UTC)),
            ("2026-12-07t08:41:50.5z", datetime(2026, 12, 7, 8, 41, 50, 500000, tzinfo=UTC)),
            ("2026-12-07T08:41:50.123456789+00:00", datetime(2026, 12, 7, 8, 41, 50, 123456, tzinfo=UTC)),
            ("2026-12-07 11:41+03:00", datetime(2026, 12, 7, 8, 41, tzinfo=UTC)),
        ],
    )
    def test_a_time_with_a_zone_is_that_instant_whatever_zone_is_named(self, text: str, expected: datetime) -> None:
        assert instant_of(text, MOSCOW) == expected

    def test_a_time_without_a_zone_is_read_in_the_zone_named(self) -> None:
        assert instant_of("2026-12-07T11:41:50", MOSCOW) == datetime(2026, 12, 7, 8, 41, 50, tzinfo=UTC)
        assert instant_of("2026-12-07T08:41:50", zone_named(None)) == datetime(2026, 12, 7, 8, 41, 50, tzinfo=UTC)

    def test_a_date_is_the_last_instant_of_that_day_in_the_zone_named(self) -> None:
        end = instant_of("2026-12-07", MOSCOW)

        assert end == datetime(2026, 12, 7, 20, 59, 59, 999999, tzinfo=UTC)
        assert end.utcoffset() == timezone(timedelta(hours=3)).utcoffset(None)

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "yesterday",
            "2026-12-7",
            "20261207",
            "2026-W49-1",
            "2026-02-30",
            "2026-12-07T24:00Z",
            "2026-12-07T08:41+25:00",
        ],
    )
    def test_anything_else_is_refused_with_what_is_expected(self, text: str) -> None:
        with pytest.raises(BadInstant):
            instant_of(text, MOSCOW)

    @pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "UTC+3", "Europe", "zone.tab", "Europe/"])
    def test_a_zone_must_be_an_iana_name(self, name: str) -> None:
        with pytest.raises(BadInstant):
            zone_named(name)

    def test_no_zone_named_is_utc(self) -> None:
        assert zone_named(None) == zone_named("") == zone_named("UTC")
