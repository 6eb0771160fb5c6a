"""The analysts' view of process instances says `completed` for an ended instance, the word automation's
API uses (docs/api-conventions.md), not `finished`.

Revision ID: 0014_reporting_completed_word
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import PROCESS_VIEWS

revision = "0014_reporting_completed_word"
down_revision = "0013_backbone_lanes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(PROCESS_VIEWS)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
