"""The funnel's current items per stage kept in `stage_counts` by statement triggers on items, instead of
counted on every read; filled from the items the projections hold.

Revision ID: 0012_reporting_stage_counts
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import LIVE, STAGE_COUNTS_BACKFILL, projection_ddl

revision = "0012_reporting_stage_counts"
down_revision = "0011_reporting_fewer_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0012", LIVE) + STAGE_COUNTS_BACKFILL)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
