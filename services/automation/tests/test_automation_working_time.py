"""Working-time arithmetic: nights, weekends, holidays, breaks, clock changes, starts outside hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from automation.domain.work_calendar import DEFAULT, WorkCalendar, WorkingHours
from automation.domain.working_time import (
    NoWorkingTime,
    add_working_time,
    is_working_time,
    next_working_time,
    subtract_working_time,
)
from pydantic import ValidationError

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def calendar(**changes: object) -> WorkCalendar:
    return WorkCalendar.model_validate({"time_zone": "Europe/Berlin", **changes})


OFFICE = calendar()  # Monday to Friday, 09:00-18:00 Berlin time
WITH_LUNCH = calendar(hours=[{"start": "09:00", "end": "13:00"}, {"start": "14:00", "end": "18:00"}])


class TestAddingWorkingTime:
    def test_within_one_working_day_it_is_plain_addition(self) -> None:
        assert add_working_time(OFFICE, berlin(2027, 3, 3, 10), 2 * HOUR) == berlin(2027, 3, 3, 12)

    def test_what_does_not_fit_before_the_night_goes_on_the_next_morning(self) -> None:
        assert add_working_time(OFFICE, berlin(2027, 3, 3, 17), 2 * HOUR) == berlin(2027, 3, 4, 10)

    def test_a_duration_that_ends_at_closing_ends_there_and_not_next_morning(self) -> None:
        assert add_working_time(OFFICE, berlin(2027, 3, 3, 16), 2 * HOUR) == berlin(2027, 3, 3, 18)

    def test_friday_evening_goes_on_monday_morning(self) -> None:
        assert add_working_time(OFFICE, berlin(2027, 3, 5, 17), 2 * HOUR) == berlin(2027, 3, 8, 10)

    def test_a_start_outside_hours_counts_from_the_next_opening(self) -> None:
        assert add_working_time(OFFICE, berlin(2027, 3, 3, 6), 2 * HOUR) == berlin(2027, 3, 3, 11)
        assert add_working_time(OFFICE, berlin(2027, 3, 6, 12), 2 * HOUR) == berlin(2027, 3, 8, 11)  # a Saturday

    def test_a_lunch_break_does_not_count(self) -> None:
        assert add_working_time(WITH_LUNCH, berlin(2027, 3, 3, 12), 2 * HOUR) == berlin(2027, 3, 3, 15)

    def test_the_tenants_holiday_is_skipped(self) -> None:
        closed = calendar(holidays=["2027-03-04"])

        assert add_working_time(closed, berlin(2027, 3, 3, 17), 2 * HOUR) == berlin(2027, 3, 5, 10)

    def test_a_countrys_public_holiday_is_skipped(self) -> None:
        german = calendar(holiday_country="DE")  # Good Friday and Easter Monday 2027: 26 and 29 March

        assert add_working_time(german, berlin(2027, 3, 25, 17), 2 * HOUR) == berlin(2027, 3, 30, 10)

    def test_a_working_saturday_counts_though_its_weekday_is_off(self) -> None:
        makes_up = calendar(working_dates=["2027-03-06"])

        assert add_working_time(makes_up, berlin(2027, 3, 5, 17), 2 * HOUR) == berlin(2027, 3, 6, 10)

    def test_many_working_days_skip_every_weekend(self) -> None:
        ten_days = 10 * 9 * HOUR

        assert add_working_time(OFFICE, berlin(2027, 3, 1, 9), ten_days) == berlin(2027, 3, 12, 18)

    def test_a_zero_duration_is_the_next_working_moment(self) -> None:
        assert add_working_time(OFFICE, berlin(2027, 3, 3, 20), timedelta(0)) == berlin(2027, 3, 4, 9)
        assert add_working_time(OFFICE, berlin(2027, 3, 3, 10), timedelta(0)) == berlin(2027, 3, 3, 10)

    def test_results_are_in_utc(self) -> None:
        result = add_working_time(OFFICE, datetime(2027, 3, 3, 7, tzinfo=UTC), HOUR)  # 08:00 in Berlin

        assert result.tzinfo == UTC and result == datetime(2027, 3, 3, 9, tzinfo=UTC)


class TestClockChanges:
    def test_a_working_day_across_spring_forward_keeps_its_local_hours(self) -> None:
        # Berlin moves from +01:00 to +02:00 on Sunday 28 March 2027; Friday 17:00 + 2h is Monday 10:00 CEST.
        result = add_working_time(OFFICE, berlin(2027, 3, 26, 17), 2 * HOUR)

        assert result == berlin(2027, 3, 29, 10)
        assert result == datetime(2027, 3, 29, 8, tzinfo=UTC)

    def test_a_night_shift_on_the_night_of_the_change_is_an_hour_shorter(self) -> None:
        every_night = calendar(working_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                               hours=[{"start": "01:00", "end": "04:00"}])  # fmt: skip

        end = add_working_time(every_night, berlin(2027, 3, 28, 1), 3 * HOUR)

        assert end == berlin(2027, 3, 29, 2)  # only 2 hours that night; the third is the next night's first

    def test_a_night_shift_on_the_night_of_falling_back_is_an_hour_longer(self) -> None:
        every_night = calendar(working_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                               hours=[{"start": "01:00", "end": "04:00"}])  # fmt: skip

        end = add_working_time(every_night, berlin(2027, 10, 31, 1), 4 * HOUR)

        assert end == berlin(2027, 10, 31, 4)

    def test_new_york_hours_are_new_york_hours_in_summer_and_winter(self) -> None:
        new_york = WorkCalendar(time_zone="America/New_York")

        winter = next_working_time(new_york, datetime(2027, 1, 4, 12, tzinfo=UTC))
        summer = next_working_time(new_york, datetime(2027, 7, 5, 12, tzinfo=UTC))

        assert (winter.hour, summer.hour) == (14, 13)


class TestSubtractingWorkingTime:
    def test_before_a_monday_morning_meeting_is_the_friday_afternoon(self) -> None:
        assert subtract_working_time(OFFICE, berlin(2027, 3, 8, 10), 2 * HOUR) == berlin(2027, 3, 5, 17)

    def test_a_negative_duration_added_is_a_subtraction(self) -> None:
        assert add_working_time(OFFICE, berlin(2027, 3, 3, 10), -2 * HOUR) == berlin(2027, 3, 2, 17)

    def test_zero_before_a_night_instant_is_the_last_closing(self) -> None:
        assert subtract_working_time(OFFICE, berlin(2027, 3, 3, 22), timedelta(0)) == berlin(2027, 3, 3, 18)


class TestNextWorkingTime:
    def test_the_next_working_morning_from_a_working_afternoon_is_tomorrow(self) -> None:
        assert next_working_time(OFFICE, berlin(2027, 3, 3, 15), time(9)) == berlin(2027, 3, 4, 9)

    def test_the_next_working_morning_before_opening_is_this_morning(self) -> None:
        assert next_working_time(OFFICE, berlin(2027, 3, 3, 7), time(9)) == berlin(2027, 3, 3, 9)

    def test_from_friday_it_is_monday_and_after_a_holiday_the_day_after(self) -> None:
        assert next_working_time(OFFICE, berlin(2027, 3, 5, 10), time(9)) == berlin(2027, 3, 8, 9)
        closed = calendar(holidays=["2027-03-08"])
        assert next_working_time(closed, berlin(2027, 3, 5, 10), time(9)) == berlin(2027, 3, 9, 9)

    def test_without_a_time_it_is_now_in_hours_and_the_next_opening_outside(self) -> None:
        assert next_working_time(OFFICE, berlin(2027, 3, 3, 10)) == berlin(2027, 3, 3, 10)
        assert next_working_time(WITH_LUNCH, berlin(2027, 3, 3, 13, 30)) == berlin(2027, 3, 3, 14)

    def test_a_time_in_the_spring_gap_is_the_instant_after_it(self) -> None:
        early = calendar(working_days=["sun"], hours=[{"start": "00:00", "end": "00:00"}])
        found = next_working_time(early, berlin(2027, 3, 27, 12), time(2, 30))

        assert found == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST

    def test_is_working_time(self) -> None:
        assert is_working_time(OFFICE, berlin(2027, 3, 3, 10))
        assert not is_working_time(OFFICE, berlin(2027, 3, 6, 10))


class TestTheCalendar:
    def test_a_tenant_without_one_works_monday_to_friday_nine_to_six_utc(self) -> None:
        assert (DEFAULT.time_zone, DEFAULT.working_days) == ("UTC", ["mon", "tue", "wed", "thu", "fri"])
        assert DEFAULT.hours == [WorkingHours(start=time(9), end=time(18))]

    def test_a_working_date_wins_over_a_holiday(self) -> None:
        odd = calendar(holidays=["2027-03-03"], working_dates=["2027-03-03"])

        assert odd.is_working_date(date(2027, 3, 3))

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
            ({"hours": [{"start": "9", "end": "18:00"}]}, "HH:MM"),
            ({"hours": [{"start": "18:00", "end": "09:00"}]}, "end must be after start"),
            ({"hours": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}]}, "overlap"),
            ({"working_days": []}, "at least 1"),
            ({"holiday_country": "XX"}, "no public holidays"),
            ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "no subdivision"),
            ({"holiday_subdivision": "BY"}, "needs holiday_country"),
        ],
    )
    def test_a_calendar_that_cannot_be_is_refused_naming_why(self, changes: dict[str, object], message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            calendar(**changes)

    def test_a_calendar_whose_days_are_all_off_has_no_working_time(self) -> None:
        every_day = [date(2027, 3, 1) + timedelta(days=n) for n in range(7)]
        sundays_only = calendar(working_days=["sun"], holidays=[d for d in every_day if d.weekday() == 6])

        assert next_working_time(sundays_only, berlin(2027, 3, 1), None) == berlin(2027, 3, 14, 9)
        never = calendar(working_days=["sun"], holidays=[date(2027, 3, 7) + timedelta(weeks=n) for n in range(160)])
        with pytest.raises(NoWorkingTime):
            add_working_time(never, berlin(2027, 3, 1), HOUR)
