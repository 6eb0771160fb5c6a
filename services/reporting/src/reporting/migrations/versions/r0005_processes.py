"""Business processes: templates, instances and their steps (the user tasks where instances wait), and the
analysts' views over them. Processes that ran before are read from the automation topics, which the
projections' consumer group starts reading from their beginning.

Revision ID: 0005_reporting_processes
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import LIVE, PROCESS_VIEWS, projection_ddl

revision = "0005_reporting_processes"
down_revision = "0004_reporting_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0005", LIVE) + PROCESS_VIEWS)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
