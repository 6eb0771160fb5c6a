"""Product lines carry their deal's type, outcome, close time, assignee, pipeline and bin mark, indexed for
the products report (lines of the deals won in a period); filled from the deals the projections hold.

Revision ID: 0007_reporting_line_deals
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import LINE_DEALS_BACKFILL, LIVE, projection_ddl

revision = "0007_reporting_line_deals"
down_revision = "0006_reporting_field_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0007", LIVE) + LINE_DEALS_BACKFILL)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
