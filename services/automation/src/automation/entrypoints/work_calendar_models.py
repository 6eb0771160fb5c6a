"""Response model of the work calendar's routes: the calendar as written, with its version."""

from __future__ import annotations

from conveyor_kit.api_models import Timestamp
from pydantic import ConfigDict, Field

from automation.domain.work_calendar import WorkCalendar


class SavedWorkCalendar(WorkCalendar):
    """The tenant's work calendar; version 0 is the default of a tenant that never saved one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "time_zone": "Europe/Berlin",
                    "working_days": ["mon", "tue", "wed", "thu", "fri"],
                    "hours": [{"start": "09:00", "end": "13:00"}, {"start": "14:00", "end": "18:00"}],
                    "holidays": ["2027-12-24", "2027-12-31"],
                    "working_dates": [],
                    "holiday_country": "DE",
                    "holiday_subdivision": "BY",
                    "version": 2,
                    "updated_at": "2027-01-04T08:00:00Z",
                }
            ]
        },
    )

    version: int = Field(ge=0, description="Also the ETag; send it back as If-Match to change the calendar.")
    updated_at: Timestamp | None = Field(description="When it was last saved; none for the default.")
