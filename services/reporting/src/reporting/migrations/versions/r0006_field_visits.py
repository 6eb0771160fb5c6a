"""How long items held each value of their list fields: the visits and the analysts' view over them.
Values held before this revision get their history from a rebuild (`POST /v1/rebuild` replays the journal).

Revision ID: 0006_reporting_field_visits
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import FIELD_VIEWS, LIVE, projection_ddl

revision = "0006_reporting_field_visits"
down_revision = "0005_reporting_processes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0006", LIVE) + FIELD_VIEWS)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
