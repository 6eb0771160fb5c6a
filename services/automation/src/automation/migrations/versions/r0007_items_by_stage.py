"""The items on a stage, for an idle trigger saved (or changed) while items already sit there.

Revision ID: 0007_items_by_stage
"""

from conveyor_kit.migrations import execute_script

revision = "0007_items_by_stage"
down_revision = "0006_calendar_held"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        "CREATE INDEX automation_items_by_stage ON automation_items (tenant_id, stage_id) WHERE NOT deleted;"
    )


def downgrade() -> None:
    execute_script("DROP INDEX automation_items_by_stage;")
