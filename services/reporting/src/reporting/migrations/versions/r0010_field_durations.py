"""Ended field visits counted per month of entry, value and duration bucket (the field-time report reads whole
months there instead of every visit); open visits indexed with their entry; filled from the visits held.

Revision ID: 0010_reporting_field_durations
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import FIELD_DURATIONS_BACKFILL, LIVE, projection_ddl

revision = "0010_reporting_field_durations"
down_revision = "0009_reporting_counters_covered"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0010", LIVE) + FIELD_DURATIONS_BACKFILL)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
