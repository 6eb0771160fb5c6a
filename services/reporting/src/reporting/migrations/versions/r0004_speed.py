"""What the reports' query plans need: first entries and the current assignee on stage visits, first
entries per stage and day, ended visits per stage, day and duration bucket, partial covering indexes
(bench/README.md, reporting). Existing projections are filled in place.

Revision ID: 0004_reporting_speed
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import BACKFILL, BUCKET_FUNCTION, LIVE, projection_ddl

revision = "0004_reporting_speed"
down_revision = "0003_reporting_directory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(BUCKET_FUNCTION + projection_ddl("0004", LIVE) + BACKFILL)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
