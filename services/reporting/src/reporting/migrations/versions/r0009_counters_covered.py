"""The daily counters are indexed by type, metric and day with the figures included (the throughput report reads
them from the index); the unused index by pipeline goes.

Revision ID: 0009_reporting_counters_covered
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import LIVE, projection_ddl

revision = "0009_reporting_counters_covered"
down_revision = "0008_reporting_instance_rights"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0009", LIVE))


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
