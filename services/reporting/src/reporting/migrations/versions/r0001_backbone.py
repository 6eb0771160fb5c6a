"""The event backbone: event store, relay checkpoints and processed-events tables.

Revision ID: 0001
"""

from conveyor_kit.migrations import execute_backbone_ddl_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_backbone_ddl_v1()


def downgrade() -> None:
    raise NotImplementedError("the backbone holds the service's history; it is never dropped")
