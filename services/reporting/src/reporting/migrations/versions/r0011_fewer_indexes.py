"""Fewer index updates per projected batch: indexes of items and stage visits that no report reads go, and the
daily counters' covering index leaves out the `entered` counts that throughput does not read.

Revision ID: 0011_reporting_fewer_indexes
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import LIVE, projection_ddl

revision = "0011_reporting_fewer_indexes"
down_revision = "0010_reporting_field_durations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0011", LIVE))


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
