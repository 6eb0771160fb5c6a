"""The event backbone's lanes: each stream's newest bulk event, and the events a consumer parks until the
bulk event they follow is applied (docs/adr/004-batch-reactions-and-a-bulk-lane.md).

Revision ID: 0005_backbone_lanes
"""

from conveyor_kit.migrations import execute_backbone_ddl_v2

revision = "0005_backbone_lanes"
down_revision = "0004_import_chunks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_backbone_ddl_v2()


def downgrade() -> None:
    raise NotImplementedError("the backbone holds the service's history; it is never dropped")
