"""Business-process instances carry their item's assignee and pipeline, filled from the items.

Revision ID: 0008_reporting_instance_rights
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import INSTANCE_RIGHTS_BACKFILL, LIVE, projection_ddl

revision = "0008_reporting_instance_rights"
down_revision = "0007_reporting_line_deals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0008", LIVE) + INSTANCE_RIGHTS_BACKFILL)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
